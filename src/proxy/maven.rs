//! Maven through an upstream repository: a release file the bundle lacks is downloaded,
//! checked against the upstream's `.sha1` and stored as `nora mirror` stores it;
//! `maven-metadata.xml` is metadata (kept, refetched after the TTL), answered with the
//! versions only the bundle holds added. SNAPSHOTs are answered from the bundle alone.

use super::{Proxy, ProxyError};
use crate::bundle::Bundle;
use crate::lockfiles::pom::Gav;
use crate::mirror::maven::RepoFile;
use crate::registry::maven::{parse_path, METADATA};

/// Fetches and stores the file at repository path `path` unless the bundle holds it.
pub async fn file(proxy: &Proxy, bundle: &Bundle, path: &str) -> Result<(), ProxyError> {
    reserved(path)?;
    let p = parse_path(path).map_err(|e| ProxyError::NotFound(e.to_string()))?;
    if p.version.ends_with("-SNAPSHOT") {
        return Err(ProxyError::NotFound(format!(
            "{path}: SNAPSHOTs are not pulled through; deploy them to nora"
        )));
    }
    let f = RepoFile {
        gav: Gav {
            group: p.group_id,
            artifact: p.artifact_id,
            version: p.version,
        },
        classifier: p.classifier,
        extension: p.extension,
    };
    if f.path() != path {
        return Err(ProxyError::NotFound(format!(
            "{path} is not a file name Maven gives {}",
            f.gav
        )));
    }
    let (up, b, c) = (
        proxy.configured("maven", "Maven")?.to_string(),
        bundle.clone(),
        proxy.client.clone(),
    );
    proxy
        .artifact(&format!("maven:{path}"), move || async move {
            let path = f.path();
            let held = tokio::task::block_in_place(|| crate::registry::maven::file(&b, &path));
            if matches!(held, Ok(Some(_))) {
                return Ok(());
            }
            crate::mirror::maven::one(&b, &f, &up, &c, None)
                .await
                .map(|_| ())
                .map_err(|e| ProxyError::of_failure(e, &path))
        })
        .await
}

/// The upstream's `maven-metadata.xml` of directory `dir` (or its kept copy).
pub async fn metadata(proxy: &Proxy, bundle: &Bundle, dir: &str) -> Result<String, ProxyError> {
    reserved(dir)?;
    let url = format!("{}/{dir}/{METADATA}", proxy.configured("maven", "Maven")?);
    let m = proxy
        .metadata(
            bundle,
            "maven",
            &format!("{dir}/{METADATA}"),
            url,
            None,
            valid,
        )
        .await
        .map_err(|e| e.about(dir))?;
    String::from_utf8(m.body)
        .map_err(|e| ProxyError::Unavailable(format!("the kept {dir}/{METADATA}: {e}")))
}

fn valid(body: &[u8], _: &str) -> Result<(), String> {
    let text = std::str::from_utf8(body).map_err(|_| "metadata that is not UTF-8")?;
    if text.contains("<metadata") {
        Ok(())
    } else {
        Err("not a maven-metadata.xml".into())
    }
}

/// The upstream's metadata with the versions only `own` (the bundle's) lists added.
pub fn merged(upstream: &str, own: Option<&str>) -> String {
    let versions = |xml: &str| -> Vec<String> {
        let Some(block) = xml
            .split_once("<versions>")
            .and_then(|(_, r)| r.split_once("</versions>"))
            .map(|(b, _)| b.to_string())
        else {
            return Vec::new();
        };
        block
            .split("<version>")
            .filter_map(|v| {
                v.split_once("</version>")
                    .map(|(v, _)| v.trim().to_string())
            })
            .collect()
    };
    let theirs = versions(upstream);
    let extra: Vec<String> = own
        .map(versions)
        .unwrap_or_default()
        .into_iter()
        .filter(|v| !theirs.contains(v))
        .collect();
    match upstream.rfind("</versions>") {
        Some(at) if !extra.is_empty() => {
            let mut out = upstream[..at].to_string();
            for v in extra {
                out.push_str(&format!("  <version>{v}</version>\n    "));
            }
            out.push_str(&upstream[at..]);
            out
        }
        _ => upstream.to_string(),
    }
}

/// A group whose first segment is `_upstream` would share keys with kept metadata.
fn reserved(path: &str) -> Result<(), ProxyError> {
    match path.split('/').next() {
        Some("_upstream") => Err(ProxyError::NotFound(format!(
            "{path}: a group beginning with _upstream is not pulled through"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_only_the_bundle_has_are_added() {
        let up = "<metadata><versioning><versions>\n      <version>1.0</version>\n    </versions></versioning></metadata>";
        let own = "<metadata><versioning><versions><version>1.0</version><version>1.1-local</version></versions></versioning></metadata>";
        let m = merged(up, Some(own));
        assert!(m.contains("<version>1.0</version>") && m.contains("<version>1.1-local</version>"));
        assert_eq!(m.matches("<version>1.0</version>").count(), 1);
        assert_eq!(merged(up, None), up);
        assert!(valid(up.as_bytes(), "").is_ok());
        assert!(valid(b"<html/>", "").is_err());
    }
}
