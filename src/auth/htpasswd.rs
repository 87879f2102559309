//! htpasswd files of bcrypt entries (`user:$2y$…`), as written by `htpasswd -B`.

use crate::error::{Error, IoContext, Result};
use std::collections::HashMap;
use std::path::Path;

/// Users and their bcrypt hashes.
#[derive(Debug, Clone, Default)]
pub struct Htpasswd {
    users: HashMap<String, String>,
}

impl Htpasswd {
    /// Reads a file; blank lines and `#` comments are skipped, and any entry that is not
    /// bcrypt is refused with its line number.
    pub fn load(path: &Path) -> Result<Htpasswd> {
        let text = std::fs::read_to_string(path).at("read htpasswd file", path)?;
        Self::parse(&text).map_err(|e| Error::Other(format!("{}: {e}", path.display())))
    }

    /// Parses file contents.
    pub fn parse(text: &str) -> std::result::Result<Htpasswd, String> {
        let mut users = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, hash) = line
                .split_once(':')
                .ok_or_else(|| format!("line {}: expected user:hash", i + 1))?;
            if !["$2y$", "$2a$", "$2b$"].iter().any(|p| hash.starts_with(p)) {
                return Err(format!(
                    "line {} ({user}): only bcrypt entries are accepted; create them with `htpasswd -B`",
                    i + 1
                ));
            }
            users.insert(user.to_string(), hash.to_string());
        }
        Ok(Htpasswd { users })
    }

    /// True when `user` exists and `password` matches (a slow, deliberate bcrypt check).
    pub fn verify(&self, user: &str, password: &str) -> bool {
        self.users
            .get(user)
            .is_some_and(|h| bcrypt::verify(password, h).unwrap_or(false))
    }

    /// A short fingerprint of `user`'s stored hash (changes when the password does).
    pub fn fingerprint(&self, user: &str) -> Option<String> {
        use sha2::Digest as _;
        let h = self.users.get(user)?;
        Some(hex::encode(&sha2::Sha256::digest(h.as_bytes())[..8]))
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True when there are no users.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_only() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let h = Htpasswd::parse(&format!("# users\nalice:{hash}\n")).unwrap();
        assert!(h.verify("alice", "s3cret"));
        assert!(!h.verify("alice", "wrong"));
        assert!(!h.verify("bob", "s3cret"));
        let e = Htpasswd::parse("bob:{SHA}abc").unwrap_err();
        assert!(e.contains("line 1 (bob)"), "{e}");
    }
}
