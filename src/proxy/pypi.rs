//! PyPI through an upstream simple index: a project page is metadata (kept, refetched after
//! the TTL, PEP 691 JSON when the upstream offers it); a file the bundle lacks is fetched
//! with its core metadata file, checked against the page's SHA-256 and stored as
//! `nora mirror` stores it.

use super::{Proxy, ProxyError};
use crate::bundle::Bundle;
use crate::ecosystems::pypi::normalize;
use crate::upstream::simple::{self, IndexFile};

fn page_url(proxy: &Proxy, project: &str) -> Result<String, ProxyError> {
    Ok(format!(
        "{}/{}/",
        proxy.configured("pypi", "PyPI")?,
        normalize(project)
    ))
}

/// The files the upstream's page of `project` lists (or its kept copy's).
pub async fn files(
    proxy: &Proxy,
    bundle: &Bundle,
    project: &str,
) -> Result<Vec<IndexFile>, ProxyError> {
    let url = page_url(proxy, project)?;
    let m = proxy
        .metadata(
            bundle,
            "pypi",
            &normalize(project),
            url.clone(),
            Some(simple::ACCEPT),
            valid,
        )
        .await
        .map_err(|e| e.about(project))?;
    simple::parse(&m.body, &m.content_type, &url).map_err(ProxyError::Unavailable)
}

fn valid(body: &[u8], content_type: &str) -> Result<(), String> {
    // links resolve against the page; any base checks the page's form
    simple::parse(body, content_type, "http://upstream/simple/p/").map(|_| ())
}

/// Fetches and stores `filename` of `project` unless the bundle holds it already.
pub async fn file(
    proxy: &Proxy,
    bundle: &Bundle,
    project: &str,
    filename: &str,
) -> Result<(), ProxyError> {
    let listed = files(proxy, bundle, project).await?;
    let f = listed
        .into_iter()
        .find(|f| f.filename == filename)
        .ok_or_else(|| {
            ProxyError::NotFound(format!(
                "{project}: the upstream index lists no file {filename}"
            ))
        })?;
    let (b, c, project) = (bundle.clone(), proxy.client.clone(), normalize(project));
    proxy
        .artifact(&format!("pypi:{project}/{filename}"), move || async move {
            let held = tokio::task::block_in_place(|| {
                crate::registry::pypi::file(&b, &project, &f.filename)
            });
            if matches!(held, Ok(Some(_))) {
                return Ok(());
            }
            crate::mirror::pypi::one(&b, &f, &c)
                .await
                .map(|_| ())
                .map_err(|e| ProxyError::of_failure(e, &f.filename))
        })
        .await
}
