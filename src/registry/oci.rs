//! The OCI distribution API in store terms: manifests by tag or digest, pushes checked
//! against the blobs they name, tags, the catalog, deletes and referrers.

use crate::bundle::graph;
use crate::bundle::oci as manifests;
use crate::bundle::refs::{OciManifest, OciTag, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::ecosystems::oci::{check_repository, check_tag};
use crate::error::Error;
use serde_json::Value;

/// Why an OCI operation failed, in the distribution spec's terms.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The repository name is invalid.
    #[error("{0}")]
    NameInvalid(String),
    /// No such repository.
    #[error("repository {0} is not known")]
    NameUnknown(String),
    /// No such manifest.
    #[error("manifest {reference} is not known in {repo}")]
    ManifestUnknown {
        /// Repository.
        repo: String,
        /// Tag or digest asked for.
        reference: String,
    },
    /// A platform of a multi-platform image that was left out when it was mirrored.
    #[error("manifest {digest} ({platform}) of {image} was not mirrored into this bundle, which holds only some platforms of it; mirror it with --platform {platform}")]
    NotMirrored {
        /// `repo:tag` or `repo@digest` of the index.
        image: String,
        /// The manifest asked for.
        digest: Digest,
        /// Its platform, as the index says.
        platform: String,
    },
    /// The manifest cannot be accepted.
    #[error("{0}")]
    ManifestInvalid(String),
    /// The manifest names a blob the bundle lacks.
    #[error("manifest references blob {0}, which is not in the registry; push it first")]
    ManifestBlobUnknown(Digest),
    /// No such blob.
    #[error("blob {0} is not known")]
    BlobUnknown(String),
    /// A digest is malformed or does not match the content.
    #[error("{0}")]
    DigestInvalid(String),
    /// The operation is refused by policy.
    #[error("{0}")]
    Unsupported(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] Error),
}

type Result<T> = std::result::Result<T, OciError>;

/// A tag or a digest, as in `/v2/<name>/manifests/<reference>`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reference {
    /// A tag.
    Tag(String),
    /// A content digest.
    Digest(Digest),
}

impl Reference {
    /// Parses a reference; `None` when it is neither a valid tag nor a sha256 digest.
    pub fn parse(s: &str) -> Option<Reference> {
        if s.contains(':') {
            s.parse::<Digest>().ok().map(Reference::Digest)
        } else {
            check_tag(s).ok().map(|_| Reference::Tag(s.to_string()))
        }
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Tag(t) => f.write_str(t),
            Reference::Digest(d) => write!(f, "{d}"),
        }
    }
}

/// A manifest or index as served.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Its digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size.
    pub size: u64,
}

/// What a manifest push stored.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The manifest's digest.
    pub digest: Digest,
    /// The `subject` it refers to, if any.
    pub subject: Option<Digest>,
}

/// Checks a repository name.
pub fn check_name(repo: &str) -> Result<()> {
    check_repository(repo).map_err(|e| OciError::NameInvalid(e.to_string()))
}

fn repo_parts(repo: &str) -> Vec<&str> {
    std::iter::once("oci").chain(repo.split('/')).collect()
}

/// True when the bundle holds any tag or manifest in `repo`.
pub fn repo_exists(b: &Bundle, repo: &str) -> bool {
    let mut parts = repo_parts(repo);
    parts.push("_tags");
    if b.layout().ref_dir(&parts).is_dir() {
        return true;
    }
    parts.pop();
    parts.push("_manifests");
    b.layout().ref_dir(&parts).is_dir()
}

/// Finds the manifest a reference names in `repo`.
pub fn resolve(b: &Bundle, repo: &str, reference: &Reference) -> Result<Option<Manifest>> {
    match reference {
        Reference::Tag(tag) => {
            let key = RefBody::OciTag(OciTag {
                repository: repo.into(),
                tag: tag.clone(),
                digest: Digest::of(b""),
                media_type: String::new(),
                size: 0,
                absent: Vec::new(),
            })
            .key()?;
            Ok(match b.read_ref(&key)? {
                Some(RefRecord {
                    body: RefBody::OciTag(t),
                    ..
                }) => Some(Manifest {
                    digest: t.digest,
                    media_type: t.media_type,
                    size: t.size,
                }),
                _ => None,
            })
        }
        Reference::Digest(d) => {
            if let Some(RefRecord {
                body: RefBody::OciManifest(m),
                ..
            }) = b.read_ref(&manifest_key(repo, d)?)?
            {
                return Ok(Some(Manifest {
                    digest: m.digest,
                    media_type: m.media_type,
                    size: m.size,
                }));
            }
            // A manifest reached through a tag or an index: the blob itself says what it is.
            let path = b.blob_path(d);
            let Ok(meta) = std::fs::metadata(&path) else {
                return Ok(None);
            };
            if meta.len() > MAX_MANIFEST as u64 {
                return Ok(None);
            }
            let bytes = b.read_blob(d)?;
            Ok(manifests::media_type(&bytes).map(|media_type| Manifest {
                digest: d.clone(),
                media_type,
                size: meta.len(),
            }))
        }
    }
}

/// Largest manifest the server reads or accepts.
pub const MAX_MANIFEST: usize = 4 << 20;

/// The key of the `oci-manifest` record of `d` in `repo`.
pub fn manifest_key(repo: &str, d: &Digest) -> crate::error::Result<crate::bundle::layout::RefKey> {
    RefBody::OciManifest(OciManifest {
        repository: repo.into(),
        digest: d.clone(),
        media_type: String::new(),
        size: 0,
        absent: Vec::new(),
    })
    .key()
}

/// Stores a pushed manifest or index under a tag or its digest. Every blob and child
/// manifest it names must already be present; its `subject` need not be.
pub fn put_manifest(
    b: &Bundle,
    repo: &str,
    reference: &Reference,
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<Pushed> {
    let digest = Digest::of(bytes);
    if let Reference::Digest(d) = reference {
        if d != &digest {
            return Err(OciError::DigestInvalid(format!(
                "manifest pushed as {d} hashes to {digest}"
            )));
        }
    }
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| OciError::ManifestInvalid(format!("manifest is not JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| OciError::ManifestInvalid("manifest is not a JSON object".into()))?;
    if obj.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
        return Err(OciError::ManifestInvalid(
            "schemaVersion must be 2 (schema 1 manifests are not supported)".into(),
        ));
    }
    let body_type = obj.get("mediaType").and_then(Value::as_str);
    let media_type = match (body_type, content_type) {
        (Some(b), Some(c)) if b != c && manifests::is_manifest_type(c) => {
            return Err(OciError::ManifestInvalid(format!(
                "Content-Type {c} differs from the manifest's mediaType {b}"
            )))
        }
        (Some(b), _) => b.to_string(),
        (None, Some(c)) if manifests::is_manifest_type(c) => c.to_string(),
        (None, _) => manifests::media_type(bytes).ok_or_else(|| {
            OciError::ManifestInvalid("manifest has no mediaType and no known Content-Type".into())
        })?,
    };
    if !manifests::is_manifest_type(&media_type) {
        return Err(OciError::ManifestInvalid(format!(
            "unsupported manifest media type {media_type}"
        )));
    }
    let children = manifests::children(bytes).map_err(OciError::ManifestInvalid)?;
    if (media_type == manifests::MANIFEST_V1 || media_type == manifests::DOCKER_MANIFEST)
        && obj.get("config").is_none()
    {
        return Err(OciError::ManifestInvalid(
            "an image manifest needs a config".into(),
        ));
    }
    let subject = match obj.get("subject") {
        None => None,
        Some(s) => Some(
            s.get("digest")
                .and_then(Value::as_str)
                .and_then(|d| d.parse::<Digest>().ok())
                .ok_or_else(|| {
                    OciError::ManifestInvalid("subject has no valid sha256 digest".into())
                })?,
        ),
    };
    // the check and the write are one step for gc and blob deletes, which take the
    // exclusive lock (bundle-format.md §6)
    let _lock = b.lock_shared()?;
    for c in &children {
        match b.blob_size(&c.digest) {
            None => return Err(OciError::ManifestBlobUnknown(c.digest.clone())),
            Some(n) if c.size.is_some_and(|want| want != n) => {
                return Err(OciError::ManifestInvalid(format!(
                    "the manifest says {} has {} bytes, but that blob has {n}",
                    c.digest,
                    c.size.unwrap_or_default()
                )))
            }
            Some(_) => {}
        }
        // an index's manifests must have everything they name, too
        if c.is_manifest {
            let child = RefBody::OciManifest(OciManifest {
                repository: repo.into(),
                digest: c.digest.clone(),
                media_type: String::new(),
                size: 0,
                absent: Vec::new(),
            });
            let missing = graph::reach(b, &child, &mut Default::default(), &|d| {
                if b.has_blob(d) {
                    graph::Presence::Present(None)
                } else {
                    graph::Presence::Missing
                }
            });
            match missing.into_iter().next() {
                Some(graph::Problem::Missing(d)) => return Err(OciError::ManifestBlobUnknown(d)),
                Some(p) => return Err(OciError::ManifestInvalid(p.to_string())),
                None => {}
            }
        }
    }
    b.ingest_bytes(bytes)?;
    let size = bytes.len() as u64;
    match reference {
        Reference::Digest(_) => {
            let rec = RefRecord::new(RefBody::OciManifest(OciManifest {
                repository: repo.into(),
                digest: digest.clone(),
                media_type,
                size,
                absent: Vec::new(),
            }));
            crate::ecosystems::commit_ref(b, &rec, "serve")?;
        }
        Reference::Tag(tag) => {
            let rec = RefRecord::new(RefBody::OciTag(OciTag {
                repository: repo.into(),
                tag: tag.clone(),
                digest: digest.clone(),
                media_type,
                size,
                absent: Vec::new(),
            }));
            if crate::ecosystems::commit_ref(b, &rec, "serve")? != "unchanged" {
                b.rebuild_oci_index()?;
            }
        }
    }
    Ok(Pushed { digest, subject })
}

/// When `d` is an index entry some ref of `repo` left out on purpose (a platform not
/// mirrored), the error that says so.
pub fn not_mirrored(b: &Bundle, repo: &str, d: &Digest) -> Result<Option<OciError>> {
    if !repo_exists(b, repo) {
        return Ok(None);
    }
    for (_, rec) in b.list_refs_under(&repo_parts(repo))? {
        let Ok(rec) = rec else { continue };
        if !rec.body.absent().contains(d) {
            continue;
        }
        let index = rec.body.blobs().into_iter().next().map(|i| b.read_blob(&i));
        let platform = index
            .and_then(|r| r.ok())
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|v| {
                v.get("manifests")?.as_array()?.iter().find_map(|m| {
                    if m.get("digest")?.as_str()? != d.to_string() {
                        return None;
                    }
                    let p = m.get("platform")?;
                    let f = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("");
                    Some(if f("variant").is_empty() {
                        format!("{}/{}", f("os"), f("architecture"))
                    } else {
                        format!("{}/{}/{}", f("os"), f("architecture"), f("variant"))
                    })
                })
            })
            .unwrap_or_else(|| "unknown platform".into());
        return Ok(Some(OciError::NotMirrored {
            image: rec.body.display_name(),
            digest: d.clone(),
            platform,
        }));
    }
    Ok(None)
}

/// The tags of `repo`, sorted; `None` when the repository is unknown.
pub fn tags(b: &Bundle, repo: &str) -> Result<Option<Vec<String>>> {
    if !repo_exists(b, repo) {
        return Ok(None);
    }
    let mut parts = repo_parts(repo);
    parts.push("_tags");
    let mut out: Vec<String> = b
        .list_refs_under(&parts)?
        .into_iter()
        .filter_map(|(_, r)| match r {
            Ok(RefRecord {
                body: RefBody::OciTag(t),
                ..
            }) if t.repository == repo => Some(t.tag),
            _ => None,
        })
        .collect();
    out.sort();
    Ok(Some(out))
}

/// Every repository holding a tag or manifest, sorted.
pub fn catalog(b: &Bundle) -> Result<Vec<String>> {
    let mut repos = std::collections::BTreeSet::new();
    b.walk_refs_under(&["oci"], |_, r| {
        match r {
            Ok(RefRecord {
                body: RefBody::OciTag(OciTag { repository, .. }),
                ..
            })
            | Ok(RefRecord {
                body: RefBody::OciManifest(OciManifest { repository, .. }),
                ..
            }) => {
                repos.insert(repository);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(repos.into_iter().collect())
}

/// Deletes a tag, or a manifest by digest together with every tag of `repo` naming it.
pub fn delete_manifest(b: &Bundle, repo: &str, reference: &Reference) -> Result<()> {
    let unknown = || OciError::ManifestUnknown {
        repo: repo.into(),
        reference: reference.to_string(),
    };
    let _lock = b.lock_shared()?;
    let mut removed = false;
    let mut parts = repo_parts(repo);
    parts.push("_tags");
    let tag_refs = b.list_refs_under(&parts)?;
    for (key, rec) in tag_refs {
        let Ok(RefRecord {
            body: RefBody::OciTag(t),
            ..
        }) = rec
        else {
            continue;
        };
        let hit = match reference {
            Reference::Tag(tag) => &t.tag == tag,
            Reference::Digest(d) => &t.digest == d,
        };
        if hit && t.repository == repo && b.remove_ref_journaled(&key, "serve")?.is_some() {
            removed = true;
        }
    }
    if let Reference::Digest(d) = reference {
        let key = manifest_key(repo, d)?;
        if b.remove_ref_journaled(&key, "serve")?.is_some() {
            removed = true;
        }
    }
    if !removed {
        return Err(unknown());
    }
    b.rebuild_oci_index()?;
    Ok(())
}

/// Deletes a blob that no ref uses, directly or through a manifest graph; refuses one that
/// is still in use. A remover: the caller holds the bundle's exclusive lock (`_exclusive`),
/// so no writer checks for this blob and names it in between.
pub fn delete_blob(
    b: &Bundle,
    usage: &crate::registry::usage::Usage,
    d: &Digest,
    _exclusive: &crate::bundle::lock::LockGuard,
) -> Result<()> {
    if !b.has_blob(d) {
        return Err(OciError::BlobUnknown(d.to_string()));
    }
    if usage.uses(b, d)? {
        return Err(OciError::Unsupported(format!(
            "blob {d} is used by a ref (directly or through a manifest) or by a partly unpacked pack; delete the manifests that use it (gc removes it afterwards)"
        )));
    }
    let p = b.blob_path(d);
    std::fs::remove_file(&p).map_err(|e| Error::Io {
        action: "remove blob",
        path: p,
        source: e,
    })?;
    Ok(())
}

/// The referrers index of `subject` in `repo`: descriptors of every manifest there whose
/// `subject` is that digest, optionally only those of one artifact type.
pub fn referrers(
    b: &Bundle,
    repo: &str,
    subject: &Digest,
    artifact_type: Option<&str>,
) -> Result<Value> {
    let want = subject.to_string();
    let mut seen = std::collections::BTreeMap::new();
    b.walk_refs_under(&repo_parts(repo), |_, r| {
        let (digest, media_type, size, repository) = match r {
            Ok(RefRecord {
                body: RefBody::OciTag(t),
                ..
            }) => (t.digest, t.media_type, t.size, t.repository),
            Ok(RefRecord {
                body: RefBody::OciManifest(m),
                ..
            }) => (m.digest, m.media_type, m.size, m.repository),
            _ => return Ok(()),
        };
        if repository != repo || seen.contains_key(&digest) || size > MAX_MANIFEST as u64 {
            return Ok(());
        }
        let Ok(bytes) = b.read_blob(&digest) else {
            return Ok(());
        };
        let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
            return Ok(());
        };
        if v.pointer("/subject/digest").and_then(Value::as_str) != Some(want.as_str()) {
            return Ok(());
        }
        let at = v
            .get("artifactType")
            .and_then(Value::as_str)
            .or_else(|| v.pointer("/config/mediaType").and_then(Value::as_str))
            .unwrap_or_default()
            .to_string();
        let mut desc = serde_json::json!({"mediaType": media_type, "digest": digest, "size": size});
        if !at.is_empty() {
            desc["artifactType"] = Value::String(at.clone());
        }
        if let Some(a) = v.get("annotations") {
            desc["annotations"] = a.clone();
        }
        seen.insert(digest, (at, desc));
        Ok(())
    })?;
    let manifests: Vec<Value> = seen
        .into_values()
        .filter(|(at, _)| artifact_type.is_none_or(|want| want == at))
        .map(|(_, d)| d)
        .collect();
    Ok(serde_json::json!({
        "schemaVersion": 2,
        "mediaType": manifests::INDEX_V1,
        "manifests": manifests,
    }))
}
