//! Garbage collection (`nora gc`): mark from refs and unfinished unpacks, sweep unreferenced
//! blobs and stale temp files older than a grace period, under the exclusive lock.

use crate::bundle::graph::{reach, Presence, Problem};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Options of `nora gc`.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// Report only.
    pub dry_run: bool,
    /// Blobs and temp files younger than this are kept.
    pub grace: Duration,
}

/// What gc removed (or would remove).
#[derive(Debug, Default, Serialize)]
pub struct GcReport {
    /// Blobs still referenced.
    pub live: u64,
    /// Unreferenced blobs removed.
    pub removed: Vec<(Digest, u64)>,
    /// Unreferenced blobs kept because they are younger than the grace period.
    pub young: u64,
    /// Stale temp files and directories removed.
    pub tmp_removed: Vec<(PathBuf, u64)>,
    /// Bytes freed.
    pub freed: u64,
}

fn older_than(path: &std::path::Path, grace: Duration) -> bool {
    std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .map(|t| SystemTime::now().duration_since(t).unwrap_or_default() >= grace)
        .unwrap_or(false)
}

fn tree_size(path: &std::path::Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// Collects garbage.
pub fn gc(bundle: &Bundle, opts: &GcOptions) -> Result<GcReport> {
    let _lock = bundle.lock_exclusive()?;
    let mut live = BTreeSet::new();
    for (key, rec) in bundle.list_refs()? {
        let rec = rec.map_err(|e| {
            Error::Other(format!("ref {key} is unreadable ({e}); fix or remove it before gc, which could otherwise delete what it names"))
        })?;
        // a missing blob is verify's business, and everything the graph still reaches stays;
        // a manifest that is there but unreadable names blobs nobody can know
        let problems = reach(bundle, &rec.body, &mut live, &|d| {
            if bundle.has_blob(d) {
                Presence::Present(None)
            } else {
                Presence::Missing
            }
        });
        if let Some(p) = problems
            .iter()
            .find(|p| matches!(p, Problem::Unreadable(_)))
        {
            return Err(Error::Other(format!(
                "ref {key}: {p}; gc stops without deleting anything, since it cannot know what that manifest needs: run `nora verify`"
            )));
        }
        live.extend(rec.body.blobs());
    }
    live.extend(crate::pack::unpack::staged_blobs(bundle)?);
    let mut report = GcReport::default();
    for d in bundle.blobs()? {
        if live.contains(&d) {
            report.live += 1;
            continue;
        }
        let p = bundle.blob_path(&d);
        if !older_than(&p, opts.grace) {
            report.young += 1;
            continue;
        }
        let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        if !opts.dry_run {
            std::fs::remove_file(&p).map_err(|e| Error::Io {
                action: "remove blob",
                path: p.clone(),
                source: e,
            })?;
        }
        report.freed += size;
        report.removed.push((d, size));
    }
    let tmp = bundle.layout().tmp_dir();
    if let Ok(rd) = std::fs::read_dir(&tmp) {
        for e in rd.flatten() {
            let p = e.path();
            // a live process's work directory holds uploads and writes in progress
            if crate::bundle::work::in_use(&p) || !older_than(&p, opts.grace) {
                continue;
            }
            let size = tree_size(&p);
            if !opts.dry_run {
                let r = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
                r.map_err(|e| Error::Io {
                    action: "remove temp file",
                    path: p.clone(),
                    source: e,
                })?;
            }
            report.freed += size;
            report.tmp_removed.push((p, size));
        }
    }
    if !opts.dry_run && !report.removed.is_empty() {
        bundle.sync_blob_dir()?;
    }
    Ok(report)
}
