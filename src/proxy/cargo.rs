//! Cargo through an upstream sparse index: index files and the index's `config.json` are
//! metadata (kept, refetched after the TTL); a crate the bundle lacks is downloaded through
//! the upstream's `dl`, checked against the index line's `cksum` and stored as
//! `nora mirror` stores it.

use super::{Proxy, ProxyError};
use crate::bundle::Bundle;
use crate::lockfiles::cargo_lock::Pinned;
use crate::registry::cargo::index_path;
use serde_json::Value;

/// The upstream's index file of `name` (or its kept copy).
pub async fn index(proxy: &Proxy, bundle: &Bundle, name: &str) -> Result<String, ProxyError> {
    let url = format!(
        "{}/{}",
        proxy.configured("cargo", "Cargo")?,
        index_path(name)
    );
    let m = proxy
        .metadata(
            bundle,
            "cargo",
            &name.to_ascii_lowercase(),
            url,
            None,
            valid_index,
        )
        .await
        .map_err(|e| e.about(name))?;
    String::from_utf8(m.body)
        .map_err(|e| ProxyError::Unavailable(format!("the kept index file of {name}: {e}")))
}

fn valid_index(body: &[u8], _: &str) -> Result<(), String> {
    let text = std::str::from_utf8(body).map_err(|_| "an index file that is not UTF-8")?;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("an index line is not JSON: {e}"))?;
        if v.get("vers").and_then(Value::as_str).is_none()
            || v.get("cksum").and_then(Value::as_str).is_none()
        {
            return Err("an index line without \"vers\" or \"cksum\"".into());
        }
    }
    Ok(())
}

fn valid_config(body: &[u8], _: &str) -> Result<(), String> {
    dl_of(body).map(|_| ())
}

fn dl_of(body: &[u8]) -> Result<String, String> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("dl")?.as_str().map(str::to_string))
        .ok_or_else(|| "a config.json without \"dl\"".to_string())
}

/// The upstream's lines and then the bundle's lines of versions the upstream lacks
/// (crates published to nora).
pub fn merged(upstream: &str, own: Option<&str>) -> String {
    let vers = |l: &str| {
        serde_json::from_str::<Value>(l)
            .ok()
            .and_then(|v| v.get("vers")?.as_str().map(str::to_string))
    };
    let mut out = String::new();
    let mut seen = std::collections::HashSet::new();
    for l in upstream.lines().filter(|l| !l.trim().is_empty()) {
        seen.extend(vers(l));
        out.push_str(l);
        out.push('\n');
    }
    for l in own.unwrap_or_default().lines() {
        if vers(l).is_some_and(|v| !seen.contains(&v)) {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// Fetches and stores `name` `version` unless the bundle holds it already.
pub async fn download(
    proxy: &Proxy,
    bundle: &Bundle,
    name: &str,
    version: &str,
) -> Result<(), ProxyError> {
    let lines = index(proxy, bundle, name).await?;
    let line = lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("vers").and_then(Value::as_str) == Some(version))
        .ok_or_else(|| {
            ProxyError::NotFound(format!(
                "{name}: the upstream index has no version {version}"
            ))
        })?;
    let field = |k: &str| line.get(k).and_then(Value::as_str).unwrap_or_default();
    let pin = Pinned {
        name: field("name").to_string(),
        version: version.to_string(),
        checksum: field("cksum").to_string(),
        source: String::new(),
    };
    let config = format!("{}/config.json", proxy.configured("cargo", "Cargo")?);
    let dl = proxy
        .metadata(bundle, "cargo", "config.json", config, None, valid_config)
        .await?;
    let dl = dl_of(&dl.body).map_err(ProxyError::Unavailable)?;
    let (b, c) = (bundle.clone(), proxy.client.clone());
    proxy
        .artifact(
            &format!("cargo:{}@{}", pin.name, pin.version),
            move || async move {
                let what = format!("{}@{}", pin.name, pin.version);
                let held = tokio::task::block_in_place(|| {
                    crate::registry::cargo::version(&b, &pin.name, &pin.version)
                });
                if held.is_ok_and(|h| h.crate_file.hex() == pin.checksum) {
                    return Ok(());
                }
                crate::mirror::cargo::one(&b, &pin, &dl, &c)
                    .await
                    .map(|_| ())
                    .map_err(|e| ProxyError::of_failure(e, &what))
            },
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_versions_follow_the_upstreams() {
        let up = "{\"name\":\"a\",\"vers\":\"1.0.0\",\"cksum\":\"x\"}\n";
        let own = "{\"name\":\"a\",\"vers\":\"1.0.0\",\"cksum\":\"y\"}\n{\"name\":\"a\",\"vers\":\"2.0.0\",\"cksum\":\"z\"}\n";
        assert_eq!(
            merged(up, Some(own)),
            "{\"name\":\"a\",\"vers\":\"1.0.0\",\"cksum\":\"x\"}\n{\"name\":\"a\",\"vers\":\"2.0.0\",\"cksum\":\"z\"}\n"
        );
        assert!(valid_index(own.as_bytes(), "").is_ok());
        assert!(valid_index(b"{\"vers\":\"1\"}\n", "").is_err());
        assert!(valid_index(b"<html>", "").is_err());
    }
}
