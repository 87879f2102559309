//! `nora serve`: serve the bundle over HTTP to unmodified clients.

use crate::common::Global;
use crate::diagnostics::Outcome;
use anyhow::Context;
use nora::serve::config::{self, FileConfig, LogFormat};
use std::path::PathBuf;
use std::process::ExitCode;

/// Serve the bundle over HTTP: OCI/Docker at /v2/, npm at /npm/, PyPI at /simple/, Cargo
/// at /cargo/, Go modules at /go/, Maven at /maven2/, raw files at /raw/, plus /health,
/// /ready and /metrics.
///
/// Settings come from defaults, then the TOML file given by --config, then NORA_*
/// environment variables, then flags. Stops gracefully on SIGTERM or Ctrl-C.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1:4000].
    #[arg(long, env = "NORA_LISTEN", value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// TOML settings file.
    #[arg(long, env = "NORA_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "NORA_LOG_FORMAT", value_name = "FORMAT")]
    log_format: Option<LogFormat>,
    /// Largest raw file accepted, e.g. 1GiB [default: no limit].
    #[arg(long, env = "NORA_RAW_MAX_SIZE", value_name = "SIZE")]
    raw_max_size: Option<String>,
    /// Largest OCI blob upload accepted [default: no limit].
    #[arg(long, env = "NORA_BLOB_MAX_SIZE", value_name = "SIZE")]
    blob_max_size: Option<String>,
    /// Largest package publish accepted (Cargo, npm, PyPI, Maven) [default: 512MiB].
    #[arg(long, env = "NORA_PUBLISH_MAX_SIZE", value_name = "SIZE")]
    publish_max_size: Option<String>,
    /// The URL clients reach this server at, for links in package metadata (behind a
    /// reverse proxy) [default: from X-Forwarded-Proto/Host or Host].
    #[arg(long, env = "NORA_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Largest manifest accepted [default: 4MiB].
    #[arg(long, env = "NORA_MANIFEST_MAX_SIZE", value_name = "SIZE")]
    manifest_max_size: Option<String>,
    /// Require credentials: API tokens (`nora token create`) and, with --htpasswd, users.
    #[arg(long, env = "NORA_AUTH")]
    auth: bool,
    /// An htpasswd file of bcrypt users (turns authentication on).
    #[arg(long, env = "NORA_HTPASSWD", value_name = "FILE")]
    htpasswd: Option<PathBuf>,
    /// Let requests without credentials pull and list (turns authentication on).
    #[arg(long, env = "NORA_ANONYMOUS_READ")]
    anonymous_read: bool,
    /// Pull through from an upstream: a miss is fetched, checked, stored and answered
    /// (repeatable; ECOSYSTEM is oci, maven, npm, pypi, cargo, go or raw; e.g.
    /// npm=https://registry.npmjs.org). Credentials: NORA_UPSTREAM_TOKEN, and for OCI
    /// NORA_UPSTREAM_USER and NORA_UPSTREAM_PASSWORD.
    #[arg(
        long,
        env = "NORA_UPSTREAM",
        value_name = "ECOSYSTEM=URL",
        value_delimiter = ','
    )]
    upstream: Vec<String>,
    /// Age after which upstream metadata (packuments, pages, index files, tags, …) is
    /// fetched again [default: 5m].
    #[arg(long, env = "NORA_UPSTREAM_TTL", value_name = "DURATION")]
    upstream_ttl: Option<String>,
    /// Connections open at once [default: 4096, fewer if the open-file limit is lower].
    #[arg(
        long,
        env = "NORA_MAX_CONNECTIONS",
        value_name = "N",
        help_heading = "Limits"
    )]
    max_connections: Option<usize>,
    /// Connections one client address may hold at once; more are closed at once
    /// [default: 256].
    #[arg(
        long,
        env = "NORA_MAX_CONNECTIONS_PER_CLIENT",
        value_name = "N",
        help_heading = "Limits"
    )]
    max_connections_per_client: Option<usize>,
    /// Time a client has to send a whole request head, from its first byte [default: 30s].
    #[arg(
        long,
        env = "NORA_HEADER_TIMEOUT",
        value_name = "DURATION",
        help_heading = "Limits"
    )]
    header_timeout: Option<String>,
    /// Time a connection may wait between requests, or stall while a response is sent,
    /// before it is closed [default: 75s].
    #[arg(
        long,
        env = "NORA_IDLE_TIMEOUT",
        value_name = "DURATION",
        help_heading = "Limits"
    )]
    idle_timeout: Option<String>,
    /// OCI upload sessions open at once [default: 1000].
    #[arg(
        long,
        env = "NORA_MAX_UPLOADS",
        value_name = "N",
        help_heading = "Limits"
    )]
    max_uploads: Option<usize>,
    /// OCI upload sessions one client (user, else address) may hold at once [default: 100].
    #[arg(
        long,
        env = "NORA_MAX_UPLOADS_PER_CLIENT",
        value_name = "N",
        help_heading = "Limits"
    )]
    max_uploads_per_client: Option<usize>,
    /// Idle time after which an OCI upload session ends and what it received is deleted
    /// [default: 168h].
    #[arg(
        long,
        env = "NORA_UPLOAD_EXPIRY",
        value_name = "DURATION",
        help_heading = "Limits"
    )]
    upload_expiry: Option<String>,
}

fn duration(
    what: &str,
    flag: &Option<String>,
    file: &Option<String>,
) -> anyhow::Result<Option<std::time::Duration>> {
    flag.as_ref()
        .or(file.as_ref())
        .map(|t| {
            humantime::parse_duration(t)
                .with_context(|| format!("{what} '{t}' is not a duration like 90s, 10m or 24h"))
        })
        .transpose()
}

fn count(what: &str, flag: Option<usize>, file: Option<usize>) -> anyhow::Result<Option<usize>> {
    match flag.or(file) {
        Some(0) => anyhow::bail!("{what} must be at least 1"),
        n => Ok(n),
    }
}

/// Merges defaults, the file, the environment and flags.
fn settings(a: &Args, g: &Global) -> anyhow::Result<config::Config> {
    let file = match &a.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    let bundle = if g.bundle_explicit {
        g.bundle.clone()
    } else {
        file.bundle.clone().unwrap_or_else(|| g.bundle.clone())
    };
    let listen = a
        .listen
        .clone()
        .or(file.listen.clone())
        .unwrap_or_else(|| config::DEFAULT_LISTEN.into());
    let size = |what: &str, flag: &Option<String>, file: &Option<String>| {
        flag.as_ref()
            .or(file.as_ref())
            .map(|s| config::parse_size(what, s))
            .transpose()
    };
    let mut limits = nora::protocols::Limits::default();
    if let Some(m) = size(
        "manifest limit",
        &a.manifest_max_size,
        &file.limits.manifest,
    )? {
        limits.manifest = m;
    }
    limits.blob = size("blob limit", &a.blob_max_size, &file.limits.blob)?;
    limits.raw = size("raw limit", &a.raw_max_size, &file.limits.raw)?;
    if let Some(p) = size("publish limit", &a.publish_max_size, &file.limits.publish)? {
        limits.publish = Some(p);
    }
    let public_url = a.public_url.clone().or(file.public_url.clone());
    if let Some(u) = &public_url {
        anyhow::ensure!(
            (u.starts_with("http://") || u.starts_with("https://"))
                && !u.contains(char::is_whitespace),
            "public URL '{u}' must start with http:// or https://"
        );
    }
    let mut auth = file.auth.clone();
    if a.auth || a.htpasswd.is_some() || a.anonymous_read {
        let x = auth.get_or_insert_with(config::AuthConfig::default);
        if let Some(h) = &a.htpasswd {
            x.htpasswd = Some(h.clone());
        }
        x.anonymous_read |= a.anonymous_read;
    }
    let mut urls = std::collections::BTreeMap::new();
    for (eco, u) in file.upstream.urls() {
        let (eco, url) = nora::proxy::parse_upstream(&format!("{eco}={u}"))?;
        urls.insert(eco, url);
    }
    for spec in &a.upstream {
        let (eco, url) = nora::proxy::parse_upstream(spec)?;
        urls.insert(eco, url);
    }
    let ttl = match a.upstream_ttl.as_ref().or(file.upstream.ttl.as_ref()) {
        Some(t) => humantime::parse_duration(t)
            .with_context(|| format!("upstream TTL '{t}' is not a duration like 90s or 10m"))?,
        None => nora::proxy::DEFAULT_TTL,
    };
    let upstreams = (!urls.is_empty()).then_some(config::Upstreams { urls, ttl });
    let fl = &file.limits;
    let mut uploads = nora::registry::uploads::UploadLimits::default();
    if let Some(d) = duration("upload expiry", &a.upload_expiry, &fl.upload_expiry)? {
        uploads.expiry = d;
    }
    if let Some(n) = count("--max-uploads", a.max_uploads, fl.uploads)? {
        uploads.total = n;
    }
    if let Some(n) = count(
        "--max-uploads-per-client",
        a.max_uploads_per_client,
        fl.uploads_per_client,
    )? {
        uploads.per_client = n;
    }
    let mut connections = nora::serve::conn::ConnLimits::default();
    if let Some(n) = count("--max-connections", a.max_connections, fl.connections)? {
        connections.max = n;
    }
    if let Some(n) = count(
        "--max-connections-per-client",
        a.max_connections_per_client,
        fl.connections_per_client,
    )? {
        connections.per_client = n;
    }
    if let Some(d) = duration("header timeout", &a.header_timeout, &fl.header_timeout)? {
        connections.header_timeout = d;
    }
    if let Some(d) = duration("idle timeout", &a.idle_timeout, &fl.idle_timeout)? {
        connections.idle_timeout = d;
    }
    Ok(config::Config {
        bundle,
        listen: config::parse_listen(&listen)?,
        log_format: a.log_format.or(file.log_format).unwrap_or_default(),
        limits,
        auth,
        public_url,
        upstreams,
        uploads,
        connections,
    })
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let cfg = settings(&a, g)?;
    crate::common::init_server_logging(g, cfg.log_format);
    let server = nora::serve::Server::new(&cfg)
        .with_context(|| format!("open bundle {}", cfg.bundle.display()))?;
    nora::serve::bound_allocator();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // idle blocking threads leave soon, so memory returns to the idle size after a burst
        .thread_keep_alive(std::time::Duration::from_secs(1))
        // store work waits for one of these rather than each request growing its own thread
        .max_blocking_threads(nora::serve::BLOCKING_THREADS)
        .build()
        .context("start the async runtime")?;
    let bundle = cfg.bundle.display().to_string();
    let json = g.json;
    runtime.block_on(nora::serve::run(
        server,
        cfg.listen,
        |addr| {
            if json {
                crate::common::out(
                    &serde_json::json!({"listening": format!("http://{addr}"), "bundle": bundle})
                        .to_string(),
                );
            } else {
                crate::common::out(&format!(
                    "nora serve: listening on http://{addr} (bundle {bundle})"
                ));
            }
        },
        nora::serve::shutdown_signal(),
    ))?;
    Ok(ExitCode::SUCCESS)
}
