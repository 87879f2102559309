//! `nora serve --upstream maven=URL` with a static Maven repository directory as the
//! upstream: a CI job's `mvn dependency:resolve` (a version range, so Maven reads
//! maven-metadata.xml) through nora fills the bundle, which resolves offline across the
//! gap; metadata is kept and answered while the upstream is down; a file whose `.sha1`
//! does not match is refused and nothing stored.

mod common;

use common::ok;

use common::clients::{maven_settings, mvn};
use common::server::{dead_url, get, pull_through, require};
use common::upstream::Upstream;
use common::{snapshot, Env};
use sha1::Digest as _;
use std::path::Path;

const RESOLVE: &str = "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:resolve";

fn put(root: &Path, rel: &str, bytes: &[u8], sha1: Option<&[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    if let Some(of) = sha1 {
        std::fs::write(
            root.join(format!("{rel}.sha1")),
            hex::encode(sha1::Sha1::digest(of)),
        )
        .unwrap();
    }
}

fn pom(a: &str, v: &str, deps: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>\
         <groupId>org.acme</groupId><artifactId>{a}</artifactId><version>{v}</version><packaging>jar</packaging>\
         <dependencies>{deps}</dependencies></project>\n"
    )
}

/// lib-a 1.0 depends on lib-b `[1.0,2.0)`; lib-b has 1.0 and 2.0.
fn repository(env: &Env) -> std::path::PathBuf {
    let root = env.path("static");
    let jars = env.path("jars");
    std::fs::create_dir_all(&jars).unwrap();
    let dep = "<dependency><groupId>org.acme</groupId><artifactId>lib-b</artifactId><version>[1.0,2.0)</version></dependency>";
    for (a, v, deps) in [
        ("lib-a", "1.0", dep),
        ("lib-b", "1.0", ""),
        ("lib-b", "2.0", ""),
    ] {
        let dir = format!("org/acme/{a}/{v}");
        let p = pom(a, v, deps);
        put(
            &root,
            &format!("{dir}/{a}-{v}.pom"),
            p.as_bytes(),
            Some(p.as_bytes()),
        );
        let jar = std::fs::read(common::fixtures::jar(&jars, "org.acme", a, v)).unwrap();
        put(&root, &format!("{dir}/{a}-{v}.jar"), &jar, Some(&jar));
    }
    let meta = "<?xml version=\"1.0\"?>\n<metadata><groupId>org.acme</groupId><artifactId>lib-b</artifactId>\
                <versioning><latest>2.0</latest><release>2.0</release><versions>\n      <version>1.0</version>\n      <version>2.0</version>\n    </versions>\
                <lastUpdated>20260101000000</lastUpdated></versioning></metadata>\n";
    put(
        &root,
        "org/acme/lib-b/maven-metadata.xml",
        meta.as_bytes(),
        Some(meta.as_bytes()),
    );
    root
}

fn resolve(env: &Env, app: &Path, url: &str, local: &str) -> String {
    let settings = maven_settings(&env.path(local), url, "unused");
    let o = mvn(app, &settings, &[RESOLVE, "-DoutputFile=deps.txt"]);
    ok(&o);
    std::fs::read_to_string(app.join("deps.txt")).unwrap()
}

#[test]
fn a_ci_resolve_through_nora_fills_the_bundle_that_resolves_offline() {
    if !require("mvn") {
        return;
    }
    let env = Env::new();
    let root = repository(&env);
    let up = Upstream::serve_dir(&root);
    let app = env.path("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("pom.xml"),
        pom(
            "app",
            "1.0",
            "<dependency><groupId>org.acme</groupId><artifactId>lib-a</artifactId><version>1.0</version></dependency>",
        )
        .replace("<groupId>org.acme</groupId><artifactId>app</artifactId>", "<groupId>org.example</groupId><artifactId>app</artifactId>"),
    )
    .unwrap();

    // side A: the CI job's mvn points at nora, which pulls through
    env.init("a");
    let a = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("maven={}", up.url),
        Some("0s"),
    );
    let deps = resolve(&env, &app, &a.url, "mvn-a1");
    assert!(
        deps.contains("org.acme:lib-a:jar:1.0:compile")
            && deps.contains("org.acme:lib-b:jar:1.0:compile"),
        "{deps}"
    );
    let held = env.ls("a", "maven");
    assert!(
        held.contains("lib-a-1.0.jar") && held.contains("lib-b-1.0.jar"),
        "{held}"
    );
    assert!(
        !held.contains("lib-b-2.0"),
        "only what the build used: {held}"
    );
    assert!(
        up.hits("/org/acme/lib-b/maven-metadata.xml") >= 1,
        "the range was resolved against the upstream's metadata"
    );
    // the metadata is the upstream's; its checksum is of what is answered
    let meta = get(&format!(
        "{}/maven2/org/acme/lib-b/maven-metadata.xml",
        a.url
    ));
    assert!(
        meta.text().contains("<version>2.0</version>"),
        "{}",
        meta.text()
    );
    let sum = get(&format!(
        "{}/maven2/org/acme/lib-b/maven-metadata.xml.sha1",
        a.url
    ));
    assert_eq!(sum.text(), hex::encode(sha1::Sha1::digest(&meta.body)));
    env.nora("a", &["verify"]).assert().success();

    // the upstream goes down (a static server lives as long as the test: nora is pointed
    // at a dead port instead): kept metadata resolves the range, files come from the bundle
    drop(a);
    let a = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("maven={}", dead_url()),
        Some("0s"),
    );
    std::fs::remove_file(app.join("deps.txt")).unwrap();
    let deps = resolve(&env, &app, &a.url, "mvn-a2");
    assert!(deps.contains("org.acme:lib-b:jar:1.0:compile"), "{deps}");
    assert!(
        a.log().contains("upstream down; answering the kept copy"),
        "{}",
        a.log()
    );
    let before = snapshot(&env.path("a"));
    let r = get(&format!(
        "{}/maven2/org/acme/lib-b/2.0/lib-b-2.0.jar",
        a.url
    ));
    r.expect(502, "upstream unavailable");
    let r = get(&format!(
        "{}/maven2/org/acme/nothing/maven-metadata.xml",
        a.url
    ));
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(snapshot(&env.path("a")), before);
    drop(a);

    // across the gap: B resolves with no upstream at all
    let b = env.across("a", "b");
    std::fs::remove_file(app.join("deps.txt")).unwrap();
    let deps = resolve(&env, &app, &b.url, "mvn-b");
    assert!(deps.contains("org.acme:lib-b:jar:1.0:compile"), "{deps}");
}

#[test]
fn a_file_whose_sha1_does_not_match_is_refused() {
    let env = Env::new();
    let root = env.path("static");
    put(
        &root,
        "org/acme/bad/1.0/bad-1.0.jar",
        b"the jar",
        Some(b"another jar"),
    );
    put(
        &root,
        "org/acme/bare/1.0/bare-1.0.jar",
        b"no checksum beside it",
        None,
    );
    put(
        &root,
        "org/acme/meta/maven-metadata.xml",
        b"<html>not metadata</html>",
        None,
    );
    let up = Upstream::serve_dir(&root);
    env.init("a");
    let s = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("maven={}/", up.url),
        None,
    );
    let before = snapshot(&env.path("a"));
    let repo = |p: &str| get(&format!("{}/maven2/{p}", s.url));
    let r = repo("org/acme/bad/1.0/bad-1.0.jar");
    r.expect(502, "hash mismatch");
    let r = repo("org/acme/bad/1.0/bad-1.0.jar.sha1");
    assert_eq!(r.status, 502, "{}", r.text());
    let r = repo("org/acme/bare/1.0/bare-1.0.jar");
    r.expect(502, "has no .sha1");
    let r = repo("org/acme/meta/maven-metadata.xml");
    r.expect(502, "not a maven-metadata.xml");
    let r = repo("org/acme/none/1.0/none-1.0.jar");
    r.expect(404, "not found upstream");
    assert_eq!(snapshot(&env.path("a")), before, "nothing stored");
    drop(s);

    let down = pull_through(
        env.dir.path(),
        &env.path("a"),
        &format!("maven={}", dead_url()),
        None,
    );
    let r = get(&format!("{}/maven2/org/acme/x/1.0/x-1.0.pom", down.url));
    assert_eq!(r.status, 502, "{}", r.text());
}
