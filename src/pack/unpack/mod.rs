//! Unpacking: volumes in any order, every entry verified while streaming, content committed
//! only once verified, refs committed when the whole pack has arrived (bundle-format.md §9).

mod commit;
mod pipeline;
mod volume;

use crate::bundle::{layout, lock, Bundle};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::pack::manifest::PackHeader;
use crate::progress::Progress;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use commit::finish;
use volume::{bad, read_volume};
pub use volume::{check_volume, read_head, VolumeHead};

/// How refs that differ from the bundle's are settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConflictPolicy {
    /// The bundle's record stays.
    Keep,
    /// The incoming record wins.
    Replace,
}

/// The operator's answer to a [`ConflictSummary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Settle conflicts with this policy.
    Merge(ConflictPolicy),
    /// Change nothing.
    Abort,
}

/// One ref that differs between the bundle and the incoming content.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    /// Ref key.
    pub key: String,
    /// What the bundle's record names.
    pub ours: String,
    /// What the incoming record names.
    pub theirs: String,
}

/// What committing a pack would change, for the operator to decide on.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictSummary {
    /// Pack file(s) the content comes from.
    pub source: String,
    /// Refs the bundle does not have.
    pub new: usize,
    /// Refs the bundle already has, identical.
    pub identical: usize,
    /// Refs that differ.
    pub conflicts: Vec<Conflict>,
    /// Refs in the bundle before.
    pub existing: usize,
}

/// Asks the operator to settle a merge.
pub type AskFn = dyn Fn(&ConflictSummary) -> Result<Decision>;

/// Options of `nora unpack` and `nora restore`.
#[derive(Default)]
pub struct UnpackOptions<'a> {
    /// Settle conflicts without asking.
    pub on_conflict: Option<ConflictPolicy>,
    /// Refuse volumes not signed by this key.
    pub require_signature: Option<&'a minisign::PublicKey>,
    /// Asks the operator; `None` when there is no terminal.
    pub ask: Option<&'a AskFn>,
    /// Restore semantics: a non-empty bundle always needs a decision.
    pub restore: bool,
}

/// What an unpack did.
#[derive(Debug, Default, Serialize)]
pub struct UnpackReport {
    /// Pack id.
    pub pack_id: String,
    /// Volumes of the pack.
    pub volumes: u32,
    /// Volumes read and committed in this run.
    pub read: Vec<u32>,
    /// Volumes given that were already unpacked.
    pub skipped: Vec<u32>,
    /// Volumes still missing (empty when complete).
    pub missing: Vec<u32>,
    /// True when the whole pack is in the bundle.
    pub complete: bool,
    /// True when the pack had been fully unpacked before this run.
    pub already: bool,
    /// Blobs newly stored.
    pub blobs_added: u64,
    /// Content bytes verified.
    pub bytes: u64,
    /// Refs added.
    pub refs_added: u64,
    /// Refs already present and identical.
    pub refs_unchanged: u64,
    /// Conflicting refs replaced by the pack's.
    pub refs_replaced: u64,
    /// Conflicting refs where the bundle's were kept.
    pub refs_kept: u64,
}

/// Progress of one pack's unpack, kept in `staging/<pack-id>/state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct State {
    pack_id: String,
    header: PackHeader,
    received: BTreeSet<u32>,
    /// Blob digests received so far (protects them from gc until the refs land).
    blobs: BTreeSet<Digest>,
    /// For each blob carried in parts: part numbers received.
    parts: BTreeMap<Digest, BTreeSet<u32>>,
}

/// Blobs `gc` must keep because an unfinished unpack holds them.
pub fn staged_blobs(bundle: &Bundle) -> Result<BTreeSet<Digest>> {
    let mut out = BTreeSet::new();
    let dir = bundle.layout().staging_dir();
    let Ok(rd) = fs::read_dir(&dir) else {
        return Ok(out);
    };
    for e in rd.flatten() {
        let p = e.path().join("state.json");
        if let Ok(b) = fs::read(&p) {
            if let Ok(s) = serde_json::from_slice::<State>(&b) {
                out.extend(s.blobs);
            }
        }
    }
    Ok(out)
}

/// A pack some of whose volumes are unpacked, waiting in `staging/` for the rest.
#[derive(Debug, Clone, Serialize)]
pub struct StagedPack {
    /// Pack id.
    pub pack_id: String,
    /// Volumes that arrived.
    pub received: Vec<u32>,
    /// Volumes in all.
    pub volumes: u32,
    /// Blobs it holds for its refs (kept from gc while it waits).
    pub blobs: usize,
}

/// The packs waiting in `staging/` for more volumes, by id.
pub fn staged_packs(bundle: &Bundle) -> Vec<StagedPack> {
    let Ok(rd) = fs::read_dir(bundle.layout().staging_dir()) else {
        return Vec::new();
    };
    let mut out: Vec<StagedPack> = rd
        .flatten()
        .map(|e| {
            let id = e.file_name().to_string_lossy().into_owned();
            match fs::read(e.path().join("state.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<State>(&b).ok())
            {
                Some(s) => StagedPack {
                    pack_id: id,
                    received: s.received.into_iter().collect(),
                    volumes: s.header.volumes,
                    blobs: s.blobs.len(),
                },
                None => StagedPack {
                    pack_id: id,
                    received: Vec::new(),
                    volumes: 0,
                    blobs: 0,
                },
            }
        })
        .collect();
    out.sort_by(|a, b| a.pack_id.cmp(&b.pack_id));
    out
}

/// Drops a pack waiting in `staging/` (named by its id or an unambiguous prefix of at least
/// 8 digits): its volumes are forgotten and the blobs it held are left to gc. For a pack
/// that can never complete (a volume lost); refused while an unpack runs.
pub fn discard(bundle: &Bundle, id: &str) -> Result<StagedPack> {
    if id.len() < 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Other(format!(
            "'{id}' is not a pack id; give at least its first 8 hex digits (`nora verify` lists the waiting packs)"
        )));
    }
    let _unpack_lock = lock::try_exclusive(
        &bundle.layout().lock_file(layout::UNPACK_LOCK),
        "an unpack or restore is running on this bundle; discard the pack after it finished",
    )?;
    let _writers = bundle.lock_shared()?;
    let matching: Vec<StagedPack> = staged_packs(bundle)
        .into_iter()
        .filter(|p| p.pack_id.starts_with(&id.to_ascii_lowercase()))
        .collect();
    let pack = match matching.len() {
        1 => matching.into_iter().next().expect("one"),
        0 => {
            return Err(Error::Other(format!(
                "no pack starting with {id} waits in {}; `nora verify` lists the waiting packs",
                bundle.layout().staging_dir().display()
            )))
        }
        n => {
            return Err(Error::Other(format!(
                "{n} waiting packs start with {id}; give more of the id"
            )))
        }
    };
    let dir = bundle.layout().staging(&pack.pack_id);
    fs::remove_dir_all(&dir).map_err(|e| Error::Io {
        action: "remove",
        path: dir.clone(),
        source: e,
    })?;
    crate::bundle::sync_dir(&bundle.layout().staging_dir())?;
    Ok(pack)
}

fn packs_done(bundle: &Bundle) -> BTreeSet<String> {
    let p = bundle.layout().journal_dir().join("packs.jsonl");
    fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            v.get("pack_id")
                .and_then(|x| x.as_str())
                .map(str::to_string)
        })
        .collect()
}

/// Unpacks volumes of one pack into the bundle.
pub fn unpack(
    bundle: &Bundle,
    files: &[PathBuf],
    opts: &UnpackOptions,
    progress: &dyn Progress,
) -> Result<UnpackReport> {
    if files.is_empty() {
        return Err(Error::Other("no pack volumes given".into()));
    }
    let _unpack_lock = lock::try_exclusive(
        &bundle.layout().lock_file(layout::UNPACK_LOCK),
        &format!(
            "another nora unpack or restore is running on {}; wait for it to finish, then run this again",
            bundle.root().display()
        ),
    )?;
    let _writer_lock = bundle.lock_shared()?;
    let mut heads = Vec::new();
    for f in files {
        heads.push(read_head(f, opts.require_signature)?);
    }
    let first = &heads[0];
    for h in &heads[1..] {
        if h.manifest.pack_id != first.manifest.pack_id {
            return Err(bad(
                &h.file,
                format!(
                    "belongs to pack {}, but {} belongs to pack {}; unpack one pack at a time",
                    &h.manifest.pack_id[..16],
                    first.file.display(),
                    &first.manifest.pack_id[..16]
                ),
            ));
        }
    }
    let pack_id = first.manifest.pack_id.clone();
    let header = first.manifest.header.clone();
    let mut report = UnpackReport {
        pack_id: pack_id.clone(),
        volumes: header.volumes,
        ..Default::default()
    };
    if packs_done(bundle).contains(&pack_id) {
        report.complete = true;
        report.already = true;
        report.skipped = heads.iter().map(|h| h.manifest.volume).collect();
        return Ok(report);
    }
    let missing_required: Vec<&Digest> = header
        .requires
        .iter()
        .filter(|d| !bundle.has_blob(d))
        .collect();
    if !missing_required.is_empty() {
        let base = header
            .base
            .as_ref()
            .map(|b| {
                format!(
                    "receipt {} of bundle {}",
                    &b.receipt[..16.min(b.receipt.len())],
                    b.bundle
                )
            })
            .unwrap_or_else(|| "a receipt".into());
        let list: Vec<String> = missing_required
            .iter()
            .take(20)
            .map(|d| d.to_string())
            .collect();
        return Err(bad(
            &first.file,
            format!(
                "this delta was cut against {base}, and the target bundle lacks {} blob(s) it needs: {}{}; unpack the earlier packs first or ask for a full pack",
                missing_required.len(),
                list.join(", "),
                if missing_required.len() > 20 { ", …" } else { "" }
            ),
        ));
    }
    let staging = bundle.layout().staging(&pack_id);
    let state_path = staging.join("state.json");
    let mut state = match fs::read(&state_path) {
        Ok(b) => serde_json::from_slice::<State>(&b).map_err(|e| {
            Error::Other(format!(
                "{}: unreadable unpack state: {e}",
                state_path.display()
            ))
        })?,
        Err(_) => State {
            pack_id: pack_id.clone(),
            header: header.clone(),
            received: BTreeSet::new(),
            blobs: BTreeSet::new(),
            parts: BTreeMap::new(),
        },
    };
    heads.sort_by_key(|h| h.manifest.volume);
    heads.dedup_by_key(|h| h.manifest.volume);
    let total: u64 = heads
        .iter()
        .filter(|h| !state.received.contains(&h.manifest.volume))
        .filter_map(|h| fs::metadata(&h.file).ok().map(|m| m.len()))
        .sum();
    progress.start("unpack", Some(total));
    for h in &heads {
        let v = h.manifest.volume;
        if state.received.contains(&v) {
            report.skipped.push(v);
            continue;
        }
        let (blobs_added, bytes) = read_volume(bundle, h, &staging, &mut state, progress)?;
        report.blobs_added += blobs_added;
        report.bytes += bytes;
        report.read.push(v);
    }
    progress.finish();
    report.missing = (1..=header.volumes)
        .filter(|v| !state.received.contains(v))
        .collect();
    if !report.missing.is_empty() {
        return Ok(report);
    }
    finish(bundle, &staging, &state, opts, &heads, &mut report)?;
    report.complete = true;
    Ok(report)
}
