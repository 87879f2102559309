//! Laying a selection out into volumes: deterministic order, size budgets, blobs in parts.

use crate::bundle::Bundle;
use crate::digest::{Digest, HashingReader};
use crate::error::{Error, IoContext, Result};
use crate::pack::manifest::{Entry, EntryKind, MAX_ENTRIES};
use crate::pack::select::Selection;
use std::io::{Read, Seek, SeekFrom};

/// Where an entry's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A whole blob file.
    Blob,
    /// A byte range of a blob file.
    Range { offset: u64, len: u64 },
    /// A ref record of the selection, by index.
    Ref(usize),
}

/// An entry and its source.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The manifest entry.
    pub entry: Entry,
    /// Its bytes.
    pub source: Source,
}

/// Smallest accepted `--split` size.
pub const MIN_SPLIT: u64 = 1024 * 1024;

fn tar_cost(path: &str, size: u64) -> u64 {
    let long = if path.len() > 99 {
        512 + (path.len() as u64).div_ceil(512) * 512
    } else {
        0
    };
    512 + long + size.div_ceil(512) * 512
}

fn manifest_cost(e: &Entry) -> u64 {
    serde_json::to_vec_pretty(e)
        .map(|v| v.len() as u64)
        .unwrap_or(512)
        * 3
        / 2
        + 64
}

/// The uncompressed budget of a volume that must stay below `split` bytes once compressed,
/// leaving room for the header, volume table and signature.
fn budget(split: u64, volumes_guess: u64, requires: usize) -> u64 {
    let fixed = 64 * 1024 + volumes_guess * 256 + requires as u64 * 96 + 4096;
    let usable = split.saturating_sub(1 + 256 * 1024 + fixed);
    usable / 257 * 256
}

/// Splits the selection into volumes (one when `split` is `None`).
pub fn plan(bundle: &Bundle, sel: &Selection, split: Option<u64>) -> Result<Vec<Vec<Planned>>> {
    Ok(at_most(MAX_ENTRIES, plan_sizes(bundle, sel, split)?))
}

/// Volumes of more than `max` entries cut in order into volumes that hold that many
/// (readers refuse manifests of more than [`MAX_ENTRIES`]).
fn at_most<T>(max: usize, vols: Vec<Vec<T>>) -> Vec<Vec<T>> {
    if vols.iter().all(|v| v.len() <= max) {
        return vols;
    }
    vols.into_iter()
        .flat_map(|v| {
            let mut chunks = Vec::new();
            let mut it = v.into_iter().peekable();
            while it.peek().is_some() {
                chunks.push(it.by_ref().take(max).collect::<Vec<_>>());
            }
            chunks
        })
        .collect()
}

fn plan_sizes(bundle: &Bundle, sel: &Selection, split: Option<u64>) -> Result<Vec<Vec<Planned>>> {
    let Some(split) = split else {
        return Ok(vec![all_entries(sel)]);
    };
    if split < MIN_SPLIT {
        return Err(Error::Other(format!(
            "--split {split} is too small; volumes need at least 1 MiB"
        )));
    }
    let total: u64 = sel.blobs.iter().map(|b| b.1).sum::<u64>()
        + sel.refs.iter().map(|r| r.1.len() as u64).sum::<u64>();
    let mut guess = total / split + 2;
    loop {
        let vols = plan_with(bundle, sel, budget(split, guess, sel.requires.len()))?;
        if vols.len() as u64 <= guess {
            return Ok(vols);
        }
        guess = vols.len() as u64 + 2;
    }
}

fn all_entries(sel: &Selection) -> Vec<Planned> {
    let mut v: Vec<Planned> = sel
        .blobs
        .iter()
        .map(|(d, size)| Planned {
            entry: blob_entry(d, *size),
            source: Source::Blob,
        })
        .collect();
    v.extend(
        sel.refs
            .iter()
            .enumerate()
            .map(|(i, (k, bytes))| ref_planned(i, k, bytes)),
    );
    v
}

fn blob_entry(d: &Digest, size: u64) -> Entry {
    Entry {
        path: format!("blobs/sha256/{}", d.hex()),
        kind: EntryKind::Blob,
        size,
        digest: d.clone(),
        key: None,
        blob: None,
        index: None,
        parts: None,
        offset: None,
        blob_size: None,
    }
}

fn ref_planned(index: usize, k: &crate::bundle::layout::RefKey, bytes: &[u8]) -> Planned {
    Planned {
        entry: Entry {
            path: k.rel_path_string(),
            kind: EntryKind::Ref,
            size: bytes.len() as u64,
            digest: Digest::of(bytes),
            key: Some(k.to_string()),
            blob: None,
            index: None,
            parts: None,
            offset: None,
            blob_size: None,
        },
        source: Source::Ref(index),
    }
}

fn plan_with(bundle: &Bundle, sel: &Selection, cap: u64) -> Result<Vec<Vec<Planned>>> {
    let mut vols: Vec<Vec<Planned>> = vec![Vec::new()];
    let mut used = 0u64;
    let place = |vols: &mut Vec<Vec<Planned>>, used: &mut u64, p: Planned, cost: u64| {
        if *used + cost > cap && !vols.last().expect("one volume").is_empty() {
            vols.push(Vec::new());
            *used = 0;
        }
        *used += cost;
        vols.last_mut().expect("one volume").push(p);
    };
    for (d, size) in &sel.blobs {
        let e = blob_entry(d, *size);
        let cost = tar_cost(&e.path, *size) + manifest_cost(&e);
        if cost <= cap {
            place(
                &mut vols,
                &mut used,
                Planned {
                    entry: e,
                    source: Source::Blob,
                },
                cost,
            );
            continue;
        }
        // larger than a volume: parts, the first filling what is left of the current volume
        let part_overhead = tar_cost(&format!("parts/sha256/{}/0000", d.hex()), 0) + 1024;
        let mut ranges = Vec::new();
        let mut offset = 0u64;
        let mut room = cap.saturating_sub(used);
        while offset < *size {
            if room <= part_overhead + 64 * 1024 {
                room = cap;
            }
            let len = (room - part_overhead).min(*size - offset) / 512 * 512;
            let len = if len == 0 { *size - offset } else { len };
            ranges.push((offset, len));
            offset += len;
            room = cap;
        }
        let n = ranges.len() as u32;
        let mut f = bundle.open_blob(d)?;
        for (i, (offset, len)) in ranges.into_iter().enumerate() {
            f.seek(SeekFrom::Start(offset))
                .at("seek in blob", bundle.blob_path(d))?;
            let mut r = HashingReader::<_, sha2::Sha256>::new((&mut f).take(len));
            std::io::copy(&mut r, &mut std::io::sink()).at("read blob", bundle.blob_path(d))?;
            let got = r.count();
            if got != len {
                return Err(Error::Other(format!(
                    "blob {d} is shorter than recorded; run `nora verify`"
                )));
            }
            let part_digest = Digest::from_bytes(&r.finish().1);
            let index = i as u32 + 1;
            let e = Entry {
                path: format!("parts/sha256/{}/{:04}", d.hex(), index),
                kind: EntryKind::Part,
                size: len,
                digest: part_digest,
                key: None,
                blob: Some(d.clone()),
                index: Some(index),
                parts: Some(n),
                offset: Some(offset),
                blob_size: Some(*size),
            };
            let cost = tar_cost(&e.path, len) + manifest_cost(&e);
            place(
                &mut vols,
                &mut used,
                Planned {
                    entry: e,
                    source: Source::Range { offset, len },
                },
                cost,
            );
        }
    }
    for (i, (k, bytes)) in sel.refs.iter().enumerate() {
        let p = ref_planned(i, k, bytes);
        let cost = tar_cost(&p.entry.path, p.entry.size) + manifest_cost(&p.entry);
        place(&mut vols, &mut used, p, cost);
    }
    Ok(vols)
}

#[cfg(test)]
mod tests {
    #[test]
    fn volumes_over_the_entry_limit_are_cut_in_order() {
        let vols = vec![vec![1, 2, 3, 4, 5], vec![6], vec![7, 8, 9]];
        assert_eq!(
            super::at_most(2, vols),
            vec![
                vec![1, 2],
                vec![3, 4],
                vec![5],
                vec![6],
                vec![7, 8],
                vec![9]
            ]
        );
        let small = vec![vec![1, 2], vec![3]];
        assert_eq!(super::at_most(2, small.clone()), small);
    }
}
