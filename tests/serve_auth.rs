//! `nora serve` with authentication: htpasswd users and API tokens, roles, anonymous read,
//! the Docker token flow (curl and `skopeo login`), revocation, and no secrets in logs.

mod common;

use base64::Engine;
use common::server::{curl, require, Server};
use common::Env;

struct Setup {
    env: Env,
    read: String,
    write: String,
    admin: String,
}

fn setup() -> Setup {
    let env = Env::new();
    env.init("b");
    let hash = bcrypt::hash("alice-pw", 4).unwrap();
    std::fs::write(env.path("users.htpasswd"), format!("alice:{hash}\n")).unwrap();
    let read = env.token("b", "reader", "read");
    let write = env.token("b", "ci", "write");
    let admin = env.token("b", "ops", "admin");
    Setup {
        env,
        read,
        write,
        admin,
    }
}

fn bearer(t: &str) -> String {
    format!("Authorization: Bearer {t}")
}

fn basic(user: &str, pw: &str) -> String {
    format!(
        "Authorization: Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    )
}

#[test]
fn roles_challenges_and_revocation() {
    let st = setup();
    let env = &st.env;
    let htpasswd = env.path("users.htpasswd");
    let s = Server::start(
        env.dir.path(),
        &env.path("b"),
        &["--htpasswd", htpasswd.to_str().unwrap()],
    );
    let u = |p: &str| format!("{}{p}", s.url);

    // without credentials: challenges in each protocol's form; probes stay open
    let r = curl("GET", &u("/v2/"), &[], None);
    assert_eq!(r.status, 401);
    assert_eq!(r.oci_code(), "UNAUTHORIZED");
    let ch = r.header("WWW-Authenticate").unwrap();
    assert!(ch.starts_with("Bearer realm=\"http://127.0.0.1:"), "{ch}");
    assert!(
        ch.contains("/v2/token\"") && ch.contains("service=\"nora\""),
        "{ch}"
    );
    let r = curl("GET", &u("/raw/x"), &[], None);
    assert_eq!(
        (r.status, r.header("WWW-Authenticate")),
        (401, Some("Basic realm=\"nora\""))
    );
    assert_eq!(curl("GET", &u("/health"), &[], None).status, 200);
    assert_eq!(curl("GET", &u("/ready"), &[], None).status, 200);
    let r = curl("GET", &u("/v2/"), &[&bearer("nora_0000_wrong")], None);
    assert_eq!(r.status, 401);

    // write token pushes; read token reads but may not push
    let r = curl(
        "PUT",
        &u("/raw/f.txt"),
        &[&bearer(&st.write)],
        Some(b"data"),
    );
    assert_eq!(r.status, 201);
    let r = curl("GET", &u("/raw/f.txt"), &[&bearer(&st.read)], None);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"data"[..]));
    let r = curl("PUT", &u("/raw/g.txt"), &[&bearer(&st.read)], Some(b"no"));
    assert_eq!(r.status, 403);
    assert!(
        r.text().contains("token:reader has role read"),
        "{}",
        r.text()
    );
    let r = curl(
        "PUT",
        &u("/v2/app/manifests/v1"),
        &[&bearer(&st.read)],
        Some(b"{}"),
    );
    assert_eq!((r.status, r.oci_code().as_str()), (403, "DENIED"));
    // a token as the password of Basic auth, any user name
    let r = curl(
        "GET",
        &u("/raw/f.txt"),
        &[&basic("whoever", &st.read)],
        None,
    );
    assert_eq!(r.status, 200);
    // htpasswd user
    assert_eq!(
        curl(
            "GET",
            &u("/raw/f.txt"),
            &[&basic("alice", "alice-pw")],
            None
        )
        .status,
        200
    );
    assert_eq!(
        curl("GET", &u("/raw/f.txt"), &[&basic("alice", "nope")], None).status,
        401
    );
    // metrics need admin
    assert_eq!(
        curl("GET", &u("/metrics"), &[&bearer(&st.write)], None).status,
        403
    );
    assert_eq!(
        curl("GET", &u("/metrics"), &[&bearer(&st.admin)], None).status,
        200
    );

    // the Docker token flow
    let t = curl(
        "GET",
        &u("/v2/token?service=nora&scope=repository:app:pull"),
        &[&basic("alice", "alice-pw")],
        None,
    );
    assert_eq!(t.status, 200);
    let session = t.json()["token"].as_str().unwrap().to_string();
    assert_eq!(t.json()["expires_in"], 300);
    assert_eq!(
        curl("GET", &u("/v2/"), &[&bearer(&session)], None).status,
        200
    );
    let t = curl(
        "GET",
        &u("/v2/token?service=nora"),
        &[&basic("alice", "bad")],
        None,
    );
    assert_eq!(t.status, 401);

    // revocation takes effect at once
    env.nora("b", &["token", "revoke", "reader"])
        .assert()
        .success();
    assert_eq!(
        curl("GET", &u("/raw/f.txt"), &[&bearer(&st.read)], None).status,
        401
    );

    let log = s.log();
    for secret in [
        &st.read,
        &st.write,
        &st.admin,
        &session,
        &"alice-pw".to_string(),
    ] {
        assert!(!log.contains(secret.as_str()), "a secret reached the log");
    }
    assert!(log.contains("user=\"token:ci\""), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("status=403") && l.contains("user=\"token:reader\"")),
        "refusals name the caller: {log}"
    );
}

#[test]
fn anonymous_read_allows_pulls_only() {
    let st = setup();
    let env = &st.env;
    let s = Server::start(env.dir.path(), &env.path("b"), &["--anonymous-read"]);
    let u = |p: &str| format!("{}{p}", s.url);
    assert_eq!(
        curl("PUT", &u("/raw/a"), &[&bearer(&st.write)], Some(b"x")).status,
        201
    );
    assert_eq!(curl("GET", &u("/raw/a"), &[], None).status, 200);
    assert_eq!(curl("PUT", &u("/raw/b"), &[], Some(b"x")).status, 401);
    let t = curl("GET", &u("/v2/token?service=nora"), &[], None);
    assert_eq!(t.status, 200, "anonymous readers get a pull token");
}

#[test]
fn skopeo_login_and_push_through_the_token_flow() {
    if !require("skopeo") {
        return;
    }
    let st = setup();
    let env = &st.env;
    let htpasswd = env.path("users.htpasswd");
    let s = Server::start(
        env.dir.path(),
        &env.path("b"),
        &["--htpasswd", htpasswd.to_str().unwrap()],
    );
    let layout = env.path("layout");
    let index = common::fixtures::oci_layout(&layout, "app", "v1", "login");
    let authfile = env.path("auth.json");
    let run = |args: &[&str]| {
        std::process::Command::new("skopeo")
            .args(["--command-timeout", "60s"])
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&[
        "login",
        "--tls-verify=false",
        "--authfile",
        authfile.to_str().unwrap(),
        "-u",
        "alice",
        "-p",
        "alice-pw",
        &s.host,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let src = format!("oci:{}:app:v1", layout.display());
    let dest = format!("docker://{}/secure/app:v1", s.host);
    let o = run(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-authfile",
        authfile.to_str().unwrap(),
        &src,
        &dest,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--authfile",
        authfile.to_str().unwrap(),
        &dest,
    ]);
    assert!(o.status.success());
    use sha2::Digest;
    assert_eq!(
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&o.stdout))),
        index
    );

    // without credentials, and with a read token, pushes are refused
    let o = run(&[
        "copy",
        "--all",
        "--dest-tls-verify=false",
        &src,
        &format!("docker://{}/secure/other:v1", s.host),
    ]);
    assert!(!o.status.success());
    let creds = format!("reader:{}", st.read);
    let o = run(&[
        "copy",
        "--all",
        "--dest-tls-verify=false",
        "--dest-creds",
        &creds,
        &src,
        &format!("docker://{}/secure/other:v1", s.host),
    ]);
    assert!(!o.status.success(), "a read token cannot push");
    let o = run(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        &creds,
        &dest,
    ]);
    assert!(
        o.status.success(),
        "a read token pulls: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_session_ends_with_the_token_it_was_issued_for_and_any_server_of_the_bundle_honours_it() {
    let st = setup();
    let env = &st.env;
    let s = Server::start(env.dir.path(), &env.path("b"), &["--auth"]);
    let other = Server::start(env.dir.path(), &env.path("b"), &["--auth"]);
    let session = |token: &str| {
        let t = curl(
            "GET",
            &format!("{}/v2/token?service=nora", s.url),
            &[&basic("ci", token)],
            None,
        );
        assert_eq!(t.status, 200, "{}", t.text());
        t.json()["token"].as_str().unwrap().to_string()
    };
    let writer = session(&st.write);
    let reader = session(&st.read);
    for server in [&s, &other] {
        let u = |p: &str| format!("{}{p}", server.url);
        assert_eq!(
            curl(
                "PUT",
                &u(&format!("/raw/{}.txt", server.host)),
                &[&bearer(&writer)],
                Some(b"x")
            )
            .status,
            201,
            "a session works on every mount and on every server of the bundle"
        );
        assert_eq!(
            curl("GET", &u("/v2/"), &[&bearer(&reader)], None).status,
            200
        );
        assert_eq!(
            curl("PUT", &u("/raw/r.txt"), &[&bearer(&reader)], Some(b"x")).status,
            403,
            "a session has its token's role"
        );
    }
    // a forged or altered session is refused
    let (payload, mac) = writer.split_once('.').unwrap();
    let forged = format!("{payload}.{}", mac.chars().rev().collect::<String>());
    assert_eq!(
        curl("GET", &format!("{}/v2/", s.url), &[&bearer(&forged)], None).status,
        401
    );

    env.nora("b", &["token", "revoke", "ci"]).assert().success();
    for server in [&s, &other] {
        let u = |p: &str| format!("{}{p}", server.url);
        assert_eq!(
            curl("PUT", &u("/raw/t.txt"), &[&bearer(&writer)], Some(b"x")).status,
            401,
            "revoking a token ends its sessions at once"
        );
        assert_eq!(
            curl("GET", &u("/v2/"), &[&bearer(&writer)], None).status,
            401
        );
        assert_eq!(
            curl("GET", &u("/npm/x"), &[&bearer(&writer)], None).status,
            401
        );
        assert_eq!(
            curl("GET", &u("/v2/"), &[&bearer(&reader)], None).status,
            200
        );
    }
    let key = env.path("b/auth/session.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let mut s = s;
    assert!(s.stop().success());
}
