//! The GOPROXY protocol at `/go/`: `@v/list`, `.info`, `.mod`, `.zip` and `@latest`, with
//! the protocol's case escaping (`!x` for `X`). Not found is 404, so the go command falls
//! back to the next proxy (a version that cannot exist for the module included); a
//! malformed path is 400. Errors are plain text, as the go
//! command prints them. `/go/sumdb/` is the checksum database ([`super::go_sumdb`]).

use super::http::{self, blocking, text_error as text, Request, Response};
use super::Context;
use crate::registry::go as store;
use std::sync::Arc;
use warp::http::{Method, StatusCode};

/// Undoes the GOPROXY case escaping: `!x` is `X`; a bare upper-case letter is invalid.
pub fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut bang = false;
    for c in s.chars() {
        if bang {
            if !c.is_ascii_lowercase() {
                return Err(format!(
                    "'{s}' has '!' before '{c}', not a lower-case letter"
                ));
            }
            out.push(c.to_ascii_uppercase());
            bang = false;
        } else if c == '!' {
            bang = true;
        } else if c.is_ascii_uppercase() {
            return Err(format!(
                "'{s}' has an upper-case letter; the GOPROXY protocol writes '{c}' as '!{}'",
                c.to_ascii_lowercase()
            ));
        } else {
            out.push(c);
        }
    }
    if bang {
        return Err(format!("'{s}' ends with '!'"));
    }
    Ok(out)
}

enum Route {
    List(String),
    Latest(String),
    File(String, String, &'static str),
}

fn route(path: &str) -> Result<Route, String> {
    let segs = http::decode_segments(path)?;
    if segs.iter().any(String::is_empty) {
        return Err(format!("/go/{path} has an empty path segment"));
    }
    let n = segs.len();
    let module = |k: usize| -> Result<String, String> {
        if k == 0 {
            return Err("no module path".into());
        }
        unescape(&segs[..k].join("/"))
    };
    if n >= 2 && segs[n - 1] == "@latest" {
        return Ok(Route::Latest(module(n - 1)?));
    }
    if n >= 3 && segs[n - 2] == "@v" {
        let last = &segs[n - 1];
        if last == "list" {
            return Ok(Route::List(module(n - 2)?));
        }
        for ext in ["info", "mod", "zip"] {
            if let Some(v) = last.strip_suffix(&format!(".{ext}")) {
                return Ok(Route::File(module(n - 2)?, unescape(v)?, ext));
            }
        }
    }
    Err(format!("/go/{path} is not a GOPROXY endpoint"))
}

/// Answers one request below `/go/`.
pub async fn handle(ctx: Arc<Context>, req: Request) -> Response {
    if !matches!(req.method, Method::GET | Method::HEAD) {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "GOPROXY is read-only; add modules with `nora add go`",
        );
    }
    if let Some(rest) = req.path.strip_prefix("sumdb/") {
        let rest = rest.to_string();
        return super::go_sumdb::handle(ctx, &req, &rest).await;
    }
    let route = match route(&req.path) {
        Ok(r) => r,
        Err(m) => return text(StatusCode::BAD_REQUEST, m),
    };
    if let Some(proxy) = ctx.upstream("go") {
        if let Some(r) = pull(&ctx, &proxy, &route).await {
            return r;
        }
    }
    let fr = http::FileRequest::of(&req);
    let answer = blocking(move || -> crate::Result<Response> {
        let invalid = |e: crate::Error| text(StatusCode::BAD_REQUEST, e);
        Ok(match route {
            Route::List(m) => match store::versions(&ctx.bundle, &m) {
                Err(e @ crate::Error::InvalidName { .. }) => invalid(e),
                Err(e) => return Err(e),
                Ok(v) if v.is_empty() => text(
                    StatusCode::NOT_FOUND,
                    format!("module {m} is not in this bundle"),
                ),
                Ok(v) => {
                    let mut body = String::new();
                    for g in v.iter().filter(|g| !store::is_pseudo(&g.version)) {
                        body.push_str(&g.version);
                        body.push('\n');
                    }
                    http::with_body(StatusCode::OK, "text/plain; charset=utf-8", body)
                }
            },
            Route::Latest(m) => match store::versions(&ctx.bundle, &m) {
                Err(e @ crate::Error::InvalidName { .. }) => invalid(e),
                Err(e) => return Err(e),
                Ok(v) => match store::latest(&v) {
                    None => text(
                        StatusCode::NOT_FOUND,
                        format!("module {m} is not in this bundle"),
                    ),
                    Some(g) => http::serve_blob(&fr, &ctx.bundle, &g.info, "application/json")?,
                },
            },
            Route::File(m, version, ext) => match store::held(&ctx.bundle, &m, &version) {
                // as proxy.golang.org does: a version that cannot exist is not found
                Err(
                    e @ crate::Error::InvalidName {
                        what: "Go module version",
                        ..
                    },
                ) => text(StatusCode::NOT_FOUND, e),
                Err(e @ crate::Error::InvalidName { .. }) => invalid(e),
                Err(e) => return Err(e),
                Ok(None) => text(
                    StatusCode::NOT_FOUND,
                    format!("{m}@{version} is not in this bundle"),
                ),
                Ok(Some(g)) => match ext {
                    "info" => http::serve_blob(&fr, &ctx.bundle, &g.info, "application/json")?,
                    "mod" => http::serve_blob(
                        &fr,
                        &ctx.bundle,
                        &g.mod_file,
                        "text/plain; charset=utf-8",
                    )?,
                    _ => match &g.zip {
                        Some((zip, _)) => {
                            http::serve_blob(&fr, &ctx.bundle, zip, "application/zip")?
                        }
                        None => text(
                            StatusCode::NOT_FOUND,
                            format!(
                                "only the go.mod of {m}@{version} is in this bundle (its go.sum listed no zip); \
                                 mirror a go.sum that lists {m} {version} to carry the zip"
                            ),
                        ),
                    },
                },
            },
        })
    })
    .await;
    answer.unwrap_or_else(|e| {
        let (status, msg) = http::storage_failure(&e);
        text(status, msg)
    })
}

/// Pull-through: fetches a version the bundle lacks (then the bundle answers, `None`), or
/// answers `list` and `@latest` from the upstream's metadata; errors in GOPROXY's plain
/// text. A list the upstream cannot give falls back to the bundle's own.
async fn pull(ctx: &Context, proxy: &crate::proxy::Proxy, route: &Route) -> Option<Response> {
    use crate::proxy::{go as up, ProxyError};
    let failed = |e: ProxyError| text(super::upstream_status(&e), e);
    let meta = |m: crate::proxy::Meta, ct: &str| {
        let ct = if m.content_type.is_empty() {
            ct.to_string()
        } else {
            m.content_type
        };
        http::with_body(StatusCode::OK, &ct, m.body)
    };
    match route {
        Route::File(m, v, _) => {
            let (b, m2, v2) = (ctx.bundle.clone(), m.clone(), v.clone());
            match blocking(move || store::held(&b, &m2, &v2)).await {
                Ok(Some(_)) | Err(_) => None,
                Ok(None) => match up::version(proxy, &ctx.bundle, m, v).await {
                    Ok(()) => None,
                    Err(e) => Some(failed(e)),
                },
            }
        }
        Route::List(m) | Route::Latest(m) => {
            let (got, ct) = match route {
                Route::List(_) => (
                    up::list(proxy, &ctx.bundle, m).await,
                    "text/plain; charset=utf-8",
                ),
                _ => (up::latest(proxy, &ctx.bundle, m).await, "application/json"),
            };
            match got {
                Ok(x) => Some(meta(x, ct)),
                Err(e @ ProxyError::Unavailable(_)) => {
                    let (b, m) = (ctx.bundle.clone(), m.clone());
                    let own = blocking(move || store::versions(&b, &m)).await;
                    // the bundle's own versions, when it has any, else the upstream's failure
                    match own {
                        Ok(v) if !v.is_empty() => None,
                        _ => Some(failed(e)),
                    }
                }
                Err(e) => Some(failed(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_escaping() {
        assert_eq!(
            unescape("github.com/!azure/go").unwrap(),
            "github.com/Azure/go"
        );
        assert!(unescape("github.com/Azure/go").is_err());
        assert!(unescape("a!").is_err());
        assert!(unescape("a!1").is_err());
    }
}
