//! Writers against removers (bundle-format.md §6): a manifest push, a publish or a raw
//! upload that the server answered as stored keeps every blob it names, whatever gc or a
//! blob delete does at the same moment; and uploads in progress survive any gc.

mod common;

use base64::Engine as _;
use common::http::send;
use common::server::Server;
use common::{hex_sha256, sha256_hex, Env};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG: &[u8] =
    br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;

fn manifest(layer: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256_hex(CONFIG), "size": CONFIG.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256_hex(layer), "size": layer.len()}],
    }))
    .unwrap()
}

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

fn put_manifest(s: &Server, repo: &str, tag: &str, m: &[u8]) -> common::http::Answer {
    send(
        &s.host,
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", MANIFEST)],
        m,
    )
}

/// Runs `nora gc ARGS` on the bundle over and over until `stop`; returns how many runs.
fn gc_loop(
    env: &Env,
    args: &'static [&'static str],
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<usize> {
    let bin = assert_cmd::cargo::cargo_bin("nora");
    let bundle = env.path("b");
    std::thread::spawn(move || {
        let mut runs = 0;
        while !stop.load(Ordering::SeqCst) {
            let o = std::process::Command::new(&bin)
                .arg("--bundle")
                .arg(&bundle)
                .args(["-q", "gc"])
                .args(args)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            runs += 1;
        }
        runs
    })
}

/// A blob as a push long ago left it: in the bundle, named by no ref, older than gc's grace.
fn old_blob(env: &Env, data: &[u8]) {
    let dir = env.path("b/blobs/sha256");
    let tmp = env.path(&format!("b/{}.part", hex_sha256(data)));
    std::fs::write(&tmp, data).unwrap();
    let f = std::fs::File::options().write(true).open(&tmp).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(48 * 3600))
        .unwrap();
    drop(f);
    std::fs::rename(&tmp, dir.join(hex_sha256(data))).unwrap();
}

#[test]
fn a_manifest_push_racing_gc_never_leaves_a_tag_without_its_blobs() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    upload(&s, "race/app", CONFIG);
    let stop = Arc::new(AtomicBool::new(false));
    let gc = gc_loop(&env, &[], stop.clone());
    let mut stored = Vec::new();
    let mut refused = 0;
    for i in 0..500 {
        let layer = format!("layer {i} of a tag deleted long ago\n").into_bytes();
        old_blob(&env, &layer);
        let r = put_manifest(&s, "race/app", &format!("t{i}"), &manifest(&layer));
        match r.status {
            201 => stored.push((i, layer)),
            // gc took the layer before the push checked for it: refused, nothing written
            400 if r.text().contains("MANIFEST_BLOB_UNKNOWN") => refused += 1,
            _ => panic!("push {i}: {} {}", r.status, r.text()),
        }
    }
    stop.store(true, Ordering::SeqCst);
    let runs = gc.join().unwrap();
    assert!(runs >= 10, "gc ran only {runs} times during the pushes");
    let lost: Vec<usize> = stored
        .iter()
        .filter(|(_, l)| {
            !env.path(&format!("b/blobs/sha256/{}", hex_sha256(l)))
                .exists()
        })
        .map(|(i, _)| *i)
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} pushes answered 201 and lost their layer (gc ran {runs} times, {refused} pushes refused): tags {lost:?}",
        lost.len(),
        stored.len()
    );
    assert!(!stored.is_empty(), "every push was refused");
    env.nora("b", &["verify"]).assert().success();
    for (i, layer) in stored.iter().step_by(50) {
        let m = send(
            &s.host,
            "GET",
            &format!("/v2/race/app/manifests/t{i}"),
            &[("Accept", MANIFEST)],
            b"",
        );
        assert_eq!(m.status, 200, "{}", m.text());
        let b = send(
            &s.host,
            "GET",
            &format!("/v2/race/app/blobs/{}", sha256_hex(layer)),
            &[],
            b"",
        );
        assert_eq!((b.status, b.body.as_slice()), (200, layer.as_slice()));
    }
    eprintln!(
        "{} pushes stored, {refused} refused, gc ran {runs} times",
        stored.len()
    );
}

#[test]
fn a_blob_delete_racing_a_manifest_push_that_names_it_lets_only_one_win() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    upload(&s, "race/del", CONFIG);
    let (mut deleted, mut pushed, mut both) = (0, 0, Vec::new());
    for i in 0..300 {
        let layer = format!("layer {i}, deleted and named at once\n").into_bytes();
        upload(&s, "race/del", &layer);
        let m = manifest(&layer);
        let start = Arc::new(std::sync::Barrier::new(2));
        let (host, d, b) = (s.host.clone(), sha256_hex(&layer), start.clone());
        let del = std::thread::spawn(move || {
            b.wait();
            send(
                &host,
                "DELETE",
                &format!("/v2/race/del/blobs/{d}"),
                &[],
                b"",
            )
        });
        start.wait();
        let put = put_manifest(&s, "race/del", &format!("t{i}"), &m);
        let del = del.join().unwrap();
        match (del.status, put.status) {
            // the delete and the push naming the blob both won: the tag has no layer
            (202, 201) => both.push(i),
            (202, 400) => deleted += 1,
            (_, 201) => {
                assert!(
                    del.text().contains("is used by a ref"),
                    "pair {i}: {}",
                    del.text()
                );
                pushed += 1;
            }
            (d, p) => panic!(
                "pair {i}: delete {d} {}, push {p} {}",
                del.text(),
                put.text()
            ),
        }
    }
    assert!(
        both.is_empty(),
        "{} of 300 pairs answered 202 to the delete and 201 to the push naming the blob: {both:?}",
        both.len()
    );
    env.nora("b", &["verify"]).assert().success();
    eprintln!("{deleted} deletes won, {pushed} pushes won");
}

fn publish_body(name: &str, version: &str, tgz: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(tgz))
    );
    serde_json::to_vec(&serde_json::json!({
        "_id": name, "name": name, "dist-tags": {"latest": version},
        "versions": {version: {"name": name, "version": version, "dist": {"integrity": integrity, "shasum": hex::encode(sha1::Sha1::digest(tgz))}}},
        "_attachments": {format!("{name}-{version}.tgz"): {"content_type": "application/octet-stream", "data": base64::engine::general_purpose::STANDARD.encode(tgz), "length": tgz.len()}}
    }))
    .unwrap()
}

#[test]
fn publishes_and_raw_uploads_racing_gc_with_no_grace_all_keep_what_they_stored() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let gc = gc_loop(&env, &["--grace", "0s"], stop.clone());
    let tgz_dir = env.path("tgz");
    std::fs::create_dir_all(&tgz_dir).unwrap();
    let mut failures = Vec::new();
    for i in 0..200 {
        let version = format!("1.0.{i}");
        let path = tgz_dir.join(format!("{i}.tgz"));
        common::fixtures::npm_tgz(&path, "racer", &version);
        let tgz = std::fs::read(&path).unwrap();
        let r = send(
            &s.host,
            "PUT",
            "/npm/racer",
            &[("Content-Type", "application/json")],
            &publish_body("racer", &version, &tgz),
        );
        if r.status != 201 {
            failures.push(format!("publish {version}: {} {}", r.status, r.text()));
        }
        let data = format!("raw file {i}\n").repeat(1000).into_bytes();
        let r = send(&s.host, "PUT", &format!("/raw/race/{i}.txt"), &[], &data);
        if r.status != 201 {
            failures.push(format!("raw {i}: {} {}", r.status, r.text()));
        }
    }
    stop.store(true, Ordering::SeqCst);
    let runs = gc.join().unwrap();
    assert!(runs >= 10, "gc ran only {runs} times");
    assert!(
        failures.is_empty(),
        "{} of 400 writes failed while gc --grace 0s ran {runs} times: {:#?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    env.nora("b", &["verify"]).assert().success();
    let packument = send(&s.host, "GET", "/npm/racer", &[], b"");
    let versions = serde_json::from_slice::<serde_json::Value>(&packument.body).unwrap()
        ["versions"]
        .as_object()
        .unwrap()
        .len();
    assert_eq!(versions, 200);
    for i in (0..200).step_by(20) {
        let r = send(
            &s.host,
            "GET",
            &format!("/npm/racer/-/racer-1.0.{i}.tgz"),
            &[],
            b"",
        );
        assert_eq!(r.status, 200);
        let r = send(&s.host, "GET", &format!("/raw/race/{i}.txt"), &[], b"");
        assert_eq!(r.body, format!("raw file {i}\n").repeat(1000).into_bytes());
    }
}

#[test]
fn a_chunked_upload_survives_gc_with_no_grace_between_its_chunks() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let start = send(&s.host, "POST", "/v2/slow/push/blobs/uploads/", &[], b"");
    assert_eq!(start.status, 202);
    let mut loc = start.header("location").unwrap().to_string();
    for (n, chunk) in data.chunks(100_000).enumerate() {
        let range = format!("{}-{}", n * 100_000, n * 100_000 + chunk.len() - 1);
        let r = send(
            &s.host,
            "PATCH",
            &loc,
            &[
                ("Content-Type", "application/octet-stream"),
                ("Content-Range", &range),
            ],
            chunk,
        );
        assert_eq!(r.status, 202, "chunk {n}: {}", r.text());
        loc = r.header("location").unwrap().to_string();
        env.nora("b", &["gc", "--grace", "0s"]).assert().success();
        assert!(
            common::temp_files(&env.path("b")) > 0,
            "gc took the upload's bytes"
        );
    }
    let sep = if loc.contains('?') { '&' } else { '?' };
    let r = send(
        &s.host,
        "PUT",
        &format!("{loc}{sep}digest={}", sha256_hex(&data)),
        &[],
        b"",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let back = send(
        &s.host,
        "GET",
        &format!("/v2/slow/push/blobs/{}", sha256_hex(&data)),
        &[],
        b"",
    );
    assert_eq!(back.body, data);
}

#[test]
fn writers_waiting_for_the_lock_never_hold_up_reads() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    assert_eq!(
        send(&s.host, "PUT", "/raw/read-me.txt", &[], b"read me\n").status,
        201
    );
    // a gc (or anything else) holds the exclusive lock for a long time
    let lock = std::fs::File::options()
        .read(true)
        .write(true)
        .open(env.path("b/lock"))
        .unwrap();
    lock.lock().unwrap();
    // more writers than the server has threads for store work wait for it
    let writers: Vec<_> = (0..40)
        .map(|i| {
            let host = s.host.clone();
            std::thread::spawn(move || {
                send(
                    &host,
                    "PUT",
                    &format!("/raw/w/{i}.txt"),
                    &[],
                    format!("w{i}\n").as_bytes(),
                )
                .status
            })
        })
        .collect();
    common::server::poll("the writers to be waiting", || {
        common::temp_files(&env.path("b")) >= 40
    });
    // reads are answered meanwhile
    for _ in 0..20 {
        let r = send(&s.host, "GET", "/raw/read-me.txt", &[], b"");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"read me\n"[..]));
    }
    assert!(
        writers.iter().all(|w| !w.is_finished()),
        "a writer went past the lock"
    );
    lock.unlock().unwrap();
    for w in writers {
        assert_eq!(w.join().unwrap(), 201);
    }
    env.nora("b", &["verify"]).assert().success();
}
