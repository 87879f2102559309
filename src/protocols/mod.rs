//! One module per protocol, each turning HTTP requests into [`crate::registry`] calls and
//! their results back into that ecosystem's responses and error format. Shared plumbing
//! (ranges, file bodies, limits, path decoding) is in [`http`].

pub mod cargo;
pub mod go;
pub mod go_sumdb;
pub mod http;
pub mod maven;
pub mod npm;
pub mod oci;
pub mod pypi;
pub mod raw;

use crate::registry::uploads::Uploads;
use crate::Bundle;
use std::sync::Arc;

/// What every protocol handler may use: the bundle and the server's limits and sessions.
pub struct Context {
    /// The bundle served.
    pub bundle: Bundle,
    /// OCI blob upload sessions.
    pub uploads: Uploads,
    /// What the refs use, remembered for blob deletes.
    pub usage: crate::registry::usage::Usage,
    /// Limits on request bodies.
    pub limits: Limits,
    /// True when the server asks for credentials (registries that announce it do).
    pub auth_required: bool,
    /// The URL clients reach this server at, for links in metadata; `None`: taken from
    /// `X-Forwarded-Proto`/`X-Forwarded-Host` or `Host`.
    pub public_url: Option<String>,
    /// Pull-through to upstreams (`nora serve --upstream`), when configured.
    pub proxy: Option<Arc<crate::proxy::Proxy>>,
    /// Room for request bodies held whole in memory, in MiB ([`http::read_budgeted`]).
    pub bodies: Arc<tokio::sync::Semaphore>,
}

/// Request body limits, in bytes (`None`: unlimited).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest manifest accepted.
    pub manifest: u64,
    /// Largest OCI blob upload.
    pub blob: Option<u64>,
    /// Largest raw file.
    pub raw: Option<u64>,
    /// Largest package publish (Cargo, npm, PyPI, Maven).
    pub publish: Option<u64>,
}

impl Context {
    /// The pull-through state, when `ecosystem` has an upstream.
    pub fn upstream(&self, ecosystem: &str) -> Option<Arc<crate::proxy::Proxy>> {
        self.proxy
            .clone()
            .filter(|p| p.upstream(ecosystem).is_some())
    }
}

/// The status a pull-through failure answers with: 404 when the upstream has no such
/// thing, 502 when it is down or served something that failed a check.
pub fn upstream_status(e: &crate::proxy::ProxyError) -> warp::http::StatusCode {
    match e {
        crate::proxy::ProxyError::NotFound(_) => warp::http::StatusCode::NOT_FOUND,
        _ => warp::http::StatusCode::BAD_GATEWAY,
    }
}

/// Largest package publish accepted unless configured otherwise (512 MiB).
pub const DEFAULT_PUBLISH_LIMIT: u64 = 512 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            manifest: crate::registry::oci::MAX_MANIFEST as u64,
            blob: None,
            raw: None,
            publish: Some(DEFAULT_PUBLISH_LIMIT),
        }
    }
}
