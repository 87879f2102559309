//! `Cargo.lock`: the registry crates a build uses, each with the SHA-256 of its `.crate`
//! (`checksum`) and the registry it came from (`source`).

use crate::error::{Error, Result};
use serde::Deserialize;

/// The crates.io index as Cargo.lock names it.
pub const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// One registry crate version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// Crate name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Hex SHA-256 of the `.crate`.
    pub checksum: String,
    /// `source` as written (`registry+…` or `sparse+…`).
    pub source: String,
}

pub use super::Unmirrorable;

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Package>,
    #[serde(default)]
    metadata: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
}

/// Parses Cargo.lock text (v1 to v4); `source` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<(Vec<Pinned>, Vec<Unmirrorable>)> {
    let lock: Lock = toml::from_str(text)
        .map_err(|e| Error::Other(format!("{file} is not a Cargo.lock: {e}")))?;
    if lock.package.is_empty() {
        return Err(Error::Other(format!(
            "{file} is not a Cargo.lock: no [[package]] entries"
        )));
    }
    let mut pins = Vec::new();
    let mut skipped = Vec::new();
    for p in lock.package {
        let Some(source) = p.source else {
            continue; // a workspace member
        };
        let id = format!("{} {}", p.name, p.version);
        if !(source.starts_with("registry+") || source.starts_with("sparse+")) {
            skipped.push(Unmirrorable {
                name: id,
                reason: format!("source {source} is not a registry"),
            });
            continue;
        }
        // v1 lockfiles keep checksums in [metadata]
        let checksum = p.checksum.or_else(|| {
            lock.metadata
                .get(&format!("checksum {} ({source})", id))
                .cloned()
        });
        let Some(checksum) =
            checksum.filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        else {
            return Err(Error::Other(format!(
                "{file}: {id} from {source} has no valid checksum"
            )));
        };
        pins.push(Pinned {
            name: p.name,
            version: p.version,
            checksum: checksum.to_ascii_lowercase(),
            source,
        });
    }
    Ok((pins, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_crates_only() {
        let text = format!(
            "version = 4\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\nchecksum = \"{}\"\n\n[[package]]\nname = \"g\"\nversion = \"0.1.0\"\nsource = \"git+https://example.com/g#abc\"\n",
            "ab".repeat(32)
        );
        let (pins, skipped) = parse(&text, "Cargo.lock").unwrap();
        assert_eq!(pins.len(), 1);
        assert_eq!(pins[0].name, "a");
        assert_eq!(skipped.len(), 1);
        assert!(parse("[[package]]\nname = 1\n", "x").is_err());
        assert!(parse("{}", "x").is_err());
    }
}
