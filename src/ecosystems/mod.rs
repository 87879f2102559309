//! Importers for `nora add`: each reads one local artifact of its ecosystem, validates it
//! completely before anything is stored, ingests its blobs, and returns the ref records
//! to write. No network.

mod archive;
pub mod cargo;
pub mod go;
pub mod maven;
pub mod npm;
pub mod oci;
pub mod pypi;
pub mod raw;

use crate::bundle::refs::{RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::error::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The seven ecosystems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// OCI / Docker images.
    Oci,
    /// npm packages.
    Npm,
    /// PyPI distributions.
    Pypi,
    /// Cargo crates.
    Cargo,
    /// Go modules.
    Go,
    /// Maven files.
    Maven,
    /// Raw files.
    Raw,
}

impl std::str::FromStr for Ecosystem {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "oci" => Ecosystem::Oci,
            "npm" => Ecosystem::Npm,
            "pypi" => Ecosystem::Pypi,
            "cargo" => Ecosystem::Cargo,
            "go" => Ecosystem::Go,
            "maven" => Ecosystem::Maven,
            "raw" => Ecosystem::Raw,
            _ => {
                return Err(Error::InvalidName {
                    what: "ecosystem",
                    value: s.to_string(),
                    reason: format!("one of {}", crate::bundle::refs::ECOSYSTEMS.join(", ")),
                })
            }
        })
    }
}

impl Ecosystem {
    /// The name used in ref keys and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Oci => "oci",
            Ecosystem::Npm => "npm",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Cargo => "cargo",
            Ecosystem::Go => "go",
            Ecosystem::Maven => "maven",
            Ecosystem::Raw => "raw",
        }
    }
}

/// Options of `nora add` that some importers use.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// OCI: repository (and optional `:tag`) for images whose layout names no repository.
    pub name: Option<String>,
    /// Go: module path, when not read from the zip.
    pub module: Option<String>,
    /// Go: version, when not read from the zip.
    pub version: Option<String>,
    /// Go: a `.mod` file to use instead of the zip's go.mod.
    pub go_mod: Option<PathBuf>,
    /// Go: a `.info` file to use instead of a generated one.
    pub go_info: Option<PathBuf>,
    /// Maven: `group:artifact:version[:classifier][@extension]`.
    pub gav: Option<String>,
    /// Raw: the path to store the file at (default: its file name).
    pub path: Option<String>,
    /// Raw: the content type (default: guessed from the extension).
    pub content_type: Option<String>,
}

/// What happened to one ref during `add`.
#[derive(Debug, Clone, Serialize)]
pub struct AddedRef {
    /// The ref key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// `added`, `unchanged` or `updated` (a mutable ref that moved).
    pub status: &'static str,
    /// Artifact size.
    pub size: u64,
}

/// Imports one file with the importer of `eco`, returning the records to write.
pub fn import(
    bundle: &Bundle,
    eco: Ecosystem,
    file: &Path,
    opts: &AddOptions,
) -> Result<Vec<RefRecord>> {
    if !file.exists() {
        return Err(Error::BadArtifact {
            path: file.to_path_buf(),
            reason: "no such file or directory".into(),
        });
    }
    match eco {
        Ecosystem::Oci => oci::import(bundle, file, opts),
        Ecosystem::Npm => npm::import(bundle, file, opts),
        Ecosystem::Pypi => pypi::import(bundle, file, opts),
        Ecosystem::Cargo => cargo::import(bundle, file, opts),
        Ecosystem::Go => go::import(bundle, file, opts),
        Ecosystem::Maven => maven::import(bundle, file, opts),
        Ecosystem::Raw => raw::import(bundle, file, opts),
    }
}

/// True for refs that may move to new content (OCI tags, npm dist-tags); the others name
/// immutable releases.
pub fn is_mutable(body: &RefBody) -> bool {
    matches!(body, RefBody::OciTag(_) | RefBody::NpmDistTag(_))
        || matches!(body, RefBody::MavenFile(m) if m.version.ends_with("-SNAPSHOT"))
        || matches!(body, RefBody::RawFile(_) | RefBody::UpstreamMeta(_))
}

/// Imports files and writes their refs under the writers' lock. A release that is already
/// in the bundle with other content is refused; tags move and the move is journaled.
pub fn add(
    bundle: &Bundle,
    eco: Ecosystem,
    files: &[PathBuf],
    opts: &AddOptions,
) -> Result<Vec<AddedRef>> {
    let _lock = bundle.lock_shared()?;
    let mut out = Vec::new();
    for file in files {
        let records = import(bundle, eco, file, opts)?;
        for rec in records {
            let key = rec.body.key()?;
            let status = commit_ref(bundle, &rec, "add")?;
            out.push(AddedRef {
                key: key.to_string(),
                name: rec.body.display_name(),
                status,
                size: crate::pack::select::artifact_size(bundle, &key, &rec.body),
            });
        }
    }
    if eco == Ecosystem::Oci {
        bundle.rebuild_oci_index()?;
    }
    Ok(out)
}

/// Writes one record under the bundle's merge policy: `added`, `unchanged`, or `updated`
/// for a mutable ref that moved (journaled with `source`); a release that would change is
/// refused. The caller holds the writers' lock.
pub fn commit_ref(bundle: &Bundle, rec: &RefRecord, source: &str) -> Result<&'static str> {
    match decide(bundle, rec)? {
        Decision::Unchanged => Ok("unchanged"),
        Decision::Replace(old) => {
            bundle.write_ref(rec)?;
            bundle.journal("refs.jsonl", &replace_line(&old, rec, source))?;
            Ok("updated")
        }
        Decision::Add => {
            bundle.write_ref(rec)?;
            Ok("added")
        }
    }
}

/// What the merge policy makes of writing `rec`.
pub enum Decision {
    /// The bundle holds the same record.
    Unchanged,
    /// A new key.
    Add,
    /// A mutable ref moves from this record.
    Replace(Box<RefRecord>),
}

/// Applies the merge policy to `rec` without writing: a release that would change is an
/// error.
pub fn decide(bundle: &Bundle, rec: &RefRecord) -> Result<Decision> {
    match bundle.read_ref(&rec.body.key()?)? {
        Some(old) if old.same_target(rec) => Ok(Decision::Unchanged),
        Some(old) if !is_mutable(&rec.body) => Err(Error::ReleaseExists(format!(
            "{} is already in the bundle with other content ({}); releases are immutable: remove it first or use another version",
            rec.body.display_name(),
            old.body.blobs().first().map(|d| d.to_string()).unwrap_or_default()
        ))),
        Some(old) => Ok(Decision::Replace(Box::new(old))),
        None => Ok(Decision::Add),
    }
}

/// The `refs.jsonl` journal line of a mutable ref moved from `old` to `new` by `source`.
pub fn replace_line(old: &RefRecord, new: &RefRecord, source: &str) -> serde_json::Value {
    let key = new.body.key().map(|k| k.to_string()).unwrap_or_default();
    serde_json::json!({"time": crate::bundle::refs::now_rfc3339(), "key": key,
        "action": "replace", "source": source, "old": old.body, "new": new.body})
}
