//! `nora mirror --go-sum` against a second `nora serve` as the upstream GOPROXY: a go.sum
//! with an indirect dependency through the air-gap cycle (mirror, pack, unpack into a fresh bundle, verify, serve, `go build` with
//! the upstream stopped), resuming, dry runs, and each bad input a clear error that leaves
//! the bundle clean.

mod common;

use common::ok;

use common::server::{require, Server};
use common::{fixtures, snapshot, Env};
use std::path::Path;
use std::process::Command;

const LIB: &str = "example.com/Upper/Lib";
const OTHER: &str = "example.com/other";
/// Required by OTHER only: an indirect dependency of the app, at a pseudo-version.
const DEEP: &str = "example.com/deep";
const DEEP_VERSION: &str = "v0.0.0-20240101000000-abcdefabcdef";
const MODULES: [(&str, &str); 4] = [
    (LIB, "v1.0.0"),
    (LIB, "v1.1.0"),
    (OTHER, "v0.2.0"),
    (DEEP, DEEP_VERSION),
];

fn go(env: &Env, dir: &Path, proxy: &str, cache: &str, args: &[&str]) -> std::process::Output {
    common::clients::go(&env.path(cache), dir, proxy, args)
}

/// `nora mirror --go-sum SUM --go-proxy PROXY EXTRA...` on a bundle.
fn mirror(
    env: &Env,
    bundle: &str,
    sum: &Path,
    proxy: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "mirror",
        "--go-sum",
        sum.to_str().unwrap(),
        "--go-proxy",
        proxy,
    ];
    args.extend(extra);
    env.nora(bundle, &args).output().unwrap()
}

/// Carries bundle `a` across into a fresh `b`, serves it, builds the app with it as the only
/// GOPROXY (module cache `cache`) and returns what the program prints.
fn built_across(env: &Env, app: &Path, cache: &str) -> String {
    env.carry("a", "b");
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    std::fs::remove_file(app.join("app-bin")).unwrap();
    ok(&go(
        env,
        app,
        &format!("{}/go", far.url),
        cache,
        &["build", "-o", "app-bin", "."],
    ));
    let run = Command::new(app.join("app-bin")).output().unwrap();
    String::from_utf8_lossy(&run.stdout).trim().to_string()
}

/// An upstream bundle with two modules and an app whose go.sum the real go command wrote
/// against it.
fn upstream(env: &Env) -> (Server, std::path::PathBuf) {
    env.init("up");
    for (m, v) in MODULES {
        let dir = env.path(&format!("zips/{}/{v}", m.replace('/', "_")));
        std::fs::create_dir_all(&dir).unwrap();
        let requires: &[(&str, &str)] = if m == OTHER {
            &[(DEEP, DEEP_VERSION)]
        } else {
            &[]
        };
        let zip = fixtures::go_zip_requiring(&dir, m, v, requires);
        env.nora("up", &["add", "go", zip.to_str().unwrap()])
            .assert()
            .success();
    }
    let s = Server::start(env.dir.path(), &env.path("up"), &[]);
    let app = env.path("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("go.mod"),
        format!(
            "module example.com/app\n\ngo 1.19\n\nrequire (\n\t{LIB} v1.1.0\n\t{OTHER} v0.2.0\n)\n"
        ),
    )
    .unwrap();
    std::fs::write(
        app.join("main.go"),
        format!("package main\n\nimport (\n\t\"fmt\"\n\tlib \"{LIB}\"\n\tother \"{OTHER}\"\n)\n\nfunc main() {{ fmt.Println(lib.F() + other.F()) }}\n"),
    )
    .unwrap();
    ok(&go(
        env,
        &app,
        &format!("{}/go", s.url),
        "gohome-up",
        &["build", "-o", "app-bin", "."],
    ));
    assert!(app.join("go.sum").is_file());
    (s, app)
}

#[test]
fn mirror_pack_unpack_serve_and_build_offline() {
    if !require("go") {
        return;
    }
    let env = Env::new();
    let (up, app) = upstream(&env);
    let go_sum = app.join("go.sum");
    let proxy = format!("{}/go", up.url);
    env.init("a");
    let out = mirror(&env, "a", &go_sum, &proxy, &["--json", "--dry-run"]);
    assert_eq!(common::json(&out)["planned"], 3);
    let go_mod = std::fs::read_to_string(app.join("go.mod")).unwrap();
    assert!(
        go_mod.contains(&format!("{DEEP} {DEEP_VERSION} // indirect")),
        "{go_mod}"
    );
    assert!(!env.path("a/refs/go").exists(), "a dry run fetches nothing");

    let out = mirror(&env, "a", &go_sum, &proxy, &["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = common::json(&out);
    assert_eq!(
        (r["added"].as_u64(), r["failed"].as_u64()),
        (Some(3), Some(0)),
        "{r}"
    );
    assert!(r["bytes"].as_u64().unwrap() > 0);
    // a second run finds everything in place
    let again = common::json(&mirror(&env, "a", &go_sum, &proxy, &["--json"]));
    assert_eq!(
        (again["added"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(3))
    );
    drop(up);

    // across the gap: pack, unpack into a fresh bundle, verify, serve, build
    // 1 from Lib, 1 from other and 1 from the indirect deep, all from the far side
    assert_eq!(built_across(&env, &app, "gohome-far"), "3");
}

#[test]
fn bad_sums_missing_modules_and_a_dead_upstream() {
    if !require("go") {
        return;
    }
    let env = Env::new();
    let (up, app) = upstream(&env);
    let proxy = format!("{}/go", up.url);
    let sum = std::fs::read_to_string(app.join("go.sum")).unwrap();

    // a go.sum whose zip hash the upstream's zip does not match
    let lib_line = sum
        .lines()
        .find(|l| l.starts_with(LIB) && l.contains("v1.1.0 h1:"))
        .unwrap();
    let tampered = sum.replace(
        lib_line,
        &format!("{LIB} v1.1.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    );
    std::fs::write(env.path("tampered.sum"), &tampered).unwrap();
    env.init("c");
    let before = snapshot(&env.path("c"));
    let o = mirror(
        &env,
        "c",
        &env.path("tampered.sum"),
        &proxy,
        &["--jobs", "1"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("hash mismatch for {LIB}@v1.1.0")),
        "{err}"
    );
    assert!(
        err.contains("not attempted after an earlier failure"),
        "{err}"
    );
    assert_eq!(
        snapshot(&env.path("c")),
        before,
        "nothing of the bad module stays"
    );

    // a module the upstream does not have, and --keep-going for the rest
    let missing = format!(
        "{sum}example.com/missing v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    );
    std::fs::write(env.path("missing.sum"), &missing).unwrap();
    env.init("d");
    let o = mirror(
        &env,
        "d",
        &env.path("missing.sum"),
        &proxy,
        &["--json", "--keep-going"],
    );
    assert_eq!(o.status.code(), Some(1));
    let r = common::json(&o);
    assert_eq!(
        (r["added"].as_u64(), r["failed"].as_u64()),
        (Some(3), Some(1)),
        "{r}"
    );
    let failed = common::first_error(&r);
    assert!(failed.contains("not found upstream"), "{r}");
    env.nora("d", &["verify"]).assert().success();

    // a lockfile that is not a go.sum
    std::fs::write(env.path("not.sum"), "{\"lockfileVersion\": 3}\n").unwrap();
    let o = mirror(&env, "d", &env.path("not.sum"), &proxy, &[]);
    common::fails_with(&o, "not.sum:1");

    // the upstream is down
    drop(up);
    env.init("e");
    let before = snapshot(&env.path("e"));
    let o = mirror(&env, "e", &app.join("go.sum"), &proxy, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("failed  go {LIB}@v1.1.0"))
            || String::from_utf8_lossy(&o.stderr).contains("failed  go example.com/other"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(snapshot(&env.path("e")), before);
}

#[test]
fn from_a_static_goproxy_directory() {
    if !require("go") {
        return;
    }
    let env = Env::new();
    let (up, app) = upstream(&env);
    drop(up);
    // the same modules in GOPROXY layout behind a plain static file server
    let root = env.path("goproxy");
    for (m, v) in MODULES {
        let zip = env.path(&format!("zips/{}/{v}/{v}.zip", m.replace('/', "_")));
        fixtures::goproxy_layout(&root, m, v, &zip);
    }
    // and a module at a +incompatible version: a v2 without a go.mod of its own
    let inc = "example.com/inc";
    let inc_v = "v2.0.0+incompatible";
    let at = root.join(inc).join("@v");
    std::fs::create_dir_all(&at).unwrap();
    {
        let mut z =
            zip::ZipWriter::new(std::fs::File::create(at.join(format!("{inc_v}.zip"))).unwrap());
        z.start_file(
            format!("{inc}@{inc_v}/lib.go"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        std::io::Write::write_all(&mut z, b"package lib\n\nfunc F() int { return 1 }\n").unwrap();
        z.finish().unwrap();
    }
    std::fs::write(at.join(format!("{inc_v}.mod")), format!("module {inc}\n")).unwrap();
    std::fs::write(
        at.join(format!("{inc_v}.info")),
        format!(r#"{{"Version":"{inc_v}","Time":"2024-01-01T00:00:00Z"}}"#),
    )
    .unwrap();
    // and a module of which the go.sum lists only the go.mod (read for the module graph,
    // never built): its zip is neither fetched nor stored
    let only = "example.com/modonly";
    let at = root.join(only).join("@v");
    std::fs::create_dir_all(&at).unwrap();
    let only_zip = fixtures::go_zip_requiring(&at, only, "v1.0.0", &[]);
    let only_zip_sha = common::sha256_hex(&std::fs::read(&only_zip).unwrap());
    let only_mod = format!("module {only}\n\ngo 1.19\n");
    std::fs::write(at.join("v1.0.0.mod"), &only_mod).unwrap();
    std::fs::write(
        at.join("v1.0.0.info"),
        r#"{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let only_line = |h1: &str| format!("{only} v1.0.0/go.mod {h1}\n");
    let only_h1 = nora::ecosystems::go::h1_mod(only_mod.as_bytes());
    let proxy = common::upstream::Upstream::serve_dir(&root);
    // a wrong go.mod hash for it is refused and leaves the bundle clean
    std::fs::write(
        env.path("only-bad.sum"),
        only_line("h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    )
    .unwrap();
    env.init("c");
    let before = snapshot(&env.path("c"));
    let o = mirror(&env, "c", &env.path("only-bad.sum"), &proxy.url, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "hash mismatch for {only}@v1.0.0/go.mod: go.sum says h1:AAAA"
        )),
        "{err}"
    );
    assert_eq!(snapshot(&env.path("c")), before);
    // the app now also needs it; go writes its go.sum lines against the static proxy
    std::fs::write(
        app.join("go.mod"),
        format!("module example.com/app\n\ngo 1.19\n\nrequire (\n\t{LIB} v1.1.0\n\t{OTHER} v0.2.0\n\t{inc} {inc_v}\n)\n"),
    )
    .unwrap();
    std::fs::write(
        app.join("main.go"),
        format!("package main\n\nimport (\n\t\"fmt\"\n\tlib \"{LIB}\"\n\tother \"{OTHER}\"\n\tinc \"{inc}\"\n)\n\nfunc main() {{ fmt.Println(lib.F() + other.F() + inc.F()) }}\n"),
    )
    .unwrap();
    ok(&go(
        &env,
        &app,
        &proxy.url,
        "gohome-static-up",
        &["build", "-o", "app-bin", "."],
    ));
    assert!(std::fs::read_to_string(app.join("go.sum"))
        .unwrap()
        .contains(inc_v));
    env.init("a");
    let go_sum = app.join("go.sum");
    let mut sum = std::fs::read_to_string(&go_sum).unwrap();
    sum.push_str(&only_line(&only_h1));
    std::fs::write(&go_sum, sum).unwrap();
    let out = mirror(&env, "a", &go_sum, &proxy.url, &["--json"]);
    let r = common::ok_json(&out);
    assert_eq!(
        (r["added"].as_u64(), r["failed"].as_u64()),
        (Some(5), Some(0)),
        "{r}"
    );
    let lib_zip = std::fs::read(
        root.join(nora::mirror::go::escape(LIB))
            .join("@v/v1.1.0.zip"),
    )
    .unwrap();
    assert!(env
        .path("a/blobs/sha256")
        .join(&common::sha256_hex(&lib_zip)[7..])
        .exists());
    assert!(
        !env.path("a/blobs/sha256").join(&only_zip_sha[7..]).exists(),
        "the zip of a go.mod-only module was stored"
    );
    {
        let served = Server::start(env.dir.path(), &env.path("a"), &[]);
        let base = format!("{}/go/{only}/@v/v1.0.0", served.url);
        let m = common::server::curl("GET", &format!("{base}.mod"), &[], None);
        assert_eq!((m.status, m.text()), (200, only_mod.clone()));
        let z = common::server::curl("GET", &format!("{base}.zip"), &[], None);
        assert_eq!(z.status, 404);
        assert!(z.text().contains("only the go.mod of"), "{}", z.text());
        env.nora("a", &["verify"]).assert().success();
        // a re-run finds it held
        let again = common::json(&mirror(&env, "a", &go_sum, &proxy.url, &["--json"]));
        assert_eq!(again["added"].as_u64(), Some(0), "{again}");
    }

    assert_eq!(built_across(&env, &app, "gohome-static"), "4");
}
