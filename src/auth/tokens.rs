//! API tokens: `nora_<id>_<secret>`, shown once at creation and stored only as an Argon2id
//! hash in `auth/tokens.toml` inside the bundle (local state, never packed).

use super::{Identity, Role};
use crate::bundle::write_atomic;
use crate::error::{Error, IoContext, Result};
use argon2::password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One stored token (without its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Public id, the part after `nora_`.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// What the token may do.
    pub role: Role,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Argon2id PHC string of the whole token.
    pub hash: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenFile {
    #[serde(default, rename = "token")]
    tokens: Vec<TokenRecord>,
}

/// The token file of a bundle.
#[derive(Debug, Clone)]
pub struct TokenStore {
    path: PathBuf,
    bundle: crate::Bundle,
}

impl TokenStore {
    /// The store at `<bundle>/auth/tokens.toml`.
    pub fn of(bundle: &crate::Bundle) -> TokenStore {
        TokenStore {
            path: bundle.root().join("auth").join("tokens.toml"),
            bundle: bundle.clone(),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every token, in creation order.
    pub fn list(&self) -> Result<Vec<TokenRecord>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str::<TokenFile>(&text)
                .map(|f| f.tokens)
                .map_err(|e| Error::Other(format!("{}: {e}", self.path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e).at("read", &self.path),
        }
    }

    fn save(&self, tokens: Vec<TokenRecord>) -> Result<()> {
        let dir = self.path.parent().expect("auth/ has a parent");
        std::fs::create_dir_all(dir).at("create directory", dir)?;
        let text = toml::to_string(&TokenFile { tokens }).expect("toml");
        write_atomic(&self.path, text.as_bytes(), &self.bundle.work_dir()?)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600))
                .at("restrict permissions of", &self.path)?;
        }
        Ok(())
    }

    /// Creates a token; returns its record and the token itself, which is not stored.
    pub fn create(&self, name: &str, role: Role) -> Result<(TokenRecord, String)> {
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(Error::InvalidName {
                what: "token name",
                value: name.to_string(),
                reason: "give 1 to 64 printable characters".into(),
            });
        }
        let mut tokens = self.list()?;
        if tokens.iter().any(|t| t.name == name) {
            return Err(Error::Other(format!(
                "a token named '{name}' exists; revoke it first or pick another name"
            )));
        }
        let id = hex::encode(random::<6>()?);
        let secret = hex::encode(random::<32>()?);
        let token = format!("nora_{id}_{secret}");
        let hash = Argon2::default()
            .hash_password(token.as_bytes())
            .map_err(|e| Error::Other(format!("hash token: {e}")))?
            .to_string();
        let rec = TokenRecord {
            id,
            name: name.to_string(),
            role,
            created: crate::bundle::refs::now_rfc3339(),
            hash,
        };
        tokens.push(rec.clone());
        self.save(tokens)?;
        Ok((rec, token))
    }

    /// The key that signs the server's short-lived session tokens (`auth/session.key`, 32
    /// random bytes in hex, mode 0600), made on first use. Every server over this bundle
    /// shares it, so any of them accepts a session another issued.
    pub fn session_key(&self) -> Result<[u8; 32]> {
        let path = self.path.with_file_name("session.key");
        if !path.exists() {
            let dir = self.path.parent().expect("auth/ has a parent");
            std::fs::create_dir_all(dir).at("create directory", dir)?;
            let work = self.bundle.work_dir()?;
            let tmp = work.join("session.key");
            std::fs::write(&tmp, hex::encode(random::<32>()?)).at("write", &tmp)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                    .at("restrict permissions of", &tmp)?;
            }
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .at("fsync", &tmp)?;
            // a link fails when another server made the key first: then that one counts
            match std::fs::hard_link(&tmp, &path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e).at("create", &path),
            }
            let _ = std::fs::remove_file(&tmp);
        }
        let text = std::fs::read_to_string(&path).at("read", &path)?;
        let mut key = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut key).map_err(|e| {
            Error::Other(format!(
                "{}: not a session key ({e}); delete it and restart to make a new one",
                path.display()
            ))
        })?;
        Ok(key)
    }

    /// Removes the token with this id or name.
    pub fn revoke(&self, id_or_name: &str) -> Result<TokenRecord> {
        let mut tokens = self.list()?;
        let pos = tokens
            .iter()
            .position(|t| t.id == id_or_name || t.name == id_or_name)
            .ok_or_else(|| {
                Error::Other(format!(
                    "no token with id or name '{id_or_name}'; `nora token list` shows them"
                ))
            })?;
        let rec = tokens.remove(pos);
        self.save(tokens)?;
        Ok(rec)
    }
}

/// Checks a presented token against stored records (a slow, deliberate Argon2id check).
pub fn verify(records: &[TokenRecord], token: &str) -> Option<Identity> {
    let id = token.strip_prefix("nora_")?.split('_').next()?;
    let rec = records.iter().find(|r| r.id == id)?;
    let hash = PasswordHash::new(&rec.hash).ok()?;
    Argon2::default()
        .verify_password(token.as_bytes(), &hash)
        .ok()?;
    Some(Identity {
        name: format!("token:{}", rec.name),
        role: rec.role,
        subject: format!("token:{}", rec.id),
    })
}

/// `N` bytes from the operating system's CSPRNG.
pub fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| Error::Other(format!("no randomness from the OS: {e}")))?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_verify_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let (b, _) = crate::Bundle::init(&dir.path().join("b")).unwrap();
        let store = TokenStore::of(&b);
        let (rec, token) = store.create("ci", Role::Write).unwrap();
        assert!(token.starts_with(&format!("nora_{}_", rec.id)));
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(
            !text.contains(&token[token.len() - 20..]),
            "secret not stored"
        );
        assert!(text.contains("$argon2id$"));
        let records = store.list().unwrap();
        assert_eq!(verify(&records, &token).unwrap().role, Role::Write);
        let mut wrong = token.clone();
        wrong.pop();
        wrong.push('x');
        assert!(verify(&records, &wrong).is_none());
        assert!(store.create("ci", Role::Read).is_err());
        store.revoke("ci").unwrap();
        assert!(verify(&store.list().unwrap(), &token).is_none());
    }
}
