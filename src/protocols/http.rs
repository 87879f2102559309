//! HTTP plumbing shared by the protocol modules: the request type, file responses with
//! ranges and validators, bounded body reads, streaming bodies into blobs, and path
//! decoding that refuses traversal.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use warp::http::{header, HeaderMap, HeaderValue, Method, StatusCode};

/// A request body, streamed.
pub type Body = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send + Sync>>;

/// `body`, failing with `TimedOut` when the client sends nothing for `limit` while a
/// handler waits for it, so a client that vanishes mid-body holds nothing for long.
pub fn stalls_after(body: Body, limit: std::time::Duration) -> Body {
    Box::pin(Stalling {
        inner: body,
        limit,
        timer: None,
    })
}

struct Stalling {
    inner: Body,
    limit: std::time::Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Stream for Stalling {
    type Item = Result<Bytes, io::Error>;
    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::future::Future;
        use std::task::Poll;
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(item) => {
                self.timer = None;
                Poll::Ready(item)
            }
            Poll::Pending => {
                let limit = self.limit;
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("the client sent nothing for {} s", limit.as_secs()),
                    )))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}
/// A response.
pub type Response = warp::http::Response<warp::hyper::Body>;

/// One request as a protocol module sees it.
pub struct Request {
    /// Method.
    pub method: Method,
    /// The path below the protocol's mount, still percent-encoded, without the leading `/`.
    pub path: String,
    /// The raw query string (may be empty).
    pub query: String,
    /// Headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Body,
    /// The peer's address.
    pub peer: Option<std::net::IpAddr>,
    /// The authenticated caller's name, if any.
    pub user: Option<String>,
}

impl Request {
    /// Who sent it, as the per-client limits count: the authenticated user, else the peer's
    /// address.
    pub fn client(&self) -> String {
        match (&self.user, self.peer) {
            (Some(u), _) => format!("user {u}"),
            (None, Some(ip)) => ip.to_string(),
            (None, None) => "unknown".into(),
        }
    }

    /// A header as text, if present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Decoded query parameters.
    pub fn query_params(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode_query(k), decode_query(v))
            })
            .collect()
    }

    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query_params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

fn decode_query(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Splits an encoded path into decoded segments. Refuses `.` and `..` segments (plain or
/// encoded), an encoded `/` or `\`, NUL, control characters and invalid UTF-8; the message
/// says which. A trailing `/` yields a final empty segment.
pub fn decode_segments(path: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for raw in path.split('/') {
        let seg = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| format!("path segment '{raw}' is not valid UTF-8"))?;
        if seg == "." || seg == ".." {
            return Err(format!(
                "path segment '{raw}' is a dot segment; paths may not climb"
            ));
        }
        if seg.contains('/') || seg.contains('\\') {
            return Err(format!(
                "path segment '{raw}' holds an encoded '/' or '\\'; paths may not hide separators"
            ));
        }
        if seg.chars().any(char::is_control) {
            return Err(format!("path segment '{raw}' holds a control character"));
        }
        out.push(seg.into_owned());
    }
    Ok(out)
}

/// The URL this server is reached at by the client of `req`: the configured public URL,
/// else `X-Forwarded-Proto` and `X-Forwarded-Host`, else `http://` and `Host`.
pub fn base_url(req: &Request, public: Option<&str>) -> String {
    if let Some(p) = public {
        return p.trim_end_matches('/').to_string();
    }
    let proto = req
        .header("x-forwarded-proto")
        .and_then(|p| p.split(',').next())
        .map(str::trim)
        .filter(|p| *p == "http" || *p == "https")
        .unwrap_or("http");
    let host = req
        .header("x-forwarded-host")
        .and_then(|h| h.split(',').next())
        .map(str::trim)
        .or(req.header("host"))
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'"')
        })
        .unwrap_or("127.0.0.1");
    format!("{proto}://{host}")
}

/// A response with no body.
pub fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(warp::hyper::Body::empty());
    *r.status_mut() = status;
    r
}

/// A response with a body and its content type.
pub fn with_body(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response {
    let body: Bytes = body.into();
    let mut r = Response::new(warp::hyper::Body::from(body.clone()));
    *r.status_mut() = status;
    set(&mut r, header::CONTENT_TYPE, content_type);
    set(&mut r, header::CONTENT_LENGTH, &body.len().to_string());
    r
}

/// A plain-text error, the form the go command, pip and Maven print; server errors are
/// logged.
pub fn text_error(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    if status.is_server_error() {
        tracing::error!("{msg}");
    }
    with_body(status, "text/plain; charset=utf-8", format!("{msg}\n"))
}

/// A `{"error": …}` JSON error, the form npm prints; server errors are logged.
pub fn json_error(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    if status.is_server_error() {
        tracing::error!("{msg}");
    }
    json(status, &serde_json::json!({"error": msg.to_string()}))
}

/// A JSON response.
pub fn json(status: StatusCode, v: &serde_json::Value) -> Response {
    with_body(
        status,
        "application/json",
        serde_json::to_vec(v).expect("json"),
    )
}

/// Sets a header when the value is valid header text (it always is for what nora builds).
pub fn set(r: &mut Response, name: impl header::IntoHeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// A byte range of a file of `size` bytes, inclusive of `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte.
    pub end: u64,
}

/// How a `Range` header applies to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// No (usable) range: send everything.
    Full,
    /// Send this part with 206.
    Part(ByteRange),
    /// Answer 416.
    Unsatisfiable,
}

/// Interprets a `Range` header for a file of `size` bytes. A single `bytes=` range is
/// honoured; several ranges or other units fall back to the full body, as RFC 9110 allows.
pub fn parse_range(value: Option<&str>, size: u64) -> RangeAnswer {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeAnswer::Full;
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        match b.parse::<u64>() {
            Ok(0) => return RangeAnswer::Unsatisfiable,
            Ok(n) if size > 0 => ByteRange {
                start: size.saturating_sub(n),
                end: size - 1,
            },
            Ok(_) => return RangeAnswer::Unsatisfiable,
            Err(_) => return RangeAnswer::Full,
        }
    } else {
        let Ok(start) = a.parse::<u64>() else {
            return RangeAnswer::Full;
        };
        let end = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            match b.parse::<u64>() {
                Ok(e) if e >= start => e.min(size.saturating_sub(1)),
                _ => return RangeAnswer::Full,
            }
        };
        if start >= size {
            return RangeAnswer::Unsatisfiable;
        }
        ByteRange { start, end }
    };
    RangeAnswer::Part(range)
}

/// How to describe a file being served.
pub struct FileMeta<'a> {
    /// Content type.
    pub content_type: &'a str,
    /// Strong validator, already quoted.
    pub etag: &'a str,
}

/// The parts of a request that decide how a file is answered, owned so the answer can be
/// built on a blocking thread.
#[derive(Debug, Clone)]
pub struct FileRequest {
    head: bool,
    range: Option<String>,
    if_none_match: Option<String>,
}

impl FileRequest {
    /// Takes method, `Range` and `If-None-Match` from a request.
    pub fn of(req: &Request) -> FileRequest {
        FileRequest {
            head: req.method == Method::HEAD,
            range: req.header("range").map(str::to_string),
            if_none_match: req.header("if-none-match").map(str::to_string),
        }
    }
}

/// Answers with a blob of the bundle, its digest as the ETag (see [`serve_file`]).
pub fn serve_blob(
    fr: &FileRequest,
    bundle: &crate::Bundle,
    digest: &crate::Digest,
    content_type: &str,
) -> crate::Result<Response> {
    let path = bundle.blob_path(digest);
    let etag = format!("\"{digest}\"");
    serve_file(
        fr,
        &path,
        FileMeta {
            content_type,
            etag: &etag,
        },
    )
    .map_err(|source| crate::Error::Io {
        action: "serve blob",
        path,
        source,
    })
}

/// The `Content-Security-Policy` of every stored file served.
pub const UPLOADED_CSP: &str = "default-src 'none'; sandbox";

/// Bodies up to this size are read at once with the lookup; larger ones stream.
const SMALL_BODY: u64 = 64 * 1024;
/// Read size when streaming a large body.
const CHUNK: usize = 256 * 1024;

/// Answers with a file (or the requested range of it), on a blocking thread: open, stat
/// and, for small bodies, the read happen in one go; large bodies stream afterwards in
/// constant memory. `HEAD` gets headers only; `If-None-Match` matching the ETag gives 304.
pub fn serve_file(fr: &FileRequest, path: &Path, meta: FileMeta<'_>) -> io::Result<Response> {
    use std::io::{Read, Seek};
    let mut f = std::fs::File::open(path)?;
    let size = f.metadata()?.len();
    if fr.if_none_match.as_deref().is_some_and(|v| {
        v.split(',')
            .any(|t| t.trim() == meta.etag || t.trim() == "*")
    }) {
        let mut r = empty(StatusCode::NOT_MODIFIED);
        set(&mut r, header::ETAG, meta.etag);
        return Ok(r);
    }
    let (status, start, len) = match parse_range(fr.range.as_deref(), size) {
        RangeAnswer::Full => (StatusCode::OK, 0, size),
        RangeAnswer::Part(r) => (StatusCode::PARTIAL_CONTENT, r.start, r.end - r.start + 1),
        RangeAnswer::Unsatisfiable => {
            let mut r = empty(StatusCode::RANGE_NOT_SATISFIABLE);
            set(&mut r, header::CONTENT_RANGE, &format!("bytes */{size}"));
            return Ok(r);
        }
    };
    if start > 0 && !fr.head {
        f.seek(io::SeekFrom::Start(start))?;
    }
    let mut r = if fr.head {
        empty(status)
    } else if len <= SMALL_BODY {
        let mut buf = Vec::with_capacity(len as usize);
        f.take(len).read_to_end(&mut buf)?;
        if buf.len() as u64 != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} is shorter than its size", path.display()),
            ));
        }
        let mut r = Response::new(warp::hyper::Body::from(buf));
        *r.status_mut() = status;
        r
    } else {
        let stream = FileStream {
            file: f,
            remaining: len,
            buf: bytes::BytesMut::new(),
        };
        let mut r = Response::new(warp::hyper::Body::wrap_stream(stream));
        *r.status_mut() = status;
        r
    };
    set(&mut r, header::CONTENT_TYPE, meta.content_type);
    set(&mut r, header::CONTENT_LENGTH, &len.to_string());
    set(&mut r, header::ETAG, meta.etag);
    set(&mut r, header::ACCEPT_RANGES, "bytes");
    // stored bytes came from an uploader: a browser shows them inert, in a sandbox with no
    // scripts, no forms and no access to this origin (its cookies and credentials)
    set(&mut r, header::CONTENT_SECURITY_POLICY, UPLOADED_CSP);
    if status == StatusCode::PARTIAL_CONTENT {
        set(
            &mut r,
            header::CONTENT_RANGE,
            &format!("bytes {start}-{}/{size}", start + len - 1),
        );
    }
    Ok(r)
}

/// A file part as a body stream. Each poll reads one chunk synchronously: blobs are
/// immutable files, mostly in the page cache, and a read of 256 KiB costs less than handing
/// it to another thread and back.
struct FileStream {
    file: std::fs::File,
    remaining: u64,
    buf: bytes::BytesMut,
}

impl Stream for FileStream {
    type Item = io::Result<Bytes>;
    fn poll_next(
        mut self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::io::Read;
        if self.remaining == 0 {
            return std::task::Poll::Ready(None);
        }
        let want = self.remaining.min(CHUNK as u64) as usize;
        // the buffer of the chunk before is reused once the connection has sent it, so a
        // stream allocates one buffer, not one per chunk
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.reserve(want);
        buf.resize(want, 0);
        let mut filled = 0;
        while filled < want {
            match self.file.read(&mut buf[filled..]) {
                Ok(0) => {
                    return std::task::Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "blob is shorter than its size",
                    ))))
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return std::task::Poll::Ready(Some(Err(e))),
            }
        }
        self.remaining -= want as u64;
        let chunk = buf.split().freeze();
        self.buf = buf;
        std::task::Poll::Ready(Some(Ok(chunk)))
    }
}

/// Why reading a body failed.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is larger than allowed.
    #[error("request body is larger than the limit of {size} ({0} bytes)", size = bytesize::ByteSize(*.0))]
    TooLarge(u64),
    /// The connection failed mid-body.
    #[error("reading the request body failed: {0}")]
    Io(#[from] io::Error),
    /// Storing the body failed (the server's fault, not the client's).
    #[error("storing the request body failed: {0}")]
    Store(io::Error),
}

impl BodyError {
    /// The status and message to answer with.
    pub fn answer(self) -> (StatusCode, String) {
        match self {
            BodyError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, self.to_string()),
            BodyError::Io(ref e) if e.kind() == io::ErrorKind::TimedOut => {
                (StatusCode::REQUEST_TIMEOUT, self.to_string())
            }
            BodyError::Io(_) => (StatusCode::BAD_REQUEST, self.to_string()),
            BodyError::Store(source) => storage_failure(&crate::Error::Io {
                action: "store the request body",
                path: Default::default(),
                source,
            }),
        }
    }
}

/// How a failure of the server's own storage is answered: `507 Insufficient Storage` when
/// its disk or quota is full, else `500`. The message names no server path; the whole
/// error goes to the log.
pub fn storage_failure(e: &crate::Error) -> (StatusCode, String) {
    tracing::error!("storage failure: {e}");
    if e.is_disk_full() {
        (
            StatusCode::INSUFFICIENT_STORAGE,
            "the server's storage is full: free space on it (or raise its quota), then retry"
                .into(),
        )
    } else {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error: {}", e.public()),
        )
    }
}

/// Reads a whole (small) body, refusing more than `limit` bytes; a `Content-Length` over
/// the limit is refused before anything is read.
pub async fn read_limited(req: &mut Request, limit: u64) -> Result<Vec<u8>, BodyError> {
    let declared = declared_length(req);
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    let mut out = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = req.body.next().await {
        let chunk = chunk?;
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Err(BodyError::TooLarge(limit));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// [`read_limited`] for bodies held whole in memory while they are handled: first takes
/// room for the body (its declared length, else `limit`) in `budget`, whose permits are
/// MiB, and waits while other bodies fill it. The room is given back when the permit is
/// dropped.
pub async fn read_budgeted(
    req: &mut Request,
    limit: u64,
    budget: Arc<tokio::sync::Semaphore>,
) -> Result<(Vec<u8>, tokio::sync::OwnedSemaphorePermit), BodyError> {
    let size = declared_length(req).unwrap_or(limit).min(limit);
    if declared_length(req).is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    let mib = size.div_ceil(1 << 20).clamp(1, BODY_BUDGET_MIB as u64) as u32;
    let permit = budget
        .acquire_many_owned(mib)
        .await
        .map_err(|_| BodyError::Io(io::Error::other("the server is shutting down")))?;
    Ok((read_limited(req, limit).await?, permit))
}

/// MiB of request bodies the server holds in memory at once (npm publishes).
pub const BODY_BUDGET_MIB: usize = 512;

/// The `Content-Length` the client declared.
pub fn declared_length(req: &Request) -> Option<u64> {
    req.header("content-length").and_then(|v| v.parse().ok())
}

/// Streams the body into `sink` (a blob writer or upload), refusing to go past `limit`
/// total bytes, where `already` bytes were written before. Writes run on the blocking
/// pool's terms via `block_in_place`, so the reactor keeps serving others.
pub async fn drain_into<W: io::Write>(
    req: &mut Request,
    sink: &mut W,
    already: u64,
    limit: Option<u64>,
) -> Result<u64, BodyError> {
    if let (Some(limit), Some(n)) = (limit, declared_length(req)) {
        if already + n > limit {
            return Err(BodyError::TooLarge(limit));
        }
    }
    let mut total = 0u64;
    while let Some(chunk) = req.body.next().await {
        let chunk = chunk?;
        total += chunk.len() as u64;
        if limit.is_some_and(|l| already + total > l) {
            return Err(BodyError::TooLarge(limit.unwrap_or_default()));
        }
        tokio::task::block_in_place(|| sink.write_all(&chunk)).map_err(BodyError::Store)?;
    }
    Ok(total)
}

/// Runs store work that writes: first waits, holding no thread, for the bundle's writers'
/// lock (shared, or `exclusive` for a remover), then runs `f` on the blocking pool under it.
/// A writer waiting for gc never takes one of the threads reads need, and one whose client
/// went away stops waiting.
pub async fn writing<X, E>(
    bundle: &crate::Bundle,
    exclusive: bool,
    f: impl FnOnce(&crate::bundle::lock::LockGuard) -> Result<X, E> + Send + 'static,
) -> Result<X, E>
where
    X: Send + 'static,
    E: From<crate::Error> + Send + 'static,
{
    let guard = loop {
        if let Some(g) = bundle.try_lock(exclusive)? {
            break g;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    blocking(move || f(&guard)).await
}

/// Runs blocking store work off the reactor.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("blocking store task panicked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let p = |s| parse_range(Some(s), 100);
        assert_eq!(
            p("bytes=0-9"),
            RangeAnswer::Part(ByteRange { start: 0, end: 9 })
        );
        assert_eq!(
            p("bytes=90-"),
            RangeAnswer::Part(ByteRange { start: 90, end: 99 })
        );
        assert_eq!(
            p("bytes=-10"),
            RangeAnswer::Part(ByteRange { start: 90, end: 99 })
        );
        assert_eq!(
            p("bytes=50-500"),
            RangeAnswer::Part(ByteRange { start: 50, end: 99 })
        );
        assert_eq!(p("bytes=100-"), RangeAnswer::Unsatisfiable);
        assert_eq!(p("bytes=0-1,5-6"), RangeAnswer::Full);
        assert_eq!(p("items=0-1"), RangeAnswer::Full);
        assert_eq!(parse_range(None, 100), RangeAnswer::Full);
    }

    #[test]
    fn segments_refuse_traversal() {
        assert_eq!(decode_segments("a/b%20c/").unwrap(), ["a", "b c", ""]);
        for bad in ["a/../b", "a/%2e%2E/b", "a%2fb", "a%5cb", "%2e", "a/%00"] {
            assert!(decode_segments(bad).is_err(), "{bad}");
        }
    }
}
