//! `nora serve` raw files and the server itself: PUT/GET/HEAD/DELETE with ranges and
//! listings, limits and traversal refused without changes, health/ready/metrics, settings
//! precedence, and graceful shutdown.

mod common;

use common::server::{curl, Server};
use common::{snapshot, Env};

fn serve(env: &Env, extra: &[&str]) -> Server {
    env.init("b");
    Server::start(env.dir.path(), &env.path("b"), extra)
}

#[test]
fn put_get_range_listing_and_delete() {
    let env = Env::new();
    let s = serve(&env, &[]);
    let u = |p: &str| format!("{}/raw/{p}", s.url);
    let body = b"#!/bin/sh\necho hello\n";
    let r = curl(
        "PUT",
        &u("tools/v1/install.sh"),
        &["Content-Type: text/x-shellscript"],
        Some(body),
    );
    assert_eq!(r.status, 201);
    let r = curl("PUT", &u("tools/readme.txt"), &[], Some(b"read me"));
    assert_eq!(r.status, 201);

    let g = curl("GET", &u("tools/v1/install.sh"), &[], None);
    assert_eq!(g.status, 200);
    assert_eq!(g.body, body);
    assert_eq!(g.header("Content-Type"), Some("text/x-shellscript"));
    let etag = g.header("ETag").unwrap().to_string();
    assert_eq!(
        curl(
            "GET",
            &u("tools/v1/install.sh"),
            &[&format!("If-None-Match: {etag}")],
            None
        )
        .status,
        304
    );
    let part = curl("GET", &u("tools/v1/install.sh"), &["Range: bytes=-6"], None);
    assert_eq!((part.status, part.body.as_slice()), (206, &b"hello\n"[..]));
    let bad = curl(
        "GET",
        &u("tools/v1/install.sh"),
        &["Range: bytes=100-"],
        None,
    );
    assert_eq!(bad.status, 416);
    let head = curl("HEAD", &u("tools/readme.txt"), &[], None);
    assert_eq!(
        (head.status, head.header("Content-Length")),
        (200, Some("7"))
    );
    assert_eq!(head.header("Content-Type"), Some("text/plain"));

    let j = curl("GET", &u("tools/"), &["Accept: application/json"], None);
    let names: Vec<(String, bool)> = j.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["dir"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("readme.txt".to_string(), false), ("v1".to_string(), true)]
    );
    let h = curl("GET", &u("tools/"), &[], None);
    assert!(h.header("Content-Type").unwrap().starts_with("text/html"));
    assert!(h.text().contains("href=\"readme.txt\""), "{}", h.text());
    assert!(h.text().contains("href=\"v1/\""));
    let redirect = curl("GET", &u("tools/v1"), &[], None);
    assert_eq!(
        (redirect.status, redirect.header("Location")),
        (301, Some("v1/"))
    );

    // a replace is journaled and answered 204; ls sees the new file at once
    assert_eq!(
        curl("PUT", &u("tools/readme.txt"), &[], Some(b"new text")).status,
        204
    );
    assert_eq!(
        curl("GET", &u("tools/readme.txt"), &[], None).body,
        b"new text"
    );
    let ls = env.nora("b", &["ls", "raw"]).output().unwrap();
    assert!(String::from_utf8_lossy(&ls.stdout).contains("tools/readme.txt"));
    let journal = std::fs::read_to_string(env.path("b/journal/refs.jsonl")).unwrap();
    assert!(journal.contains("raw/tools/readme.txt"), "{journal}");

    assert_eq!(
        curl("DELETE", &u("tools/readme.txt"), &[], None).status,
        204
    );
    assert_eq!(curl("GET", &u("tools/readme.txt"), &[], None).status, 404);
    assert_eq!(
        curl("DELETE", &u("tools/readme.txt"), &[], None).status,
        404
    );
    env.nora("b", &["verify"]).assert().success();

    // added by the CLI while serving: served at once
    std::fs::write(env.path("cli.bin"), b"from the cli").unwrap();
    env.nora(
        "b",
        &[
            "add",
            "raw",
            "--path",
            "cli/file.bin",
            env.path("cli.bin").to_str().unwrap(),
        ],
    )
    .assert()
    .success();
    assert_eq!(
        curl("GET", &u("cli/file.bin"), &[], None).body,
        b"from the cli"
    );
}

#[test]
fn oversized_bodies_and_traversal_are_refused_without_changes() {
    let env = Env::new();
    let s = serve(&env, &["--raw-max-size", "1KiB"]);
    assert_eq!(
        curl(
            "PUT",
            &format!("{}/raw/keep.txt", s.url),
            &[],
            Some(b"kept")
        )
        .status,
        201
    );
    let before = snapshot(&env.path("b"));
    let big = vec![b'x'; 4096];
    let r = curl("PUT", &format!("{}/raw/big.bin", s.url), &[], Some(&big));
    assert_eq!(r.status, 413);
    assert!(
        r.json()["error"].as_str().unwrap().contains("limit"),
        "{}",
        r.text()
    );
    for p in [
        "/raw/../etc/passwd",
        "/raw/a/%2e%2e/%2e%2e/etc/passwd",
        "/raw/a%2f..%2fb",
        "/raw/a%5cb",
        "/raw/a//b",
        "/raw/a/./b",
    ] {
        let r = curl("PUT", &format!("{}{p}", s.url), &[], Some(b"evil"));
        assert_eq!(r.status, 400, "PUT {p}: {}", r.text());
        assert!(r.json()["error"].is_string());
        let g = curl("GET", &format!("{}{p}", s.url), &[], None);
        assert_eq!(g.status, 400, "GET {p}");
    }
    assert_eq!(snapshot(&env.path("b")), before);
    assert_eq!(
        curl("POST", &format!("{}/raw/keep.txt", s.url), &[], Some(b"x")).status,
        405
    );
}

#[test]
fn health_ready_and_metrics() {
    let env = Env::new();
    let s = serve(&env, &[]);
    assert_eq!(
        curl("GET", &format!("{}/health", s.url), &[], None).status,
        200
    );
    assert_eq!(
        curl("GET", &format!("{}/ready", s.url), &[], None).status,
        200
    );
    curl("PUT", &format!("{}/raw/m.txt", s.url), &[], Some(b"12345"));
    curl("GET", &format!("{}/raw/m.txt", s.url), &[], None);
    curl("GET", &format!("{}/raw/none", s.url), &[], None);
    let m = curl("GET", &format!("{}/metrics", s.url), &[], None).text();
    assert!(
        m.contains(r#"nora_http_requests_total{method="GET",protocol="raw",status="200"} 1"#),
        "{m}"
    );
    assert!(m.contains(r#"nora_http_requests_total{method="GET",protocol="raw",status="404"} 1"#));
    assert!(m.contains(r#"nora_http_response_bytes_total{protocol="raw"}"#));
    assert!(m.contains("nora_http_request_duration_seconds_bucket"));
    assert!(m.contains("nora_bundle_size_bytes 5"), "{m}");
    assert!(s.log().contains("/raw/m.txt"), "request logs on stderr");

    // the bundle going away makes /ready fail while /health stays up
    std::fs::rename(env.path("b"), env.path("moved")).unwrap();
    assert_eq!(
        curl("GET", &format!("{}/ready", s.url), &[], None).status,
        503
    );
    assert_eq!(
        curl("GET", &format!("{}/health", s.url), &[], None).status,
        200
    );
}

#[test]
fn settings_file_then_environment_then_flags() {
    let env = Env::new();
    env.init("b");
    std::fs::write(
        env.path("nora.toml"),
        "bundle = \"from-file\"\nlog_format = \"json\"\n[limits]\nraw = \"10B\"\n",
    )
    .unwrap();
    // the file alone: its bundle (relative to the file), JSON logs, its limit
    let start = |env_raw: Option<&str>, flag_raw: Option<&str>| {
        let mut args = vec!["--config", "nora.toml"];
        if let Some(f) = flag_raw {
            args.extend(["--raw-max-size", f]);
        }
        let mut s = Server::start_with_env(
            env.dir.path(),
            None,
            &args,
            env_raw.map(|v| ("NORA_RAW_MAX_SIZE", v)),
        );
        let small = curl("PUT", &format!("{}/raw/x", s.url), &[], Some(&[b'x'; 20]));
        let status = small.status;
        s.stop();
        (status, s.log())
    };
    let (status, log) = start(None, None);
    assert_eq!(status, 413, "the file's 10 B limit applies");
    assert!(
        env.path("from-file/nora-bundle.toml").is_file(),
        "bundle from the file"
    );
    assert!(log.lines().any(|l| l.starts_with('{')), "JSON logs: {log}");
    let (status, _) = start(Some("1KiB"), None);
    assert_eq!(status, 201, "the environment overrides the file");
    let (status, _) = start(Some("1KiB"), Some("5B"));
    assert_eq!(status, 413, "a flag overrides the environment");

    let bad = env
        .nora("b", &["serve", "--listen", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("listen address 'nowhere'"));
}

#[test]
fn sigterm_lets_an_upload_in_flight_finish_and_exits_cleanly() {
    let env = Env::new();
    let s = serve(&env, &[]);
    // a PUT whose body arrives slowly, through a pipe curl reads from
    let mut curl_child = std::process::Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "30",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-T",
            "-",
        ])
        .arg(format!("{}/raw/slow.bin", s.url))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = curl_child.stdin.take().unwrap();
    use std::io::Write;
    pipe.write_all(&[7u8; 100_000]).unwrap();
    pipe.flush().unwrap();
    // wait until the server has the request (its temp file exists), then ask it to stop
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_dir(env.path("b/tmp")).unwrap().count() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "upload never reached the server"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut s = s;
    unsafe { libc::kill(s.child.id() as i32, libc::SIGTERM) };
    assert!(
        common::server::wait_deadline(&mut s.child, std::time::Duration::from_millis(300))
            .is_none(),
        "the server waits for the request in flight"
    );
    assert!(
        !env.path("b/refs/raw").exists(),
        "nothing visible before the body ends"
    );
    pipe.write_all(&[7u8; 100_000]).unwrap();
    drop(pipe);
    let out = curl_child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "201");
    let status = s.stop();
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
    env.nora("b", &["verify"]).assert().success();
    let ls = env.nora("b", &["ls", "raw", "--json"]).output().unwrap();
    assert!(String::from_utf8_lossy(&ls.stdout).contains("slow.bin"));
}
