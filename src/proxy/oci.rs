//! OCI images through an upstream registry (its token flow included): a tag is metadata
//! (its manifest kept, refetched after the TTL); a manifest the bundle lacks is fetched,
//! checked against its digest and stored, an image manifest with its config and layers,
//! an index with the entries the bundle lacks recorded as absent, so that each platform
//! is fetched when a client asks for it; tag lists are metadata too.

use super::{Proxy, ProxyError};
use crate::bundle::oci::{children, DOCKER_LIST, INDEX_V1};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::registry::oci::{self as store, Reference};
use crate::upstream::oci::Registry;
use std::sync::Arc;

fn registry(proxy: &Proxy) -> Result<Arc<Registry>, ProxyError> {
    proxy
        .oci
        .clone()
        .ok_or_else(|| ProxyError::NotFound("no OCI upstream is configured".into()))
}

fn valid_manifest(body: &[u8], content_type: &str) -> Result<(), String> {
    crate::mirror::oci::media_type_of(body, content_type).map(|_| ())
}

fn valid_tags(body: &[u8], _: &str) -> Result<(), String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    match v.get("tags") {
        Some(serde_json::Value::Array(_) | serde_json::Value::Null) => Ok(()),
        _ => Err("a tag list without \"tags\"".into()),
    }
}

/// Makes the bundle hold what `reference` of `repo` names upstream: a tag as the upstream
/// has it now (or as last kept, while the upstream is down), a digest once.
pub async fn manifest(
    proxy: &Proxy,
    bundle: &Bundle,
    repo: &str,
    reference: &Reference,
) -> Result<(), ProxyError> {
    let reg = registry(proxy)?;
    let what = match reference {
        Reference::Tag(t) => format!("{repo}:{t}"),
        Reference::Digest(d) => format!("{repo}@{d}"),
    };
    let (bytes, content_type) = match reference {
        Reference::Tag(tag) => {
            let (r, t, rp) = (reg.clone(), tag.clone(), repo.to_string());
            let m = proxy
                .metadata_with(
                    bundle,
                    "oci",
                    &format!("{repo}/_tags/{tag}"),
                    reg.url(repo, &format!("manifests/{tag}")),
                    valid_manifest,
                    move || async move { r.manifest(&rp, &t).await },
                )
                .await
                .map_err(|e| e.about(&what))?;
            (m.body, m.content_type)
        }
        Reference::Digest(d) => {
            let held = tokio::task::block_in_place(|| complete(bundle, repo, d));
            if held {
                return Ok(());
            }
            let (r, rp, ds) = (reg.clone(), repo.to_string(), d.to_string());
            let (body, ct) = r
                .manifest(&rp, &ds)
                .await
                .map_err(|e| ProxyError::of_fetch(e).about(&what))?;
            let got = Digest::of(&body);
            if &got != d {
                return Err(ProxyError::Refused(format!(
                    "refused what the upstream served for {what}: its manifest is {got}"
                )));
            }
            (body, ct)
        }
    };
    let digest = Digest::of(&bytes);
    let tag = match reference {
        Reference::Tag(t) => Some(t.clone()),
        Reference::Digest(_) => None,
    };
    let (b, rp) = (bundle.clone(), repo.to_string());
    proxy
        .artifact(
            &format!("oci:{repo}@{digest}:{}", tag.as_deref().unwrap_or("")),
            move || async move {
                store_manifest(&b, &reg, &rp, tag.as_deref(), &bytes, &content_type)
                    .await
                    .map_err(|e| ProxyError::of_failure(e, &what))
            },
        )
        .await
}

/// True when the bundle holds manifest `d` of `repo` with everything it needs.
fn complete(b: &Bundle, repo: &str, d: &Digest) -> bool {
    matches!(
        store::resolve(b, repo, &Reference::Digest(d.clone())),
        Ok(Some(_))
    ) && b
        .read_blob(d)
        .ok()
        .and_then(|m| children(&m).ok())
        .is_some_and(|kids| kids.iter().all(|c| c.is_manifest || b.has_blob(&c.digest)))
}

async fn store_manifest(
    b: &Bundle,
    reg: &Registry,
    repo: &str,
    tag: Option<&str>,
    bytes: &[u8],
    content_type: &str,
) -> Result<(), crate::mirror::Failure> {
    let digest = Digest::of(bytes);
    let what = format!("{repo}@{digest}");
    let mt = crate::mirror::oci::media_type_of(bytes, content_type)?;
    let current = |b: &Bundle| match tag {
        Some(t) => matches!(store::resolve(b, repo, &Reference::Tag(t.to_string())),
            Ok(Some(m)) if m.digest == digest),
        None => complete(b, repo, &digest),
    };
    if tokio::task::block_in_place(|| current(b)) {
        return Ok(());
    }
    let index = mt == INDEX_V1 || mt == DOCKER_LIST;
    if !index {
        crate::mirror::oci::blobs_of(b, reg, repo, &what, bytes).await?;
    }
    tokio::task::block_in_place(|| -> crate::Result<()> {
        // an index's entries come when clients ask for them; until then they are absent
        let absent = if index {
            children(bytes)
                .map_err(|e| crate::Error::Other(format!("{what}: {e}")))?
                .into_iter()
                .filter(|c| !b.has_blob(&c.digest))
                .map(|c| c.digest)
                .collect()
        } else {
            Vec::new()
        };
        let _lock = b.lock_shared()?;
        let rec = crate::ecosystems::oci::store_pulled(b, repo, tag, &mt, bytes, absent)?;
        if crate::ecosystems::commit_ref(b, &rec, "proxy")? != "unchanged" {
            b.rebuild_oci_index()?;
        }
        Ok(())
    })
    .map_err(|e| crate::mirror::Failure::Refused(e.to_string()))
}

/// Fetches blob `d` through `repo` unless the bundle holds it.
pub async fn blob(
    proxy: &Proxy,
    bundle: &Bundle,
    repo: &str,
    d: &Digest,
) -> Result<(), ProxyError> {
    let reg = registry(proxy)?;
    let (b, rp, dg) = (bundle.clone(), repo.to_string(), d.clone());
    proxy
        .artifact(&format!("oci-blob:{d}"), move || async move {
            if b.has_blob(&dg) {
                return Ok(());
            }
            let what = format!("{rp}@{dg}");
            crate::mirror::oci::blob(&b, &reg, &rp, &rp, &dg)
                .await
                .map(|_| ())
                .map_err(|e| ProxyError::of_failure(e, &what))
        })
        .await
}

/// The upstream's tags of `repo` (or the kept list).
pub async fn tags(proxy: &Proxy, bundle: &Bundle, repo: &str) -> Result<Vec<String>, ProxyError> {
    let reg = registry(proxy)?;
    let (r, rp) = (reg.clone(), repo.to_string());
    let m = proxy
        .metadata_with(
            bundle,
            "oci",
            &format!("{repo}/_list"),
            reg.url(repo, "tags/list"),
            valid_tags,
            move || async move { r.tags(&rp).await.map(|b| (b, "application/json".into())) },
        )
        .await
        .map_err(|e| e.about(repo))?;
    let v: serde_json::Value = serde_json::from_slice(&m.body)
        .map_err(|e| ProxyError::Unavailable(format!("the kept tag list of {repo}: {e}")))?;
    Ok(v.get("tags")
        .and_then(|t| t.as_array())
        .map(|t| {
            t.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}
