//! `nora serve --upstream go=URL`: a CI job's `go build` through nora fills the bundle,
//! which then crosses the gap; concurrent misses fetch once; a bad upstream zip is refused
//! and nothing stored; metadata is kept and answered while the upstream is down.

mod common;

use common::ok;

use common::server::{dead_url, get, poll, pull_through, require, two_at_once};
use common::upstream::{Gate, Route, Upstream};
use common::{fixtures, snapshot, Env};
use std::path::Path;

const LIB: &str = "example.com/Upper/Lib";
const DEEP: &str = "example.com/deep";

/// Lays `module@version` out in GOPROXY form under `root` and returns its zip's bytes.
fn publish(
    env: &Env,
    root: &Path,
    module: &str,
    version: &str,
    requires: &[(&str, &str)],
) -> Vec<u8> {
    let work = env.path(&format!("zips/{}/{version}", module.replace('/', "_")));
    std::fs::create_dir_all(&work).unwrap();
    let zip = fixtures::go_zip_requiring(&work, module, version, requires);
    fixtures::goproxy_layout(root, module, version, &zip)
}

#[test]
fn a_ci_build_through_nora_fills_the_bundle_that_builds_offline() {
    if !require("go") {
        return;
    }
    let env = Env::new();
    let root = env.path("goproxy");
    publish(&env, &root, DEEP, "v0.1.0", &[]);
    publish(&env, &root, LIB, "v1.0.0", &[]);
    publish(&env, &root, LIB, "v1.1.0", &[(DEEP, "v0.1.0")]);
    let up = Upstream::serve_dir(&root);
    let app = env.path("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("go.mod"),
        format!("module example.com/app\n\ngo 1.19\n\nrequire {LIB} v1.1.0\n"),
    )
    .unwrap();
    std::fs::write(
        app.join("main.go"),
        format!("package main\n\nimport (\n\t\"fmt\"\n\tlib \"{LIB}\"\n)\n\nfunc main() {{ fmt.Println(lib.F()) }}\n"),
    )
    .unwrap();

    // side A: the CI job's go points at nora, which pulls through
    env.init("a");
    let a = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("go={}", up.url),
        None,
    );
    let proxy = format!("{}/go", a.url);
    ok(&common::clients::go(
        &env.path("gohome-1"),
        &app,
        &proxy,
        &["build", "-o", "app-bin", "."],
    ));
    let zip_path = format!("/{}/@v/v1.1.0.zip", nora::mirror::go::escape(LIB));
    assert_eq!(up.hits(&zip_path), 1);
    // a second job with an empty module cache is answered from the bundle
    ok(&common::clients::go(
        &env.path("gohome-2"),
        &app,
        &proxy,
        &["build", "-o", "app-bin", "."],
    ));
    assert_eq!(
        up.hits(&zip_path),
        1,
        "the bundle answered the second build"
    );
    let list = get(&format!(
        "{proxy}/{}/@v/list",
        nora::mirror::go::escape(LIB)
    ));
    assert_eq!(
        (list.status, list.text()),
        (200, "v1.0.0\nv1.1.0\n".to_string())
    );
    let ls = String::from_utf8_lossy(&env.nora("a", &["ls"]).output().unwrap().stdout).into_owned();
    assert!(
        ls.contains(&format!("{LIB}@v1.1.0")) && ls.contains(&format!("{DEEP}@v0.1.0")),
        "{ls}"
    );
    assert!(
        !ls.contains(&format!("{LIB}@v1.0.0 ")),
        "only what the build used: {ls}"
    );
    drop(a);

    // the upstream goes down: kept metadata is answered, a miss is a clear 502
    let down = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("go={}", dead_url()),
        Some("0s"),
    );
    let base = format!("{}/go", down.url);
    let list = get(&format!("{base}/{}/@v/list", nora::mirror::go::escape(LIB)));
    assert_eq!(
        (list.status, list.text()),
        (200, "v1.0.0\nv1.1.0\n".to_string())
    );
    let before = snapshot(&env.path("a"));
    let miss = get(&format!(
        "{base}/{}/@v/v1.0.0.zip",
        nora::mirror::go::escape(LIB)
    ));
    miss.expect(502, "upstream unavailable");
    let none = get(&format!("{base}/example.com/none/@v/list"));
    assert_eq!(none.status, 502, "{}", none.text());
    assert_eq!(snapshot(&env.path("a")), before);
    drop(down);

    // across the gap: B builds with no upstream at all
    let b = env.across("a", "b");
    ok(&common::clients::go(
        &env.path("gohome-b"),
        &app,
        &format!("{}/go", b.url),
        &["build", "-o", "app-bin", "."],
    ));
    let run = std::process::Command::new(app.join("app-bin"))
        .output()
        .unwrap();
    assert!(run.status.success());
}

#[test]
fn concurrent_misses_fetch_once_and_bad_upstream_answers_store_nothing() {
    let env = Env::new();
    let root = env.path("goproxy");
    let zip = publish(&env, &root, LIB, "v1.0.0", &[]);
    let other = publish(&env, &root, DEEP, "v0.1.0", &[]);
    let esc = nora::mirror::go::escape(LIB);
    let zip_path = format!("/{esc}/@v/v1.0.0.zip");
    let deep_zip = format!("/{DEEP}/@v/v0.1.0.zip");
    let gate = Gate::default();
    let (deep_gate, bad) = (Gate::default(), "example.com/bad");
    publish(&env, &root, bad, "v1.0.0", &[]);
    let up = Upstream::start_dir_with(
        &root,
        vec![
            (
                zip_path.as_str(),
                Route {
                    body: zip.clone(),
                    gate: Some(gate.clone()),
                    ..Default::default()
                },
            ),
            (
                deep_zip.as_str(),
                Route {
                    body: other.clone(),
                    gate: Some(deep_gate.clone()),
                    ..Default::default()
                },
            ),
            (
                "/example.com/bad/@v/v1.0.0.zip",
                Route {
                    body: b"this is not a zip".to_vec(),
                    ..Default::default()
                },
            ),
        ],
    );
    env.init("a");
    let s = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("go={}", up.url),
        None,
    );
    let url = format!("{}/go{zip_path}", s.url);

    // two clients ask for the same uncached zip at once: one upstream fetch
    for r in two_at_once(&s, &url, &up, &zip_path, &gate) {
        assert_eq!(r.status, 200);
        assert!(r.body == zip, "both get the upstream's zip");
    }
    assert_eq!(up.hits(&zip_path), 1);

    // a client that gives up mid-fetch leaves no partial: the fetch completes whole
    let gone = std::process::Command::new("curl")
        .args(["-s", "--max-time", "1", &format!("{}/go{deep_zip}", s.url)])
        .status()
        .unwrap();
    assert!(!gone.success(), "curl gave up");
    deep_gate.open();
    poll("the abandoned fetch to be stored", || {
        String::from_utf8_lossy(&env.nora("a", &["ls"]).output().unwrap().stdout)
            .contains(&format!("{DEEP}@v0.1.0"))
    });
    env.nora("a", &["verify"]).assert().success();
    let again = get(&format!("{}/go{deep_zip}", s.url));
    assert!(again.status == 200 && again.body == other);
    assert_eq!(up.hits(&deep_zip), 1);

    // an upstream zip that is not a module zip is refused, and nothing of it stored
    let before = snapshot(&env.path("a"));
    let r = get(&format!("{}/go/{bad}/@v/v1.0.0.zip", s.url));
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(
        r.text()
            .contains("refused what the upstream served for example.com/bad@v1.0.0"),
        "{}",
        r.text()
    );
    let info = get(&format!("{}/go/{bad}/@v/v1.0.0.info", s.url));
    assert_eq!(info.status, 502);
    assert_eq!(snapshot(&env.path("a")), before);

    // a module the upstream lacks: GOPROXY's 404
    let r = get(&format!("{}/go/example.com/nope/@v/v1.0.0.mod", s.url));
    assert_eq!(r.status, 404);
    assert!(
        r.text()
            .contains("example.com/nope@v1.0.0: not found upstream"),
        "{}",
        r.text()
    );
}
