//! The server's gate: reads `Authorization` (Basic or Bearer), checks it against htpasswd
//! users, API tokens and sessions issued by the Docker token endpoint, and builds the
//! challenges clients expect. Verified credentials are cached by their SHA-256 so the slow
//! bcrypt/Argon2id checks run once per credential, and the cache is dropped whenever the
//! token file changes (so a revoked token stops working at once).
//!
//! Sessions hold no server state: a session token is its subject and expiry, signed with
//! the bundle's session key (HMAC-SHA256). Each use checks the signature, the expiry and
//! that the credential it was issued for still exists, and takes the role from that
//! credential as it is now, so revoking a token ends its sessions too.

use crate::auth::htpasswd::Htpasswd;
use crate::auth::tokens::{self, TokenRecord, TokenStore};
use crate::auth::{Identity, Role};
use crate::serve::config::AuthConfig;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

type HmacSha256 = Hmac<Sha256>;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What a session token carries (signed).
#[derive(Debug, Serialize, Deserialize)]
struct Session {
    /// [`Identity::subject`] of the credential it was issued for.
    sub: String,
    /// Expiry, seconds since the Unix epoch.
    exp: u64,
    /// For an htpasswd user: a fingerprint of the user's hash, so a changed password
    /// ends the sessions issued under the old one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    fp: String,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Lifetime of a token issued by `/v2/token`.
pub const SESSION_TTL: Duration = Duration::from_secs(300);
const CACHE_TTL: Duration = Duration::from_secs(300);

/// Why a request is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Denied {
    /// No or wrong credentials: answer 401 with a challenge.
    Unauthenticated,
    /// Known caller without the role: answer 403.
    Forbidden(Identity),
}

struct TokenCache {
    stamp: Option<(SystemTime, u64)>,
    records: Vec<TokenRecord>,
    verified: HashMap<[u8; 32], (Option<Identity>, Instant)>,
}

/// Authentication state of one server.
pub struct Gate {
    anonymous_read: bool,
    htpasswd: Option<Htpasswd>,
    user_role: Role,
    tokens: TokenStore,
    cache: Mutex<TokenCache>,
    session_key: [u8; 32],
    slow: tokio::sync::Semaphore,
}

impl Gate {
    /// Loads the htpasswd file (if any) and points at the bundle's token file.
    pub fn new(cfg: &AuthConfig, tokens: TokenStore) -> crate::Result<Gate> {
        let htpasswd = cfg.htpasswd.as_deref().map(Htpasswd::load).transpose()?;
        let user_role = cfg
            .htpasswd_role
            .parse::<Role>()
            .map_err(crate::Error::Other)?;
        let session_key = tokens.session_key()?;
        Ok(Gate {
            anonymous_read: cfg.anonymous_read,
            htpasswd,
            user_role,
            tokens,
            session_key,
            cache: Mutex::new(TokenCache {
                stamp: None,
                records: Vec::new(),
                verified: HashMap::new(),
            }),
            // bcrypt and Argon2id are slow and Argon2id takes 19 MiB: a couple at a time
            slow: tokio::sync::Semaphore::new(2),
        })
    }

    /// Checks a request's `Authorization` value for `need`.
    pub async fn check(
        &self,
        authorization: Option<&str>,
        need: Role,
    ) -> Result<Option<Identity>, Denied> {
        let who = match authorization {
            None => None,
            Some(a) => Some(self.identify(a).await.ok_or(Denied::Unauthenticated)?),
        };
        match who {
            Some(id) if id.role >= need => Ok(Some(id)),
            Some(id) => Err(Denied::Forbidden(id)),
            None if self.anonymous_read && need == Role::Read => Ok(None),
            None => Err(Denied::Unauthenticated),
        }
    }

    /// The identity behind an `Authorization` value, if the credentials are good.
    pub async fn identify(&self, authorization: &str) -> Option<Identity> {
        let authorization = authorization.trim();
        if authorization.starts_with("nora_") {
            // cargo sends a registry token bare, with no scheme
            return self.verified(authorization, None).await;
        }
        let (scheme, value) = authorization.split_once(' ')?;
        let value = value.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            if let Some(id) = self.session(value) {
                return Some(id);
            }
            return self.verified(value, None).await;
        }
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        if password.starts_with("nora_") {
            return self.verified(password, None).await;
        }
        self.verified(&text, Some((user, password))).await
    }

    /// The token cache, reloaded first when the token file changed.
    fn current(&self) -> std::sync::MutexGuard<'_, TokenCache> {
        let mut c = self.cache.lock().expect("auth cache");
        let stamp = std::fs::metadata(self.tokens.path())
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        if stamp != c.stamp {
            c.records = self.tokens.list().unwrap_or_else(|e| {
                tracing::error!("token file unreadable, no token is accepted: {e}");
                Vec::new()
            });
            c.verified.clear();
            c.stamp = stamp;
        }
        c
    }

    /// Checks a credential, once per credential and token-file version.
    async fn verified(&self, secret: &str, user: Option<(&str, &str)>) -> Option<Identity> {
        let key: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let records = {
            let c = self.current();
            if let Some((id, at)) = c.verified.get(&key) {
                if at.elapsed() < CACHE_TTL {
                    return id.clone();
                }
            }
            c.records.clone()
        };
        let _permit = self.slow.acquire().await.ok()?;
        let secret_owned = secret.to_string();
        let user_owned = user.map(|(u, p)| (u.to_string(), p.to_string()));
        let htpasswd = self.htpasswd.clone();
        let user_role = self.user_role;
        let id = tokio::task::spawn_blocking(move || match user_owned {
            Some((u, p)) => htpasswd.filter(|h| h.verify(&u, &p)).map(|_| Identity {
                subject: format!("user:{u}"),
                name: u,
                role: user_role,
            }),
            None => tokens::verify(&records, &secret_owned),
        })
        .await
        .ok()?;
        let mut c = self.cache.lock().expect("auth cache");
        if c.verified.len() > 10_000 {
            c.verified.clear();
        }
        c.verified.insert(key, (id.clone(), Instant::now()));
        id
    }

    fn sign(&self, payload: &str) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(&self.session_key).expect("any key length");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The identity behind a session token, if it is one of ours, unexpired, and the
    /// credential it was issued for still exists (with that credential's role now).
    fn session(&self, token: &str) -> Option<Identity> {
        let (payload, mac) = token.split_once('.')?;
        let mut check = HmacSha256::new_from_slice(&self.session_key).ok()?;
        check.update(payload.as_bytes());
        check.verify_slice(&B64.decode(mac).ok()?).ok()?;
        let s: Session = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
        if s.exp <= unix_now() {
            return None;
        }
        if let Some(id) = s.sub.strip_prefix("token:") {
            let c = self.current();
            let rec = c.records.iter().find(|r| r.id == id)?;
            return Some(Identity {
                name: format!("token:{}", rec.name),
                role: rec.role,
                subject: s.sub.clone(),
            });
        }
        if let Some(user) = s.sub.strip_prefix("user:") {
            let fp = self.htpasswd.as_ref()?.fingerprint(user)?;
            return (fp == s.fp).then(|| Identity {
                name: user.to_string(),
                role: self.user_role,
                subject: s.sub.clone(),
            });
        }
        (s.sub == "anonymous" && self.anonymous_read).then(anonymous)
    }

    /// Issues a short-lived bearer token for the Docker token flow: to the identity the
    /// credentials prove, or an anonymous reader when that is allowed.
    pub async fn issue(&self, authorization: Option<&str>) -> Result<(String, Identity), Denied> {
        let id = match authorization {
            Some(a) => self.identify(a).await.ok_or(Denied::Unauthenticated)?,
            None if self.anonymous_read => anonymous(),
            None => return Err(Denied::Unauthenticated),
        };
        let fp = match id.subject.strip_prefix("user:") {
            Some(user) => self
                .htpasswd
                .as_ref()
                .and_then(|h| h.fingerprint(user))
                .unwrap_or_default(),
            None => String::new(),
        };
        let session = Session {
            sub: id.subject.clone(),
            exp: unix_now() + SESSION_TTL.as_secs(),
            fp,
        };
        let payload = B64.encode(serde_json::to_vec(&session).expect("json"));
        let mac = B64.encode(self.sign(&payload));
        Ok((format!("{payload}.{mac}"), id))
    }
}

fn anonymous() -> Identity {
    Identity {
        name: "anonymous".into(),
        role: Role::Read,
        subject: "anonymous".into(),
    }
}
