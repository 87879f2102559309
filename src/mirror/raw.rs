//! Mirrors files by URL, each pinned by its SHA-256, into `/raw/` paths.

use super::Watch;
use super::{Failure, Options, Report};
use crate::bundle::Bundle;
use crate::ecosystems::AddOptions;
use crate::upstream::Client;
use std::sync::Arc;

/// One file to fetch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pinned {
    /// Where it is.
    pub url: String,
    /// Its hex SHA-256.
    pub sha256: String,
    /// Path under `/raw/` (default: the URL's host and path).
    #[serde(default)]
    pub path: Option<String>,
}

impl Pinned {
    /// Parses `URL#sha256=HEX`.
    pub fn parse(spec: &str) -> crate::Result<Pinned> {
        let (url, sha) = spec
            .rsplit_once("#sha256=")
            .ok_or_else(|| crate::Error::Other(format!("{spec}: expected URL#sha256=HEX")))?;
        let p = Pinned {
            url: url.to_string(),
            sha256: sha.to_ascii_lowercase(),
            path: None,
        };
        p.check()?;
        Ok(p)
    }

    /// Checks the URL, the hash and the path.
    pub fn check(&self) -> crate::Result<()> {
        let bad = |reason: &str| crate::Error::Other(format!("raw file {}: {reason}", self.url));
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("sha256 must be 64 hex digits"));
        }
        let url = reqwest::Url::parse(&self.url).map_err(|e| bad(&format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("only http and https URLs can be fetched"));
        }
        crate::ecosystems::raw::validate_path(&self.target())
    }

    /// The path under `/raw/` it is stored at.
    pub fn target(&self) -> String {
        self.path
            .clone()
            .unwrap_or_else(|| match reqwest::Url::parse(&self.url) {
                Ok(u) => format!("{}{}", u.host_str().unwrap_or(""), u.path()),
                Err(_) => self.url.clone(),
            })
    }
}

fn present(b: &Bundle, p: &Pinned) -> bool {
    matches!(crate::registry::raw::get(b, &p.target()), Ok(Some(f)) if f.digest.hex() == p.sha256)
}

/// Mirrors every pinned file.
pub async fn mirror(
    bundle: Arc<Bundle>,
    pins: Vec<Pinned>,
    client: &Client,
    opts: &Options,
    watch: &dyn Watch,
) -> Report {
    let artifacts = pins.into_iter().map(|p| (p.url.clone(), p)).collect();
    let b = bundle.clone();
    let client = client.clone();
    super::run(
        "raw",
        artifacts,
        opts,
        watch,
        move |p| present(&b, p),
        move |p| {
            let (b, c) = (bundle.clone(), client.clone());
            async move { one(&b, &p, &c).await.map(Some) }
        },
    )
    .await
}

async fn one(b: &Bundle, p: &Pinned, c: &Client) -> Result<u64, String> {
    fetch(b, &p.url, &p.target(), Some(&p.sha256), c)
        .await
        .map_err(|e| e.to_string())
}

/// Downloads `url`, checks it against `sha256` when one is given and stores it at raw path
/// `target`; returns the bytes fetched.
pub(crate) async fn fetch(
    b: &Bundle,
    url: &str,
    target: &str,
    sha256: Option<&str>,
    c: &Client,
) -> Result<u64, Failure> {
    let mut file = super::temp_file(b, "mirror-raw-", ".part")?;
    let (bytes, got) = c.to_file_sha256(url, file.as_file_mut()).await?;
    if let Some(want) = sha256.filter(|w| *w != got) {
        return Err(Failure::Refused(format!(
            "hash mismatch for {url}: expected sha256:{want}, the download is sha256:{got}"
        )));
    }
    let opts = AddOptions {
        path: Some(target.to_string()),
        ..Default::default()
    };
    tokio::task::block_in_place(|| -> Result<u64, Failure> {
        super::keep(b, || {
            crate::ecosystems::raw::import(b, file.path(), &opts).map_err(|e| e.to_string())
        })?;
        Ok(bytes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let h = "A".repeat(64);
        let p = Pinned::parse(&format!(
            "https://example.com/dl/tool-1.0.tar.gz#sha256={h}"
        ))
        .unwrap();
        assert_eq!(p.sha256, "a".repeat(64));
        assert_eq!(p.target(), "example.com/dl/tool-1.0.tar.gz");
        assert!(Pinned::parse("https://example.com/x").is_err());
        assert!(Pinned::parse("https://example.com/x#sha256=12").is_err());
        assert!(Pinned::parse(&format!("ftp://example.com/x#sha256={h}")).is_err());
        let p = Pinned {
            url: "https://e/x".into(),
            sha256: "a".repeat(64),
            path: Some("../x".into()),
        };
        assert!(p.check().is_err());
    }
}
