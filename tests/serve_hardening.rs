//! What the server refuses and how it answers when things go wrong: manifests whose
//! descriptor sizes lie, blob deletes against what the refs use (remembered between
//! deletes), uploaded bytes served so a browser never runs them, and a full disk.

mod common;

use common::http::{send, Answer};
use common::server::Server;
use common::{sha256_hex, Env};
use std::time::{Duration, SystemTime};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn upload(s: &Server, repo: &str, data: &[u8]) {
    let r = send(
        &s.host,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/?digest={}", sha256_hex(data)),
        &[("Content-Type", "application/octet-stream")],
        data,
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

/// A manifest of `config` and `layer` as pushed, with the sizes it declares.
fn manifest(config: &[u8], layer: &[u8], layer_size: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256_hex(config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256_hex(layer), "size": layer_size}],
    }))
    .unwrap()
}

fn put(s: &Server, repo: &str, reference: &str, media_type: &str, m: &[u8]) -> Answer {
    send(
        &s.host,
        "PUT",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Content-Type", media_type)],
        m,
    )
}

fn delete_blob(s: &Server, repo: &str, data: &[u8]) -> u16 {
    send(
        &s.host,
        "DELETE",
        &format!("/v2/{repo}/blobs/{}", sha256_hex(data)),
        &[],
        b"",
    )
    .status
}

#[test]
fn a_manifest_whose_sizes_lie_is_refused_on_push_and_reported_by_verify() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    let (config, layer) = (b"{\"os\":\"linux\"}".as_slice(), b"layer bytes".as_slice());
    upload(&s, "sizes/app", config);
    upload(&s, "sizes/app", layer);
    let before = common::snapshot(&env.path("b"));
    let lying = manifest(config, layer, layer.len() + 1000);
    let r = put(&s, "sizes/app", "v1", MANIFEST, &lying);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("MANIFEST_INVALID"), "{}", r.text());
    assert!(
        r.text().contains(&format!(
            "{} has {} bytes",
            sha256_hex(layer),
            layer.len() + 1000
        )),
        "the answer names the blob and both sizes: {}",
        r.text()
    );
    assert_eq!(
        common::snapshot(&env.path("b")),
        before,
        "a refused push changes nothing"
    );
    assert_eq!(
        put(
            &s,
            "sizes/app",
            "v1",
            MANIFEST,
            &manifest(config, layer, layer.len())
        )
        .status,
        201
    );

    // a bundle that holds such a manifest anyway (an older nora let it in): verify says so
    let lying_digest = sha256_hex(&lying);
    std::fs::write(
        env.path(&format!("b/blobs/sha256/{}", &lying_digest[7..])),
        &lying,
    )
    .unwrap();
    let record = serde_json::json!({"added": "2026-01-01T00:00:00Z", "kind": "oci-tag", "repository": "sizes/app", "tag": "bad", "digest": lying_digest, "media_type": MANIFEST, "size": lying.len()});
    let mut text = serde_json::to_string_pretty(&record).unwrap();
    text.push('\n');
    std::fs::write(env.path("b/refs/oci/sizes/app/_tags/bad.json"), text).unwrap();
    let o = env.nora("b", &["verify"]).output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("oci/sizes/app/_tags/bad"), "{err}");
    assert!(
        err.contains(&format!(
            "says blob {} has {} bytes, but it has {}",
            sha256_hex(layer),
            layer.len() + 1000,
            layer.len()
        )),
        "{err}"
    );
}

/// Sets the mtime of every ref file back an hour, so the server's memory of them is
/// trusted (files changed in the last seconds are always read again).
fn age_refs(env: &Env) {
    for e in walkdir::WalkDir::new(env.path("b/refs"))
        .into_iter()
        .flatten()
    {
        if e.file_type().is_file() {
            let f = std::fs::File::options().write(true).open(e.path()).unwrap();
            f.set_modified(SystemTime::now() - Duration::from_secs(3600))
                .unwrap();
        }
    }
}

#[test]
fn blob_deletes_follow_every_change_to_the_refs_between_them() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    let config = b"{\"os\":\"linux\"}".as_slice();
    upload(&s, "use/app", config);
    for i in 0..200 {
        let f = format!("filler {i}\n");
        assert_eq!(
            send(
                &s.host,
                "PUT",
                &format!("/raw/fill/{i}.txt"),
                &[],
                f.as_bytes()
            )
            .status,
            201
        );
    }
    let (l1, l2) = (b"layer one".as_slice(), b"layer two".as_slice());
    upload(&s, "use/app", l1);
    upload(&s, "use/app", l2);
    let m1 = manifest(config, l1, l1.len());
    let m2 = manifest(config, l2, l2.len());
    assert_eq!(put(&s, "use/app", "latest", MANIFEST, &m1).status, 201);
    age_refs(&env);
    assert_eq!(
        delete_blob(&s, "use/app", l1),
        405,
        "named by the tag's manifest"
    );
    assert_eq!(
        delete_blob(&s, "use/app", b"filler 7\n"),
        405,
        "named by a raw file"
    );
    // the tag moves: l1 is no longer reached (the remembered record is read again)
    assert_eq!(put(&s, "use/app", "latest", MANIFEST, &m2).status, 201);
    assert_eq!(delete_blob(&s, "use/app", l2), 405);
    assert_eq!(delete_blob(&s, "use/app", l1), 202);
    // an index reaching l2's manifest, under another tag, after the first tag is gone
    let index = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": INDEX,
        "manifests": [{"mediaType": MANIFEST, "digest": sha256_hex(&m2), "size": m2.len(), "platform": {"os": "linux", "architecture": "amd64"}}]})).unwrap();
    assert_eq!(put(&s, "use/app", "multi", INDEX, &index).status, 201);
    age_refs(&env);
    let gone = send(&s.host, "DELETE", "/v2/use/app/manifests/latest", &[], b"");
    assert_eq!(gone.status, 202);
    assert_eq!(
        delete_blob(&s, "use/app", l2),
        405,
        "reached through the index"
    );
    assert_eq!(
        send(&s.host, "DELETE", "/v2/use/app/manifests/multi", &[], b"").status,
        202
    );
    assert_eq!(delete_blob(&s, "use/app", l2), 202);
    // a raw file removed: its bytes can go
    assert_eq!(
        send(&s.host, "DELETE", "/raw/fill/7.txt", &[], b"").status,
        204
    );
    assert_eq!(delete_blob(&s, "use/app", b"filler 7\n"), 202);
    assert_eq!(delete_blob(&s, "use/app", b"filler 8\n"), 405);
    env.nora("b", &["verify"]).assert().success();
}

#[test]
fn uploaded_bytes_are_served_inert_and_nothing_is_sniffed() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    let page = b"<html><script>document.title='ran'</script></html>";
    let r = send(
        &s.host,
        "PUT",
        "/raw/pages/x.html",
        &[("Content-Type", "text/html")],
        page,
    );
    assert_eq!(r.status, 201);
    let got = send(&s.host, "GET", "/raw/pages/x.html", &[], b"");
    assert_eq!(got.body, page);
    assert_eq!(got.header("content-type"), Some("text/html"));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    let csp = got.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "an uploaded page runs no script: {csp:?}"
    );
    // every mount that serves stored bytes, and every other answer, says the same
    upload(&s, "inert/app", page);
    let blob = send(
        &s.host,
        "GET",
        &format!("/v2/inert/app/blobs/{}", sha256_hex(page)),
        &[],
        b"",
    );
    assert_eq!(blob.status, 200);
    assert!(blob
        .header("content-security-policy")
        .unwrap_or_default()
        .contains("sandbox"));
    for path in [
        "/raw/pages/x.html",
        "/health",
        "/raw/nothing-here",
        "/v2/",
        "/npm/nope",
    ] {
        for method in ["GET", "HEAD"] {
            let r = send(&s.host, method, path, &[], b"");
            assert_eq!(
                r.header("x-content-type-options"),
                Some("nosniff"),
                "{method} {path} ({})",
                r.status
            );
        }
    }
}

fn publish_body(name: &str, version: &str, tgz: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::to_vec(&serde_json::json!({
        "_id": name, "name": name, "dist-tags": {"latest": version},
        "versions": {version: {"name": name, "version": version, "dist": {"integrity": format!("sha512-{}", b64.encode(sha2::Sha512::digest(tgz)))}}},
        "_attachments": {format!("{name}-{version}.tgz"): {"content_type": "application/octet-stream", "data": b64.encode(tgz), "length": tgz.len()}}
    }))
    .unwrap()
}

/// A small tmpfs mounted for one test; unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    /// Mounts `size` of tmpfs at `at`; `None` (said loudly) where mounting is not allowed,
    /// which fails the test under CI.
    fn mount(at: &std::path::Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(at).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(SmallDisk(at.to_path_buf()));
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "mounting a tmpfs needs root; CI runs as root"
        );
        eprintln!("SKIPPING: cannot mount a tmpfs here (not root?); CI would fail");
        None
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_disk_answers_507_without_server_paths_and_keeps_the_bundle_sound() {
    let env = Env::new();
    let Some(disk) = SmallDisk::mount(&env.path("small"), "8m") else {
        return;
    };
    let bundle = disk.0.join("bundle");
    env.nora("small/bundle", &["init"]).assert().success();
    let s = Server::start(env.dir.path(), &bundle, &[]);
    assert_eq!(
        send(&s.host, "PUT", "/raw/before.txt", &[], b"before\n").status,
        201
    );
    // everything but about 64 KiB of the disk taken by something else
    let avail = {
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        let c = std::ffi::CString::new(disk.0.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
        st.f_bavail * st.f_frsize
    };
    let filler = disk.0.join("filler");
    std::fs::write(&filler, vec![0u8; (avail - (64 << 10)) as usize]).unwrap();
    let snapshot = common::snapshot(&bundle);
    let big = vec![7u8; 512 << 10];
    // an npm package whose tarball does not fit (its bytes do not compress)
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..(256 << 10))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let tgz_path = env.path("big.tgz");
    common::fixtures::tar_gz(
        &tgz_path,
        &[
            (
                "package/package.json",
                br#"{"name":"big","version":"1.0.0"}"#,
            ),
            ("package/noise.bin", &noise),
        ],
    );
    let tgz = std::fs::read(&tgz_path).unwrap();
    let answers = [
        ("raw", send(&s.host, "PUT", "/raw/big.bin", &[], &big)),
        (
            "oci",
            send(
                &s.host,
                "POST",
                &format!("/v2/full/app/blobs/uploads/?digest={}", sha256_hex(&big)),
                &[("Content-Type", "application/octet-stream")],
                &big,
            ),
        ),
        (
            "maven",
            send(
                &s.host,
                "PUT",
                "/maven2/com/example/big/1.0/big-1.0.jar",
                &[],
                &big,
            ),
        ),
        (
            "npm",
            send(
                &s.host,
                "PUT",
                "/npm/big",
                &[("Content-Type", "application/json")],
                &publish_body("big", "1.0.0", &tgz),
            ),
        ),
    ];
    let place = disk.0.display().to_string();
    for (mount, a) in &answers {
        assert_eq!(a.status, 507, "{mount}: {}", a.text());
        assert!(
            a.text().contains("storage is full"),
            "{mount}: {}",
            a.text()
        );
        for leak in [place.as_str(), "/tmp", "w-", "ingest-"] {
            assert!(
                !a.text().contains(leak),
                "{mount} names a server path: {}",
                a.text()
            );
        }
    }
    assert_eq!(send(&s.host, "GET", "/health", &[], b"").status, 200);
    assert_eq!(
        send(&s.host, "GET", "/raw/before.txt", &[], b"").body,
        b"before\n"
    );
    assert_eq!(
        common::snapshot(&bundle),
        snapshot,
        "failed uploads left nothing visible"
    );
    // space again: the same uploads go through
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(send(&s.host, "PUT", "/raw/big.bin", &[], &big).status, 201);
    env.nora("small/bundle", &["verify"]).assert().success();
    drop(s);
}

#[test]
fn a_blob_held_by_a_pack_waiting_for_volumes_is_not_deleted() {
    let env = Env::new();
    env.init("src");
    let noise = |seed: u64| -> Vec<u8> {
        let mut x = seed;
        (0..700_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    };
    std::fs::write(env.path("one.bin"), noise(1)).unwrap();
    std::fs::write(env.path("two.bin"), noise(2)).unwrap();
    env.nora("src", &["add", "raw", "one.bin", "two.bin"])
        .assert()
        .success();
    let o = env
        .nora(
            "src",
            &["--json", "pack", "-o", "p.tar.zst", "--split", "1M"],
        )
        .output()
        .unwrap();
    let files = common::ok_json(&o)["files"].as_array().unwrap().clone();
    assert!(files.len() >= 2);
    env.init("b");
    env.nora("b", &["unpack", files[0].as_str().unwrap()])
        .assert()
        .code(4);
    let staged: Vec<String> = std::fs::read_dir(env.path("b/blobs/sha256"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!staged.is_empty(), "volume 1 brought a blob");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    for hex in &staged {
        let r = send(
            &s.host,
            "DELETE",
            &format!("/v2/any/blobs/sha256:{hex}"),
            &[],
            b"",
        );
        assert_eq!(r.status, 405, "{}", r.text());
        assert!(r.text().contains("partly unpacked pack"), "{}", r.text());
    }
    let mut rest = vec!["unpack"];
    rest.extend(files[1..].iter().map(|f| f.as_str().unwrap()));
    env.nora("b", &rest).assert().success();
    env.nora("b", &["verify"]).assert().success();
}
