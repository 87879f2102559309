//! A Maven repository at `/maven2/`: GET/HEAD/PUT of any file, `.sha1`, `.md5`, `.sha256`
//! and `.sha512` for every file (from the record, or computed for generated metadata), and
//! `maven-metadata.xml` generated from the bundle (uploaded copies are accepted and
//! replaced by the generated ones). Errors are plain text, as Maven prints them.

use super::http::{self, blocking, text_error as text, BodyError, Request, Response};
use super::Context;
use crate::proxy::{maven as up, Proxy, ProxyError};
use crate::registry::maven::{self as store, MavenError, CHECKSUMS, METADATA};
use std::sync::Arc;
use warp::http::{Method, StatusCode};

fn maven_error(e: MavenError) -> Response {
    let status = match &e {
        MavenError::Invalid(_) => StatusCode::BAD_REQUEST,
        MavenError::Exists(_) => StatusCode::CONFLICT,
        MavenError::NotFound(_) => StatusCode::NOT_FOUND,
        MavenError::Store(e) => {
            let (status, msg) = http::storage_failure(e);
            return text(status, msg);
        }
    };
    text(status, e)
}

/// Splits `…/file.jar.sha1` into the base path and the checksum kind.
fn checksum_of_path(path: &str) -> Option<(&str, &'static str)> {
    CHECKSUMS
        .iter()
        .find_map(|a| path.strip_suffix(&format!(".{a}")).map(|base| (base, *a)))
}

fn metadata_dir(path: &str) -> Option<&str> {
    path.strip_suffix(METADATA)
        .and_then(|d| d.strip_suffix('/'))
}

/// Answers one request below `/maven2/`.
pub async fn handle(ctx: Arc<Context>, mut req: Request) -> Response {
    let segs = match http::decode_segments(&req.path) {
        Ok(s) => s,
        Err(m) => return text(StatusCode::BAD_REQUEST, m),
    };
    if segs.iter().any(String::is_empty) {
        return text(
            StatusCode::BAD_REQUEST,
            format!("/maven2/{} has an empty path segment", req.path),
        );
    }
    let path = segs.join("/");
    match req.method.clone() {
        Method::GET | Method::HEAD => get(ctx, &req, path).await,
        Method::PUT => put(ctx, &mut req, path).await,
        m => text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{m} is not supported on /maven2/"),
        ),
    }
}

/// A pull-through failure as Maven's plain text error.
fn failed(e: ProxyError) -> Response {
    text(super::upstream_status(&e), e)
}

/// Pull-through: fetches a file the bundle lacks, or the upstream's metadata of the
/// directory asked for (returned, to be merged with the bundle's).
async fn pull(ctx: &Context, proxy: &Proxy, path: &str) -> Result<Option<String>, Response> {
    let base = checksum_of_path(path).map_or(path, |(b, _)| b).to_string();
    let Some(dir) = metadata_dir(&base).map(str::to_string) else {
        let b = ctx.bundle.clone();
        let p = base.clone();
        if let Ok(None) = blocking(move || store::file(&b, &p)).await {
            up::file(proxy, &ctx.bundle, &base).await.map_err(failed)?;
        }
        return Ok(None);
    };
    match up::metadata(proxy, &ctx.bundle, &dir).await {
        Ok(xml) => Ok(Some(xml)),
        // artifacts deployed to nora alone, or an upstream down: the bundle answers
        Err(e @ (ProxyError::NotFound(_) | ProxyError::Unavailable(_))) => {
            let b = ctx.bundle.clone();
            match blocking(move || store::metadata(&b, &dir)).await {
                Ok(Some(_)) => Ok(None),
                _ => Err(failed(e)),
            }
        }
        Err(e) => Err(failed(e)),
    }
}

async fn get(ctx: Arc<Context>, req: &Request, path: String) -> Response {
    let mut upstream_xml = None;
    if let Some(proxy) = ctx.upstream("maven") {
        match pull(&ctx, &proxy, &path).await {
            Ok(xml) => upstream_xml = xml,
            Err(r) => return r,
        }
    }
    let fr = http::FileRequest::of(req);
    let head = req.method == Method::HEAD;
    let answer = blocking(move || -> Result<Response, MavenError> {
        let not_found = || MavenError::NotFound(format!("{path} is not in this repository"));
        let metadata = |dir: &str| -> Result<String, MavenError> {
            let own = store::metadata(&ctx.bundle, dir)?;
            match &upstream_xml {
                Some(xml) => Ok(up::merged(xml, own.as_deref())),
                None => own.ok_or_else(not_found),
            }
        };
        if let Some((base, algo)) = checksum_of_path(&path) {
            let sum = match metadata_dir(base) {
                Some(dir) => store::checksum_bytes(metadata(dir)?.as_bytes(), algo),
                None => store::checksum_of(
                    &store::file(&ctx.bundle, base)?.ok_or_else(not_found)?,
                    algo,
                ),
            };
            return Ok(small(head, "text/plain", sum));
        }
        if let Some(dir) = metadata_dir(&path) {
            return Ok(small(head, "application/xml", metadata(dir)?));
        }
        let f = store::file(&ctx.bundle, &path)?.ok_or_else(not_found)?;
        let ct = mime_guess::from_path(&path)
            .first_raw()
            .unwrap_or("application/octet-stream");
        let ct = if f.extension == "pom" {
            "application/xml"
        } else {
            ct
        };
        let mut r = http::serve_blob(&fr, &ctx.bundle, &f.digest, ct)?;
        http::set(&mut r, "X-Checksum-Sha1", &f.sha1);
        Ok(r)
    })
    .await;
    answer.unwrap_or_else(maven_error)
}

fn small(head: bool, ct: &str, body: String) -> Response {
    let mut r = http::with_body(StatusCode::OK, ct, body);
    if head {
        *r.body_mut() = warp::hyper::Body::empty();
    }
    r
}

async fn put(ctx: Arc<Context>, req: &mut Request, path: String) -> Response {
    // checksums and metadata: small bodies, checked or replaced by generated ones
    let small_limit = 64 * 1024;
    if let Some((base, algo)) = checksum_of_path(&path) {
        let body = match http::read_limited(req, small_limit).await {
            Ok(b) => b,
            Err(e) => return body_error(e),
        };
        if metadata_dir(base).is_some() {
            return http::empty(StatusCode::CREATED);
        }
        let sent = String::from_utf8_lossy(&body)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let (base, c) = (base.to_string(), ctx.clone());
        let found = blocking(move || store::file(&c.bundle, &base)).await;
        return match found {
            Ok(Some(f)) if store::checksum_of(&f, algo) == sent => http::empty(StatusCode::CREATED),
            Ok(Some(f)) => text(
                StatusCode::BAD_REQUEST,
                format!(
                    "{path}: {sent} does not match the deployed file's {algo} {}",
                    store::checksum_of(&f, algo)
                ),
            ),
            Ok(None) => text(
                StatusCode::NOT_FOUND,
                format!("deploy the file before its checksum: {path}"),
            ),
            Err(e) => maven_error(e),
        };
    }
    if metadata_dir(&path).is_some() {
        return match http::read_limited(req, 4 << 20).await {
            Ok(_) => http::empty(StatusCode::CREATED),
            Err(e) => body_error(e),
        };
    }
    if let Err(e) = store::parse_path(&path) {
        return maven_error(e);
    }
    let writer = match ctx.bundle.blob_writer() {
        Ok(w) => w,
        Err(e) => {
            let (status, msg) = http::storage_failure(&e);
            return text(status, msg);
        }
    };
    let mut w = store::SumWriter::new(writer);
    if let Err(e) = http::drain_into(req, &mut w, 0, ctx.limits.publish).await {
        return body_error(e);
    }
    let p = path.clone();
    let c = ctx.clone();
    match http::writing(&ctx.bundle, false, move |_| store::deploy(&c.bundle, &p, w)).await {
        Ok("added") => http::empty(StatusCode::CREATED),
        Ok(_) => http::empty(StatusCode::OK),
        Err(e) => maven_error(e),
    }
}

fn body_error(e: BodyError) -> Response {
    let (status, msg) = e.answer();
    text(status, msg)
}
