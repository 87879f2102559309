//! The OCI Distribution Spec 1.1 API at `/v2/`: pull, push (monolithic and chunked),
//! mounts, tags and catalog with pagination, deletes and referrers. Errors use the spec's
//! JSON form and status codes.

use super::http::{self, blocking, BodyError, Request, Response};
use super::Context;
use crate::digest::Digest;
use crate::proxy::{oci as up, ProxyError};
use crate::registry::oci::{self as store, OciError, Reference};
use crate::registry::uploads::{Upload, UploadError};
use std::sync::Arc;
use warp::http::{header, Method, StatusCode};

/// One OCI error, as the spec names it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// The spec's error body.
    pub fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, "{}", self.message);
        }
        let mut r = http::json(
            self.status,
            &serde_json::json!({"errors": [{"code": self.code, "message": self.message, "detail": {}}]}),
        );
        http::set(&mut r, "Docker-Distribution-API-Version", "registry/2.0");
        r
    }
}

impl From<OciError> for ApiError {
    fn from(e: OciError) -> Self {
        use StatusCode as S;
        let msg = e.to_string();
        match e {
            OciError::NameInvalid(_) => ApiError::new(S::BAD_REQUEST, "NAME_INVALID", msg),
            OciError::NameUnknown(_) => ApiError::new(S::NOT_FOUND, "NAME_UNKNOWN", msg),
            OciError::ManifestUnknown { .. } | OciError::NotMirrored { .. } => {
                ApiError::new(S::NOT_FOUND, "MANIFEST_UNKNOWN", msg)
            }
            OciError::ManifestInvalid(_) => ApiError::new(S::BAD_REQUEST, "MANIFEST_INVALID", msg),
            OciError::ManifestBlobUnknown(_) => {
                ApiError::new(S::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN", msg)
            }
            OciError::BlobUnknown(_) => ApiError::new(S::NOT_FOUND, "BLOB_UNKNOWN", msg),
            OciError::DigestInvalid(_) => ApiError::new(S::BAD_REQUEST, "DIGEST_INVALID", msg),
            OciError::Unsupported(_) => ApiError::new(S::METHOD_NOT_ALLOWED, "UNSUPPORTED", msg),
            OciError::Store(e) => internal(e),
        }
    }
}

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        let msg = e.to_string();
        match e {
            UploadError::Unknown(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN", msg)
            }
            UploadError::Busy(_) => ApiError::new(StatusCode::CONFLICT, "BLOB_UPLOAD_INVALID", msg),
            UploadError::TooMany(_) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS", msg)
            }
            UploadError::DigestMismatch { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "DIGEST_INVALID", msg)
            }
            UploadError::Store(e) => internal(e),
        }
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        internal(e)
    }
}

fn internal(e: crate::Error) -> ApiError {
    let (status, msg) = http::storage_failure(&e);
    ApiError::new(status, "UNKNOWN", msg)
}

fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::TooLarge(_) => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "SIZE_INVALID", e.to_string())
        }
        BodyError::Io(_) => {
            let (status, msg) = e.answer();
            ApiError::new(status, "BLOB_UPLOAD_INVALID", msg)
        }
        BodyError::Store(_) => {
            let (status, msg) = e.answer();
            ApiError::new(status, "UNKNOWN", msg)
        }
    }
}

type Result<T> = std::result::Result<T, ApiError>;

/// What a `/v2/` path asks for.
#[derive(Debug, PartialEq)]
enum Route {
    Base,
    Catalog,
    Tags(String),
    Manifest(String, String),
    StartUpload(String),
    Upload(String, String),
    Blob(String, String),
    Referrers(String, String),
}

fn route(path: &str) -> Result<Route> {
    let segs = http::decode_segments(path)
        .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "NAME_INVALID", m))?;
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("/v2/{path} is not an endpoint of the distribution API"),
        )
    };
    let name = |n: usize| -> Result<String> {
        if n == 0 {
            return Err(unknown());
        }
        let name = s[..n].join("/");
        store::check_name(&name)?;
        Ok(name)
    };
    let n = s.len();
    Ok(match s.as_slice() {
        [] | [""] => Route::Base,
        ["_catalog"] => Route::Catalog,
        [.., "tags", "list"] => Route::Tags(name(n - 2)?),
        [.., "blobs", "uploads", ""] | [.., "blobs", "uploads"] => {
            let k = if s[n - 1].is_empty() { 3 } else { 2 };
            Route::StartUpload(name(n - k)?)
        }
        [.., "blobs", "uploads", id] => Route::Upload(name(n - 3)?, id.to_string()),
        [.., "manifests", r] if !r.is_empty() => Route::Manifest(name(n - 2)?, r.to_string()),
        [.., "blobs", d] if !d.is_empty() => Route::Blob(name(n - 2)?, d.to_string()),
        [.., "referrers", d] if !d.is_empty() => Route::Referrers(name(n - 2)?, d.to_string()),
        _ => return Err(unknown()),
    })
}

/// Answers one request below `/v2/`.
pub async fn handle(ctx: Arc<Context>, req: Request) -> Response {
    let mut resp = match dispatch(ctx, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    http::set(&mut resp, "Docker-Distribution-API-Version", "registry/2.0");
    resp
}

async fn dispatch(ctx: Arc<Context>, mut req: Request) -> Result<Response> {
    let m = req.method.clone();
    match (route(&req.path)?, m) {
        (Route::Base, Method::GET | Method::HEAD) => {
            Ok(http::json(StatusCode::OK, &serde_json::json!({})))
        }
        (Route::Catalog, Method::GET) => catalog(ctx, &req).await,
        (Route::Tags(name), Method::GET) => tags(ctx, &req, name).await,
        (Route::Manifest(name, r), Method::GET | Method::HEAD) => {
            get_manifest(ctx, &req, name, r).await
        }
        (Route::Manifest(name, r), Method::PUT) => put_manifest(ctx, &mut req, name, r).await,
        (Route::Manifest(name, r), Method::DELETE) => delete_manifest(ctx, name, r).await,
        (Route::Blob(name, d), Method::GET | Method::HEAD) => get_blob(ctx, &req, name, d).await,
        (Route::Blob(_, d), Method::DELETE) => delete_blob(ctx, d).await,
        (Route::StartUpload(name), Method::POST) => start_upload(ctx, &mut req, name).await,
        (Route::Upload(name, id), Method::GET) => upload_status(ctx, name, id),
        (Route::Upload(name, id), Method::PATCH) => patch_upload(ctx, &mut req, name, id).await,
        (Route::Upload(name, id), Method::PUT) => finish_upload(ctx, &mut req, name, id).await,
        (Route::Upload(name, id), Method::DELETE) => {
            ctx.uploads.cancel(&name, &id)?;
            Ok(http::empty(StatusCode::NO_CONTENT))
        }
        (Route::Referrers(name, d), Method::GET) => referrers(ctx, &req, name, d).await,
        (_, m) => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            format!("{m} is not supported on /v2/{}", req.path),
        )),
    }
}

fn parse_digest(d: &str) -> Result<Digest> {
    d.parse::<Digest>().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            format!("'{d}' is not a digest this registry accepts (sha256:<64 hex>)"),
        )
    })
}

/// `n` and `last` pagination over a sorted list, with the `Link` to the next page.
fn paginate(req: &Request, all: Vec<String>, base: &str) -> Result<(Vec<String>, Option<String>)> {
    let last = req.param("last");
    let n = match req.param("n") {
        Some(n) => Some(n.parse::<usize>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "PAGINATION_NUMBER_INVALID",
                format!("n={n} is not a number"),
            )
        })?),
        None => None,
    };
    let rest: Vec<String> = match &last {
        Some(l) => all
            .into_iter()
            .filter(|x| x.as_str() > l.as_str())
            .collect(),
        None => all,
    };
    let Some(n) = n else {
        return Ok((rest, None));
    };
    let more = rest.len() > n;
    let page: Vec<String> = rest.into_iter().take(n).collect();
    let link = match (more, page.last()) {
        (true, Some(l)) => Some(format!(
            "<{base}?n={n}&last={}>; rel=\"next\"",
            percent_encoding::utf8_percent_encode(l, percent_encoding::NON_ALPHANUMERIC)
        )),
        _ => None,
    };
    Ok((page, link))
}

async fn catalog(ctx: Arc<Context>, req: &Request) -> Result<Response> {
    let c = ctx.clone();
    let all = blocking(move || store::catalog(&c.bundle)).await?;
    let (page, link) = paginate(req, all, "/v2/_catalog")?;
    let mut r = http::json(StatusCode::OK, &serde_json::json!({"repositories": page}));
    if let Some(l) = link {
        http::set(&mut r, header::LINK, &l);
    }
    Ok(r)
}

async fn tags(ctx: Arc<Context>, req: &Request, name: String) -> Result<Response> {
    let (c, n) = (ctx.clone(), name.clone());
    let own = blocking(move || store::tags(&c.bundle, &n)).await?;
    let all = match ctx.upstream("oci") {
        Some(proxy) => match (up::tags(&proxy, &ctx.bundle, &name).await, own) {
            (Ok(theirs), own) => {
                let mut all: Vec<String> = theirs
                    .into_iter()
                    .chain(own.into_iter().flatten())
                    .collect();
                all.sort();
                all.dedup();
                all
            }
            (Err(ProxyError::NotFound(_) | ProxyError::Unavailable(_)), Some(own)) => own,
            (Err(e), _) => return Err(failed(e, "NAME_UNKNOWN")),
        },
        None => own.ok_or_else(|| OciError::NameUnknown(name.clone()))?,
    };
    let (page, link) = paginate(req, all, &format!("/v2/{name}/tags/list"))?;
    let mut r = http::json(
        StatusCode::OK,
        &serde_json::json!({"name": name, "tags": page}),
    );
    if let Some(l) = link {
        http::set(&mut r, header::LINK, &l);
    }
    Ok(r)
}

fn parse_reference(name: &str, r: &str) -> Result<Reference> {
    Reference::parse(r).ok_or_else(|| {
        if r.contains(':') {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "DIGEST_INVALID",
                format!("'{r}' is not a digest this registry accepts (sha256:<64 hex>)"),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "MANIFEST_INVALID",
                format!("'{r}' is not a valid tag of {name}: tags match [A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}"),
            )
        }
    })
}

async fn get_manifest(
    ctx: Arc<Context>,
    req: &Request,
    name: String,
    r: String,
) -> Result<Response> {
    let unknown_name = name.clone();
    let reference = match parse_reference(&name, &r) {
        Ok(x) => x,
        Err(_) => {
            return Err(OciError::ManifestUnknown {
                repo: name,
                reference: r,
            }
            .into())
        }
    };
    if let Some(proxy) = ctx.upstream("oci") {
        if let Err(e) = up::manifest(&proxy, &ctx.bundle, &name, &reference).await {
            // the bundle answers what it holds while the upstream cannot
            let (c, n, rf) = (ctx.clone(), name.clone(), reference.clone());
            if !matches!(
                blocking(move || store::resolve(&c.bundle, &n, &rf)).await,
                Ok(Some(_))
            ) {
                return Err(failed(e, "MANIFEST_UNKNOWN"));
            }
        }
    }
    let c = ctx.clone();
    let fr = http::FileRequest::of(req);
    let answer = blocking(move || -> Result<Option<Response>> {
        let Some(found) = store::resolve(&c.bundle, &name, &reference)? else {
            if let store::Reference::Digest(d) = &reference {
                if let Some(e) = store::not_mirrored(&c.bundle, &name, d)? {
                    return Err(e.into());
                }
            }
            return Ok(None);
        };
        let mut resp = http::serve_blob(&fr, &c.bundle, &found.digest, &found.media_type)?;
        http::set(
            &mut resp,
            "Docker-Content-Digest",
            &found.digest.to_string(),
        );
        Ok(Some(resp))
    })
    .await?;
    answer.ok_or_else(|| {
        OciError::ManifestUnknown {
            repo: unknown_name,
            reference: r,
        }
        .into()
    })
}

async fn put_manifest(
    ctx: Arc<Context>,
    req: &mut Request,
    name: String,
    r: String,
) -> Result<Response> {
    let reference = parse_reference(&name, &r)?;
    let bytes = http::read_limited(req, ctx.limits.manifest)
        .await
        .map_err(body_error)?;
    let ct = req.header("content-type").map(str::to_string);
    let (c, n) = (ctx.clone(), name.clone());
    let pushed = http::writing(&ctx.bundle, false, move |_| {
        store::put_manifest(&c.bundle, &n, &reference, ct.as_deref(), &bytes)
    })
    .await?;
    let mut resp = http::empty(StatusCode::CREATED);
    http::set(
        &mut resp,
        header::LOCATION,
        &format!("/v2/{name}/manifests/{}", pushed.digest),
    );
    http::set(
        &mut resp,
        "Docker-Content-Digest",
        &pushed.digest.to_string(),
    );
    if let Some(s) = pushed.subject {
        http::set(&mut resp, "OCI-Subject", &s.to_string());
    }
    Ok(resp)
}

async fn delete_manifest(ctx: Arc<Context>, name: String, r: String) -> Result<Response> {
    let reference = parse_reference(&name, &r)?;
    let c = ctx.clone();
    http::writing(&ctx.bundle, false, move |_| {
        store::delete_manifest(&c.bundle, &name, &reference)
    })
    .await?;
    Ok(http::empty(StatusCode::ACCEPTED))
}

/// A pull-through failure as an OCI error: `code` when the upstream lacks it, else a 502.
fn failed(e: ProxyError, code: &'static str) -> ApiError {
    match e {
        ProxyError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, code, m),
        ProxyError::Unavailable(m) | ProxyError::Refused(m) => {
            ApiError::new(StatusCode::BAD_GATEWAY, "UNKNOWN", m)
        }
    }
}

async fn get_blob(ctx: Arc<Context>, req: &Request, name: String, d: String) -> Result<Response> {
    let digest = parse_digest(&d)?;
    if let Some(proxy) = ctx.upstream("oci") {
        if !ctx.bundle.has_blob(&digest) {
            up::blob(&proxy, &ctx.bundle, &name, &digest)
                .await
                .map_err(|e| failed(e, "BLOB_UNKNOWN"))?;
        }
    }
    let fr = http::FileRequest::of(req);
    let dg = digest.clone();
    let answer =
        blocking(move || http::serve_blob(&fr, &ctx.bundle, &dg, "application/octet-stream")).await;
    match answer {
        Ok(mut resp) => {
            http::set(&mut resp, "Docker-Content-Digest", &digest.to_string());
            Ok(resp)
        }
        Err(crate::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Err(OciError::BlobUnknown(digest.to_string()).into())
        }
        Err(e) => Err(internal(e)),
    }
}

async fn delete_blob(ctx: Arc<Context>, d: String) -> Result<Response> {
    let digest = parse_digest(&d)?;
    let c = ctx.clone();
    http::writing(&ctx.bundle, true, move |held| {
        store::delete_blob(&c.bundle, &c.usage, &digest, held)
    })
    .await?;
    Ok(http::empty(StatusCode::ACCEPTED))
}

fn upload_response(status: StatusCode, name: &str, u: &Upload) -> Response {
    let mut r = http::empty(status);
    http::set(
        &mut r,
        header::LOCATION,
        &format!("/v2/{name}/blobs/uploads/{}", u.id),
    );
    http::set(&mut r, "Docker-Upload-UUID", &u.id);
    http::set(
        &mut r,
        header::RANGE,
        &format!("0-{}", u.offset().saturating_sub(1)),
    );
    http::set(&mut r, header::CONTENT_LENGTH, "0");
    r
}

fn blob_created(name: &str, digest: &Digest) -> Response {
    let mut r = http::empty(StatusCode::CREATED);
    http::set(
        &mut r,
        header::LOCATION,
        &format!("/v2/{name}/blobs/{digest}"),
    );
    http::set(&mut r, "Docker-Content-Digest", &digest.to_string());
    http::set(&mut r, header::CONTENT_LENGTH, "0");
    r
}

async fn start_upload(ctx: Arc<Context>, req: &mut Request, name: String) -> Result<Response> {
    if let Some(mount) = req.param("mount") {
        let digest = parse_digest(&mount)?;
        if ctx.bundle.has_blob(&digest) {
            return Ok(blob_created(&name, &digest));
        }
    }
    let mut co = Checkout::new(&ctx, ctx.uploads.start(&name, &req.client())?);
    if let Some(d) = req.param("digest") {
        let digest = parse_digest(&d)?;
        return finish(ctx, req, name, co, digest).await;
    }
    if declared_body(req) {
        // a body on POST without a digest is not part of the spec; take it as a first chunk
        http::drain_into(req, &mut UploadSink(co.get()), 0, ctx.limits.blob)
            .await
            .map_err(body_error)?;
    }
    let resp = upload_response(StatusCode::ACCEPTED, &name, co.get());
    co.put_back();
    Ok(resp)
}

fn declared_body(req: &Request) -> bool {
    http::declared_length(req).is_some_and(|n| n > 0)
}

/// A session checked out for one request. Dropped without [`Checkout::put_back`] (an
/// error, or the client going away mid-body), it ends the session and its temp file.
struct Checkout {
    ctx: Arc<Context>,
    upload: Option<Upload>,
}

impl Checkout {
    fn new(ctx: &Arc<Context>, upload: Upload) -> Self {
        Checkout {
            ctx: ctx.clone(),
            upload: Some(upload),
        }
    }
    fn get(&mut self) -> &mut Upload {
        self.upload.as_mut().expect("checked out")
    }
    fn put_back(mut self) {
        let u = self.upload.take().expect("checked out");
        self.ctx.uploads.put_back(u);
    }
    /// Ends the session and hands over its bytes for the final digest check.
    fn take(mut self) -> Upload {
        let u = self.upload.take().expect("checked out");
        self.ctx.uploads.forget(&u.id);
        u
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Some(u) = self.upload.take() {
            self.ctx.uploads.forget(&u.id);
        }
    }
}

struct UploadSink<'a>(&'a mut Upload);

impl std::io::Write for UploadSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn upload_status(ctx: Arc<Context>, name: String, id: String) -> Result<Response> {
    let offset = ctx.uploads.offset(&name, &id)?;
    let mut r = http::empty(StatusCode::NO_CONTENT);
    http::set(
        &mut r,
        header::LOCATION,
        &format!("/v2/{name}/blobs/uploads/{id}"),
    );
    http::set(&mut r, "Docker-Upload-UUID", &id);
    http::set(
        &mut r,
        header::RANGE,
        &format!("0-{}", offset.saturating_sub(1)),
    );
    Ok(r)
}

/// Parses `Content-Range: <start>-<end>` (or the `bytes ` form some clients send).
fn content_range_start(v: &str) -> Option<u64> {
    let v = v.trim();
    let v = v.strip_prefix("bytes ").unwrap_or(v);
    let (a, _) = v.split_once('-')?;
    a.trim().parse().ok()
}

async fn patch_upload(
    ctx: Arc<Context>,
    req: &mut Request,
    name: String,
    id: String,
) -> Result<Response> {
    let mut co = Checkout::new(&ctx, ctx.uploads.take(&name, &id)?);
    let offset = co.get().offset();
    if let Some(cr) = req.header("content-range") {
        if content_range_start(cr) != Some(offset) {
            let mut r = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "BLOB_UPLOAD_INVALID",
                format!("chunk starts at {cr}, but the upload has {offset} bytes; send the chunk starting at {offset}"),
            )
            .into_response();
            http::set(
                &mut r,
                header::LOCATION,
                &format!("/v2/{name}/blobs/uploads/{id}"),
            );
            http::set(
                &mut r,
                header::RANGE,
                &format!("0-{}", offset.saturating_sub(1)),
            );
            http::set(&mut r, "Docker-Upload-UUID", &id);
            co.put_back();
            return Ok(r);
        }
    }
    http::drain_into(req, &mut UploadSink(co.get()), offset, ctx.limits.blob)
        .await
        .map_err(body_error)?;
    let r = upload_response(StatusCode::ACCEPTED, &name, co.get());
    co.put_back();
    Ok(r)
}

async fn finish_upload(
    ctx: Arc<Context>,
    req: &mut Request,
    name: String,
    id: String,
) -> Result<Response> {
    let digest = match req.param("digest") {
        Some(d) => parse_digest(&d)?,
        None => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "DIGEST_INVALID",
                "PUT to finish an upload needs ?digest=sha256:<hex>",
            ))
        }
    };
    let co = Checkout::new(&ctx, ctx.uploads.take(&name, &id)?);
    finish(ctx, req, name, co, digest).await
}

async fn finish(
    ctx: Arc<Context>,
    req: &mut Request,
    name: String,
    mut co: Checkout,
    digest: Digest,
) -> Result<Response> {
    let before = co.get().offset();
    http::drain_into(req, &mut UploadSink(co.get()), before, ctx.limits.blob)
        .await
        .map_err(body_error)?;
    let upload = co.take();
    let d = digest.clone();
    let c = ctx.clone();
    blocking(move || upload.finish(&c.bundle, &d)).await?;
    Ok(blob_created(&name, &digest))
}

async fn referrers(ctx: Arc<Context>, req: &Request, name: String, d: String) -> Result<Response> {
    let digest = parse_digest(&d)?;
    let filter = req.param("artifactType");
    let f = filter.clone();
    let index =
        blocking(move || store::referrers(&ctx.bundle, &name, &digest, f.as_deref())).await?;
    let mut r = http::with_body(
        StatusCode::OK,
        crate::bundle::oci::INDEX_V1,
        serde_json::to_vec(&index).expect("json"),
    );
    if filter.is_some() {
        http::set(&mut r, "OCI-Filters-Applied", "artifactType");
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("").unwrap(), Route::Base);
        assert_eq!(
            route("a/b/c/d/manifests/v1").unwrap(),
            Route::Manifest("a/b/c/d".into(), "v1".into())
        );
        assert_eq!(
            route("a/blobs/uploads/").unwrap(),
            Route::StartUpload("a".into())
        );
        assert_eq!(
            route("a/blobs/uploads/x-y").unwrap(),
            Route::Upload("a".into(), "x-y".into())
        );
        assert_eq!(route("a/tags/list").unwrap(), Route::Tags("a".into()));
        assert_eq!(
            route("manifests/tags/list").unwrap(),
            Route::Tags("manifests".into())
        );
        for bad in [
            "../etc/manifests/x",
            "a%2fb/manifests/x",
            "A/manifests/x",
            "a/%2e%2e/tags/list",
        ] {
            assert_eq!(route(bad).unwrap_err().code, "NAME_INVALID", "{bad}");
        }
    }
}
