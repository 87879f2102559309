//! Choosing what a pack carries: refs (all, or those a receipt lacks) and the blobs they need.

use crate::bundle::graph::closure;
use crate::bundle::layout::RefKey;
use crate::bundle::refs::{RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::pack::receipt::Receipt;
use std::collections::{BTreeMap, BTreeSet};

/// What a pack will carry.
#[derive(Debug, Default)]
pub struct Selection {
    /// Refs with their canonical record bytes, sorted by key.
    pub refs: Vec<(RefKey, Vec<u8>)>,
    /// Blobs to carry with their sizes, sorted by digest.
    pub blobs: Vec<(Digest, u64)>,
    /// Blobs the refs need that the far side already holds.
    pub requires: Vec<Digest>,
    /// The newest `added` among the carried refs.
    pub created: String,
}

/// Bytes a ref's artifact occupies: its blobs, and for OCI refs every blob of the image
/// graph (all platforms). Blobs missing from the bundle count as zero.
pub fn artifact_size(bundle: &Bundle, key: &RefKey, body: &RefBody) -> u64 {
    if !matches!(body, RefBody::OciTag(_) | RefBody::OciManifest(_)) {
        return body.size();
    }
    let mut all = BTreeSet::new();
    let _ = closure(bundle, key, body, &mut all);
    all.iter()
        .filter_map(|d| std::fs::metadata(bundle.blob_path(d)).ok())
        .map(|m| m.len())
        .sum()
}

/// Selects every ref (or, with a receipt, those the far side lacks or holds in another
/// version) and the blobs they need that the far side does not hold.
pub fn select(bundle: &Bundle, since: Option<&Receipt>) -> Result<Selection> {
    let mut refs = Vec::new();
    let mut needed = BTreeSet::new();
    let mut created = String::new();
    bundle.walk_refs(|key, rec| {
        let rec = rec.map_err(|e| {
            Error::Other(format!(
                "{e}; a pack would leave this ref out: fix or remove it (see `nora verify`)"
            ))
        })?;
        let bytes = rec.to_bytes();
        if let Some(r) = since {
            if r.refs.get(&key.to_string()).map(String::as_str) == Some(Digest::of(&bytes).hex()) {
                return Ok(());
            }
        }
        closure(bundle, &key, &rec.body, &mut needed)?;
        if rec.added > created {
            created = rec.added.clone();
        }
        refs.push((key, bytes));
        Ok(())
    })?;
    refs.sort_by(|a, b| a.0.cmp(&b.0));
    let held: BTreeSet<&str> = since
        .map(|r| r.blobs.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let mut blobs = Vec::new();
    let mut requires = Vec::new();
    for d in needed {
        if held.contains(d.hex()) {
            requires.push(d);
        } else {
            let p = bundle.blob_path(&d);
            let size = std::fs::metadata(&p)
                .map_err(|e| Error::Io {
                    action: "stat blob",
                    path: p,
                    source: e,
                })?
                .len();
            blobs.push((d, size));
        }
    }
    if created.is_empty() {
        created = "1970-01-01T00:00:00Z".into();
    }
    Ok(Selection {
        refs,
        blobs,
        requires,
        created,
    })
}

/// Parses a ref record's bytes for a key (used when unpacking).
pub fn parse_record(key: &RefKey, bytes: &[u8]) -> Result<RefRecord> {
    RefRecord::from_bytes(key, bytes)
}

/// Sizes by ecosystem, for dry runs.
pub fn by_ecosystem(sel: &Selection) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (k, _) in &sel.refs {
        *m.entry(k.ecosystem().to_string()).or_insert(0) += 1;
    }
    m
}
