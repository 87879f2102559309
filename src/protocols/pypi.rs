//! The PyPI simple repository API at `/simple/`: PEP 503 HTML and PEP 691 JSON by content
//! negotiation, normalized names with redirects, sha256 fragments, `data-requires-python`,
//! yanked files (PEP 592), core metadata files (PEP 658/714), and uploads with the legacy
//! form twine posts to the index root.

use super::http::{self, blocking, text_error as text, BodyError, Request, Response};
use super::Context;
use crate::ecosystems::pypi::normalize;
use crate::proxy::{pypi as up, ProxyError};
use crate::registry::pypi::{self as store, PypiError};
use futures_util::StreamExt;
use std::io::Write;
use std::sync::Arc;
use warp::http::{header, Method, StatusCode};

const JSON: &str = "application/vnd.pypi.simple.v1+json";
const HTML: &str = "text/html; charset=utf-8";

fn pypi_error(e: PypiError) -> Response {
    let status = match &e {
        PypiError::Invalid(_) => StatusCode::BAD_REQUEST,
        PypiError::Exists(_) => StatusCode::CONFLICT,
        PypiError::NotFound(_) => StatusCode::NOT_FOUND,
        PypiError::Store(e) => {
            let (status, msg) = http::storage_failure(e);
            return text(status, msg);
        }
    };
    text(status, e)
}

fn redirect(to: &str) -> Response {
    let mut r = http::empty(StatusCode::MOVED_PERMANENTLY);
    http::set(&mut r, header::LOCATION, to);
    r
}

/// True when the client prefers PEP 691 JSON to HTML.
fn wants_json(req: &Request) -> bool {
    if req.param("format").as_deref() == Some(JSON) {
        return true;
    }
    let Some(accept) = req.header("accept") else {
        return false;
    };
    let q = |ty: &str| -> f32 {
        accept
            .split(',')
            .map(str::trim)
            .filter(|p| p.split(';').next().map(str::trim) == Some(ty))
            .map(|p| {
                p.split(';')
                    .skip(1)
                    .find_map(|x| x.trim().strip_prefix("q=")?.parse().ok())
                    .unwrap_or(1.0)
            })
            .fold(0.0, f32::max)
    };
    let json = q(JSON);
    json > 0.0 && json >= q("application/vnd.pypi.simple.v1+html").max(q("text/html"))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn href(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'+')
        .remove(b'!');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

/// Answers one request below `/simple/`.
pub async fn handle(ctx: Arc<Context>, mut req: Request) -> Response {
    let segs = match http::decode_segments(&req.path) {
        Ok(s) => s,
        Err(m) => return text(StatusCode::BAD_REQUEST, m),
    };
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = req.method.clone();
    match (s.as_slice(), &m) {
        ([""], &Method::POST) | ([], &Method::POST) => upload(ctx, &mut req).await,
        ([""], &Method::GET | &Method::HEAD) | ([], &Method::GET | &Method::HEAD) => {
            index(ctx, &req).await
        }
        ([project], &Method::GET | &Method::HEAD) if !project.is_empty() => {
            redirect(&format!("/simple/{}/", href(&normalize(project))))
        }
        ([project, ""], &Method::GET | &Method::HEAD) => {
            if normalize(project) != *project {
                return redirect(&format!("/simple/{}/", href(&normalize(project))));
            }
            project_page(ctx, &req, project.to_string()).await
        }
        ([project, file], &Method::GET | &Method::HEAD) if !file.is_empty() => {
            download(ctx, &req, project.to_string(), file.to_string()).await
        }
        _ => text(
            StatusCode::NOT_FOUND,
            format!("{m} /simple/{} is not served here", req.path),
        ),
    }
}

async fn index(ctx: Arc<Context>, req: &Request) -> Response {
    let projects = match blocking(move || store::projects(&ctx.bundle)).await {
        Ok(p) => p,
        Err(e) => return pypi_error(e),
    };
    if wants_json(req) {
        let list: Vec<_> = projects
            .iter()
            .map(|p| serde_json::json!({"name": p}))
            .collect();
        return http::with_body(
            StatusCode::OK,
            JSON,
            serde_json::to_vec(
                &serde_json::json!({"meta": {"api-version": "1.1"}, "projects": list}),
            )
            .expect("json"),
        );
    }
    let mut html = String::from("<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\"><title>Simple index</title></head><body>\n");
    for p in &projects {
        html.push_str(&format!("<a href=\"{}/\">{}</a><br/>\n", href(p), esc(p)));
    }
    html.push_str("</body></html>\n");
    http::with_body(StatusCode::OK, HTML, html)
}

/// One file on a project page, from the bundle or from the upstream's page.
struct Listed {
    filename: String,
    sha256: Option<String>,
    requires_python: Option<String>,
    yanked: Option<String>,
    /// SHA-256 of the core metadata file nora can serve beside it.
    core_metadata: Option<String>,
    size: Option<u64>,
    upload_time: Option<String>,
}

impl Listed {
    fn own(added: String, f: crate::bundle::refs::PypiFile) -> Listed {
        Listed {
            sha256: Some(f.digest.hex().to_string()),
            core_metadata: f.metadata.map(|d| d.hex().to_string()),
            size: Some(f.size),
            upload_time: Some(added),
            filename: f.filename,
            requires_python: f.requires_python,
            yanked: f.yanked,
        }
    }

    /// A file the bundle does not hold yet: its core metadata is not offered, so that a
    /// client fetches the file itself, which the pull stores whole.
    fn upstream(f: crate::upstream::simple::IndexFile) -> Listed {
        Listed {
            filename: f.filename,
            sha256: f.sha256,
            requires_python: f.requires_python,
            yanked: f.yanked,
            core_metadata: None,
            size: f.size,
            upload_time: None,
        }
    }
}

async fn project_page(ctx: Arc<Context>, req: &Request, project: String) -> Response {
    let (b, p) = (ctx.bundle.clone(), project.clone());
    let own = match blocking(move || store::files(&b, &p)).await {
        Ok(f) => f,
        Err(e) => return pypi_error(e),
    };
    let mut files: Vec<Listed> = Vec::new();
    if let Some(proxy) = ctx.upstream("pypi") {
        match up::files(&proxy, &ctx.bundle, &project).await {
            Ok(listed) => {
                files = listed
                    .into_iter()
                    .filter(|f| !own.iter().any(|(_, o)| o.filename == f.filename))
                    .map(Listed::upstream)
                    .collect()
            }
            // a project uploaded to nora alone, or an upstream down: the bundle answers
            Err(ProxyError::NotFound(_) | ProxyError::Unavailable(_)) if !own.is_empty() => {}
            Err(e) => return failed(e),
        }
    }
    files.extend(own.into_iter().map(|(added, f)| Listed::own(added, f)));
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    if files.is_empty() {
        return text(
            StatusCode::NOT_FOUND,
            format!("project {project} is not in this index"),
        );
    }
    if wants_json(req) {
        let mut versions: Vec<String> = files
            .iter()
            .filter_map(|f| crate::ecosystems::pypi::filename_version(&f.filename))
            .collect();
        versions.sort();
        versions.dedup();
        let list: Vec<_> = files
            .iter()
            .map(|f| {
                let yanked = match &f.yanked {
                    Some(r) if !r.is_empty() => serde_json::json!(r),
                    Some(_) => serde_json::json!(true),
                    None => serde_json::json!(false),
                };
                let hashes = match &f.sha256 {
                    Some(h) => serde_json::json!({"sha256": h}),
                    None => serde_json::json!({}),
                };
                let mut v = serde_json::json!({
                    "filename": f.filename, "url": href(&f.filename),
                    "hashes": hashes, "yanked": yanked,
                });
                if let Some(n) = f.size {
                    v["size"] = serde_json::json!(n);
                }
                if let Some(t) = &f.upload_time {
                    v["upload-time"] = serde_json::json!(t);
                }
                // PEP 714: only `core-metadata` in JSON. pip 22.3 to 23.0 (Debian bookworm's)
                // crash on a `dist-info-metadata` object, and on `false`, so neither is sent.
                if let Some(d) = &f.core_metadata {
                    v["core-metadata"] = serde_json::json!({"sha256": d});
                }
                if let Some(rp) = &f.requires_python {
                    v["requires-python"] = serde_json::json!(rp);
                }
                v
            })
            .collect();
        // PEP 700's 1.1 makes `size` required; a page with an upstream file of unknown size
        // is a 1.0 page
        let api = if files.iter().all(|f| f.size.is_some()) {
            "1.1"
        } else {
            "1.0"
        };
        let doc = serde_json::json!({"meta": {"api-version": api}, "name": project, "files": list, "versions": versions});
        return http::with_body(
            StatusCode::OK,
            JSON,
            serde_json::to_vec(&doc).expect("json"),
        );
    }
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\"><title>Links for {p}</title></head><body><h1>Links for {p}</h1>\n",
        p = esc(&project)
    );
    for f in &files {
        let mut attrs = String::new();
        if let Some(rp) = &f.requires_python {
            attrs.push_str(&format!(" data-requires-python=\"{}\"", esc(rp)));
        }
        if let Some(h) = &f.core_metadata {
            attrs.push_str(&format!(
                " data-dist-info-metadata=\"sha256={h}\" data-core-metadata=\"sha256={h}\""
            ));
        }
        if let Some(r) = &f.yanked {
            attrs.push_str(&format!(" data-yanked=\"{}\"", esc(r)));
        }
        let fragment = f
            .sha256
            .as_ref()
            .map(|h| format!("#sha256={h}"))
            .unwrap_or_default();
        html.push_str(&format!(
            "<a href=\"{}{fragment}\"{attrs}>{}</a><br/>\n",
            href(&f.filename),
            esc(&f.filename)
        ));
    }
    html.push_str("</body></html>\n");
    http::with_body(StatusCode::OK, HTML, html)
}

/// A pull-through failure as PyPI's plain text error.
fn failed(e: ProxyError) -> Response {
    text(super::upstream_status(&e), e)
}

async fn download(ctx: Arc<Context>, req: &Request, project: String, file: String) -> Response {
    if let Some(proxy) = ctx.upstream("pypi") {
        let name = file.strip_suffix(".metadata").unwrap_or(&file).to_string();
        let (b, p, n) = (ctx.bundle.clone(), normalize(&project), name.clone());
        if let Ok(None) = blocking(move || store::file(&b, &p, &n)).await {
            if let Err(e) = up::file(&proxy, &ctx.bundle, &project, &name).await {
                return failed(e);
            }
        }
    }
    let fr = http::FileRequest::of(req);
    let answer = blocking(move || -> Result<Option<Response>, PypiError> {
        let (name, metadata) = match file.strip_suffix(".metadata") {
            Some(n) => (n, true),
            None => (file.as_str(), false),
        };
        let Some(f) = store::file(&ctx.bundle, &normalize(&project), name)? else {
            return Ok(None);
        };
        let digest = if metadata {
            match &f.metadata {
                Some(d) => d.clone(),
                None => return Ok(None),
            }
        } else {
            f.digest.clone()
        };
        let ct = if metadata {
            "text/plain; charset=utf-8"
        } else {
            "application/octet-stream"
        };
        Ok(Some(http::serve_blob(&fr, &ctx.bundle, &digest, ct)?))
    })
    .await;
    match answer {
        Ok(Some(r)) => r,
        Ok(None) => text(StatusCode::NOT_FOUND, "no such file in this index"),
        Err(e) => pypi_error(e),
    }
}

/// Largest form field other than the file.
const MAX_FIELD: usize = 1 << 20;
/// Room for the form's other fields and framing beside the file.
const MAX_FORM: u64 = 16 << 20;

/// The answer to a failure of the server's storage.
fn stored(e: crate::Error) -> Response {
    let (status, msg) = http::storage_failure(&e);
    text(status, msg)
}

/// The answer to a form that broke off or went past a cap.
fn form_error(e: multer::Error, limit: Option<u64>) -> Response {
    match e {
        multer::Error::FieldSizeExceeded { field_name, .. }
            if field_name.as_deref() == Some("content") =>
        {
            text(
                StatusCode::PAYLOAD_TOO_LARGE,
                BodyError::TooLarge(limit.unwrap_or_default()),
            )
        }
        multer::Error::FieldSizeExceeded { field_name, .. } => text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "form field {} is over 1 MiB",
                field_name.unwrap_or_else(|| "(unnamed)".into())
            ),
        ),
        multer::Error::StreamSizeExceeded { limit } => text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the upload is over {limit} bytes"),
        ),
        e => text(
            StatusCode::BAD_REQUEST,
            format!("malformed multipart body: {e}"),
        ),
    }
}

async fn upload(ctx: Arc<Context>, req: &mut Request) -> Response {
    let Some(boundary) = req
        .header("content-type")
        .and_then(|ct| multer::parse_boundary(ct).ok())
    else {
        return text(
            StatusCode::BAD_REQUEST,
            "an upload is a multipart/form-data POST",
        );
    };
    let body = std::mem::replace(&mut req.body, Box::pin(futures_util::stream::empty()));
    let limit = ctx.limits.publish;
    // caps checked as the bytes arrive: the file against the publish limit, every other
    // field against MAX_FIELD
    let mut sizes = multer::SizeLimit::new().per_field(MAX_FIELD as u64);
    if let Some(l) = limit {
        sizes = sizes
            .for_field("content", l)
            .whole_stream(l.saturating_add(MAX_FORM));
    } else {
        sizes = sizes.for_field("content", u64::MAX);
    }
    let mut form = multer::Multipart::with_constraints(
        body,
        boundary,
        multer::Constraints::new().size_limit(sizes),
    );
    let dir = match ctx.bundle.work_dir().and_then(|w| {
        tempfile::Builder::new()
            .prefix("pypi-upload-")
            .tempdir_in(&w)
            .map_err(|e| crate::Error::Io {
                action: "create temp dir in",
                path: w,
                source: e,
            })
    }) {
        Ok(d) => d,
        Err(e) => return stored(e),
    };
    let mut fields = store::Upload::default();
    let mut action = None;
    let mut content = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return form_error(e, limit),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "content" {
            let filename = field.file_name().unwrap_or_default().to_string();
            if filename.is_empty()
                || filename.contains(['/', '\\', '\0'])
                || filename.starts_with('.')
            {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("invalid upload file name '{}'", filename.escape_debug()),
                );
            }
            let path = dir.path().join(&filename);
            let mut out = match std::fs::File::create(&path) {
                Ok(f) => f,
                Err(source) => {
                    return stored(crate::Error::Io {
                        action: "create the upload's file",
                        path,
                        source,
                    })
                }
            };
            let mut field = field;
            loop {
                match field.next().await {
                    None => break,
                    Some(Err(e)) => return form_error(e, limit),
                    Some(Ok(chunk)) => {
                        if let Err(source) = tokio::task::block_in_place(|| out.write_all(&chunk)) {
                            return stored(crate::Error::Io {
                                action: "write the upload",
                                path,
                                source,
                            });
                        }
                    }
                }
            }
            content = Some(path);
            continue;
        }
        let value = match field.bytes().await {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => return form_error(e, limit),
        };
        match name.as_str() {
            ":action" => action = Some(value),
            "name" => fields.name = value,
            "version" => fields.version = value,
            "sha256_digest" if !value.is_empty() => fields.sha256 = Some(value),
            "md5_digest" if !value.is_empty() => fields.md5 = Some(value),
            _ => {}
        }
    }
    if action.as_deref() != Some("file_upload") {
        return text(
            StatusCode::BAD_REQUEST,
            "only :action=file_upload is supported",
        );
    }
    let Some(content) = content else {
        return text(StatusCode::BAD_REQUEST, "the upload has no `content` file");
    };
    let c = ctx.clone();
    let result = http::writing(&ctx.bundle, false, move |_| {
        let r = store::upload(&c.bundle, &fields, &content);
        drop(dir);
        r
    })
    .await;
    match result {
        Ok(f) => {
            tracing::info!(project = %f.project, file = %f.filename, "PyPI file uploaded");
            text(StatusCode::OK, format!("stored {}", f.filename))
        }
        Err(e) => pypi_error(e),
    }
}
