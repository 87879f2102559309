//! `nora serve` as a Cargo sparse registry: `cargo publish`, `cargo build` of a dependent
//! crate with nora as its only registry, `cargo yank`/`--undo`, authentication with tokens,
//! and refused publishes that change nothing.

mod common;

use common::ok;

use common::server::{curl, Server};
use common::{snapshot, Env};
use std::path::Path;
use std::process::Command;

fn cargo_home(env: &Env, host: &str, token: &str) -> std::path::PathBuf {
    let home = env.path("cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!("[registries.nora]\nindex = \"sparse+http://{host}/cargo/index/\"\n[registry]\nglobal-credential-providers = [\"cargo:token\"]\n[net]\nretry = 0\n"),
    )
    .unwrap();
    std::fs::write(
        home.join("credentials.toml"),
        format!("[registries.nora]\ntoken = \"{token}\"\n"),
    )
    .unwrap();
    home
}

fn cargo(env: &Env, home: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    common::clients::cargo(home, &env.path("target"), dir, args)
}

fn lib_crate(env: &Env, version: &str) -> std::path::PathBuf {
    let dir = env.path(&format!("lib-{version}"));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("[package]\nname = \"nora-demo-lib\"\nversion = \"{version}\"\nedition = \"2021\"\ndescription = \"demo\"\nlicense = \"MIT\"\npublish = [\"nora\"]\n"),
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "pub fn answer() -> u32 { 42 }\n").unwrap();
    dir
}

#[test]
fn publish_build_and_yank_with_cargo() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    let home = cargo_home(&env, &s.host, "nora_unused_token");
    let lib = lib_crate(&env, "0.1.0");
    ok(&cargo(
        &env,
        &home,
        &lib,
        &[
            "publish",
            "--registry",
            "nora",
            "--allow-dirty",
            "--no-verify",
        ],
    ));

    let app = env.path("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nnora-demo-lib = { version = \"0.1\", registry = \"nora\" }\n",
    )
    .unwrap();
    std::fs::write(
        app.join("src/main.rs"),
        "fn main() { println!(\"{}\", nora_demo_lib::answer()); }\n",
    )
    .unwrap();
    ok(&cargo(&env, &home, &app, &["build"]));
    let run = Command::new(env.path("target/debug/app")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "42");

    // what cargo published is a sound record of the bundle, seen by ls and verify
    let ls = env.nora("b", &["ls", "cargo"]).output().unwrap();
    assert!(String::from_utf8_lossy(&ls.stdout).contains("nora-demo-lib"));
    env.nora("b", &["verify"]).assert().success();

    // cargo sees the version in the index and does not publish it twice
    let before = snapshot(&env.path("b"));
    let again = cargo(
        &env,
        &home,
        &lib,
        &[
            "publish",
            "--registry",
            "nora",
            "--allow-dirty",
            "--no-verify",
        ],
    );
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(snapshot(&env.path("b")), before);

    let index = |s: &Server| {
        curl(
            "GET",
            &format!("{}/cargo/index/no/ra/nora-demo-lib", s.url),
            &[],
            None,
        )
    };
    ok(&cargo(
        &env,
        &home,
        &app,
        &["yank", "--registry", "nora", "nora-demo-lib@0.1.0"],
    ));
    let line = index(&s).json();
    assert_eq!(line["yanked"], true);
    assert_eq!(line["vers"], "0.1.0");
    ok(&cargo(
        &env,
        &home,
        &app,
        &[
            "yank",
            "--undo",
            "--registry",
            "nora",
            "nora-demo-lib@0.1.0",
        ],
    ));
    assert_eq!(index(&s).json()["yanked"], false);
    let journal = std::fs::read_to_string(env.path("b/journal/refs.jsonl")).unwrap();
    assert!(journal.contains("cargo/nora-demo-lib/0.1.0"));
}

#[test]
fn auth_required_registry_with_tokens() {
    let env = Env::new();
    env.init("b");
    let (read, write) = (
        env.token("b", "read", "read"),
        env.token("b", "write", "write"),
    );
    let s = Server::start(env.dir.path(), &env.path("b"), &["--auth"]);
    let cfg = curl(
        "GET",
        &format!("{}/cargo/index/config.json", s.url),
        &[],
        None,
    );
    assert_eq!(cfg.status, 401, "even the index asks for credentials");
    let cfg = curl(
        "GET",
        &format!("{}/cargo/index/config.json", s.url),
        &[&format!("Authorization: {read}")],
        None,
    );
    assert_eq!(cfg.json()["auth-required"], true);
    assert_eq!(cfg.json()["dl"], format!("{}/cargo/api/v1/crates", s.url));

    let lib = lib_crate(&env, "0.2.0");
    let home = cargo_home(&env, &s.host, &read);
    let refused = cargo(
        &env,
        &home,
        &lib,
        &[
            "publish",
            "--registry",
            "nora",
            "--allow-dirty",
            "--no-verify",
        ],
    );
    assert!(!refused.status.success(), "a read token cannot publish");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("403"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let home = cargo_home(&env, &s.host, &write);
    ok(&cargo(
        &env,
        &home,
        &lib,
        &[
            "publish",
            "--registry",
            "nora",
            "--allow-dirty",
            "--no-verify",
        ],
    ));

    // a read token is enough to build against it
    let home = cargo_home(&env, &s.host, &read);
    let app = env.path("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nnora-demo-lib = { version = \"0.2\", registry = \"nora\" }\n",
    )
    .unwrap();
    std::fs::write(
        app.join("src/main.rs"),
        "fn main() { assert_eq!(nora_demo_lib::answer(), 42); }\n",
    )
    .unwrap();
    ok(&cargo(&env, &home, &app, &["build"]));
}

/// A publish body as cargo sends it.
fn body(meta: &serde_json::Value, krate: &[u8]) -> Vec<u8> {
    let j = serde_json::to_vec(meta).unwrap();
    let mut out = (j.len() as u32).to_le_bytes().to_vec();
    out.extend(&j);
    out.extend((krate.len() as u32).to_le_bytes());
    out.extend(krate);
    out
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
    let krate =
        std::fs::read(common::fixtures::crate_file(&env.path(""), "good", "1.0.0")).unwrap();
    let put = |b: &[u8]| {
        curl(
            "PUT",
            &format!("{}/cargo/api/v1/crates/new", s.url),
            &[],
            Some(b),
        )
    };
    let before = snapshot(&env.path("b"));
    for (b, status, needle) in [
        (vec![1u8, 2], 400, "ends before"),
        (
            body(
                &serde_json::json!({"name": "other", "vers": "1.0.0"}),
                &krate,
            ),
            400,
            "Cargo.toml says good 1.0.0",
        ),
        (
            body(&serde_json::json!({"name": "good"}), &krate),
            400,
            "`vers`",
        ),
        (
            body(
                &serde_json::json!({"name": "good", "vers": "1.0.0"}),
                b"not a crate",
            ),
            400,
            "the crate",
        ),
        (vec![0u8; 100_000], 413, "limit"),
    ] {
        let r = put(&b);
        assert_eq!(r.status, status, "{}", r.text());
        let detail = r.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(detail.contains(needle), "{detail}");
    }
    for (p, status) in [
        ("/cargo/index/../../etc/passwd", 400),
        ("/cargo/index/go/%2e%2e/good", 400),
        ("/cargo/index/go%2fod/good", 400),
        ("/cargo/api/v1/crates/-bad/1.0.0/download", 400),
        ("/cargo/api/v1/crates/good/1.0.0/download", 404),
        ("/cargo/index/go/od/good", 404),
    ] {
        let r = curl("GET", &format!("{}{p}", s.url), &[], None);
        assert_eq!(r.status, status, "{p}: {}", r.text());
    }
    assert_eq!(snapshot(&env.path("b")), before);
    let r = put(&body(
        &serde_json::json!({"name": "good", "vers": "1.0.0"}),
        &krate,
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let dl = curl(
        "GET",
        &format!("{}/cargo/api/v1/crates/good/1.0.0/download", s.url),
        &[],
        None,
    );
    assert_eq!(dl.body, krate);

    // the same version again is refused by the server itself (cargo checks the index first)
    let before = snapshot(&env.path("b"));
    let r = put(&body(
        &serde_json::json!({"name": "good", "vers": "1.0.0"}),
        &krate,
    ));
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("already uploaded"));
    assert_eq!(snapshot(&env.path("b")), before);
}
