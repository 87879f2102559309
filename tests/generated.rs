//! The committed completions/ and man/ must equal what the binary generates now.
//! Regenerate with: `cargo run -- completions --dir completions && cargo run -- man man`.

use assert_cmd::Command;
use std::path::Path;

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn check(kind: &str, args: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    Command::cargo_bin("nora")
        .unwrap()
        .args(args)
        .arg(tmp.path())
        .assert()
        .success();
    let fresh = files(tmp.path());
    let committed = files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(kind));
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&committed),
        names(&fresh),
        "{kind}/ holds other files than nora generates; regenerate it"
    );
    for ((name, a), (_, b)) in committed.iter().zip(fresh.iter()) {
        assert!(a == b, "{kind}/{name} is stale; regenerate with `cargo run -- completions --dir completions && cargo run -- man man`");
    }
    assert!(!fresh.is_empty());
}

#[test]
fn completions_are_current() {
    check("completions", &["completions", "--dir"]);
}

#[test]
fn man_pages_are_current() {
    check("man", &["man"]);
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/nora-unpack.1"))
            .unwrap();
    assert!(
        page.contains("any order"),
        "man page misses the verb's long help"
    );
}
