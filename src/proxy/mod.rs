//! Pull-through ("mirror by use", `nora serve --upstream ECOSYSTEM=URL`): a miss is
//! fetched from the upstream, checked as `nora mirror` checks it, stored in the bundle and
//! answered; later requests are answered from the bundle. Metadata documents (packuments,
//! simple pages, index files, maven-metadata.xml, tags, module lists, …) are kept as
//! `upstream-meta` records, refetched once older than the TTL, and answered from the bundle
//! while the upstream is down. Protocol modules ask this module; it speaks HTTP only to
//! upstreams.

pub mod cargo;
pub mod flight;
pub mod go;
pub mod maven;
pub mod npm;
pub mod oci;
pub mod pypi;
pub mod raw;

use crate::bundle::refs::{RefBody, RefRecord, UpstreamMeta};
use crate::bundle::Bundle;
use crate::mirror::Failure;
use crate::upstream::{Client, FetchError};
use flight::Flights;
use prometheus::IntCounter;
use std::collections::BTreeMap;
use std::time::Duration;

/// Ecosystems pull-through serves.
pub const SUPPORTED: [&str; 7] = ["cargo", "go", "maven", "npm", "oci", "pypi", "raw"];

/// Default age after which metadata is fetched again.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// Why a pull-through request could not be answered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProxyError {
    /// Neither the bundle nor the upstream has it.
    #[error("{0}")]
    NotFound(String),
    /// The upstream could not be reached or failed, and the bundle has nothing to answer
    /// with.
    #[error("{0}")]
    Unavailable(String),
    /// The upstream served something that failed a check; nothing was stored.
    #[error("{0}")]
    Refused(String),
}

impl ProxyError {
    fn of_fetch(e: FetchError) -> ProxyError {
        match e {
            FetchError::NotFound(url) => {
                ProxyError::NotFound(format!("not found upstream ({url})"))
            }
            e => ProxyError::Unavailable(format!("upstream unavailable: {e}")),
        }
    }

    /// A "not found" that names `what` the client asked for.
    fn about(self, what: &str) -> ProxyError {
        match self {
            ProxyError::NotFound(m) => ProxyError::NotFound(format!("{what}: {m}")),
            e => e,
        }
    }

    /// Why fetching `what` (a name and version) through `mirror`'s code failed.
    fn of_failure(e: Failure, what: &str) -> ProxyError {
        match e {
            Failure::Fetch(e) => ProxyError::of_fetch(e).about(what),
            Failure::Missing(m) => ProxyError::NotFound(m),
            Failure::Refused(why) => ProxyError::Refused(format!(
                "refused what the upstream served for {what}: {why}"
            )),
        }
    }
}

/// Parses `ECOSYSTEM=URL`.
pub fn parse_upstream(spec: &str) -> crate::Result<(String, String)> {
    let bad = |why: &str| crate::Error::Other(format!("--upstream {spec}: {why}"));
    let (eco, url) = spec
        .split_once('=')
        .ok_or_else(|| bad("expected ECOSYSTEM=URL, e.g. go=https://proxy.golang.org"))?;
    if !SUPPORTED.contains(&eco) {
        return Err(bad(&format!(
            "unknown ecosystem '{eco}'; one of {}",
            SUPPORTED.join(", ")
        )));
    }
    // cargo's own spelling of a sparse index
    let url = url.strip_prefix("sparse+").unwrap_or(url);
    let u = reqwest::Url::parse(url).map_err(|e| bad(&format!("not a URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(bad("the URL must be http or https"));
    }
    Ok((eco.to_string(), url.trim_end_matches('/').to_string()))
}

/// The pull-through state of a server.
pub struct Proxy {
    urls: BTreeMap<String, String>,
    ttl: Duration,
    client: Client,
    /// The OCI upstream, with its token flow.
    oci: Option<std::sync::Arc<crate::upstream::oci::Registry>>,
    artifacts: Flights<Result<(), ProxyError>>,
    meta: Flights<Result<Meta, ProxyError>>,
    /// Upstream fetches started (artifacts and metadata).
    pub fetches: IntCounter,
    /// Requests that joined a fetch already running instead of starting one.
    pub joined: IntCounter,
}

/// A metadata document and where it came from.
#[derive(Debug, Clone)]
pub struct Meta {
    /// The document.
    pub body: Vec<u8>,
    /// Its `Content-Type`.
    pub content_type: String,
}

impl Proxy {
    /// Pull-through from `urls` (ecosystem to base URL), refreshing metadata after `ttl`;
    /// upstream credentials come from `NORA_UPSTREAM_TOKEN` (a bearer token), and for OCI
    /// also `NORA_UPSTREAM_USER`/`NORA_UPSTREAM_PASSWORD` (Basic, and for the token flow).
    pub fn new(urls: BTreeMap<String, String>, ttl: Duration) -> crate::Result<Proxy> {
        let client = Client::with_timeout("NORA_UPSTREAM_TOKEN", Duration::from_secs(30))?
            .with_retries(2, Duration::from_millis(200));
        let oci = urls.get("oci").map(|u| {
            std::sync::Arc::new(crate::upstream::oci::Registry::at(
                u,
                client.clone(),
                "NORA_UPSTREAM_USER",
                "NORA_UPSTREAM_PASSWORD",
            ))
        });
        Ok(Proxy {
            urls,
            ttl,
            client,
            oci,
            artifacts: Flights::default(),
            meta: Flights::default(),
            fetches: IntCounter::new(
                "nora_upstream_fetches_total",
                "Fetches from pull-through upstreams (artifacts and metadata)",
            )
            .expect("metric"),
            joined: IntCounter::new(
                "nora_upstream_joined_total",
                "Requests that waited for a fetch already running instead of starting one",
            )
            .expect("metric"),
        })
    }

    /// The upstream of `ecosystem`, if one is configured.
    pub fn upstream(&self, ecosystem: &str) -> Option<&str> {
        self.urls.get(ecosystem).map(String::as_str)
    }

    /// The upstream URL of `ecosystem`; a not-found naming it `label` when none is set.
    fn configured(&self, ecosystem: &str, label: &str) -> Result<&str, ProxyError> {
        self.upstream(ecosystem)
            .ok_or_else(|| ProxyError::NotFound(format!("no {label} upstream is configured")))
    }

    /// Runs `fetch` for `key` once however many ask at the same time.
    async fn artifact<F>(&self, key: &str, fetch: impl FnOnce() -> F) -> Result<(), ProxyError>
    where
        F: std::future::Future<Output = Result<(), ProxyError>> + Send + 'static,
    {
        let (out, _) = self
            .artifacts
            .run(
                key,
                || {
                    self.fetches.inc();
                    fetch()
                },
                || self.joined.inc(),
            )
            .await;
        out.map_err(ProxyError::Unavailable)?
    }

    /// The metadata document `name` of `ecosystem`: the kept copy while younger than the
    /// TTL, else fetched from `url` (asking for `accept`), checked by `valid` and kept; the
    /// kept copy when the upstream fails; `NotFound` when the upstream says so.
    async fn metadata(
        &self,
        bundle: &Bundle,
        ecosystem: &'static str,
        name: &str,
        url: String,
        accept: Option<&'static str>,
        valid: fn(&[u8], &str) -> Result<(), String>,
    ) -> Result<Meta, ProxyError> {
        let c = self.client.clone();
        let u = url.clone();
        self.metadata_with(bundle, ecosystem, name, url, valid, move || async move {
            c.bytes_as(&u, accept, 64 << 20).await
        })
        .await
    }

    /// [`Proxy::metadata`] with `fetch` getting the document (and its content type).
    async fn metadata_with<F>(
        &self,
        bundle: &Bundle,
        ecosystem: &'static str,
        name: &str,
        url: String,
        valid: fn(&[u8], &str) -> Result<(), String>,
        fetch: impl FnOnce() -> F,
    ) -> Result<Meta, ProxyError>
    where
        F: std::future::Future<Output = Result<(Vec<u8>, String), FetchError>> + Send + 'static,
    {
        let kept = tokio::task::block_in_place(|| kept(bundle, ecosystem, name));
        if let Some((m, body)) = &kept {
            let age = humantime::parse_rfc3339(&m.fetched)
                .ok()
                .and_then(|t| t.elapsed().ok());
            if age.is_some_and(|a| a < self.ttl) {
                return Ok(Meta {
                    body: body.clone(),
                    content_type: m.content_type.clone(),
                });
            }
        }
        let (b, n) = (bundle.clone(), name.to_string());
        let key = format!("{ecosystem}:{name}");
        let (out, _) = self
            .meta
            .run(
                &key,
                || {
                    self.fetches.inc();
                    let fetched = fetch();
                    async move {
                        let (body, content_type) = fetched.await.map_err(ProxyError::of_fetch)?;
                        valid(&body, &content_type).map_err(|why| {
                            ProxyError::Refused(format!(
                                "refused what the upstream served at {url}: {why}"
                            ))
                        })?;
                        keep_meta(&b, ecosystem, &n, &url, &body, &content_type)?;
                        Ok(Meta { body, content_type })
                    }
                },
                || self.joined.inc(),
            )
            .await;
        match out.map_err(ProxyError::Unavailable)? {
            Err(ProxyError::Unavailable(why)) => match kept {
                Some((m, body)) => {
                    tracing::warn!(ecosystem, name, %why, "upstream down; answering the kept copy");
                    Ok(Meta {
                        body,
                        content_type: m.content_type,
                    })
                }
                None => Err(ProxyError::Unavailable(why)),
            },
            other => other,
        }
    }
}

/// The kept copy of a metadata document, if any.
fn kept(bundle: &Bundle, ecosystem: &str, name: &str) -> Option<(UpstreamMeta, Vec<u8>)> {
    let key = crate::bundle::layout::RefKey::new(
        [ecosystem, "_upstream"]
            .into_iter()
            .chain(name.split('/'))
            .map(String::from),
    )
    .ok()?;
    match bundle.read_ref(&key).ok()?? {
        RefRecord {
            body: RefBody::UpstreamMeta(m),
            ..
        } => {
            let body = bundle.read_blob(&m.digest).ok()?;
            Some((m, body))
        }
        _ => None,
    }
}

fn keep_meta(
    bundle: &Bundle,
    ecosystem: &str,
    name: &str,
    url: &str,
    body: &[u8],
    content_type: &str,
) -> Result<(), ProxyError> {
    let store = || -> crate::Result<()> {
        let _lock = bundle.lock_shared()?;
        let blob = bundle.ingest_bytes(body)?;
        let rec = RefRecord::new(RefBody::UpstreamMeta(UpstreamMeta {
            ecosystem: ecosystem.to_string(),
            name: name.to_string(),
            url: url.to_string(),
            fetched: crate::bundle::refs::now_rfc3339(),
            digest: blob.digest,
            size: blob.size,
            content_type: content_type.to_string(),
        }));
        crate::ecosystems::commit_ref(bundle, &rec, "proxy").map(|_| ())
    };
    tokio::task::block_in_place(store)
        .map_err(|e| ProxyError::Unavailable(format!("keeping {name}: {e}")))
}
