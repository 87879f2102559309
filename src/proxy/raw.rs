//! Raw files through an upstream base URL: a path the bundle lacks is fetched from
//! `<upstream>/<path>` and stored at the same path; when the upstream publishes a
//! `<path>.sha256` beside it, the file must match it.

use super::{Proxy, ProxyError};
use crate::bundle::Bundle;
use crate::upstream::FetchError;

/// Fetches and stores `path` unless the bundle holds it already.
pub async fn file(proxy: &Proxy, bundle: &Bundle, path: &str) -> Result<(), ProxyError> {
    let url = format!("{}/{}", proxy.configured("raw", "raw")?, encode(path));
    let (b, c, path) = (bundle.clone(), proxy.client.clone(), path.to_string());
    proxy
        .artifact(&format!("raw:{path}"), move || async move {
            let held = tokio::task::block_in_place(|| crate::registry::raw::get(&b, &path));
            if matches!(held, Ok(Some(_))) {
                return Ok(());
            }
            let want = match c.bytes(&format!("{url}.sha256"), 4096).await {
                Ok(body) => Some(sidecar(&body).map_err(|why| {
                    ProxyError::Refused(format!(
                        "refused what the upstream served for {path}: {url}.sha256 {why}"
                    ))
                })?),
                Err(FetchError::NotFound(_)) => None,
                // the checksum is asked for first: name the file the client wants
                Err(e) => {
                    return Err(match ProxyError::of_fetch(e) {
                        ProxyError::Unavailable(m) => ProxyError::Unavailable(format!(
                            "{path}: {m} (while fetching its .sha256)"
                        )),
                        other => other,
                    })
                }
            };
            crate::mirror::raw::fetch(&b, &url, &path, want.as_deref(), &c)
                .await
                .map(|_| ())
                .map_err(|e| ProxyError::of_failure(e, &path))
        })
        .await
}

/// The hex SHA-256 a `.sha256` file gives (`HEX` or `HEX  name`).
fn sidecar(body: &[u8]) -> Result<String, String> {
    let text = String::from_utf8_lossy(body);
    let hex = text.split_whitespace().next().unwrap_or_default();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err("is not a SHA-256 checksum".into())
    }
}

fn encode(path: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    percent_encoding::utf8_percent_encode(path, SET).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars() {
        let h = "AB".repeat(32);
        assert_eq!(
            sidecar(format!("{h}  tool.tgz\n").as_bytes()).unwrap(),
            h.to_ascii_lowercase()
        );
        assert!(sidecar(b"<html>").is_err());
        assert_eq!(encode("a b/c+d.txt"), "a%20b/c%2Bd.txt");
    }
}
