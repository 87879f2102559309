//! Mirrors container images by reference (`name:tag`, `host/org/img@sha256:…`): the
//! manifest or index, the manifests of the chosen platforms, their configs and layers, and
//! on request their referrers (signatures, SBOMs). Every manifest and blob is checked
//! against its digest before it is stored; an index keeps the entries of platforms not
//! chosen as `absent`, so the bundle says what it lacks and never points at nothing.

use super::{Failure, Options, Report, Watch};
use crate::bundle::oci::{children, is_manifest_type, DOCKER_LIST, INDEX_V1};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::upstream::oci::Registry;
use crate::upstream::Client;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// An image reference, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// As given.
    pub spec: String,
    /// Registry host (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    pub host: String,
    /// Repository on that registry (`library/alpine`).
    pub remote: String,
    /// Repository in the bundle: the remote one, prefixed with the host unless that is
    /// Docker Hub or has a port.
    pub local: String,
    /// Tag or `sha256:…` digest.
    pub reference: String,
}

impl ImageRef {
    /// Parses `[host[:port]/]path[:tag][@sha256:…]` the way Docker does: a first component
    /// with a `.` or `:` (or `localhost`) is a registry host, otherwise Docker Hub, where a
    /// one-component name is under `library/`; the tag defaults to `latest`.
    pub fn parse(spec: &str) -> crate::Result<ImageRef> {
        let bad = |reason: &str| crate::Error::InvalidName {
            what: "image reference",
            value: spec.to_string(),
            reason: reason.to_string(),
        };
        let (name, digest) = match spec.split_once('@') {
            Some((n, d)) => {
                d.parse::<Digest>().map_err(|e| bad(&e.to_string()))?;
                (n, Some(d.to_string()))
            }
            None => (spec, None),
        };
        let last = name.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match name[last..].rfind(':') {
            Some(i) => (&name[..last + i], Some(&name[last + i + 1..])),
            None => (name, None),
        };
        if let Some(t) = tag {
            crate::ecosystems::oci::check_tag(t)?;
        }
        let (host, remote) = match path.split_once('/') {
            Some((h, r)) if h.contains(['.', ':']) || h == "localhost" => {
                (h.to_string(), r.to_string())
            }
            _ => ("docker.io".to_string(), path.to_string()),
        };
        let hub = matches!(
            host.as_str(),
            "docker.io" | "index.docker.io" | "registry-1.docker.io"
        );
        let remote = if hub && !remote.contains('/') {
            format!("library/{remote}")
        } else {
            remote
        };
        let local = if hub || host.contains(':') {
            remote.clone()
        } else {
            format!("{host}/{remote}")
        };
        crate::ecosystems::oci::check_repository(&local)?;
        Ok(ImageRef {
            spec: spec.to_string(),
            host: if hub { "docker.io".into() } else { host },
            remote,
            local,
            reference: digest.unwrap_or_else(|| tag.unwrap_or("latest").to_string()),
        })
    }

    fn tag(&self) -> Option<&str> {
        (!self.reference.contains(':')).then_some(self.reference.as_str())
    }
}

/// `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    os: String,
    arch: String,
    variant: Option<String>,
}

impl Platform {
    /// Parses `linux/amd64` or `linux/arm64/v8`.
    pub fn parse(s: &str) -> crate::Result<Platform> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts[..] {
            [os, arch] | [os, arch, _] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.into(),
                arch: arch.into(),
                variant: parts.get(2).map(|v| v.to_string()),
            }),
            _ => Err(crate::Error::Other(format!(
                "platform {s:?}: expected os/arch[/variant], e.g. linux/amd64"
            ))),
        }
    }

    fn matches(&self, p: &Value) -> bool {
        let field = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("");
        field("os") == self.os
            && field("architecture") == self.arch
            && self
                .variant
                .as_deref()
                .is_none_or(|v| field("variant") == v)
    }
}

fn describe(p: Option<&Value>) -> String {
    let Some(p) = p else {
        return "no platform".into();
    };
    let field = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("");
    let mut s = format!("{}/{}", field("os"), field("architecture"));
    if !field("variant").is_empty() {
        s.push('/');
        s.push_str(field("variant"));
    }
    s
}

/// What to take of each image.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Platforms of an index to take; empty takes all.
    pub platforms: Vec<Platform>,
    /// Also take the referrers (signatures, SBOMs, attestations) of what is taken.
    pub referrers: bool,
}

fn present(b: &Bundle, img: &ImageRef) -> bool {
    // only a digest pins content (a tag may have moved upstream); its record is written
    // once everything it needs is in
    let Ok(digest) = img.reference.parse::<Digest>() else {
        return false;
    };
    matches!(
        crate::registry::oci::manifest_key(&img.local, &digest).map(|k| b.read_ref(&k)),
        Ok(Ok(Some(_)))
    )
}

/// Mirrors every image.
pub async fn mirror(
    bundle: Arc<Bundle>,
    images: Vec<ImageRef>,
    sel: &Selection,
    client: &Client,
    opts: &Options,
    watch: &dyn Watch,
) -> Report {
    let mut registries: HashMap<String, Arc<Registry>> = HashMap::new();
    for img in &images {
        registries.entry(img.host.clone()).or_insert_with(|| {
            Arc::new(Registry::new(
                &img.host,
                client.clone(),
                "NORA_OCI_USERNAME",
                "NORA_OCI_PASSWORD",
            ))
        });
    }
    let artifacts = images.into_iter().map(|i| (i.spec.clone(), i)).collect();
    let (b, sel) = (bundle.clone(), Arc::new(sel.clone()));
    super::run(
        "oci",
        artifacts,
        opts,
        watch,
        move |img| present(&b, img),
        move |img: ImageRef| {
            let (b, sel) = (bundle.clone(), sel.clone());
            let reg = registries[&img.host].clone();
            async move { image(&b, &reg, &img, &sel).await }
        },
    )
    .await
}

/// The media type of a fetched manifest: its own `mediaType`, else the `Content-Type`.
pub(crate) fn media_type_of(bytes: &[u8], header: &str) -> Result<String, String> {
    crate::bundle::oci::media_type(bytes)
        .or_else(|| is_manifest_type(header).then(|| header.to_string()))
        .ok_or_else(|| "not a schema 2 manifest or index of a media type nora stores".to_string())
}

/// Fetches a manifest by digest or tag and checks its digest.
async fn fetch_manifest(
    reg: &Registry,
    img: &ImageRef,
    reference: &str,
) -> Result<(Vec<u8>, String, Digest), String> {
    let (bytes, header) = reg
        .manifest(&img.remote, reference)
        .await
        .map_err(|e| match e {
            crate::upstream::FetchError::NotFound(url) => {
                format!("{} does not exist upstream ({url})", img.spec)
            }
            e => e.to_string(),
        })?;
    let digest = Digest::of(&bytes);
    if let Ok(want) = reference.parse::<Digest>() {
        if want != digest {
            return Err(format!(
                "hash mismatch for {}: asked for {want}, the registry's manifest is {digest}",
                img.spec
            ));
        }
    }
    let mt = media_type_of(&bytes, &header).map_err(|e| format!("{}: {e}", img.spec))?;
    Ok((bytes, mt, digest))
}

async fn image(
    b: &Bundle,
    reg: &Registry,
    img: &ImageRef,
    sel: &Selection,
) -> Result<Option<u64>, String> {
    let (bytes, mt, digest) = fetch_manifest(reg, img, &img.reference).await?;
    let mut fetched = 0;
    let mut absent = Vec::new();
    let mut taken = vec![digest.clone()];
    if mt == INDEX_V1 || mt == DOCKER_LIST {
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let entries = v
            .get("manifests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut chosen = 0;
        for e in &entries {
            let d: Digest = e
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| format!("{}: an index entry without a valid digest", img.spec))?;
            let platform = e.get("platform");
            let wanted = sel.platforms.is_empty()
                || platform.is_some_and(|p| sel.platforms.iter().any(|w| w.matches(p)));
            if wanted {
                fetched += Box::pin(manifest(b, reg, img, &d)).await?;
                taken.push(d);
                chosen += 1;
            } else {
                absent.push(d);
            }
        }
        if chosen == 0 {
            let have: Vec<String> = entries
                .iter()
                .map(|e| describe(e.get("platform")))
                .collect();
            return Err(format!(
                "{} has no manifest for the platforms asked for; it has {}",
                img.spec,
                have.join(", ")
            ));
        }
    } else {
        fetched += blobs(b, reg, img, &bytes).await?;
    }
    if sel.referrers {
        for d in taken.clone() {
            fetched += referrers(b, reg, img, &d).await?;
        }
    }
    let status = tokio::task::block_in_place(|| -> crate::Result<&'static str> {
        let _lock = b.lock_shared()?;
        let rec =
            crate::ecosystems::oci::store_pulled(b, &img.local, img.tag(), &mt, &bytes, absent)?;
        let status = crate::ecosystems::commit_ref(b, &rec, "mirror")?;
        if status != "unchanged" {
            b.rebuild_oci_index()?;
        }
        Ok(status)
    })
    .map_err(|e| format!("{}: {e}", img.spec))?;
    Ok((status != "unchanged" || fetched > 0).then_some(fetched + bytes.len() as u64))
}

/// A child manifest (or nested index, whole) by digest, with its blobs.
async fn manifest(b: &Bundle, reg: &Registry, img: &ImageRef, d: &Digest) -> Result<u64, String> {
    let complete = tokio::task::block_in_place(|| {
        b.has_blob(d)
            && b.read_blob(d)
                .ok()
                .and_then(|m| children(&m).ok())
                .is_some_and(|kids| kids.iter().all(|c| !c.is_manifest && b.has_blob(&c.digest)))
    });
    if complete {
        return Ok(0);
    }
    let (bytes, mt, _) = fetch_manifest(reg, img, &d.to_string()).await?;
    let mut fetched = bytes.len() as u64;
    if mt == INDEX_V1 || mt == DOCKER_LIST {
        for c in children(&bytes).map_err(|e| format!("{}@{d}: {e}", img.spec))? {
            fetched += Box::pin(manifest(b, reg, img, &c.digest)).await?;
        }
    } else {
        fetched += blobs(b, reg, img, &bytes).await?;
    }
    tokio::task::block_in_place(|| b.ingest(&bytes[..], Some(d)))
        .map_err(|e| format!("{}@{d}: {e}", img.spec))?;
    Ok(fetched)
}

/// The config and layers of an image manifest that the bundle lacks.
async fn blobs(b: &Bundle, reg: &Registry, img: &ImageRef, manifest: &[u8]) -> Result<u64, String> {
    blobs_of(b, reg, &img.remote, &img.spec, manifest)
        .await
        .map_err(|e| e.to_string())
}

/// Fetches the config and layers of image manifest `manifest` of `remote` (named `what` in
/// messages) that the bundle lacks, each checked against its digest; returns the bytes
/// fetched.
pub(crate) async fn blobs_of(
    b: &Bundle,
    reg: &Registry,
    remote: &str,
    what: &str,
    manifest: &[u8],
) -> Result<u64, Failure> {
    let mut fetched = 0;
    for c in children(manifest).map_err(|e| format!("{what}: {e}"))? {
        if b.has_blob(&c.digest) {
            continue;
        }
        fetched += blob(b, reg, remote, what, &c.digest).await?;
    }
    Ok(fetched)
}

/// Fetches blob `d` of `remote`, checks its digest and stores it; returns its size.
pub(crate) async fn blob(
    b: &Bundle,
    reg: &Registry,
    remote: &str,
    what: &str,
    d: &Digest,
) -> Result<u64, Failure> {
    let mut file = super::temp_file(b, "mirror-oci-", ".blob")?;
    let (n, sha) = reg.blob(remote, &d.to_string(), file.as_file_mut()).await?;
    if sha != d.hex() {
        return Err(Failure::Refused(format!(
            "hash mismatch for {what} blob {d}: the registry sent sha256:{sha}"
        )));
    }
    tokio::task::block_in_place(|| -> crate::Result<()> {
        let f = std::fs::File::open(file.path()).map_err(|e| crate::Error::Other(e.to_string()))?;
        b.ingest(f, Some(d)).map(|_| ())
    })
    .map_err(|e| format!("{what} blob {d}: {e}"))?;
    Ok(n)
}

/// The referrers of `subject`, each stored as a manifest of the repository.
async fn referrers(
    b: &Bundle,
    reg: &Registry,
    img: &ImageRef,
    subject: &Digest,
) -> Result<u64, String> {
    let Some(index) = reg
        .referrers(&img.remote, &subject.to_string())
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(0);
    };
    let mut fetched = 0;
    for c in children(&index).map_err(|e| format!("{} referrers: {e}", img.spec))? {
        let (bytes, mt, d) = fetch_manifest(reg, img, &c.digest.to_string()).await?;
        fetched += bytes.len() as u64 + blobs(b, reg, img, &bytes).await?;
        tokio::task::block_in_place(|| -> crate::Result<()> {
            let _lock = b.lock_shared()?;
            let rec =
                crate::ecosystems::oci::store_pulled(b, &img.local, None, &mt, &bytes, Vec::new())?;
            crate::ecosystems::commit_ref(b, &rec, "mirror").map(|_| ())
        })
        .map_err(|e| format!("{} referrer {d}: {e}", img.spec))?;
    }
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = ImageRef::parse("alpine").unwrap();
        assert_eq!(
            (
                r.host.as_str(),
                r.remote.as_str(),
                r.local.as_str(),
                r.reference.as_str()
            ),
            ("docker.io", "library/alpine", "library/alpine", "latest")
        );
        let r = ImageRef::parse("docker.io/bitnami/redis:7.2").unwrap();
        assert_eq!(
            (r.remote.as_str(), r.reference.as_str()),
            ("bitnami/redis", "7.2")
        );
        let d = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("ghcr.io/org/img@{d}")).unwrap();
        assert_eq!(
            (r.host.as_str(), r.local.as_str(), r.reference.as_str()),
            ("ghcr.io", "ghcr.io/org/img", d.as_str())
        );
        let r = ImageRef::parse("127.0.0.1:5000/org/img:1.0").unwrap();
        assert_eq!(
            (r.host.as_str(), r.remote.as_str(), r.local.as_str()),
            ("127.0.0.1:5000", "org/img", "org/img")
        );
        assert!(ImageRef::parse("Bad/Name").is_err());
        assert!(ImageRef::parse("img@sha256:12").is_err());
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert!(p.matches(
            &serde_json::json!({"os": "linux", "architecture": "arm64", "variant": "v8"})
        ));
        assert!(!p.matches(&serde_json::json!({"os": "linux", "architecture": "arm64"})));
        assert!(Platform::parse("linux").is_err());
    }
}
