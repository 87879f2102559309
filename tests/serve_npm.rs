//! `nora serve` as an npm registry: `npm publish` (plain and scoped), `npm install` and
//! `npm ci` from a fresh cache, dist-tags, unpublish, authentication, and refused
//! publishes that change nothing.

mod common;

use base64::Engine;
use common::clients::Npm;
use common::server::{curl, require, Server};
use common::{snapshot, Env};
use sha2::Digest;
use std::path::PathBuf;
use std::process::Command;

fn npm_for(env: &Env, s: &Server, token: &str, tag: &str) -> Npm {
    Npm::new(
        &env.path(&format!("npm-{tag}")),
        &format!("{}/npm/", s.url),
        token,
    )
}

fn package(env: &Env, name: &str, version: &str) -> PathBuf {
    common::clients::npm_package(&env.path("pkgs"), name, version, &[])
}

#[test]
fn publish_install_ci_tags_and_unpublish() {
    if !require("npm") {
        return;
    }
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    let npm = npm_for(&env, &s, "nora_not_checked", "a");
    npm.ok(&package(&env, "nora-demo", "1.0.0"), &["publish"]);
    npm.ok(
        &package(&env, "nora-demo", "1.1.0"),
        &["publish", "--tag", "beta"],
    );
    npm.ok(
        &package(&env, "@demo/util", "2.0.0"),
        &["publish", "--access", "public"],
    );

    let app = env.path("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("package.json"),
        r#"{"name":"app","version":"0.0.0","private":true,"dependencies":{"nora-demo":"^1.0.0","@demo/util":"2.0.0"}}"#,
    )
    .unwrap();
    npm.ok(&app, &["install"]);
    let installed = |p: &str| -> serde_json::Value {
        serde_json::from_slice(
            &std::fs::read(app.join("node_modules").join(p).join("package.json")).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        installed("nora-demo")["version"],
        "1.0.0",
        "latest wins within the range"
    );
    assert_eq!(installed("@demo/util")["version"], "2.0.0");
    let out = Command::new("node")
        .args([
            "-e",
            "console.log(require('nora-demo').version + ' ' + require('@demo/util').name)",
        ])
        .current_dir(&app)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1.0.0 @demo/util"
    );

    // npm ci from the lockfile with an empty cache
    std::fs::remove_dir_all(app.join("node_modules")).unwrap();
    let fresh = npm_for(&env, &s, "nora_not_checked", "fresh");
    fresh.ok(&app, &["ci"]);
    assert_eq!(installed("nora-demo")["version"], "1.0.0");

    // dist-tags
    npm.ok(&app, &["dist-tag", "add", "nora-demo@1.1.0", "stable"]);
    let tags = npm.ok(&app, &["dist-tag", "ls", "nora-demo"]);
    assert!(
        tags.contains("stable: 1.1.0")
            && tags.contains("beta: 1.1.0")
            && tags.contains("latest: 1.0.0"),
        "{tags}"
    );
    npm.ok(&app, &["dist-tag", "rm", "nora-demo", "beta"]);
    let tags = npm.ok(&app, &["dist-tag", "ls", "nora-demo"]);
    assert!(!tags.contains("beta"), "{tags}");

    // unpublish one version
    npm.ok(&app, &["unpublish", "nora-demo@1.1.0", "--force"]);
    let versions = npm.ok(&app, &["view", "nora-demo", "versions", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&versions).unwrap();
    assert_eq!(v, serde_json::json!(["1.0.0"]), "{versions}");

    // the bundle holds what npm published, whole and valid
    let ls = env.nora("b", &["ls", "npm"]).output().unwrap();
    let ls = String::from_utf8_lossy(&ls.stdout);
    assert!(
        ls.contains("@demo/util@2.0.0") && ls.contains("nora-demo@1.0.0"),
        "{ls}"
    );
    env.nora("b", &["verify"]).assert().success();
}

#[test]
fn tokens_decide_who_publishes() {
    if !require("npm") {
        return;
    }
    let env = Env::new();
    env.init("b");
    let (read, write) = (
        env.token("b", "read", "read"),
        env.token("b", "write", "write"),
    );
    let s = Server::start(env.dir.path(), &env.path("b"), &["--auth"]);
    let pkg = package(&env, "guarded", "1.0.0");
    let o = npm_for(&env, &s, &read, "r").run(&pkg, &["publish"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("403"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    npm_for(&env, &s, &write, "w").ok(&pkg, &["publish"]);
    let view = npm_for(&env, &s, &read, "r2").ok(&pkg, &["view", "guarded", "version"]);
    assert_eq!(view.trim(), "1.0.0");
    let o =
        npm_for(&env, &s, "nora_000000000000_bad", "x").run(&pkg, &["view", "guarded", "version"]);
    assert!(!o.status.success(), "a wrong token is refused");
    let r = curl("GET", &format!("{}/npm/guarded", s.url), &[], None);
    assert_eq!(r.status, 401, "no credentials, no packument");
}

fn publish_body(name: &str, version: &str, tgz: &[u8], integrity: &str) -> Vec<u8> {
    let file = format!("{}-{version}.tgz", name.rsplit('/').next().unwrap());
    serde_json::to_vec(&serde_json::json!({
        "_id": name, "name": name, "dist-tags": {"latest": version},
        "versions": {version: {"name": name, "version": version, "dist": {"integrity": integrity, "shasum": hex::encode(sha1::Sha1::digest(tgz))}}},
        "_attachments": {file: {"content_type": "application/octet-stream", "data": base64::engine::general_purpose::STANDARD.encode(tgz), "length": tgz.len()}}
    }))
    .unwrap()
}

#[test]
fn bad_publishes_and_paths_change_nothing() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(
        env.dir.path(),
        &env.path("b"),
        &["--publish-max-size", "64KiB"],
    );
    let tgz_path = env.path("p.tgz");
    common::fixtures::npm_tgz(&tgz_path, "solid", "1.0.0");
    let tgz = std::fs::read(&tgz_path).unwrap();
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&tgz))
    );
    let put = |name: &str, body: &[u8]| {
        curl(
            "PUT",
            &format!("{}/npm/{name}", s.url),
            &["Content-Type: application/json"],
            Some(body),
        )
    };
    assert_eq!(
        put("solid", &publish_body("solid", "1.0.0", &tgz, &integrity)).status,
        201
    );

    let before = snapshot(&env.path("b"));
    let wrong = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(b"x"))
    );
    for (name, body, status, needle) in [
        (
            "solid",
            publish_body("solid", "1.0.0", &tgz, &integrity),
            403,
            "previously published",
        ),
        (
            "other",
            publish_body("other", "1.0.0", &tgz, &integrity),
            400,
            "holds solid@1.0.0",
        ),
        ("solid", b"{not json".to_vec(), 400, "not JSON"),
        (
            "solid",
            br#"{"name":"solid","versions":{}}"#.to_vec(),
            400,
            "_attachments",
        ),
        ("solid", vec![b' '; 100_000], 413, "limit"),
    ] {
        let r = put(name, &body);
        assert_eq!(r.status, status, "{}", r.text());
        assert!(
            r.json()["error"].as_str().unwrap().contains(needle),
            "{}",
            r.text()
        );
    }
    // a tarball that does not match its declared integrity
    common::fixtures::npm_tgz(&tgz_path, "solid", "2.0.0");
    let tgz2 = std::fs::read(&tgz_path).unwrap();
    let r = put("solid", &publish_body("solid", "2.0.0", &tgz2, &wrong));
    assert_eq!(r.status, 400);
    assert!(r.text().contains("integrity"), "{}", r.text());
    for (p, status) in [
        ("/npm/../etc/passwd", 400),
        ("/npm/%2e%2e/x", 400),
        ("/npm/a%2fb", 400),
        ("/npm/.hidden", 400),
        ("/npm/@scope%2f..%2fx", 400),
        ("/npm/nothing-here", 404),
        ("/npm/solid/-/solid-9.9.9.tgz", 404),
    ] {
        let r = curl("GET", &format!("{}{p}", s.url), &[], None);
        assert_eq!(r.status, status, "{p}: {}", r.text());
    }
    assert_eq!(snapshot(&env.path("b")), before);

    // abbreviated packument on request, tarball URLs pointing here (or at the proxy's host)
    let r = curl(
        "GET",
        &format!("{}/npm/solid", s.url),
        &["Accept: application/vnd.npm.install-v1+json"],
        None,
    );
    assert_eq!(
        r.header("Content-Type"),
        Some("application/vnd.npm.install-v1+json")
    );
    let v = r.json();
    assert_eq!(
        v["versions"]["1.0.0"]["dist"]["integrity"],
        integrity.as_str()
    );
    assert_eq!(
        v["versions"]["1.0.0"]["dist"]["tarball"],
        format!("{}/npm/solid/-/solid-1.0.0.tgz", s.url)
    );
    let r = curl(
        "GET",
        &format!("{}/npm/solid", s.url),
        &["X-Forwarded-Proto: https", "X-Forwarded-Host: npm.example"],
        None,
    );
    assert_eq!(
        r.json()["versions"]["1.0.0"]["dist"]["tarball"],
        "https://npm.example/npm/solid/-/solid-1.0.0.tgz"
    );
    let t = curl(
        "GET",
        &format!("{}/npm/solid/-/solid-1.0.0.tgz", s.url),
        &[],
        None,
    );
    assert_eq!(t.body, tgz);
}
