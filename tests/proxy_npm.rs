//! `nora serve --upstream npm=URL` with verdaccio as the upstream: a CI job's `npm install`
//! through nora fills the bundle, which installs offline across the gap; packuments are
//! kept and answered while the upstream is down; concurrent misses fetch a tarball once; a
//! tarball that fails its integrity is refused and nothing stored.

mod common;

use common::clients::{npm_package, Npm};
use common::server::{curl, dead_url, get, pull_through, require, two_at_once};
use common::upstream::{Gate, Route, Upstream};
use common::{snapshot, Env};
use std::path::Path;

fn installed(app: &Path, rel: &str) -> String {
    let p = app.join(rel).join("package.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    v["version"].as_str().unwrap().to_string()
}

#[test]
fn a_ci_install_through_nora_fills_the_bundle_that_installs_offline() {
    if !require("npm") {
        return;
    }
    let env = Env::new();
    let Some(up) = common::peers::verdaccio(&env.path("verdaccio")) else {
        return;
    };
    let publisher = Npm::new(&env.path("npm-pub"), &format!("{}/", up.url), "x");
    for (name, version, deps) in [
        ("left", "1.0.0", vec![]),
        ("left", "2.0.0", vec![]),
        ("left", "3.0.0", vec![]),
        ("@acme/util", "1.0.0", vec![]),
        (
            "@acme/a",
            "1.0.0",
            vec![("left", "^2.0.0"), ("@acme/util", "^1.0.0")],
        ),
    ] {
        publisher.ok(
            &npm_package(&env.path("pkgs"), name, version, &deps),
            &[
                "publish",
                "--tag",
                if version == "3.0.0" { "next" } else { "latest" },
            ],
        );
    }
    let app = env.path("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("package.json"),
        r#"{"name":"app","version":"1.0.0","private":true,"dependencies":{"@acme/a":"^1.0.0","left":"^1.0.0"}}"#,
    )
    .unwrap();

    // side A: the CI job's npm points at nora, which pulls through
    env.init("a");
    let a = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("npm={}", up.url),
        Some("0s"),
    );
    let registry = format!("{}/npm/", a.url);
    Npm::new(&env.path("npm-a1"), &registry, "x").ok(&app, &["install"]);
    assert_eq!(installed(&app, "node_modules/left"), "1.0.0");
    assert_eq!(
        installed(&app, "node_modules/@acme/a/node_modules/left"),
        "2.0.0"
    );
    assert_eq!(installed(&app, "node_modules/@acme/util"), "1.0.0");
    let lock = std::fs::read_to_string(app.join("package-lock.json")).unwrap();
    assert!(
        lock.contains(&format!(
            "\"resolved\": \"{registry}@acme/a/-/a-1.0.0.tgz\""
        )),
        "tarballs come from nora: {lock}"
    );
    let held = env.ls("a", "npm");
    for v in [
        "left@1.0.0",
        "left@2.0.0",
        "@acme/util@1.0.0",
        "@acme/a@1.0.0",
    ] {
        assert!(held.contains(v), "{v} in {held}");
    }
    assert!(
        !held.contains("left@3.0.0"),
        "only what the install used: {held}"
    );
    // the packument is the upstream's (every version, its tags), pointing at nora
    let doc = get(&format!("{registry}left")).json();
    assert_eq!(doc["dist-tags"]["next"], "3.0.0");
    assert_eq!(
        doc["versions"]["3.0.0"]["dist"]["tarball"],
        format!("{registry}left/-/left-3.0.0.tgz")
    );
    let short = curl(
        "GET",
        &format!("{registry}left"),
        &["Accept: application/vnd.npm.install-v1+json"],
        None,
    );
    assert_eq!(
        short.header("content-type"),
        Some("application/vnd.npm.install-v1+json")
    );
    assert!(short.json()["versions"]["1.0.0"]
        .get("description")
        .is_none());
    env.nora("a", &["verify"]).assert().success();

    // the upstream goes down: a fresh install (no lockfile) resolves against the kept
    // packuments, and its tarballs come from the bundle
    drop(up);
    let fresh = env.path("app-fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::copy(app.join("package.json"), fresh.join("package.json")).unwrap();
    Npm::new(&env.path("npm-a2"), &registry, "x").ok(&fresh, &["install"]);
    assert_eq!(installed(&fresh, "node_modules/left"), "1.0.0");
    assert_eq!(
        installed(&fresh, "node_modules/@acme/a/node_modules/left"),
        "2.0.0"
    );
    assert!(
        a.log().contains("upstream down; answering the kept copy"),
        "{}",
        a.log()
    );
    // nothing kept and the upstream down: npm's error format, a 502, the bundle unchanged
    let before = snapshot(&env.path("a"));
    let r = get(&format!("{registry}nosuch"));
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("upstream unavailable"),
        "{}",
        r.text()
    );
    let r = get(&format!("{registry}left/-/left-3.0.0.tgz"));
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(snapshot(&env.path("a")), before);
    drop(a);

    // across the gap: B installs the checked-in lockfile with no upstream at all
    let b = env.across("a", "b");
    let text = std::fs::read_to_string(app.join("package-lock.json")).unwrap();
    std::fs::write(
        app.join("package-lock.json"),
        text.replace(&registry, "https://registry.npmjs.org/"),
    )
    .unwrap();
    std::fs::remove_dir_all(app.join("node_modules")).unwrap();
    Npm::new(&env.path("npm-b"), &format!("{}/npm/", b.url), "x").ok(&app, &["ci"]);
    assert_eq!(
        installed(&app, "node_modules/@acme/a/node_modules/left"),
        "2.0.0"
    );
    assert_eq!(installed(&app, "node_modules/@acme/util"), "1.0.0");
}

fn sri(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
    )
}

fn packument(name: &str, version: &str, integrity: &str) -> Vec<u8> {
    serde_json::json!({
        "name": name, "dist-tags": {"latest": version},
        "versions": {version: {
            "name": name, "version": version,
            "dist": {"tarball": format!("http://elsewhere.invalid/{name}-{version}.tgz"), "integrity": integrity}
        }}
    })
    .to_string()
    .into_bytes()
}

#[test]
fn concurrent_misses_fetch_once_and_a_tarball_failing_its_integrity_is_refused() {
    let env = Env::new();
    let tgz = env.path("left-1.0.0.tgz");
    common::fixtures::npm_tgz(&tgz, "left", "1.0.0");
    let good = std::fs::read(&tgz).unwrap();
    common::fixtures::npm_tgz(&tgz, "bad", "1.0.0");
    let bad = std::fs::read(&tgz).unwrap();
    let gate = Gate::default();
    let route = |body: Vec<u8>, gate: Option<Gate>| Route {
        body,
        gate,
        ..Default::default()
    };
    let up = Upstream::start(vec![
        (
            "/left",
            route(packument("left", "1.0.0", &sri(&good)), None),
        ),
        (
            "/left/-/left-1.0.0.tgz",
            route(good.clone(), Some(gate.clone())),
        ),
        // the tarball is not the one the packument vouches for
        (
            "/bad",
            route(packument("bad", "1.0.0", &sri(b"other")), None),
        ),
        ("/bad/-/bad-1.0.0.tgz", route(bad.clone(), None)),
    ]);
    env.init("a");
    let s = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("npm={}", up.url),
        None,
    );
    let url = format!("{}/npm/left/-/left-1.0.0.tgz", s.url);

    // two clients ask for the same uncached tarball at once: one upstream fetch
    for r in two_at_once(&s, &url, &up, "/left/-/left-1.0.0.tgz", &gate) {
        assert_eq!(r.status, 200);
        assert!(r.body == good, "both get the upstream's tarball");
    }
    assert_eq!(up.hits("/left/-/left-1.0.0.tgz"), 1);
    assert!(env.ls("a", "npm").contains("left@1.0.0"));
    let tags = get(&format!("{}/npm/-/package/left/dist-tags", s.url));
    assert_eq!(tags.json()["latest"], "1.0.0");

    // a tarball that fails the packument's integrity: refused, nothing stored
    let before = snapshot(&env.path("a"));
    let r = get(&format!("{}/npm/bad/-/bad-1.0.0.tgz", s.url));
    assert_eq!(r.status, 502, "{}", r.text());
    let e = r.json()["error"].as_str().unwrap().to_string();
    assert!(
        e.contains("refused what the upstream served for bad@1.0.0") && e.contains("hash mismatch"),
        "{e}"
    );
    // a version or package the upstream lacks: npm's 404
    let r = get(&format!("{}/npm/left/-/left-9.0.0.tgz", s.url));
    assert_eq!(r.status, 404, "{}", r.text());
    let r = get(&format!("{}/npm/nope", s.url));
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("nope: not found upstream"),
        "{}",
        r.text()
    );
    // nothing of the bad tarball was stored: no blob of it, no record but kept metadata
    let bad_blob = common::hex_sha256(&bad);
    let added: Vec<String> = snapshot(&env.path("a"))
        .into_keys()
        .filter(|k| !before.contains_key(k))
        .collect();
    assert!(
        added
            .iter()
            .all(|k| !k.contains(&bad_blob) && (k.starts_with("blobs/") || k.contains("_upstream"))),
        "{added:?}"
    );
    assert!(!env.ls("a", "npm").contains("bad@"));
    drop(s);

    // the upstream is down and nothing is kept for a tarball's package: a clear 502
    let down = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("npm={}", dead_url()),
        None,
    );
    let r = get(&format!("{}/npm/other/-/other-1.0.0.tgz", down.url));
    assert_eq!(r.status, 502, "{}", r.text());
}
