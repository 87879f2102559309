//! The server's gate: reads `Authorization` (Basic or Bearer), checks it against htpasswd
//! users, API tokens and sessions issued by the Docker token endpoint, and builds the
//! challenges clients expect. Verified credentials are cached by their SHA-256 so the slow
//! bcrypt/Argon2id checks run once per credential, and the cache is dropped whenever the
//! token file changes (so a revoked token stops working at once).

use crate::auth::htpasswd::Htpasswd;
use crate::auth::tokens::{self, TokenRecord, TokenStore};
use crate::auth::{Identity, Role};
use crate::serve::config::AuthConfig;
use base64::Engine;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

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
    sessions: Mutex<HashMap<String, (Identity, Instant)>>,
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
        Ok(Gate {
            anonymous_read: cfg.anonymous_read,
            htpasswd,
            user_role,
            tokens,
            cache: Mutex::new(TokenCache {
                stamp: None,
                records: Vec::new(),
                verified: HashMap::new(),
            }),
            sessions: Mutex::new(HashMap::new()),
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

    /// Checks a credential, once per credential and token-file version.
    async fn verified(&self, secret: &str, user: Option<(&str, &str)>) -> Option<Identity> {
        let key: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let records = {
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

    fn session(&self, token: &str) -> Option<Identity> {
        let mut s = self.sessions.lock().expect("sessions");
        match s.get(token) {
            Some((id, exp)) if *exp > Instant::now() => Some(id.clone()),
            Some(_) => {
                s.remove(token);
                None
            }
            None => None,
        }
    }

    /// Issues a short-lived bearer token for the Docker token flow: to the identity the
    /// credentials prove, or an anonymous reader when that is allowed.
    pub async fn issue(&self, authorization: Option<&str>) -> Result<(String, Identity), Denied> {
        let id = match authorization {
            Some(a) => self.identify(a).await.ok_or(Denied::Unauthenticated)?,
            None if self.anonymous_read => Identity {
                name: "anonymous".into(),
                role: Role::Read,
            },
            None => return Err(Denied::Unauthenticated),
        };
        let token = hex::encode(tokens::random::<32>().map_err(|_| Denied::Unauthenticated)?);
        let mut s = self.sessions.lock().expect("sessions");
        let now = Instant::now();
        s.retain(|_, (_, exp)| *exp > now);
        s.insert(token.clone(), (id.clone(), now + SESSION_TTL));
        Ok((token, id))
    }
}
