//! Mirrors the registry crates a Cargo.lock pins: each `.crate` is downloaded from its
//! registry (crates.io's through the configured sparse index), checked against the lock's
//! SHA-256, and stored with the index line built from its own Cargo.toml.

use super::Watch;
use super::{Failure, Options, Report};
use crate::bundle::Bundle;
use crate::lockfiles::cargo_lock::{Pinned, CRATES_IO};
use crate::upstream::Client;
use std::collections::HashMap;
use std::sync::Arc;

/// The download URL of a crate from a registry's `dl` setting.
pub fn download_url(dl: &str, name: &str, version: &str, cksum: &str) -> String {
    let markers = [
        "{crate}",
        "{version}",
        "{prefix}",
        "{lowerprefix}",
        "{sha256-checksum}",
    ];
    if !markers.iter().any(|m| dl.contains(m)) {
        return format!("{}/{name}/{version}/download", dl.trim_end_matches('/'));
    }
    let prefix = match name.len() {
        1 => "1".to_string(),
        2 => "2".to_string(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[..2], &name[2..4]),
    };
    dl.replace("{crate}", name)
        .replace("{version}", version)
        .replace("{lowerprefix}", &prefix.to_ascii_lowercase())
        .replace("{prefix}", &prefix)
        .replace("{sha256-checksum}", cksum)
}

/// The sparse index a lock `source` is fetched from: crates.io's goes to `crates_io_index`.
fn index_of(source: &str, crates_io_index: &str) -> Result<String, String> {
    if source == CRATES_IO {
        return Ok(crates_io_index.trim_start_matches("sparse+").to_string());
    }
    source
        .strip_prefix("sparse+")
        .map(str::to_string)
        .ok_or_else(|| format!("{source} is a git registry index; give its sparse index instead"))
}

/// Mirrors every pinned crate.
pub async fn mirror(
    bundle: Arc<Bundle>,
    pins: Vec<Pinned>,
    crates_io_index: &str,
    client: &Client,
    opts: &Options,
    watch: &dyn Watch,
) -> Report {
    // each registry's `dl`, read once
    let mut dls: HashMap<String, Result<String, String>> = HashMap::new();
    for p in &pins {
        let index = match index_of(&p.source, crates_io_index) {
            Ok(i) => i,
            Err(e) => {
                dls.insert(p.source.clone(), Err(e));
                continue;
            }
        };
        if dls.contains_key(&p.source) || opts.dry_run {
            continue;
        }
        let url = format!("{}/config.json", index.trim_end_matches('/'));
        let dl = match client.bytes(&url, 1 << 20).await {
            Ok(b) => serde_json::from_slice::<serde_json::Value>(&b)
                .ok()
                .and_then(|v| v.get("dl")?.as_str().map(str::to_string))
                .ok_or_else(|| format!("{url} has no \"dl\"")),
            Err(e) => Err(e.to_string()),
        };
        dls.insert(p.source.clone(), dl);
    }
    let artifacts = pins
        .into_iter()
        .map(|p| (format!("{}@{}", p.name, p.version), p))
        .collect();
    let b = bundle.clone();
    let client = client.clone();
    super::run(
        "cargo",
        artifacts,
        opts,
        watch,
        move |p: &Pinned| {
            matches!(crate::registry::cargo::version(&b, &p.name, &p.version),
                Ok(c) if c.crate_file.hex() == p.checksum)
        },
        move |p| {
            let (b, c) = (bundle.clone(), client.clone());
            let dl = dls.get(&p.source).cloned();
            async move {
                match dl {
                    Some(Ok(dl)) => one(&b, &p, &dl, &c)
                        .await
                        .map(Some)
                        .map_err(|e| e.to_string()),
                    Some(Err(e)) => Err(e),
                    None => Err("no registry for its source".into()),
                }
            }
        },
    )
    .await
}

/// Fetches one crate through the registry's `dl` template, checks it against the pinned
/// SHA-256 and stores it; returns the bytes fetched.
pub(crate) async fn one(b: &Bundle, p: &Pinned, dl: &str, c: &Client) -> Result<u64, Failure> {
    let mut file = super::temp_file(b, "mirror-cargo-", ".crate")?;
    let url = download_url(dl, &p.name, &p.version, &p.checksum);
    let bytes = c.to_file(&url, file.as_file_mut()).await?;
    let path = file.path().to_path_buf();
    tokio::task::block_in_place(|| -> Result<u64, Failure> {
        let i = crate::ecosystems::cargo::inspect(&path)
            .map_err(|e| format!("{}@{}: {e}", p.name, p.version))?;
        if i.sha256.hex() != p.checksum {
            return Err(Failure::Refused(format!(
                "hash mismatch for {}@{}: Cargo.lock says {}, the upstream's crate hashes to {}",
                p.name,
                p.version,
                p.checksum,
                i.sha256.hex()
            )));
        }
        if i.name != p.name || i.version != p.version {
            return Err(Failure::Refused(format!(
                "{url} holds {} {}, not {} {}",
                i.name, i.version, p.name, p.version
            )));
        }
        super::keep(b, || {
            crate::ecosystems::cargo::store(b, &path, i)
                .map(|r| vec![r])
                .map_err(|e| e.to_string())
        })?;
        Ok(bytes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dl_templates() {
        assert_eq!(
            download_url("https://x/api/v1/crates", "serde", "1.0.0", "ab"),
            "https://x/api/v1/crates/serde/1.0.0/download"
        );
        assert_eq!(
            download_url(
                "https://x/{prefix}/{crate}-{version}.crate",
                "Serde",
                "1.0.0",
                "ab"
            ),
            "https://x/Se/rd/Serde-1.0.0.crate"
        );
        assert_eq!(
            download_url(
                "https://x/{lowerprefix}/{crate}/{sha256-checksum}",
                "abc",
                "1",
                "ff"
            ),
            "https://x/3/a/abc/ff"
        );
    }
}
