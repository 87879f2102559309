//! A `nora serve` child process on a free loopback port, and a curl-based HTTP helper.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; stopped with SIGTERM when dropped.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub host: String,
    pub stderr: PathBuf,
}

impl Server {
    /// Starts `nora --bundle BUNDLE serve --listen 127.0.0.1:0 EXTRA...` and waits for its
    /// address (printed on stdout) for at most 20 s.
    pub fn start(dir: &Path, bundle: &Path, extra: &[&str]) -> Server {
        Self::start_with_env(dir, Some(bundle), extra, None)
    }

    /// [`Server::start`] with an optional bundle flag and one extra environment variable.
    pub fn start_with_env(
        dir: &Path,
        bundle: Option<&Path>,
        extra: &[&str],
        var: Option<(&str, &str)>,
    ) -> Server {
        Self::spawn(dir, bundle, extra, var, None)
    }

    /// [`Server::start`] in a process that may open at most `files` files (soft and hard
    /// limit), as on a machine with a low `ulimit -n`.
    pub fn start_with_files_limit(dir: &Path, bundle: &Path, extra: &[&str], files: u64) -> Server {
        Self::spawn(dir, Some(bundle), extra, None, Some(files))
    }

    fn spawn(
        dir: &Path,
        bundle: Option<&Path>,
        extra: &[&str],
        var: Option<(&str, &str)>,
        files: Option<u64>,
    ) -> Server {
        let stderr = dir.join(format!(
            "serve-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("nora"));
        if let Some(b) = bundle {
            cmd.arg("--bundle").arg(b);
        }
        for v in [
            "NORA_BUNDLE",
            "NORA_LISTEN",
            "NORA_CONFIG",
            "NORA_RAW_MAX_SIZE",
            "NORA_LOG_FORMAT",
            "NORA_UPSTREAM",
            "NORA_UPSTREAM_TTL",
            "NORA_UPSTREAM_TOKEN",
        ] {
            cmd.env_remove(v);
        }
        if let Some((k, v)) = var {
            cmd.env(k, v);
        }
        if let Some(n) = files {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe and touches only the child.
            unsafe {
                cmd.pre_exec(move || {
                    let r = libc::rlimit {
                        rlim_cur: n,
                        rlim_max: n,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start nora serve");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("nora serve printed no address within 20 s");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        let host = url.trim_start_matches("http://").to_string();
        Server {
            child,
            url,
            host,
            stderr,
        }
    }

    /// Sends SIGTERM and waits (at most 20 s) for the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        wait_deadline(&mut self.child, Duration::from_secs(20)).expect("server did not stop")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
            if wait_deadline(&mut self.child, Duration::from_secs(10)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

/// Waits for a child with a deadline, polling.
pub fn wait_deadline(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A response as curl saw it.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// Asserts the status and that the body says `says`.
    pub fn expect(&self, status: u16, says: &str) -> &Resp {
        assert_eq!(self.status, status, "{}", self.text());
        assert!(self.text().contains(says), "{says:?} in {}", self.text());
        self
    }
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The OCI error code of the first error.
    pub fn oci_code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Runs curl (with `--path-as-is`, a 30 s limit) and returns status, headers and body.
pub fn curl(method: &str, url: &str, headers: &[&str], body: Option<&[u8]>) -> Resp {
    let tmp = tempfile::tempdir().unwrap();
    let hdr = tmp.path().join("h");
    let out = tmp.path().join("b");
    let mut c = Command::new("curl");
    c.args(["-sS", "--path-as-is", "--max-time", "30", "-X", method])
        .arg("-D")
        .arg(&hdr)
        .arg("-o")
        .arg(&out)
        .args(["-w", "%{http_code}"]);
    if method == "HEAD" {
        c.arg("-I");
    }
    for h in headers {
        c.args(["-H", h]);
    }
    if let Some(b) = body {
        let f = tmp.path().join("in");
        std::fs::File::create(&f).unwrap().write_all(b).unwrap();
        c.arg("--data-binary").arg(format!("@{}", f.display()));
    }
    c.arg(url);
    let o = c.output().expect("run curl");
    assert!(
        o.status.success(),
        "curl {method} {url} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let status: u16 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    let text = std::fs::read_to_string(&hdr).unwrap_or_default();
    // the last header block (after any 100 Continue)
    let block = text
        .rsplit("\r\n\r\n")
        .find(|b| !b.trim().is_empty())
        .unwrap_or("");
    let headers = block
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: std::fs::read(&out).unwrap_or_default(),
    }
}

/// Fails under `CI=true` when a client is missing; elsewhere says so loudly and skips.
pub fn require(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{tool} is required under CI=true; .ci/test installs it");
        }
        eprintln!("SKIPPING: {tool} is not installed (CI would fail here)");
    }
    found
}

/// Waits (up to 20 s) until `done` holds.
pub fn poll(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

/// The value of a counter on the server's `/metrics` (0 when absent).
pub fn metric(server: &Server, name: &str) -> u64 {
    let m = curl("GET", &format!("{}/metrics", server.url), &[], None).text();
    m.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A loopback URL nothing listens on.
pub fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

/// `GET url` ([`curl`]).
pub fn get(url: &str) -> Resp {
    curl("GET", url, &[], None)
}

/// `nora serve` on `bundle` pulling through from `spec` (`ECOSYSTEM=URL`), with `ttl` as
/// its `--upstream-ttl` when given (`0s`: metadata refetched on every request).
pub fn pull_through(dir: &Path, bundle: &Path, spec: &str, ttl: Option<&str>) -> Server {
    let mut args = vec!["--upstream", spec];
    if let Some(t) = ttl {
        args.extend(["--upstream-ttl", t]);
    }
    Server::start(dir, bundle, &args)
}

/// Two clients GET `url` of `server` at once while `upstream` holds `path` behind `gate`:
/// waits for the first to reach the upstream and for the second to join its fetch (nora's
/// `nora_upstream_joined_total`), then opens the gate. Returns both answers.
pub fn two_at_once(
    server: &Server,
    url: &str,
    upstream: &super::upstream::Upstream,
    path: &str,
    gate: &super::upstream::Gate,
) -> [Resp; 2] {
    let client = || {
        let url = url.to_string();
        std::thread::spawn(move || get(&url))
    };
    let first = client();
    poll("the first request to reach the upstream", || {
        upstream.hits(path) == 1
    });
    let second = client();
    poll("the second request to join the fetch", || {
        metric(server, "nora_upstream_joined_total") == 1
    });
    gate.open();
    [first.join().unwrap(), second.join().unwrap()]
}
