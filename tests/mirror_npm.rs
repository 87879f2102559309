//! `nora mirror --npm-lock` against a second `nora serve` standing in for the npm registry:
//! a package-lock.json written by npm itself (scoped packages, a nested duplicate) mirrored,
//! carried across the gap and installed with `npm ci` from the far side alone; a second
//! round with a newer lockfile crossing as a small delta; yarn.lock; and bad input.

mod common;

use common::clients::{npm_package, Npm};
use common::server::{require, Server};
use common::{json, snapshot, Env};
use std::path::Path;

fn publish(env: &Env, up: &Server, name: &str, version: &str, deps: &[(&str, &str)]) {
    let npm = Npm::new(&env.path("npm-pub"), &format!("{}/npm/", up.url), "nora_x");
    npm.ok(
        &npm_package(&env.path("pkgs"), name, version, deps),
        &["publish"],
    );
}

fn mirror(env: &Env, bundle: &str, up: &Server, lock: &Path) -> std::process::Output {
    env.nora(
        bundle,
        &[
            "--json",
            "mirror",
            "--npm-lock",
            lock.to_str().unwrap(),
            "--npm-registry",
            &format!("{}/npm/", up.url),
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

#[test]
fn mirror_a_package_lock_and_npm_ci_across_the_gap_then_a_delta() {
    if !require("npm") {
        return;
    }
    let env = Env::new();
    env.init("up");
    let mut up = Server::start(env.dir.path(), &env.path("up"), &[]);
    publish(&env, &up, "left", "1.0.0", &[]);
    publish(&env, &up, "left", "2.0.0", &[]);
    publish(&env, &up, "@acme/util", "1.0.0", &[]);
    publish(
        &env,
        &up,
        "@acme/a",
        "1.0.0",
        &[("left", "^2.0.0"), ("@acme/util", "^1.0.0")],
    );

    // the project's lockfile, written by npm against the upstream
    let app = env.path("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("package.json"),
        r#"{"name":"app","version":"1.0.0","private":true,"dependencies":{"@acme/a":"^1.0.0","left":"^1.0.0"}}"#,
    )
    .unwrap();
    let npm_up = Npm::new(&env.path("npm-up"), &format!("{}/npm/", up.url), "nora_x");
    npm_up.ok(&app, &["install", "--package-lock-only"]);
    let lock = app.join("package-lock.json");
    let public = |lock: &Path, up: &Server| {
        // the lockfile as a project checks it in: resolved URLs point at the public registry
        let text = std::fs::read_to_string(lock).unwrap();
        let text = text.replace(&format!("{}/npm/", up.url), "https://registry.npmjs.org/");
        std::fs::write(lock, &text).unwrap();
        text
    };
    let text = public(&lock, &up);
    assert!(
        text.contains("node_modules/@acme/a/node_modules/left"),
        "{text}"
    );
    assert!(
        text.contains("\"resolved\": \"https://registry.npmjs.org/@acme/a/-/a-1.0.0.tgz\""),
        "{text}"
    );

    env.init("a");
    let out = mirror(&env, "a", &up, &lock);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = json(&out);
    assert_eq!(
        (r["added"].as_u64(), r["failed"].as_u64()),
        (Some(4), Some(0)),
        "{r}"
    );
    // a re-run fetches nothing
    let r = json(&mirror(&env, "a", &up, &lock));
    assert_eq!(
        (
            r["added"].as_u64(),
            r["skipped"].as_u64(),
            r["bytes"].as_u64()
        ),
        (Some(0), Some(4), Some(0)),
        "{r}"
    );
    up.stop();

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
    let up = Server::start(env.dir.path(), &env.path("up"), &[]);
    Npm::new(&env.path("npm-pub"), &format!("{}/npm/", up.url), "nora_x").ok(
        &npm_package(&env.path("pkgs"), "left", "1.0.1", &[]),
        &["publish", "--tag", "legacy"],
    );
    let npm_up = Npm::new(&env.path("npm-up2"), &format!("{}/npm/", up.url), "nora_x");
    npm_up.ok(&app, &["install", "--package-lock-only", "left@1.0.1"]);
    public(&lock, &up);
    let r = json(&mirror(&env, "a", &up, &lock));
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
    let out = mirror(&env, "y", &up, &yarn);
    assert_eq!(out.status.code(), Some(1), "the file: entry is reported");
    let r = json(&out);
    assert_eq!(
        (r["added"].as_u64(), r["failed"].as_u64()),
        (Some(2), Some(1)),
        "{r}"
    );
    let failed = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["outcome"] == "failed")
        .unwrap();
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("a local file dependency"),
        "{failed}"
    );

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
    let out = mirror(&env, "c", &up, &lock);
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
    let r = json(&mirror(&env, "c", &up, &lock));
    let err = r["items"][0]["error"].as_str().unwrap();
    assert!(err.contains("nosuch does not exist upstream"), "{err}");
    assert_eq!(snapshot(&env.path("c")), before);

    // not a lockfile at all: refused before anything is fetched
    std::fs::write(&lock, "{\"name\": \"x\"}").unwrap();
    let out = mirror(&env, "c", &up, &lock);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not an npm lockfile: no \"lockfileVersion\""),
        "{err}"
    );
    assert_eq!(snapshot(&env.path("c")), before);
}
