//! `nora serve --upstream raw=URL` with a static file server as the upstream: a CI job's
//! downloads through nora fill the bundle, which serves them across the gap; a file that
//! does not match the `.sha256` published beside it is refused and nothing stored.

mod common;

use common::server::{curl, dead_url, Server};
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
    let a = Server::start(
        env.dir.path(),
        &env.path("a"),
        &["--upstream", &format!("raw={}", up.url)],
    );
    let get = |s: &Server, p: &str| curl("GET", &format!("{}/raw/{p}", s.url), &[], None);
    let r = get(&a, "tools/tool%201.0.tgz");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.body == tool);
    assert_eq!(
        r.header("x-checksum-sha256"),
        Some(hex_sha256(&tool).as_str())
    );
    assert!(get(&a, "tools/tool%201.0.tgz").body == tool);
    assert_eq!(
        up.hits("/tools/tool%201.0.tgz"),
        1,
        "the second download is the bundle's"
    );
    let r = get(&a, "tools/readme.txt");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "no checksum published\n")
    );
    env.nora("a", &["verify"]).assert().success();

    let before = snapshot(&env.path("a"));
    let r = get(&a, "bad/x.bin");
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("hash mismatch"),
        "{}",
        r.text()
    );
    let r = get(&a, "bad/y.bin");
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(
        r.text().contains("is not a SHA-256 checksum"),
        "{}",
        r.text()
    );
    let r = get(&a, "nothing/here.bin");
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.text().contains("not found upstream"), "{}", r.text());
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
    let down = Server::start(
        env.dir.path(),
        &env.path("a"),
        &["--upstream", &format!("raw={}", dead_url())],
    );
    let r = get(&down, "tools/other.tgz");
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains("upstream unavailable"), "{}", r.text());
    assert!(get(&down, "tools/readme.txt").status == 200);
    drop(down);

    env.carry("a", "b");
    env.nora("b", &["verify"]).assert().success();
    let b = Server::start(env.dir.path(), &env.path("b"), &[]);
    assert!(get(&b, "tools/tool%201.0.tgz").body == tool);
}
