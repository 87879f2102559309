//! `nora add oci`: imports an OCI image layout directory or a `docker save` tarball (the
//! legacy `manifest.json` format, or the OCI layout newer Docker writes inside it) and tags
//! its manifests.

use crate::bundle::ingest::touch;
use crate::bundle::oci::{children, MANIFEST_V1};
use crate::bundle::refs::{OciManifest, OciTag, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::ecosystems::AddOptions;
use crate::error::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// OCI image config media type, used for configs of `docker save` images.
pub const CONFIG_V1: &str = "application/vnd.oci.image.config.v1+json";
/// Uncompressed OCI layer media type, used for `layer.tar` files of `docker save` images.
pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// Largest manifest or index read into memory.
const MAX_MANIFEST: u64 = 16 << 20;
/// Largest `manifest.json` / `index.json` of a tarball.
const MAX_META: u64 = 64 << 20;

/// Imports an OCI image layout directory or a `docker save` tarball.
pub fn import(bundle: &Bundle, file: &Path, opts: &AddOptions) -> Result<Vec<RefRecord>> {
    let name = opts
        .name
        .as_deref()
        .map(|n| parse_reference(n, false))
        .transpose()?;
    if file.is_dir() {
        import_layout(bundle, file, name.as_ref())
    } else {
        import_tarball(bundle, file, name.as_ref())
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    digest: String,
    size: u64,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct MediaTypeOnly {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
}

/// A manifest or index to name, with the names its source gives it (`(repository, tag)`).
struct Image {
    digest: Digest,
    media_type: String,
    size: u64,
    names: Vec<(Option<String>, Option<String>)>,
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::BadArtifact {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn parse_digest(path: &Path, s: &str) -> Result<Digest> {
    s.parse::<Digest>().map_err(|_| {
        bad(
            path,
            format!("descriptor digest '{s}' is not a sha256 digest (only sha256 is supported)"),
        )
    })
}

/// What [`check_graph`] learned.
struct Graph {
    /// The media type each root manifest declares, if any.
    declared: HashMap<Digest, Option<String>>,
    /// Manifests read and hashed during the walk.
    verified: BTreeSet<Digest>,
}

/// Walks the manifest graph from `roots`; `blob` returns a blob's size if present and
/// `read` its bytes.
fn check_graph(
    src: &Path,
    roots: &[(Digest, u64)],
    blob: &dyn Fn(&Digest) -> Option<u64>,
    read: &dyn Fn(&Digest) -> Result<Vec<u8>>,
) -> Result<Graph> {
    let mut declared = HashMap::new();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<(Digest, bool, Option<Digest>)> = Vec::new();
    for (d, size) in roots {
        match blob(d) {
            None => {
                return Err(bad(
                    src,
                    format!("index.json names manifest {d}, which is not in the blobs"),
                ))
            }
            Some(actual) if actual != *size => {
                return Err(bad(
                    src,
                    format!(
                    "index.json gives manifest {d} size {size}, but the blob has {actual} bytes"
                ),
                ))
            }
            Some(_) => todo.push((d.clone(), true, None)),
        }
    }
    while let Some((d, is_manifest, parent)) = todo.pop() {
        if !seen.insert((d.clone(), is_manifest)) {
            continue;
        }
        let Some(size) = blob(&d) else {
            let parent = parent.map(|p| p.to_string()).unwrap_or_default();
            return Err(bad(
                src,
                format!("manifest {parent} points at {d}, which is not in the blobs"),
            ));
        };
        if !is_manifest {
            continue;
        }
        if size > MAX_MANIFEST {
            return Err(bad(
                src,
                format!("manifest {d} is {size} bytes, more than a manifest may be"),
            ));
        }
        let bytes = read(&d)?;
        let actual = Digest::of(&bytes);
        if actual != d {
            return Err(Error::DigestMismatch {
                what: format!("{}/blobs/sha256/{}", src.display(), d.hex()),
                expected: d.to_string(),
                actual: actual.to_string(),
            });
        }
        let kids = children(&bytes).map_err(|e| bad(src, format!("manifest {d}: {e}")))?;
        if parent.is_none() {
            let mt = serde_json::from_slice::<MediaTypeOnly>(&bytes)
                .ok()
                .and_then(|m| m.media_type);
            declared.insert(d.clone(), mt);
        }
        for c in kids {
            todo.push((c.digest, c.is_manifest, Some(d.clone())));
        }
    }
    let verified = seen
        .into_iter()
        .filter(|(_, m)| *m)
        .map(|(d, _)| d)
        .collect();
    Ok(Graph { declared, verified })
}

/// Images of an index.json whose graph has been checked.
fn images_of(
    src: &Path,
    index: &Index,
    declared: &HashMap<Digest, Option<String>>,
) -> Result<Vec<Image>> {
    let mut out = Vec::new();
    for desc in &index.manifests {
        let digest = parse_digest(src, &desc.digest)?;
        let media_type = desc
            .media_type
            .clone()
            .or_else(|| declared.get(&digest).cloned().flatten())
            .ok_or_else(|| bad(src, format!("manifest {digest} has no media type")))?;
        out.push(Image {
            digest,
            media_type,
            size: desc.size,
            names: names_from_annotations(&desc.annotations)?,
        });
    }
    Ok(out)
}

fn import_layout(
    bundle: &Bundle,
    dir: &Path,
    name: Option<&(String, Option<String>)>,
) -> Result<Vec<RefRecord>> {
    let layout_file = dir.join("oci-layout");
    let text = match fs::read(&layout_file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad(dir, "not an OCI image layout: no oci-layout file"))
        }
        Err(e) => return Err(e).at("read", &layout_file),
    };
    let v: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| bad(&layout_file, format!("not JSON: {e}")))?;
    if !v.get("imageLayoutVersion").is_some_and(|v| v.is_string()) {
        return Err(bad(&layout_file, "has no imageLayoutVersion"));
    }
    let index_file = dir.join("index.json");
    let index_bytes = fs::read(&index_file).at("read", &index_file)?;
    let index: Index = serde_json::from_slice(&index_bytes)
        .map_err(|e| bad(&index_file, format!("not a valid image index: {e}")))?;

    let blob_dir = dir.join("blobs").join("sha256");
    let mut blobs: BTreeMap<Digest, (PathBuf, u64)> = BTreeMap::new();
    let entries = match fs::read_dir(&blob_dir) {
        Ok(it) => it,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad(
                dir,
                "not an OCI image layout: no blobs/sha256 directory",
            ))
        }
        Err(e) => return Err(e).at("read directory", &blob_dir),
    };
    for e in entries {
        let e = e.at("read directory", &blob_dir)?;
        let path = e.path();
        let meta = fs::metadata(&path).at("stat", &path)?;
        let digest = e
            .file_name()
            .to_str()
            .and_then(|n| Digest::from_hex(n).ok())
            .filter(|_| meta.is_file())
            .ok_or_else(|| {
                bad(
                    &path,
                    "not a blob: blobs/sha256/ holds only files named by their sha256",
                )
            })?;
        blobs.insert(digest, (path, meta.len()));
    }

    let mut roots = Vec::new();
    for desc in &index.manifests {
        roots.push((parse_digest(&index_file, &desc.digest)?, desc.size));
    }
    let graph = check_graph(dir, &roots, &|d| blobs.get(d).map(|(_, s)| *s), &|d| {
        let p = &blobs[d].0;
        fs::read(p).at("read", p)
    })?;
    let images = images_of(dir, &index, &graph.declared)?;
    let records = resolve(images, name, &format!("OCI layout {}", dir.display()))?;

    for (d, (path, _)) in &blobs {
        if bundle.has_blob(d) || graph.verified.contains(d) {
            continue;
        }
        let (actual, _) = crate::digest::hash_file(path).at("read", path)?;
        if &actual != d {
            return Err(mismatch(path, d, &actual));
        }
    }
    for (d, (path, _)) in &blobs {
        if bundle.has_blob(d) {
            touch(&bundle.blob_path(d));
            continue;
        }
        let mut w = bundle.blob_writer()?;
        let mut f = File::open(path).at("open", path)?;
        std::io::copy(&mut f, &mut w).at("read", path)?;
        w.commit(Some(d), true).map_err(|e| match e {
            Error::DigestMismatch { actual, .. } => Error::DigestMismatch {
                what: path.display().to_string(),
                expected: d.to_string(),
                actual,
            },
            e => e,
        })?;
    }
    bundle.sync_blob_dir()?;
    Ok(records)
}

fn mismatch(path: &Path, expected: &Digest, actual: &Digest) -> Error {
    Error::DigestMismatch {
        what: path.display().to_string(),
        expected: expected.to_string(),
        actual: actual.to_string(),
    }
}

/// The legacy `manifest.json` of `docker save`.
#[derive(Deserialize)]
struct SaveEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

#[derive(Serialize)]
struct OutDescriptor {
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    digest: Digest,
    size: u64,
}

#[derive(Serialize)]
struct OutManifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    config: OutDescriptor,
    layers: Vec<OutDescriptor>,
}

#[derive(Deserialize)]
struct ConfigRootfs {
    #[serde(default)]
    rootfs: Option<Rootfs>,
}

#[derive(Deserialize)]
struct Rootfs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// What one pass over a tarball found.
#[derive(Default)]
struct TarContents {
    files: HashMap<String, (Digest, u64)>,
    links: HashMap<String, String>,
    meta: HashMap<String, Vec<u8>>,
}

impl TarContents {
    fn lookup(&self, path: &str) -> Option<&(Digest, u64)> {
        let mut p = normalize(path)?;
        for _ in 0..32 {
            if let Some(f) = self.files.get(&p) {
                return Some(f);
            }
            p = self.links.get(&p)?.clone();
        }
        None
    }
    fn sizes(&self) -> HashMap<Digest, u64> {
        self.files.values().cloned().collect()
    }
}

const META_FILES: [&str; 4] = ["manifest.json", "index.json", "oci-layout", "repositories"];

/// Normalizes an archive path: `/`-separated, without `.` elements, `..` resolved.
fn normalize(p: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            c => out.push(c),
        }
    }
    (!out.is_empty()).then(|| out.join("/"))
}

fn read_tar(bundle: &Bundle, file: &Path) -> Result<TarContents> {
    let terr = |e: std::io::Error| bad(file, format!("not a readable tar file: {e}"));
    let mut br = BufReader::with_capacity(256 * 1024, File::open(file).at("open", file)?);
    let gz = br.fill_buf().at("read", file)?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(br))
    } else {
        Box::new(br)
    };
    let mut ar = tar::Archive::new(reader);
    let mut out = TarContents::default();
    for entry in ar.entries().map_err(terr)? {
        let mut e = entry.map_err(terr)?;
        let raw = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let Some(path) = normalize(&raw) else {
            continue;
        };
        let kind = e.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = e
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            let resolved = if kind.is_symlink() && !target.starts_with('/') {
                let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                normalize(&format!("{parent}/{target}"))
            } else {
                normalize(&target)
            };
            if let Some(r) = resolved {
                out.links.insert(path, r);
            }
            continue;
        }
        if !(kind.is_file() || kind.is_contiguous()) {
            continue;
        }
        if META_FILES.contains(&path.as_str()) {
            let mut v = Vec::new();
            (&mut e)
                .take(MAX_META + 1)
                .read_to_end(&mut v)
                .map_err(terr)?;
            if v.len() as u64 > MAX_META {
                return Err(bad(file, format!("{path} is larger than {MAX_META} bytes")));
            }
            out.meta.insert(path, v);
            continue;
        }
        let legacy = matches!(
            path.split('/').collect::<Vec<_>>().as_slice(),
            [_, "VERSION" | "json"]
        );
        if legacy {
            continue;
        }
        let mut w = bundle.blob_writer()?;
        std::io::copy(&mut e, &mut w).map_err(terr)?;
        let done = w.commit(None, true)?;
        if let Some(hex) = path.strip_prefix("blobs/sha256/") {
            let expected = Digest::from_hex(hex)
                .map_err(|_| bad(file, format!("{path} is not named by a sha256 digest")))?;
            if expected != done.digest {
                return Err(Error::DigestMismatch {
                    what: format!("{path} in {}", file.display()),
                    expected: expected.to_string(),
                    actual: done.digest.to_string(),
                });
            }
        }
        out.files.insert(path, (done.digest, done.size));
    }
    bundle.sync_blob_dir()?;
    Ok(out)
}

fn import_tarball(
    bundle: &Bundle,
    file: &Path,
    name: Option<&(String, Option<String>)>,
) -> Result<Vec<RefRecord>> {
    let tar = read_tar(bundle, file)?;
    let source = format!("docker save tarball {}", file.display());
    if let (Some(index_bytes), true) = (
        tar.meta.get("index.json"),
        tar.meta.contains_key("oci-layout"),
    ) {
        let index: Index = serde_json::from_slice(index_bytes)
            .map_err(|e| bad(file, format!("index.json is not a valid image index: {e}")))?;
        let sizes = tar.sizes();
        let mut roots = Vec::new();
        for desc in &index.manifests {
            roots.push((parse_digest(file, &desc.digest)?, desc.size));
        }
        let graph = check_graph(file, &roots, &|d| sizes.get(d).copied(), &|d| {
            bundle.read_blob(d)
        })?;
        let images = images_of(file, &index, &graph.declared)?;
        return resolve(images, name, &source);
    }
    let Some(manifest_bytes) = tar.meta.get("manifest.json") else {
        return Err(bad(
            file,
            "not a docker save tarball: it holds no manifest.json (nor an OCI index.json and oci-layout)",
        ));
    };
    let entries: Vec<SaveEntry> = serde_json::from_slice(manifest_bytes)
        .map_err(|e| bad(file, format!("manifest.json is not valid: {e}")))?;
    if entries.is_empty() {
        return Err(bad(file, "manifest.json lists no image"));
    }
    let find = |p: &str| {
        tar.lookup(p).cloned().ok_or_else(|| {
            bad(
                file,
                format!("manifest.json lists {p}, which the tarball does not hold"),
            )
        })
    };
    let mut images = Vec::new();
    let mut manifests = Vec::new();
    for entry in &entries {
        let (config, config_size) = find(&entry.config)?;
        if let Some(hex) = entry
            .config
            .rsplit('/')
            .next()
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|h| Digest::from_hex(h).ok())
        {
            if hex != config {
                return Err(Error::DigestMismatch {
                    what: format!("{} in {}", entry.config, file.display()),
                    expected: hex.to_string(),
                    actual: config.to_string(),
                });
            }
        }
        let mut layers = Vec::new();
        for l in &entry.layers {
            let (digest, size) = find(l)?;
            layers.push(OutDescriptor {
                media_type: LAYER_TAR,
                digest,
                size,
            });
        }
        let cfg_bytes = bundle.read_blob(&config)?;
        let cfg: ConfigRootfs = serde_json::from_slice(&cfg_bytes).map_err(|e| {
            bad(
                file,
                format!("{} is not an image config: {e}", entry.config),
            )
        })?;
        if let Some(rootfs) = cfg.rootfs {
            let ids: Vec<String> = layers.iter().map(|l| l.digest.to_string()).collect();
            if !rootfs.diff_ids.is_empty() && rootfs.diff_ids != ids {
                return Err(bad(
                    file,
                    format!(
                        "the layers manifest.json lists for {} do not match its config's rootfs.diff_ids",
                        entry.config
                    ),
                ));
            }
        }
        let m = OutManifest {
            schema_version: 2,
            media_type: MANIFEST_V1,
            config: OutDescriptor {
                media_type: CONFIG_V1,
                digest: config,
                size: config_size,
            },
            layers,
        };
        let bytes = serde_json::to_vec(&m).expect("manifest serializes");
        let mut names = Vec::new();
        for t in entry.repo_tags.iter().flatten() {
            let (repo, tag) = parse_reference(t, true)?;
            names.push((Some(repo), tag));
        }
        images.push(Image {
            digest: Digest::of(&bytes),
            media_type: MANIFEST_V1.to_string(),
            size: bytes.len() as u64,
            names,
        });
        manifests.push(bytes);
    }
    let records = resolve(images, name, &source)?;
    for m in &manifests {
        bundle.ingest_bytes(m)?;
    }
    Ok(records)
}

/// Names an index.json entry carries: containerd's full image name, else the OCI ref name
/// (a tag, or `repository:tag`).
fn names_from_annotations(
    ann: &BTreeMap<String, String>,
) -> Result<Vec<(Option<String>, Option<String>)>> {
    let ref_name = ann.get(REF_NAME).filter(|r| !r.is_empty());
    if let Some(full) = ann.get(CONTAINERD_NAME).filter(|r| !r.is_empty()) {
        let (repo, tag) = parse_reference(full, false)?;
        let tag = tag.or_else(|| ref_name.filter(|r| !r.contains([':', '/'])).cloned());
        return Ok(vec![(Some(repo), tag)]);
    }
    match ref_name {
        None => Ok(vec![]),
        Some(r) if r.contains([':', '/']) => {
            let (repo, tag) = parse_reference(r, false)?;
            Ok(vec![(Some(repo), tag)])
        }
        Some(r) => {
            check_tag(r)?;
            Ok(vec![(None, Some(r.clone()))])
        }
    }
}

/// Turns images into ref records, applying `--name` (`repository`, optional tag).
fn resolve(
    images: Vec<Image>,
    name: Option<&(String, Option<String>)>,
    source: &str,
) -> Result<Vec<RefRecord>> {
    let (name_repo, name_tag) = match name {
        Some((r, t)) => (Some(r.clone()), t.clone()),
        None => (None, None),
    };
    if let Some(t) = &name_tag {
        if images.len() != 1 {
            return Err(Error::Other(format!(
                "{source} holds {} manifests, so --name cannot give them all tag {t}; pass --name REPO without a tag",
                images.len()
            )));
        }
    }
    let mut out: Vec<RefRecord> = Vec::new();
    for img in images {
        let names = if img.names.is_empty() {
            vec![(None, None)]
        } else {
            img.names.clone()
        };
        for (repo, tag) in names {
            let repository = name_repo.clone().or(repo).ok_or_else(|| {
                Error::Other(format!(
                    "{source} names no repository for manifest {}; pass --name REPO",
                    img.digest
                ))
            })?;
            check_repository(&repository)?;
            let body = match name_tag.clone().or(tag) {
                Some(tag) => {
                    check_tag(&tag)?;
                    RefBody::OciTag(OciTag {
                        repository,
                        tag,
                        digest: img.digest.clone(),
                        media_type: img.media_type.clone(),
                        size: img.size,
                        absent: Vec::new(),
                    })
                }
                None => RefBody::OciManifest(OciManifest {
                    repository,
                    digest: img.digest.clone(),
                    media_type: img.media_type.clone(),
                    size: img.size,
                    absent: Vec::new(),
                }),
            };
            let key = body.key()?;
            let mut duplicate = false;
            for r in &out {
                if r.body.key()? == key {
                    if r.body != body {
                        return Err(Error::Other(format!(
                            "{source} gives {} to two different manifests",
                            body.display_name()
                        )));
                    }
                    duplicate = true;
                }
            }
            if !duplicate {
                out.push(RefRecord::new(body));
            }
        }
    }
    Ok(out)
}

/// Splits `[host/]path[:tag]` and normalizes the repository: `docker.io/` is dropped and a
/// single-component Docker Hub name gains `library/`; `implied_docker_hub` treats a name
/// without a registry host as Docker Hub's (as `docker save` writes them).
pub fn parse_reference(s: &str, implied_docker_hub: bool) -> Result<(String, Option<String>)> {
    let invalid = |reason: &str| Error::InvalidName {
        what: "image reference",
        value: s.to_string(),
        reason: reason.to_string(),
    };
    if s.contains('@') {
        return Err(invalid(
            "digest references are not supported; give repository[:tag]",
        ));
    }
    let last = s.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (repo, tag) = match s[last..].rfind(':') {
        Some(i) => (&s[..last + i], Some(s[last + i + 1..].to_string())),
        None => (s, None),
    };
    if let Some(t) = &tag {
        check_tag(t)?;
    }
    let (host, rest) = match repo.split_once('/') {
        Some((h, r)) if h.contains(['.', ':']) || h == "localhost" => (Some(h), r),
        _ => (None, repo),
    };
    let hub = |r: &str| {
        if r.contains('/') {
            r.to_string()
        } else {
            format!("library/{r}")
        }
    };
    let repository = match host {
        Some("docker.io" | "index.docker.io" | "registry-1.docker.io") => hub(rest),
        Some(h) if h.contains(':') => {
            return Err(invalid(&format!(
                "the registry port in '{h}' cannot be part of a repository name; pass --name REPO[:TAG]"
            )))
        }
        Some(h) => format!("{h}/{rest}"),
        None if implied_docker_hub => hub(rest),
        None => rest.to_string(),
    };
    check_repository(&repository)?;
    Ok((repository, tag))
}

/// Checks a repository name against the distribution spec's
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
pub fn check_repository(name: &str) -> Result<()> {
    let invalid = |reason: &str| Error::InvalidName {
        what: "repository",
        value: name.to_string(),
        reason: reason.to_string(),
    };
    if name.len() > 255 {
        return Err(invalid("longer than 255 characters"));
    }
    for comp in name.split('/') {
        if !component_ok(comp) {
            return Err(invalid(
                "each /-separated component must be lower-case letters and digits, separated by '.', '_', '__' or dashes",
            ));
        }
    }
    Ok(())
}

fn component_ok(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

/// Checks a tag against `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn check_tag(tag: &str) -> Result<()> {
    let b = tag.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|x| x.is_ascii_alphanumeric() || b"._-".contains(x));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            what: "tag",
            value: tag.to_string(),
            reason: "must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}".into(),
        })
    }
}

/// Stores a manifest or index pulled from a registry as `repo` (tagged when `tag` is
/// given): every blob and child manifest it names must already be in the bundle, except
/// the index entries in `absent` (platforms left out on purpose). Returns the record to
/// commit.
pub fn store_pulled(
    bundle: &Bundle,
    repo: &str,
    tag: Option<&str>,
    media_type: &str,
    bytes: &[u8],
    absent: Vec<Digest>,
) -> Result<RefRecord> {
    let digest = Digest::of(bytes);
    let kids = children(bytes).map_err(|e| Error::Other(format!("{repo}@{digest}: {e}")))?;
    for c in &kids {
        if !absent.contains(&c.digest) && !bundle.has_blob(&c.digest) {
            return Err(Error::Other(format!(
                "{repo}@{digest} needs {}, which is not in the bundle",
                c.digest
            )));
        }
    }
    let stored = bundle.ingest(bytes, Some(&digest))?;
    let (media_type, size) = (media_type.to_string(), stored.size);
    Ok(RefRecord::new(match tag {
        Some(tag) => RefBody::OciTag(OciTag {
            repository: repo.to_string(),
            tag: tag.to_string(),
            digest,
            media_type,
            size,
            absent,
        }),
        None => RefBody::OciManifest(OciManifest {
            repository: repo.to_string(),
            digest,
            media_type,
            size,
            absent,
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::oci::INDEX_V1;
    use crate::ecosystems::archive::testing::setup;
    use serde_json::json;

    fn put(layout: &Path, bytes: &[u8]) -> (Digest, u64) {
        let d = Digest::of(bytes);
        let dir = layout.join("blobs/sha256");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(d.hex()), bytes).unwrap();
        (d, bytes.len() as u64)
    }

    fn put_json(layout: &Path, v: &serde_json::Value) -> (Digest, u64) {
        put(layout, &serde_json::to_vec(v).unwrap())
    }

    fn desc(media_type: &str, (d, size): &(Digest, u64)) -> serde_json::Value {
        json!({"mediaType": media_type, "digest": d.to_string(), "size": size})
    }

    fn image(layout: &Path, arch: &str) -> (Digest, u64) {
        let cfg = put_json(layout, &json!({"architecture": arch, "os": "linux"}));
        let layer = put(layout, format!("layer for {arch}").as_bytes());
        put_json(
            layout,
            &json!({
                "schemaVersion": 2,
                "mediaType": MANIFEST_V1,
                "config": desc(CONFIG_V1, &cfg),
                "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", &layer)],
            }),
        )
    }

    fn write_index(layout: &Path, entries: Vec<serde_json::Value>) {
        fs::write(
            layout.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        let idx = json!({"schemaVersion": 2, "mediaType": INDEX_V1, "manifests": entries});
        fs::write(layout.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
    }

    fn multi_platform(layout: &Path) -> (Digest, u64) {
        let amd = image(layout, "amd64");
        let arm = image(layout, "arm64");
        let mut a = desc(MANIFEST_V1, &amd);
        a["platform"] = json!({"architecture": "amd64", "os": "linux"});
        let mut b = desc(MANIFEST_V1, &arm);
        b["platform"] = json!({"architecture": "arm64", "os": "linux"});
        put_json(
            layout,
            &json!({"schemaVersion": 2, "mediaType": INDEX_V1, "manifests": [a, b]}),
        )
    }

    fn opts(name: &str) -> AddOptions {
        AddOptions {
            name: Some(name.into()),
            ..Default::default()
        }
    }

    fn assert_untouched(bundle: &Bundle) {
        assert!(bundle.blobs().unwrap().is_empty());
        assert!(bundle.refs().unwrap().is_empty());
    }

    #[test]
    fn layout_with_two_platform_index() {
        let (dir, bundle) = setup();
        let layout = dir.path().join("layout");
        let idx = multi_platform(&layout);
        let mut e = desc(INDEX_V1, &idx);
        e["annotations"] = json!({REF_NAME: "3.19"});
        write_index(&layout, vec![e]);
        let recs = import(&bundle, &layout, &opts("docker.io/alpine")).unwrap();
        assert_eq!(recs.len(), 1);
        let RefBody::OciTag(t) = &recs[0].body else {
            panic!("{:?}", recs[0].body)
        };
        assert_eq!(t.repository, "library/alpine");
        assert_eq!(t.tag, "3.19");
        assert_eq!(t.digest, idx.0);
        assert_eq!(t.size, idx.1);
        assert_eq!(t.media_type, INDEX_V1);
        assert_eq!(bundle.blobs().unwrap().len(), 7);
        bundle.write_ref(&recs[0]).unwrap();
        let again = import(&bundle, &layout, &opts("docker.io/alpine")).unwrap();
        assert!(again[0].same_target(&recs[0]));
    }

    #[test]
    fn layout_names_from_ref_name_and_name_option() {
        let (dir, bundle) = setup();
        let layout = dir.path().join("layout");
        let amd = image(&layout, "amd64");
        let arm = image(&layout, "arm64");
        let mut a = desc(MANIFEST_V1, &amd);
        a["annotations"] = json!({REF_NAME: "registry.example/team/app:1.0"});
        write_index(&layout, vec![a.clone(), desc(MANIFEST_V1, &arm)]);

        let e = import(&bundle, &layout, &AddOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!(
                "names no repository for manifest {}; pass --name REPO",
                arm.0
            )),
            "{e}"
        );
        assert_untouched(&bundle);

        let e = import(&bundle, &layout, &opts("team/app:2"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("holds 2 manifests"), "{e}");
        assert_untouched(&bundle);

        let recs = import(&bundle, &layout, &opts("team/app")).unwrap();
        let keys: Vec<String> = recs
            .iter()
            .map(|r| r.body.key().unwrap().to_string())
            .collect();
        assert_eq!(
            keys,
            vec![
                "oci/team/app/_tags/1.0".to_string(),
                format!("oci/team/app/_manifests/sha256-{}", arm.0.hex()),
            ]
        );

        write_index(&layout, vec![a]);
        let recs = import(&bundle, &layout, &AddOptions::default()).unwrap();
        let RefBody::OciTag(t) = &recs[0].body else {
            panic!()
        };
        assert_eq!(
            (t.repository.as_str(), t.tag.as_str()),
            ("registry.example/team/app", "1.0")
        );
        let recs = import(&bundle, &layout, &opts("mirror/app:stable")).unwrap();
        assert_eq!(recs[0].body.display_name(), "mirror/app:stable");
    }

    #[test]
    fn layout_errors_leave_bundle_untouched() {
        let (dir, bundle) = setup();
        let layout = dir.path().join("layout");
        let idx = multi_platform(&layout);
        let mut e = desc(INDEX_V1, &idx);
        e["annotations"] = json!({REF_NAME: "1"});
        write_index(&layout, vec![e.clone()]);

        let stray = put(&layout, b"unreferenced");
        let stray_path = layout.join("blobs/sha256").join(stray.0.hex());
        fs::write(&stray_path, b"tampered").unwrap();
        let err = import(&bundle, &layout, &opts("x")).unwrap_err();
        assert!(
            matches!(&err, Error::DigestMismatch { what, .. } if what.contains(stray.0.hex())),
            "{err}"
        );
        assert_untouched(&bundle);
        fs::remove_file(&stray_path).unwrap();

        let layer = put(&layout, b"layer for arm64");
        fs::remove_file(layout.join("blobs/sha256").join(layer.0.hex())).unwrap();
        let err = import(&bundle, &layout, &opts("x"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("points at {}, which is not in the blobs", layer.0)),
            "{err}"
        );
        assert_untouched(&bundle);
        put(&layout, b"layer for arm64");

        e["annotations"] = json!({REF_NAME: "bad tag!"});
        write_index(&layout, vec![e]);
        let err = import(&bundle, &layout, &opts("x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid tag 'bad tag!'"), "{err}");
        assert_untouched(&bundle);

        fs::remove_file(layout.join("oci-layout")).unwrap();
        let err = import(&bundle, &layout, &opts("x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no oci-layout file"), "{err}");
        assert_untouched(&bundle);
    }

    enum Item<'a> {
        File(&'a [u8]),
        Symlink(&'a str),
    }

    fn make_tar(path: &Path, items: &[(&str, Item)]) {
        let mut b = tar::Builder::new(File::create(path).unwrap());
        for (name, item) in items {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            match item {
                Item::File(data) => {
                    h.set_size(data.len() as u64);
                    h.set_entry_type(tar::EntryType::Regular);
                    b.append_data(&mut h, name, *data).unwrap();
                }
                Item::Symlink(target) => {
                    h.set_size(0);
                    h.set_entry_type(tar::EntryType::Symlink);
                    b.append_link(&mut h, name, target).unwrap();
                }
            }
        }
        b.finish().unwrap();
    }

    #[test]
    fn docker_save_legacy_format() {
        let (dir, bundle) = setup();
        let l1: &[u8] = b"first layer tar bytes";
        let l2: &[u8] = b"second layer tar bytes";
        let (d1, d2) = (Digest::of(l1), Digest::of(l2));
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64",
            "rootfs": {"type": "layers", "diff_ids": [d1.to_string(), d2.to_string(), d1.to_string()]},
        }))
        .unwrap();
        let cfg_name = format!("{}.json", Digest::of(&config).hex());
        let manifest = serde_json::to_vec(&json!([{
            "Config": cfg_name,
            "RepoTags": ["alpine:3.19", "registry.example/x/y:1"],
            "Layers": ["aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"],
        }]))
        .unwrap();
        let tarball = dir.path().join("image.tar");
        make_tar(
            &tarball,
            &[
                ("aaa/VERSION", Item::File(b"1.0")),
                ("aaa/json", Item::File(b"{}")),
                ("aaa/layer.tar", Item::File(l1)),
                ("bbb/layer.tar", Item::File(l2)),
                ("ccc/layer.tar", Item::Symlink("../aaa/layer.tar")),
                (&cfg_name, Item::File(&config)),
                ("manifest.json", Item::File(&manifest)),
                ("repositories", Item::File(b"{}")),
            ],
        );
        let recs = import(&bundle, &tarball, &AddOptions::default()).unwrap();
        let names: Vec<String> = recs.iter().map(|r| r.body.display_name()).collect();
        assert_eq!(names, ["library/alpine:3.19", "registry.example/x/y:1"]);
        let RefBody::OciTag(t) = &recs[0].body else {
            panic!()
        };
        assert_eq!(t.media_type, MANIFEST_V1);
        let bytes = bundle.read_blob(&t.digest).unwrap();
        assert_eq!(t.size, bytes.len() as u64);
        let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(m["schemaVersion"], 2);
        assert_eq!(m["mediaType"], MANIFEST_V1);
        assert_eq!(m["config"]["mediaType"], CONFIG_V1);
        assert_eq!(m["config"]["digest"], Digest::of(&config).to_string());
        let layers = m["layers"].as_array().unwrap();
        let got: Vec<(&str, &str, u64)> = layers
            .iter()
            .map(|l| {
                (
                    l["mediaType"].as_str().unwrap(),
                    l["digest"].as_str().unwrap(),
                    l["size"].as_u64().unwrap(),
                )
            })
            .collect();
        let (s1, s2) = (d1.to_string(), d2.to_string());
        assert_eq!(
            got,
            vec![
                (LAYER_TAR, s1.as_str(), l1.len() as u64),
                (LAYER_TAR, s2.as_str(), l2.len() as u64),
                (LAYER_TAR, s1.as_str(), l1.len() as u64),
            ]
        );
        for r in &recs {
            bundle.write_ref(r).unwrap();
        }
        assert!(bundle.has_blob(&d1) && bundle.has_blob(&d2));
    }

    #[test]
    fn docker_save_oci_format() {
        let (dir, bundle) = setup();
        let layout = dir.path().join("layout");
        let m = image(&layout, "amd64");
        let mut e = desc(MANIFEST_V1, &m);
        e["annotations"] =
            json!({CONTAINERD_NAME: "docker.io/library/alpine:3.19", REF_NAME: "3.19"});
        write_index(&layout, vec![e]);
        let mut items: Vec<(String, Vec<u8>)> = Vec::new();
        for name in ["oci-layout", "index.json"] {
            items.push((name.into(), fs::read(layout.join(name)).unwrap()));
        }
        for f in fs::read_dir(layout.join("blobs/sha256")).unwrap() {
            let f = f.unwrap();
            let name = format!("blobs/sha256/{}", f.file_name().to_str().unwrap());
            items.push((name, fs::read(f.path()).unwrap()));
        }
        items.push(("manifest.json".into(), b"[]".to_vec()));
        let tarball = dir.path().join("image.tar");
        let refs: Vec<(&str, Item)> = items
            .iter()
            .map(|(n, b)| (n.as_str(), Item::File(b)))
            .collect();
        make_tar(&tarball, &refs);
        let recs = import(&bundle, &tarball, &AddOptions::default()).unwrap();
        assert_eq!(recs.len(), 1);
        let RefBody::OciTag(t) = &recs[0].body else {
            panic!()
        };
        assert_eq!(
            (t.repository.as_str(), t.tag.as_str()),
            ("library/alpine", "3.19")
        );
        assert_eq!((&t.digest, t.size), (&m.0, m.1));
        assert_eq!(t.media_type, MANIFEST_V1);
        bundle.write_ref(&recs[0]).unwrap();

        let mut bad_items = refs;
        let victim = bad_items
            .iter()
            .position(|(n, _)| {
                n.starts_with("blobs/") && *n != format!("blobs/sha256/{}", m.0.hex())
            })
            .unwrap();
        let victim_name = bad_items[victim].0;
        bad_items[victim].1 = Item::File(b"tampered");
        let bad_tar = dir.path().join("bad.tar");
        make_tar(&bad_tar, &bad_items);
        let err = import(&bundle, &bad_tar, &AddOptions::default()).unwrap_err();
        assert!(
            matches!(&err, Error::DigestMismatch { what, .. } if what.contains(victim_name)),
            "{err}"
        );
    }

    #[test]
    fn docker_save_errors_write_no_refs() {
        let (dir, bundle) = setup();
        let t = dir.path().join("t.tar");
        make_tar(&t, &[("hello.txt", Item::File(b"hi"))]);
        let e = import(&bundle, &t, &AddOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no manifest.json"), "{e}");

        let manifest = br#"[{"Config":"c.json","RepoTags":["a:1"],"Layers":["l/layer.tar"]}]"#;
        make_tar(
            &t,
            &[
                ("c.json", Item::File(b"{}")),
                ("manifest.json", Item::File(manifest)),
            ],
        );
        let e = import(&bundle, &t, &AddOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("lists l/layer.tar, which the tarball does not hold"),
            "{e}"
        );

        let manifest = br#"[{"Config":"c.json","RepoTags":["localhost:5000/a:1"],"Layers":[]}]"#;
        make_tar(
            &t,
            &[
                ("c.json", Item::File(b"{}")),
                ("manifest.json", Item::File(manifest)),
            ],
        );
        let e = import(&bundle, &t, &AddOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("registry port"), "{e}");
        assert!(bundle.refs().unwrap().is_empty());
    }

    #[test]
    fn reference_and_name_rules() {
        let p = |s, hub| parse_reference(s, hub).unwrap();
        assert_eq!(
            p("alpine:3.19", true),
            ("library/alpine".into(), Some("3.19".into()))
        );
        assert_eq!(p("alpine", false), ("alpine".into(), None));
        assert_eq!(
            p("docker.io/alpine", false),
            ("library/alpine".into(), None)
        );
        assert_eq!(
            p("docker.io/me/app:v1", false),
            ("me/app".into(), Some("v1".into()))
        );
        assert_eq!(
            p("registry.example/x/y:1", true),
            ("registry.example/x/y".into(), Some("1".into()))
        );
        assert!(parse_reference("localhost:5000/x", false).is_err());
        assert!(parse_reference("a@sha256:00", false).is_err());
        for ok in ["a", "a0/b-c", "a__b", "a---b", "a.b_c/d"] {
            check_repository(ok).unwrap();
        }
        for bad in ["", "A", "a/", "-a", "a___b", "a-.b", "a..b", "a/_b"] {
            assert!(check_repository(bad).is_err(), "{bad}");
        }
        check_tag("_x.Y-1").unwrap();
        assert!(check_tag(".x").is_err());
        assert!(check_tag(&"a".repeat(129)).is_err());
        check_tag(&"a".repeat(128)).unwrap();
    }
}
