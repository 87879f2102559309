//! Completing a pack: reassembling parts, classifying staged refs against the bundle,
//! settling conflicts, and committing the refs in batches.

use super::{
    Conflict, ConflictPolicy, ConflictSummary, Decision, State, UnpackOptions, UnpackReport,
    VolumeHead,
};
use crate::bundle::graph::{closure_in, Presence};
use crate::bundle::layout::RefKey;
use crate::bundle::refs::RefRecord;
use crate::bundle::Bundle;
use crate::error::{Error, IoContext, Result};
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// Reads the staged ref files of a pack one record at a time.
fn for_each_staged(dir: &Path, mut f: impl FnMut(RefKey, RefRecord) -> Result<()>) -> Result<()> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Ok(());
    };
    let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    files.sort();
    for p in files {
        let r = io::BufReader::new(File::open(&p).at("open staged refs", &p)?);
        for line in io::BufRead::lines(r) {
            let line = line.at("read staged refs", &p)?;
            let rec: RefRecord = serde_json::from_str(&line).map_err(|err| {
                Error::Other(format!("{}: unreadable staged ref: {err}", p.display()))
            })?;
            f(rec.body.key()?, rec)?;
        }
    }
    Ok(())
}

fn describe(rec: &RefRecord) -> String {
    let blobs = rec.body.blobs();
    match blobs.last() {
        Some(d) => format!("{} ({})", rec.body.display_name(), &d.to_string()[..19]),
        None => rec.body.display_name(),
    }
}

pub(super) fn finish(
    bundle: &Bundle,
    staging: &Path,
    state: &State,
    opts: &UnpackOptions,
    heads: &[VolumeHead],
    report: &mut UnpackReport,
) -> Result<()> {
    // blobs carried in parts: every part verified on arrival; now the whole
    for (blob, got) in &state.parts {
        let target = bundle.blob_path(blob);
        if target.exists() {
            continue;
        }
        let asm = staging.join("assembly").join(blob.hex());
        let (d, _) = crate::digest::hash_file(&asm).at("hash", &asm)?;
        if &d != blob {
            return Err(Error::DigestMismatch {
                what: format!("blob reassembled from {} parts", got.len()),
                expected: blob.to_string(),
                actual: d.to_string(),
            });
        }
        File::open(&asm)
            .and_then(|f| f.sync_all())
            .at("fsync", &asm)?;
        fs::rename(&asm, &target).at("rename blob into", &target)?;
        bundle.sync_blob_dir()?;
        report.blobs_added += 1;
    }
    // pass 1: classify every staged ref, keeping only the keys of new ones and the conflicts;
    // one listing of blobs/ and of each ref directory replaces a probe per ref
    let present: std::collections::HashSet<crate::digest::Digest> =
        bundle.blobs()?.into_iter().collect();
    let mut probe = bundle.ref_probe();
    let refs_root = staging.join("refs");
    let mut new: std::collections::HashSet<RefKey> = std::collections::HashSet::new();
    let mut identical = 0usize;
    let mut conflicts = Vec::new();
    for_each_staged(&refs_root, |k, rec| {
        let mut needed = BTreeSet::new();
        closure_in(bundle, &k, &rec.body, &mut needed, &|d| {
            if present.contains(d) {
                Presence::Present(None)
            } else {
                Presence::Missing
            }
        })
        .map_err(|e| Error::Other(format!("pack {}: {e}", &state.pack_id[..16])))?;
        match probe.get(&k)? {
            None => {
                new.insert(k);
            }
            Some(old) if old.same_target(&rec) => identical += 1,
            Some(old) => conflicts.push((k, old, rec)),
        }
        Ok(())
    })?;
    conflicts.sort_by(|a, b| a.0.cmp(&b.0));
    let existing = bundle.count_refs();
    let source = heads
        .iter()
        .map(|h| h.file.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let needs_decision = !conflicts.is_empty() || (opts.restore && existing > 0);
    let policy = if !needs_decision {
        ConflictPolicy::Keep
    } else if let Some(p) = opts.on_conflict {
        p
    } else {
        let summary = ConflictSummary {
            source: source.clone(),
            new: new.len(),
            identical,
            conflicts: conflicts
                .iter()
                .map(|(k, old, rec)| Conflict {
                    key: k.to_string(),
                    ours: describe(old),
                    theirs: describe(rec),
                })
                .collect(),
            existing,
        };
        match opts.ask {
            Some(ask) => match ask(&summary)? {
                Decision::Merge(p) => p,
                Decision::Abort => {
                    return Err(Error::Other(
                        "aborted; no ref changed (the pack stays staged: run the same command again to decide anew)"
                            .to_string(),
                    ))
                }
            },
            None if conflicts.is_empty() => {
                return Err(Error::Other(format!(
                    "the bundle already holds {existing} ref(s) and restoring {source} would merge into it; \
                     pass --yes or --on-conflict keep|replace to proceed without a terminal"
                )))
            }
            None => {
                let sample: Vec<String> = summary.conflicts.iter().take(5).map(|c| format!("{} (bundle: {}, pack: {})", c.key, c.ours, c.theirs)).collect();
                return Err(Error::Conflicts { count: conflicts.len(), source_name: source, sample: sample.join("; ") });
            }
        }
    };
    let started = std::time::Instant::now();
    // pass 2: write the new refs in batches, then the conflicts the policy replaces
    let mut batch: Vec<RefRecord> = Vec::new();
    for_each_staged(&refs_root, |k, rec| {
        if new.contains(&k) {
            batch.push(rec);
            if batch.len() >= 4096 {
                bundle.write_refs(&batch.iter().collect::<Vec<_>>())?;
                batch.clear();
            }
        }
        Ok(())
    })?;
    bundle.write_refs(&batch.iter().collect::<Vec<_>>())?;
    report.refs_added = new.len() as u64;
    report.refs_unchanged = identical as u64;
    let mut replaced = Vec::new();
    for (k, old, rec) in &conflicts {
        match policy {
            ConflictPolicy::Keep => report.refs_kept += 1,
            ConflictPolicy::Replace => {
                replaced.push(rec);
                bundle.journal(
                    "refs.jsonl",
                    &serde_json::json!({"time": crate::bundle::refs::now_rfc3339(), "key": k.to_string(),
                        "action": "replace", "source": format!("pack {}", state.pack_id), "old": old.body, "new": rec.body}),
                )?;
                report.refs_replaced += 1;
            }
        }
    }
    bundle.write_refs(&replaced)?;
    tracing::info!(refs = new.len() + replaced.len(), elapsed = ?started.elapsed(), "refs committed");
    bundle.journal(
        "packs.jsonl",
        &serde_json::json!({"time": crate::bundle::refs::now_rfc3339(), "pack_id": state.pack_id,
            "purpose": state.header.purpose, "source_bundle": state.header.source_bundle,
            "volumes": state.header.volumes, "refs_added": report.refs_added,
            "refs_replaced": report.refs_replaced, "refs_kept": report.refs_kept}),
    )?;
    fs::remove_dir_all(staging).at("remove staging directory", staging)?;
    if report.refs_added + report.refs_replaced > 0 {
        bundle.rebuild_oci_index()?;
    }
    Ok(())
}
