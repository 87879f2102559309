//! All seven ecosystems in one `nora mirror --config mirror.toml` from a second `nora serve`
//! holding the samples: every artifact mirrored, carried across the gap, verified, and the
//! far side listing exactly what side A holds; a second run fetches nothing.

mod common;

use common::server::Server;
use common::{json, Env};
use sha2::Digest;
use std::path::Path;

fn sha256(p: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

/// The one record of `ecosystem` in a bundle, read from its file.
fn record(bundle: &Path, ecosystem: &str) -> serde_json::Value {
    let file = walkdir::WalkDir::new(bundle.join("refs").join(ecosystem))
        .into_iter()
        .flatten()
        .find(|e| e.file_type().is_file())
        .unwrap();
    serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap()
}

fn listing(env: &Env, bundle: &str) -> Vec<String> {
    let out = env.nora(bundle, &["--json", "ls"]).output().unwrap();
    let mut keys: Vec<String> = json(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    keys
}

#[test]
fn all_seven_ecosystems_from_one_mirror_toml_across_the_gap() {
    let env = Env::new();
    env.init("up");
    let s = env.samples();
    env.add_all("up", &s);
    let up = Server::start(env.dir.path(), &env.path("up"), &[]);
    let packument = |name: &str| {
        common::server::curl(
            "GET",
            &format!("{}/npm/{}", up.url, name.replace('/', "%2f")),
            &[],
            None,
        )
        .json()
    };
    let (left, util) = (packument("left-pad"), packument("@acme/util"));
    let go = record(&env.path("up"), "go");

    let dir = env.path("project");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("package-lock.json"),
        serde_json::json!({
            "name": "app", "lockfileVersion": 3, "requires": true,
            "packages": {
                "": {"name": "app"},
                "node_modules/left-pad": {"version": "1.3.0", "integrity": left["versions"]["1.3.0"]["dist"]["integrity"]},
                "node_modules/@acme/util": {"version": "2.0.0", "integrity": util["versions"]["2.0.0"]["dist"]["integrity"]},
            }
        })
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("requirements.txt"),
        format!(
            "sample-pkg==1.0.0 --hash=sha256:{} --hash=sha256:{}\n",
            sha256(&s.wheel),
            sha256(&s.sdist)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("Cargo.lock"),
        format!(
            "version = 4\n\n[[package]]\nname = \"sample-crate\"\nversion = \"0.1.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"\n",
            sha256(&s.crate_file)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("go.sum"),
        format!(
            "example.com/Sample/mod v1.2.3 {}\nexample.com/Sample/mod v1.2.3/go.mod {}\n",
            go["h1"].as_str().unwrap(),
            go["mod_h1"].as_str().unwrap()
        ),
    )
    .unwrap();
    let toml = format!(
        r#"jobs = 4

[npm]
registry = "{u}/npm/"
lockfiles = ["package-lock.json"]

[pypi]
index = "{u}/simple/"
lockfiles = ["requirements.txt"]

[cargo]
index = "sparse+{u}/cargo/index/"
lockfiles = ["Cargo.lock"]

[go]
proxy = "{u}/go"
sums = ["go.sum"]

[maven]
repository = "{u}/maven2"
artifacts = ["com.example:app:1.0"]

[oci]
images = ["{h}/library/hello:1.0", "{h}/library/sample:1.0"]

[[raw]]
url = "{u}/raw/tools/tool.sh"
sha256 = "{raw}"
path = "tools/tool.sh"
"#,
        u = up.url,
        h = up.host,
        raw = sha256(&s.raw)
    );
    std::fs::write(dir.join("mirror.toml"), toml).unwrap();

    env.init("a");
    let run = || {
        let out = env
            .nora(
                "a",
                &[
                    "--json",
                    "mirror",
                    "--config",
                    dir.join("mirror.toml").to_str().unwrap(),
                ],
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        json(&out)
    };
    let r = run();
    let mut ecosystems: Vec<&str> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ecosystem"].as_str().unwrap())
        .collect();
    ecosystems.dedup();
    ecosystems.sort();
    assert_eq!(
        ecosystems,
        ["cargo", "go", "maven", "npm", "oci", "pypi", "raw"],
        "{r}"
    );
    assert_eq!(r["failed"].as_u64(), Some(0), "{r}");
    // npm 2, PyPI 2, Cargo 1, Go 1, Maven pom + jar, OCI 2, raw 1
    assert_eq!(r["added"].as_u64(), Some(11), "{r}");
    let again = run();
    assert_eq!(
        (
            again["added"].as_u64(),
            again["skipped"].as_u64(),
            again["bytes"].as_u64()
        ),
        (Some(0), Some(11), Some(0)),
        "{again}"
    );
    drop(up);

    // side A holds what the upstream holds, and so does B after the crossing
    assert_eq!(listing(&env, "a"), listing(&env, "up"));
    env.carry("a", "b");
    assert_eq!(listing(&env, "b"), listing(&env, "a"));

    // second round: a newer package-lock on A; what B lacks crosses as a small delta
    let newer = env.path("left-pad-1.3.1.tgz");
    common::fixtures::npm_tgz(&newer, "left-pad", "1.3.1");
    env.nora("up", &["add", "npm", newer.to_str().unwrap()])
        .assert()
        .success();
    let up = Server::start(env.dir.path(), &env.path("up"), &[]);
    let left = common::server::curl("GET", &format!("{}/npm/left-pad", up.url), &[], None).json();
    let lock_path = dir.join("package-lock.json");
    let mut lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&lock_path).unwrap()).unwrap();
    lock["packages"]["node_modules/left-pad"] = serde_json::json!({"version": "1.3.1", "integrity": left["versions"]["1.3.1"]["dist"]["integrity"]});
    std::fs::write(&lock_path, lock.to_string()).unwrap();
    let toml = std::fs::read_to_string(dir.join("mirror.toml")).unwrap();
    let old_url = toml
        .split("registry = \"")
        .nth(1)
        .unwrap()
        .split("/npm/")
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        dir.join("mirror.toml"),
        toml.replace(&old_url, &up.url)
            .replace(&old_url.replace("http://", ""), &up.host),
    )
    .unwrap();
    let r = run();
    assert_eq!(
        (r["added"].as_u64(), r["skipped"].as_u64()),
        (Some(1), Some(10)),
        "{r}"
    );
    drop(up);
    // `latest` moved on side A: the far side's operator decides (here: take A's)
    let delta = env.carry_delta_with("a", "b", &["--on-conflict", "replace"]);
    // the new version and its tarball, and `latest` moved to it
    assert_eq!(
        (delta["refs"].as_u64(), delta["blobs"].as_u64()),
        (Some(2), Some(1)),
        "{delta}"
    );
    assert_eq!(listing(&env, "b"), listing(&env, "a"));
}
