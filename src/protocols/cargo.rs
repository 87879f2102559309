//! Cargo's sparse registry at `/cargo/`: `index/config.json`, index files, downloads, and
//! the web API's publish, yank and unyank. Errors are `{"errors":[{"detail":…}]}`, which
//! cargo prints.

use super::http::{self, blocking, Request, Response};
use super::Context;
use crate::proxy::{cargo as up, ProxyError};
use crate::registry::cargo::{self as store, CargoError};
use std::sync::Arc;
use warp::http::{Method, StatusCode};

fn error(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    if status.is_server_error() {
        tracing::error!("{msg}");
    }
    http::json(
        status,
        &serde_json::json!({"errors": [{"detail": msg.to_string()}]}),
    )
}

fn cargo_error(e: CargoError) -> Response {
    let status = match &e {
        CargoError::Invalid(_) => StatusCode::BAD_REQUEST,
        CargoError::Exists(_) => StatusCode::CONFLICT,
        CargoError::NotFound(_) => StatusCode::NOT_FOUND,
        CargoError::Store(e) => {
            let (status, msg) = http::storage_failure(e);
            return error(status, msg);
        }
    };
    error(status, e)
}

/// Answers one request below `/cargo/`.
pub async fn handle(ctx: Arc<Context>, mut req: Request) -> Response {
    let segs = match http::decode_segments(&req.path) {
        Ok(s) => s,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = req.method.clone();
    match (s.as_slice(), &m) {
        (["index", "config.json"], &Method::GET | &Method::HEAD) => config(&ctx, &req),
        (["index", .., name], &Method::GET | &Method::HEAD) if s.len() >= 3 => {
            let name = name.to_string();
            let prefix = s[1..s.len() - 1].join("/");
            index(ctx, &req, prefix, name).await
        }
        (["api", "v1", "crates", "new"], &Method::PUT) => publish(ctx, &mut req).await,
        (["api", "v1", "crates", name, version, "download"], &Method::GET | &Method::HEAD) => {
            download(ctx, &req, name.to_string(), version.to_string()).await
        }
        (["api", "v1", "crates", name, version, "yank"], &Method::DELETE) => {
            yank(ctx, name.to_string(), version.to_string(), true).await
        }
        (["api", "v1", "crates", name, version, "unyank"], &Method::PUT) => {
            yank(ctx, name.to_string(), version.to_string(), false).await
        }
        _ => error(
            StatusCode::NOT_FOUND,
            format!(
                "{m} /cargo/{} is not an endpoint of this registry",
                req.path
            ),
        ),
    }
}

fn config(ctx: &Context, req: &Request) -> Response {
    let base = http::base_url(req, ctx.public_url.as_deref());
    let mut v = serde_json::json!({
        "dl": format!("{base}/cargo/api/v1/crates"),
        "api": format!("{base}/cargo"),
    });
    if ctx.auth_required {
        v["auth-required"] = serde_json::Value::Bool(true);
    }
    http::json(StatusCode::OK, &v)
}

async fn index(ctx: Arc<Context>, req: &Request, prefix: String, name: String) -> Response {
    if store::index_path(&name) != format!("{prefix}/{}", name.to_ascii_lowercase()) {
        return error(
            StatusCode::NOT_FOUND,
            format!("{prefix}/{name} is not where the index keeps {name}"),
        );
    }
    let (n, b) = (name.clone(), ctx.bundle.clone());
    let own = blocking(move || store::index_file(&b, &n)).await;
    let own = match (&ctx.proxy, own) {
        (Some(proxy), Ok(own)) if proxy.upstream("cargo").is_some() => {
            match up::index(proxy, &ctx.bundle, &name).await {
                Ok(lines) => Ok(Some(up::merged(&lines, own.as_deref()))),
                // a crate published to nora alone, or an upstream down: the bundle answers
                Err(ProxyError::NotFound(_) | ProxyError::Unavailable(_)) if own.is_some() => {
                    Ok(own)
                }
                Err(e) => return failed(e),
            }
        }
        (_, own) => own,
    };
    match own {
        Ok(Some(body)) => {
            let etag = format!("\"{}\"", crate::Digest::of(body.as_bytes()).hex());
            if req.header("if-none-match") == Some(etag.as_str()) {
                let mut r = http::empty(StatusCode::NOT_MODIFIED);
                http::set(&mut r, warp::http::header::ETAG, &etag);
                return r;
            }
            let mut r = http::with_body(StatusCode::OK, "text/plain; charset=utf-8", body);
            http::set(&mut r, warp::http::header::ETAG, &etag);
            r
        }
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("crate {name} is not in this registry"),
        ),
        Err(CargoError::Invalid(m)) => error(StatusCode::NOT_FOUND, m),
        Err(e) => cargo_error(e),
    }
}

/// A pull-through failure in cargo's error format.
fn failed(e: ProxyError) -> Response {
    error(super::upstream_status(&e), e)
}

async fn download(ctx: Arc<Context>, req: &Request, name: String, version: String) -> Response {
    if let Some(proxy) = ctx.upstream("cargo") {
        let (b, n, v) = (ctx.bundle.clone(), name.clone(), version.clone());
        if let Err(CargoError::NotFound(_)) = blocking(move || store::version(&b, &n, &v)).await {
            if let Err(e) = up::download(&proxy, &ctx.bundle, &name, &version).await {
                return failed(e);
            }
        }
    }
    let fr = http::FileRequest::of(req);
    let answer = blocking(move || -> Result<Response, CargoError> {
        let c = store::version(&ctx.bundle, &name, &version)?;
        Ok(http::serve_blob(
            &fr,
            &ctx.bundle,
            &c.crate_file,
            "application/gzip",
        )?)
    })
    .await;
    answer.unwrap_or_else(cargo_error)
}

async fn publish(ctx: Arc<Context>, req: &mut Request) -> Response {
    let body = ctx.bundle.work_dir().and_then(|dir| {
        tempfile::Builder::new()
            .prefix("publish-body-")
            .tempfile_in(&dir)
            .map_err(|source| crate::Error::Io {
                action: "create a temp file in",
                path: dir,
                source,
            })
    });
    let mut body = match body {
        Ok(f) => f,
        Err(e) => {
            let (status, msg) = http::storage_failure(&e);
            return error(status, msg);
        }
    };
    if let Err(e) = http::drain_into(req, body.as_file_mut(), 0, ctx.limits.publish).await {
        let (status, msg) = e.answer();
        return error(status, msg);
    }
    let c = ctx.clone();
    let result = http::writing(&ctx.bundle, false, move |_| {
        store::publish(&c.bundle, body.path())
    })
    .await;
    match result {
        Ok(p) => {
            tracing::info!(name = %p.name, version = %p.version, "crate published");
            http::json(
                StatusCode::OK,
                &serde_json::json!({"warnings": {"invalid_categories": [], "invalid_badges": [], "other": []}}),
            )
        }
        Err(e) => cargo_error(e),
    }
}

async fn yank(ctx: Arc<Context>, name: String, version: String, yanked: bool) -> Response {
    let c = ctx.clone();
    let yanking = http::writing(&ctx.bundle, false, move |_| {
        store::set_yanked(&c.bundle, &name, &version, yanked)
    });
    match yanking.await {
        Ok(()) => http::json(StatusCode::OK, &serde_json::json!({"ok": true})),
        Err(e) => cargo_error(e),
    }
}
