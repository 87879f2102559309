//! `nora mirror --pypi-lock` against a second `nora serve` standing in for PyPI: a
//! requirements file with hashes (a compiled wheel for this platform, one for another, an
//! sdist, a pure wheel) mirrored for one Python version and platform, carried across the gap
//! and installed with `pip install --require-hashes` from the far side alone; uv.lock;
//! and bad input.

mod common;

use common::ok;

use common::clients::{pip, venv};
use common::fixtures::{sdist, wheel_tagged};
use common::server::{require, Server};
use common::{json, snapshot, Env};
use std::path::{Path, PathBuf};

fn sha256(p: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

const LINUX: &str = "cp311-cp311-manylinux_2_17_x86_64";
const WINDOWS: &str = "cp311-cp311-win_amd64";

struct Upstream {
    _running: Box<dyn std::any::Any>,
    /// The simple index URL, ending with `/`.
    index: String,
    /// file name -> sha256
    files: Vec<(String, String)>,
}

fn dists(env: &Env) -> Vec<PathBuf> {
    let dir = env.path("dists");
    vec![
        wheel_tagged(&dir, "demo_core", "1.0.0", LINUX, &[]),
        wheel_tagged(&dir, "demo_core", "1.0.0", WINDOWS, &[]),
        sdist(&dir, "demo_core", "1.0.0"),
        wheel_tagged(
            &dir,
            "demo_app",
            "2.0.0",
            "py3-none-any",
            &["demo-core==1.0.0"],
        ),
        wheel_tagged(&dir, "demo_app", "1.0.0", "py3-none-any", &[]),
    ]
}

fn hashes(made: &[PathBuf]) -> Vec<(String, String)> {
    made.iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_str().unwrap().to_string(),
                sha256(p),
            )
        })
        .collect()
}

/// A second nora holding the distributions.
fn upstream(env: &Env) -> Upstream {
    let made = dists(env);
    env.init("up");
    let mut args = vec!["add".to_string(), "pypi".to_string()];
    args.extend(made.iter().map(|p| p.to_str().unwrap().to_string()));
    env.nora("up", &args.iter().map(String::as_str).collect::<Vec<_>>())
        .assert()
        .success();
    let server = Server::start(env.dir.path(), &env.path("up"), &[]);
    Upstream {
        index: format!("{}/simple/", server.url),
        _running: Box::new(server),
        files: hashes(&made),
    }
}

/// pypiserver serving the distributions from its package directory (PEP 503 HTML only).
fn pypiserver(env: &Env) -> Option<Upstream> {
    let made = dists(env);
    let packages = env.path("pypiserver/packages");
    std::fs::create_dir_all(&packages).unwrap();
    for p in &made {
        std::fs::copy(p, packages.join(p.file_name().unwrap())).unwrap();
    }
    let peer = common::peers::pypiserver(&packages)?;
    Some(Upstream {
        index: format!("{}/simple/", peer.url),
        _running: Box::new(peer),
        files: hashes(&made),
    })
}

impl Upstream {
    fn hash(&self, name: &str) -> &str {
        &self.files.iter().find(|(f, _)| f.contains(name)).unwrap().1
    }
}

fn mirror(
    env: &Env,
    bundle: &str,
    index: &str,
    lock: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "--json",
        "mirror",
        "--pypi-lock",
        lock.to_str().unwrap(),
        "--pypi-index",
        index,
    ];
    args.extend(extra);
    env.nora(bundle, &args).output().unwrap()
}

#[test]
fn from_a_second_nora_requirements_with_hashes_and_pip_install_across_the_gap() {
    let env = Env::new();
    let up = upstream(&env);
    cycle(&env, up);
}

#[test]
fn from_pypiserver_requirements_with_hashes_and_pip_install_across_the_gap() {
    let env = Env::new();
    let Some(up) = pypiserver(&env) else {
        return;
    };
    cycle(&env, up);
}

/// Mirror a requirements file with hashes for one Python version and platform, carry it
/// across, and `pip install --require-hashes` from the far side alone.
fn cycle(env: &Env, up: Upstream) {
    assert!(require("/usr/bin/python3"));
    // as pip-compile --generate-hashes writes it: every file of each pinned version
    let req = env.path("app/requirements.txt");
    std::fs::create_dir_all(req.parent().unwrap()).unwrap();
    std::fs::write(
        &req,
        format!(
            "#\n# pip-compile --generate-hashes\n#\ndemo-app==2.0.0 \\\n    --hash=sha256:{}\n    # via -r requirements.in\ndemo-core==1.0.0 \\\n    --hash=sha256:{} \\\n    --hash=sha256:{} \\\n    --hash=sha256:{}\n    # via demo-app\n",
            up.hash("demo_app-2.0.0"),
            up.hash(LINUX),
            up.hash(WINDOWS),
            up.hash("demo_core-1.0.0.tar.gz"),
        ),
    )
    .unwrap();
    env.init("a");
    let platform = [
        "--python-version",
        "3.11",
        "--wheel-platform",
        "manylinux_2_28_x86_64",
    ];
    let out = mirror(env, "a", &up.index, &req, &platform);
    let r = common::ok_json(&out);
    assert_eq!(
        common::names_with(&r, "added"),
        [
            "demo-app==2.0.0 demo_app-2.0.0-py3-none-any.whl".to_string(),
            format!("demo-core==1.0.0 demo_core-1.0.0-{LINUX}.whl"),
            "demo-core==1.0.0 demo_core-1.0.0.tar.gz".to_string(),
        ],
        "{r}"
    );
    let again = json(&mirror(env, "a", &up.index, &req, &platform));
    assert_eq!(
        (again["added"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(3)),
        "{again}"
    );
    drop(up);

    env.carry("a", "b");
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    let v = venv(&env.path("venv"), false);
    let o = pip(
        &v,
        &[
            "install",
            "--require-hashes",
            "-r",
            req.to_str().unwrap(),
            "--index-url",
            &format!("{}/simple/", far.url),
        ],
    );
    ok(&o);
    let run = std::process::Command::new(v.join("bin/python"))
        .args([
            "-c",
            "import demo_core, demo_app; print(demo_core.TAG, demo_app.VERSION)",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        format!("{LINUX} 2.0.0")
    );
}

#[test]
fn uv_lock_tampered_hashes_unknown_projects_and_unpinned_lines() {
    let env = Env::new();
    let up = upstream(&env);
    let dir = env.path("proj");
    std::fs::create_dir_all(&dir).unwrap();
    let uv = dir.join("uv.lock");
    std::fs::write(
        &uv,
        format!(
            "version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = {{ virtual = \".\" }}\n\n[[package]]\nname = \"demo-core\"\nversion = \"1.0.0\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\nsdist = {{ url = \"https://files.pythonhosted.org/demo_core-1.0.0.tar.gz\", hash = \"sha256:{}\", size = 1 }}\nwheels = [\n    {{ url = \"https://files.pythonhosted.org/demo_core-1.0.0-{LINUX}.whl\", hash = \"sha256:{}\", size = 1 }},\n    {{ url = \"https://files.pythonhosted.org/demo_core-1.0.0-{WINDOWS}.whl\", hash = \"sha256:{}\", size = 1 }},\n]\n",
            up.hash("demo_core-1.0.0.tar.gz"),
            up.hash(LINUX),
            up.hash(WINDOWS)
        ),
    )
    .unwrap();
    env.init("u");
    let r = json(&mirror(&env, "u", &up.index, &uv, &[]));
    assert_eq!(
        (r["added"].as_u64(), r["failed"].as_u64()),
        (Some(3), Some(0)),
        "every platform when none is chosen: {r}"
    );

    env.init("c");
    let before = snapshot(&env.path("c"));
    let req = dir.join("requirements.txt");
    let run = |text: &str| {
        std::fs::write(&req, text).unwrap();
        let out = mirror(&env, "c", &up.index, &req, &[]);
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
    let e = run(&format!(
        "demo-core==1.0.0 --hash=sha256:{}\n",
        "0".repeat(64)
    ));
    assert!(
        e.starts_with("hash mismatch for demo-core==1.0.0: no file upstream"),
        "{e}"
    );
    let e = run("no-such-project==1.0\n");
    assert!(e.contains("no-such-project does not exist upstream"), "{e}");
    let e = run("demo-core==9.9.9\n");
    assert!(
        e.contains("demo-core==9.9.9 does not exist upstream"),
        "{e}"
    );
    let e = run("demo-core>=1.0\n");
    assert!(
        e.contains("requirements.txt:1: demo-core>=1.0 is not pinned to one version"),
        "{e}"
    );

    std::fs::write(&req, "demo-core==1.0.0 --hash=sha256:zz\n").unwrap();
    let out = mirror(&env, "c", &up.index, &req, &[]);
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(dir.join("uv.lock"), "[[package]\n").unwrap();
    let out = mirror(&env, "c", &up.index, &dir.join("uv.lock"), &[]);
    common::fails_with(&out, "is not a uv.lock file");
    assert_eq!(snapshot(&env.path("c")), before);
}

/// A PEP 691 index that offers core metadata files (PEP 658): the sdist's is fetched,
/// checked and served by the far side; a wrong hash or a wheel whose offered metadata is
/// not the METADATA inside it is an error that leaves the bundle as it was.
#[test]
fn core_metadata_files_from_the_index_are_checked_and_kept() {
    use common::upstream::{Route, Upstream as Static};
    let env = Env::new();
    let dir = env.path("dists");
    let sd = sdist(&dir, "demo_core", "1.0.0");
    let whl = wheel_tagged(&dir, "demo_core", "1.0.0", "py3-none-any", &[]);
    let sd_meta: &[u8] =
        b"Metadata-Version: 2.2\nName: demo_core\nVersion: 1.0.0\nRequires-Dist: six\n\n";
    let hex = |b: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    };
    let page = |sd_meta_hash: &str, whl_meta_hash: &str| {
        serde_json::json!({
            "meta": {"api-version": "1.1"},
            "name": "demo-core",
            "files": [
                {"filename": "demo_core-1.0.0.tar.gz", "url": "/files/demo_core-1.0.0.tar.gz",
                 "hashes": {"sha256": sha256(&sd)}, "core-metadata": {"sha256": sd_meta_hash}},
                {"filename": "demo_core-1.0.0-py3-none-any.whl",
                 "url": "/files/demo_core-1.0.0-py3-none-any.whl",
                 "hashes": {"sha256": sha256(&whl)}, "core-metadata": {"sha256": whl_meta_hash}},
            ]
        })
        .to_string()
        .into_bytes()
    };
    let route = |body: Vec<u8>| Route {
        body,
        ..Default::default()
    };
    let wrong_whl_meta: &[u8] = b"Metadata-Version: 2.1\nName: demo_core\nVersion: 1.0.0\n\n";
    let files = |page: Vec<u8>| {
        vec![
            ("/simple/demo-core/", route(page)),
            (
                "/files/demo_core-1.0.0.tar.gz",
                route(std::fs::read(&sd).unwrap()),
            ),
            (
                "/files/demo_core-1.0.0.tar.gz.metadata",
                route(sd_meta.to_vec()),
            ),
            (
                "/files/demo_core-1.0.0-py3-none-any.whl",
                route(std::fs::read(&whl).unwrap()),
            ),
            (
                "/files/demo_core-1.0.0-py3-none-any.whl.metadata",
                route(wrong_whl_meta.to_vec()),
            ),
        ]
    };
    let req = env.path("requirements.txt");
    env.init("c");
    let before = snapshot(&env.path("c"));
    let failing = |up: &Static, req_text: &str| {
        std::fs::write(&req, req_text).unwrap();
        let out = mirror(&env, "c", &format!("{}/simple/", up.url), &req, &[]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(snapshot(&env.path("c")), before);
        common::first_error(&json(&out))
    };

    // the offered sdist metadata does not match the hash on the page
    let up = Static::start(files(page(&"0".repeat(64), &hex(wrong_whl_meta))));
    let e = failing(
        &up,
        &format!("demo-core==1.0.0 --hash=sha256:{}\n", sha256(&sd)),
    );
    assert!(
        e.starts_with(
            "hash mismatch for demo_core-1.0.0.tar.gz.metadata: the index says sha256:0000"
        ),
        "{e}"
    );
    // the wheel's offered metadata is not what the wheel holds
    let up = Static::start(files(page(&hex(sd_meta), &hex(wrong_whl_meta))));
    let e = failing(
        &up,
        &format!("demo-core==1.0.0 --hash=sha256:{}\n", sha256(&whl)),
    );
    assert!(
        e.starts_with("demo_core-1.0.0-py3-none-any.whl.metadata: ")
            && e.contains("is not the METADATA inside the wheel"),
        "{e}"
    );
    assert_eq!(
        up.hits("/files/demo_core-1.0.0-py3-none-any.whl.metadata"),
        1
    );

    // the sdist with its metadata: fetched once, kept, and served on the far side
    std::fs::write(
        &req,
        format!("demo-core==1.0.0 --hash=sha256:{}\n", sha256(&sd)),
    )
    .unwrap();
    let out = mirror(&env, "c", &format!("{}/simple/", up.url), &req, &[]);
    assert_eq!(common::ok_json(&out)["added"], 1);
    assert_eq!(up.hits("/files/demo_core-1.0.0.tar.gz.metadata"), 1);
    drop(up);
    env.carry("c", "d");
    let far = Server::start(env.dir.path(), &env.path("d"), &[]);
    let page = common::server::curl(
        "GET",
        &format!("{}/simple/demo-core/", far.url),
        &["Accept: application/vnd.pypi.simple.v1+json"],
        None,
    )
    .json();
    let f = &page["files"][0];
    assert_eq!(f["filename"], "demo_core-1.0.0.tar.gz", "{page}");
    assert_eq!(f["core-metadata"]["sha256"], hex(sd_meta), "{page}");
    let url = reqwest::Url::parse(&format!("{}/simple/demo-core/", far.url))
        .unwrap()
        .join(f["url"].as_str().unwrap())
        .unwrap();
    let served = common::server::curl("GET", &format!("{url}.metadata"), &[], None);
    assert_eq!(served.status, 200);
    assert_eq!(served.body, sd_meta);
}
