//! Real peer registries as upstreams: verdaccio (npm) and pypiserver (PyPI), installed by
//! `.ci/test` under `$NORA_TEST_PEERS` (default `target/peers`). Each starts on a free
//! loopback port with no way out to the internet, and is killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running peer.
pub struct Peer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn peers_dir() -> PathBuf {
    std::env::var_os("NORA_TEST_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers"))
}

/// The peer's program, or `None` (a loud skip; a failure under `CI=true`).
fn program(rel: &str) -> Option<PathBuf> {
    let p = peers_dir().join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is required under CI=true; .ci/test installs it",
            p.display()
        );
    }
    eprintln!(
        "SKIPPING: {} is not installed (run .ci/test once)",
        p.display()
    );
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_ready(mut child: Child, url: String, probe: &str, log: &Path) -> Peer {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ok = Command::new("curl")
            .args(["-sf", "-o", "/dev/null", "--max-time", "2"])
            .arg(format!("{url}{probe}"))
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return Peer { child, url };
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{url}: the peer exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "{url}{probe} not ready in 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// verdaccio with no uplinks, storage under `dir`, anonymous publish allowed.
pub fn verdaccio(dir: &Path) -> Option<Peer> {
    let bin = program("verdaccio/node_modules/.bin/verdaccio")?;
    std::fs::create_dir_all(dir).unwrap();
    let port = free_port();
    let d = dir.display();
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "storage: {d}/storage\nplugins: {d}/plugins\nweb:\n  enable: false\nauth:\n  htpasswd:\n    file: {d}/htpasswd\n    max_users: -1\nuplinks: {{}}\npackages:\n  '@*/*':\n    access: $all\n    publish: $all\n  '**':\n    access: $all\n    publish: $all\nlisten: 127.0.0.1:{port}\nlog: {{ type: stdout, format: pretty, level: warn }}\n"
        ),
    )
    .unwrap();
    let log = dir.join("verdaccio.log");
    let child = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("verdaccio.err")).unwrap(),
        ))
        .spawn()
        .unwrap();
    Some(wait_ready(
        child,
        format!("http://127.0.0.1:{port}"),
        "/-/ping",
        &log,
    ))
}

/// pypiserver serving (and taking uploads into) `packages`, with no fallback to pypi.org.
pub fn pypiserver(packages: &Path) -> Option<Peer> {
    let bin = program("pypi/bin/pypi-server")?;
    std::fs::create_dir_all(packages).unwrap();
    let port = free_port();
    let log = packages.with_extension("log");
    let child = Command::new(bin)
        .args([
            "run",
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-a",
            ".",
            "-P",
            ".",
            "--disable-fallback",
        ])
        .arg(packages)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Some(wait_ready(
        child,
        format!("http://127.0.0.1:{port}"),
        "/health",
        &log,
    ))
}

/// CNCF distribution (Debian's `docker-registry`) storing under `dir`, no auth.
pub fn docker_registry(dir: &Path) -> Option<Peer> {
    if !super::server::require("docker-registry") {
        return None;
    }
    std::fs::create_dir_all(dir).unwrap();
    let port = free_port();
    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let log = dir.join("registry.log");
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Some(wait_ready(
        child,
        format!("http://127.0.0.1:{port}"),
        "/v2/",
        &log,
    ))
}
