//! Every bad input the issue names: a clear message, and the target bundle unchanged.

mod common;

use common::{snapshot, Env};
use predicates::prelude::PredicateBooleanExt;
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

/// [`tampered`] on the manifest: `f` changes it, then it is sealed again the way anyone
/// without the signing key can (entry digest, the volume's row, totals, pack id), so only
/// the reader's own checks stand between it and the bundle.
fn resealed(
    env: &Env,
    file: &str,
    out: &str,
    f: impl FnOnce(&mut nora::pack::manifest::VolumeManifest),
) -> String {
    use nora::pack::manifest::{entries_digest, pack_id, VolumeManifest};
    tampered(env, file, out, |e| {
        let mut m = VolumeManifest::parse("volume", &e[0].1).unwrap();
        f(&mut m);
        let v = m.volume;
        let listed: u64 = m.entries.iter().map(|x| x.size).sum();
        let digest = entries_digest(&m.entries);
        let row = m.header.table.iter_mut().find(|r| r.volume == v).unwrap();
        row.entries = m.entries.len() as u64;
        row.bytes = listed;
        row.digest = digest;
        m.header.totals.bytes = m.header.table.iter().map(|r| r.bytes).sum();
        m.pack_id = pack_id(&m.header);
        e[0].1 = m.to_bytes();
        let n = e[0].1.len() as u64;
        e[0].0.set_size(n);
        e[0].0.set_cksum();
    })
}

/// The volume of `files` that carries a part of a blob.
fn volume_with_part(env: &Env, files: &[String]) -> String {
    files
        .iter()
        .find(|f| {
            read_entries(&env.path(f))
                .iter()
                .any(|(h, _)| h.path_bytes().starts_with(b"parts/"))
        })
        .expect("a volume with a part")
        .clone()
}

#[test]
fn parts_whose_numbers_do_not_fit_their_blob_are_refused_before_anything_is_written() {
    let env = Env::new();
    let files = packed(&env, Some("1M"));
    let with_part = volume_with_part(&env, &files);
    let part = |m: &mut nora::pack::manifest::VolumeManifest| {
        m.entries
            .iter_mut()
            .find(|e| e.kind == nora::pack::manifest::EntryKind::Part)
            .unwrap()
            .clone()
    };
    let huge = 16u64 << 40;
    let out = resealed(&env, &with_part, "big-blob.tar.zst", |m| {
        let _ = part(m);
        for e in m.entries.iter_mut().filter(|e| e.blob.is_some()) {
            e.blob_size = Some(huge);
        }
    });
    refused(&env, &[&out], "more than the");
    let out = resealed(&env, &with_part, "offset.tar.zst", |m| {
        for e in m.entries.iter_mut().filter(|e| e.blob.is_some()) {
            e.offset = Some(e.blob_size.unwrap() + 1);
        }
    });
    refused(&env, &[&out], "of a blob of");
    // a pack that says it carries 16 TiB in another volume: the numbers hold together,
    // and the disk is checked before a byte is written
    let out = resealed(&env, &with_part, "sparse.tar.zst", |m| {
        let v = m.volume;
        m.header
            .table
            .iter_mut()
            .find(|r| r.volume != v)
            .unwrap()
            .bytes = huge;
        for e in m.entries.iter_mut().filter(|e| e.blob.is_some()) {
            e.blob_size = Some(huge / 2);
        }
    });
    refused(&env, &[&out], "of free space to unpack into");
    assert!(
        std::fs::read_dir(env.path("dst/staging"))
            .unwrap()
            .next()
            .is_none(),
        "no assembly file was made"
    );
}

#[test]
fn a_blob_declared_larger_than_the_disk_is_refused_before_it_is_written() {
    let env = Env::new();
    packed(&env, None);
    let out = resealed(&env, "p.tar.zst", "huge.tar.zst", |m| {
        let e = m
            .entries
            .iter_mut()
            .find(|e| e.kind == nora::pack::manifest::EntryKind::Blob)
            .unwrap();
        e.size = 100u64 << 40;
    });
    refused(&env, &[&out], "of free space to unpack into");
}

/// The largest resident size of any child this test process waited for, in KiB.
fn children_peak_rss_kib() -> i64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) }, 0);
    u.ru_maxrss
}

#[test]
fn padded_trailing_and_rewritten_manifests_are_refused_early() {
    let env = Env::new();
    packed(&env, None);
    // 200 MiB of whitespace inside the manifest: refused as it streams, in little memory
    // (written as a stream, so this test's own memory stays small too: a child's peak
    // counts what its parent held when it was spawned)
    {
        let entries = read_entries(&env.path("p.tar.zst"));
        let f = std::fs::File::create(env.path("padded.tar.zst")).unwrap();
        let mut t = tar::Builder::new(
            zstd::stream::write::Encoder::new(f, 3)
                .unwrap()
                .auto_finish(),
        );
        for (i, (h, data)) in entries.iter().enumerate() {
            if i == 0 {
                let pad = 200u64 << 20;
                let mut h = h.clone();
                h.set_size(data.len() as u64 + pad);
                h.set_cksum();
                let body = std::io::Read::chain(
                    std::io::Read::chain(&b"{"[..], std::io::repeat(b' ').take(pad)),
                    &data[1..],
                );
                t.append(&h, body).unwrap();
            } else {
                t.append(h, &data[..]).unwrap();
            }
        }
        t.into_inner().unwrap();
    }
    refused(&env, &["padded.tar.zst"], "padded with whitespace");
    let peak = children_peak_rss_kib();
    assert!(peak < 64 << 10, "the refusal took {peak} KiB");
    // the same manifest rewritten compact: valid JSON, not the canonical bytes
    let out = tampered(&env, "p.tar.zst", "compact.tar.zst", |e| {
        let v: serde_json::Value = serde_json::from_slice(&e[0].1).unwrap();
        e[0].1 = serde_json::to_vec(&v).unwrap();
        let n = e[0].1.len() as u64;
        e[0].0.set_size(n);
        e[0].0.set_cksum();
    });
    refused(&env, &[&out], "not in its canonical form");
    // zeros after the end of the tar stream: a little padding is fine, 20 MiB is not
    let entries = read_entries(&env.path("p.tar.zst"));
    let with_tail = |name: &str, zeros: usize| {
        let mut t = tar::Builder::new(Vec::new());
        for (h, data) in &entries {
            t.append(h, &data[..]).unwrap();
        }
        let mut raw = t.into_inner().unwrap();
        raw.extend(std::iter::repeat_n(0u8, zeros));
        std::fs::write(env.path(name), zstd::encode_all(&raw[..], 3).unwrap()).unwrap();
    };
    with_tail("tail.tar.zst", 20 << 20);
    refused(
        &env,
        &["tail.tar.zst"],
        "bytes follow the end of the tar stream",
    );
    with_tail("record.tar.zst", 10240);
    env.nora("dst", &["unpack", "record.tar.zst"])
        .assert()
        .success();
}

#[test]
fn a_signature_is_checked_before_the_manifest_it_signs_is_parsed() {
    let env = Env::new();
    packed(&env, None);
    env.nora("src", &["key", "generate", "-o", "k.key"])
        .assert()
        .success();
    env.nora("src", &["pack", "-o", "s.tar.zst", "--sign", "k.key"])
        .assert()
        .success();
    // a manifest from a newer nora would be refused for its version; unsigned by the key,
    // it is refused for the signature before anything of it is believed
    let out = tampered(&env, "s.tar.zst", "forged.tar.zst", |e| {
        let mut m: serde_json::Value = serde_json::from_slice(&e[0].1).unwrap();
        m["nora_pack"] = 9.into();
        e[0].1 = serde_json::to_vec_pretty(&m).unwrap();
        e[0].1.push(b'\n');
        let n = e[0].1.len() as u64;
        e[0].0.set_size(n);
        e[0].0.set_cksum();
    });
    env.init("dst");
    let before = snapshot(&env.path("dst"));
    env.nora("dst", &["unpack", "--require-signature", "k.pub", &out])
        .assert()
        .failure()
        .stderr(contains("signature"))
        .stderr(contains("newer").not());
    assert_eq!(before, snapshot(&env.path("dst")));
    env.nora(
        "dst",
        &["unpack", "--require-signature", "k.pub", "s.tar.zst"],
    )
    .assert()
    .success();
}

#[test]
fn a_killed_pack_leaves_a_temp_file_that_the_next_pack_removes() {
    let env = Env::new();
    env.init("src");
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..(160u32 << 20))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(env.path("noise.bin"), &noise).unwrap();
    drop(noise);
    env.nora("src", &["add", "raw", "noise.bin"])
        .assert()
        .success();
    std::fs::create_dir_all(env.path("out")).unwrap();
    let temps = || -> Vec<String> {
        std::fs::read_dir(env.path("out"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".nora-pack-"))
            .collect()
    };
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("nora"))
        .current_dir(env.dir.path())
        .arg("--bundle")
        .arg(env.path("src"))
        .args(["-q", "pack", "-o", "out/p.tar.zst"])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let written = temps()
            .iter()
            .filter_map(|n| std::fs::metadata(env.path("out").join(n)).ok())
            .any(|m| m.len() > (1 << 20));
        if written {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the pack never started writing"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the pack finished before it was killed"
        );
        std::thread::yield_now();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let left = temps();
    assert_eq!(
        left.len(),
        1,
        "the killed pack left its temp file: {left:?}"
    );
    env.nora("src", &["pack", "-o", "out/p.tar.zst"])
        .assert()
        .success();
    assert!(temps().is_empty(), "the next pack removed {left:?}");
    assert!(env.path("out/p.tar.zst").exists());
}

#[test]
fn a_pack_that_can_never_complete_is_shown_and_can_be_discarded() {
    let env = Env::new();
    let files = packed(&env, Some("1M"));
    env.init("dst");
    let before = snapshot(&env.path("dst"));
    env.nora("dst", &["unpack", &files[0]]).assert().code(4);
    let o = env.nora("dst", &["verify"]).output().unwrap();
    assert!(o.status.success());
    let said = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        said.contains("is partly unpacked: volume(s) 1 of"),
        "{said}"
    );
    let id = said
        .split("`nora unpack --discard ")
        .nth(1)
        .and_then(|s| s.split('`').next())
        .expect("verify names the command that drops it")
        .to_string();
    env.nora("dst", &["unpack", "--discard", "zz"])
        .assert()
        .failure()
        .stderr(contains("is not a pack id"));
    env.nora("dst", &["unpack", "--discard", &id])
        .assert()
        .success()
        .stdout(contains("discarded pack"));
    env.nora("dst", &["gc", "--grace", "0s"]).assert().success();
    let o = env.nora("dst", &["verify"]).output().unwrap();
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stderr).contains("partly unpacked"));
    assert_eq!(
        snapshot(&env.path("dst")),
        before,
        "nothing of the pack is left"
    );
    env.nora("dst", &["unpack", "--discard", &id])
        .assert()
        .failure()
        .stderr(contains("no pack starting with"));
}
