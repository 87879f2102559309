//! The offline cycle through the real binary: add every ecosystem, ls, pack, unpack into a
//! fresh bundle, verify; determinism, split volumes in any order, deltas, receipts, signing.

mod common;

use common::{json, snapshot, Env};
use predicates::str::contains;

fn ls(env: &Env, bundle: &str) -> Vec<String> {
    let out = env.nora(bundle, &["--json", "ls"]).output().unwrap();
    assert!(out.status.success());
    json(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn all_seven_ecosystems_cross_the_gap() {
    let env = Env::new();
    env.init("a");
    let s = env.samples();
    env.add_all("a", &s);
    let keys = ls(&env, "a");
    for eco in ["oci/", "npm/", "pypi/", "cargo/", "go/", "maven/", "raw/"] {
        assert!(
            keys.iter().any(|k| k.starts_with(eco)),
            "no {eco} ref in {keys:?}"
        );
    }
    for key in [
        "npm/@acme/util/_versions/2.0.0",
        "oci/library/sample/_tags/1.0",
        "oci/library/hello/_tags/1.0",
        "go/example.com/Sample/mod/@v/v1.2.3",
    ] {
        assert!(keys.iter().any(|k| k == key), "no {key} in {keys:?}");
    }
    env.nora("a", &["verify"])
        .assert()
        .success()
        .stdout(contains("ok"));

    env.nora("a", &["pack", "-o", "full.tar.zst"])
        .assert()
        .success();
    env.init("b");
    env.nora("b", &["unpack", "full.tar.zst"])
        .assert()
        .success()
        .stdout(contains("complete"));
    assert_eq!(ls(&env, "b"), keys);
    env.nora("b", &["verify"]).assert().success();
    // the refs and blobs are byte-identical on both sides
    let (sa, sb) = (snapshot(&env.path("a")), snapshot(&env.path("b")));
    let pick = |m: &std::collections::BTreeMap<String, String>| {
        m.iter()
            .filter(|(k, _)| k.starts_with("blobs/") || k.starts_with("refs/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(pick(&sa), pick(&sb));
    // the root index.json makes the bundle an OCI image layout that OCI tools read directly
    let index = std::fs::read_to_string(env.path("b/index.json")).unwrap();
    assert!(
        index.contains("\"library/sample:1.0\"") && index.contains("\"library/hello:1.0\""),
        "{index}"
    );
    if which("skopeo") {
        let src = format!("oci:{}:library/sample:1.0", env.path("b").display());
        let out = std::process::Command::new("skopeo")
            .args(["inspect", "--raw", &src])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout)
            .contains("application/vnd.oci.image.index.v1+json"));
        let dest = format!("oci:{}:copy", env.path("copied").display());
        let st = std::process::Command::new("skopeo")
            .args(["copy", "--all", &src, &dest])
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&st.stderr)
        );
    } else if std::env::var("CI").is_ok() {
        panic!("skopeo is not installed; .ci/test installs it");
    } else {
        eprintln!("SKIPPED: skopeo not installed, OCI layout read-back not checked");
    }
}

#[test]
fn same_bundle_same_options_same_bytes() {
    let env = Env::new();
    env.init("a");
    let s = env.samples();
    env.add_all("a", &s);
    for (name, extra) in [("z", vec![]), ("g", vec!["--gzip"])] {
        let one = format!("{name}1.tar");
        let two = format!("{name}2.tar");
        let mut a1 = vec!["pack", "-o", &one];
        a1.extend(extra.iter().copied());
        let mut a2 = vec!["pack", "-o", &two];
        a2.extend(extra.iter().copied());
        env.nora("a", &a1).assert().success();
        env.nora("a", &a2).assert().success();
        let (x, y) = (
            std::fs::read(env.path(&one)).unwrap(),
            std::fs::read(env.path(&two)).unwrap(),
        );
        assert!(x.len() > 1000);
        assert_eq!(x, y, "{name}: packs differ");
    }
}

#[test]
fn split_volumes_unpack_in_any_order_over_several_runs() {
    let env = Env::new();
    env.init("a");
    std::fs::write(
        env.path("big.bin"),
        (0..3_500_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    std::fs::write(env.path("small.txt"), "small\n").unwrap();
    env.nora("a", &["add", "raw", "big.bin", "small.txt"])
        .assert()
        .success();
    let out = env
        .nora("a", &["--json", "pack", "-o", "v.tar.zst", "--split", "1M"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<String> = json(&out)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert!(files.len() >= 4, "{files:?}");
    for f in &files {
        assert!(
            std::fs::metadata(env.path(f)).unwrap().len() < 1024 * 1024,
            "{f} is not below 1 MiB"
        );
        env.nora("x", &["verify", "--pack", f]).assert().success();
    }
    env.init("b");
    let before = snapshot(&env.path("b"));
    // last volume first, then the rest backwards, one run each
    let n = files.len();
    for (i, f) in files.iter().rev().enumerate() {
        let a = env.nora("b", &["unpack", f]).assert();
        if i + 1 < n {
            a.code(4).stderr(contains("waiting for volume"));
            assert!(
                ls(&env, "b").is_empty(),
                "refs must land only when the pack is complete"
            );
        } else {
            a.success().stdout(contains("complete"));
        }
        if i == 0 {
            assert_ne!(before, snapshot(&env.path("b")));
        }
    }
    assert_eq!(ls(&env, "b"), vec!["raw/big.bin", "raw/small.txt"]);
    env.nora("b", &["verify"]).assert().success();
    assert_eq!(std::fs::read(env.path("big.bin")).unwrap(), {
        let out = env
            .nora("b", &["--json", "ls", "raw", "big.bin"])
            .output()
            .unwrap();
        let key = json(&out)[0]["key"].as_str().unwrap().to_string();
        assert_eq!(key, "raw/big.bin");
        let rec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(env.path("b/refs/raw/big.bin.json")).unwrap())
                .unwrap();
        let d = rec["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
            .to_string();
        std::fs::read(env.path(&format!("b/blobs/sha256/{d}"))).unwrap()
    });
    // unpacking a finished pack again is a no-op
    env.nora("b", &["unpack", &files[0]])
        .assert()
        .success()
        .stdout(contains("already"));
}

#[test]
fn delta_against_a_receipt_carries_only_what_is_new() {
    let env = Env::new();
    env.init("a");
    let s = env.samples();
    env.add_all("a", &s);
    env.nora("a", &["pack", "-o", "full.tar.zst"])
        .assert()
        .success();
    env.init("b");
    env.nora("b", &["unpack", "full.tar.zst"])
        .assert()
        .success();
    env.nora("b", &["receipt", "-o", "receipt.json"])
        .assert()
        .success();
    // new on side A: one npm version, and a raw path naming content side B already holds
    common::fixtures::npm_tgz(&env.path("lp.tgz"), "left-pad", "1.3.1");
    env.nora("a", &["add", "npm", "lp.tgz"]).assert().success();
    let tool = s.raw.to_str().unwrap().to_string();
    env.nora("a", &["add", "raw", "--path", "tools/copy.sh", &tool])
        .assert()
        .success();
    let out = env
        .nora(
            "a",
            &[
                "--json",
                "pack",
                "--since",
                "receipt.json",
                "-o",
                "delta.tar.zst",
            ],
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = json(&out);
    // the new version, the moved latest dist-tag and the new raw path; one new blob
    assert_eq!(r["refs"], 3, "{r}");
    assert_eq!(r["blobs"], 1, "{r}");
    assert_eq!(r["requires"], 1, "{r}");
    let full = std::fs::metadata(env.path("full.tar.zst")).unwrap().len();
    let delta = std::fs::metadata(env.path("delta.tar.zst")).unwrap().len();
    assert!(delta * 3 < full, "delta {delta} vs full {full}");
    // a bundle that lacks the base refuses the delta, naming what is missing
    env.init("c");
    common::fixtures::npm_tgz(&env.path("other.tgz"), "other", "1.0.0");
    let before = snapshot(&env.path("c"));
    env.nora("c", &["unpack", "delta.tar.zst"])
        .assert()
        .failure()
        .stderr(contains("lacks"))
        .stderr(contains("receipt"));
    assert_eq!(before, snapshot(&env.path("c")));
    // the side that sent the receipt takes it; the moved tag is a conflict settled by --yes
    env.nora("b", &["unpack", "delta.tar.zst"])
        .assert()
        .code(5)
        .stderr(contains("npm/left-pad/_tags/latest"));
    env.nora("b", &["unpack", "--yes", "delta.tar.zst"])
        .assert()
        .success();
    assert!(ls(&env, "b").contains(&"npm/left-pad/_versions/1.3.1".to_string()));
    env.nora("b", &["verify"]).assert().success();
    let tag = std::fs::read_to_string(env.path("b/refs/npm/left-pad/_tags/latest.json")).unwrap();
    assert!(tag.contains("1.3.1"), "{tag}");
    let journal = std::fs::read_to_string(env.path("b/journal/refs.jsonl")).unwrap();
    assert!(journal.contains("npm/left-pad/_tags/latest"), "{journal}");
}

#[test]
fn signed_packs_verify_with_the_public_key_only() {
    let env = Env::new();
    env.init("a");
    std::fs::write(env.path("f.txt"), "x\n").unwrap();
    env.nora("a", &["add", "raw", "f.txt"]).assert().success();
    env.nora("a", &["key", "generate", "-o", "k.key"])
        .assert()
        .success();
    env.nora("a", &["key", "generate", "-o", "other.key"])
        .assert()
        .success();
    env.nora("a", &["pack", "--sign", "k.key", "-o", "s.tar.zst"])
        .assert()
        .success();
    env.nora("a", &["pack", "-o", "u.tar.zst"])
        .assert()
        .success();
    env.nora("a", &["verify", "--pack", "s.tar.zst", "--key", "k.pub"])
        .assert()
        .success()
        .stdout(contains("signature ok"));
    env.nora(
        "a",
        &["verify", "--pack", "s.tar.zst", "--key", "other.pub"],
    )
    .assert()
    .failure()
    .stderr(contains("does not verify"));
    env.init("b");
    let before = snapshot(&env.path("b"));
    env.nora(
        "b",
        &["unpack", "--require-signature", "k.pub", "u.tar.zst"],
    )
    .assert()
    .failure()
    .stderr(contains("not signed"));
    env.nora(
        "b",
        &["unpack", "--require-signature", "other.pub", "s.tar.zst"],
    )
    .assert()
    .failure()
    .stderr(contains("does not verify"));
    assert_eq!(before, snapshot(&env.path("b")));
    env.nora(
        "b",
        &["unpack", "--require-signature", "k.pub", "s.tar.zst"],
    )
    .assert()
    .success();
    // the standard minisign tool accepts the signature of the extracted manifest
    if which("minisign") {
        let dir = env.path("x");
        std::fs::create_dir_all(&dir).unwrap();
        let st = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("cd {} && zstd -dc ../s.tar.zst | tar -x nora-pack.json nora-pack.json.minisig && minisign -V -m nora-pack.json -p ../k.pub", dir.display()))
            .status()
            .unwrap();
        assert!(st.success(), "minisign rejected nora's signature");
    } else if std::env::var("CI").is_ok() {
        panic!("minisign is not installed; .ci/test installs it");
    } else {
        eprintln!("SKIPPED: minisign not installed, standard-tool check not run");
    }
}

fn which(tool: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn gc_frees_only_unreferenced_blobs() {
    let env = Env::new();
    env.init("a");
    std::fs::write(env.path("keep.txt"), "keep\n").unwrap();
    std::fs::write(env.path("drop.txt"), "drop\n").unwrap();
    env.nora("a", &["add", "raw", "keep.txt", "drop.txt"])
        .assert()
        .success();
    std::fs::remove_file(env.path("a/refs/raw/drop.txt.json")).unwrap();
    std::fs::write(env.path("a/tmp/ingest-stale"), "junk").unwrap();
    let out = env
        .nora("a", &["--json", "gc", "--dry-run", "--grace", "0s"])
        .output()
        .unwrap();
    assert_eq!(json(&out)["removed"].as_array().unwrap().len(), 1);
    assert_eq!(
        env.nora("a", &["--json", "ls"]).output().unwrap().stdout,
        env.nora("a", &["--json", "ls"]).output().unwrap().stdout
    );
    assert_eq!(
        snapshot(&env.path("a"))
            .iter()
            .filter(|(k, v)| k.starts_with("blobs/sha256/") && !v.is_empty())
            .count(),
        2
    );
    // young garbage survives the default grace period
    let out = env.nora("a", &["--json", "gc"]).output().unwrap();
    assert_eq!(json(&out)["young"], 1);
    let out = env
        .nora("a", &["--json", "gc", "--grace", "0s"])
        .output()
        .unwrap();
    let r = json(&out);
    assert_eq!(r["removed"].as_array().unwrap().len(), 1);
    assert_eq!(r["tmp_removed"].as_array().unwrap().len(), 1);
    assert!(!env.path("a/tmp/ingest-stale").exists());
    env.nora("a", &["verify"]).assert().success();
    assert_eq!(ls(&env, "a"), vec!["raw/keep.txt"]);
}

#[test]
fn backup_and_restore_without_a_terminal_never_prompts() {
    let env = Env::new();
    env.init("a");
    std::fs::write(env.path("f.txt"), "one\n").unwrap();
    env.nora("a", &["add", "raw", "f.txt"]).assert().success();
    env.nora("a", &["backup", "-o", "b.tar.zst"])
        .assert()
        .success();
    // into a new bundle: no question to ask
    env.nora("fresh", &["restore", "b.tar.zst"])
        .assert()
        .success();
    assert_eq!(ls(&env, "fresh"), vec!["raw/f.txt"]);
    // into a non-empty bundle with a differing ref: refused, nothing changes
    env.init("c");
    std::fs::write(env.path("f.txt"), "two\n").unwrap();
    env.nora("c", &["add", "raw", "f.txt"]).assert().success();
    let before = snapshot(&env.path("c"));
    env.nora("c", &["restore", "b.tar.zst"])
        .write_stdin("")
        .assert()
        .code(5)
        .stderr(contains("--on-conflict"));
    assert_eq!(
        before
            .iter()
            .filter(|(k, _)| k.starts_with("refs/"))
            .collect::<Vec<_>>(),
        snapshot(&env.path("c"))
            .iter()
            .filter(|(k, _)| k.starts_with("refs/"))
            .collect::<Vec<_>>()
    );
    env.nora("c", &["restore", "--on-conflict", "keep", "b.tar.zst"])
        .assert()
        .success()
        .stdout(contains("1 kept"));
    assert!(std::fs::read_to_string(env.path("c/refs/raw/f.txt.json"))
        .unwrap()
        .contains(&sha_hex(b"two\n")));
    // a second restore of the same backup is a no-op; a new backup with --yes replaces
    env.nora("a", &["add", "raw", "--path", "g.txt", "f.txt"])
        .assert()
        .success();
    env.nora("a", &["backup", "-o", "b2.tar.zst"])
        .assert()
        .success();
    env.nora("c", &["restore", "b2.tar.zst"]).assert().code(5);
    env.nora("c", &["restore", "--yes", "b2.tar.zst"])
        .assert()
        .success()
        .stdout(contains("1 replaced"));
    assert!(std::fs::read_to_string(env.path("c/refs/raw/f.txt.json"))
        .unwrap()
        .contains(&sha_hex(b"one\n")));
    // a non-empty bundle without conflicts still needs a decision for restore
    env.init("d");
    std::fs::write(env.path("h.txt"), "h\n").unwrap();
    env.nora("d", &["add", "raw", "h.txt"]).assert().success();
    env.nora("d", &["restore", "b.tar.zst"])
        .assert()
        .failure()
        .stderr(contains("--yes"));
    env.nora("d", &["restore", "--yes", "b.tar.zst"])
        .assert()
        .success();
}

fn sha_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

#[test]
fn dry_run_writes_nothing_and_lists_entries() {
    let env = Env::new();
    env.init("a");
    let s = env.samples();
    env.add_all("a", &s);
    let out = env
        .nora("a", &["--json", "pack", "--dry-run", "-o", "p.tar.zst"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = json(&out);
    assert!(r["bytes"].as_u64().unwrap() > 0);
    assert!(
        r["entries"].as_array().unwrap().len() as u64
            == r["refs"].as_u64().unwrap() + r["blobs"].as_u64().unwrap()
    );
    assert!(!env.path("p.tar.zst").exists());
}
