//! `nora mirror --cargo-lock` against a second `nora serve` standing in for crates.io: the
//! air-gap cycle (mirror, pack, unpack into a fresh bundle, verify, serve,
//! `cargo build --locked` with the upstream stopped) and a tampered checksum refused.

mod common;

use common::ok;

use common::server::Server;
use common::{snapshot, Env};
use std::path::{Path, PathBuf};
use std::process::Command;

fn cargo(env: &Env, home: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    common::clients::cargo(home, &env.path("target"), dir, args)
}

/// `nora mirror --cargo-lock LOCK --cargo-index INDEX EXTRA...` on a bundle.
fn mirror(
    env: &Env,
    bundle: &str,
    lock: &Path,
    index: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "mirror",
        "--cargo-lock",
        lock.to_str().unwrap(),
        "--cargo-index",
        index,
    ];
    args.extend(extra);
    env.nora(bundle, &args).output().unwrap()
}

/// Carries bundle `a` across into a fresh `b`, serves it, builds the app `--locked` with it
/// as crates.io (cargo home `home`) and returns what the program prints.
fn built_across(env: &Env, app: &Path, home: &str) -> String {
    env.carry("a", "b");
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    let home = common::clients::crates_io_home(
        &env.path(home),
        &format!("sparse+{}/cargo/index/", far.url),
    );
    ok(&cargo(env, &home, app, &["build", "--locked"]));
    let run = Command::new(env.path("target/debug/app")).output().unwrap();
    String::from_utf8_lossy(&run.stdout).trim().to_string()
}

/// A Cargo.lock of real-world size (nora-a depends on nora-b and 36 more crates), written
/// by cargo against an upstream nora holding the crates: the running upstream, its index
/// URL, the app, its lockfile and the `.crate` files.
fn upstream(env: &Env) -> (Server, String, PathBuf, PathBuf, Vec<PathBuf>) {
    env.init("up");
    let dir = env.path("crates");
    let mut files = vec![common::fixtures::krate(
        &dir,
        "nora-b",
        "0.1.0",
        "",
        "pub fn b() -> u32 { 1 }\n",
    )];
    let mut manifest = String::from("\n[dependencies.nora-b]\nversion = \"0.1\"\n");
    let mut body = String::from("nora_b::b() + 1");
    for i in 0..DEPS {
        let name = format!("nora-dep-{i:02}");
        files.push(common::fixtures::krate(
            &dir,
            &name,
            "0.1.0",
            "",
            "pub fn v() -> u32 { 1 }\n",
        ));
        manifest.push_str(&format!("\n[dependencies.{name}]\nversion = \"0.1\"\n"));
        body.push_str(&format!(" + nora_dep_{i:02}::v()"));
    }
    files.push(common::fixtures::krate(
        &dir,
        "nora-a",
        "0.1.0",
        &manifest,
        &format!("pub fn a() -> u32 {{ {body} }}\n"),
    ));
    let mut args = vec!["add".to_string(), "cargo".to_string()];
    args.extend(files.iter().map(|f| f.to_str().unwrap().to_string()));
    env.nora("up", &args.iter().map(String::as_str).collect::<Vec<_>>())
        .assert()
        .success();
    let up = Server::start(env.dir.path(), &env.path("up"), &[]);
    let up_index = format!("sparse+{}/cargo/index/", up.url);

    let app = env.path("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(app.join("Cargo.toml"), "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nnora-a = \"0.1\"\n").unwrap();
    std::fs::write(
        app.join("src/main.rs"),
        "fn main() { println!(\"{}\", nora_a::a()); }\n",
    )
    .unwrap();
    ok(&cargo(
        env,
        &common::clients::crates_io_home(&env.path("home-up"), &up_index),
        &app,
        &["generate-lockfile"],
    ));
    let lock = app.join("Cargo.lock");
    assert!(std::fs::read_to_string(&lock).unwrap().contains("checksum"));
    (up, up_index, app, lock, files)
}

const DEPS: usize = 36;

#[test]
fn mirror_a_cargo_lock_and_build_it_locked_across_the_gap() {
    let env = Env::new();
    let (up, up_index, app, lock, _) = upstream(&env);

    env.init("a");
    let out = mirror(&env, "a", &lock, &up_index, &["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = common::json(&out);
    assert_eq!(
        (r["added"].as_u64(), r["failed"].as_u64()),
        (Some(2 + DEPS as u64), Some(0)),
        "{r}"
    );

    // a tampered checksum: refused, nothing stored
    let text = std::fs::read_to_string(&lock).unwrap();
    let sum = text
        .split("checksum = \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    std::fs::write(env.path("bad.lock"), text.replace(&sum, &"0".repeat(64))).unwrap();
    env.init("c");
    let before = snapshot(&env.path("c"));
    let o = mirror(
        &env,
        "c",
        &env.path("bad.lock"),
        &up_index,
        &["--jobs", "1"],
    );
    common::fails_with(&o, "hash mismatch for nora-");
    assert_eq!(snapshot(&env.path("c")), before);
    drop(up);

    assert_eq!(built_across(&env, &app, "home-far"), (2 + DEPS).to_string());
}

#[test]
fn from_a_static_sparse_registry_directory() {
    let env = Env::new();
    let (up, _, app, lock, files) = upstream(&env);
    drop(up);
    // a registry as files: config.json naming where crates are, and the crates
    let root = env.path("static-registry");
    std::fs::create_dir_all(root.join("crates")).unwrap();
    for f in &files {
        std::fs::copy(f, root.join("crates").join(f.file_name().unwrap())).unwrap();
    }
    let server_files = common::upstream::Upstream::serve_dir(&root);
    std::fs::write(
        root.join("config.json"),
        format!(
            r#"{{"dl": "{}/crates/{{crate}}-{{version}}.crate"}}"#,
            server_files.url
        ),
    )
    .unwrap();
    env.init("a");
    let index = format!("sparse+{}/", server_files.url);
    let out = mirror(&env, "a", &lock, &index, &["--json"]);
    let r = common::ok_json(&out);
    assert_eq!(
        (r["added"].as_u64(), r["failed"].as_u64()),
        (Some(2 + DEPS as u64), Some(0)),
        "{r}"
    );

    assert_eq!(
        built_across(&env, &app, "home-static"),
        (2 + DEPS).to_string()
    );
}
