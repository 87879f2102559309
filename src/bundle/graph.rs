//! Reachability: which blobs a ref record needs (its own, and for OCI records the whole
//! manifest graph, bundle-format.md §11). Used by every writer before a ref is written, and
//! by gc, verify, pack and the server's blob deletes.

use crate::bundle::layout::RefKey;
use crate::bundle::oci;
use crate::bundle::refs::RefBody;
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::error::{Error, Result};
use std::collections::BTreeSet;

/// What a walk knows of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Not in the bundle.
    Missing,
    /// In the bundle, with its size when the caller knows it.
    Present(Option<u64>),
}

/// Something wrong on the way through a graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A blob the graph names is not in the bundle.
    Missing(Digest),
    /// A manifest that is there cannot be read or parsed: what it names is unknown.
    Unreadable(String),
    /// A descriptor's `size` differs from its blob's.
    Size(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing(d) => write!(
                f,
                "needs blob {d}, which is not in the bundle; run `nora verify`"
            ),
            Problem::Unreadable(m) | Problem::Size(m) => f.write_str(m),
        }
    }
}

/// Marks in `out` every blob `body` reaches that `present` reports, and returns each
/// problem on the way: a missing blob, a manifest that cannot be read or parsed, and (where
/// sizes are known) a descriptor whose `size` differs from its blob's. The walk never stops
/// early, so a mark phase keeps everything a damaged graph still reaches; a remover must
/// stop at an [`Problem::Unreadable`] manifest, whose children it cannot know.
pub fn reach(
    bundle: &Bundle,
    body: &RefBody,
    out: &mut BTreeSet<Digest>,
    present: &dyn Fn(&Digest) -> Presence,
) -> Vec<Problem> {
    let is_oci = matches!(body, RefBody::OciTag(_) | RefBody::OciManifest(_));
    // (blob, whether it is a manifest, the parent manifest and the size it declares)
    type Visit = (Digest, bool, Option<(Digest, u64)>);
    let mut stack: Vec<Visit> = body
        .blobs()
        .into_iter()
        .map(|d| (d, is_oci, None))
        .collect();
    let absent = body.absent();
    let mut problems = Vec::new();
    while let Some((d, is_manifest, declared)) = stack.pop() {
        if absent.contains(&d) {
            continue;
        }
        let size = match present(&d) {
            Presence::Missing => {
                problems.push(Problem::Missing(d));
                continue;
            }
            Presence::Present(size) => size,
        };
        if let (Some((parent, want)), Some(got)) = (&declared, size) {
            if *want != got {
                problems.push(Problem::Size(format!(
                    "manifest {parent} says blob {d} has {want} bytes, but it has {got}"
                )));
            }
        }
        if !out.insert(d.clone()) || !is_manifest {
            continue;
        }
        let children = match bundle.read_blob(&d) {
            Ok(bytes) => oci::children(&bytes),
            Err(crate::Error::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                problems.push(Problem::Missing(d));
                continue;
            }
            Err(e) => Err(e.to_string()),
        };
        match children {
            Ok(children) => {
                for c in children {
                    let declared = c.size.map(|s| (d.clone(), s));
                    stack.push((c.digest, c.is_manifest, declared));
                }
            }
            Err(e) => problems.push(Problem::Unreadable(format!("manifest {d}: {e}"))),
        }
    }
    problems
}

/// [`reach`] over the blobs in the bundle, sizes not checked; the first problem is an error.
pub fn closure(
    bundle: &Bundle,
    key: &RefKey,
    body: &RefBody,
    out: &mut BTreeSet<Digest>,
) -> Result<()> {
    closure_in(bundle, key, body, out, &|d| {
        if bundle.has_blob(d) {
            Presence::Present(None)
        } else {
            Presence::Missing
        }
    })
}

/// [`closure`] with the caller's view of which blobs are present (e.g. a listing taken once).
pub fn closure_in(
    bundle: &Bundle,
    key: &RefKey,
    body: &RefBody,
    out: &mut BTreeSet<Digest>,
    present: &dyn Fn(&Digest) -> Presence,
) -> Result<()> {
    match reach(bundle, body, out, present).into_iter().next() {
        None => Ok(()),
        Some(p) => Err(Error::BadRef {
            key: key.to_string(),
            reason: p.to_string(),
        }),
    }
}

/// [`reach`] over the blobs in the bundle with their sizes: everything `verify` and a push
/// check.
pub fn problems(bundle: &Bundle, body: &RefBody) -> Vec<Problem> {
    let mut seen = BTreeSet::new();
    reach(bundle, body, &mut seen, &|d| match bundle.blob_size(d) {
        Some(n) => Presence::Present(Some(n)),
        None => Presence::Missing,
    })
}
