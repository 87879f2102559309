//! npm through an upstream registry: a packument is metadata (kept, refetched after the
//! TTL) and is answered with its tarball URLs pointing at nora; a tarball the bundle lacks
//! is fetched, checked against the packument's `dist.integrity` (else its `shasum`) and
//! stored as `nora mirror` stores it, and `latest` follows the highest version stored.

use super::{Proxy, ProxyError};
use crate::bundle::Bundle;
use crate::lockfiles::npm_lock::Pinned;
use crate::registry::npm::{self as store, tarball_name, Package};
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// The upstream's full packument of `name` (or its kept copy).
pub async fn packument(proxy: &Proxy, bundle: &Bundle, name: &str) -> Result<Value, ProxyError> {
    let url = format!(
        "{}/{}",
        proxy.configured("npm", "npm")?,
        name.replace('/', "%2f")
    );
    let m = proxy
        .metadata(bundle, "npm", name, url, Some("application/json"), valid)
        .await
        .map_err(|e| e.about(name))?;
    serde_json::from_slice(&m.body)
        .map_err(|e| ProxyError::Unavailable(format!("the kept packument of {name}: {e}")))
}

fn valid(body: &[u8], _: &str) -> Result<(), String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    match v.get("versions") {
        Some(Value::Object(_)) => Ok(()),
        _ => Err("a packument without \"versions\"".into()),
    }
}

/// Fetches and stores the version of `name` whose tarball is `file`, unless the bundle
/// holds it already.
pub async fn tarball(
    proxy: &Proxy,
    bundle: &Bundle,
    name: &str,
    file: &str,
) -> Result<(), ProxyError> {
    let doc = packument(proxy, bundle, name).await?;
    let (version, integrity) = doc
        .get("versions")
        .and_then(Value::as_object)
        .and_then(|vs| {
            vs.iter()
                .find(|(v, _)| tarball_name(name, v) == file)
                .map(|(v, d)| (v.clone(), integrity(d)))
        })
        .ok_or_else(|| {
            ProxyError::NotFound(format!("{name}: the upstream lists no tarball {file}"))
        })?;
    let integrity = integrity.ok_or_else(|| {
        ProxyError::Refused(format!(
            "{name}@{version}: the upstream's packument gives no integrity or shasum to check it by"
        ))
    })?;
    let pin = Pinned {
        name: name.to_string(),
        version,
        integrity: Some(integrity),
    };
    let (up, b, c) = (
        proxy.configured("npm", "npm")?.to_string(),
        bundle.clone(),
        proxy.client.clone(),
    );
    proxy
        .artifact(
            &format!("npm:{}@{}", pin.name, pin.version),
            move || async move {
                let what = format!("{}@{}", pin.name, pin.version);
                let held = tokio::task::block_in_place(|| {
                    store::tarball(&b, &pin.name, &tarball_name(&pin.name, &pin.version))
                });
                if matches!(held, Ok(Some(_))) {
                    return Ok(());
                }
                crate::mirror::npm::one(&b, &pin, &up, &c)
                    .await
                    .map_err(|e| ProxyError::of_failure(e, &what))?;
                tokio::task::block_in_place(|| -> crate::Result<()> {
                    let _lock = b.lock_shared()?;
                    if let Some(tag) =
                        crate::ecosystems::npm::latest_tag(&b, &pin.name, &pin.version)?
                    {
                        crate::ecosystems::commit_ref(&b, &tag, "proxy")?;
                    }
                    Ok(())
                })
                .map_err(|e| {
                    ProxyError::Unavailable(format!(
                        "{what}: stored, but its latest dist-tag could not be set: {e}"
                    ))
                })
            },
        )
        .await
}

/// A version entry's integrity, or its SHA-1 `shasum` in SRI form.
fn integrity(doc: &Value) -> Option<String> {
    let dist = doc.get("dist")?;
    if let Some(i) = dist.get("integrity").and_then(Value::as_str) {
        return Some(i.to_string());
    }
    let sha1 = hex::decode(dist.get("shasum")?.as_str()?).ok()?;
    Some(format!(
        "sha1-{}",
        base64::engine::general_purpose::STANDARD.encode(sha1)
    ))
}

/// The packument to answer: the upstream's, tarball URLs below `tarball_base` (…/npm),
/// with the versions only the bundle holds (published to nora) added; abbreviated when
/// asked.
pub fn answer(
    name: &str,
    mut upstream: Value,
    own: Option<&Package>,
    tarball_base: &str,
    abbreviated: bool,
) -> Value {
    let mut versions = match upstream.get_mut("versions").map(Value::take) {
        Some(Value::Object(v)) => v,
        _ => Map::new(),
    };
    for (v, doc) in versions.iter_mut() {
        if let Some(dist) = doc.get_mut("dist").and_then(Value::as_object_mut) {
            dist.insert(
                "tarball".into(),
                json!(format!("{tarball_base}/{name}/-/{}", tarball_name(name, v))),
            );
        }
    }
    if let Some(p) = own {
        if let Some(Value::Object(mine)) = store::packument(name, p, tarball_base)
            .get_mut("versions")
            .map(Value::take)
        {
            for (v, doc) in mine {
                versions.entry(v).or_insert(doc);
            }
        }
    }
    if !abbreviated {
        upstream["versions"] = Value::Object(versions);
        return upstream;
    }
    let versions: Map<String, Value> = versions
        .into_iter()
        .map(|(v, doc)| (v, Value::Object(store::abbreviate_version(&doc))))
        .collect();
    let modified = upstream
        .get("modified")
        .or_else(|| upstream.get("time").and_then(|t| t.get("modified")))
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "name": name,
        "modified": modified,
        "dist-tags": upstream.get("dist-tags").cloned().unwrap_or_else(|| json!({})),
        "versions": versions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarball_urls_point_at_nora_and_abbreviation_keeps_what_installs_need() {
        let up = json!({
            "name": "@a/left", "dist-tags": {"latest": "1.0.0"},
            "time": {"modified": "2026-01-01T00:00:00Z"},
            "versions": {"1.0.0": {
                "name": "@a/left", "version": "1.0.0", "readme": "long",
                "dependencies": {"x": "^1"},
                "scripts": {"postinstall": "node x"},
                "dist": {"tarball": "https://up/@a/left/-/left-1.0.0.tgz", "integrity": "sha512-A"}
            }}
        });
        let full = answer("@a/left", up.clone(), None, "http://n/npm", false);
        assert_eq!(
            full["versions"]["1.0.0"]["dist"]["tarball"],
            "http://n/npm/@a/left/-/left-1.0.0.tgz"
        );
        assert_eq!(full["versions"]["1.0.0"]["readme"], "long");
        let short = answer("@a/left", up, None, "http://n/npm", true);
        let v = &short["versions"]["1.0.0"];
        assert_eq!(v["dist"]["integrity"], "sha512-A");
        assert_eq!(v["dependencies"]["x"], "^1");
        assert_eq!(v["hasInstallScript"], true);
        assert!(v.get("readme").is_none());
        assert_eq!(short["modified"], "2026-01-01T00:00:00Z");
        assert_eq!(short["dist-tags"]["latest"], "1.0.0");
    }

    #[test]
    fn shasum_stands_in_for_a_missing_integrity() {
        let d = json!({"dist": {"shasum": "4b8a3f0f9e1b5a1c2d3e4f5a6b7c8d9e0f1a2b3c"}});
        assert_eq!(integrity(&d).unwrap(), "sha1-S4o/D54bWhwtPk9aa3yNng8aKzw=");
        assert_eq!(integrity(&json!({"dist": {}})), None);
    }
}
