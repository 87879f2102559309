//! `nora serve`: one bundle over HTTP. Assembles the protocol mounts (`/v2/`, `/raw/`),
//! the operational endpoints (`/health`, `/ready`, `/metrics`), request logs and metrics,
//! and runs them on warp with TCP_NODELAY and graceful shutdown.

pub mod config;
pub mod metrics;

use crate::protocols::http::{self, Request, Response};
use crate::protocols::{oci, raw, Context};
use crate::registry::uploads::Uploads;
use crate::Bundle;
use bytes::Buf;
use futures_util::{StreamExt, TryStreamExt};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use warp::http::{header, HeaderMap, Method, StatusCode};
use warp::Filter;

pub use config::Config;

/// A running server's shared state.
pub struct Server {
    ctx: Arc<Context>,
    metrics: metrics::Metrics,
}

impl Server {
    /// Opens (or creates) the bundle and prepares the mounts. Nothing is scanned, so start-up
    /// time does not grow with the bundle.
    pub fn new(cfg: &Config) -> crate::Result<Server> {
        let (bundle, _) = Bundle::init(&cfg.bundle)?;
        let uploads = Uploads::new(bundle.layout().clone());
        Ok(Server {
            ctx: Arc::new(Context {
                bundle,
                uploads,
                limits: cfg.limits.clone(),
            }),
            metrics: metrics::Metrics::new(),
        })
    }

    /// The bundle served.
    pub fn bundle(&self) -> &Bundle {
        &self.ctx.bundle
    }

    async fn answer(self: Arc<Self>, req: Request) -> Response {
        let started = Instant::now();
        let method = req.method.clone();
        let full_path = req.path.clone();
        let (protocol, resp) = self.route(req).await;
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
        self.metrics
            .observe(protocol, method.as_str(), status, bytes, took);
        tracing::info!(
            target: "nora::access",
            protocol,
            method = %method,
            path = %full_path,
            status,
            bytes,
            micros = took.as_micros() as u64,
        );
        resp
    }

    async fn route(self: &Arc<Self>, mut req: Request) -> (&'static str, Response) {
        let path = req.path.clone();
        if let Some(rest) =
            path.strip_prefix("/v2/")
                .or(if path == "/v2" { Some("") } else { None })
        {
            req.path = rest.to_string();
            return ("oci", oci::handle(self.ctx.clone(), req).await);
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
                &serde_json::json!({"error": format!("{path} is not served here; mounts: /v2/, /raw/, /health, /ready, /metrics")}),
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

fn request_filter() -> impl Filter<Extract = (Request,), Error = warp::Rejection> + Clone {
    warp::method()
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .map(
            |method: Method,
             path: warp::path::FullPath,
             query: String,
             headers: HeaderMap,
             body| {
                let body: http::Body = Box::pin(
                    TryStreamExt::map_err(body, |e: warp::Error| std::io::Error::other(e))
                        .map_ok(to_bytes),
                );
                Request {
                    method,
                    path: path.as_str().to_string(),
                    query,
                    headers,
                    body,
                }
            },
        )
}

fn to_bytes<B: Buf>(mut b: B) -> bytes::Bytes {
    b.copy_to_bytes(b.remaining())
}

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
    let routes = request_filter().then(move |req: Request| server.clone().answer(req));
    let incoming = futures_util::stream::unfold(listener, |l| async move {
        loop {
            match l.accept().await {
                Ok((s, _)) => {
                    let _ = s.set_nodelay(true);
                    return Some((Ok::<_, std::io::Error>(s), l));
                }
                Err(e) => {
                    // out of descriptors and the like: keep serving the connections we have
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    });
    on_listen(addr);
    warp::serve(routes)
        .serve_incoming_with_graceful_shutdown(incoming.boxed(), shutdown)
        .await;
    Ok(())
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
