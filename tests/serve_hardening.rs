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
