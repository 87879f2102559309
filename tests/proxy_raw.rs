//! `nora serve --upstream raw=URL` with a static file server as the upstream: a CI job's
//! downloads through nora fill the bundle, which serves them across the gap; a file that
//! does not match the `.sha256` published beside it is refused and nothing stored.

mod common;

use common::server::{curl, dead_url, get, pull_through, Server};
use common::upstream::Upstream;
use common::{hex_sha256, snapshot, Env};

#[test]
fn downloads_through_nora_fill_the_bundle_that_serves_them_offline() {
    let env = Env::new();
    let root = env.path("static");
    std::fs::create_dir_all(root.join("tools")).unwrap();
    std::fs::create_dir_all(root.join("bad")).unwrap();
    let tool: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(root.join("tools/tool 1.0.tgz"), &tool).unwrap();
    std::fs::write(
        root.join("tools/tool 1.0.tgz.sha256"),
        format!("{}  tool 1.0.tgz\n", hex_sha256(&tool)),
    )
    .unwrap();
    std::fs::write(root.join("tools/readme.txt"), b"no checksum published\n").unwrap();
    std::fs::write(root.join("bad/x.bin"), b"tampered").unwrap();
    std::fs::write(root.join("bad/x.bin.sha256"), hex_sha256(b"the original")).unwrap();
    std::fs::write(root.join("bad/y.bin"), b"y").unwrap();
    std::fs::write(root.join("bad/y.bin.sha256"), b"<html>oops</html>").unwrap();
    let up = Upstream::serve_dir(&root);

    env.init("a");
    let a = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("raw={}", up.url),
        None,
    );
    let raw = |s: &Server, p: &str| get(&format!("{}/raw/{p}", s.url));
    let r = raw(&a, "tools/tool%201.0.tgz");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.body == tool);
    assert_eq!(
        r.header("x-checksum-sha256"),
        Some(hex_sha256(&tool).as_str())
    );
    assert!(raw(&a, "tools/tool%201.0.tgz").body == tool);
    assert_eq!(
        up.hits("/tools/tool%201.0.tgz"),
        1,
        "the second download is the bundle's"
    );
    let r = raw(&a, "tools/readme.txt");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "no checksum published\n")
    );
    env.nora("a", &["verify"]).assert().success();

    let before = snapshot(&env.path("a"));
    let r = raw(&a, "bad/x.bin");
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("hash mismatch"),
        "{}",
        r.text()
    );
    let r = raw(&a, "bad/y.bin");
    r.expect(502, "is not a SHA-256 checksum");
    let r = raw(&a, "nothing/here.bin");
    r.expect(404, "not found upstream");
    assert_eq!(snapshot(&env.path("a")), before, "nothing stored");
    // the bundle's own directories still list
    let dir = curl(
        "GET",
        &format!("{}/raw/tools/", a.url),
        &["Accept: application/json"],
        None,
    );
    assert!(dir.text().contains("readme.txt"), "{}", dir.text());
    drop(a);

    // the upstream down: a miss is a clear 502, the bundle still answers
    let down = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("raw={}", dead_url()),
        None,
    );
    let r = raw(&down, "tools/other.tgz");
    r.expect(502, "tools/other.tgz: upstream unavailable");
    assert!(raw(&down, "tools/readme.txt").status == 200);
    drop(down);

    let b = env.across("a", "b");
    assert!(raw(&b, "tools/tool%201.0.tgz").body == tool);
}

#[test]
fn upstreams_from_the_config_file_and_environment_with_credentials_and_bad_specs() {
    let env = Env::new();
    // the upstream is a nora that lets in only a token's holder
    env.init("up");
    let file = env.path("tool.bin");
    std::fs::write(&file, b"a tool\n").unwrap();
    env.nora(
        "up",
        &[
            "add",
            "raw",
            file.to_str().unwrap(),
            "--path",
            "dl/tool.bin",
        ],
    )
    .assert()
    .success();
    let token = env.token("up", "mirror", "read");
    let up = Server::start(env.dir.path(), &env.path("up"), &["--auth"]);
    let upstream = format!("raw={}/raw", up.url);

    // the token from NORA_UPSTREAM_TOKEN, the upstream from NORA_UPSTREAM
    env.init("a");
    let a = Server::start_with_env(
        env.dir.path(),
        Some(&env.path("a")),
        &[],
        Some(("NORA_UPSTREAM", &upstream)),
    );
    get(&format!("{}/raw/dl/tool.bin", a.url)).expect(502, "401");
    drop(a);
    let config = env.path("nora.toml");
    std::fs::write(
        &config,
        format!("[upstream]\nraw = \"{}/raw\"\nttl = \"1m\"\n", up.url),
    )
    .unwrap();
    let a = Server::start_with_env(
        env.dir.path(),
        Some(&env.path("a")),
        &["--config", config.to_str().unwrap()],
        Some(("NORA_UPSTREAM_TOKEN", &token)),
    );
    let r = get(&format!("{}/raw/dl/tool.bin", a.url));
    assert_eq!((r.status, r.text().as_str()), (200, "a tool\n"));
    assert!(env.ls("a", "raw").contains("dl/tool.bin"));
    drop(a);

    // bad specs: a clear error, no server
    for (args, says) in [
        (
            vec!["--upstream", "rust=http://127.0.0.1:1"],
            "unknown ecosystem 'rust'; one of cargo, go, maven, npm, oci, pypi, raw",
        ),
        (vec!["--upstream", "npm"], "expected ECOSYSTEM=URL"),
        (
            vec!["--upstream", "npm=ftp://127.0.0.1/x"],
            "the URL must be http or https",
        ),
        (
            vec![
                "--upstream",
                "raw=http://127.0.0.1:1",
                "--upstream-ttl",
                "soon",
            ],
            "upstream TTL 'soon' is not a duration",
        ),
    ] {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend(args);
        common::fails_with(&env.nora("a", &all).output().unwrap(), says);
    }
    std::fs::write(&config, "[upstream]\nrust = \"http://x\"\n").unwrap();
    let out = env
        .nora("a", &["serve", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    common::fails_with(&out, "rust");
}
