//! A Go checksum database carried in the bundle, served the way a GOPROXY proxies one
//! (`/go/sumdb/<name>/supported`, `/lookup/<module>@<version>`, `/tile/…`, `/latest`), so
//! an isolated go command keeps `GOSUMDB` on and checks every module against the
//! database. Lookups are answered with the newest tree head the bundle holds, which the
//! tiles in the bundle prove them in.

use super::go::unescape;
use super::http::{self, blocking, text_error as text, FileRequest, Request, Response};
use super::Context;
use crate::registry::go_sumdb as store;
use std::sync::Arc;
use warp::http::StatusCode;

/// Answers `path`, the part of a `/go/sumdb/` URL after `sumdb/`.
pub async fn handle(ctx: Arc<Context>, req: &Request, path: &str) -> Response {
    let segs = match http::decode_segments(path) {
        Ok(s) => s,
        Err(m) => return text(StatusCode::BAD_REQUEST, m),
    };
    let fr = FileRequest::of(req);
    let answer = blocking(move || -> crate::Result<Response> {
        let Some((name, rest)) = segs.split_first() else {
            return Ok(text(StatusCode::NOT_FOUND, "no checksum database named"));
        };
        let Some(tree) = store::latest(&ctx.bundle, name)? else {
            return Ok(text(
                StatusCode::NOT_FOUND,
                format!("checksum database {name} is not in this bundle; mirror with --go-sumdb to carry it"),
            ));
        };
        let plain = "text/plain; charset=utf-8";
        Ok(match rest.first().map(String::as_str) {
            Some("supported") if rest.len() == 1 => http::empty(StatusCode::OK),
            Some("latest") if rest.len() == 1 => {
                http::serve_blob(&fr, &ctx.bundle, &tree.note, plain)?
            }
            Some("lookup") if rest.len() >= 2 => {
                let joined = rest[1..].join("/");
                let Some((m, v)) = joined.rsplit_once('@') else {
                    return Ok(text(
                        StatusCode::BAD_REQUEST,
                        format!("lookup {joined}: expected MODULE@VERSION"),
                    ));
                };
                let (m, v) = match (unescape(m), unescape(v)) {
                    (Ok(m), Ok(v)) => (m, v),
                    (Err(e), _) | (_, Err(e)) => return Ok(text(StatusCode::BAD_REQUEST, e)),
                };
                match store::record(&ctx.bundle, name, &m, &v)? {
                    None => text(
                        StatusCode::NOT_FOUND,
                        format!("{m}@{v}: no record in the {name} checksum database this bundle carries"),
                    ),
                    Some(r) => {
                        let note = ctx.bundle.read_blob(&tree.note)?;
                        let body = crate::sumdb::note::format_lookup(r.id, &r.text, &note);
                        http::with_body(StatusCode::OK, plain, body)
                    }
                }
            }
            Some("tile") if rest.len() >= 2 => {
                let p = rest[1..].join("/");
                match store::tile(&ctx.bundle, name, &p)? {
                    Some(t) => {
                        http::serve_blob(&fr, &ctx.bundle, &t.digest, "application/octet-stream")?
                    }
                    None => text(
                        StatusCode::NOT_FOUND,
                        format!("tile {p} of {name} is not in this bundle"),
                    ),
                }
            }
            _ => text(
                StatusCode::NOT_FOUND,
                format!("/go/sumdb/{name}/{} is not a checksum database endpoint", rest.join("/")),
            ),
        })
    })
    .await;
    answer.unwrap_or_else(|e| {
        let (status, msg) = http::storage_failure(&e);
        text(status, msg)
    })
}
