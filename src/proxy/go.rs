//! Go modules through an upstream GOPROXY: a version is fetched whole (`.info`, `.mod`,
//! `.zip`, checked as `nora mirror` checks a module it has no go.sum line for: the zip is
//! a well-formed module zip of that module and version, and its go.mod names the module)
//! and stored as a `go-version`; `@v/list` and `@latest` are metadata. The go command
//! checks the hashes against its checksum database itself.

use super::{Meta, Proxy, ProxyError};
use crate::bundle::Bundle;
use crate::lockfiles::go_sum::Pinned;
use crate::mirror::go::{escape, one, Failure};

/// Fetches and stores `module@version` unless the bundle holds it already.
pub async fn version(
    proxy: &Proxy,
    bundle: &Bundle,
    module: &str,
    version: &str,
) -> Result<(), ProxyError> {
    let up = upstream(proxy)?.to_string();
    let (b, c) = (bundle.clone(), proxy.client.clone());
    let pin = Pinned {
        module: module.to_string(),
        version: version.to_string(),
        zip_h1: None,
        mod_h1: None,
    };
    proxy
        .artifact(&format!("go:{module}@{version}"), move || async move {
            let held = tokio::task::block_in_place(|| {
                crate::registry::go::version(&b, &pin.module, &pin.version)
            });
            if matches!(held, Ok(Some(_))) {
                return Ok(());
            }
            match one(&b, &pin, &up, &c).await {
                Ok(_) => Ok(()),
                Err(Failure::Fetch(e)) => Err(match ProxyError::of_fetch(e) {
                    ProxyError::NotFound(m) => {
                        ProxyError::NotFound(format!("{}@{}: {m}", pin.module, pin.version))
                    }
                    e => e,
                }),
                Err(Failure::Refused(why)) => Err(ProxyError::Refused(format!(
                    "refused what the upstream served for {}@{}: {why}",
                    pin.module, pin.version
                ))),
            }
        })
        .await
}

/// `<module>/@v/list` from the upstream (or its kept copy).
pub async fn list(proxy: &Proxy, bundle: &Bundle, module: &str) -> Result<Meta, ProxyError> {
    let url = format!("{}/{}/@v/list", upstream(proxy)?, escape(module));
    proxy
        .metadata(bundle, "go", &format!("{module}/@v/list"), url)
        .await
}

/// `<module>/@latest` from the upstream (or its kept copy).
pub async fn latest(proxy: &Proxy, bundle: &Bundle, module: &str) -> Result<Meta, ProxyError> {
    let url = format!("{}/{}/@latest", upstream(proxy)?, escape(module));
    proxy
        .metadata(bundle, "go", &format!("{module}/@latest"), url)
        .await
}

fn upstream(proxy: &Proxy) -> Result<&str, ProxyError> {
    proxy
        .upstream("go")
        .ok_or_else(|| ProxyError::NotFound("no Go upstream is configured".into()))
}
