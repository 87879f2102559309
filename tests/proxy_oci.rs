//! `nora serve --upstream oci=URL` with Debian's docker-registry as the upstream: a CI
//! job's `skopeo copy` of one platform through nora fills the bundle with that platform
//! only (the other recorded as absent), which pulls offline across the gap; a tag is kept
//! and answered while the upstream is down; a layer that is not what its digest says is
//! refused and nothing stored.

mod common;

use common::ok;

use common::clients::skopeo;

use common::fixtures::oci_layout;
use common::server::{curl, dead_url, get, pull_through, require, Server};
use common::upstream::{Route, Upstream};
use common::{hex_sha256, snapshot, Env};
use std::path::Path;
use std::process::Output;

fn pull(server: &Server, arch: &str, dest: &Path) -> Output {
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--override-arch",
        arch,
        &format!(
            "docker://{}/org/multi:1.0",
            server.url.trim_start_matches("http://")
        ),
        &format!("oci:{}:pulled", dest.display()),
    ])
}

/// `(manifest digest, layer digest)` of each platform of the index in `layout`, by arch.
fn platforms(layout: &Path, index: &str) -> Vec<(String, String, String)> {
    let blob = |d: &str| {
        let bytes = std::fs::read(layout.join("blobs/sha256").join(&d[7..])).unwrap();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
    };
    blob(index)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let d = m["digest"].as_str().unwrap().to_string();
            let layer = blob(&d)["layers"][0]["digest"]
                .as_str()
                .unwrap()
                .to_string();
            (
                m["platform"]["architecture"].as_str().unwrap().to_string(),
                d,
                layer,
            )
        })
        .collect()
}

fn has_blob(env: &Env, bundle: &str, digest: &str) -> bool {
    snapshot(&env.path(bundle))
        .keys()
        .any(|k| k.starts_with("blobs/") && k.ends_with(&digest[7..]))
}

#[test]
fn a_ci_pull_through_nora_fills_the_bundle_that_pulls_offline() {
    if !require("skopeo") {
        return;
    }
    let env = Env::new();
    let Some(reg) = common::peers::docker_registry(&env.path("registry")) else {
        return;
    };
    let layout = env.path("multi");
    let index = oci_layout(&layout, "app", "v1", "multi");
    ok(&skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &format!("oci:{}:app:v1", layout.display()),
        &format!(
            "docker://{}/org/multi:1.0",
            reg.url.trim_start_matches("http://")
        ),
    ]));
    let p = platforms(&layout, &index);
    let (amd, arm) = (
        p.iter().find(|x| x.0 == "amd64").unwrap().clone(),
        p.iter().find(|x| x.0 == "arm64").unwrap().clone(),
    );

    // side A: the CI job pulls one platform through nora
    env.init("a");
    let a = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("oci={}", reg.url),
        Some("0s"),
    );
    ok(&pull(&a, "amd64", &env.path("out-a1")));
    assert!(
        has_blob(&env, "a", &index) && has_blob(&env, "a", &amd.1) && has_blob(&env, "a", &amd.2)
    );
    assert!(
        !has_blob(&env, "a", &arm.1) && !has_blob(&env, "a", &arm.2),
        "only the platform the client asked for"
    );
    let ls = String::from_utf8_lossy(&env.nora("a", &["ls", "oci"]).output().unwrap().stdout)
        .into_owned();
    assert!(ls.contains("org/multi:1.0"), "{ls}");
    env.nora("a", &["verify"]).assert().success();
    let tags = get(&format!("{}/v2/org/multi/tags/list", a.url));
    assert_eq!(tags.json()["tags"], serde_json::json!(["1.0"]));

    // the upstream goes down: the kept tag answers, the platform held pulls
    drop(reg);
    ok(&pull(&a, "amd64", &env.path("out-a2")));
    assert!(
        a.log().contains("upstream down; answering the kept copy"),
        "{}",
        a.log()
    );
    let before = snapshot(&env.path("a"));
    let r = curl(
        "GET",
        &format!("{}/v2/org/multi/manifests/{}", a.url, arm.1),
        &["Accept: application/vnd.oci.image.manifest.v1+json"],
        None,
    );
    r.expect(502, "upstream unavailable");
    let r = get(&format!("{}/v2/org/none/manifests/1.0", a.url));
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(snapshot(&env.path("a")), before);
    drop(a);

    // across the gap: B pulls the platform with no upstream at all
    let b = env.across("a", "b");
    ok(&pull(&b, "amd64", &env.path("out-b")));
    assert!(!pull(&b, "arm64", &env.path("out-b-arm")).status.success());
}

#[test]
fn a_layer_that_is_not_its_digest_is_refused() {
    let env = Env::new();
    let (config, layer) = (
        br#"{"os":"linux","architecture":"amd64"}"#.to_vec(),
        b"a layer".to_vec(),
    );
    let digest = |b: &[u8]| format!("sha256:{}", hex_sha256(b));
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}]}}"#,
        digest(&config),
        config.len(),
        digest(&layer),
        layer.len()
    );
    let route = |body: Vec<u8>| Route {
        body,
        ..Default::default()
    };
    let up = Upstream::start(vec![
        (
            "/v2/bad/manifests/1.0",
            route(manifest.clone().into_bytes()),
        ),
        (
            &format!("/v2/bad/blobs/{}", digest(&config)),
            route(config.clone()),
        ),
        // the layer served is not the one the manifest names
        (
            &format!("/v2/bad/blobs/{}", digest(&layer)),
            route(b"another layer".to_vec()),
        ),
        // a manifest asked for by a digest it does not have
        (
            &format!("/v2/bad/manifests/{}", digest(b"x")),
            route(manifest.clone().into_bytes()),
        ),
    ]);
    env.init("a");
    let s = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("oci={}", up.url),
        None,
    );
    let r = get(&format!("{}/v2/bad/manifests/1.0", s.url));
    r.expect(502, "hash mismatch");
    assert!(!has_blob(&env, "a", &digest(b"another layer")));
    let r = get(&format!("{}/v2/bad/manifests/{}", s.url, digest(b"x")));
    r.expect(502, "its manifest is");
    let r = get(&format!("{}/v2/nope/manifests/1.0", s.url));
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.json()["errors"][0]["code"], "MANIFEST_UNKNOWN");
    let ls = String::from_utf8_lossy(&env.nora("a", &["ls", "oci"]).output().unwrap().stdout)
        .into_owned();
    assert!(
        ls.lines()
            .filter(|l| l.contains("bad"))
            .all(|l| l.contains(" upstream ")),
        "only the kept tag manifest, no image: {ls}"
    );
    assert!(!ls.contains("bad:1.0"), "{ls}");
    drop(s);

    let down = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("oci={}", dead_url()),
        None,
    );
    let r = get(&format!("{}/v2/x/blobs/{}", down.url, digest(b"y")));
    assert_eq!(r.status, 502, "{}", r.text());
}
