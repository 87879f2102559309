//! Mirrors the npm packages a package-lock.json or yarn.lock pins: each tarball comes from
//! the upstream registry (its standard `<name>/-/<file>.tgz` URL, or the one its packument
//! gives), is checked against the lock's `integrity` (or, when the lock has none, the
//! upstream's), and is stored with its own package.json as the version's manifest.

use super::Watch;
use super::{Failure, Options, Outcome, Report};
use crate::bundle::Bundle;
use crate::lockfiles::npm_lock::Pinned;
use crate::upstream::{Client, FetchError};
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::Arc;

/// Abbreviated packuments are all a mirror needs from the metadata.
const ABBREVIATED: &str = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8";

fn present(b: &Bundle, p: &Pinned) -> bool {
    let file = crate::registry::npm::tarball_name(&p.name, &p.version);
    matches!(crate::registry::npm::tarball(b, &p.name, &file), Ok(Some(v))
        if p.integrity.as_deref().is_none_or(|sri| check(sri, &v.integrity, &v.shasum).is_ok()))
}

/// Mirrors every pinned package from the registry at `upstream`.
pub async fn mirror(
    bundle: Arc<Bundle>,
    pins: Vec<Pinned>,
    upstream: &str,
    client: &Client,
    opts: &Options,
    watch: &dyn Watch,
) -> Report {
    let upstream = upstream.trim_end_matches('/').to_string();
    let b2 = bundle.clone();
    let artifacts = pins
        .into_iter()
        .map(|p| (format!("{}@{}", p.name, p.version), p))
        .collect();
    let b = bundle.clone();
    let client = client.clone();
    let mut report = super::run(
        "npm",
        artifacts,
        opts,
        watch,
        move |p| present(&b, p),
        move |p| {
            let (b, c, up) = (bundle.clone(), client.clone(), upstream.clone());
            async move {
                one(&b, &p, &up, &c)
                    .await
                    .map(Some)
                    .map_err(|e| e.to_string())
            }
        },
    )
    .await;
    // `latest` moves once all versions are in, to the highest one added per package, so
    // that concurrent downloads cannot leave it on a lower version; packages in parallel
    let mut highest: HashMap<&str, &str> = HashMap::new();
    for item in report.items.iter().filter(|i| i.outcome == Outcome::Added) {
        if let Some((name, version)) = item.name.rsplit_once('@') {
            let e = highest.entry(name).or_insert(version);
            let newer = |a: &str, b: &str| matches!((semver::Version::parse(a), semver::Version::parse(b)), (Ok(a), Ok(b)) if a > b);
            if newer(version, e) {
                *e = version;
            }
        }
    }
    let failed: HashMap<String, String> = tokio::task::block_in_place(|| {
        use rayon::prelude::*;
        highest
            .into_par_iter()
            .filter_map(|(name, version)| {
                let moved = (|| -> crate::Result<()> {
                    let _lock = b2.lock_shared()?;
                    if let Some(tag) = crate::ecosystems::npm::latest_tag(&b2, name, version)? {
                        crate::ecosystems::commit_ref(&b2, &tag, "mirror")?;
                    }
                    Ok(())
                })();
                moved
                    .err()
                    .map(|e| (format!("{name}@{version}"), e.to_string()))
            })
            .collect()
    });
    for item in report.items.iter_mut() {
        if let Some(e) = failed.get(&item.name) {
            item.outcome = Outcome::Failed;
            item.error = Some(format!(
                "stored, but its latest dist-tag could not be set: {e}"
            ));
        }
    }
    report
}

/// Checks a tarball's SHA-512 integrity and SHA-1 shasum against an SRI string: every
/// listed hash nora computes must match, and at least one must be listed.
pub fn check(sri: &str, sha512_sri: &str, sha1_hex: &str) -> Result<(), String> {
    let sha1 = format!(
        "sha1-{}",
        base64::engine::general_purpose::STANDARD.encode(hex::decode(sha1_hex).unwrap_or_default())
    );
    let mut checked = 0;
    for want in sri.split_whitespace() {
        let want = want.split('?').next().unwrap_or(want);
        let ours = match want.split_once('-').map(|(alg, _)| alg) {
            Some("sha512") => sha512_sri,
            Some("sha1") => &sha1,
            _ => continue,
        };
        if want != ours {
            return Err(format!("expected {want}, the tarball is {ours}"));
        }
        checked += 1;
    }
    if checked == 0 {
        return Err(format!("integrity {sri:?} names no sha512 or sha1 hash"));
    }
    Ok(())
}

/// The upstream's tarball URL and integrity for `name@version`, from its abbreviated
/// packument.
async fn from_packument(
    up: &str,
    p: &Pinned,
    c: &Client,
) -> Result<(String, Option<String>), Failure> {
    let url = format!("{up}/{}", p.name.replace('/', "%2f"));
    let (body, _) = c
        .bytes_as(&url, Some(ABBREVIATED), 256 << 20)
        .await
        .map_err(|e| match e {
            FetchError::NotFound(_) => {
                Failure::Missing(format!("{} does not exist upstream ({url})", p.name))
            }
            e => e.into(),
        })?;
    let doc: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("{url}: not a packument: {e}"))?;
    let dist = doc
        .get("versions")
        .and_then(|v| v.get(&p.version))
        .and_then(|v| v.get("dist"))
        .ok_or_else(|| {
            Failure::Missing(format!(
                "{}@{} does not exist upstream ({url})",
                p.name, p.version
            ))
        })?;
    let tarball = dist
        .get("tarball")
        .and_then(|t| t.as_str())
        .ok_or_else(|| format!("{url}: version {} has no dist.tarball", p.version))?;
    let integrity = dist
        .get("integrity")
        .and_then(|t| t.as_str())
        .map(str::to_string)
        .or_else(|| {
            let sha1 = hex::decode(dist.get("shasum")?.as_str()?).ok()?;
            Some(format!(
                "sha1-{}",
                base64::engine::general_purpose::STANDARD.encode(sha1)
            ))
        });
    Ok((tarball.to_string(), integrity))
}

/// Fetches `p`'s tarball from the registry at `up`, checks it against the pinned
/// integrity (else the upstream packument's) and stores it; returns the bytes fetched.
pub(crate) async fn one(b: &Bundle, p: &Pinned, up: &str, c: &Client) -> Result<u64, Failure> {
    let mut file = super::temp_file(b, "mirror-npm-", ".tgz")?;
    let direct = format!(
        "{up}/{}/-/{}",
        p.name,
        crate::registry::npm::tarball_name(&p.name, &p.version)
    );
    // with a pinned integrity the standard URL is enough; else the packument must vouch
    let (bytes, expected) = match &p.integrity {
        Some(sri) => match c.to_file(&direct, file.as_file_mut()).await {
            Ok(n) => (n, sri.clone()),
            Err(FetchError::NotFound(_)) => {
                let (url, _) = from_packument(up, p, c).await?;
                let n = c.to_file(&url, file.as_file_mut()).await?;
                (n, sri.clone())
            }
            Err(e) => return Err(e.into()),
        },
        None => {
            let (url, integrity) = from_packument(up, p, c).await?;
            let integrity = integrity.ok_or_else(|| {
                format!(
                    "{}@{}: neither the lockfile nor the upstream gives an integrity",
                    p.name, p.version
                )
            })?;
            let n = c.to_file(&url, file.as_file_mut()).await?;
            (n, integrity)
        }
    };
    let path = file.path().to_path_buf();
    tokio::task::block_in_place(|| -> Result<u64, Failure> {
        let i = crate::ecosystems::npm::inspect(&path)
            .map_err(|e| format!("{}@{}: {e}", p.name, p.version))?;
        check(&expected, &i.integrity, &i.shasum)
            .map_err(|e| format!("hash mismatch for {}@{}: {e}", p.name, p.version))?;
        if i.name != p.name || i.version != p.version {
            return Err(Failure::Refused(format!(
                "the upstream's tarball for {}@{} holds {}@{}",
                p.name, p.version, i.name, i.version
            )));
        }
        super::keep(b, || {
            crate::ecosystems::npm::store(b, &path, i)
                .map(|r| vec![r])
                .map_err(|e| e.to_string())
        })?;
        Ok(bytes)
    })
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn integrity_strings() {
        let sha1_hex = "4b8a3f0f9e1b5a1c2d3e4f5a6b7c8d9e0f1a2b3c";
        let sha1 = "sha1-S4o/D54bWhwtPk9aa3yNng8aKzw=";
        assert!(check("sha512-AAA", "sha512-AAA", sha1_hex).is_ok());
        assert!(check(sha1, "sha512-AAA", sha1_hex).is_ok());
        assert!(check(&format!("sha512-AAA {sha1}"), "sha512-AAA", sha1_hex).is_ok());
        assert!(check("sha512-BBB", "sha512-AAA", sha1_hex)
            .unwrap_err()
            .contains("expected sha512-BBB"));
        assert!(check("sha512-AAA sha1-x", "sha512-AAA", sha1_hex).is_err());
        assert!(check("sha384-AAA", "sha512-AAA", sha1_hex)
            .unwrap_err()
            .contains("no sha512"));
    }
}
