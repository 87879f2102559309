//! `nora mirror --npm-lock` against a second `nora serve` standing in for the npm registry:
//! a package-lock.json written by npm itself (scoped packages, a nested duplicate) mirrored,
//! carried across the gap and installed with `npm ci` from the far side alone; a second
//! round with a newer lockfile crossing as a small delta; yarn.lock; and bad input.

mod common;

use common::clients::{npm_package, Npm};
use common::server::{require, Server};
use common::{json, snapshot, Env};
use std::path::Path;

fn publish_to(
    env: &Env,
    registry: &str,
    name: &str,
    version: &str,
    deps: &[(&str, &str)],
    tag: Option<&str>,
) {
    let npm = Npm::new(&env.path("npm-pub"), registry, "nora_x");
    let mut args = vec!["publish"];
    args.extend(tag.map(|t| ["--tag", t]).into_iter().flatten());
    npm.ok(&npm_package(&env.path("pkgs"), name, version, deps), &args);
}

fn publish(env: &Env, up: &Server, name: &str, version: &str, deps: &[(&str, &str)]) {
    publish_to(env, &format!("{}/npm/", up.url), name, version, deps, None);
}

fn mirror(env: &Env, bundle: &str, registry: &str, lock: &Path) -> std::process::Output {
    env.nora(
        bundle,
        &[
            "--json",
            "mirror",
            "--npm-lock",
            lock.to_str().unwrap(),
            "--npm-registry",
            registry,
        ],
    )
    .output()
    .unwrap()
}

fn installed(app: &Path, rel: &str) -> String {
    let p = app.join(rel).join("package.json");
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap();
    v["version"].as_str().unwrap().to_string()
}

/// A running upstream registry (kept alive by the box) and its URL, ending with `/`.
type Started = (Box<dyn std::any::Any>, String);

/// The whole cycle against an upstream that `start` (re)starts on the same storage.
fn cycle(env: &Env, start: &dyn Fn() -> Started) {
    let (up, registry) = start();
    publish_to(env, &registry, "left", "1.0.0", &[], None);
    publish_to(env, &registry, "left", "2.0.0", &[], None);
    publish_to(env, &registry, "@acme/util", "1.0.0", &[], None);
    let deps = [("left", "^2.0.0"), ("@acme/util", "^1.0.0")];
    publish_to(env, &registry, "@acme/a", "1.0.0", &deps, None);

    // the project's lockfile, written by npm against the upstream
    let app = env.path("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("package.json"),
        r#"{"name":"app","version":"1.0.0","private":true,"dependencies":{"@acme/a":"^1.0.0","left":"^1.0.0"}}"#,
    )
    .unwrap();
    Npm::new(&env.path("npm-up"), &registry, "nora_x")
        .ok(&app, &["install", "--package-lock-only"]);
    let lock = app.join("package-lock.json");
    let public = |lock: &Path, registry: &str| {
        // the lockfile as a project checks it in: resolved URLs point at the public registry
        let text = std::fs::read_to_string(lock).unwrap();
        let text = text.replace(registry, "https://registry.npmjs.org/");
        std::fs::write(lock, &text).unwrap();
        text
    };
    let text = public(&lock, &registry);
    assert!(
        text.contains("node_modules/@acme/a/node_modules/left"),
        "{text}"
    );
    assert!(
        text.contains("\"resolved\": \"https://registry.npmjs.org/@acme/a/-/a-1.0.0.tgz\""),
        "{text}"
    );

    env.init("a");
    let out = mirror(env, "a", &registry, &lock);
    let r = common::ok_json(&out);
    assert_eq!(
        (r["added"].as_u64(), r["failed"].as_u64()),
        (Some(4), Some(0)),
        "{r}"
    );
    // a re-run fetches nothing
    let r = json(&mirror(env, "a", &registry, &lock));
    assert_eq!(
        (
            r["added"].as_u64(),
            r["skipped"].as_u64(),
            r["bytes"].as_u64()
        ),
        (Some(0), Some(4), Some(0)),
        "{r}"
    );
    drop(up);

    env.carry("a", "b");
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    std::fs::remove_dir_all(app.join("node_modules")).ok();
    let npm_far = Npm::new(&env.path("npm-far"), &format!("{}/npm/", far.url), "nora_x");
    npm_far.ok(&app, &["ci"]);
    assert_eq!(installed(&app, "node_modules/left"), "1.0.0");
    assert_eq!(
        installed(&app, "node_modules/@acme/a/node_modules/left"),
        "2.0.0"
    );
    assert_eq!(installed(&app, "node_modules/@acme/util"), "1.0.0");
    let tags = common::server::curl(
        "GET",
        &format!("{}/npm/-/package/left/dist-tags", far.url),
        &[],
        None,
    )
    .json();
    assert_eq!(
        tags["latest"], "2.0.0",
        "the highest mirrored version, whatever the download order"
    );

    // second round: a newer lockfile on side A crosses as a delta
    let (up, registry) = start();
    publish_to(env, &registry, "left", "1.0.1", &[], Some("legacy"));
    Npm::new(&env.path("npm-up2"), &registry, "nora_x")
        .ok(&app, &["install", "--package-lock-only", "left@1.0.1"]);
    public(&lock, &registry);
    let r = json(&mirror(env, "a", &registry, &lock));
    assert_eq!(
        (r["added"].as_u64(), r["skipped"].as_u64()),
        (Some(1), Some(3)),
        "{r}"
    );
    drop(up);
    let delta = env.carry_delta("a", "b");
    // the new version only: its record and its tarball
    assert_eq!(
        (delta["refs"].as_u64(), delta["blobs"].as_u64()),
        (Some(1), Some(1)),
        "{delta}"
    );
    let npm_far = Npm::new(
        &env.path("npm-far2"),
        &format!("{}/npm/", far.url),
        "nora_x",
    );
    std::fs::remove_dir_all(app.join("node_modules")).ok();
    npm_far.ok(&app, &["ci"]);
    assert_eq!(installed(&app, "node_modules/left"), "1.0.1");
}

#[test]
fn from_verdaccio_package_lock_npm_ci_across_the_gap_then_a_delta() {
    if !require("npm") {
        return;
    }
    let env = Env::new();
    let dir = env.path("verdaccio");
    if common::peers::verdaccio(&dir).is_none() {
        return;
    }
    cycle(&env, &|| {
        let peer = common::peers::verdaccio(&dir).unwrap();
        let registry = format!("{}/", peer.url);
        (Box::new(peer), registry)
    });
}

#[test]
fn from_a_second_nora_package_lock_npm_ci_across_the_gap_then_a_delta() {
    if !require("npm") {
        return;
    }
    let env = Env::new();
    env.init("up");
    cycle(&env, &|| {
        let up = Server::start(env.dir.path(), &env.path("up"), &[]);
        let registry = format!("{}/npm/", up.url);
        (Box::new(up), registry)
    });
}

#[test]
fn yarn_lock_tampered_integrity_and_missing_packages() {
    if !require("npm") {
        return;
    }
    let env = Env::new();
    env.init("up");
    let up = Server::start(env.dir.path(), &env.path("up"), &[]);
    publish(&env, &up, "left", "1.0.0", &[]);
    publish(&env, &up, "@acme/util", "1.0.0", &[]);
    let packument: serde_json::Value = serde_json::from_str(
        &common::server::curl("GET", &format!("{}/npm/left", up.url), &[], None).text(),
    )
    .unwrap();
    let integrity = packument["versions"]["1.0.0"]["dist"]["integrity"]
        .as_str()
        .unwrap()
        .to_string();
    let shasum = packument["versions"]["1.0.0"]["dist"]["shasum"]
        .as_str()
        .unwrap()
        .to_string();

    // yarn classic: integrity for one entry, only the resolved URL's SHA-1 for the other
    let yarn = env.path("yarn.lock");
    std::fs::write(
        &yarn,
        format!("# yarn lockfile v1\n\n\nleft@^1.0.0:\n  version \"1.0.0\"\n  resolved \"https://registry.yarnpkg.com/left/-/left-1.0.0.tgz#{shasum}\"\n  integrity {integrity}\n\n\"@acme/util@^1.0.0\":\n  version \"1.0.0\"\n  resolved \"https://registry.yarnpkg.com/@acme/util/-/util-1.0.0.tgz\"\n\nlocal@file:../local:\n  version \"0.0.1\"\n"),
    )
    .unwrap();
    env.init("y");
    let out = mirror(&env, "y", &format!("{}/npm/", up.url), &yarn);
    assert_eq!(out.status.code(), Some(1), "the file: entry is reported");
    let r = json(&out);
    assert_eq!(
        (r["added"].as_u64(), r["failed"].as_u64()),
        (Some(2), Some(1)),
        "{r}"
    );
    let failed = common::first_error(&r);
    assert!(failed.contains("a local file dependency"), "{r}");

    // a lockfile whose integrity the upstream's tarball does not match: nothing stored
    let lock = env.path("bad/package-lock.json");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let tampered = format!("sha512-{}", "A".repeat(86) + "==");
    let lock_text = |name: &str, integrity: &str| {
        format!(
            r#"{{"name":"x","lockfileVersion":3,"packages":{{"":{{"name":"x"}},"node_modules/{name}":{{"version":"1.0.0","integrity":"{integrity}"}}}}}}"#
        )
    };
    std::fs::write(&lock, lock_text("left", &tampered)).unwrap();
    env.init("c");
    let before = snapshot(&env.path("c"));
    let out = mirror(&env, "c", &format!("{}/npm/", up.url), &lock);
    assert_eq!(out.status.code(), Some(1));
    let r = json(&out);
    let err = r["items"][0]["error"].as_str().unwrap();
    assert!(
        err.starts_with("hash mismatch for left@1.0.0: expected sha512-AAAA"),
        "{err}"
    );
    assert_eq!(snapshot(&env.path("c")), before);

    // a package the upstream does not have
    std::fs::write(&lock, lock_text("nosuch", &integrity)).unwrap();
    let r = json(&mirror(&env, "c", &format!("{}/npm/", up.url), &lock));
    let err = r["items"][0]["error"].as_str().unwrap();
    assert!(err.contains("nosuch does not exist upstream"), "{err}");
    assert_eq!(snapshot(&env.path("c")), before);

    // not a lockfile at all: refused before anything is fetched
    std::fs::write(&lock, "{\"name\": \"x\"}").unwrap();
    let out = mirror(&env, "c", &format!("{}/npm/", up.url), &lock);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not an npm lockfile: no \"lockfileVersion\""),
        "{err}"
    );
    assert_eq!(snapshot(&env.path("c")), before);
}

#[test]
fn range_specs_resolve_their_trees_and_npm_install_works_across_the_gap() {
    if !require("npm") {
        return;
    }
    let env = Env::new();
    env.init("up");
    let up = Server::start(env.dir.path(), &env.path("up"), &[]);
    let registry = format!("{}/npm/", up.url);
    for v in ["1.0.0", "1.2.0", "2.0.0"] {
        publish_to(&env, &registry, "left", v, &[], None);
    }
    publish_to(&env, &registry, "@acme/util", "1.0.0", &[], None);
    publish_to(
        &env,
        &registry,
        "app-lib",
        "1.0.0",
        &[("left", "^1.0.0")],
        None,
    );
    let deps = [("left", "^1.0.0"), ("@acme/util", "^1")];
    publish_to(&env, &registry, "app-lib", "1.1.0", &deps, None);
    publish_to(
        &env,
        &registry,
        "app-lib",
        "2.0.0-beta.1",
        &deps,
        Some("next"),
    );

    env.init("a");
    let run = |bundle: &str, spec: &str| {
        let out = env
            .nora(
                bundle,
                &[
                    "--json",
                    "mirror",
                    "--npm",
                    spec,
                    "--npm-registry",
                    &registry,
                ],
            )
            .output()
            .unwrap();
        (out.status.code(), json(&out))
    };
    let (code, r) = run("a", "app-lib@^1.0.0");
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(
        common::names_with(&r, "added"),
        ["@acme/util@1.0.0", "app-lib@1.1.0", "left@1.2.0"],
        "{r}"
    );

    env.init("c");
    let before = snapshot(&env.path("c"));
    let (code, r) = run("c", "nosuch@1");
    assert_eq!(code, Some(1));
    assert!(
        r["items"][0]["error"]
            .as_str()
            .unwrap()
            .contains("nosuch does not exist upstream"),
        "{r}"
    );
    let (code, r) = run("c", "left@^9");
    assert_eq!(code, Some(1));
    assert!(
        r["items"][0]["error"]
            .as_str()
            .unwrap()
            .contains("left@^9: no version upstream satisfies the range"),
        "{r}"
    );
    assert_eq!(snapshot(&env.path("c")), before);
    drop(up);

    env.carry("a", "b");
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    let app = env.path("fresh-app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("package.json"),
        r#"{"name":"fresh","version":"1.0.0","private":true}"#,
    )
    .unwrap();
    let npm_far = Npm::new(&env.path("npm-far"), &format!("{}/npm/", far.url), "nora_x");
    npm_far.ok(&app, &["install", "app-lib@^1.0.0"]);
    assert_eq!(installed(&app, "node_modules/app-lib"), "1.1.0");
    assert_eq!(installed(&app, "node_modules/left"), "1.2.0");
    assert_eq!(installed(&app, "node_modules/@acme/util"), "1.0.0");
}
