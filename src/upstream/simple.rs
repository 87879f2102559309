//! Reading a PyPI "simple" project page from an upstream index: PEP 691 JSON when the
//! upstream offers it, else PEP 503 HTML, into the list of files with their URLs (resolved
//! against the page) and SHA-256 hashes.

/// The JSON form, asked for first; HTML is the fallback every index speaks.
pub const ACCEPT: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";

/// One file a project page lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    /// File name.
    pub filename: String,
    /// Absolute download URL, without fragment.
    pub url: String,
    /// Hex SHA-256 the index publishes, if any.
    pub sha256: Option<String>,
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
            out.push(IndexFile {
                filename: filename.to_string(),
                url,
                sha256,
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
            out.push(IndexFile {
                filename,
                url,
                sha256,
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
<a href="../../packages/six-1.16.0.tar.gz#sha256=ABCD" data-requires-python="&gt;=2.7">six-1.16.0.tar.gz</a><br/>
<A HREF='https://files.example/six-1.16.0-py2.py3-none-any.whl?x=1&amp;y=2'>six-1.16.0-py2.py3-none-any.whl</A>
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

        let json = br#"{"meta": {"api-version": "1.1"}, "name": "six", "files": [
            {"filename": "six-1.16.0.tar.gz", "url": "/files/six-1.16.0.tar.gz", "hashes": {"sha256": "EF"}}]}"#;
        let files = parse(
            json,
            "application/vnd.pypi.simple.v1+json",
            "http://h/simple/six/",
        )
        .unwrap();
        assert_eq!(files[0].url, "http://h/files/six-1.16.0.tar.gz");
        assert_eq!(files[0].sha256.as_deref(), Some("ef"));
        assert!(parse(b"{\"x\":1}", "application/json", "http://h/").is_err());
    }
}
