//! Pulling from an OCI distribution registry: manifests, blobs and referrers of a
//! repository, with the token flow real registries use (a `401` with a `Bearer` challenge
//! sends nora to the realm for a pull token, with Basic credentials when the environment
//! has them; a `Basic` challenge gets the credentials directly).

use super::{read_body, save_body, Client, FetchError};
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::Mutex;

/// Every manifest media type nora stores, for `Accept`.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// One registry host.
pub struct Registry {
    base: String,
    client: Client,
    basic: Option<String>,
    /// `Authorization` header values by repository, once a challenge was answered.
    tokens: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base", &self.base)
            .finish()
    }
}

/// The base URL of a registry host: plain HTTP for loopback hosts (as Docker allows),
/// HTTPS otherwise; Docker Hub's API host for `docker.io`.
pub fn base_url(host: &str) -> String {
    let name = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    let loopback = name == "localhost" || name.starts_with("127.") || name == "[::1]";
    match host {
        "docker.io" | "index.docker.io" => "https://registry-1.docker.io".into(),
        _ if loopback => format!("http://{host}"),
        _ => format!("https://{host}"),
    }
}

/// Splits a `WWW-Authenticate` challenge into its scheme and parameters.
pub fn parse_challenge(header: &str) -> (String, HashMap<String, String>) {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let mut params = HashMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (&q[..end], q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        params.insert(key, value.to_string());
        rest = tail.trim_start_matches([',', ' ']);
    }
    (scheme.to_ascii_lowercase(), params)
}

impl Registry {
    /// A registry at `host` (`host[:port]`); `user_env`/`password_env` name the variables
    /// holding credentials, if any.
    pub fn new(host: &str, client: Client, user_env: &str, password_env: &str) -> Registry {
        let basic = match (std::env::var(user_env), std::env::var(password_env)) {
            (Ok(u), Ok(p)) if !u.is_empty() => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )),
            _ => None,
        };
        Registry {
            base: base_url(host),
            client,
            basic,
            tokens: Mutex::default(),
        }
    }

    async fn authorize(
        &self,
        repo: &str,
        url: &str,
        challenge: &str,
    ) -> Result<String, FetchError> {
        let (scheme, params) = parse_challenge(challenge);
        let denied = || FetchError::Unauthorized {
            url: url.to_string(),
            challenge: challenge.to_string(),
        };
        match scheme.as_str() {
            "basic" => self.basic.clone().ok_or_else(denied),
            "bearer" => {
                let realm = params.get("realm").ok_or_else(denied)?;
                let mut token_url = reqwest::Url::parse(realm).map_err(|_| denied())?;
                {
                    let mut q = token_url.query_pairs_mut();
                    if let Some(s) = params.get("service") {
                        q.append_pair("service", s);
                    }
                    q.append_pair("scope", &format!("repository:{repo}:pull"));
                }
                let r = self
                    .client
                    .get(
                        token_url.as_str(),
                        Some("application/json"),
                        self.basic.as_deref(),
                    )
                    .await?;
                let body = read_body(r, token_url.as_str(), 1 << 20).await?;
                let v: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|e| FetchError::Transport {
                        url: token_url.to_string(),
                        reason: format!("not a token response: {e}"),
                    })?;
                let token = v
                    .get("token")
                    .or_else(|| v.get("access_token"))
                    .and_then(|t| t.as_str())
                    .ok_or_else(denied)?;
                Ok(format!("Bearer {token}"))
            }
            _ => Err(denied()),
        }
    }

    /// GETs a path of `repo`, answering an auth challenge once.
    async fn get(
        &self,
        repo: &str,
        path: &str,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, FetchError> {
        let url = format!("{}/v2/{repo}/{path}", self.base);
        let auth = self.tokens.lock().expect("tokens").get(repo).cloned();
        match self
            .client
            .get(&url, accept, auth.as_deref().or(self.basic.as_deref()))
            .await
        {
            Err(FetchError::Unauthorized { challenge, .. }) => {
                let header = self.authorize(repo, &url, &challenge).await?;
                self.tokens
                    .lock()
                    .expect("tokens")
                    .insert(repo.to_string(), header.clone());
                self.client.get(&url, accept, Some(&header)).await
            }
            r => r,
        }
    }

    /// A registry at base URL `base` (`http://host:port`), credentials as with
    /// [`Registry::new`].
    pub fn at(base: &str, client: Client, user_env: &str, password_env: &str) -> Registry {
        Registry {
            base: base.trim_end_matches('/').to_string(),
            ..Registry::new("localhost", client, user_env, password_env)
        }
    }

    /// The tag list of `repo` (its first page).
    pub async fn tags(&self, repo: &str) -> Result<Vec<u8>, FetchError> {
        let path = "tags/list";
        let r = self.get(repo, path, Some("application/json")).await?;
        read_body(r, &self.url(repo, path), 16 << 20).await
    }

    /// The URL of a path of `repo`, for messages.
    pub fn url(&self, repo: &str, path: &str) -> String {
        format!("{}/v2/{repo}/{path}", self.base)
    }

    /// A manifest or index by tag or digest: its bytes and media type.
    pub async fn manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<(Vec<u8>, String), FetchError> {
        let path = format!("manifests/{reference}");
        let r = self.get(repo, &path, Some(MANIFEST_ACCEPT)).await?;
        let media_type = r
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        Ok((
            read_body(r, &self.url(repo, &path), 16 << 20).await?,
            media_type,
        ))
    }

    /// Streams a blob into `file`: bytes written and their hex SHA-256.
    pub async fn blob(
        &self,
        repo: &str,
        digest: &str,
        file: &mut std::fs::File,
    ) -> Result<(u64, String), FetchError> {
        let path = format!("blobs/{digest}");
        let r = self.get(repo, &path, None).await?;
        save_body(r, &self.url(repo, &path), file).await
    }

    /// The referrers index of a manifest (OCI 1.1), `None` when the registry has no
    /// referrers API.
    pub async fn referrers(&self, repo: &str, digest: &str) -> Result<Option<Vec<u8>>, FetchError> {
        let path = format!("referrers/{digest}");
        match self
            .get(repo, &path, Some("application/vnd.oci.image.index.v1+json"))
            .await
        {
            Ok(r) => Ok(Some(read_body(r, &self.url(repo, &path), 16 << 20).await?)),
            Err(FetchError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_and_hosts() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(s, "bearer");
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(p["scope"], "repository:library/alpine:pull");
        let (s, p) = parse_challenge(r#"Basic realm="nora""#);
        assert_eq!((s.as_str(), p["realm"].as_str()), ("basic", "nora"));
        assert_eq!(base_url("docker.io"), "https://registry-1.docker.io");
        assert_eq!(base_url("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(base_url("localhost:5000"), "http://localhost:5000");
        assert_eq!(base_url("ghcr.io"), "https://ghcr.io");
    }
}
