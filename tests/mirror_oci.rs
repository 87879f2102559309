//! `nora mirror --image` from a real registry (Debian's docker-registry) and from a second
//! `nora serve` behind the Docker token flow: one platform of a multi-platform index and a
//! single image carried across the gap and pulled with skopeo from the far side alone; the
//! platform left out answers a clear error; referrers come along when asked.

mod common;

use common::ok;

use common::clients::skopeo;

use common::fixtures::oci_layout;
use common::server::{curl, require, Server};
use common::{json, snapshot, Env};
use std::process::Output;

fn mirror(env: &Env, bundle: &str, args: &[&str]) -> Output {
    let mut all = vec!["--json", "mirror"];
    all.extend(args);
    env.nora(bundle, &all).output().unwrap()
}

#[test]
fn from_docker_registry_one_platform_across_the_gap() {
    if !require("skopeo") {
        return;
    }
    let env = Env::new();
    let Some(reg) = common::peers::docker_registry(&env.path("registry")) else {
        return;
    };
    let host = reg.url.trim_start_matches("http://").to_string();
    let multi_layout = env.path("multi");
    let index = oci_layout(&multi_layout, "app", "v1", "multi");
    ok(&skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &format!("oci:{}:app:v1", multi_layout.display()),
        &format!("docker://{host}/org/multi:1.0"),
    ]));
    let single_layout = env.path("single");
    oci_layout(&single_layout, "app", "v1", "single");
    ok(&skopeo(&[
        "copy",
        "--override-arch",
        "amd64",
        "--dest-tls-verify=false",
        &format!("oci:{}:app:v1", single_layout.display()),
        &format!("docker://{host}/org/single:1.0"),
    ]));

    let multi = format!("{host}/org/multi:1.0");
    let single = format!("{host}/org/single:1.0");
    env.init("a");
    let args = [
        "--image",
        &multi,
        "--platform",
        "linux/amd64",
        "--image",
        &single,
    ];
    let out = mirror(&env, "a", &args);
    let r = common::ok_json(&out);
    assert_eq!(
        (r["added"].as_u64(), r["failed"].as_u64()),
        (Some(2), Some(0)),
        "{r}"
    );
    let again = json(&mirror(&env, "a", &args));
    assert_eq!(
        (
            again["added"].as_u64(),
            again["skipped"].as_u64(),
            again["bytes"].as_u64()
        ),
        (Some(0), Some(2), Some(0)),
        "{again}"
    );

    // bad input, each a clear error and an unchanged bundle
    env.init("c");
    let before = snapshot(&env.path("c"));
    let fails = |args: &[&str], want: &str| {
        let out = mirror(&env, "c", args);
        assert_eq!(out.status.code(), Some(1));
        let r = json(&out);
        let e = r["items"][0]["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(e.contains(want), "{e}");
        assert_eq!(snapshot(&env.path("c")), before);
    };
    fails(
        &["--image", &format!("{host}/org/nosuch:1.0")],
        "does not exist upstream",
    );
    fails(
        &["--image", &multi, "--platform", "linux/s390x"],
        "has no manifest for the platforms asked for; it has linux/amd64, linux/arm64",
    );
    let wrong = format!("{host}/org/multi@sha256:{}", "0".repeat(64));
    fails(&["--image", &wrong], "does not exist upstream");
    drop(reg);

    env.carry("a", "b");
    // the platform left out is nothing gc or verify trips over
    env.nora("b", &["gc"]).assert().success();
    env.nora("b", &["verify"]).assert().success();
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    let far_host = far.host.clone();
    let raw = ok(&skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{far_host}/org/multi:1.0"),
    ]));
    assert_eq!(
        common::sha256_hex(raw.as_bytes()),
        index,
        "the index crosses byte for byte"
    );
    let pulled = env.path("pulled");
    ok(&skopeo(&[
        "copy",
        "--override-arch",
        "amd64",
        "--src-tls-verify=false",
        &format!("docker://{far_host}/org/multi:1.0"),
        &format!("oci:{}:amd64", pulled.display()),
    ]));
    ok(&skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{far_host}/org/single:1.0"),
        &format!("oci:{}:single", pulled.display()),
    ]));
    let arm = skopeo(&[
        "copy",
        "--override-arch",
        "arm64",
        "--src-tls-verify=false",
        &format!("docker://{far_host}/org/multi:1.0"),
        &format!("oci:{}:arm64", pulled.display()),
    ]);
    assert!(!arm.status.success());
    let err = String::from_utf8_lossy(&arm.stderr);
    assert!(
        err.contains("was not mirrored into this bundle") && err.contains("--platform linux/arm64"),
        "{err}"
    );
}

#[test]
fn from_a_nora_behind_the_token_flow_with_referrers() {
    let env = Env::new();
    env.init("up");
    let layout = env.path("layout");
    let index = oci_layout(&layout, "app", "v1", "signed");
    env.nora(
        "up",
        &[
            "add",
            "oci",
            layout.to_str().unwrap(),
            "--name",
            "org/signed:1.0",
        ],
    )
    .assert()
    .success();
    let writer = env.token("up", "ci", "write");
    let reader = env.token("up", "mirror", "read");
    let up = Server::start(env.dir.path(), &env.path("up"), &["--auth"]);
    // an SBOM whose subject is the index
    use base64::Engine as _;
    let basic = format!(
        "Authorization: Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("ci:{writer}"))
    );
    let empty = common::sha256_hex(b"{}");
    let r = curl(
        "POST",
        &format!("{}/v2/org/signed/blobs/uploads/?digest={empty}", up.url),
        &[&basic],
        Some(b"{}"),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let sbom = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/spdx+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{empty}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{empty}","size":2}}],"subject":{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{index}","size":1}}}}"#
    );
    let sbom_digest = common::sha256_hex(sbom.as_bytes());
    let ct = "Content-Type: application/vnd.oci.image.manifest.v1+json";
    let r = curl(
        "PUT",
        &format!("{}/v2/org/signed/manifests/{sbom_digest}", up.url),
        &[&basic, ct],
        Some(sbom.as_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.text());

    let image = format!("{}/org/signed:1.0", up.host);
    env.init("a");
    // without credentials the registry's challenge cannot be answered
    let out = mirror(&env, "a", &["--image", &image]);
    assert_eq!(out.status.code(), Some(1));
    let e = json(&out)["items"][0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(e.contains("upstream answered 401"), "{e}");
    let out = env
        .nora("a", &["--json", "mirror", "--image", &image, "--referrers"])
        .env("NORA_OCI_USERNAME", "mirror")
        .env("NORA_OCI_PASSWORD", &reader)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&reader),
        "no secret in the report"
    );
    drop(up);

    env.carry("a", "b");
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    let refs = curl(
        "GET",
        &format!("{}/v2/org/signed/referrers/{index}", far.url),
        &[],
        None,
    )
    .json();
    assert_eq!(
        refs["manifests"][0]["digest"],
        sbom_digest.as_str(),
        "{refs}"
    );
    assert_eq!(
        refs["manifests"][0]["artifactType"],
        "application/spdx+json"
    );
    let m = curl(
        "GET",
        &format!("{}/v2/org/signed/manifests/1.0", far.url),
        &[],
        None,
    );
    assert_eq!(common::sha256_hex(&m.body), index);
}
