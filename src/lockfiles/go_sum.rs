//! `go.sum`: every module version a build's module graph uses, with the `h1:` hash of its
//! zip (`MODULE VERSION h1:…`) and of its go.mod (`MODULE VERSION/go.mod h1:…`).

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// One module version and the hashes go.sum pins for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// Module path.
    pub module: String,
    /// Version.
    pub version: String,
    /// `h1:` of the module zip, when go.sum has it (modules built from).
    pub zip_h1: Option<String>,
    /// `h1:` of the go.mod (every module in the graph).
    pub mod_h1: Option<String>,
}

/// Parses go.sum text; `source` names it in errors.
pub fn parse(text: &str, source: &str) -> Result<Vec<Pinned>> {
    let mut out: BTreeMap<(String, String), Pinned> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |why: &str| Error::Other(format!("{source}:{}: {why}: {line}", i + 1));
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 3 {
            return Err(bad("expected MODULE VERSION h1:HASH"));
        }
        if !f[2].starts_with("h1:") {
            return Err(bad("only h1: hashes are known"));
        }
        let (version, is_mod) = match f[1].strip_suffix("/go.mod") {
            Some(v) => (v, true),
            None => (f[1], false),
        };
        if !version.starts_with('v') {
            return Err(bad("a version starts with 'v'"));
        }
        let e = out
            .entry((f[0].to_string(), version.to_string()))
            .or_insert_with(|| Pinned {
                module: f[0].to_string(),
                version: version.to_string(),
                zip_h1: None,
                mod_h1: None,
            });
        let slot = if is_mod { &mut e.mod_h1 } else { &mut e.zip_h1 };
        if slot.as_deref().is_some_and(|h| h != f[2]) {
            return Err(bad("a second, different hash for the same module version"));
        }
        *slot = Some(f[2].to_string());
    }
    Ok(out.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_zip_and_mod_lines() {
        let text = "example.com/a v1.0.0 h1:zip=\nexample.com/a v1.0.0/go.mod h1:mod=\nexample.com/b v0.1.0/go.mod h1:bmod=\n";
        let p = parse(text, "go.sum").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].zip_h1.as_deref(), Some("h1:zip="));
        assert_eq!(p[0].mod_h1.as_deref(), Some("h1:mod="));
        assert_eq!(p[1].zip_h1, None);
        assert!(parse("example.com/a v1.0.0\n", "go.sum").is_err());
        assert!(parse("example.com/a v1 h1:x\nexample.com/a v1 h1:y\n", "go.sum").is_err());
    }
}
