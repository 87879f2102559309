//! Ref records: the small JSON files that give ecosystem names to blobs (bundle-format.md §5).

use crate::bundle::layout::RefKey;
use crate::digest::Digest;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Ecosystems a bundle holds, in the order listings use.
pub const ECOSYSTEMS: [&str; 7] = ["oci", "npm", "pypi", "cargo", "go", "maven", "raw"];

/// One ref record as stored in `refs/…/<name>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefRecord {
    /// When the ref entered the bundle it was first written in (RFC 3339, UTC).
    pub added: String,
    /// What the ref names.
    #[serde(flatten)]
    pub body: RefBody,
}

/// The per-ecosystem part of a ref record, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum RefBody {
    /// An OCI tag pointing at a manifest or index.
    #[serde(rename = "oci-tag")]
    OciTag(OciTag),
    /// An OCI manifest kept in a repository without (or besides) a tag.
    #[serde(rename = "oci-manifest")]
    OciManifest(OciManifest),
    /// One published npm version.
    #[serde(rename = "npm-version")]
    NpmVersion(NpmVersion),
    /// An npm dist-tag.
    #[serde(rename = "npm-dist-tag")]
    NpmDistTag(NpmDistTag),
    /// One PyPI distribution file (wheel or sdist).
    #[serde(rename = "pypi-file")]
    PypiFile(PypiFile),
    /// One Cargo crate version.
    #[serde(rename = "cargo-version")]
    CargoVersion(CargoVersion),
    /// One Go module version.
    #[serde(rename = "go-version")]
    GoVersion(GoVersion),
    /// The go.mod of a Go module version whose zip no build needs (a go.sum `/go.mod` line).
    #[serde(rename = "go-mod")]
    GoMod(GoMod),
    /// A signed tree head of a Go checksum database.
    #[serde(rename = "go-sumdb-tree")]
    GoSumdbTree(GoSumdbTree),
    /// One record of a Go checksum database (the answer to a lookup).
    #[serde(rename = "go-sumdb-record")]
    GoSumdbRecord(GoSumdbRecord),
    /// One tile of a Go checksum database's log.
    #[serde(rename = "go-sumdb-tile")]
    GoSumdbTile(GoSumdbTile),
    /// One file of a Maven repository.
    #[serde(rename = "maven-file")]
    MavenFile(MavenFile),
    /// A raw file at a path.
    #[serde(rename = "raw-file")]
    RawFile(RawFile),
    /// A metadata document an upstream answered, kept by pull-through (`nora serve
    /// --upstream`) to refresh after a TTL and to answer while the upstream is down.
    #[serde(rename = "upstream-meta")]
    UpstreamMeta(UpstreamMeta),
}

/// `oci-tag`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OciTag {
    /// Repository name (`library/alpine`, any depth).
    pub repository: String,
    /// Tag (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`).
    pub tag: String,
    /// Digest of the manifest or index blob.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Entries of this index left out on purpose (platforms not mirrored): the bundle does
    /// not hold them, and nothing that walks the graph asks for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<Digest>,
}

/// `oci-manifest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OciManifest {
    /// Repository name.
    pub repository: String,
    /// Digest of the manifest or index blob.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Entries of this index left out on purpose (platforms not mirrored): the bundle does
    /// not hold them, and nothing that walks the graph asks for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<Digest>,
}

/// `npm-version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NpmVersion {
    /// Package name, `name` or `@scope/name`.
    pub name: String,
    /// Exact semver version.
    pub version: String,
    /// The tarball blob.
    pub tarball: Digest,
    /// Tarball size.
    pub size: u64,
    /// Subresource integrity of the tarball as published (`sha512-<base64>`).
    pub integrity: String,
    /// Hex SHA-1 of the tarball (the packument's `dist.shasum`).
    pub shasum: String,
    /// The version document of the packument without `dist` (package.json as published).
    pub manifest: serde_json::Value,
}

/// `npm-dist-tag`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NpmDistTag {
    /// Package name.
    pub name: String,
    /// Tag name (`latest`, `next`, …).
    pub tag: String,
    /// The version it points at.
    pub version: String,
}

/// `pypi-file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PypiFile {
    /// Project name as its metadata spells it.
    pub project: String,
    /// PEP 503 normalized name.
    pub normalized: String,
    /// Version from the metadata.
    pub version: String,
    /// Distribution file name.
    pub filename: String,
    /// `bdist_wheel` or `sdist`.
    pub packagetype: String,
    /// The file blob (its hex is the index's sha256).
    pub digest: Digest,
    /// File size.
    pub size: u64,
    /// `Requires-Python` from the metadata, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    /// PEP 592: `Some(reason)` (possibly empty) when yanked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yanked: Option<String>,
    /// PEP 658 core metadata file blob, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Digest>,
}

/// `cargo-version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CargoVersion {
    /// Crate name as published.
    pub name: String,
    /// Version.
    pub version: String,
    /// The `.crate` blob (its hex is the index `cksum`).
    pub crate_file: Digest,
    /// `.crate` size.
    pub size: u64,
    /// The sparse-index line for this version (`name`, `vers`, `deps`, `cksum`, `features`,
    /// `yanked`, `links`, `v`, `features2`, `rust_version`).
    pub index: serde_json::Value,
}

/// `go-version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoVersion {
    /// Module path, case preserved.
    pub module: String,
    /// Canonical version (`v1.2.3`, pseudo-versions, `+incompatible`).
    pub version: String,
    /// The `.info` JSON blob.
    pub info: Digest,
    /// The `.mod` blob.
    pub mod_file: Digest,
    /// The module zip blob.
    pub zip: Digest,
    /// Zip size.
    pub size: u64,
    /// `h1:` hash of the zip (go.sum's first line).
    pub h1: String,
    /// `h1:` hash of the go.mod (go.sum's `/go.mod` line).
    pub mod_h1: String,
}

/// `go-mod`: what the module graph reads of a version whose zip is not carried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoMod {
    /// Module path, case preserved.
    pub module: String,
    /// Canonical version.
    pub version: String,
    /// The `.info` JSON blob.
    pub info: Digest,
    /// The `.mod` blob.
    pub mod_file: Digest,
    /// `h1:` hash of the go.mod.
    pub mod_h1: String,
}

/// `upstream-meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamMeta {
    /// Ecosystem (one of [`ECOSYSTEMS`]).
    pub ecosystem: String,
    /// What the document is, as a path below the ecosystem (`example.com/m/@v/list`).
    pub name: String,
    /// The URL it was fetched from.
    pub url: String,
    /// When it was fetched (RFC 3339, UTC).
    pub fetched: String,
    /// The document.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// Its `Content-Type`.
    pub content_type: String,
}

/// `go-sumdb-tree`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoSumdbTree {
    /// Database name (`sum.golang.org`).
    pub name: String,
    /// Number of records in the tree.
    pub size: i64,
    /// The verifier key the note was checked with (`name+hash+key`).
    pub key: String,
    /// The signed tree note, served at `/latest` and after each lookup.
    pub note: Digest,
}

/// `go-sumdb-record`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoSumdbRecord {
    /// Database name.
    pub name: String,
    /// Module path, case preserved.
    pub module: String,
    /// Version.
    pub version: String,
    /// Position of the record in the log.
    pub id: i64,
    /// The record: the module's two go.sum lines, each ending in `\n`.
    pub text: String,
}

/// `go-sumdb-tile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoSumdbTile {
    /// Database name.
    pub name: String,
    /// Tile path under `tile/` (`8/0/x001/234.p/5`).
    pub tile: String,
    /// The tile's hashes.
    pub digest: Digest,
    /// Size in bytes (32 per hash).
    pub size: u64,
}

/// `maven-file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MavenFile {
    /// Repository path (`org/example/app/1.0/app-1.0.jar`).
    pub path: String,
    /// `groupId`.
    pub group_id: String,
    /// `artifactId`.
    pub artifact_id: String,
    /// Base version (`1.0`, `1.0-SNAPSHOT`).
    pub version: String,
    /// Classifier, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier: Option<String>,
    /// Extension (`jar`, `pom`, …).
    pub extension: String,
    /// The file blob.
    pub digest: Digest,
    /// File size.
    pub size: u64,
    /// Hex SHA-1 (served as `.sha1`).
    pub sha1: String,
    /// Hex MD5 (served as `.md5`).
    pub md5: String,
    /// Hex SHA-512 (served as `.sha512`).
    pub sha512: String,
}

/// `raw-file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawFile {
    /// Path under `/raw/`, `/`-separated, no empty, `.` or `..` segment.
    pub path: String,
    /// The file blob.
    pub digest: Digest,
    /// File size.
    pub size: u64,
    /// Media type served with it.
    pub content_type: String,
}

fn split_name(name: &str) -> Vec<String> {
    name.split('/').map(str::to_string).collect()
}

impl RefBody {
    /// The ecosystem this record belongs to.
    pub fn ecosystem(&self) -> &'static str {
        match self {
            RefBody::OciTag(_) | RefBody::OciManifest(_) => "oci",
            RefBody::NpmVersion(_) | RefBody::NpmDistTag(_) => "npm",
            RefBody::PypiFile(_) => "pypi",
            RefBody::CargoVersion(_) => "cargo",
            RefBody::GoVersion(_)
            | RefBody::GoMod(_)
            | RefBody::GoSumdbTree(_)
            | RefBody::GoSumdbRecord(_)
            | RefBody::GoSumdbTile(_) => "go",
            RefBody::MavenFile(_) => "maven",
            RefBody::RawFile(_) => "raw",
            RefBody::UpstreamMeta(m) => ECOSYSTEMS
                .into_iter()
                .find(|e| *e == m.ecosystem)
                .unwrap_or("raw"),
        }
    }

    /// The key this record is stored under (bundle-format.md §5.1).
    pub fn key(&self) -> Result<RefKey> {
        let mut k = vec![self.ecosystem().to_string()];
        match self {
            RefBody::OciTag(t) => {
                k.extend(split_name(&t.repository));
                k.push("_tags".into());
                k.push(t.tag.clone());
            }
            RefBody::OciManifest(m) => {
                k.extend(split_name(&m.repository));
                k.push("_manifests".into());
                k.push(format!("sha256-{}", m.digest.hex()));
            }
            RefBody::NpmVersion(v) => {
                k.extend(split_name(&v.name));
                k.push("_versions".into());
                k.push(v.version.clone());
            }
            RefBody::NpmDistTag(t) => {
                k.extend(split_name(&t.name));
                k.push("_tags".into());
                k.push(t.tag.clone());
            }
            RefBody::PypiFile(f) => {
                k.push(f.normalized.clone());
                k.push(f.filename.clone());
            }
            RefBody::CargoVersion(c) => {
                k.push(c.name.to_lowercase());
                k.push(c.version.clone());
            }
            RefBody::GoVersion(g) => {
                k.extend(split_name(&g.module));
                k.push("@v".into());
                k.push(g.version.clone());
            }
            RefBody::GoMod(g) => {
                k.extend(split_name(&g.module));
                k.push("@mod".into());
                k.push(g.version.clone());
            }
            RefBody::GoSumdbTree(t) => {
                k.extend(["_sumdb".into(), t.name.clone(), "tree".into()]);
                k.push(t.size.to_string());
            }
            RefBody::GoSumdbRecord(r) => {
                k.extend(["_sumdb".into(), r.name.clone(), "lookup".into()]);
                k.extend(split_name(&r.module));
                k.push("@v".into());
                k.push(r.version.clone());
            }
            RefBody::GoSumdbTile(t) => {
                k.extend(["_sumdb".into(), t.name.clone(), "tile".into()]);
                k.extend(split_name(&t.tile));
            }
            RefBody::MavenFile(m) => k.extend(split_name(&m.path)),
            RefBody::RawFile(r) => k.extend(split_name(&r.path)),
            RefBody::UpstreamMeta(m) => {
                if m.ecosystem == "raw" || !ECOSYSTEMS.contains(&m.ecosystem.as_str()) {
                    return Err(Error::BadRef {
                        key: m.name.clone(),
                        reason: format!(
                            "{} is not an ecosystem with upstream metadata",
                            m.ecosystem
                        ),
                    });
                }
                k.push("_upstream".into());
                k.extend(split_name(&m.name));
            }
        }
        RefKey::new(k)
    }

    /// Children of an OCI index this ref leaves out on purpose (platforms not mirrored).
    pub fn absent(&self) -> &[Digest] {
        match self {
            RefBody::OciTag(t) => &t.absent,
            RefBody::OciManifest(m) => &m.absent,
            _ => &[],
        }
    }

    /// The blobs this ref points at directly.
    pub fn blobs(&self) -> Vec<Digest> {
        match self {
            RefBody::OciTag(t) => vec![t.digest.clone()],
            RefBody::OciManifest(m) => vec![m.digest.clone()],
            RefBody::NpmVersion(v) => vec![v.tarball.clone()],
            RefBody::NpmDistTag(_) => vec![],
            RefBody::PypiFile(f) => {
                let mut v = vec![f.digest.clone()];
                v.extend(f.metadata.clone());
                v
            }
            RefBody::CargoVersion(c) => vec![c.crate_file.clone()],
            RefBody::GoVersion(g) => vec![g.info.clone(), g.mod_file.clone(), g.zip.clone()],
            RefBody::GoMod(g) => vec![g.info.clone(), g.mod_file.clone()],
            RefBody::GoSumdbTree(t) => vec![t.note.clone()],
            RefBody::GoSumdbRecord(_) => vec![],
            RefBody::GoSumdbTile(t) => vec![t.digest.clone()],
            RefBody::MavenFile(m) => vec![m.digest.clone()],
            RefBody::RawFile(r) => vec![r.digest.clone()],
            RefBody::UpstreamMeta(m) => vec![m.digest.clone()],
        }
    }

    /// Name shown by `ls` (`alpine:3.19`, `left-pad@1.3.0`, a path, …).
    pub fn display_name(&self) -> String {
        match self {
            RefBody::OciTag(t) => format!("{}:{}", t.repository, t.tag),
            RefBody::OciManifest(m) => format!("{}@{}", m.repository, m.digest),
            RefBody::NpmVersion(v) => format!("{}@{}", v.name, v.version),
            RefBody::NpmDistTag(t) => format!("{}@{} -> {}", t.name, t.tag, t.version),
            RefBody::PypiFile(f) => format!("{}/{}", f.normalized, f.filename),
            RefBody::CargoVersion(c) => format!("{}@{}", c.name, c.version),
            RefBody::GoVersion(g) => format!("{}@{}", g.module, g.version),
            RefBody::GoMod(g) => format!("{}@{} (go.mod only)", g.module, g.version),
            RefBody::GoSumdbTree(t) => format!("sumdb {} tree of {}", t.name, t.size),
            RefBody::GoSumdbRecord(r) => {
                format!("sumdb {} record {}@{}", r.name, r.module, r.version)
            }
            RefBody::GoSumdbTile(t) => format!("sumdb {} tile {}", t.name, t.tile),
            RefBody::MavenFile(m) => m.path.clone(),
            RefBody::RawFile(r) => r.path.clone(),
            RefBody::UpstreamMeta(m) => format!("upstream {} {}", m.ecosystem, m.name),
        }
    }

    /// Size of the artifact the ref names (the main blob; OCI: the manifest only).
    pub fn size(&self) -> u64 {
        match self {
            RefBody::OciTag(t) => t.size,
            RefBody::OciManifest(m) => m.size,
            RefBody::NpmVersion(v) => v.size,
            RefBody::NpmDistTag(_) => 0,
            RefBody::PypiFile(f) => f.size,
            RefBody::CargoVersion(c) => c.size,
            RefBody::GoVersion(g) => g.size,
            RefBody::GoMod(_) | RefBody::GoSumdbTree(_) | RefBody::GoSumdbRecord(_) => 0,
            RefBody::GoSumdbTile(t) => t.size,
            RefBody::MavenFile(m) => m.size,
            RefBody::RawFile(r) => r.size,
            RefBody::UpstreamMeta(m) => m.size,
        }
    }
}

impl RefRecord {
    /// A record added now.
    pub fn new(body: RefBody) -> Self {
        RefRecord {
            added: now_rfc3339(),
            body,
        }
    }
    /// Canonical bytes as stored on disk.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("ref records serialize");
        v.push(b'\n');
        v
    }
    /// Parses stored bytes, checking that the record belongs at `key`.
    pub fn from_bytes(key: &RefKey, bytes: &[u8]) -> Result<Self> {
        let rec: RefRecord = serde_json::from_slice(bytes).map_err(|e| Error::BadRef {
            key: key.to_string(),
            reason: format!("not a valid ref record: {e}"),
        })?;
        let actual = rec.body.key()?;
        if &actual != key {
            return Err(Error::BadRef {
                key: key.to_string(),
                reason: format!("record names {actual}, not the key it is stored under"),
            });
        }
        Ok(rec)
    }
    /// True when two records name the same content (everything but `added` equal).
    pub fn same_target(&self, other: &RefRecord) -> bool {
        self.body == other.body
    }
}

/// The current time as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_key() {
        let body = RefBody::RawFile(RawFile {
            path: "tools/Setup.exe".into(),
            digest: Digest::of(b"x"),
            size: 1,
            content_type: "application/octet-stream".into(),
        });
        let rec = RefRecord::new(body);
        let key = rec.body.key().unwrap();
        assert_eq!(key.to_string(), "raw/tools/Setup.exe");
        let back = RefRecord::from_bytes(&key, &rec.to_bytes()).unwrap();
        assert_eq!(back, rec);
        let wrong = RefKey::parse("raw/other").unwrap();
        assert!(RefRecord::from_bytes(&wrong, &rec.to_bytes()).is_err());
    }
}
