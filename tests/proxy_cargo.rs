//! `nora serve --upstream cargo=URL` with a second nora as the upstream sparse index: a CI
//! job's `cargo build` through nora fills the bundle, which builds `--locked` offline
//! across the gap; index files are kept and answered while the upstream is down; a crate
//! whose checksum is not the index's is refused and nothing stored.

mod common;

use common::fixtures::krate;
use common::server::{dead_url, get, pull_through, require, Server};
use common::upstream::{Route, Upstream};
use common::{hex_sha256, snapshot, Env};
use std::path::Path;

fn build(env: &Env, home: &str, index: &str, app: &Path, args: &[&str]) -> String {
    let home = common::clients::crates_io_home(&env.path(home), &format!("sparse+{index}"));
    let o = common::clients::cargo(&home, &env.path("target"), app, args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = std::process::Command::new(env.path("target/debug/app"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&run.stdout).trim().to_string()
}

#[test]
fn a_ci_build_through_nora_fills_the_bundle_that_builds_offline() {
    if !require("cargo") {
        return;
    }
    let env = Env::new();
    let dir = env.path("crates");
    let files = [
        krate(&dir, "nora-b", "0.1.0", "", "pub fn b() -> u32 { 1 }\n"),
        krate(&dir, "nora-b", "0.2.0", "", "pub fn b() -> u32 { 2 }\n"),
        krate(
            &dir,
            "nora-a",
            "0.1.0",
            "\n[dependencies.nora-b]\nversion = \"0.1\"\n",
            "pub fn a() -> u32 { nora_b::b() + 40 }\n",
        ),
    ];
    env.init("up");
    let mut args = vec!["add", "cargo"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    env.nora("up", &args).assert().success();
    let up = Server::start(env.dir.path(), &env.path("up"), &[]);
    let app = env.path("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(app.join("Cargo.toml"), "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nnora-a = \"0.1\"\n").unwrap();
    std::fs::write(
        app.join("src/main.rs"),
        "fn main() { println!(\"{}\", nora_a::a()); }\n",
    )
    .unwrap();

    // side A: the CI job's cargo points at nora, which pulls through
    env.init("a");
    let a = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("cargo=sparse+{}/cargo/index/", up.url),
        Some("0s"),
    );
    let index = format!("{}/cargo/index/", a.url);
    assert_eq!(build(&env, "home-a1", &index, &app, &["build"]), "41");
    let held = env.ls("a", "cargo");
    assert!(
        held.contains("nora-a@0.1.0") && held.contains("nora-b@0.1.0"),
        "{held}"
    );
    assert!(
        !held.contains("nora-b@0.2.0"),
        "only what the build used: {held}"
    );
    // the index file is the upstream's: every version
    let lines = get(&format!("{index}no/ra/nora-b")).text();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    env.nora("a", &["verify"]).assert().success();

    // the upstream goes down: a fresh resolve reads the kept index files, and the crates
    // come from the bundle
    drop(up);
    std::fs::remove_file(app.join("Cargo.lock")).unwrap();
    assert_eq!(build(&env, "home-a2", &index, &app, &["build"]), "41");
    assert!(
        a.log().contains("upstream down; answering the kept copy"),
        "{}",
        a.log()
    );
    // nothing kept or the crate not held: cargo's error format, a 502, the bundle unchanged
    let before = snapshot(&env.path("a"));
    let r = get(&format!("{index}no/su/nosuch"));
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(
        r.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("upstream unavailable"),
        "{}",
        r.text()
    );
    let r = get(&format!(
        "{}/cargo/api/v1/crates/nora-b/0.2.0/download",
        a.url
    ));
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(snapshot(&env.path("a")), before);
    drop(a);

    // across the gap: B builds the lockfile with no upstream at all
    let b = env.across("a", "b");
    std::fs::remove_dir_all(env.path("target")).unwrap();
    assert_eq!(
        build(
            &env,
            "home-b",
            &format!("{}/cargo/index/", b.url),
            &app,
            &["build", "--locked"]
        ),
        "41"
    );
}

#[test]
fn a_crate_that_is_not_what_the_index_says_is_refused() {
    let env = Env::new();
    let dir = env.path("crates");
    let good = std::fs::read(krate(&dir, "bad", "1.0.0", "", "")).unwrap();
    let other = std::fs::read(krate(&dir, "bad", "2.0.0", "", "")).unwrap();
    let line = |v: &str, cksum: &str| {
        format!(
            "{{\"name\":\"bad\",\"vers\":\"{v}\",\"deps\":[],\"cksum\":\"{cksum}\",\"features\":{{}},\"yanked\":false}}\n"
        )
    };
    let route = |body: Vec<u8>| Route {
        body,
        ..Default::default()
    };
    // config.json names the server's own URL, so it is a file written once it runs
    let root = env.path("registry");
    std::fs::create_dir_all(root.join("index")).unwrap();
    let up = Upstream::start_dir_with(
        &root,
        vec![
            (
                "/index/3/b/bad",
                route(line("1.0.0", &hex_sha256(&good)).into_bytes()),
            ),
            (
                "/index/3/n/nop",
                route(b"<html>not an index</html>".to_vec()),
            ),
            // the crate served is not the one the index's cksum names
            ("/crates/bad/1.0.0/download", route(other.clone())),
        ],
    );
    std::fs::write(
        root.join("index/config.json"),
        format!("{{\"dl\": \"{}/crates\"}}", up.url),
    )
    .unwrap();
    env.init("a");
    let s = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("cargo={}/index", up.url),
        None,
    );
    let before = snapshot(&env.path("a"));
    let r = get(&format!("{}/cargo/api/v1/crates/bad/1.0.0/download", s.url));
    assert_eq!(r.status, 502, "{}", r.text());
    let e = r.json()["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(e.contains("hash mismatch for bad@1.0.0"), "{e}");
    assert!(!env.ls("a", "cargo").contains("bad@"));
    assert!(
        snapshot(&env.path("a"))
            .keys()
            .all(|k| !k.contains(&hex_sha256(&other))),
        "no blob of the refused crate"
    );
    // an index file that is not one: refused, not kept
    let r = get(&format!("{}/cargo/index/3/n/nop", s.url));
    r.expect(502, "refused what the upstream served");
    // a crate the upstream lacks: a 404
    let r = get(&format!("{}/cargo/index/3/z/zzz", s.url));
    assert_eq!(r.status, 404, "{}", r.text());
    let kept: Vec<String> = snapshot(&env.path("a"))
        .into_keys()
        .filter(|k| !before.contains_key(k))
        .collect();
    assert!(
        kept.iter()
            .all(|k| k.starts_with("blobs/") || k.contains("_upstream") || k == "refs/cargo/"),
        "only kept metadata: {kept:?}"
    );
    assert!(!kept.iter().any(|k| k.contains("nop")), "{kept:?}");
    drop(s);

    let down = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("cargo={}", dead_url()),
        None,
    );
    let r = get(&format!("{}/cargo/index/3/o/oth", down.url));
    assert_eq!(r.status, 502, "{}", r.text());
}
