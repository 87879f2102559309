//! Which blobs the bundle's refs use, remembered between the server's blob deletes: each ref
//! file's blobs under the file's identity (inode, size, modification and change times), and
//! each manifest's children under its digest (manifests never change). A delete then costs
//! one walk of `refs/` that reads only the records written since the last one.

use crate::bundle::oci::{self, Child};
use crate::bundle::refs::{RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::error::{Error, Result};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// What one ref record needs directly.
#[derive(Debug, Clone)]
struct Needs {
    blobs: Vec<Digest>,
    manifests: bool,
    absent: Vec<Digest>,
}

/// A file's identity; a rewrite (always a new file renamed into place) changes it.
type Stamp = (u64, u64, i64, i64, i64, i64);

/// A remembered record, under its file's inode.
struct Cached {
    stamp: Stamp,
    /// The walk that last saw the file.
    walk: u64,
    needs: std::result::Result<Needs, String>,
}

#[derive(Default)]
struct Cache {
    refs: HashMap<u64, Cached>,
    children: HashMap<Digest, Vec<Child>>,
    walks: u64,
}

/// The remembered uses of one server.
#[derive(Default)]
pub struct Usage {
    cache: Mutex<Cache>,
}

/// Manifests whose children are remembered at most; past it the memory starts over.
const MAX_MANIFESTS: usize = 200_000;

#[cfg(unix)]
fn stamp(m: &std::fs::Metadata) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    Some((
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
    ))
}

#[cfg(not(unix))]
fn stamp(_: &std::fs::Metadata) -> Option<Stamp> {
    None
}

fn needs(path: &std::path::Path) -> std::result::Result<Needs, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let rec: RefRecord = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    Ok(Needs {
        blobs: rec.body.blobs(),
        manifests: matches!(rec.body, RefBody::OciTag(_) | RefBody::OciManifest(_)),
        absent: rec.body.absent().to_vec(),
    })
}

impl Usage {
    /// True when a ref of `b` needs blob `d`, directly or through a manifest graph. The
    /// caller holds the bundle's exclusive lock, so nothing changes during the walk.
    pub fn uses(&self, b: &Bundle, d: &Digest) -> Result<bool> {
        // a pack waiting for more volumes holds its blobs for the refs still to come
        if crate::pack::unpack::staged_blobs(b)?.contains(d) {
            return Ok(true);
        }
        let mut cache = self.cache.lock().expect("usage cache");
        cache.walks += 1;
        let Cache {
            refs,
            children,
            walks,
        } = &mut *cache;
        let walk = *walks;
        let root = b.layout().refs_dir();
        // a file changed this close to the walk might change again within one tick of a
        // coarse clock (FAT, exFAT) with the same identity: read it again next time
        let settled = std::time::SystemTime::now() - std::time::Duration::from_secs(3);
        let mut graphs: Vec<Digest> = Vec::new();
        for entry in walkdir::WalkDir::new(&root) {
            let entry = entry.map_err(|e| Error::Other(format!("walk {}: {e}", root.display())))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let meta = entry.metadata().ok();
            let st = meta.as_ref().and_then(stamp);
            let remembered = st.is_some_and(|s| refs.get(&s.0).is_some_and(|c| c.stamp == s));
            let read;
            let n = match st {
                Some(s) if remembered => {
                    let c = refs.get_mut(&s.0).expect("remembered");
                    c.walk = walk;
                    &c.needs
                }
                Some(s)
                    if meta
                        .and_then(|m| m.modified().ok())
                        .is_some_and(|t| t < settled) =>
                {
                    let c = refs.entry(s.0).insert_entry(Cached {
                        stamp: s,
                        walk,
                        needs: needs(entry.path()),
                    });
                    &c.into_mut().needs
                }
                _ => {
                    read = needs(entry.path());
                    &read
                }
            };
            let n = n.as_ref().map_err(|e| {
                Error::Other(format!(
                    "{} is not a readable ref ({e}); it could name this blob, so nothing is deleted: run `nora verify`",
                    entry.path().display()
                ))
            })?;
            if n.blobs.contains(d) {
                return Ok(true);
            }
            if n.manifests {
                graphs.extend(n.blobs.iter().filter(|m| !n.absent.contains(m)).cloned());
            }
        }
        refs.retain(|_, c| c.walk == walk);
        if children.len() > MAX_MANIFESTS {
            children.clear();
        }
        let mut visited = HashSet::new();
        let mut stack = graphs;
        while let Some(m) = stack.pop() {
            if !visited.insert(m.clone()) {
                continue;
            }
            if !children.contains_key(&m) {
                // a missing manifest is verify's business; what the rest reach counts. One
                // that is there but cannot be read names blobs nobody can know: no delete
                let bytes = match b.read_blob(&m) {
                    Ok(bytes) => bytes,
                    Err(Error::Io { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        continue
                    }
                    Err(e) => return Err(e),
                };
                let list = oci::children(&bytes).map_err(|e| {
                    Error::Other(format!(
                        "manifest {m} cannot be read ({e}); it could name this blob, so nothing is deleted: run `nora verify`"
                    ))
                })?;
                children.insert(m.clone(), list);
            }
            for c in &children[&m] {
                if &c.digest == d {
                    return Ok(true);
                }
                if c.is_manifest {
                    stack.push(c.digest.clone());
                }
            }
        }
        Ok(false)
    }
}
