//! `nora mirror` of files by URL from a mirror.toml, against a local upstream that
//! misbehaves: 500 then 200 (retried), a corrupted body, a hang, a dead port, a missing
//! file. Every failure names the URL and leaves the bundle as it was.

mod common;

use common::server::{curl, Server};
use common::upstream::{Route, Upstream};
use common::{json, snapshot, Env};
use sha2::Digest;
use std::time::{Duration, Instant};

fn sha(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

fn route(body: &[u8]) -> Route {
    Route {
        body: body.to_vec(),
        ..Default::default()
    }
}

#[test]
fn mirror_toml_raw_files_with_a_flaky_upstream_across_the_gap() {
    let tool = b"#!/bin/sh\necho tool 1.2\n".repeat(1000);
    let data = b"some dataset".to_vec();
    let up = Upstream::start(vec![
        ("/dl/tool-1.2.sh", route(&tool)),
        (
            "/data/set.csv",
            Route {
                fail_first: 2,
                ..route(&data)
            },
        ),
    ]);
    let env = Env::new();
    let plan = env.path("cfg/mirror.toml");
    std::fs::create_dir_all(plan.parent().unwrap()).unwrap();
    std::fs::write(
        &plan,
        format!(
            "jobs = 2\n\n[[raw]]\nurl = \"{0}/dl/tool-1.2.sh\"\nsha256 = \"{1}\"\npath = \"tools/tool-1.2.sh\"\n\n[[raw]]\nurl = \"{0}/data/set.csv\"\nsha256 = \"{2}\"\n",
            up.url,
            sha(&tool),
            sha(&data)
        ),
    )
    .unwrap();
    env.init("a");
    let out = env
        .nora(
            "a",
            &["--json", "mirror", "--config", plan.to_str().unwrap()],
        )
        .output()
        .unwrap();
    let r = common::ok_json(&out);
    assert_eq!(r["added"].as_u64(), Some(2), "{r}");
    assert_eq!(r["bytes"].as_u64(), Some((tool.len() + data.len()) as u64));
    assert_eq!(up.hits("/data/set.csv"), 3, "two 500s, then the 200");

    env.carry("a", "b");
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    let got = curl(
        "GET",
        &format!("{}/raw/tools/tool-1.2.sh", far.url),
        &[],
        None,
    );
    assert_eq!(got.body, tool);
    // without a path, a file is stored under its URL's host (no port) and path
    let got = curl(
        "GET",
        &format!("{}/raw/127.0.0.1/data/set.csv", far.url),
        &[],
        None,
    );
    assert_eq!(got.body, data);
}

#[test]
fn corrupted_hung_dead_and_missing_upstreams_change_nothing() {
    let good = b"the real bytes".to_vec();
    let up = Upstream::start(vec![
        ("/corrupt.bin", route(b"other bytes")),
        (
            "/hang.bin",
            Route {
                hang: true,
                ..Default::default()
            },
        ),
        (
            "/down.bin",
            Route {
                fail_first: 100,
                ..route(&good)
            },
        ),
    ]);
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let env = Env::new();
    env.init("c");
    let before = snapshot(&env.path("c"));
    let run = |url: &str, extra: &[&str]| {
        let spec = format!("{url}#sha256={}", sha(&good));
        let mut args = vec!["--json", "mirror", "--raw", &spec];
        args.extend(extra);
        let out = env.nora("c", &args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(snapshot(&env.path("c")), before);
        json(&out)["items"][0]["error"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let e = run(&format!("{}/corrupt.bin", up.url), &[]);
    assert!(
        e.starts_with(&format!(
            "hash mismatch for {}/corrupt.bin: expected sha256:{}",
            up.url,
            sha(&good)
        )),
        "{e}"
    );
    let e = run(&format!("{}/missing.bin", up.url), &[]);
    assert_eq!(e, format!("{}/missing.bin: not found upstream", up.url));
    let e = run(&format!("{}/down.bin", up.url), &[]);
    assert_eq!(e, format!("{}/down.bin: upstream answered 500", up.url));
    assert_eq!(up.hits("/down.bin"), 4, "four attempts");
    let e = run(&format!("{dead}/x.bin"), &[]);
    assert!(
        e.starts_with(&format!("{dead}/x.bin: ")) && e.contains("onnect"),
        "{e}"
    );
    let t = Instant::now();
    let e = run(&format!("{}/hang.bin", up.url), &["--timeout", "1"]);
    assert!(e.contains("timed out") || e.contains("timeout"), "{e}");
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "bounded by --timeout and the retries"
    );

    // bad specs are refused before anything is fetched
    let out = env
        .nora("c", &["mirror", "--raw", "http://x/y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected URL#sha256=HEX"));
    assert_eq!(snapshot(&env.path("c")), before);
}

#[test]
fn a_run_killed_mid_download_resumes_without_fetching_again() {
    let done = b"already here".to_vec();
    let big = vec![7u8; 1 << 20];
    let up = Upstream::start(vec![
        ("/done.bin", route(&done)),
        (
            "/big.bin",
            Route {
                stall_first: 1,
                ..route(&big)
            },
        ),
    ]);
    let env = Env::new();
    env.init("a");
    let specs = [
        format!("{}/done.bin#sha256={}", up.url, sha(&done)),
        format!("{}/big.bin#sha256={}", up.url, sha(&big)),
    ];
    let args = ["mirror", "--raw", &specs[0], "--raw", &specs[1]];
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("nora"))
        .arg("--bundle")
        .arg(env.path("a"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait until one file is in and the other is half-way, then SIGKILL
    let deadline = Instant::now() + Duration::from_secs(30);
    let has_done = || {
        walkdir::WalkDir::new(env.path("a/refs/raw"))
            .into_iter()
            .flatten()
            .any(|e| e.file_type().is_file() && e.path().to_string_lossy().contains("done.bin"))
    };
    while !(up.hits("/big.bin") == 1 && has_done()) {
        assert!(Instant::now() < deadline, "the run never got half-way");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    env.nora("a", &["verify"]).assert().success();
    let ls = String::from_utf8(env.nora("a", &["ls"]).output().unwrap().stdout).unwrap();
    assert!(ls.contains("done.bin") && !ls.contains("big.bin"), "{ls}");

    let out = env
        .nora(
            "a",
            &["--json", "mirror", "--raw", &specs[0], "--raw", &specs[1]],
        )
        .output()
        .unwrap();
    let r = common::ok_json(&out);
    assert_eq!(
        (r["added"].as_u64(), r["skipped"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(
        up.hits("/done.bin"),
        1,
        "what the bundle has is not fetched again"
    );
    assert_eq!(up.hits("/big.bin"), 2);
    env.nora("a", &["verify"]).assert().success();
}

/// On a terminal a run draws one bar per ecosystem and a line of bytes fetched in total;
/// without one it draws nothing.
#[test]
fn progress_bars_on_a_terminal_only() {
    if !common::server::require("script") {
        return;
    }
    let a = b"a".repeat(30_000);
    let b = b"b".repeat(20_000);
    let up = Upstream::start(vec![("/a.bin", route(&a)), ("/b.bin", route(&b))]);
    let env = Env::new();
    env.init("t");
    let specs = [
        format!("{}/a.bin#sha256={}", up.url, sha(&a)),
        format!("{}/b.bin#sha256={}", up.url, sha(&b)),
    ];
    let nora = assert_cmd::cargo::cargo_bin("nora");
    let line = format!(
        "{} --bundle {} mirror --raw {} --raw {}",
        nora.display(),
        env.path("t").display(),
        specs[0],
        specs[1]
    );
    // util-linux script(1) runs the command on a pseudo-terminal and copies what it draws
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("raw [") && screen.contains("2/2"),
        "{screen}"
    );
    assert!(
        screen.contains("fetched 48.83 KiB") || screen.contains("fetched 48.8 KiB"),
        "{screen}"
    );

    env.init("u");
    let o = env
        .nora("u", &["mirror", "--raw", &specs[0], "--raw", &specs[1]])
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("2 added"), "{err}");
    assert!(!err.contains("B/s") && !err.contains("raw ["), "{err}");
}
