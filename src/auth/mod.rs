//! Who may do what: roles, API tokens stored as Argon2id hashes, and htpasswd (bcrypt)
//! users. The HTTP side (headers, challenges, the Docker token endpoint) is in
//! [`crate::serve`].

pub mod htpasswd;
pub mod tokens;

use serde::{Deserialize, Serialize};

/// What an identity may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Pull and list.
    Read,
    /// Also push and delete.
    Write,
    /// Also read `/metrics`.
    Admin,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "read" => Ok(Role::Read),
            "write" => Ok(Role::Write),
            "admin" => Ok(Role::Admin),
            _ => Err(format!("role '{s}' is not read, write or admin")),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        })
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// User name, or `token:<name>` for an API token.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The credential it proved, as sessions name it: `token:<id>`, `user:<name>` or
    /// `anonymous`.
    pub subject: String,
}
