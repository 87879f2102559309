//! `nora serve` as a GOPROXY: `go mod download` and `go build` of a consumer that needs a
//! module with an upper-case path, using nora and nothing else; `@v/list`, `@latest`,
//! case escaping, 404s, bad paths, and anonymous reads beside authentication.

mod common;

use common::server::{curl, require, Server};
use common::{fixtures, snapshot, Env};
use std::process::Command;

const MODULE: &str = "example.com/Upper/Lib";

fn bundle_with_module(env: &Env) {
    env.init("b");
    for v in ["v1.0.0", "v1.1.0", "v1.2.0-rc.1"] {
        let dir = env.path(&format!("zips/{v}"));
        std::fs::create_dir_all(&dir).unwrap();
        let zip = fixtures::go_zip(&dir, MODULE, v);
        env.nora("b", &["add", "go", zip.to_str().unwrap()])
            .assert()
            .success();
    }
}

fn go(env: &Env, dir: &std::path::Path, proxy: &str, args: &[&str]) -> std::process::Output {
    common::clients::go(&env.path("gohome"), dir, proxy, args)
}

#[test]
fn go_downloads_and_builds_through_nora_only() {
    if !require("go") {
        return;
    }
    let env = Env::new();
    bundle_with_module(&env);
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    let proxy = format!("{}/go", s.url);
    let app = env.path("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("go.mod"),
        format!("module example.com/app\n\ngo 1.19\n\nrequire {MODULE} v1.1.0\n"),
    )
    .unwrap();
    std::fs::write(
        app.join("main.go"),
        format!("package main\n\nimport (\n\t\"fmt\"\n\tlib \"{MODULE}\"\n)\n\nfunc main() {{ fmt.Println(lib.F()) }}\n"),
    )
    .unwrap();

    let o = go(
        &env,
        &app,
        &proxy,
        &["mod", "download", "-json", &format!("{MODULE}@v1.1.0")],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(info["Version"], "v1.1.0");
    let o = go(&env, &app, &proxy, &["build", "-o", "app-bin", "."]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = Command::new(app.join("app-bin")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "1");

    // go.sum's hash is the one nora recorded and verifies
    let sum = std::fs::read_to_string(app.join("go.sum")).unwrap();
    let record = walkdir::WalkDir::new(env.path("b/refs/go"))
        .into_iter()
        .flatten()
        .find(|e| e.file_name() == "v1.1.0.json")
        .unwrap();
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(record.path()).unwrap()).unwrap();
    assert!(
        sum.contains(&format!("{MODULE} v1.1.0 {}", rec["h1"].as_str().unwrap())),
        "{sum}"
    );

    let o = go(&env, &app, &proxy, &["list", "-m", "-versions", MODULE]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("{MODULE} v1.0.0 v1.1.0 v1.2.0-rc.1")
    );
    let o = go(
        &env,
        &app,
        &proxy,
        &["list", "-m", "-json", &format!("{MODULE}@latest")],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let latest: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(latest["Version"], "v1.1.0", "latest is the highest release");

    // a module nora lacks: a clean not-found, not a hang or a crash
    let o = go(
        &env,
        &app,
        &proxy,
        &["mod", "download", "example.com/missing@v1.0.0"],
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("404"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn goproxy_endpoints_escaping_and_bad_paths() {
    let env = Env::new();
    bundle_with_module(&env);
    let s = Server::start(
        env.dir.path(),
        &env.path("b"),
        &["--auth", "--anonymous-read"],
    );
    let u = |p: &str| format!("{}/go/{p}", s.url);
    let list = curl("GET", &u("example.com/!upper/!lib/@v/list"), &[], None);
    assert_eq!(list.status, 200, "anonymous reads work beside auth");
    assert_eq!(list.text(), "v1.0.0\nv1.1.0\nv1.2.0-rc.1\n");
    let info = curl(
        "GET",
        &u("example.com/!upper/!lib/@v/v1.0.0.info"),
        &[],
        None,
    );
    assert_eq!(info.json()["Version"], "v1.0.0");
    let m = curl(
        "GET",
        &u("example.com/!upper/!lib/@v/v1.0.0.mod"),
        &[],
        None,
    );
    assert_eq!(m.text(), format!("module {MODULE}\n\ngo 1.19\n"));
    let z = curl(
        "HEAD",
        &u("example.com/!upper/!lib/@v/v1.0.0.zip"),
        &[],
        None,
    );
    assert_eq!(z.header("Content-Type"), Some("application/zip"));
    let latest = curl("GET", &u("example.com/!upper/!lib/@latest"), &[], None);
    assert_eq!(latest.json()["Version"], "v1.1.0");

    let before = snapshot(&env.path("b"));
    for (p, status) in [
        ("example.com/!upper/!lib/@v/v9.9.9.info", 404),
        ("example.com/nothing/@v/list", 404),
        ("example.com/nothing/@latest", 404),
        ("example.com/Upper/Lib/@v/list", 400),
        ("example.com/!upper/!lib/@v/v1.0.info", 404),
        ("example.com/!upper/!lib/@v/v!1.info", 400),
        ("../etc/@v/list", 400),
        ("example.com/%2e%2e/@v/list", 400),
        ("example.com%2fx/@v/list", 400),
        ("example.com/!upper/!lib/@v/", 400),
    ] {
        let r = curl("GET", &u(p), &[], None);
        assert_eq!(r.status, status, "GET /go/{p}: {}", r.text());
        assert!(r.header("Content-Type").unwrap().starts_with("text/plain"));
    }
    let put = curl("PUT", &u("example.com/x/@v/v1.0.0.zip"), &[], Some(b"zip"));
    assert_eq!(put.status, 401, "writes need credentials");
    assert_eq!(snapshot(&env.path("b")), before);
}
