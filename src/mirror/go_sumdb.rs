//! Carries a Go checksum database across the gap for the modules mirrored: each module's
//! record is looked up and its `h1:` hashes become the hashes the download is checked
//! against; the newest signed tree head is checked with the database's key; the tiles
//! that prove every record the bundle holds in that tree, and that prove the tree grew
//! from every tree head the bundle already holds, are fetched and checked against it.
//! Only then is anything downloaded, and the tiles, records and tree head are stored
//! after the modules.

use crate::bundle::refs::{GoSumdbRecord, GoSumdbTile, GoSumdbTree, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::registry::go_sumdb as store;
use crate::sumdb::note::{self, Tree, Verifier};
use crate::sumdb::tlog::{self, Tile};
use crate::upstream::{Client, FetchError};
use std::sync::Arc;

/// A checksum database to check modules against and carry across.
#[derive(Debug, Clone)]
pub struct Database {
    /// Its key.
    pub verifier: Verifier,
    /// Base URL, without a trailing `/`.
    pub url: String,
}

impl Database {
    /// Parses `NAME+HASH+KEY [URL]` as `GOSUMDB` is written; without a URL the database is
    /// at `https://NAME`.
    pub fn parse(spec: &str) -> Result<Database, String> {
        let mut words = spec.split_whitespace();
        let key = words.next().ok_or("an empty checksum database")?;
        let verifier = Verifier::parse(key)?;
        let url = match words.next() {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("https://{}", verifier.name),
        };
        if words.next().is_some() {
            return Err(format!(
                "{spec:?}: expected NAME+HASH+KEY and at most one URL"
            ));
        }
        reqwest::Url::parse(&url).map_err(|e| format!("{spec:?}: bad URL {url}: {e}"))?;
        Ok(Database { verifier, url })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.verifier.name
    }
}

/// Looks up `module@version` (the bundle's record when it has one), returning the record
/// and the signed tree note that came with a fresh lookup.
pub async fn lookup(
    b: &Bundle,
    db: &Database,
    module: &str,
    version: &str,
    c: &Client,
) -> Result<(GoSumdbRecord, Option<Vec<u8>>), String> {
    if let Ok(Some(r)) = store::record(b, db.name(), module, version) {
        return Ok((r, None));
    }
    let esc = super::go::escape;
    let url = format!("{}/lookup/{}@{}", db.url, esc(module), esc(version));
    let body = match c.bytes(&url, 1 << 20).await {
        Ok(b) => b,
        Err(FetchError::NotFound(_)) => {
            return Err(format!(
                "{module}@{version} is not in the checksum database {} ({url}); a private module cannot be checked there",
                db.name()
            ))
        }
        Err(e) => return Err(format!("checksum database {}: {e}", db.name())),
    };
    let l = note::parse_lookup(&body).map_err(|e| format!("{url}: {e}"))?;
    Ok((
        GoSumdbRecord {
            name: db.name().to_string(),
            module: module.to_string(),
            version: version.to_string(),
            id: l.id,
            text: l.text,
        },
        Some(l.note),
    ))
}

/// What [`prove`] checked and the bundle lacks: the tree head and the tiles.
#[derive(Debug, Default)]
pub struct Proven {
    tree: Option<(Tree, Vec<u8>)>,
    tiles: Vec<(Tile, Vec<u8>)>,
}

/// Proves `fresh` records (just looked up) and every record the bundle holds for the
/// database in the newest signed tree among `notes`, `/latest` and the bundle's, and that
/// tree's growth from every tree head the bundle holds.
pub async fn prove(
    b: &Bundle,
    db: &Database,
    fresh: &[GoSumdbRecord],
    notes: Vec<Vec<u8>>,
    c: &Client,
) -> Result<Proven, String> {
    let name = db.name();
    let open =
        |bytes: &[u8]| -> Result<Tree, String> { note::parse_tree(db.verifier.open(bytes)?) };
    let latest_url = format!("{}/latest", db.url);
    let latest = c
        .bytes(&latest_url, 64 << 10)
        .await
        .map_err(|e| format!("checksum database {name}: {e}"))?;
    let held = store::trees(b, name).map_err(|e| e.to_string())?;
    let mut old = Vec::new();
    for t in &held {
        if t.key != db.verifier.text {
            return Err(format!(
                "the bundle holds a tree of {name} checked with key {}, not {}",
                t.key, db.verifier.text
            ));
        }
        let bytes = b.read_blob(&t.note).map_err(|e| e.to_string())?;
        old.push((open(&bytes)?, bytes));
    }
    let mut newest: Option<(Tree, Vec<u8>)> = None;
    for bytes in notes.into_iter().chain([latest]) {
        let tree = open(&bytes).map_err(|e| format!("{name}: {e}"))?;
        if newest.as_ref().is_none_or(|(t, _)| tree.n > t.n) {
            newest = Some((tree, bytes));
        }
    }
    let (tree, tree_note) = newest.expect("at least /latest");
    let (tree, tree_note) = match old.last() {
        Some((t, bytes)) if t.n > tree.n => (*t, bytes.clone()),
        _ => (tree, tree_note),
    };
    let mut records = store::records(b, name).map_err(|e| e.to_string())?;
    for f in fresh {
        if !records
            .iter()
            .any(|r| r.module == f.module && r.version == f.version)
        {
            records.push(f.clone());
        }
    }
    let mut indexes = Vec::new();
    for r in &records {
        if r.id >= tree.n {
            return Err(format!(
                "{name}: record {} of {}@{} is not in its newest tree of {} records",
                r.id, r.module, r.version, tree.n
            ));
        }
        indexes.push(tlog::stored_hash_index(0, r.id));
    }
    let growth: Vec<(Tree, Vec<i64>)> = old
        .iter()
        .filter(|(t, _)| t.n < tree.n)
        .map(|(t, _)| (*t, tlog::tree_proof_indexes(tree.n, t.n)))
        .collect();
    for (_, g) in &growth {
        indexes.extend(g);
    }
    let tiles = tlog::plan(tree.n, &indexes)?;
    let mut data = Vec::with_capacity(tiles.len());
    let mut missing = Vec::new();
    for t in &tiles {
        match store::tile(b, name, &t.path()).map_err(|e| e.to_string())? {
            Some(have) => data.push(b.read_blob(&have.digest).map_err(|e| e.to_string())?),
            None => {
                data.push(fetch_tile(db, t, c).await?);
                missing.push(data.len() - 1);
            }
        }
    }
    let hashes = tlog::read_hashes(tree.n, &tree.hash, &indexes, &tiles, &data)
        .map_err(|e| format!("checksum database {name}: {e}"))?;
    for (r, h) in records.iter().zip(&hashes) {
        if tlog::record_hash(r.text.as_bytes()) != *h {
            return Err(format!(
                "checksum database {name}: the record of {}@{} is not the one its tree holds",
                r.module, r.version
            ));
        }
    }
    let mut at = records.len();
    for (t, g) in &growth {
        let proof = &hashes[at..at + g.len()];
        at += g.len();
        if !tlog::check_tree(proof, tree.n, &tree.hash, t.n, &t.hash) {
            return Err(format!(
                "checksum database {name}: its tree of {} records does not extend the tree of {} the bundle holds (a forked log)",
                tree.n, t.n
            ));
        }
    }
    let known = held.iter().any(|t| t.size == tree.n);
    Ok(Proven {
        tree: (!known).then_some((tree, tree_note)),
        tiles: missing
            .into_iter()
            .map(|i| (tiles[i], std::mem::take(&mut data[i])))
            .collect(),
    })
}

/// A tile from the database; a partial tile the database no longer has is cut from
/// the full one, as the go command does.
async fn fetch_tile(db: &Database, t: &Tile, c: &Client) -> Result<Vec<u8>, String> {
    let want = (t.w * 32) as usize;
    let url = format!("{}/tile/{}", db.url, t.path());
    let got = match c.bytes(&url, want as u64).await {
        Err(FetchError::NotFound(_)) if t.w != 1 << t.h => {
            let full = Tile { w: 1 << t.h, ..*t };
            c.bytes(
                &format!("{}/tile/{}", db.url, full.path()),
                (full.w * 32) as u64,
            )
            .await
            .map(|mut v| {
                v.truncate(want);
                v
            })
        }
        other => other,
    }
    .map_err(|e| format!("checksum database {}: {e}", db.name()))?;
    if got.len() != want {
        return Err(format!(
            "checksum database {}: tile {} is {} bytes, not {want}",
            db.name(),
            t.path(),
            got.len()
        ));
    }
    Ok(got)
}

/// Stores what [`prove`] checked, then `records`, then the tree head, so a tree head is
/// never held without the tiles and records it proves.
pub fn store(
    b: &Arc<Bundle>,
    db: &Database,
    proven: Proven,
    records: &[GoSumdbRecord],
) -> Result<(), String> {
    let _lock = b.lock_shared().map_err(|e| e.to_string())?;
    let commit = |body: RefBody| {
        crate::ecosystems::commit_ref(b, &RefRecord::new(body), "mirror")
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    for (t, data) in proven.tiles {
        let stored = b.ingest_bytes(&data).map_err(|e| e.to_string())?;
        commit(RefBody::GoSumdbTile(GoSumdbTile {
            name: db.name().to_string(),
            tile: t.path(),
            digest: stored.digest,
            size: data.len() as u64,
        }))?;
    }
    for r in records {
        commit(RefBody::GoSumdbRecord(r.clone()))?;
    }
    if let Some((tree, bytes)) = proven.tree {
        let stored = b.ingest_bytes(&bytes).map_err(|e| e.to_string())?;
        commit(RefBody::GoSumdbTree(GoSumdbTree {
            name: db.name().to_string(),
            size: tree.n,
            key: db.verifier.text.clone(),
            note: stored.digest,
        }))?;
    }
    Ok(())
}
