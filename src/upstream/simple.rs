//! Reading a PyPI "simple" project page from an upstream index: PEP 691 JSON when the
//! upstream offers it, else PEP 503 HTML, into the list of files with their URLs (resolved
//! against the page), SHA-256 hashes and whether a core metadata file (PEP 658/714) is
//! offered beside each.

/// The JSON form, asked for first; HTML is the fallback every index speaks.
pub const ACCEPT: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";

/// One file a project page lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexFile {
    /// File name.
    pub filename: String,
    /// Absolute download URL, without fragment.
    pub url: String,
    /// Hex SHA-256 the index publishes, if any.
    pub sha256: Option<String>,
    /// The core metadata file at `<url>.metadata` (PEP 658), when the index offers one.
    pub metadata: Option<CoreMetadataFile>,
    /// `Requires-Python`, when the index gives it.
    pub requires_python: Option<String>,
    /// Why the file is yanked (PEP 592; empty for no reason), when it is.
    pub yanked: Option<String>,
    /// Size in bytes, when the index gives it (PEP 700).
    pub size: Option<u64>,
}

/// A core metadata file an index offers beside a distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMetadataFile {
    /// Its URL: the distribution's URL with `.metadata` appended.
    pub url: String,
    /// Hex SHA-256 of the metadata file, when the index gives one.
    pub sha256: Option<String>,
}

impl CoreMetadataFile {
    fn beside(url: &str, sha256: Option<String>) -> Self {
        CoreMetadataFile {
            url: format!("{url}.metadata"),
            sha256,
        }
    }
}

/// Reads the PEP 691 value of `core-metadata` (or the older `dist-info-metadata`):
/// `true`, or an object of hashes; `false` and absence mean none.
fn json_metadata(f: &serde_json::Value, url: &str) -> Option<CoreMetadataFile> {
    let v = f
        .get("core-metadata")
        .or_else(|| f.get("dist-info-metadata"))?;
    match v {
        serde_json::Value::Bool(true) => Some(CoreMetadataFile::beside(url, None)),
        serde_json::Value::Object(h) => Some(CoreMetadataFile::beside(
            url,
            h.get("sha256")
                .and_then(|s| s.as_str())
                .map(str::to_ascii_lowercase),
        )),
        _ => None,
    }
}

/// Reads the PEP 503 attribute value (`true` or `sha256=HEX`).
fn html_metadata(tag: &str, url: &str) -> Option<CoreMetadataFile> {
    let v = attribute(tag, "data-core-metadata")
        .or_else(|| attribute(tag, "data-dist-info-metadata"))?;
    let v = unescape(&v);
    if v.eq_ignore_ascii_case("true") {
        return Some(CoreMetadataFile::beside(url, None));
    }
    let (algo, hex) = v.split_once('=')?;
    Some(CoreMetadataFile::beside(
        url,
        algo.eq_ignore_ascii_case("sha256")
            .then(|| hex.to_ascii_lowercase()),
    ))
}

/// Parses a project page fetched from `page_url`.
pub fn parse(body: &[u8], content_type: &str, page_url: &str) -> Result<Vec<IndexFile>, String> {
    let base = reqwest::Url::parse(page_url).map_err(|e| format!("{page_url}: {e}"))?;
    let resolve = |href: &str| -> Result<(String, Option<String>), String> {
        let mut u = base
            .join(href)
            .map_err(|e| format!("{page_url}: bad link {href:?}: {e}"))?;
        let sha = u.fragment().and_then(|f| {
            f.split('&')
                .find_map(|kv| kv.strip_prefix("sha256="))
                .map(str::to_ascii_lowercase)
        });
        u.set_fragment(None);
        Ok((u.to_string(), sha))
    };
    let json = content_type.contains("json") || body.first() == Some(&b'{');
    let mut out = Vec::new();
    if json {
        let doc: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| format!("{page_url}: not a PEP 691 project page: {e}"))?;
        let files = doc
            .get("files")
            .and_then(|f| f.as_array())
            .ok_or_else(|| format!("{page_url}: a PEP 691 page without \"files\""))?;
        for f in files {
            let (Some(filename), Some(href)) = (
                f.get("filename").and_then(|v| v.as_str()),
                f.get("url").and_then(|v| v.as_str()),
            ) else {
                return Err(format!("{page_url}: a file entry lacks filename or url"));
            };
            let (url, frag_sha) = resolve(href)?;
            let sha256 = f
                .get("hashes")
                .and_then(|h| h.get("sha256"))
                .and_then(|h| h.as_str())
                .map(str::to_ascii_lowercase)
                .or(frag_sha);
            let metadata = json_metadata(f, &url);
            let yanked = match f.get("yanked") {
                Some(serde_json::Value::String(r)) => Some(r.clone()),
                Some(serde_json::Value::Bool(true)) => Some(String::new()),
                _ => None,
            };
            out.push(IndexFile {
                filename: filename.to_string(),
                url,
                sha256,
                metadata,
                requires_python: f
                    .get("requires-python")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                yanked,
                size: f.get("size").and_then(|v| v.as_u64()),
            });
        }
        return Ok(out);
    }
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("<a ") {
        let start = at + i;
        let Some(tag_end) = lower[start..].find('>').map(|j| start + j) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</a>").map(|j| tag_end + j) else {
            break;
        };
        let tag = &text[start..tag_end];
        if let Some(href) = attribute(tag, "href") {
            let (url, sha256) = resolve(&unescape(&href))?;
            let filename = unescape(text[tag_end + 1..close].trim());
            let metadata = html_metadata(tag, &url);
            let yanked = attribute(tag, "data-yanked")
                .map(|r| unescape(&r))
                .or_else(|| {
                    tag.to_ascii_lowercase()
                        .split_ascii_whitespace()
                        .any(|a| a == "data-yanked")
                        .then(String::new)
                });
            out.push(IndexFile {
                filename,
                url,
                sha256,
                metadata,
                requires_python: attribute(tag, "data-requires-python").map(|r| unescape(&r)),
                yanked,
                size: None,
            });
        }
        at = close + 4;
    }
    Ok(out)
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at > 0 && lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = tag[at + name.len()..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let rest = rest[1..].trim_start();
        let (quote, body) = match rest.chars().next()? {
            q @ ('"' | '\'') => (q, &rest[1..]),
            _ => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                return Some(rest[..end].to_string());
            }
        };
        return body.find(quote).map(|end| body[..end].to_string());
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_json_pages() {
        let html = br#"<!DOCTYPE html><html><body><h1>Links for six</h1>
<a href="../../packages/six-1.16.0.tar.gz#sha256=ABCD" data-requires-python="&gt;=2.7" data-core-metadata="sha256=0A">six-1.16.0.tar.gz</a><br/>
<A HREF='https://files.example/six-1.16.0-py2.py3-none-any.whl?x=1&amp;y=2' data-dist-info-metadata=true data-yanked>six-1.16.0-py2.py3-none-any.whl</A>
</body></html>"#;
        let files = parse(html, "text/html", "http://127.0.0.1:1/simple/six/").unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].url,
            "http://127.0.0.1:1/packages/six-1.16.0.tar.gz"
        );
        assert_eq!(files[0].sha256.as_deref(), Some("abcd"));
        assert_eq!(
            files[1].url,
            "https://files.example/six-1.16.0-py2.py3-none-any.whl?x=1&y=2"
        );
        assert_eq!(files[1].sha256, None);
        assert_eq!(
            files[0].metadata,
            Some(CoreMetadataFile {
                url: "http://127.0.0.1:1/packages/six-1.16.0.tar.gz.metadata".into(),
                sha256: Some("0a".into())
            })
        );
        assert_eq!(files[1].metadata.as_ref().unwrap().sha256, None);
        assert_eq!(files[0].requires_python.as_deref(), Some(">=2.7"));
        assert_eq!(
            (files[0].yanked.as_deref(), files[1].yanked.as_deref()),
            (None, Some(""))
        );

        let json = br#"{"meta": {"api-version": "1.1"}, "name": "six", "files": [
            {"filename": "six-1.16.0.tar.gz", "url": "/files/six-1.16.0.tar.gz", "hashes": {"sha256": "EF"}, "core-metadata": {"sha256": "01"}},
            {"filename": "six-1.16.0-py3-none-any.whl", "url": "/files/six-1.16.0-py3-none-any.whl", "hashes": {"sha256": "EE"}, "core-metadata": false, "dist-info-metadata": false},
            {"filename": "six-1.17.0-py3-none-any.whl", "url": "/files/six-1.17.0-py3-none-any.whl", "hashes": {"sha256": "ED"}, "dist-info-metadata": true,
             "yanked": "broken", "requires-python": ">=3.8", "size": 12}]}"#;
        let files = parse(
            json,
            "application/vnd.pypi.simple.v1+json",
            "http://h/simple/six/",
        )
        .unwrap();
        assert_eq!(files[0].url, "http://h/files/six-1.16.0.tar.gz");
        assert_eq!(
            (
                files[2].yanked.as_deref(),
                files[2].requires_python.as_deref(),
                files[2].size
            ),
            (Some("broken"), Some(">=3.8"), Some(12))
        );
        assert_eq!((files[0].yanked.as_deref(), files[0].size), (None, None));
        assert_eq!(files[0].sha256.as_deref(), Some("ef"));
        assert_eq!(
            files[0].metadata.as_ref().unwrap().url,
            "http://h/files/six-1.16.0.tar.gz.metadata"
        );
        assert_eq!(
            files[0].metadata.as_ref().unwrap().sha256.as_deref(),
            Some("01")
        );
        assert_eq!(files[1].metadata, None);
        assert!(files[2].metadata.is_some());
        assert!(parse(b"{\"x\":1}", "application/json", "http://h/").is_err());
    }
}
