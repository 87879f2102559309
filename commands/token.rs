//! `nora token`: create, list and revoke the API tokens `nora serve` accepts.

use crate::common::Global;
use crate::diagnostics::Outcome;
use nora::auth::tokens::TokenStore;
use nora::auth::Role;
use std::process::ExitCode;

/// Manage API tokens for `nora serve --auth`.
///
/// Tokens are stored in the bundle's `auth/tokens.toml` as Argon2id hashes; the token
/// itself is printed once, at creation. Send it as `Authorization: Bearer TOKEN`, or as the
/// password of Basic auth (`docker login`/`skopeo login` with any user name). A running
/// server sees new and revoked tokens at once.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Create a token and print it (once).
    Create {
        /// A name to tell it by.
        #[arg(long)]
        name: String,
        /// read (pull), write (also push and delete) or admin (also /metrics).
        #[arg(long, default_value = "read")]
        role: Role,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id or name.
    Revoke {
        /// Token id or name.
        token: String,
    },
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let bundle = g.open()?;
    let store = TokenStore::of(&bundle);
    match a.action {
        Action::Create { name, role } => {
            let (rec, token) = store.create(&name, role)?;
            if g.json {
                g.print_json(&serde_json::json!({"id": rec.id, "name": rec.name, "role": rec.role, "token": token}))?;
            } else {
                g.note(format!(
                    "created token {} ({}, role {}); it is shown only now:",
                    rec.id, rec.name, rec.role
                ));
                crate::common::out(&token);
            }
        }
        Action::List => {
            let list = store.list()?;
            if g.json {
                let v: Vec<_> = list
                    .iter()
                    .map(|t| serde_json::json!({"id": t.id, "name": t.name, "role": t.role, "created": t.created}))
                    .collect();
                g.print_json(&v)?;
            } else {
                for t in &list {
                    g.say(format!(
                        "{}  {:<6} {}  {}",
                        t.id,
                        t.role.to_string(),
                        t.created,
                        t.name
                    ));
                }
            }
        }
        Action::Revoke { token } => {
            let rec = store.revoke(&token)?;
            if g.json {
                g.print_json(&serde_json::json!({"revoked": rec.id, "name": rec.name}))?;
            } else {
                g.say(format!("revoked token {} ({})", rec.id, rec.name));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
