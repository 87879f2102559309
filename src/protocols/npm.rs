//! The npm registry API at `/npm/`: packuments (full, and abbreviated on
//! `Accept: application/vnd.npm.install-v1+json`), tarballs, `npm publish`, dist-tags,
//! and `npm unpublish`. Errors are `{"error": …}`, which npm prints.

use super::http::{self, blocking, json_error as error, Request, Response};
use super::Context;
use crate::proxy::{npm as up, ProxyError};
use crate::registry::npm::{self as store, NpmError};
use std::sync::Arc;
use warp::http::{Method, StatusCode};

fn npm_error(e: NpmError) -> Response {
    let status = match &e {
        NpmError::Invalid(_) => StatusCode::BAD_REQUEST,
        NpmError::Exists(_) => StatusCode::FORBIDDEN,
        NpmError::NotFound(_) => StatusCode::NOT_FOUND,
        NpmError::Store(e) => {
            let (status, msg) = http::storage_failure(e);
            return error(status, msg);
        }
    };
    error(status, e)
}

/// Splits `@scope/name/rest…` or `name/rest…` (npm sends `@scope%2fname`).
fn split_name(segs: &[String]) -> Option<(String, &[String])> {
    let first = segs.first()?;
    if first.starts_with('@') {
        let second = segs.get(1)?;
        Some((format!("{first}/{second}"), &segs[2..]))
    } else {
        Some((first.clone(), &segs[1..]))
    }
}

fn segments(path: &str) -> Result<Vec<String>, String> {
    // a scoped name arrives as `@scope%2fname`: the one place an encoded '/' is meant
    let path = match path.split_once('/') {
        Some((first, rest)) if first.starts_with('@') => {
            format!(
                "{}/{rest}",
                first.replacen("%2f", "/", 1).replacen("%2F", "/", 1)
            )
        }
        None if path.starts_with('@') => path.replacen("%2f", "/", 1).replacen("%2F", "/", 1),
        _ => path.to_string(),
    };
    http::decode_segments(&path)
}

/// Answers one request below `/npm/`.
pub async fn handle(ctx: Arc<Context>, mut req: Request) -> Response {
    let segs = match segments(&req.path) {
        Ok(s) => s,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    let m = req.method.clone();
    if segs
        .iter()
        .take(segs.len().saturating_sub(1))
        .any(String::is_empty)
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("/npm/{} has an empty segment", req.path),
        );
    }
    let base = format!("{}/npm", http::base_url(&req, ctx.public_url.as_deref()));
    if segs.first().map(String::as_str) == Some("-") {
        let rest: Vec<String> = segs[1..].to_vec();
        return match (
            rest.iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            &m,
        ) {
            (["ping"], _) => http::json(StatusCode::OK, &serde_json::json!({})),
            (["package", ..], _) => dist_tags(ctx, &mut req, &rest[1..]).await,
            _ => error(
                StatusCode::NOT_FOUND,
                format!("/npm/{} is not served here", req.path),
            ),
        };
    }
    let Some((name, rest)) = split_name(&segs) else {
        return error(StatusCode::NOT_FOUND, "no package name");
    };
    if let Err(e) = store::check_name(&name) {
        return npm_error(e);
    }
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    match (rest.as_slice(), &m) {
        ([] | [""], &Method::GET | &Method::HEAD) => packument(ctx, &req, name, base).await,
        ([] | [""], &Method::PUT) => publish(ctx, &mut req, name).await,
        (["-", file], &Method::GET | &Method::HEAD) => {
            tarball(ctx, &req, name, file.to_string()).await
        }
        (["-", _file, "-rev", _], &Method::DELETE) => {
            http::json(StatusCode::OK, &serde_json::json!({"ok": true}))
        }
        (["-rev", _], &Method::PUT) => unpublish_update(ctx, &mut req, name).await,
        (["-rev", _], &Method::DELETE) => {
            let c = ctx.clone();
            match http::writing(&ctx.bundle, false, move |_| {
                store::unpublish_all(&c.bundle, &name)
            })
            .await
            {
                Ok(()) => http::json(StatusCode::OK, &serde_json::json!({"ok": true})),
                Err(e) => npm_error(e),
            }
        }
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{m} /npm/{} is not supported", req.path),
        ),
    }
}

async fn packument(ctx: Arc<Context>, req: &Request, name: String, base: String) -> Response {
    let abbreviated = req
        .header("accept")
        .is_some_and(|a| a.contains("application/vnd.npm.install-v1+json"));
    let n = name.clone();
    let c = ctx.clone();
    let found = blocking(move || store::package(&c.bundle, &n)).await;
    let own = match found {
        Ok(p) => p,
        Err(e) => return npm_error(e),
    };
    let ct = if abbreviated {
        "application/vnd.npm.install-v1+json"
    } else {
        "application/json"
    };
    let pulled = match ctx.upstream("npm") {
        Some(proxy) => match up::packument(&proxy, &ctx.bundle, &name).await {
            Ok(doc) => Some(up::answer(&name, doc, own.as_ref(), &base, abbreviated)),
            // a package published to nora alone, or an upstream down: the bundle answers
            Err(ProxyError::NotFound(_) | ProxyError::Unavailable(_)) if own.is_some() => None,
            Err(e) => return failed(e),
        },
        None => None,
    };
    let doc = match (pulled, own) {
        (Some(doc), _) => doc,
        (None, Some(p)) if abbreviated => store::abbreviated(&name, &p, &base),
        (None, Some(p)) => store::packument(&name, &p, &base),
        (None, None) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("package {name} is not in this registry"),
            )
        }
    };
    let body = serde_json::to_vec(&doc).expect("json");
    let etag = format!("\"{}\"", &crate::Digest::of(&body).hex()[..32]);
    if req.header("if-none-match") == Some(etag.as_str()) {
        let mut r = http::empty(StatusCode::NOT_MODIFIED);
        http::set(&mut r, warp::http::header::ETAG, &etag);
        return r;
    }
    let mut r = http::with_body(StatusCode::OK, ct, body);
    http::set(&mut r, warp::http::header::ETAG, &etag);
    if req.method == Method::HEAD {
        *r.body_mut() = warp::hyper::Body::empty();
    }
    r
}

/// A pull-through failure in npm's error format.
fn failed(e: ProxyError) -> Response {
    error(super::upstream_status(&e), e)
}

async fn tarball(ctx: Arc<Context>, req: &Request, name: String, file: String) -> Response {
    if let Some(proxy) = ctx.upstream("npm") {
        let (b, n, f) = (ctx.bundle.clone(), name.clone(), file.clone());
        if let Ok(None) = blocking(move || store::tarball(&b, &n, &f)).await {
            if let Err(e) = up::tarball(&proxy, &ctx.bundle, &name, &file).await {
                return failed(e);
            }
        }
    }
    let fr = http::FileRequest::of(req);
    let answer = blocking(move || -> Result<Response, NpmError> {
        let v = store::tarball(&ctx.bundle, &name, &file)?
            .ok_or_else(|| NpmError::NotFound(format!("{name} has no tarball {file}")))?;
        Ok(http::serve_blob(
            &fr,
            &ctx.bundle,
            &v.tarball,
            "application/octet-stream",
        )?)
    })
    .await;
    answer.unwrap_or_else(npm_error)
}

async fn read_json(ctx: &Context, req: &mut Request) -> Result<serde_json::Value, Response> {
    let limit = ctx.limits.publish.unwrap_or(u64::MAX);
    let bytes = http::read_limited(req, limit).await.map_err(|e| {
        let (status, msg) = e.answer();
        error(status, msg)
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })
}

async fn publish(ctx: Arc<Context>, req: &mut Request, name: String) -> Response {
    let limit = ctx.limits.publish.unwrap_or(u64::MAX);
    let (body, room) = match http::read_budgeted(req, limit, ctx.bodies.clone()).await {
        Ok(b) => b,
        Err(e) => {
            let (status, msg) = e.answer();
            return error(status, msg);
        }
    };
    let n = name.clone();
    let c = ctx.clone();
    let published = http::writing(&c.bundle, false, move |_| {
        let r = store::publish(&ctx.bundle, &n, &body);
        drop(room);
        r
    });
    match published.await {
        Ok(p) => {
            tracing::info!(package = %name, versions = ?p.versions, "npm package published");
            http::json(
                StatusCode::CREATED,
                &serde_json::json!({"ok": true, "id": name}),
            )
        }
        Err(e) => npm_error(e),
    }
}

async fn unpublish_update(ctx: Arc<Context>, req: &mut Request, name: String) -> Response {
    match read_json(&ctx, req).await {
        Ok(body) => unpublish_with(ctx, name, body).await,
        Err(r) => r,
    }
}

async fn unpublish_with(ctx: Arc<Context>, name: String, body: serde_json::Value) -> Response {
    let n = name.clone();
    let c = ctx.clone();
    match http::writing(&ctx.bundle, false, move |_| {
        store::unpublish_missing(&c.bundle, &n, &body)
    })
    .await
    {
        Ok(gone) => {
            tracing::info!(package = %name, versions = ?gone, "npm versions unpublished");
            http::json(StatusCode::OK, &serde_json::json!({"ok": true}))
        }
        Err(e) => npm_error(e),
    }
}

/// `/-/package/<name>/dist-tags[/<tag>]`.
async fn dist_tags(ctx: Arc<Context>, req: &mut Request, segs: &[String]) -> Response {
    let Some((name, rest)) = split_name(segs) else {
        return error(StatusCode::NOT_FOUND, "no package name");
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let m = req.method.clone();
    match (rest.as_slice(), &m) {
        (["dist-tags"], &Method::GET) => {
            let n = name.clone();
            match blocking(move || store::package(&ctx.bundle, &n)).await {
                Ok(Some(p)) => http::json(StatusCode::OK, &serde_json::json!(p.tags)),
                Ok(None) => error(
                    StatusCode::NOT_FOUND,
                    format!("package {name} is not in this registry"),
                ),
                Err(e) => npm_error(e),
            }
        }
        (["dist-tags", tag], &Method::PUT | &Method::POST) => {
            let tag = tag.to_string();
            let version = match read_json(&ctx, req).await {
                Ok(serde_json::Value::String(v)) => v,
                Ok(_) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "the body must be a JSON string: the version",
                    )
                }
                Err(r) => return r,
            };
            let c = ctx.clone();
            match http::writing(&ctx.bundle, false, move |_| {
                store::set_tag(&c.bundle, &name, &tag, &version)
            })
            .await
            {
                Ok(()) => http::json(StatusCode::CREATED, &serde_json::json!({"ok": true})),
                Err(e) => npm_error(e),
            }
        }
        (["dist-tags", tag], &Method::DELETE) => {
            let tag = tag.to_string();
            let c = ctx.clone();
            match http::writing(&ctx.bundle, false, move |_| {
                store::remove_tag(&c.bundle, &name, &tag)
            })
            .await
            {
                Ok(()) => http::json(StatusCode::OK, &serde_json::json!({"ok": true})),
                Err(e) => npm_error(e),
            }
        }
        _ => error(StatusCode::NOT_FOUND, "not a dist-tags endpoint"),
    }
}
