//! Raw files in store terms: look up, store, delete and list files by `/`-separated path.

use crate::bundle::ingest::Ingested;
use crate::bundle::layout::RefKey;
use crate::bundle::refs::{RawFile, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::ecosystems::raw::{validate_content_type, validate_path, DEFAULT_CONTENT_TYPE};
use crate::error::Result;
use serde::Serialize;
use std::collections::BTreeMap;

fn key(path: &str) -> Result<RefKey> {
    validate_path(path)?;
    RefKey::new(std::iter::once("raw").chain(path.split('/')))
}

/// The file at `path`, if any.
pub fn get(b: &Bundle, path: &str) -> Result<Option<RawFile>> {
    Ok(match b.read_ref(&key(path)?)? {
        Some(RefRecord {
            body: RefBody::RawFile(f),
            ..
        }) => Some(f),
        _ => None,
    })
}

/// The content type a file is served with: the one given if valid, else a guess from the
/// path, else `application/octet-stream`. A form content type is what `curl --data-binary`
/// sends unasked, never a file's type, so it counts as not given.
pub fn content_type_for(path: &str, given: Option<&str>) -> String {
    match given {
        Some(ct) if ct.starts_with("application/x-www-form-urlencoded") => {
            content_type_for(path, None)
        }
        Some(ct) if validate_content_type(ct).is_ok() => ct.to_string(),
        _ => mime_guess::from_path(path)
            .first_raw()
            .unwrap_or(DEFAULT_CONTENT_TYPE)
            .to_string(),
    }
}

/// Records an ingested blob at `path`, replacing what was there (journaled);
/// returns `added`, `updated` or `unchanged`.
pub fn put(b: &Bundle, path: &str, blob: &Ingested, content_type: String) -> Result<&'static str> {
    key(path)?;
    let rec = RefRecord::new(RefBody::RawFile(RawFile {
        path: path.to_string(),
        digest: blob.digest.clone(),
        size: blob.size,
        content_type,
    }));
    let _lock = b.lock_shared()?;
    crate::ecosystems::commit_ref(b, &rec, "serve")
}

/// Removes the file at `path`; false when there was none.
pub fn delete(b: &Bundle, path: &str) -> Result<bool> {
    let key = key(path)?;
    let _lock = b.lock_shared()?;
    Ok(b.remove_ref_journaled(&key, "serve")?.is_some())
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Name within the directory (no `/`).
    pub name: String,
    /// True for a directory.
    pub dir: bool,
    /// File size; for a directory, the total of the files below it.
    pub size: u64,
    /// Content digest of a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// The entries directly under `dir` (`""` for the root), sorted by name; `None` when no
/// file lives under it.
pub fn list(b: &Bundle, dir: &str) -> Result<Option<Vec<Entry>>> {
    let mut prefix = vec!["raw"];
    if !dir.is_empty() {
        validate_path(dir)?;
        prefix.extend(dir.split('/'));
    }
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    let mut any = false;
    let depth = prefix.len() - 1;
    b.walk_refs_under(&prefix, |_, r| {
        let Ok(RefRecord {
            body: RefBody::RawFile(f),
            ..
        }) = r
        else {
            return Ok(());
        };
        let segs: Vec<&str> = f.path.split('/').collect();
        if segs.len() <= depth || !dir.is_empty() && segs[..depth].join("/") != dir {
            return Ok(());
        }
        any = true;
        let name = segs[depth].to_string();
        let is_dir = segs.len() > depth + 1;
        let e = entries
            .entry(format!("{name}{}", if is_dir { "/" } else { "" }))
            .or_insert_with(|| Entry {
                name,
                dir: is_dir,
                size: 0,
                digest: None,
            });
        e.size += f.size;
        if !is_dir {
            e.digest = Some(f.digest.to_string());
        }
        Ok(())
    })?;
    Ok(any.then(|| entries.into_values().collect()))
}
