//! Go modules through an upstream GOPROXY: a version is fetched whole (`.info`, `.mod`,
//! `.zip`, checked as `nora mirror` checks a module it has no go.sum line for: the zip is
//! a well-formed module zip of that module and version, and its go.mod names the module)
//! and stored as a `go-version`; `@v/list` and `@latest` are metadata. The go command
//! checks the hashes against its checksum database itself.

use super::{Meta, Proxy, ProxyError};
use crate::bundle::Bundle;
use crate::lockfiles::go_sum::Pinned;
use crate::mirror::go::{escape, one};

/// Fetches and stores `module@version` unless the bundle holds it already.
pub async fn version(
    proxy: &Proxy,
    bundle: &Bundle,
    module: &str,
    version: &str,
) -> Result<(), ProxyError> {
    let up = proxy.configured("go", "Go")?.to_string();
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
            let what = format!("{}@{}", pin.module, pin.version);
            one(&b, &pin, &up, &c)
                .await
                .map(|_| ())
                .map_err(|e| ProxyError::of_failure(e, &what))
        })
        .await
}

/// `<module>/@v/list` from the upstream (or its kept copy).
pub async fn list(proxy: &Proxy, bundle: &Bundle, module: &str) -> Result<Meta, ProxyError> {
    let url = format!(
        "{}/{}/@v/list",
        proxy.configured("go", "Go")?,
        escape(module)
    );
    proxy
        .metadata(bundle, "go", &format!("{module}/@v/list"), url, None, text)
        .await
        .map_err(|e| e.about(module))
}

/// `<module>/@latest` from the upstream (or its kept copy).
pub async fn latest(proxy: &Proxy, bundle: &Bundle, module: &str) -> Result<Meta, ProxyError> {
    let url = format!(
        "{}/{}/@latest",
        proxy.configured("go", "Go")?,
        escape(module)
    );
    proxy
        .metadata(bundle, "go", &format!("{module}/@latest"), url, None, info)
        .await
        .map_err(|e| e.about(module))
}

fn text(body: &[u8], _: &str) -> Result<(), String> {
    std::str::from_utf8(body)
        .map(|_| ())
        .map_err(|_| "a version list that is not text".into())
}

fn info(body: &[u8], _: &str) -> Result<(), String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    match v.get("Version") {
        Some(serde_json::Value::String(_)) => Ok(()),
        _ => Err("JSON without a \"Version\"".into()),
    }
}
