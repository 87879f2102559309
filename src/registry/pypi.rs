//! PyPI distributions in store terms: the projects, the files of a project (for PEP 503
//! and PEP 691 pages), one file and its PEP 658 metadata, and uploads (the legacy form
//! twine posts), checked by the same importer `nora add pypi` uses.

use crate::bundle::refs::{PypiFile, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::ecosystems::pypi::{normalize, validate_project_name};
use crate::error::{Error, IoContext};
use std::path::Path;

/// Why a pypi operation failed.
pub type PypiError = super::PackageError;

type Result<T> = std::result::Result<T, PypiError>;

/// Every project (normalized names), sorted.
pub fn projects(b: &Bundle) -> Result<Vec<String>> {
    let mut out = std::collections::BTreeSet::new();
    b.walk_refs_under(&["pypi"], |_, r| {
        if let Ok(RefRecord {
            body: RefBody::PypiFile(f),
            ..
        }) = r
        {
            out.insert(f.normalized);
        }
        Ok(())
    })?;
    Ok(out.into_iter().collect())
}

/// The files of a normalized project with when each was added, by file name.
pub fn files(b: &Bundle, normalized: &str) -> Result<Vec<(String, PypiFile)>> {
    let mut out: Vec<(String, PypiFile)> = b
        .list_refs_under(&["pypi", normalized])?
        .into_iter()
        .filter_map(|(_, r)| match r {
            Ok(RefRecord {
                added,
                body: RefBody::PypiFile(f),
            }) if f.normalized == normalized => Some((added, f)),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.1.filename.cmp(&b.1.filename));
    Ok(out)
}

/// One file of a project.
pub fn file(b: &Bundle, normalized: &str, filename: &str) -> Result<Option<PypiFile>> {
    let key = crate::bundle::layout::RefKey::new(["pypi", normalized, filename])
        .map_err(|e| PypiError::Invalid(e.to_string()))?;
    Ok(match b.read_ref(&key)? {
        Some(RefRecord {
            body: RefBody::PypiFile(f),
            ..
        }) if f.normalized == normalized => Some(f),
        _ => None,
    })
}

/// The fields of an upload form nora checks.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    /// `name`.
    pub name: String,
    /// `version`.
    pub version: String,
    /// `sha256_digest`, if sent.
    pub sha256: Option<String>,
    /// `md5_digest`, if sent.
    pub md5: Option<String>,
}

/// Stores an uploaded distribution (held at `content`, named as uploaded): the file name,
/// the metadata inside and the digests the form declares must agree; an existing file is
/// refused, as PyPI does.
pub fn upload(b: &Bundle, form: &Upload, content: &Path) -> Result<PypiFile> {
    validate_project_name(&form.name).map_err(|e| PypiError::Invalid(e.to_string()))?;
    let filename = content
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let normalized = normalize(&form.name);
    if file(b, &normalized, &filename)?.is_some() {
        return Err(PypiError::Exists(format!(
            "File already exists: {filename} is in the index; files are immutable, upload a new version"
        )));
    }
    // the file name must name the form's project and version before anything is stored
    let (file_name, file_version) = if filename.ends_with(".whl") {
        let w = crate::ecosystems::pypi::parse_wheel_filename(&filename)
            .map_err(|e| PypiError::Invalid(e.to_string()))?;
        (w.distribution, w.version)
    } else {
        let stem = filename
            .strip_suffix(".tar.gz")
            .or_else(|| filename.strip_suffix(".zip"))
            .ok_or_else(|| {
                PypiError::Invalid(format!(
                    "{filename} is neither a wheel (.whl) nor an sdist (.tar.gz, .zip)"
                ))
            })?;
        let (n, v) = stem
            .rsplit_once('-')
            .ok_or_else(|| PypiError::Invalid(format!("{filename} is not NAME-VERSION.tar.gz")))?;
        (n.to_string(), v.to_string())
    };
    if normalize(&file_name) != normalized || !same_version(&file_version, &form.version) {
        return Err(PypiError::Invalid(format!(
            "the form says {} {}, the file name says {file_name} {file_version}",
            form.name, form.version
        )));
    }
    let (sha256, _) = crate::digest::hash_file(content).at("hash", content)?;
    if let Some(d) = &form.sha256 {
        if !d.eq_ignore_ascii_case(sha256.hex()) {
            return Err(PypiError::Invalid(format!(
                "{filename}: sha256_digest {d} does not match the uploaded content ({})",
                sha256.hex()
            )));
        }
    }
    if let Some(d) = &form.md5 {
        use md5::Digest as _;
        let mut hasher = md5::Md5::new();
        let mut f = std::fs::File::open(content).at("read", content)?;
        std::io::copy(&mut f, &mut hasher).at("read", content)?;
        let actual = hex::encode(hasher.finalize());
        if !d.eq_ignore_ascii_case(&actual) {
            return Err(PypiError::Invalid(format!(
                "{filename}: md5_digest {d} does not match the uploaded content ({actual})"
            )));
        }
    }
    let _lock = b.lock_shared()?;
    let records =
        crate::ecosystems::pypi::import(b, content, &Default::default()).map_err(|e| match e {
            Error::BadArtifact { reason, .. } => {
                PypiError::Invalid(format!("{filename}: {reason}"))
            }
            Error::InvalidName { .. } => PypiError::Invalid(e.to_string()),
            e => PypiError::Store(e),
        })?;
    let rec = records.into_iter().next().expect("one record per file");
    let RefBody::PypiFile(f) = &rec.body else {
        unreachable!("the PyPI importer makes pypi-file records")
    };
    if f.normalized != normalized || !same_version(&f.version, &form.version) {
        return Err(PypiError::Invalid(format!(
            "the form says {} {}, the file's metadata says {} {}",
            form.name, form.version, f.project, f.version
        )));
    }
    crate::ecosystems::commit_ref(b, &rec, "serve").map_err(|e| match e {
        Error::ReleaseExists(m) => PypiError::Exists(m),
        e => PypiError::Store(e),
    })?;
    Ok(f.clone())
}

fn same_version(a: &str, b: &str) -> bool {
    a == b || a.trim_start_matches('v') == b.trim_start_matches('v')
}
