//! Go's checksum database across the gap. A checksum database runs on loopback (the
//! reference server of golang.org/x/mod/sumdb, built from tests/sumdb/main.go, with its
//! own key and 600 made-up records ahead of ours so that proofs need several tiles).
//! `nora mirror --go-sumdb` checks every module against it and carries its records and
//! proofs; on the far side the go command keeps GOSUMDB on, reaches the database only
//! through `nora serve`, checks every module, follows the tree's growth after a second
//! round, and refuses a tampered zip. Bad keys and disagreeing hashes leave the bundle
//! clean.

mod common;

use common::ok;

use common::server::{require, Server};
use common::{fixtures, snapshot, Env};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const LIB: &str = "example.com/Upper/Lib";
const OTHER: &str = "example.com/other";
const DEEP: &str = "example.com/deep";
const DEEP_VERSION: &str = "v0.0.0-20240101000000-abcdefabcdef";

/// The reference checksum database, running.
struct Sumdb {
    child: Child,
    /// `NAME+HASH+KEY`.
    key: String,
    /// `http://127.0.0.1:PORT`.
    url: String,
}

impl Sumdb {
    /// GOSUMDB's value for the go command on side A (key and URL).
    fn gosumdb(&self) -> String {
        format!("{} {}", self.key, self.url)
    }
    /// Suspends (`STOP`) or resumes (`CONT`) the process.
    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }
}

impl Drop for Sumdb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the test database server, or returns None (loudly) where Go or x/mod is missing.
fn server_binary(env: &Env) -> Option<PathBuf> {
    if !require("go") {
        return None;
    }
    let xmod = Path::new("/usr/share/gocode/src/golang.org/x/mod/sumdb");
    if !xmod.is_dir() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("golang-golang-x-mod-dev is required under CI=true; .ci/test installs it");
        }
        eprintln!("SKIPPING: golang-golang-x-mod-dev is not installed (CI would fail here)");
        return None;
    }
    let out = env.path("sumdb-server");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sumdb/main.go");
    let built = Command::new("go")
        .args(["build", "-o", out.to_str().unwrap(), src.to_str().unwrap()])
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .env(
            "GOCACHE",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("gocache"),
        )
        .env("GOFLAGS", "")
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    Some(out)
}

fn start_sumdb(bin: &Path, proxy_dir: &Path, fill: usize) -> Sumdb {
    let mut child = Command::new(bin)
        .args(["-proxy", proxy_dir.to_str().unwrap(), "-name", "sumdb.test"])
        .args(["-fill", &fill.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let (key, url) = line
        .trim()
        .split_once(' ')
        .unwrap_or_else(|| panic!("the test sumdb printed {line:?}"));
    Sumdb {
        key: key.to_string(),
        url: url.to_string(),
        child,
    }
}

/// Writes `module@version` into `root` in GOPROXY layout (zip, .mod, .info) and returns
/// the zip.
fn publish(env: &Env, root: &Path, m: &str, v: &str, requires: &[(&str, &str)]) -> PathBuf {
    let made = env.path(&format!("zips/{}/{v}", m.replace('/', "_")));
    std::fs::create_dir_all(&made).unwrap();
    let zip = fixtures::go_zip_requiring(&made, m, v, requires);
    let at = root.join(nora::mirror::go::escape(m)).join("@v");
    std::fs::create_dir_all(&at).unwrap();
    let esc = nora::mirror::go::escape(v);
    std::fs::copy(&zip, at.join(format!("{esc}.zip"))).unwrap();
    let mut go_mod = format!("module {m}\n\ngo 1.19\n");
    for (r, rv) in requires {
        go_mod.push_str(&format!("\nrequire {r} {rv}\n"));
    }
    std::fs::write(at.join(format!("{esc}.mod")), go_mod).unwrap();
    std::fs::write(
        at.join(format!("{esc}.info")),
        format!(r#"{{"Version":"{v}","Time":"2024-01-01T00:00:00Z"}}"#),
    )
    .unwrap();
    zip
}

/// The three modules (LIB v1.0.0, OTHER requiring DEEP) in a GOPROXY directory behind a
/// static server, and the database (with `fill` made-up records) over the same directory.
fn setup(env: &Env, fill: usize) -> Option<(PathBuf, common::upstream::Upstream, Sumdb)> {
    let bin = server_binary(env)?;
    let root = env.path("goproxy");
    publish(env, &root, LIB, "v1.0.0", &[]);
    publish(env, &root, OTHER, "v0.2.0", &[(DEEP, DEEP_VERSION)]);
    publish(env, &root, DEEP, DEEP_VERSION, &[]);
    let upstream = common::upstream::Upstream::serve_dir(&root);
    let db = start_sumdb(&bin, &root, fill);
    Some((root, upstream, db))
}

fn write_app(app: &Path, lib_version: &str) {
    std::fs::create_dir_all(app).unwrap();
    std::fs::write(
        app.join("go.mod"),
        format!("module example.com/app\n\ngo 1.19\n\nrequire (\n\t{LIB} {lib_version}\n\t{OTHER} v0.2.0\n)\n"),
    )
    .unwrap();
    std::fs::write(
        app.join("main.go"),
        format!("package main\n\nimport (\n\t\"fmt\"\n\tlib \"{LIB}\"\n\tother \"{OTHER}\"\n)\n\nfunc main() {{ fmt.Println(lib.F() + other.F()) }}\n"),
    )
    .unwrap();
}

fn build(env: &Env, app: &Path, proxy: &str, gosumdb: &str, cache: &str) -> std::process::Output {
    common::clients::go_checked(
        &env.path(cache),
        app,
        proxy,
        gosumdb,
        &["build", "-o", "app-bin", "."],
    )
}

fn sorted_lines(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn mirror(env: &Env, bundle: &str, sum: &Path, proxy: &str, sumdb: &str) -> std::process::Output {
    env.nora(
        bundle,
        &[
            "--json",
            "mirror",
            "--go-sum",
            sum.to_str().unwrap(),
            "--go-proxy",
            proxy,
            "--go-sumdb",
            sumdb,
        ],
    )
    .output()
    .unwrap()
}

/// Side B builds the app with only `nora serve` as GOPROXY and the database named by key
/// alone, so the go command reaches it through nora; go.sum is removed first, so every
/// module is checked against the database.
fn build_on_b(env: &Env, app: &Path, far: &Server, key: &str, cache: &str) -> std::process::Output {
    let b_app = env.path(&format!("app-{cache}"));
    let _ = std::fs::remove_dir_all(&b_app);
    std::fs::create_dir_all(&b_app).unwrap();
    for f in ["go.mod", "main.go"] {
        std::fs::copy(app.join(f), b_app.join(f)).unwrap();
    }
    let o = build(env, &b_app, &format!("{}/go", far.url), key, cache);
    if o.status.success() && app.join("go.sum").is_file() {
        // the same hashes side A's go wrote (which still lists older versions too)
        let (b_sum, a_sum) = (
            sorted_lines(&b_app.join("go.sum")),
            sorted_lines(&app.join("go.sum")),
        );
        assert_eq!(b_sum.len(), 6, "{b_sum:?}");
        assert!(
            b_sum.iter().all(|l| a_sum.contains(l)),
            "{b_sum:?} {a_sum:?}"
        );
    }
    o
}

#[test]
fn checksum_database_carried_across_and_checked_by_go_offline() {
    let env = Env::new();
    let Some((root, upstream, db)) = setup(&env, 600) else {
        return;
    };

    // side A: go itself checks the modules against the database and writes go.sum
    let app = env.path("app");
    write_app(&app, "v1.0.0");
    ok(&build(&env, &app, &upstream.url, &db.gosumdb(), "gohome-a"));
    env.init("a");
    let r = common::ok_json(&mirror(
        &env,
        "a",
        &app.join("go.sum"),
        &upstream.url,
        &db.gosumdb(),
    ));
    assert_eq!(r["added"], 3, "{r}");
    let ls = common::json(&env.nora("a", &["--json", "ls", "go"]).output().unwrap()).to_string();
    assert!(ls.contains("sumdb sumdb.test tree of 603"), "{ls}");
    assert!(
        ls.contains(&format!("sumdb sumdb.test record {LIB}@v1.0.0")),
        "{ls}"
    );

    // side B, with the database suspended
    db.signal("STOP");
    env.carry("a", "b");
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    let supported = common::server::get(&format!("{}/go/sumdb/sumdb.test/supported", far.url));
    assert_eq!(supported.status, 200);
    let other = common::server::get(&format!("{}/go/sumdb/sum.golang.org/supported", far.url));
    assert_eq!(other.status, 404);
    assert!(
        other.text().contains("not in this bundle"),
        "{}",
        other.text()
    );
    ok(&build_on_b(&env, &app, &far, &db.key, "gohome-b"));
    drop(far);

    // second round: a newer LIB; the tree grows and the far side's go follows it
    db.signal("CONT");
    publish(&env, &root, LIB, "v1.1.0", &[]);
    write_app(&app, "v1.1.0");
    ok(&build(&env, &app, &upstream.url, &db.gosumdb(), "gohome-a"));
    let r = common::ok_json(&mirror(
        &env,
        "a",
        &app.join("go.sum"),
        &upstream.url,
        &db.gosumdb(),
    ));
    assert_eq!(r["added"], 1, "{r}");
    db.signal("STOP");
    env.carry_delta("a", "b");
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    // the same module cache: go remembers the tree of 603 and checks the growth to 604
    ok(&build_on_b(&env, &app, &far, &db.key, "gohome-b"));
    let latest = common::server::get(&format!("{}/go/sumdb/sumdb.test/latest", far.url));
    assert!(
        latest.text().starts_with("go.sum database tree\n604\n"),
        "{}",
        latest.text()
    );

    // a tampered zip in B is refused by the go command
    let b = nora::Bundle::open(&env.path("b")).unwrap();
    let held = nora::registry::go::version(&b, LIB, "v1.1.0")
        .unwrap()
        .unwrap();
    let blob = b.blob_path(&held.zip);
    let evil_dir = env.path("evil");
    std::fs::create_dir_all(&evil_dir).unwrap();
    let evil = fixtures::go_zip_requiring(&evil_dir, LIB, "v1.1.0", &[(DEEP, DEEP_VERSION)]);
    let mut perm = std::fs::metadata(&blob).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(&blob, perm).unwrap();
    std::fs::copy(&evil, &blob).unwrap();
    let o = build_on_b(&env, &app, &far, &db.key, "gohome-tampered");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("SECURITY ERROR")
            && err.contains("checksum mismatch")
            && err.contains("sumdb.test:"),
        "{err}"
    );
}

#[test]
fn wrong_keys_and_disagreeing_hashes_leave_the_bundle_clean() {
    let env = Env::new();
    let Some(bin) = server_binary(&env) else {
        return;
    };
    let root = env.path("goproxy");
    publish(&env, &root, LIB, "v1.0.0", &[]);
    let upstream = common::upstream::Upstream::serve_dir(&root);
    let db = start_sumdb(&bin, &root, 0);
    let impostor = start_sumdb(&bin, &root, 0);
    let app = env.path("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("go.mod"),
        format!("module example.com/app\n\ngo 1.19\n\nrequire {LIB} v1.0.0\n"),
    )
    .unwrap();
    std::fs::write(
        app.join("main.go"),
        format!("package main\n\nimport lib \"{LIB}\"\n\nfunc main() {{ println(lib.F()) }}\n"),
    )
    .unwrap();
    ok(&build(&env, &app, &upstream.url, &db.gosumdb(), "gohome"));
    let sum = app.join("go.sum");
    env.init("c");
    let before = snapshot(&env.path("c"));
    let failing = |sum: &Path, sumdb: &str| {
        let out = mirror(&env, "c", sum, &upstream.url, sumdb);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(snapshot(&env.path("c")), before);
        common::first_error(&common::json(&out))
    };

    // the impostor's key, the real database's answers
    let e = failing(&sum, &format!("{} {}", impostor.key, db.url));
    assert!(e.contains("no signature by sumdb.test with key"), "{e}");

    // go.sum and the database disagree
    let text = std::fs::read_to_string(&sum).unwrap();
    let zip_line = text.lines().find(|l| !l.contains("/go.mod")).unwrap();
    let forged = env.path("forged.sum");
    std::fs::write(
        &forged,
        text.replace(
            zip_line,
            &format!("{LIB} v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ),
    )
    .unwrap();
    let e = failing(&forged, &db.gosumdb());
    assert!(
        e.starts_with(&format!(
            "hash mismatch for {LIB}@v1.0.0: go.sum says h1:AAAA"
        )) && e.contains("the checksum database sumdb.test says h1:"),
        "{e}"
    );

    // a module the database does not know
    let unknown = env.path("unknown.sum");
    std::fs::write(
        &unknown,
        "example.com/nowhere v1.0.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    )
    .unwrap();
    let e = failing(&unknown, &db.gosumdb());
    assert!(
        e.contains("example.com/nowhere@v1.0.0 is not in the checksum database sumdb.test"),
        "{e}"
    );

    // a key that is not one
    let out = mirror(&env, "c", &sum, &upstream.url, "sumdb.test+1234+AAAA");
    common::fails_with(&out, "is not a checksum database key");
    assert_eq!(snapshot(&env.path("c")), before);
}

/// A go.mod alone (no go.sum, no indirect lines): its module graph is walked through the
/// proxy, every module is checked against the database, and the far side builds with
/// GOSUMDB on. Without a database there is nothing to check against: refused up front.
#[test]
fn go_mod_alone_resolved_through_the_proxy_and_checked_against_the_database() {
    let env = Env::new();
    let Some((_, upstream, db)) = setup(&env, 300) else {
        return;
    };
    let app = env.path("app");
    write_app(&app, "v1.0.0");
    let go_mod = app.join("go.mod");
    env.init("a");
    let before = snapshot(&env.path("a"));
    let args = |extra: &[&str]| {
        let mut v = vec![
            "--json".to_string(),
            "mirror".into(),
            "--go-mod".into(),
            go_mod.to_str().unwrap().into(),
            "--go-proxy".into(),
            upstream.url.clone(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        env.nora("a", &a.iter().map(String::as_str).collect::<Vec<_>>())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no go.sum beside it, so nothing to check its modules against")
            && err.contains("--go-sumdb"),
        "{err}"
    );
    assert_eq!(snapshot(&env.path("a")), before);

    let r = common::ok_json(&run(&["--go-sumdb", &db.gosumdb()]));
    assert_eq!(
        common::names_with(&r, "added"),
        [
            format!("{LIB}@v1.0.0"),
            format!("{DEEP}@{DEEP_VERSION}"),
            format!("{OTHER}@v0.2.0")
        ],
        "{r}"
    );
    db.signal("STOP");
    env.carry("a", "b");
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    ok(&build_on_b(&env, &app, &far, &db.key, "gohome-b"));
    let sum = std::fs::read_to_string(env.path("app-gohome-b/go.sum")).unwrap();
    assert!(sum.contains(&format!("{DEEP} {DEEP_VERSION} h1:")), "{sum}");

    // a directory replacement cannot be mirrored, and says so
    db.signal("CONT");
    std::fs::write(
        &go_mod,
        format!("module example.com/app\n\ngo 1.19\n\nrequire {LIB} v1.0.0\n\nreplace {LIB} => ../lib\n"),
    )
    .unwrap();
    let out = run(&["--go-sumdb", &db.gosumdb()]);
    assert_eq!(out.status.code(), Some(1));
    let e = common::first_error(&common::json(&out));
    assert!(
        e.contains("not mirrorable: example.com/app replaces it with a directory"),
        "{e}"
    );
}
