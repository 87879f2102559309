//! Test helpers: temp bundles, the nora binary, bundle snapshots.

#![allow(dead_code)]

pub mod clients;
pub mod fixtures;
pub mod http;
pub mod peers;
pub mod server;
pub mod upstream;

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A temp directory with helpers to run nora against bundles inside it.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    /// `nora --bundle <dir>/<bundle> ARGS...` with no terminal and a clean environment.
    pub fn nora(&self, bundle: &str, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("nora").unwrap();
        c.current_dir(self.dir.path())
            .env_remove("NORA_BUNDLE")
            .env("NO_COLOR", "1");
        c.arg("--bundle").arg(self.path(bundle));
        c.args(args);
        c
    }
    /// Creates a bundle.
    pub fn init(&self, bundle: &str) {
        self.nora(bundle, &["init"]).assert().success();
    }
    /// Creates an API token named `name` with `role` in a bundle and returns it.
    pub fn token(&self, bundle: &str, name: &str, role: &str) -> String {
        let o = self
            .nora(
                bundle,
                &["token", "create", "--name", name, "--role", role, "--json"],
            )
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        json(&o)["token"].as_str().unwrap().to_string()
    }
    /// Carries one bundle's content to another across the gap: pack, unpack into a fresh
    /// bundle, verify.
    pub fn carry(&self, from: &str, to: &str) {
        let pack = self.path(&format!("{from}-to-{to}.tar.zst"));
        self.nora(from, &["pack", "-o", pack.to_str().unwrap()])
            .assert()
            .success();
        self.init(to);
        self.nora(to, &["unpack", pack.to_str().unwrap()])
            .assert()
            .success();
        self.nora(to, &["verify"]).assert().success();
    }
    /// Carries `from` across into a fresh `to` ([`Env::carry`]) and serves `to` with no
    /// upstream: the far side.
    pub fn across(&self, from: &str, to: &str) -> server::Server {
        self.carry(from, to);
        server::Server::start(self.dir.path(), &self.path(to), &[])
    }
    /// `nora ls ECOSYSTEM` of a bundle, as text.
    pub fn ls(&self, bundle: &str, ecosystem: &str) -> String {
        let out = self.nora(bundle, &["ls", ecosystem]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// The second crossing: a receipt from `to` carried back, `pack --since` it on `from`,
    /// unpack into `to`, verify. Returns the delta pack's `--json` report.
    pub fn carry_delta(&self, from: &str, to: &str) -> serde_json::Value {
        self.carry_delta_with(from, to, &[])
    }
    /// [`Env::carry_delta`] with extra `unpack` flags (e.g. `--on-conflict replace`).
    pub fn carry_delta_with(&self, from: &str, to: &str, unpack: &[&str]) -> serde_json::Value {
        let receipt = self.path(&format!("{to}-receipt.json"));
        let pack = self.path(&format!("{from}-to-{to}-delta.tar.zst"));
        self.nora(to, &["receipt", "-o", receipt.to_str().unwrap()])
            .assert()
            .success();
        let o = self
            .nora(
                from,
                &[
                    "--json",
                    "pack",
                    "--since",
                    receipt.to_str().unwrap(),
                    "-o",
                    pack.to_str().unwrap(),
                ],
            )
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut args = vec!["unpack", pack.to_str().unwrap()];
        args.extend(unpack);
        self.nora(to, &args).assert().success();
        self.nora(to, &["verify"]).assert().success();
        json(&o)
    }
    /// Writes the samples under `<dir>/samples`.
    pub fn samples(&self) -> fixtures::Samples {
        fixtures::make_samples(&self.path("samples"))
    }
    /// Adds every sample to a bundle.
    pub fn add_all(&self, bundle: &str, s: &fixtures::Samples) {
        let p = |p: &Path| p.to_str().unwrap().to_string();
        let runs: Vec<Vec<String>> = vec![
            vec!["oci".into(), p(&s.oci_layout)],
            vec!["oci".into(), p(&s.docker_save)],
            vec!["npm".into(), p(&s.npm), p(&s.npm_scoped)],
            vec!["pypi".into(), p(&s.wheel), p(&s.sdist)],
            vec!["cargo".into(), p(&s.crate_file)],
            vec!["go".into(), p(&s.go_zip)],
            vec!["maven".into(), p(&s.maven_pom), p(&s.maven_jar)],
            vec![
                "raw".into(),
                "--path".into(),
                "tools/tool.sh".into(),
                p(&s.raw),
            ],
        ];
        for r in runs {
            let mut args = vec!["add"];
            args.extend(r.iter().map(String::as_str));
            self.nora(bundle, &args).assert().success();
        }
    }
}

/// Every file under a directory (excluding lock files and tmp/) with its bytes' digest:
/// a snapshot to prove that a failed operation changed nothing.
pub fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    use sha2::Digest;
    let mut m = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
        let rel = e
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel == "lock" || rel == "unpack.lock" || rel.starts_with("tmp") {
            continue;
        }
        if e.file_type().is_file() {
            let b = std::fs::read(e.path()).unwrap();
            m.insert(rel, hex::encode(sha2::Sha256::digest(&b)));
        } else if e.file_type().is_dir() && !rel.is_empty() {
            m.insert(rel + "/", String::new());
        }
    }
    m
}

/// The temp files in a bundle's `tmp/`, those in work directories included (their `lock`
/// files are not counted).
pub fn temp_files(bundle: &Path) -> usize {
    walkdir::WalkDir::new(bundle.join("tmp"))
        .min_depth(1)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file() && e.file_name() != "lock")
        .count()
}

/// Asserts that a command exited 1 with `says` in its stderr.
pub fn fails_with(o: &std::process::Output, says: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(says), "{says:?} in {err}");
}

/// Asserts that a command succeeded (showing its stdout and stderr when it did not);
/// returns its stdout.
pub fn ok(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Parses stdout of a `--json` run that must have succeeded.
pub fn ok_json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(out)
}

/// The names of a mirror report's items with `outcome`, sorted.
pub fn names_with(report: &serde_json::Value, outcome: &str) -> Vec<String> {
    let mut names: Vec<String> = report["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["outcome"] == outcome)
        .map(|i| i["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

/// The error of a mirror report's first failed item.
pub fn first_error(report: &serde_json::Value) -> String {
    report["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["outcome"] == "failed")
        .and_then(|i| i["error"].as_str())
        .unwrap_or_else(|| panic!("no failed item in {report}"))
        .to_string()
}

/// Parses stdout of a `--json` run.
pub fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// The plain hex SHA-256 of `bytes` (what `#sha256=`, `cksum` and `.sha256` files carry,
/// and blob file names).
pub fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// `sha256:<hex>` of some bytes: an OCI digest.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}
