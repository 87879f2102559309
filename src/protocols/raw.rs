//! Raw files at `/raw/`: PUT, GET and HEAD (with ranges), DELETE, and directory listings in
//! HTML or JSON. Errors are JSON `{"error": …}` with the usual HTTP status.

use super::http::{self, blocking, json_error as error, Request, Response};
use super::Context;
use crate::registry::raw as store;
use std::sync::Arc;
use warp::http::{header, Method, StatusCode};

/// Answers one request below `/raw/`.
pub async fn handle(ctx: Arc<Context>, req: Request) -> Response {
    match dispatch(ctx, req).await {
        Ok(r) | Err(r) => r,
    }
}

async fn dispatch(ctx: Arc<Context>, mut req: Request) -> Result<Response, Response> {
    let segs = http::decode_segments(&req.path).map_err(|m| error(StatusCode::BAD_REQUEST, m))?;
    let is_dir = segs.last().is_none_or(String::is_empty);
    let path = segs
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("/");
    if segs[..segs.len().saturating_sub(1)]
        .iter()
        .any(String::is_empty)
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("/raw/{} has an empty path segment", req.path),
        ));
    }
    if !path.is_empty() {
        crate::ecosystems::raw::validate_path(&path)
            .map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    }
    match req.method.clone() {
        Method::GET | Method::HEAD if is_dir => listing(ctx, &req, path).await,
        Method::GET | Method::HEAD => get(ctx, &req, path).await,
        Method::PUT if !is_dir => put(ctx, &mut req, path).await,
        Method::DELETE if !is_dir => {
            let p = path.clone();
            let c = ctx.clone();
            if http::writing(&ctx.bundle, false, move |_| store::delete(&c.bundle, &p))
                .await
                .map_err(failed)?
            {
                Ok(http::empty(StatusCode::NO_CONTENT))
            } else {
                Err(error(
                    StatusCode::NOT_FOUND,
                    format!("no file at /raw/{path}"),
                ))
            }
        }
        m => {
            let mut r = error(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{m} is not supported on /raw/{}", req.path),
            );
            let allow = if is_dir {
                "GET, HEAD"
            } else {
                "GET, HEAD, PUT, DELETE"
            };
            http::set(&mut r, header::ALLOW, allow);
            Err(r)
        }
    }
}

async fn get(ctx: Arc<Context>, req: &Request, path: String) -> Result<Response, Response> {
    let mut upstream_lacks = None;
    if let Some(proxy) = ctx.upstream("raw") {
        let (b, p) = (ctx.bundle.clone(), path.clone());
        if let Ok(None) = blocking(move || store::get(&b, &p)).await {
            use crate::proxy::ProxyError;
            match crate::proxy::raw::file(&proxy, &ctx.bundle, &path).await {
                Ok(()) => {}
                // not upstream: perhaps a directory of the bundle's, answered below
                Err(ProxyError::NotFound(m)) => upstream_lacks = Some(m),
                Err(ProxyError::Unavailable(m) | ProxyError::Refused(m)) => {
                    return Err(error(StatusCode::BAD_GATEWAY, m))
                }
            }
        }
    }
    let (c, p) = (ctx.clone(), path.clone());
    let fr = http::FileRequest::of(req);
    let answer = blocking(move || -> crate::Result<Option<Response>> {
        let Some(f) = store::get(&c.bundle, &p)? else {
            return Ok(None);
        };
        let mut r = http::serve_blob(&fr, &c.bundle, &f.digest, &f.content_type)?;
        http::set(&mut r, "X-Checksum-Sha256", f.digest.hex());
        Ok(Some(r))
    })
    .await
    .map_err(failed)?;
    if let Some(r) = answer {
        return Ok(r);
    }
    let (c, p) = (ctx.clone(), path.clone());
    let dir = blocking(move || store::list(&c.bundle, &p))
        .await
        .map_err(failed)?;
    if dir.is_some() {
        let mut r = http::empty(StatusCode::MOVED_PERMANENTLY);
        let last = path.rsplit('/').next().unwrap_or_default();
        http::set(&mut r, header::LOCATION, &format!("{}/", encode(last)));
        return Ok(r);
    }
    Err(error(
        StatusCode::NOT_FOUND,
        match upstream_lacks {
            Some(m) => format!("no file at /raw/{path}; {m}"),
            None => format!("no file at /raw/{path}"),
        },
    ))
}

async fn put(ctx: Arc<Context>, req: &mut Request, path: String) -> Result<Response, Response> {
    let internal = |e: crate::Error| {
        let (status, msg) = http::storage_failure(&e);
        error(status, msg)
    };
    let mut w = ctx.bundle.blob_writer().map_err(internal)?;
    http::drain_into(req, &mut w, 0, ctx.limits.raw)
        .await
        .map_err(|e| {
            let (status, msg) = e.answer();
            error(status, format!("/raw/{path}: {msg}"))
        })?;
    let ct = store::content_type_for(&path, req.header("content-type"));
    let c = ctx.clone();
    let p = path.clone();
    // the blob enters and its ref is written in one step for gc (bundle-format.md §6)
    let status = http::writing(&ctx.bundle, false, move |_| {
        let blob = w.commit(None, true)?;
        c.bundle.sync_blob_dir()?;
        store::put(&c.bundle, &p, &blob, ct)
    })
    .await
    .map_err(|e| match e {
        crate::Error::InvalidName { .. } => error(StatusCode::BAD_REQUEST, e),
        e => internal(e),
    })?;
    Ok(http::empty(if status == "added" {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    }))
}

/// The answer to a failure of the store.
fn failed(e: crate::Error) -> Response {
    let (status, msg) = http::storage_failure(&e);
    error(status, msg)
}

/// Bytes escaped in links: everything but unreserved URL characters.
const LINK: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, LINK).to_string()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn listing(ctx: Arc<Context>, req: &Request, path: String) -> Result<Response, Response> {
    let p = path.clone();
    let entries = blocking(move || store::list(&ctx.bundle, &p))
        .await
        .map_err(failed)?;
    let entries = match entries {
        Some(e) => e,
        None if path.is_empty() => Vec::new(),
        None => {
            return Err(error(
                StatusCode::NOT_FOUND,
                format!("no directory /raw/{path}/"),
            ))
        }
    };
    let wants_json = req.param("format").as_deref() == Some("json")
        || req
            .header("accept")
            .is_some_and(|a| a.contains("application/json"));
    let mut r = if wants_json {
        http::json(
            StatusCode::OK,
            &serde_json::json!({"path": format!("/raw/{path}{}", if path.is_empty() { "" } else { "/" }), "entries": entries}),
        )
    } else {
        let title = html_escape(&format!("/raw/{path}"));
        let mut html = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n<body><h1>Index of {title}</h1>\n<ul>\n"
        );
        if !path.is_empty() {
            html.push_str("<li><a href=\"../\">../</a></li>\n");
        }
        for e in &entries {
            let slash = if e.dir { "/" } else { "" };
            html.push_str(&format!(
                "<li><a href=\"{}{slash}\">{}{slash}</a> {}</li>\n",
                encode(&e.name),
                html_escape(&e.name),
                e.size
            ));
        }
        html.push_str("</ul></body></html>\n");
        http::with_body(StatusCode::OK, "text/html; charset=utf-8", html)
    };
    if req.method == Method::HEAD {
        *r.body_mut() = warp::hyper::Body::empty();
    }
    Ok(r)
}
