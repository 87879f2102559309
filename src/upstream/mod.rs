//! Fetching from upstream registries for `nora mirror`: one HTTP client with bounded
//! retries, exponential backoff with jitter and `Retry-After`, bodies streamed to temp
//! files or read with a size limit, and credentials taken from the environment and never
//! shown.

pub mod oci;
pub mod simple;

use std::time::Duration;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The upstream does not have it (404 or 410).
    #[error("{0}: not found upstream")]
    NotFound(String),
    /// The upstream answered with another error status, after retries where they apply.
    #[error("{url}: upstream answered {status}")]
    Status {
        /// The URL.
        url: String,
        /// The last status.
        status: u16,
    },
    /// The connection failed, after retries.
    #[error("{url}: {reason}")]
    Transport {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The upstream wants credentials (401); `challenge` is its `WWW-Authenticate`.
    #[error("{url}: upstream answered 401 (give credentials in the environment)")]
    Unauthorized {
        /// The URL.
        url: String,
        /// The `WWW-Authenticate` header.
        challenge: String,
    },
    /// The body is larger than the caller allows.
    #[error("{url}: larger than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// Writing what arrived failed.
    #[error("{url}: {source}")]
    Io {
        /// The URL.
        url: String,
        /// The error.
        source: std::io::Error,
    },
}

/// An HTTP client for one upstream.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    auth: Option<String>,
    attempts: u32,
    base_delay: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl Client {
    /// A client; `token_env` names an environment variable whose value, when set, is sent as
    /// a Bearer token (never logged).
    pub fn new(token_env: &str) -> crate::Result<Client> {
        Client::with_timeout(token_env, Duration::from_secs(60))
    }

    /// [`Client::new`] giving up on a connection that is silent for `timeout` (connecting
    /// included).
    pub fn with_timeout(token_env: &str, timeout: Duration) -> crate::Result<Client> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .read_timeout(timeout)
            .user_agent(concat!("nora/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| crate::Error::Other(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            auth: std::env::var(token_env).ok().filter(|t| !t.is_empty()),
            attempts: 4,
            base_delay: Duration::from_millis(250),
        })
    }

    /// Sets how many attempts a fetch gets and the first backoff delay.
    pub fn with_retries(mut self, attempts: u32, base_delay: Duration) -> Client {
        self.attempts = attempts.max(1);
        self.base_delay = base_delay;
        self
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(r) = retry_after {
            return r.min(Duration::from_secs(30));
        }
        let exp = self.base_delay * 2u32.saturating_pow(attempt);
        // jitter: up to one base delay, from the clock's nanoseconds
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0) as u64;
        let jitter = Duration::from_nanos(nanos % (self.base_delay.as_nanos() as u64 + 1));
        exp + jitter
    }

    /// GETs `url`, retrying what is worth retrying; hands the successful response over.
    /// `authorization` (a whole header value) replaces the client's own Bearer token.
    pub async fn get(
        &self,
        url: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<reqwest::Response, FetchError> {
        let mut last = None;
        for attempt in 0..self.attempts {
            let mut req = self.http.get(url);
            if let Some(a) = accept {
                req = req.header(reqwest::header::ACCEPT, a);
            }
            match (authorization, &self.auth) {
                (Some(a), _) => req = req.header(reqwest::header::AUTHORIZATION, a),
                (None, Some(t)) => req = req.bearer_auth(t),
                (None, None) => {}
            }
            let wait = match req.send().await {
                Ok(r) if r.status().is_success() => return Ok(r),
                Ok(r) if matches!(r.status().as_u16(), 404 | 410) => {
                    return Err(FetchError::NotFound(url.to_string()))
                }
                Ok(r) if r.status().as_u16() == 401 => {
                    return Err(FetchError::Unauthorized {
                        url: url.to_string(),
                        challenge: r
                            .headers()
                            .get(reqwest::header::WWW_AUTHENTICATE)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string(),
                    })
                }
                Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => {
                    let after = r
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    last = Some(FetchError::Status {
                        url: url.to_string(),
                        status: r.status().as_u16(),
                    });
                    after
                }
                Ok(r) => {
                    return Err(FetchError::Status {
                        url: url.to_string(),
                        status: r.status().as_u16(),
                    })
                }
                Err(e) => {
                    last = Some(FetchError::Transport {
                        url: url.to_string(),
                        reason: error_chain(&e.without_url()),
                    });
                    None
                }
            };
            if attempt + 1 < self.attempts {
                let d = self.backoff(attempt, wait);
                tracing::debug!(url, attempt, delay = ?d, "retrying");
                tokio::time::sleep(d).await;
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// The whole body of `url`, refusing more than `limit` bytes.
    pub async fn bytes(&self, url: &str, limit: u64) -> Result<Vec<u8>, FetchError> {
        self.bytes_as(url, None, limit).await.map(|(b, _)| b)
    }

    /// The whole body of `url` asked for with an `Accept` header, and its `Content-Type`;
    /// refuses more than `limit` bytes.
    pub async fn bytes_as(
        &self,
        url: &str,
        accept: Option<&str>,
        limit: u64,
    ) -> Result<(Vec<u8>, String), FetchError> {
        let r = self.get(url, accept, None).await?;
        let content_type = r
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Ok((read_body(r, url, limit).await?, content_type))
    }

    /// Streams `url` into `file` (from its start), returning the bytes written.
    pub async fn to_file(&self, url: &str, file: &mut std::fs::File) -> Result<u64, FetchError> {
        self.to_file_sha256(url, file).await.map(|(n, _)| n)
    }

    /// Streams `url` into `file` (from its start), returning the bytes written and their
    /// hex SHA-256.
    pub async fn to_file_sha256(
        &self,
        url: &str,
        file: &mut std::fs::File,
    ) -> Result<(u64, String), FetchError> {
        save_body(self.get(url, None, None).await?, url, file).await
    }
}

/// The whole body of a response from `url`, refusing more than `limit` bytes.
pub async fn read_body(
    mut r: reqwest::Response,
    url: &str,
    limit: u64,
) -> Result<Vec<u8>, FetchError> {
    let mut out = Vec::new();
    while let Some(chunk) = r.chunk().await.map_err(|e| FetchError::Transport {
        url: url.to_string(),
        reason: error_chain(&e.without_url()),
    })? {
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit,
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Streams a response from `url` into `file` (from its start), returning the bytes written
/// and their hex SHA-256.
pub async fn save_body(
    mut r: reqwest::Response,
    url: &str,
    file: &mut std::fs::File,
) -> Result<(u64, String), FetchError> {
    use sha2::Digest as _;
    use std::io::Write;
    let mut hasher = sha2::Sha256::new();
    let io = |source| FetchError::Io {
        url: url.to_string(),
        source,
    };
    let mut n = 0u64;
    while let Some(chunk) = r.chunk().await.map_err(|e| FetchError::Transport {
        url: url.to_string(),
        reason: error_chain(&e.without_url()),
    })? {
        tokio::task::block_in_place(|| file.write_all(&chunk)).map_err(io)?;
        hasher.update(&chunk);
        n += chunk.len() as u64;
    }
    tokio::task::block_in_place(|| file.flush()).map_err(io)?;
    Ok((n, hex::encode(hasher.finalize())))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = c.source();
    }
    s
}
