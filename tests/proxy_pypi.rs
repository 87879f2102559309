//! `nora serve --upstream pypi=URL` with pypiserver as the upstream: a CI job's
//! `pip install` through nora fills the bundle, which installs offline across the gap;
//! project pages are kept and answered while the upstream is down; a file whose SHA-256
//! is not the page's is refused and nothing stored.

mod common;

use common::ok;

use common::clients::{pip, venv};
use common::fixtures::{sdist, wheel_tagged};
use common::server::{dead_url, get, pull_through, require};
use common::upstream::{Route, Upstream};
use common::{hex_sha256, snapshot, Env};
use std::path::Path;

fn installs(v: &Path, index: &str, what: &str) -> String {
    let o = pip(v, &["install", what, "--index-url", index]);
    ok(&o);
    let run = std::process::Command::new(v.join("bin/python"))
        .args([
            "-c",
            "import demo_core, demo_app; print(demo_core.VERSION, demo_app.VERSION)",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&run.stdout).trim().to_string()
}

#[test]
fn a_ci_install_through_nora_fills_the_bundle_that_installs_offline() {
    assert!(require("/usr/bin/python3"));
    let env = Env::new();
    let packages = env.path("pypiserver/packages");
    let dir = env.path("dists");
    for p in [
        wheel_tagged(&dir, "demo_core", "1.0.0", "py3-none-any", &[]),
        sdist(&dir, "demo_core", "1.0.0"),
        wheel_tagged(&dir, "demo_app", "1.0.0", "py3-none-any", &[]),
        wheel_tagged(
            &dir,
            "demo_app",
            "2.0.0",
            "py3-none-any",
            &["demo-core==1.0.0"],
        ),
    ] {
        std::fs::create_dir_all(&packages).unwrap();
        std::fs::copy(&p, packages.join(p.file_name().unwrap())).unwrap();
    }
    let Some(up) = common::peers::pypiserver(&packages) else {
        return;
    };

    // side A: the CI job's pip points at nora, which pulls through
    env.init("a");
    let a = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("pypi={}/simple/", up.url),
        Some("0s"),
    );
    let index = format!("{}/simple/", a.url);
    assert_eq!(
        installs(&venv(&env.path("venv-a1"), false), &index, "demo-app"),
        "1.0.0 2.0.0"
    );
    let held = env.ls("a", "pypi");
    assert!(
        held.contains("demo_app-2.0.0-py3-none-any.whl")
            && held.contains("demo_core-1.0.0-py3-none-any.whl"),
        "{held}"
    );
    assert!(
        !held.contains("demo_app-1.0.0") && !held.contains("demo_core-1.0.0.tar.gz"),
        "only what the install used: {held}"
    );
    // the page lists the upstream's files, each with its hash and a link to nora
    let page = get(&format!("{index}demo-app/")).text();
    assert!(
        page.contains("href=\"demo_app-1.0.0-py3-none-any.whl#sha256=")
            && page.contains(">demo_app-2.0.0-py3-none-any.whl</a>"),
        "{page}"
    );
    env.nora("a", &["verify"]).assert().success();

    // the upstream goes down: the kept pages answer, the files come from the bundle
    drop(up);
    assert_eq!(
        installs(
            &venv(&env.path("venv-a2"), false),
            &index,
            "demo-app==2.0.0"
        ),
        "1.0.0 2.0.0"
    );
    assert!(
        a.log().contains("upstream down; answering the kept copy"),
        "{}",
        a.log()
    );
    // nothing kept or the file not held: a 502 that says why, the bundle unchanged
    let before = snapshot(&env.path("a"));
    let r = get(&format!("{index}no-such-project/"));
    r.expect(502, "upstream unavailable");
    let r = get(&format!("{index}demo-app/demo_app-1.0.0-py3-none-any.whl"));
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(snapshot(&env.path("a")), before);
    drop(a);

    // across the gap: B installs with no upstream at all
    let b = env.across("a", "b");
    assert_eq!(
        installs(
            &venv(&env.path("venv-b"), false),
            &format!("{}/simple/", b.url),
            "demo-app"
        ),
        "1.0.0 2.0.0"
    );
}

#[test]
fn a_file_that_is_not_what_the_page_says_is_refused() {
    let env = Env::new();
    let dir = env.path("dists");
    let good = wheel_tagged(&dir, "demo_core", "1.0.0", "py3-none-any", &[]);
    let other = wheel_tagged(&dir, "demo_core", "9.0.0", "py3-none-any", &[]);
    let good_bytes = std::fs::read(&good).unwrap();
    let other_bytes = std::fs::read(&other).unwrap();
    let page = format!(
        "<html><body>\
         <a href=\"/files/demo_core-1.0.0-py3-none-any.whl#sha256={}\">demo_core-1.0.0-py3-none-any.whl</a>\
         <a href=\"/files/demo_core-1.0.0.tar.gz\">demo_core-1.0.0.tar.gz</a>\
         </body></html>",
        hex_sha256(&good_bytes)
    );
    let route = |body: Vec<u8>| Route {
        body,
        ..Default::default()
    };
    // the wheel served is another one than the page's hash names; the sdist has no hash
    let up = Upstream::start(vec![
        ("/simple/demo-core/", route(page.into_bytes())),
        (
            "/files/demo_core-1.0.0-py3-none-any.whl",
            route(other_bytes.clone()),
        ),
        ("/files/demo_core-1.0.0.tar.gz", route(b"sdist".to_vec())),
    ]);
    env.init("a");
    let s = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("pypi={}/simple", up.url),
        None,
    );
    let base = format!("{}/simple/demo-core", s.url);
    let listed = get(&format!("{base}/"));
    assert_eq!(listed.status, 200, "{}", listed.text());
    let before = snapshot(&env.path("a"));
    let r = get(&format!("{base}/demo_core-1.0.0-py3-none-any.whl"));
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(
        r.text()
            .contains("hash mismatch for demo_core-1.0.0-py3-none-any.whl"),
        "{}",
        r.text()
    );
    let r = get(&format!("{base}/demo_core-1.0.0.tar.gz"));
    r.expect(502, "publishes no SHA-256");
    assert_eq!(snapshot(&env.path("a")), before, "nothing stored");
    let r = get(&format!("{base}/demo_core-2.0.0.tar.gz"));
    r.expect(404, "lists no file");
    drop(s);

    let down = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("pypi={}", dead_url()),
        None,
    );
    let r = get(&format!("{}/simple/other/", down.url));
    assert_eq!(r.status, 502, "{}", r.text());
}
