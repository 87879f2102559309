//! Every bad input the issue names: a clear message, and the target bundle unchanged.

mod common;

use common::{snapshot, Env};
use predicates::str::contains;
use std::io::Read;
use std::path::Path;

/// A pack of two raw files (`a.txt`, `b.txt`) cut from bundle "src".
fn packed(env: &Env, split: Option<&str>) -> Vec<String> {
    env.init("src");
    std::fs::write(env.path("a.txt"), "alpha\n").unwrap();
    std::fs::write(
        env.path("b.bin"),
        (0..2_500_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    env.nora("src", &["add", "raw", "a.txt", "b.bin"])
        .assert()
        .success();
    let mut args = vec!["--json", "pack", "-o", "p.tar.zst"];
    if let Some(s) = split {
        args.extend(["--split", s]);
    }
    let out = env.nora("src", &args).output().unwrap();
    assert!(out.status.success());
    common::json(&out)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

type Entries = Vec<(tar::Header, Vec<u8>)>;

fn read_entries(path: &Path) -> Entries {
    let d = zstd::stream::read::Decoder::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut ar = tar::Archive::new(d);
    let mut v = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        let mut h = e.header().clone();
        // keep the real (possibly long) name in the header for rewriting
        let name = e.path_bytes().into_owned();
        if name.len() < 100 {
            set_name(&mut h, &name);
        }
        v.push((h, data));
    }
    v
}

fn set_name(h: &mut tar::Header, name: &[u8]) {
    let n = &mut h.as_old_mut().name;
    n.fill(0);
    n[..name.len()].copy_from_slice(name);
    h.set_cksum();
}

fn write_entries(path: &Path, entries: &Entries) {
    let f = std::fs::File::create(path).unwrap();
    let mut t = tar::Builder::new(
        zstd::stream::write::Encoder::new(f, 3)
            .unwrap()
            .auto_finish(),
    );
    for (h, data) in entries {
        t.append(h, &data[..]).unwrap();
    }
    t.into_inner().unwrap();
}

fn tampered(env: &Env, file: &str, out: &str, f: impl FnOnce(&mut Entries)) -> String {
    let mut e = read_entries(&env.path(file));
    f(&mut e);
    write_entries(&env.path(out), &e);
    out.to_string()
}

fn entry(name: &[u8], kind: tar::EntryType, data: &[u8]) -> (tar::Header, Vec<u8>) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    if kind == tar::EntryType::Symlink || kind == tar::EntryType::Link {
        h.set_link_name("/etc/passwd").unwrap();
        h.set_size(0);
    }
    set_name(&mut h, name);
    (
        h,
        if kind == tar::EntryType::Regular {
            data.to_vec()
        } else {
            Vec::new()
        },
    )
}

/// Unpacks into a fresh bundle "dst" and checks the failure message and an unchanged bundle.
fn refused(env: &Env, files: &[&str], message: &str) {
    if !env.path("dst").exists() {
        env.init("dst");
    }
    let before = snapshot(&env.path("dst"));
    let mut args = vec!["unpack"];
    args.extend(files);
    env.nora("dst", &args)
        .assert()
        .failure()
        .stderr(contains(message));
    assert_eq!(
        before,
        snapshot(&env.path("dst")),
        "the bundle changed after a refused unpack ({message})"
    );
    assert!(
        std::fs::read_dir(env.path("dst/tmp"))
            .unwrap()
            .next()
            .is_none(),
        "temp files left behind"
    );
}

#[test]
fn tar_entries_that_escape_are_refused() {
    let env = Env::new();
    packed(&env, None);
    for (i, name) in [&b"../evil"[..], b"/etc/evil", b"blobs/../../evil"]
        .iter()
        .enumerate()
    {
        let out = tampered(&env, "p.tar.zst", &format!("t{i}.tar.zst"), |e| {
            e.insert(1, entry(name, tar::EntryType::Regular, b"x"))
        });
        refused(&env, &[&out], "escapes the bundle");
    }
    assert!(!env.dir.path().join("evil").exists());
}

#[test]
fn links_and_devices_are_refused() {
    let env = Env::new();
    packed(&env, None);
    for (kind, what) in [
        (tar::EntryType::Symlink, "is a symlink"),
        (tar::EntryType::Link, "is a hardlink"),
        (tar::EntryType::Char, "is a character device"),
        (tar::EntryType::Block, "is a block device"),
    ] {
        let out = tampered(&env, "p.tar.zst", "t.tar.zst", |e| {
            e.insert(1, entry(b"blobs/sha256/x", kind, b""))
        });
        refused(&env, &[&out], what);
    }
}

#[test]
fn unlisted_duplicate_and_oversized_entries_are_refused() {
    let env = Env::new();
    packed(&env, None);
    let out = tampered(&env, "p.tar.zst", "u.tar.zst", |e| {
        e.insert(
            1,
            entry(b"blobs/sha256/extra", tar::EntryType::Regular, b"x"),
        )
    });
    refused(&env, &[&out], "is not the next entry the manifest lists");
    let out = tampered(&env, "p.tar.zst", "d.tar.zst", |e| {
        let dup = e[1].clone();
        e.insert(2, dup);
    });
    refused(&env, &[&out], "is not the next entry the manifest lists");
    let out = tampered(&env, "p.tar.zst", "o.tar.zst", |e| {
        let (h, data) = &mut e[1];
        data.extend_from_slice(b"more");
        h.set_size(data.len() as u64);
        h.set_cksum();
    });
    refused(&env, &[&out], "the manifest says");
    let out = tampered(&env, "p.tar.zst", "x.tar.zst", |e| {
        e.push(entry(b"trailing", tar::EntryType::Regular, b"x"))
    });
    refused(&env, &[&out], "not listed in the volume manifest");
}

#[test]
fn a_blob_that_does_not_match_its_digest_is_refused() {
    let env = Env::new();
    packed(&env, None);
    let out = tampered(&env, "p.tar.zst", "t.tar.zst", |e| {
        let i = e
            .iter()
            .position(|(h, _)| h.path_bytes().starts_with(b"blobs/"))
            .unwrap();
        e[i].1[0] ^= 0xff;
    });
    refused(&env, &[&out], "does not match its digest");
    // the volume checked on its own, without a bundle, finds the same
    env.nora("none", &["verify", "--pack", &out])
        .assert()
        .failure()
        .stderr(contains("does not match its digest"));
    env.nora("none", &["verify", "--pack", "p.tar.zst"])
        .assert()
        .success()
        .stdout(contains("verified"));
}

#[test]
fn truncated_missing_and_foreign_volumes() {
    let env = Env::new();
    let files = packed(&env, Some("1M"));
    assert!(files.len() >= 3, "{files:?}");
    // truncated: cut in the middle
    let bytes = std::fs::read(env.path(&files[1])).unwrap();
    std::fs::write(env.path("cut.tar.zst"), &bytes[..bytes.len() / 2]).unwrap();
    refused(&env, &["cut.tar.zst"], "truncated");
    // truncated at the very end: the zstd frame's end and checksum are missing
    std::fs::write(env.path("cut2.tar.zst"), &bytes[..bytes.len() - 3]).unwrap();
    refused(&env, &["cut2.tar.zst"], "truncated");
    // missing: all but one volume; no ref lands, exit 4 names the missing one
    env.init("miss");
    let refs_before: Vec<_> = snapshot(&env.path("miss"))
        .into_iter()
        .filter(|(k, _)| k.starts_with("refs/"))
        .collect();
    let mut args = vec!["unpack"];
    let given: Vec<&str> = files
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, f)| f.as_str())
        .collect();
    args.extend(given);
    env.nora("miss", &args)
        .assert()
        .code(4)
        .stderr(contains("waiting for volume(s) 2 of"));
    let refs_after: Vec<_> = snapshot(&env.path("miss"))
        .into_iter()
        .filter(|(k, _)| k.starts_with("refs/"))
        .collect();
    assert_eq!(refs_before, refs_after);
    env.nora("miss", &["verify"]).assert().success();
    // a volume of another pack: cut a second pack from a changed bundle
    std::fs::write(env.path("c.txt"), "gamma\n").unwrap();
    env.nora("src", &["add", "raw", "c.txt"]).assert().success();
    let out = env
        .nora(
            "src",
            &["--json", "pack", "-o", "q.tar.zst", "--split", "1M"],
        )
        .output()
        .unwrap();
    let q: Vec<String> = common::json(&out)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    refused(&env, &[&files[0], &q[1]], "belongs to pack");
    // the last volume's entries (which carry the refs) swapped for the other pack's: refused
    let other = read_entries(&env.path(q.last().unwrap()));
    let out = tampered(&env, files.last().unwrap(), "mix.tar.zst", |e| {
        e.truncate(1);
        e.extend(other.into_iter().skip(1));
    });
    refused(&env, &[&out], "is not the next entry");
}

#[test]
fn a_pack_of_a_newer_format_is_refused() {
    let env = Env::new();
    packed(&env, None);
    let out = tampered(&env, "p.tar.zst", "n.tar.zst", |e| {
        let mut m: serde_json::Value = serde_json::from_slice(&e[0].1).unwrap();
        m["nora_pack"] = 2.into();
        e[0].1 = serde_json::to_vec(&m).unwrap();
        let n = e[0].1.len() as u64;
        e[0].0.set_size(n);
        e[0].0.set_cksum();
    });
    refused(&env, &[&out], "newer than this nora reads");
    let out = tampered(&env, "p.tar.zst", "m.tar.zst", |e| {
        let mut m: serde_json::Value = serde_json::from_slice(&e[0].1).unwrap();
        m["entries"][0]["size"] = 1.into();
        e[0].1 = serde_json::to_vec(&m).unwrap();
        let n = e[0].1.len() as u64;
        e[0].0.set_size(n);
        e[0].0.set_cksum();
    });
    refused(&env, &[&out], "do not match the pack's volume table");
    std::fs::write(env.path("junk.tar.zst"), "not a pack at all").unwrap();
    refused(&env, &["junk.tar.zst"], "not a nora pack");
}

#[test]
fn a_directory_that_is_not_a_bundle_is_refused() {
    let env = Env::new();
    packed(&env, None);
    std::fs::create_dir_all(env.path("plain")).unwrap();
    std::fs::write(env.path("plain/file"), "x").unwrap();
    let before = snapshot(&env.path("plain"));
    for args in [
        vec!["unpack", "p.tar.zst"],
        vec!["ls"],
        vec!["verify"],
        vec!["gc"],
        vec!["add", "raw", "a.txt"],
    ] {
        env.nora("plain", &args)
            .assert()
            .failure()
            .stderr(contains("is not a nora bundle"));
    }
    env.nora("plain", &["init"])
        .assert()
        .failure()
        .stderr(contains("not empty"));
    assert_eq!(before, snapshot(&env.path("plain")));
}

#[test]
fn two_unpacks_at_once_are_refused() {
    let env = Env::new();
    packed(&env, None);
    env.init("dst");
    // another unpack holds the bundle's unpack lock
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(env.path("dst/unpack.lock"))
        .unwrap();
    held.lock().unwrap();
    let before = snapshot(&env.path("dst"));
    env.nora("dst", &["unpack", "p.tar.zst"])
        .assert()
        .code(6)
        .stderr(contains("another nora unpack or restore is running"));
    assert_eq!(before, snapshot(&env.path("dst")));
    drop(held);
    env.nora("dst", &["unpack", "p.tar.zst"]).assert().success();
}

#[test]
fn artifacts_that_are_not_what_their_ecosystem_says() {
    let env = Env::new();
    env.init("b");
    let before = snapshot(&env.path("b"));
    // a tgz without package.json
    {
        let f = std::fs::File::create(env.path("nopkg.tgz")).unwrap();
        let mut t = tar::Builder::new(flate2::write::GzEncoder::new(
            f,
            flate2::Compression::default(),
        ));
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        t.append_data(&mut h, "package/index.js", &b"x;\n"[..])
            .unwrap();
        t.into_inner().unwrap().finish().unwrap();
    }
    env.nora("b", &["add", "npm", "nopkg.tgz"])
        .assert()
        .failure()
        .stderr(contains("nopkg.tgz"))
        .stderr(contains("package.json"));
    // a wheel with a bad name
    let w = common::fixtures::wheel(env.dir.path(), "good", "1.0");
    std::fs::rename(&w, env.path("not-a-valid-wheel.whl")).unwrap();
    env.nora("b", &["add", "pypi", "not-a-valid-wheel.whl"])
        .assert()
        .failure()
        .stderr(contains("wheel"));
    // a crate that is a text file, a go zip that is not a zip, a pom without coordinates
    std::fs::write(env.path("x.crate"), "hello").unwrap();
    env.nora("b", &["add", "cargo", "x.crate"])
        .assert()
        .failure()
        .stderr(contains("x.crate"));
    std::fs::write(env.path("v1.0.0.zip"), "hello").unwrap();
    env.nora("b", &["add", "go", "v1.0.0.zip"])
        .assert()
        .failure()
        .stderr(contains("v1.0.0.zip"));
    std::fs::write(env.path("blob.dat"), "hello").unwrap();
    env.nora("b", &["add", "maven", "blob.dat"])
        .assert()
        .failure()
        .stderr(contains("--gav"));
    env.nora("b", &["add", "raw", "--path", "../up", "blob.dat"])
        .assert()
        .failure()
        .stderr(contains("../up"));
    env.nora("b", &["add", "oci", "blob.dat"])
        .assert()
        .failure();
    assert_eq!(before, snapshot(&env.path("b")));
}

#[test]
fn a_reader_that_goes_away_ends_output_quietly() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let env = Env::new();
    env.init("b");
    let s = env.samples();
    env.add_all("b", &s);
    // a pipe whose reading end is already closed: the first write fails with EPIPE
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe { libc::close(fds[0]) };
    let write_end = unsafe { OwnedFd::from_raw_fd(fds[1]) };
    for args in [vec!["ls"], vec!["--json", "ls"]] {
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("nora"))
            .arg("--bundle")
            .arg(env.path("b"))
            .args(&args)
            .stdout(std::process::Stdio::from(write_end.try_clone().unwrap()))
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(141), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
