//! `nora serve` as a Maven repository: `mvn deploy:deploy-file` of a release and of a
//! SNAPSHOT twice, a consumer project resolving through a settings.xml mirror of `*` with
//! strict checksums, generated metadata and checksums, authentication, and refused deploys
//! that change nothing.

mod common;

use common::ok;

use common::server::{curl, require, Server};
use common::{fixtures, snapshot, Env};
use std::path::{Path, PathBuf};

const DEPLOY: &str = "org.apache.maven.plugins:maven-deploy-plugin:3.0.0:deploy-file";
const COPY: &str = "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:copy-dependencies";

fn settings(env: &Env, s: &Server, password: &str, tag: &str) -> PathBuf {
    common::clients::maven_settings(&env.path(&format!("mvn-{tag}")), &s.url, password)
}

fn mvn(dir: &Path, settings: &Path, args: &[&str]) -> std::process::Output {
    common::clients::mvn(dir, settings, args)
}

fn deploy(
    dir: &Path,
    settings: &Path,
    s: &Server,
    file: &Path,
    a: &str,
    v: &str,
) -> std::process::Output {
    mvn(
        dir,
        settings,
        &[
            DEPLOY,
            &format!("-Dfile={}", file.display()),
            "-DgroupId=com.example",
            &format!("-DartifactId={a}"),
            &format!("-Dversion={v}"),
            "-Dpackaging=jar",
            "-DgeneratePom=true",
            &format!("-Durl={}/maven2/", s.url),
            "-DrepositoryId=nora",
        ],
    )
}

#[test]
fn deploy_release_and_snapshots_then_resolve_with_strict_checksums() {
    if !require("mvn") {
        return;
    }
    let env = Env::new();
    env.init("b");
    let s = Server::start(env.dir.path(), &env.path("b"), &[]);
    let set = settings(&env, &s, "unused", "deploy");
    let work = env.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let release = fixtures::jar(&work, "com.example", "other", "1.0");
    ok(&deploy(&work, &set, &s, &release, "other", "1.0"));
    let snap1 = fixtures::jar(&work, "com.example", "lib", "first");
    ok(&deploy(&work, &set, &s, &snap1, "lib", "1.1-SNAPSHOT"));
    let snap2 = fixtures::jar(&work, "com.example", "lib", "second");
    ok(&deploy(&work, &set, &s, &snap2, "lib", "1.1-SNAPSHOT"));

    let meta = curl(
        "GET",
        &format!(
            "{}/maven2/com/example/lib/1.1-SNAPSHOT/maven-metadata.xml",
            s.url
        ),
        &[],
        None,
    );
    assert_eq!(meta.status, 200);
    assert!(
        meta.text().contains("<buildNumber>2</buildNumber>"),
        "{}",
        meta.text()
    );
    let sha1 = curl(
        "GET",
        &format!(
            "{}/maven2/com/example/lib/1.1-SNAPSHOT/maven-metadata.xml.sha1",
            s.url
        ),
        &[],
        None,
    );
    use sha1::Digest;
    assert_eq!(sha1.text(), hex::encode(sha1::Sha1::digest(&meta.body)));
    let top = curl(
        "GET",
        &format!("{}/maven2/com/example/other/maven-metadata.xml", s.url),
        &[],
        None,
    );
    assert!(
        top.text().contains("<release>1.0</release>"),
        "{}",
        top.text()
    );

    // a consumer project, resolving only through nora, checksums enforced (-C)
    let app = env.path("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("pom.xml"),
        r#"<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>com.example</groupId><artifactId>app</artifactId><version>1</version><packaging>pom</packaging>
<dependencies>
<dependency><groupId>com.example</groupId><artifactId>lib</artifactId><version>1.1-SNAPSHOT</version></dependency>
<dependency><groupId>com.example</groupId><artifactId>other</artifactId><version>1.0</version></dependency>
</dependencies></project>"#,
    )
    .unwrap();
    let consumer = settings(&env, &s, "unused", "consumer");
    ok(&mvn(&app, &consumer, &[COPY, "-DoutputDirectory=libs"]));
    assert_eq!(
        std::fs::read(app.join("libs/lib-1.1-SNAPSHOT.jar")).unwrap(),
        std::fs::read(&snap2).unwrap(),
        "the newest SNAPSHOT is resolved"
    );
    assert_eq!(
        std::fs::read(app.join("libs/other-1.0.jar")).unwrap(),
        std::fs::read(&release).unwrap()
    );

    let ls = env.nora("b", &["ls", "maven"]).output().unwrap();
    assert!(String::from_utf8_lossy(&ls.stdout).contains("com/example/lib/1.1-SNAPSHOT"));
    env.nora("b", &["verify"]).assert().success();
}

#[test]
fn tokens_decide_who_deploys() {
    if !require("mvn") {
        return;
    }
    let env = Env::new();
    env.init("b");
    let (read, write) = (
        env.token("b", "read", "read"),
        env.token("b", "write", "write"),
    );
    let s = Server::start(env.dir.path(), &env.path("b"), &["--auth"]);
    let work = env.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let jar = fixtures::jar(&work, "com.example", "guarded", "1.0");
    let refused = deploy(
        &work,
        &settings(&env, &s, &read, "r"),
        &s,
        &jar,
        "guarded",
        "1.0",
    );
    assert!(!refused.status.success(), "a read token cannot deploy");
    ok(&deploy(
        &work,
        &settings(&env, &s, &write, "w"),
        &s,
        &jar,
        "guarded",
        "1.0",
    ));
    assert_eq!(
        curl(
            "GET",
            &format!("{}/maven2/com/example/guarded/1.0/guarded-1.0.jar", s.url),
            &[],
            None
        )
        .status,
        401
    );
}

#[test]
fn bad_deploys_and_paths_change_nothing() {
    let env = Env::new();
    env.init("b");
    let s = Server::start(
        env.dir.path(),
        &env.path("b"),
        &["--publish-max-size", "64KiB"],
    );
    let u = |p: &str| format!("{}/maven2/{p}", s.url);
    let jar = b"jar bytes";
    assert_eq!(
        curl("PUT", &u("com/example/lib/1.0/lib-1.0.jar"), &[], Some(jar)).status,
        201
    );
    use sha1::Digest;
    let good = hex::encode(sha1::Sha1::digest(jar));
    assert_eq!(
        curl(
            "PUT",
            &u("com/example/lib/1.0/lib-1.0.jar.sha1"),
            &[],
            Some(good.as_bytes())
        )
        .status,
        201
    );
    assert_eq!(
        curl("PUT", &u("com/example/lib/1.0/lib-1.0.jar"), &[], Some(jar)).status,
        200,
        "the same bytes again are fine"
    );

    let before = snapshot(&env.path("b"));
    for (p, body, status) in [
        ("com/example/lib/1.0/lib-1.0.jar", &b"other bytes"[..], 409),
        (
            "com/example/lib/1.0/lib-1.0.jar.sha1",
            &b"0000000000000000000000000000000000000000"[..],
            400,
        ),
        ("com/example/lib/1.0/other-1.0.jar", &b"x"[..], 400),
        ("com/example/lib/1.0/lib-2.0.jar", &b"x"[..], 400),
        ("lib/1.0/lib-1.0.jar", &b"x"[..], 400),
        (
            "com/example/lib/1.0/lib-1.0-big.jar",
            &[0u8; 100_000][..],
            413,
        ),
        ("com/../../etc/lib/1.0/lib-1.0.jar", &b"x"[..], 400),
        ("com/example/%2e%2e/1.0/lib-1.0.jar", &b"x"[..], 400),
        ("com%2fexample/lib/1.0/lib-1.0.jar", &b"x"[..], 400),
        ("com/exa$mple/lib/1.0/lib-1.0.jar", &b"x"[..], 400),
    ] {
        let r = curl("PUT", &u(p), &[], Some(body));
        assert_eq!(r.status, status, "PUT {p}: {}", r.text());
    }
    assert_eq!(snapshot(&env.path("b")), before);
    let g = curl("GET", &u("com/example/lib/1.0/lib-1.0.jar"), &[], None);
    assert_eq!(g.body, jar);
    for algo in ["sha1", "md5", "sha256", "sha512"] {
        let r = curl(
            "GET",
            &u(&format!("com/example/lib/1.0/lib-1.0.jar.{algo}")),
            &[],
            None,
        );
        assert_eq!(r.status, 200, "{algo}");
    }
    assert_eq!(
        curl("GET", &u("com/example/lib/1.0/lib-1.0.jar.sha1"), &[], None).text(),
        good
    );
    assert_eq!(
        curl(
            "GET",
            &u("com/example/nothing/maven-metadata.xml"),
            &[],
            None
        )
        .status,
        404
    );
}
