//! `nora serve`: one bundle over HTTP. Assembles the protocol mounts (`/v2/`, `/npm/`, `/simple/`, `/cargo/`, `/go/`,
//! `/maven2/`, `/raw/`),
//! the operational endpoints (`/health`, `/ready`, `/metrics`), request logs and metrics,
//! and runs them on warp with TCP_NODELAY and graceful shutdown.

pub mod auth;
pub mod config;
pub mod conn;
pub mod metrics;

use crate::auth::Role;
use crate::protocols::http::{self, Request, Response};
use crate::protocols::{cargo, go, maven, npm, oci, pypi, raw, Context};
use crate::registry::uploads::Uploads;
use crate::Bundle;
use bytes::Buf;
use futures_util::TryStreamExt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use warp::http::{header, HeaderMap, Method, StatusCode};
use warp::Filter;

pub use config::Config;

/// A running server's shared state.
pub struct Server {
    answered: std::sync::atomic::AtomicU64,
    /// The bundle directory as given and as an absolute path, longest first.
    paths: Vec<String>,
    admission: Arc<conn::Admission>,
    ctx: Arc<Context>,
    metrics: metrics::Metrics,
    gate: Option<auth::Gate>,
}

impl Server {
    /// Opens (or creates) the bundle and prepares the mounts. Nothing is scanned, so start-up
    /// time does not grow with the bundle.
    pub fn new(cfg: &Config) -> crate::Result<Server> {
        let (bundle, _) = Bundle::init(&cfg.bundle)?;
        let uploads = Uploads::new(bundle.clone(), cfg.uploads.clone());
        let gate = match &cfg.auth {
            Some(a) => Some(auth::Gate::new(
                a,
                crate::auth::tokens::TokenStore::of(&bundle),
            )?),
            None => None,
        };
        let proxy = match &cfg.upstreams {
            Some(u) => Some(Arc::new(crate::proxy::Proxy::new(u.urls.clone(), u.ttl)?)),
            None => None,
        };
        let metrics = metrics::Metrics::new();
        if let Some(p) = &proxy {
            metrics.register(Box::new(p.fetches.clone()));
            metrics.register(Box::new(p.joined.clone()));
        }
        #[allow(unused_mut)]
        let mut connections = cfg.connections.clone();
        #[cfg(unix)]
        if let Some(files) = conn::raise_open_files() {
            // a connection holds its socket and at most one open file; keep some for the rest
            let fit = usize::try_from(files.saturating_sub(64) / 2)
                .unwrap_or(usize::MAX)
                .max(1);
            if fit < connections.max {
                tracing::warn!(
                    "the limit of {files} open files allows {fit} connections, not {}",
                    connections.max
                );
                connections.max = fit;
            }
        }
        let mut paths: Vec<String> = [
            Some(bundle.root().to_path_buf()),
            std::fs::canonicalize(bundle.root()).ok(),
        ]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        // a bare short name ("nora") would mangle every message that says it
        .filter(|p| p.contains(std::path::MAIN_SEPARATOR) && p.len() >= 4)
        .collect();
        paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
        paths.dedup();
        Ok(Server {
            answered: std::sync::atomic::AtomicU64::new(0),
            paths,
            admission: conn::Admission::new(connections),
            gate,
            ctx: Arc::new(Context {
                bundle,
                uploads,
                usage: Default::default(),
                limits: cfg.limits.clone(),
                auth_required: cfg.auth.is_some(),
                public_url: cfg.public_url.clone(),
                proxy,
                bodies: Arc::new(tokio::sync::Semaphore::new(http::BODY_BUDGET_MIB)),
            }),
            metrics,
        })
    }

    /// The bundle served.
    pub fn bundle(&self) -> &Bundle {
        &self.ctx.bundle
    }

    async fn answer(self: Arc<Self>, mut req: Request) -> Response {
        let started = Instant::now();
        let method = req.method.clone();
        let full_path = req.path.clone();
        let (protocol, user, resp) = match self.admit(&req).await {
            Ok(user) => {
                req.user = user.clone();
                let (protocol, resp) = self.route(req).await;
                (protocol, user, resp)
            }
            Err((protocol, user, resp)) => (protocol, user, resp),
        };
        let mut resp = self.without_paths(resp).await;
        resp.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            header::HeaderValue::from_static("nosniff"),
        );
        let status = resp.status().as_u16();
        let bytes = if method == Method::HEAD {
            0
        } else {
            resp.headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(0)
        };
        let took = started.elapsed();
        self.answered
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.metrics
            .observe(protocol, method.as_str(), status, bytes, took);
        tracing::info!(
            target: "nora::access",
            protocol,
            method = %method,
            path = %full_path,
            status,
            bytes,
            user = user.as_deref().unwrap_or("-"),
            micros = took.as_micros() as u64,
        );
        resp
    }

    /// An error answer with every mention of the bundle's directory replaced by `<bundle>`:
    /// clients never learn the server's paths.
    async fn without_paths(&self, resp: Response) -> Response {
        if resp.status().as_u16() < 400 || self.paths.is_empty() {
            return resp;
        }
        let (mut parts, body) = resp.into_parts();
        let Ok(bytes) = warp::hyper::body::to_bytes(body).await else {
            return Response::from_parts(parts, warp::hyper::Body::empty());
        };
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if !self.paths.iter().any(|p| text.contains(p.as_str())) {
            return Response::from_parts(parts, bytes.into());
        }
        for p in &self.paths {
            text = text.replace(p.as_str(), "<bundle>");
        }
        parts
            .headers
            .insert(header::CONTENT_LENGTH, text.len().into());
        Response::from_parts(parts, text.into())
    }

    /// Lets a request through (with the caller's name, if any) or answers it with the
    /// challenge or refusal its protocol expects.
    async fn admit(
        &self,
        req: &Request,
    ) -> Result<Option<String>, (&'static str, Option<String>, Response)> {
        let Some(gate) = &self.gate else {
            return Ok(None);
        };
        let path = req.path.as_str();
        let protocol = protocol_of(path);
        let need = match path {
            "/health" | "/ready" | "/v2/token" => return Ok(None),
            "/metrics" => Role::Admin,
            _ if matches!(req.method, Method::GET | Method::HEAD) => Role::Read,
            _ => Role::Write,
        };
        match gate.check(req.header("authorization"), need).await {
            Ok(id) => Ok(id.map(|i| i.name)),
            Err(denied) => {
                let user = match &denied {
                    auth::Denied::Forbidden(id) => Some(id.name.clone()),
                    auth::Denied::Unauthenticated => None,
                };
                Err((protocol, user, self.refuse(req, protocol, denied)))
            }
        }
    }

    fn refuse(&self, req: &Request, protocol: &str, denied: auth::Denied) -> Response {
        let (status, msg) = match &denied {
            auth::Denied::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "authentication required: send a token (Bearer, or Basic with the token as password) or htpasswd credentials".to_string(),
            ),
            auth::Denied::Forbidden(id) => (
                StatusCode::FORBIDDEN,
                format!("{} has role {}, which does not allow {} {}", id.name, id.role, req.method, req.path),
            ),
        };
        let mut r = if protocol == "oci" {
            let code = if status == StatusCode::UNAUTHORIZED {
                "UNAUTHORIZED"
            } else {
                "DENIED"
            };
            http::json(
                status,
                &serde_json::json!({"errors": [{"code": code, "message": msg, "detail": {}}]}),
            )
        } else {
            http::json(status, &serde_json::json!({"error": msg}))
        };
        if status == StatusCode::UNAUTHORIZED {
            let challenge = if protocol == "oci" {
                let host = req.header("host").unwrap_or("127.0.0.1");
                format!("Bearer realm=\"http://{host}/v2/token\",service=\"nora\"")
            } else {
                "Basic realm=\"nora\"".to_string()
            };
            http::set(&mut r, header::WWW_AUTHENTICATE, &challenge);
        }
        if protocol == "oci" {
            http::set(&mut r, "Docker-Distribution-API-Version", "registry/2.0");
        }
        r
    }

    /// The Docker token endpoint: trades credentials for a short-lived bearer token.
    async fn token(&self, req: &Request) -> Response {
        let Some(gate) = &self.gate else {
            return http::json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"error": "authentication is off; no token is needed"}),
            );
        };
        match gate.issue(req.header("authorization")).await {
            Ok((token, id)) => {
                tracing::info!(user = %id.name, role = %id.role, "issued a registry token");
                http::json(
                    StatusCode::OK,
                    &serde_json::json!({
                        "token": token, "access_token": token,
                        "expires_in": auth::SESSION_TTL.as_secs(),
                        "issued_at": crate::bundle::refs::now_rfc3339(),
                    }),
                )
            }
            Err(d) => self.refuse(req, "oci", d),
        }
    }

    async fn route(self: &Arc<Self>, mut req: Request) -> (&'static str, Response) {
        let path = req.path.clone();
        if path == "/v2/token" && matches!(req.method, Method::GET | Method::HEAD) {
            return ("oci", self.token(&req).await);
        }
        if let Some(rest) =
            path.strip_prefix("/v2/")
                .or(if path == "/v2" { Some("") } else { None })
        {
            req.path = rest.to_string();
            return ("oci", oci::handle(self.ctx.clone(), req).await);
        }
        if let Some(rest) = path.strip_prefix("/cargo/") {
            req.path = rest.to_string();
            return ("cargo", cargo::handle(self.ctx.clone(), req).await);
        }
        if let Some(rest) =
            path.strip_prefix("/simple/")
                .or(if path == "/simple" { Some("") } else { None })
        {
            req.path = rest.to_string();
            return ("pypi", pypi::handle(self.ctx.clone(), req).await);
        }
        if let Some(rest) = path.strip_prefix("/maven2/") {
            req.path = rest.to_string();
            return ("maven", maven::handle(self.ctx.clone(), req).await);
        }
        if let Some(rest) = path.strip_prefix("/npm/") {
            req.path = rest.to_string();
            return ("npm", npm::handle(self.ctx.clone(), req).await);
        }
        if let Some(rest) = path.strip_prefix("/go/") {
            req.path = rest.to_string();
            return ("go", go::handle(self.ctx.clone(), req).await);
        }
        if let Some(rest) = path.strip_prefix("/raw/") {
            req.path = rest.to_string();
            return ("raw", raw::handle(self.ctx.clone(), req).await);
        }
        let ops = match (path.as_str(), &req.method) {
            ("/health", &Method::GET | &Method::HEAD) => {
                http::json(StatusCode::OK, &serde_json::json!({"status": "ok"}))
            }
            ("/ready", &Method::GET | &Method::HEAD) => self.ready().await,
            ("/metrics", &Method::GET) => self.render_metrics().await,
            _ => http::json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"error": format!("{path} is not served here; mounts: /v2/, /npm/, /simple/, /cargo/, /go/, /maven2/, /raw/, /health, /ready, /metrics")}),
            ),
        };
        ("ops", ops)
    }

    async fn ready(&self) -> Response {
        let root = self.ctx.bundle.root().to_path_buf();
        let ok = http::blocking(move || {
            Bundle::open(&root).is_ok()
                && std::fs::metadata(root.join("tmp")).is_ok_and(|m| m.is_dir())
        })
        .await;
        if ok {
            http::json(StatusCode::OK, &serde_json::json!({"status": "ready"}))
        } else {
            http::json(
                StatusCode::SERVICE_UNAVAILABLE,
                &serde_json::json!({"status": "unavailable", "error": "the bundle directory cannot be read"}),
            )
        }
    }

    async fn render_metrics(self: &Arc<Self>) -> Response {
        if self.metrics.bundle_size_due() {
            let dir = self.ctx.bundle.layout().blob_dir();
            let (n, bytes) = http::blocking(move || metrics::measure_blobs(&dir)).await;
            self.metrics.set_bundle_size(n, bytes);
        }
        http::with_body(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            self.metrics.render(),
        )
    }
}

fn protocol_of(path: &str) -> &'static str {
    if path == "/v2" || path.starts_with("/v2/") {
        "oci"
    } else if path.starts_with("/raw/") {
        "raw"
    } else if path.starts_with("/go/") {
        "go"
    } else if path.starts_with("/cargo/") {
        "cargo"
    } else if path.starts_with("/npm/") {
        "npm"
    } else if path.starts_with("/maven2/") {
        "maven"
    } else if path == "/simple" || path.starts_with("/simple/") {
        "pypi"
    } else {
        "ops"
    }
}

/// The request as the protocols see it, on a connection from `peer`.
fn request_filter(
    peer: Option<Peer>,
    idle: std::time::Duration,
) -> impl Filter<Extract = (Request,), Error = warp::Rejection> + Clone {
    warp::method()
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::headers_cloned())
        .and(warp::any().map(move || peer))
        .and(warp::body::stream())
        .map(
            move |method: Method,
                  path: warp::path::FullPath,
                  query: String,
                  headers: HeaderMap,
                  peer: Option<Peer>,
                  body| {
                let body: http::Body = http::stalls_after(
                    Box::pin(
                        TryStreamExt::map_err(body, |e: warp::Error| std::io::Error::other(e))
                            .map_ok(to_bytes),
                    ),
                    idle,
                );
                Request {
                    method,
                    path: path.as_str().to_string(),
                    query,
                    headers,
                    body,
                    peer: peer.map(|p| p.0.ip()),
                    user: None,
                }
            },
        )
}

fn to_bytes<B: Buf>(mut b: B) -> bytes::Bytes {
    b.copy_to_bytes(b.remaining())
}

/// The address of the client, as the connection layer saw it.
#[derive(Debug, Clone, Copy)]
struct Peer(SocketAddr);

/// Serves until `shutdown` completes; in-flight requests finish first. `on_listen` is
/// called with the bound address (useful with port 0).
pub async fn run(
    server: Server,
    listen: SocketAddr,
    on_listen: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> crate::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| crate::Error::Io {
            action: "listen on",
            path: listen.to_string().into(),
            source: e,
        })?;
    let addr = listener.local_addr().map_err(|e| crate::Error::Io {
        action: "listen on",
        path: listen.to_string().into(),
        source: e,
    })?;
    let server = Arc::new(server);
    let s2 = server.clone();
    let admission = server.admission.clone();
    let incoming = futures_util::stream::unfold(listener, move |l| {
        let admission = admission.clone();
        async move {
            loop {
                match l.accept().await {
                    Ok((s, peer)) => match admission.admit(peer.ip()) {
                        Ok(ticket) => {
                            let _ = s.set_nodelay(true);
                            return Some((
                                Ok::<_, std::io::Error>(conn::Conn::new(s, peer, ticket)),
                                l,
                            ));
                        }
                        Err(why) => {
                            // closed at once, so the backlog keeps moving for other clients
                            tracing::debug!(%peer, "connection refused: {why}");
                            drop(s);
                        }
                    },
                    Err(e) => {
                        // out of descriptors and the like: keep serving the connections we have
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
        }
    });
    let idle = server.admission.limits().idle_timeout;
    let make = hyper::service::make_service_fn(move |c: &conn::Conn| {
        let s2 = s2.clone();
        let service = warp::service(
            request_filter(Some(Peer(c.peer())), idle)
                .then(move |req: Request| s2.clone().answer(req)),
        );
        let activity = c.activity();
        async move {
            Ok::<_, std::convert::Infallible>(hyper::service::service_fn(
                move |req: hyper::Request<hyper::Body>| {
                    let handling = conn::Activity::handling(&activity);
                    let mut service = service.clone();
                    async move {
                        use hyper::service::Service;
                        let r = service.call(req).await;
                        drop(handling);
                        r
                    }
                },
            ))
        }
    });
    tokio::spawn(trim_when_quiet(server.clone()));
    tokio::spawn(expire_uploads(server.clone()));
    on_listen(addr);
    let served = hyper::Server::builder(hyper::server::accept::from_stream(incoming))
        .serve(make)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Err(e) = served {
        tracing::error!("server error: {e}");
    }
    Ok(())
}

/// Ends upload sessions left idle past their expiry, checking a few times per expiry
/// period (at most once a minute).
async fn expire_uploads(server: Arc<Server>) {
    let every = (server.ctx.uploads.limits().expiry / 4).clamp(
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(60),
    );
    loop {
        tokio::time::sleep(every).await;
        let s = server.clone();
        let n = http::blocking(move || s.ctx.uploads.expire()).await;
        if n > 0 {
            tracing::info!(sessions = n, "expired idle upload sessions");
        }
    }
}

/// Threads that run store work (file reads and writes) for requests at once.
pub const BLOCKING_THREADS: usize = 16;

/// Keeps the allocator's memory in step with the server's. glibc raises its threshold for
/// serving large blocks from fresh mappings each time one is freed, until request bodies and
/// buffers of every size come from its arenas (one per thread that allocates, up to 8 per
/// core) and stay there after a burst. A fixed threshold just above the server's own I/O
/// buffers (256 KiB) keeps those in the arenas, where they are reused at once, and gives
/// every larger block back to the system when it is freed.
pub fn bound_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 260 * 1024);
    }
}

/// Hands memory freed after a burst of requests back to the system once the server has
/// been quiet for a second, so resident memory returns to near its idle size.
async fn trim_when_quiet(server: Arc<Server>) {
    let mut seen = 0;
    let mut busy = false;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let now = server.answered.load(std::sync::atomic::Ordering::Relaxed);
        if now != seen {
            seen = now;
            busy = true;
        } else if busy {
            busy = false;
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            // SAFETY: malloc_trim only releases free memory of the allocator's arenas.
            unsafe {
                libc::malloc_trim(0);
            }
        }
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down: finishing requests in flight");
}
