//! `nora serve` OCI distribution: skopeo round trips, and curl for the spec's push, mount,
//! pagination, delete, referrers and error cases. Every refused request leaves the bundle
//! unchanged.

mod common;

use common::server::{curl, require, Server};
use common::{fixtures, snapshot, Env};
use sha2::{Digest, Sha256};

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

fn serve(env: &Env, extra: &[&str]) -> Server {
    env.init("b");
    Server::start(env.dir.path(), &env.path("b"), extra)
}

fn skopeo(args: &[&str]) -> std::process::Output {
    let o = std::process::Command::new("skopeo")
        .args(["--command-timeout", "60s"])
        .args(args)
        .output()
        .expect("run skopeo");
    assert!(
        o.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Pushes a blob monolithically; returns its digest.
fn push_blob(s: &Server, repo: &str, data: &[u8]) -> String {
    let d = sha(data);
    let r = curl(
        "POST",
        &format!("{}/v2/{repo}/blobs/uploads/?digest={d}", s.url),
        &["Content-Type: application/octet-stream"],
        Some(data),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("Docker-Content-Digest"), Some(d.as_str()));
    d
}

/// An image manifest over a config and one layer pushed to `repo`.
fn push_image(s: &Server, repo: &str, seed: &str) -> Vec<u8> {
    let config = format!(r#"{{"architecture":"amd64","os":"linux","seed":"{seed}"}}"#);
    let layer = format!("layer of {seed}");
    let cd = push_blob(s, repo, config.as_bytes());
    let ld = push_blob(s, repo, layer.as_bytes());
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{ld}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    )
    .into_bytes()
}

fn put_manifest(s: &Server, repo: &str, reference: &str, m: &[u8]) -> common::server::Resp {
    curl(
        "PUT",
        &format!("{}/v2/{repo}/manifests/{reference}", s.url),
        &["Content-Type: application/vnd.oci.image.manifest.v1+json"],
        Some(m),
    )
}

#[test]
fn skopeo_round_trip_of_a_multi_arch_index_under_a_four_level_name() {
    if !require("skopeo") {
        return;
    }
    let env = Env::new();
    let s = serve(&env, &[]);
    let layout = env.path("layout");
    let index = fixtures::oci_layout(&layout, "app", "v1", "round trip");
    let dest = format!("docker://{}/team/sub/app/server:v1", s.host);
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &format!("oci:{}:app:v1", layout.display()),
        &dest,
    ]);

    let tags = skopeo(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{}/team/sub/app/server", s.host),
    ]);
    let tags: serde_json::Value = serde_json::from_slice(&tags.stdout).unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["v1"]));

    let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &dest]);
    assert_eq!(sha(&raw.stdout), index, "the index is served byte for byte");

    let pulled = env.path("pulled");
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        &dest,
        &format!("oci:{}:v1", pulled.display()),
    ]);
    let top: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pulled.join("index.json")).unwrap()).unwrap();
    assert_eq!(top["manifests"][0]["digest"], index.as_str());
    for e in std::fs::read_dir(layout.join("blobs/sha256")).unwrap() {
        let name = e.unwrap().file_name();
        assert_eq!(
            std::fs::read(layout.join("blobs/sha256").join(&name)).unwrap(),
            std::fs::read(pulled.join("blobs/sha256").join(&name)).unwrap(),
            "blob {name:?} came back identical"
        );
    }

    // what was pushed is in the bundle at once, whole and valid
    let ls = env.nora("b", &["ls", "--json"]).output().unwrap();
    assert!(String::from_utf8_lossy(&ls.stdout).contains("team/sub/app/server"));
    env.nora("b", &["verify"]).assert().success();

    // one platform, without --all, into a second repository
    skopeo(&[
        "copy",
        "--override-arch",
        "arm64",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &dest,
        &format!("docker://{}/single:arm", s.host),
    ]);
    let single = skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{}/single:arm", s.host),
    ]);
    let single: serde_json::Value = serde_json::from_slice(&single.stdout).unwrap();
    assert_eq!(single["Architecture"], "arm64");

    skopeo(&[
        "delete",
        "--tls-verify=false",
        &format!("docker://{}/single:arm", s.host),
    ]);
    let r = curl(
        "GET",
        &format!("{}/v2/single/manifests/arm", s.url),
        &[],
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.oci_code(), "MANIFEST_UNKNOWN");
}

#[test]
fn chunked_upload_with_out_of_order_chunk_status_and_ranges() {
    let env = Env::new();
    let s = serve(&env, &[]);
    let data = b"0123456789abcdefghij";
    let start = curl(
        "POST",
        &format!("{}/v2/chunks/blobs/uploads/", s.url),
        &[],
        None,
    );
    assert_eq!(start.status, 202);
    let loc = start.header("Location").unwrap().to_string();
    assert!(start.header("Docker-Upload-UUID").is_some());
    assert_eq!(start.header("Range"), Some("0-0"));
    let url = |l: &str| format!("{}{l}", s.url);

    let r = curl(
        "PATCH",
        &url(&loc),
        &[
            "Content-Type: application/octet-stream",
            "Content-Range: 0-9",
        ],
        Some(&data[..10]),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.header("Range"), Some("0-9"));
    let loc = r.header("Location").unwrap().to_string();

    let before = snapshot(&env.path("b"));
    let r = curl(
        "PATCH",
        &url(&loc),
        &[
            "Content-Type: application/octet-stream",
            "Content-Range: 15-19",
        ],
        Some(&data[15..]),
    );
    assert_eq!(r.status, 416, "a chunk that skips bytes is refused");
    assert_eq!(r.header("Range"), Some("0-9"));
    assert_eq!(snapshot(&env.path("b")), before);

    let st = curl("GET", &url(&loc), &[], None);
    assert_eq!(st.status, 204);
    assert_eq!(st.header("Range"), Some("0-9"));

    let r = curl(
        "PATCH",
        &url(&loc),
        &[
            "Content-Type: application/octet-stream",
            "Content-Range: 10-19",
        ],
        Some(&data[10..]),
    );
    assert_eq!(r.status, 202);
    let d = sha(data);
    let sep = if loc.contains('?') { '&' } else { '?' };
    let r = curl("PUT", &url(&format!("{loc}{sep}digest={d}")), &[], None);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.header("Location"),
        Some(format!("/v2/chunks/blobs/{d}").as_str())
    );

    let got = curl("GET", &format!("{}/v2/chunks/blobs/{d}", s.url), &[], None);
    assert_eq!(got.body, data);
    assert_eq!(got.header("Docker-Content-Digest"), Some(d.as_str()));
    let part = curl(
        "GET",
        &format!("{}/v2/chunks/blobs/{d}", s.url),
        &["Range: bytes=5-9"],
        None,
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, b"56789");
    assert_eq!(part.header("Content-Range"), Some("bytes 5-9/20"));
    let head = curl("HEAD", &format!("{}/v2/chunks/blobs/{d}", s.url), &[], None);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("Content-Length"), Some("20"));

    // monolithic POST then PUT with the whole body
    let whole = b"monolithic body";
    let post = curl(
        "POST",
        &format!("{}/v2/chunks/blobs/uploads/", s.url),
        &[],
        None,
    );
    let ploc = post.header("Location").unwrap().to_string();
    let sep = if ploc.contains('?') { '&' } else { '?' };
    let r = curl(
        "PUT",
        &url(&format!("{ploc}{sep}digest={}", sha(whole))),
        &["Content-Type: application/octet-stream"],
        Some(whole),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        curl(
            "GET",
            &format!("{}/v2/chunks/blobs/{}", s.url, sha(whole)),
            &[],
            None
        )
        .body,
        whole
    );
    // a mount of a blob the registry lacks falls back to a new upload session
    let miss = curl(
        "POST",
        &format!(
            "{}/v2/chunks/blobs/uploads/?mount={}&from=elsewhere",
            s.url,
            sha(b"absent")
        ),
        &[],
        None,
    );
    assert_eq!(miss.status, 202);
    assert!(miss.header("Docker-Upload-UUID").is_some());

    // the finished session is gone; a cancelled one too
    assert_eq!(curl("GET", &url(&loc), &[], None).status, 404);
    let other = curl(
        "POST",
        &format!("{}/v2/chunks/blobs/uploads/", s.url),
        &[],
        None,
    );
    let oloc = other.header("Location").unwrap();
    assert_eq!(curl("DELETE", &url(oloc), &[], None).status, 204);
    let gone = curl("GET", &url(oloc), &[], None);
    assert_eq!(gone.status, 404);
    assert_eq!(gone.oci_code(), "BLOB_UPLOAD_UNKNOWN");
}

#[test]
fn mount_tags_catalog_pagination_and_deletes() {
    let env = Env::new();
    let s = serve(&env, &[]);
    let m = push_image(&s, "src/app", "pages");
    for t in ["a", "b", "c", "d", "e"] {
        assert_eq!(put_manifest(&s, "src/app", t, &m).status, 201);
    }
    let layer = sha(b"layer of pages");
    let r = curl(
        "POST",
        &format!("{}/v2/dst/blobs/uploads/?mount={layer}&from=src/app", s.url),
        &[],
        None,
    );
    assert_eq!(r.status, 201, "a blob the bundle holds is mounted at once");
    assert_eq!(
        r.header("Location"),
        Some(format!("/v2/dst/blobs/{layer}").as_str())
    );

    let p1 = curl(
        "GET",
        &format!("{}/v2/src/app/tags/list?n=2", s.url),
        &[],
        None,
    );
    assert_eq!(p1.json()["tags"], serde_json::json!(["a", "b"]));
    let link = p1.header("Link").expect("a Link to the next page");
    assert!(link.contains("rel=\"next\""), "{link}");
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let p2 = curl("GET", &format!("{}{next}", s.url), &[], None);
    assert_eq!(p2.json()["tags"], serde_json::json!(["c", "d"]));
    let p3 = curl(
        "GET",
        &format!("{}/v2/src/app/tags/list?n=2&last=d", s.url),
        &[],
        None,
    );
    assert_eq!(p3.json()["tags"], serde_json::json!(["e"]));
    assert!(p3.header("Link").is_none());

    assert_eq!(put_manifest(&s, "other", "x", &m).status, 201);
    let c = curl("GET", &format!("{}/v2/_catalog?n=1", s.url), &[], None);
    assert_eq!(c.json()["repositories"], serde_json::json!(["other"]));
    assert!(c.header("Link").is_some());
    let c = curl("GET", &format!("{}/v2/_catalog", s.url), &[], None);
    assert_eq!(
        c.json()["repositories"],
        serde_json::json!(["other", "src/app"])
    );

    // a deleted tag leaves the list at once; the manifest stays reachable by digest
    assert_eq!(
        curl(
            "DELETE",
            &format!("{}/v2/src/app/manifests/c", s.url),
            &[],
            None
        )
        .status,
        202
    );
    let t = curl("GET", &format!("{}/v2/src/app/tags/list", s.url), &[], None);
    assert_eq!(t.json()["tags"], serde_json::json!(["a", "b", "d", "e"]));
    let md = sha(&m);
    let by_digest = curl(
        "GET",
        &format!("{}/v2/src/app/manifests/{md}", s.url),
        &[],
        None,
    );
    assert_eq!(by_digest.status, 200);
    assert_eq!(by_digest.body, m);
    assert_eq!(
        by_digest.header("Content-Type"),
        Some("application/vnd.oci.image.manifest.v1+json")
    );

    // deleting by digest removes every tag naming it
    assert_eq!(
        curl(
            "DELETE",
            &format!("{}/v2/src/app/manifests/{md}", s.url),
            &[],
            None
        )
        .status,
        202
    );
    let t = curl("GET", &format!("{}/v2/src/app/tags/list", s.url), &[], None);
    assert_eq!(t.status, 404);
    assert_eq!(t.oci_code(), "NAME_UNKNOWN");

    // blobs: one still used by `other:x` is refused, an unused one is deleted
    let used = curl(
        "DELETE",
        &format!("{}/v2/other/blobs/{layer}", s.url),
        &[],
        None,
    );
    assert_eq!(used.status, 405);
    let lone = push_blob(&s, "other", b"nobody uses me");
    assert_eq!(
        curl(
            "DELETE",
            &format!("{}/v2/other/blobs/{lone}", s.url),
            &[],
            None
        )
        .status,
        202
    );
    let gone = curl(
        "HEAD",
        &format!("{}/v2/other/blobs/{lone}", s.url),
        &[],
        None,
    );
    assert_eq!(gone.status, 404);
}

#[test]
fn referrers_with_subject_filter_and_absent_subject() {
    let env = Env::new();
    let s = serve(&env, &[]);
    let subject = sha(b"a manifest nobody pushed");
    let empty = push_blob(&s, "app", b"{}");
    let sig = |at: &str, ann: &str| {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"{at}","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{empty}","size":2}},"layers":[],"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{subject}","size":10}},"annotations":{{"note":"{ann}"}}}}"#
        )
        .into_bytes()
    };
    let a = sig("application/vnd.example.sig", "one");
    let b = sig("application/vnd.example.sbom", "two");
    for m in [&a, &b] {
        let r = put_manifest(&s, "app", &sha(m), m);
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.header("OCI-Subject"), Some(subject.as_str()));
    }
    let all = curl(
        "GET",
        &format!("{}/v2/app/referrers/{subject}", s.url),
        &[],
        None,
    );
    assert_eq!(all.status, 200);
    assert_eq!(
        all.header("Content-Type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    let v = all.json();
    let mut types: Vec<&str> = v["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["artifactType"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(
        types,
        [
            "application/vnd.example.sbom",
            "application/vnd.example.sig"
        ]
    );

    let only = curl(
        "GET",
        &format!(
            "{}/v2/app/referrers/{subject}?artifactType=application/vnd.example.sig",
            s.url
        ),
        &[],
        None,
    );
    assert_eq!(only.header("OCI-Filters-Applied"), Some("artifactType"));
    let v = only.json();
    assert_eq!(v["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(v["manifests"][0]["digest"], sha(&a).as_str());
    assert_eq!(v["manifests"][0]["annotations"]["note"], "one");

    let none = curl(
        "GET",
        &format!("{}/v2/app/referrers/{}", s.url, sha(b"x")),
        &[],
        None,
    );
    assert_eq!(none.json()["manifests"], serde_json::json!([]));
}

#[test]
fn bad_requests_get_the_spec_error_and_change_nothing() {
    let env = Env::new();
    let s = serve(&env, &["--manifest-max-size", "1KiB"]);
    let good = push_image(&s, "app", "bad inputs");
    assert_eq!(put_manifest(&s, "app", "ok", &good).status, 201);
    let before = snapshot(&env.path("b"));
    let u = |p: &str| format!("{}{p}", s.url);

    // a manifest naming a blob that was never pushed
    let missing = String::from_utf8(good.clone())
        .unwrap()
        .replace(&sha(b"layer of bad inputs"), &sha(b"never pushed"));
    let r = put_manifest(&s, "app", "missing", missing.as_bytes());
    assert_eq!(
        (r.status, r.oci_code().as_str()),
        (400, "MANIFEST_BLOB_UNKNOWN")
    );

    // an upload whose bytes do not match the digest
    let r = curl(
        "POST",
        &u(&format!("/v2/app/blobs/uploads/?digest={}", sha(b"other"))),
        &[],
        Some(b"these bytes"),
    );
    assert_eq!((r.status, r.oci_code().as_str()), (400, "DIGEST_INVALID"));

    // malformed manifests
    for body in [&b"not json"[..], b"[1,2]", br#"{"schemaVersion":1}"#] {
        let r = put_manifest(&s, "app", "broken", body);
        assert_eq!(
            (r.status, r.oci_code().as_str()),
            (400, "MANIFEST_INVALID"),
            "{:?}",
            body
        );
    }
    // pushed by a digest it does not have
    let r = put_manifest(&s, "app", &sha(b"something else"), &good);
    assert_eq!((r.status, r.oci_code().as_str()), (400, "DIGEST_INVALID"));

    // over the configured manifest limit
    let big = format!(r#"{{"schemaVersion":2,"pad":"{}"}}"#, "x".repeat(2000));
    let r = put_manifest(&s, "app", "big", big.as_bytes());
    assert_eq!((r.status, r.oci_code().as_str()), (413, "SIZE_INVALID"));

    // path traversal and invalid names
    for p in [
        "/v2/../../etc/manifests/ok",
        "/v2/app/%2e%2e/manifests/ok",
        "/v2/a%2fb/manifests/ok",
        "/v2/App/manifests/ok",
        "/v2/app//x/manifests/ok",
        "/v2/-app/tags/list",
    ] {
        let r = curl("GET", &u(p), &[], None);
        assert_eq!(
            (r.status, r.oci_code().as_str()),
            (400, "NAME_INVALID"),
            "{p}"
        );
        let r = put_manifest(
            &s,
            p.trim_start_matches("/v2/")
                .trim_end_matches("/manifests/ok"),
            "ok",
            &good,
        );
        assert_eq!(r.status, 400, "PUT {p}");
    }
    // invalid tags
    let r = put_manifest(&s, "app", ".hidden", &good);
    assert_eq!((r.status, r.oci_code().as_str()), (400, "MANIFEST_INVALID"));
    let r = put_manifest(&s, "app", &"t".repeat(129), &good);
    assert_eq!(r.status, 400);

    // unknowns are 404 with their codes
    let r = curl("GET", &u("/v2/app/manifests/nope"), &[], None);
    assert_eq!((r.status, r.oci_code().as_str()), (404, "MANIFEST_UNKNOWN"));
    let r = curl(
        "GET",
        &u(&format!("/v2/app/blobs/{}", sha(b"nope"))),
        &[],
        None,
    );
    assert_eq!((r.status, r.oci_code().as_str()), (404, "BLOB_UNKNOWN"));
    let r = curl("GET", &u("/v2/ghost/tags/list"), &[], None);
    assert_eq!((r.status, r.oci_code().as_str()), (404, "NAME_UNKNOWN"));
    let r = curl("GET", &u("/v2/app/blobs/sha256:xyz"), &[], None);
    assert_eq!((r.status, r.oci_code().as_str()), (400, "DIGEST_INVALID"));

    assert_eq!(
        snapshot(&env.path("b")),
        before,
        "refused requests changed the bundle"
    );
}

#[test]
fn what_add_stores_is_served_at_once_and_pushes_show_in_ls() {
    let env = Env::new();
    let s = serve(&env, &[]);
    let layout = env.path("layout");
    let index = fixtures::oci_layout(&layout, "cli/added", "v2", "side by side");
    env.nora("b", &["add", "oci", layout.to_str().unwrap()])
        .assert()
        .success();
    let r = curl(
        "HEAD",
        &format!("{}/v2/cli/added/manifests/v2", s.url),
        &[],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Docker-Content-Digest"), Some(index.as_str()));
    assert_eq!(
        r.header("Content-Type"),
        Some("application/vnd.oci.image.index.v1+json")
    );

    let m = push_image(&s, "pushed", "visible");
    assert_eq!(put_manifest(&s, "pushed", "now", &m).status, 201);
    let ls = env.nora("b", &["ls", "oci"]).output().unwrap();
    let out = String::from_utf8_lossy(&ls.stdout);
    assert!(out.contains("pushed:now"), "{out}");
    assert!(out.contains("cli/added:v2"), "{out}");
}

#[test]
fn docker_schema2_manifests_and_manifest_lists() {
    let env = Env::new();
    let s = serve(&env, &[]);
    const V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
    const LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    let mut children = Vec::new();
    let mut child_digests = Vec::new();
    for arch in ["amd64", "arm64"] {
        let config = format!(r#"{{"architecture":"{arch}","os":"linux"}}"#);
        let layer = format!("docker layer {arch}");
        let cd = push_blob(&s, "dock", config.as_bytes());
        let ld = push_blob(&s, "dock", layer.as_bytes());
        let m = format!(
            r#"{{"schemaVersion":2,"mediaType":"{V2}","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{cd}","size":{}}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"{ld}","size":{}}}]}}"#,
            config.len(),
            layer.len()
        );
        let r = curl(
            "PUT",
            &format!("{}/v2/dock/manifests/{}", s.url, sha(m.as_bytes())),
            &[&format!("Content-Type: {V2}")],
            Some(m.as_bytes()),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        child_digests.push(sha(m.as_bytes()));
        children.push(format!(
            r#"{{"mediaType":"{V2}","digest":"{}","size":{},"platform":{{"architecture":"{arch}","os":"linux"}}}}"#,
            sha(m.as_bytes()),
            m.len()
        ));
    }
    let list = format!(
        r#"{{"schemaVersion":2,"mediaType":"{LIST}","manifests":[{}]}}"#,
        children.join(",")
    );
    let r = curl(
        "PUT",
        &format!("{}/v2/dock/manifests/multi", s.url),
        &[&format!("Content-Type: {LIST}")],
        Some(list.as_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let got = curl(
        "GET",
        &format!("{}/v2/dock/manifests/multi", s.url),
        &[&format!("Accept: {LIST}")],
        None,
    );
    assert_eq!(got.header("Content-Type"), Some(LIST));
    assert_eq!(got.body, list.as_bytes());
    assert_eq!(
        got.header("Docker-Content-Digest"),
        Some(sha(list.as_bytes()).as_str())
    );

    // a list naming a manifest that was never pushed is refused
    let bad = list.replacen(&child_digests[0], &sha(b"never pushed"), 1);
    let r = curl(
        "PUT",
        &format!("{}/v2/dock/manifests/bad", s.url),
        &[&format!("Content-Type: {LIST}")],
        Some(bad.as_bytes()),
    );
    assert_eq!(
        (r.status, r.oci_code().as_str()),
        (400, "MANIFEST_BLOB_UNKNOWN")
    );

    if require("skopeo") {
        // skopeo converts an OCI image to Docker schema 2 on push and pulls it back
        let layout = env.path("layout");
        fixtures::oci_layout(&layout, "app", "v1", "schema2");
        let dest = format!("docker://{}/converted:v2s2", s.host);
        skopeo(&[
            "copy",
            "--format",
            "v2s2",
            "--override-arch",
            "amd64",
            "--dest-tls-verify=false",
            &format!("oci:{}:app:v1", layout.display()),
            &dest,
        ]);
        let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &dest]);
        let v: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
        assert_eq!(v["mediaType"], V2);
        let h = curl(
            "HEAD",
            &format!("{}/v2/converted/manifests/v2s2", s.url),
            &[],
            None,
        );
        assert_eq!(h.header("Content-Type"), Some(V2));
        let pulled = env.path("pulled-v2s2");
        skopeo(&[
            "copy",
            "--src-tls-verify=false",
            &dest,
            &format!("oci:{}:v1", pulled.display()),
        ]);
    }
}

/// Sends a request with a body that stops short of its Content-Length and returns the open
/// connection (dropping it is the client going away).
fn half_request(
    host: &str,
    method: &str,
    path: &str,
    declared: usize,
    sent: &[u8],
) -> std::net::TcpStream {
    use std::io::Write;
    let mut c = std::net::TcpStream::connect(host).unwrap();
    write!(
        c,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/octet-stream\r\nContent-Length: {declared}\r\n\r\n"
    )
    .unwrap();
    c.write_all(sent).unwrap();
    c.flush().unwrap();
    c
}

fn poll_until(what: &str, mut f: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !f() {
        assert!(
            std::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_client_gone_mid_chunk_ends_its_session_and_a_killed_server_leaves_no_blob() {
    let env = Env::new();
    let s = serve(&env, &[]);
    let start = curl(
        "POST",
        &format!("{}/v2/gone/blobs/uploads/", s.url),
        &[],
        None,
    );
    let loc = start.header("Location").unwrap().to_string();
    let conn = half_request(&s.host, "PATCH", &loc, 100_000, &[1u8; 1000]);
    let tmp_files = || common::temp_files(&env.path("b"));
    poll_until("the chunk to reach the server", || {
        curl("GET", &format!("{}{loc}", s.url), &[], None).status == 409
    });
    drop(conn);
    poll_until("the session to end", || {
        curl("GET", &format!("{}{loc}", s.url), &[], None).status == 404
    });
    poll_until("its temp file to go", || tmp_files() == 0);

    // SIGKILL in the middle of a monolithic upload: nothing becomes visible
    let before = snapshot(&env.path("b"));
    let data = vec![9u8; 200_000];
    let d = sha(&data);
    let _conn = half_request(
        &s.host,
        "POST",
        &format!("/v2/gone/blobs/uploads/?digest={d}"),
        data.len(),
        &data[..50_000],
    );
    poll_until("the upload to start", || tmp_files() > 0);
    let mut s = s;
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    assert_eq!(
        snapshot(&env.path("b")),
        before,
        "a killed upload left something visible"
    );
    assert!(!env.path("b/blobs/sha256").join(&d[7..]).exists());
    env.nora("b", &["verify"]).assert().success();
    // a fresh server answers for the same bundle
    let s2 = Server::start(env.dir.path(), &env.path("b"), &[]);
    let r = curl("HEAD", &format!("{}/v2/gone/blobs/{d}", s2.url), &[], None);
    assert_eq!(r.status, 404);
}
