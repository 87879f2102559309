//! Cargo crates in store terms: sparse-index files, `.crate` downloads, publishes (the
//! packaged Cargo.toml decides the index line, as `nora add cargo` does) and yanks.

use crate::bundle::layout::RefKey;
use crate::bundle::refs::{CargoVersion, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::ecosystems::cargo::validate_name;
use crate::error::{Error, IoContext};
use std::io::Read;
use std::path::Path;

/// Why a cargo operation failed.
pub type CargoError = super::PackageError;

type Result<T> = std::result::Result<T, CargoError>;

/// The sparse-index directory of a crate name: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`.
pub fn index_path(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

fn key(name: &str, version: &str) -> crate::Result<RefKey> {
    RefKey::new(["cargo", &name.to_ascii_lowercase(), version])
}

/// Every version of a crate (any case of its name), oldest first.
pub fn versions(b: &Bundle, name: &str) -> Result<Vec<CargoVersion>> {
    validate_name(name).map_err(|e| CargoError::Invalid(e.to_string()))?;
    let lower = name.to_ascii_lowercase();
    let mut out: Vec<CargoVersion> = b
        .list_refs_under(&["cargo", &lower])?
        .into_iter()
        .filter_map(|(_, r)| match r {
            Ok(RefRecord {
                body: RefBody::CargoVersion(c),
                ..
            }) => Some(c),
            _ => None,
        })
        .collect();
    out.sort_by_key(|c| semver::Version::parse(&c.version).ok());
    Ok(out)
}

/// The index file of a crate: one JSON line per version; `None` when there is none.
pub fn index_file(b: &Bundle, name: &str) -> Result<Option<String>> {
    let v = versions(b, name)?;
    if v.is_empty() {
        return Ok(None);
    }
    let mut out = String::new();
    for c in v {
        out.push_str(&serde_json::to_string(&c.index).expect("json"));
        out.push('\n');
    }
    Ok(Some(out))
}

/// One version.
pub fn version(b: &Bundle, name: &str, version: &str) -> Result<CargoVersion> {
    validate_name(name).map_err(|e| CargoError::Invalid(e.to_string()))?;
    match b.read_ref(&key(name, version).map_err(|e| CargoError::Invalid(e.to_string()))?)? {
        Some(RefRecord {
            body: RefBody::CargoVersion(c),
            ..
        }) => Ok(c),
        _ => Err(CargoError::NotFound(format!(
            "crate {name} {version} is not in this registry"
        ))),
    }
}

fn read_u32(f: &mut std::fs::File, what: &str) -> Result<u32> {
    let mut b = [0u8; 4];
    f.read_exact(&mut b)
        .map_err(|_| CargoError::Invalid(format!("publish body ends before the {what} length")))?;
    Ok(u32::from_le_bytes(b))
}

/// What a publish stored.
#[derive(Debug, Clone)]
pub struct Published {
    /// Crate name.
    pub name: String,
    /// Version.
    pub version: String,
}

/// Publishes the body of `PUT /api/v1/crates/new` (held in `body`, a file in the bundle's
/// `tmp/`): a length-prefixed JSON metadata object and a length-prefixed `.crate`. The
/// crate's own Cargo.toml must agree with the metadata; an existing version is refused.
pub fn publish(b: &Bundle, body: &Path) -> Result<Published> {
    let mut f = std::fs::File::open(body).at("open", body)?;
    let total = f.metadata().at("stat", body)?.len();
    let json_len = read_u32(&mut f, "metadata")? as u64;
    if json_len > 1 << 20 || 4 + json_len > total {
        return Err(CargoError::Invalid(
            "publish metadata length is larger than the body".into(),
        ));
    }
    let mut json = vec![0u8; json_len as usize];
    f.read_exact(&mut json).at("read", body)?;
    let meta: serde_json::Value = serde_json::from_slice(&json)
        .map_err(|e| CargoError::Invalid(format!("publish metadata is not JSON: {e}")))?;
    let (Some(name), Some(vers)) = (
        meta.get("name").and_then(|v| v.as_str()),
        meta.get("vers").and_then(|v| v.as_str()),
    ) else {
        return Err(CargoError::Invalid(
            "publish metadata needs string fields `name` and `vers`".into(),
        ));
    };
    let crate_len = read_u32(&mut f, "crate")? as u64;
    if 8 + json_len + crate_len != total {
        return Err(CargoError::Invalid(format!(
            "publish body is {total} bytes, but its lengths say {}",
            8 + json_len + crate_len
        )));
    }
    let tmp_dir = b.work_dir()?;
    let mut crate_file = tempfile::Builder::new()
        .prefix("publish-")
        .suffix(".crate")
        .tempfile_in(&tmp_dir)
        .at("create temp file in", &tmp_dir)?;
    std::io::copy(&mut (&mut f).take(crate_len), crate_file.as_file_mut())
        .at("copy crate from", body)?;
    let inspected = crate::ecosystems::cargo::inspect(crate_file.path()).map_err(|e| match e {
        Error::BadArtifact { reason, .. } => CargoError::Invalid(format!("the crate: {reason}")),
        Error::InvalidName { .. } => CargoError::Invalid(e.to_string()),
        e => CargoError::Store(e),
    })?;
    if inspected.name != name || inspected.version != vers {
        return Err(CargoError::Invalid(format!(
            "publish metadata says {name} {vers}, the crate's Cargo.toml says {} {}",
            inspected.name, inspected.version
        )));
    }
    let _lock = b.lock_shared()?;
    let k =
        key(&inspected.name, &inspected.version).map_err(|e| CargoError::Invalid(e.to_string()))?;
    if let Some(old) = b.read_ref(&k)? {
        let shown = match old.body {
            RefBody::CargoVersion(o) => format!("{} {}", o.name, o.version),
            _ => k.to_string(),
        };
        return Err(CargoError::Exists(format!(
            "crate version {shown} is already uploaded; versions are immutable (yank it, or publish a new version)"
        )));
    }
    let published = Published {
        name: inspected.name.clone(),
        version: inspected.version.clone(),
    };
    let rec = crate::ecosystems::cargo::store(b, crate_file.path(), inspected)?;
    b.write_ref(&rec)?;
    Ok(published)
}

/// Sets a version's `yanked` flag; the change is journaled.
pub fn set_yanked(b: &Bundle, name: &str, version: &str, yanked: bool) -> Result<()> {
    let mut c = self::version(b, name, version)?;
    let _lock = b.lock_shared()?;
    let k = key(name, version).map_err(|e| CargoError::Invalid(e.to_string()))?;
    let old = b.read_ref(&k)?;
    c.index["yanked"] = serde_json::Value::Bool(yanked);
    let rec = RefRecord {
        added: old
            .as_ref()
            .map(|o| o.added.clone())
            .unwrap_or_else(crate::bundle::refs::now_rfc3339),
        body: RefBody::CargoVersion(c),
    };
    if old.as_ref().is_some_and(|o| o.body == rec.body) {
        return Ok(());
    }
    b.write_ref(&rec)?;
    b.journal(
        "refs.jsonl",
        &serde_json::json!({"time": crate::bundle::refs::now_rfc3339(), "key": k.to_string(),
            "action": "replace", "source": "serve", "old": old.map(|o| o.body), "new": rec.body}),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("Serde"), "se/rd/serde");
    }
}
