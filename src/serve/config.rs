//! `nora serve` settings: defaults, overridden by a TOML file, overridden by `NORA_*`
//! environment variables and flags (those two are merged by the command line).

use crate::error::{Error, IoContext, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4000";

/// Format of request and server logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("log format '{s}' is not text or json")),
        }
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Bundle directory (created if missing).
    pub bundle: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Log format.
    pub log_format: LogFormat,
    /// Body limits.
    pub limits: crate::protocols::Limits,
    /// Authentication; `None` leaves every mount open.
    pub auth: Option<AuthConfig>,
    /// The URL clients reach the server at (behind a proxy), for links in metadata.
    pub public_url: Option<String>,
    /// Pull-through upstreams; `None`: the bundle alone answers.
    pub upstreams: Option<Upstreams>,
    /// OCI upload sessions: expiry and caps.
    pub uploads: crate::registry::uploads::UploadLimits,
    /// Connection caps and timeouts.
    pub connections: super::conn::ConnLimits,
}

/// Pull-through settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstreams {
    /// Base URL by ecosystem.
    pub urls: std::collections::BTreeMap<String, String>,
    /// Age after which kept metadata is fetched again.
    pub ttl: std::time::Duration,
}

/// Authentication settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// An htpasswd file of bcrypt entries (`user:$2y$…`).
    pub htpasswd: Option<PathBuf>,
    /// Role of htpasswd users: `read`, `write` or `admin`.
    #[serde(default = "default_user_role")]
    pub htpasswd_role: String,
    /// Let requests without credentials read.
    #[serde(default)]
    pub anonymous_read: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            htpasswd: None,
            htpasswd_role: default_user_role(),
            anonymous_read: false,
        }
    }
}

fn default_user_role() -> String {
    "admin".into()
}

/// The TOML file, every key optional.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `bundle = "DIR"`, relative to the file's directory.
    pub bundle: Option<PathBuf>,
    /// `listen = "ADDR:PORT"`.
    pub listen: Option<String>,
    /// `log_format = "text" | "json"`.
    pub log_format: Option<LogFormat>,
    /// `public_url = "https://nora.example"`.
    pub public_url: Option<String>,
    /// `[limits]`.
    #[serde(default)]
    pub limits: FileLimits,
    /// `[auth]`: present means authentication is on.
    pub auth: Option<AuthConfig>,
    /// `[upstream]`: pull-through.
    #[serde(default)]
    pub upstream: FileUpstream,
}

/// `[upstream]` in the TOML file: `go = "URL"`, …, and `ttl = "5m"`.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileUpstream {
    /// Age after which metadata is fetched again, like `90s` or `10m`.
    pub ttl: Option<String>,
    /// OCI registry base URL.
    pub oci: Option<String>,
    /// Maven repository base URL.
    pub maven: Option<String>,
    /// npm registry base URL.
    pub npm: Option<String>,
    /// PyPI simple index base URL.
    pub pypi: Option<String>,
    /// Cargo sparse index base URL.
    pub cargo: Option<String>,
    /// GOPROXY base URL.
    pub go: Option<String>,
    /// Base URL raw paths are fetched below.
    pub raw: Option<String>,
}

impl FileUpstream {
    /// `(ecosystem, URL)` of every upstream the file names.
    pub fn urls(&self) -> Vec<(&'static str, &str)> {
        [
            ("oci", &self.oci),
            ("maven", &self.maven),
            ("npm", &self.npm),
            ("pypi", &self.pypi),
            ("cargo", &self.cargo),
            ("go", &self.go),
            ("raw", &self.raw),
        ]
        .into_iter()
        .filter_map(|(e, u)| Some((e, u.as_deref()?)))
        .collect()
    }
}

/// `[limits]` in the TOML file; sizes like `"512MiB"`.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    /// Largest manifest.
    pub manifest: Option<String>,
    /// Largest OCI blob.
    pub blob: Option<String>,
    /// Largest raw file.
    pub raw: Option<String>,
    /// Largest package publish.
    pub publish: Option<String>,
    /// Idle time after which an OCI upload session expires, like `168h`.
    pub upload_expiry: Option<String>,
    /// OCI upload sessions open at once.
    pub uploads: Option<usize>,
    /// OCI upload sessions one client may hold at once.
    pub uploads_per_client: Option<usize>,
    /// Connections open at once.
    pub connections: Option<usize>,
    /// Connections one client address may hold at once.
    pub connections_per_client: Option<usize>,
    /// Time to send a request head, like `30s`.
    pub header_timeout: Option<String>,
    /// Time a connection may wait between requests, like `75s`.
    pub idle_timeout: Option<String>,
}

impl FileConfig {
    /// Reads and checks a TOML file; a relative `bundle` or `htpasswd` is taken relative
    /// to the file.
    pub fn load(path: &Path) -> Result<FileConfig> {
        let text = std::fs::read_to_string(path).at("read config", path)?;
        let mut c: FileConfig = toml::from_str(&text)
            .map_err(|e| Error::Other(format!("config {}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        if let Some(b) = &mut c.bundle {
            if b.is_relative() {
                *b = base.join(&*b);
            }
        }
        if let Some(a) = &mut c.auth {
            if let Some(h) = &mut a.htpasswd {
                if h.is_relative() {
                    *h = base.join(&*h);
                }
            }
        }
        Ok(c)
    }
}

/// Parses a size such as `4MiB`, `1GB` or `1048576`.
pub fn parse_size(what: &str, s: &str) -> Result<u64> {
    s.trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| Error::Other(format!("{what} '{s}' is not a size like 512MiB: {e}")))
}

/// Parses a listen address.
pub fn parse_listen(s: &str) -> Result<SocketAddr> {
    s.parse().map_err(|_| {
        Error::Other(format!(
            "listen address '{s}' is not IP:PORT (e.g. {DEFAULT_LISTEN})"
        ))
    })
}
