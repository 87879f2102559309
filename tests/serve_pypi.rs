//! `nora serve` as a PyPI index: `twine upload` of a wheel and an sdist built here,
//! `pip install --require-hashes` into a venv and `pip download` of the sdist with nora as
//! the only index, PEP 503/691 pages, authentication, and refused uploads that change
//! nothing.

mod common;

use common::ok;

use common::server::{curl, require, Server};
use common::{snapshot, Env};
use std::path::{Path, PathBuf};
use std::process::Command;

const PY: &str = "/usr/bin/python3";

fn built(env: &Env, version: &str) -> PathBuf {
    let src = env.path(&format!("src-{version}"));
    std::fs::create_dir_all(src.join("nora_demo_py")).unwrap();
    std::fs::write(
        src.join("pyproject.toml"),
        format!("[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"Nora.Demo_Py\"\nversion = \"{version}\"\nrequires-python = \">=3.8\"\n"),
    )
    .unwrap();
    std::fs::write(
        src.join("nora_demo_py/__init__.py"),
        format!("VERSION = \"{version}\"\n"),
    )
    .unwrap();
    let o = Command::new(PY)
        .args(["-m", "build", "--no-isolation", "--outdir", "dist"])
        .current_dir(&src)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    src.join("dist")
}

fn dist_files(dist: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn twine(
    s: &Server,
    user: &str,
    password: &str,
    files: &[PathBuf],
    extra: &[&str],
) -> std::process::Output {
    Command::new("twine")
        .args([
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
        ])
        .arg(format!("{}/simple/", s.url))
        .args(["-u", user, "-p", password])
        .args(extra)
        .args(files)
        .env_remove("TWINE_REPOSITORY_URL")
        .output()
        .unwrap()
}

fn pip(venv: &Path, args: &[&str]) -> std::process::Output {
    common::clients::pip(venv, args)
}

fn venv(env: &Env, name: &str, system: bool) -> PathBuf {
    common::clients::venv(&env.path(name), system)
}

fn sha256(p: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

#[test]
fn twine_upload_then_pip_install_with_hashes_and_pip_download() {
    if !require("twine") || !require("/usr/bin/python3") {
        return;
    }
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    let dist = built(&env, "1.0.0");
    let files = dist_files(&dist);
    assert_eq!(files.len(), 2, "a wheel and an sdist");
    ok(&twine(&s, "__token__", "unused", &files, &[]));

    // the pages: normalized name, redirects, hashes, requires-python, PEP 658 metadata
    let r = curl("GET", &format!("{}/simple/Nora.Demo_Py/", s.url), &[], None);
    assert_eq!(
        (r.status, r.header("Location")),
        (301, Some("/simple/nora-demo-py/"))
    );
    let page = curl("GET", &format!("{}/simple/nora-demo-py/", s.url), &[], None);
    let html = page.text();
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(
            html.contains(&format!("{name}#sha256={}", sha256(f))),
            "{html}"
        );
    }
    assert!(html.contains("data-requires-python=\"&gt;=3.8\""), "{html}");
    assert!(html.contains("data-core-metadata=\"sha256="), "{html}");
    let j = curl(
        "GET",
        &format!("{}/simple/nora-demo-py/", s.url),
        &["Accept: application/vnd.pypi.simple.v1+json"],
        None,
    );
    assert_eq!(
        j.header("Content-Type"),
        Some("application/vnd.pypi.simple.v1+json")
    );
    let v = j.json();
    assert_eq!(v["name"], "nora-demo-py");
    assert_eq!(v["versions"], serde_json::json!(["1.0.0"]));
    let wheel = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["filename"].as_str().unwrap().ends_with(".whl"))
        .unwrap();
    let meta = curl(
        "GET",
        &format!(
            "{}/simple/nora-demo-py/{}.metadata",
            s.url,
            wheel["filename"].as_str().unwrap()
        ),
        &[],
        None,
    );
    assert!(
        meta.text().contains("Name: Nora.Demo_Py") || meta.text().contains("Name: Nora.Demo-Py"),
        "{}",
        meta.text()
    );

    // pip installs with --require-hashes from nora alone
    let v = venv(&env, "venv", false);
    let hashes: Vec<String> = files
        .iter()
        .map(|f| format!("--hash=sha256:{}", sha256(f)))
        .collect();
    std::fs::write(
        env.path("req.txt"),
        format!("nora-demo-py==1.0.0 {}\n", hashes.join(" ")),
    )
    .unwrap();
    ok(&pip(
        &v,
        &[
            "install",
            "--index-url",
            &format!("{}/simple/", s.url),
            "--require-hashes",
            "-r",
            env.path("req.txt").to_str().unwrap(),
        ],
    ));
    let out = Command::new(v.join("bin/python"))
        .args(["-c", "import nora_demo_py; print(nora_demo_py.VERSION)"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1.0.0");

    // a plain install (no hashes) takes the PEP 658 metadata path of Debian's pip 23.0
    let plain = venv(&env, "venv-plain", false);
    ok(&pip(
        &plain,
        &[
            "install",
            "--index-url",
            &format!("{}/simple/", s.url),
            "nora-demo-py==1.0.0",
        ],
    ));
    let out = Command::new(plain.join("bin/python"))
        .args(["-c", "import nora_demo_py; print(nora_demo_py.VERSION)"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1.0.0");

    // pip download of the sdist (its metadata built with the system's setuptools)
    let sv = venv(&env, "venv-sys", true);
    let dl = env.path("downloads");
    ok(&pip(
        &sv,
        &[
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--no-build-isolation",
            "--index-url",
            &format!("{}/simple/", s.url),
            "-d",
            dl.to_str().unwrap(),
            "nora-demo-py==1.0.0",
        ],
    ));
    let sdist = files
        .iter()
        .find(|f| f.to_str().unwrap().ends_with(".tar.gz"))
        .unwrap();
    assert_eq!(
        std::fs::read(dl.join(sdist.file_name().unwrap())).unwrap(),
        std::fs::read(sdist).unwrap()
    );

    // a second upload of the same files: refused, and --skip-existing goes on
    let before = snapshot(&env.path("b"));
    let again = twine(&s, "__token__", "unused", &files, &[]);
    assert!(!again.status.success());
    ok(&twine(
        &s,
        "__token__",
        "unused",
        &files,
        &["--skip-existing"],
    ));
    assert_eq!(snapshot(&env.path("b")), before);
    env.nora("b", &["verify"]).assert().success();
}

#[test]
fn tokens_decide_who_uploads() {
    if !require("twine") || !require("/usr/bin/python3") {
        return;
    }
    let env = Env::new();
    env.init("b");
    let (read, write) = (
        env.token("b", "read", "read"),
        env.token("b", "write", "write"),
    );
    let s = Server::start(env.dir.path(), &env.path("b"), &["--auth"]);
    let files = dist_files(&built(&env, "2.0.0"));
    let o = twine(&s, "__token__", &read, &files, &[]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("403")
            || String::from_utf8_lossy(&o.stderr).contains("403")
    );
    ok(&twine(&s, "__token__", &write, &files, &[]));
    assert_eq!(
        curl("GET", &format!("{}/simple/nora-demo-py/", s.url), &[], None).status,
        401
    );
    let r = curl(
        "GET",
        &format!("{}/simple/nora-demo-py/", s.url),
        &[&format!("Authorization: Bearer {read}")],
        None,
    );
    assert_eq!(r.status, 200);
}

/// A legacy upload form as twine sends it.
fn form(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let b = "noraboundary1234";
    let mut out = Vec::new();
    for (k, v) in fields {
        out.extend(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, data)) = file {
        out.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        out.extend(data);
        out.extend(b"\r\n");
    }
    out.extend(format!("--{b}--\r\n").as_bytes());
    (
        format!("Content-Type: multipart/form-data; boundary={b}"),
        out,
    )
}

#[test]
fn bad_uploads_and_paths_change_nothing() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(
        env.dir.path(),
        &env.path("b"),
        &["--publish-max-size", "64KiB"],
    );
    let whl = common::fixtures::wheel(&env.path(""), "solid", "1.0");
    let data = std::fs::read(&whl).unwrap();
    let name = whl.file_name().unwrap().to_str().unwrap().to_string();
    let good = sha256(&whl);
    let post = |(ct, body): (String, Vec<u8>)| {
        curl("POST", &format!("{}/simple/", s.url), &[&ct], Some(&body))
    };
    let r = post(form(
        &[
            (":action", "file_upload"),
            ("name", "solid"),
            ("version", "1.0"),
            ("sha256_digest", &good),
        ],
        Some((&name, &data)),
    ));
    assert_eq!(r.status, 200, "{}", r.text());

    let before = snapshot(&env.path("b"));
    let wrong = "0".repeat(64);
    for (f, status, needle) in [
        (
            form(
                &[
                    (":action", "file_upload"),
                    ("name", "solid"),
                    ("version", "1.0"),
                ],
                Some((&name, &data)),
            ),
            409,
            "already exists",
        ),
        (
            form(
                &[
                    (":action", "file_upload"),
                    ("name", "solid"),
                    ("version", "2.0"),
                    ("sha256_digest", &wrong),
                ],
                Some(("solid-2.0-py3-none-any.whl", &data)),
            ),
            400,
            "",
        ),
        (
            form(
                &[
                    (":action", "file_upload"),
                    ("name", "other"),
                    ("version", "1.0"),
                ],
                Some((&name, &data)),
            ),
            400,
            "says",
        ),
        (
            form(
                &[
                    (":action", "file_upload"),
                    ("name", "solid"),
                    ("version", "3.0"),
                ],
                Some(("solid-3.0-py3-none-any.whl", &vec![0u8; 100_000])),
            ),
            413,
            "limit",
        ),
        (
            form(
                &[
                    (":action", "file_upload"),
                    ("name", "solid"),
                    ("version", "1.0"),
                ],
                Some(("../evil-1.0.tar.gz", b"x")),
            ),
            400,
            "file name",
        ),
        (
            form(
                &[
                    (":action", "file_upload"),
                    ("name", "solid"),
                    ("version", "1.0"),
                ],
                None,
            ),
            400,
            "no `content`",
        ),
        (
            form(
                &[
                    (":action", "file_upload"),
                    ("name", "bad name!"),
                    ("version", "1.0"),
                ],
                Some(("bad name!-1.0.tar.gz", b"x")),
            ),
            400,
            "project name",
        ),
        (
            (
                "Content-Type: multipart/form-data; boundary=x".to_string(),
                b"garbage".to_vec(),
            ),
            400,
            "multipart",
        ),
    ] {
        let r = post(f);
        assert_eq!(r.status, status, "{}", r.text());
        assert!(r.text().contains(needle), "{}", r.text());
    }
    for (p, status) in [
        ("/simple/../etc/passwd", 400),
        ("/simple/%2e%2e/x/", 400),
        ("/simple/a%2fb/", 400),
        ("/simple/nothing/", 404),
        ("/simple/solid/solid-9.9-py3-none-any.whl", 404),
    ] {
        let r = curl("GET", &format!("{}{p}", s.url), &[], None);
        assert_eq!(r.status, status, "{p}: {}", r.text());
    }
    assert_eq!(snapshot(&env.path("b")), before);
    let got = curl("GET", &format!("{}/simple/solid/{name}", s.url), &[], None);
    assert_eq!(got.body, data);
    let root = curl(
        "GET",
        &format!("{}/simple/", s.url),
        &["Accept: application/vnd.pypi.simple.v1+json"],
        None,
    );
    assert_eq!(
        root.json()["projects"],
        serde_json::json!([{"name": "solid"}])
    );

    // a file the bundle marks yanked (PEP 592) is shown so, in both forms
    let rec_path = env.path(&format!("b/refs/pypi/solid/{name}.json"));
    let mut rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&rec_path).unwrap()).unwrap();
    rec["yanked"] = serde_json::json!("broken build");
    std::fs::write(&rec_path, serde_json::to_vec_pretty(&rec).unwrap()).unwrap();
    let html = curl("GET", &format!("{}/simple/solid/", s.url), &[], None).text();
    assert!(html.contains("data-yanked=\"broken build\""), "{html}");
    let j = curl(
        "GET",
        &format!("{}/simple/solid/", s.url),
        &["Accept: application/vnd.pypi.simple.v1+json"],
        None,
    );
    assert_eq!(j.json()["files"][0]["yanked"], "broken build");
}
