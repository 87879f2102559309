//! The OCI manifest graph: which blobs a manifest or index points at.

use crate::digest::Digest;
use serde::Deserialize;

/// OCI image index media type.
pub const INDEX_V1: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest media type.
pub const MANIFEST_V1: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker manifest list media type.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker schema 2 manifest media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

#[derive(Deserialize)]
struct Descriptor {
    digest: String,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Deserialize)]
struct AnyManifest {
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
    #[serde(default)]
    blobs: Vec<Descriptor>,
}

/// A child of a manifest: its digest and whether it is itself a manifest or index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// The child's digest.
    pub digest: Digest,
    /// True for entries of an index (manifests), false for configs and layers.
    pub is_manifest: bool,
    /// The size the descriptor declares.
    pub size: Option<u64>,
}

/// Parses a manifest or index and lists the blobs it points at, or explains why it cannot.
pub fn children(bytes: &[u8]) -> Result<Vec<Child>, String> {
    let m: AnyManifest =
        serde_json::from_slice(bytes).map_err(|e| format!("not a JSON manifest: {e}"))?;
    let mut out = Vec::new();
    let parse = |d: &Descriptor| d.digest.parse::<Digest>().map_err(|e| e.to_string());
    if let Some(c) = &m.config {
        out.push(Child {
            digest: parse(c)?,
            is_manifest: false,
            size: c.size,
        });
    }
    for l in m.layers.iter().chain(m.blobs.iter()) {
        out.push(Child {
            digest: parse(l)?,
            is_manifest: false,
            size: l.size,
        });
    }
    for l in &m.manifests {
        out.push(Child {
            digest: parse(l)?,
            is_manifest: true,
            size: l.size,
        });
    }
    Ok(out)
}

/// True when a media type names a manifest or index (whose children must be followed).
pub fn is_manifest_type(media_type: &str) -> bool {
    matches!(
        media_type,
        INDEX_V1 | MANIFEST_V1 | DOCKER_LIST | DOCKER_MANIFEST
    )
}

/// The media type a manifest or index says it has (`mediaType`, else an index by its
/// `manifests` or an image manifest by its `config`); `None` unless it is a schema 2
/// manifest of a type nora stores.
pub fn media_type(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let obj = v.as_object()?;
    if obj.get("schemaVersion")?.as_u64()? != 2 {
        return None;
    }
    match obj.get("mediaType").and_then(serde_json::Value::as_str) {
        Some(mt) if is_manifest_type(mt) => Some(mt.to_string()),
        Some(_) => None,
        None if obj.contains_key("manifests") => Some(INDEX_V1.into()),
        None if obj.contains_key("config") => Some(MANIFEST_V1.into()),
        None => None,
    }
}
