//! `nora mirror --maven-pom` against a second `nora serve` standing in for Maven Central: a
//! project with a parent POM, a BOM import, a version conflict, an exclusion, an optional
//! and a test dependency, resolved the way Maven does, carried across the gap, then
//! `mvn dependency:resolve` and a compile against the far side alone.

mod common;

use common::ok;

use common::clients::{maven_settings, mvn};
use common::server::{require, Server};
use common::{json, snapshot, Env};
use std::path::{Path, PathBuf};
use std::process::Command;

const RESOLVE: &str = "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:resolve";

fn pom(g: &str, a: &str, v: &str, packaging: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version><packaging>{packaging}</packaging>
{body}</project>"#
    )
}

fn dep(a: &str, v: Option<&str>, extra: &str) -> String {
    let v = v
        .map(|v| format!("<version>{v}</version>"))
        .unwrap_or_default();
    format!("<dependency><groupId>org.acme</groupId><artifactId>{a}</artifactId>{v}{extra}</dependency>")
}

/// Adds a POM (and a jar, when given) to the upstream bundle, and to `static/` in Maven's
/// repository layout with `.sha1` files, as a plain directory upstream.
fn add(env: &Env, a: &str, v: &str, pom_text: &str, jar: Option<&Path>) {
    let dir = env.path("artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{a}-{v}.pom"));
    std::fs::write(&p, pom_text).unwrap();
    let layout = env.path(&format!("static/org/acme/{a}/{v}"));
    std::fs::create_dir_all(&layout).unwrap();
    for (file, ext) in std::iter::once((p.as_path(), "pom")).chain(jar.map(|j| (j, "jar"))) {
        use sha1::Digest;
        let bytes = std::fs::read(file).unwrap();
        std::fs::write(layout.join(format!("{a}-{v}.{ext}")), &bytes).unwrap();
        std::fs::write(
            layout.join(format!("{a}-{v}.{ext}.sha1")),
            hex::encode(sha1::Sha1::digest(&bytes)),
        )
        .unwrap();
    }
    env.nora(
        "up",
        &[
            "add",
            "maven",
            "--gav",
            &format!("org.acme:{a}:{v}@pom"),
            p.to_str().unwrap(),
        ],
    )
    .assert()
    .success();
    if let Some(j) = jar {
        env.nora(
            "up",
            &[
                "add",
                "maven",
                "--gav",
                &format!("org.acme:{a}:{v}@jar"),
                j.to_str().unwrap(),
            ],
        )
        .assert()
        .success();
    }
}

/// A jar holding class `acme.<pkg>.<Class>` with `hello()`, compiled with javac.
fn jar(env: &Env, pkg: &str, class: &str) -> PathBuf {
    let src = env.path(&format!("src-{pkg}/acme/{pkg}"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join(format!("{class}.java")),
        format!("package acme.{pkg};\npublic class {class} {{ public static String hello() {{ return \"hello from {pkg}\"; }} }}\n"),
    )
    .unwrap();
    let classes = env.path(&format!("classes-{pkg}"));
    let o = Command::new("javac")
        .arg("-d")
        .arg(&classes)
        .arg(src.join(format!("{class}.java")))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let jar = env.path(&format!("{pkg}.jar"));
    let o = Command::new("jar")
        .arg("cf")
        .arg(&jar)
        .arg("-C")
        .arg(&classes)
        .arg(".")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    jar
}

fn upstream(env: &Env) {
    env.init("up");
    add(env, "acme-parent", "1.0", &pom("org.acme", "acme-parent", "1.0", "pom",
        &format!("<properties><b.version>1.0</b.version></properties><dependencyManagement><dependencies>{}</dependencies></dependencyManagement>",
            dep("lib-b", Some("${b.version}"), ""))), None);
    add(
        env,
        "acme-bom",
        "1.0",
        &pom(
            "org.acme",
            "acme-bom",
            "1.0",
            "pom",
            &format!(
                "<dependencyManagement><dependencies>{}</dependencies></dependencyManagement>",
                dep("lib-c", Some("2.0"), "")
            ),
        ),
        None,
    );
    let lib_a = format!(
        "<parent><groupId>org.acme</groupId><artifactId>acme-parent</artifactId><version>1.0</version></parent>
<dependencyManagement><dependencies>{}</dependencies></dependencyManagement>
<dependencies>{}{}{}{}</dependencies>",
        dep("acme-bom", Some("1.0"), "<type>pom</type><scope>import</scope>"),
        dep("lib-b", None, "<exclusions><exclusion><groupId>org.acme</groupId><artifactId>lib-x</artifactId></exclusion></exclusions>"),
        dep("lib-c", None, ""),
        dep("lib-test", Some("1.0"), "<scope>test</scope>"),
        dep("lib-opt", Some("1.0"), "<optional>true</optional>"),
    );
    add(
        env,
        "lib-a",
        "1.0",
        &pom("org.acme", "lib-a", "1.0", "jar", &lib_a),
        Some(&jar(env, "a", "A")),
    );
    let lib_b = format!(
        "<dependencies>{}{}</dependencies>",
        dep("lib-c", Some("1.0"), ""),
        dep("lib-x", Some("1.0"), "")
    );
    add(
        env,
        "lib-b",
        "1.0",
        &pom("org.acme", "lib-b", "1.0", "jar", &lib_b),
        Some(&jar(env, "b", "B")),
    );
    for v in ["1.0", "2.0"] {
        add(
            env,
            "lib-c",
            v,
            &pom("org.acme", "lib-c", v, "jar", ""),
            Some(&jar(env, "c", "C")),
        );
    }
    for a in ["lib-x", "lib-opt", "lib-test"] {
        add(
            env,
            a,
            "1.0",
            &pom("org.acme", a, "1.0", "jar", ""),
            Some(&jar(env, &a.replace('-', ""), "X")),
        );
    }
}

fn project(env: &Env) -> PathBuf {
    let app = env.path("app");
    std::fs::create_dir_all(app.join("src/main/java/app")).unwrap();
    std::fs::write(
        app.join("pom.xml"),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<parent><groupId>org.acme</groupId><artifactId>acme-parent</artifactId><version>1.0</version><relativePath/></parent>
<artifactId>app</artifactId><version>0.1</version>
<properties><maven.compiler.source>11</maven.compiler.source><maven.compiler.target>11</maven.compiler.target><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
<dependencies>{}</dependencies></project>"#,
            dep("lib-a", Some("1.0"), "")
        ),
    )
    .unwrap();
    std::fs::write(
        app.join("src/main/java/app/Main.java"),
        "package app;\npublic class Main { public static void main(String[] a) { System.out.println(acme.a.A.hello() + \" \" + acme.c.C.hello()); } }\n",
    )
    .unwrap();
    app
}

#[test]
fn a_project_with_a_parent_and_a_bom_resolved_mirrored_and_compiled_across_the_gap() {
    if !require("mvn") || !require("javac") {
        return;
    }
    let env = Env::new();
    upstream(&env);
    let up = Server::start(env.dir.path(), &env.path("up"), &[]);
    let repo = format!("{}/maven2", up.url);
    cycle(&env, &repo, Box::new(up));
}

#[test]
fn from_a_static_maven_directory() {
    if !require("mvn") || !require("javac") {
        return;
    }
    let env = Env::new();
    upstream(&env);
    let files = common::upstream::Upstream::serve_dir(&env.path("static"));
    let repo = files.url.clone();
    cycle(&env, &repo, Box::new(files));
}

/// Mirror the project's dependencies from `repo` (kept running by `up`), stop it, carry the
/// bundle across, and resolve and compile the project from the far side alone.
fn cycle(env: &Env, repo: &str, up: Box<dyn std::any::Any>) {
    let app = project(env);
    env.init("a");
    let pom_xml = app.join("pom.xml");
    let args = [
        "--json",
        "mirror",
        "--maven-pom",
        pom_xml.to_str().unwrap(),
        "--maven-repo",
        repo,
    ];
    let out = env.nora("a", &args).output().unwrap();
    let r = common::ok_json(&out);
    let added: Vec<String> = common::names_with(&r, "added")
        .iter()
        .map(|n| n.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(
        added,
        [
            "acme-bom-1.0.pom",
            "acme-parent-1.0.pom",
            "lib-a-1.0.jar",
            "lib-a-1.0.pom",
            "lib-b-1.0.jar",
            "lib-b-1.0.pom",
            "lib-c-1.0.pom",
            "lib-c-2.0.jar",
            "lib-c-2.0.pom",
        ],
        "the nearest lib-c wins; the excluded, optional and test ones stay out: {r}"
    );
    let again = json(&env.nora("a", &args).output().unwrap());
    assert_eq!(
        (again["added"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(9)),
        "{again}"
    );
    drop(up);

    env.carry("a", "b");
    let far = Server::start(env.dir.path(), &env.path("b"), &[]);
    let settings = maven_settings(&env.path("mvn-far"), &far.url, "unused");
    let o = mvn(&app, &settings, &[RESOLVE, "-DoutputFile=deps.txt"]);
    ok(&o);
    let deps = std::fs::read_to_string(app.join("deps.txt")).unwrap();
    for want in [
        "org.acme:lib-a:jar:1.0:compile",
        "org.acme:lib-b:jar:1.0:compile",
        "org.acme:lib-c:jar:2.0:compile",
    ] {
        assert!(deps.contains(want), "{want} in {deps}");
    }
    assert!(
        !deps.contains("lib-x") && !deps.contains("lib-opt"),
        "{deps}"
    );
    let o = mvn(&app, &settings, &["compile"]);
    ok(&o);
    assert!(app.join("target/classes/app/Main.class").is_file());
}

#[test]
fn missing_artifacts_ranges_and_corrupt_files_change_nothing() {
    let env = Env::new();
    env.init("up");
    add(
        &env,
        "lib-r",
        "1.0",
        &pom(
            "org.acme",
            "lib-r",
            "1.0",
            "jar",
            &format!(
                "<dependencies>{}</dependencies>",
                dep("lib-c", Some("[1.0,2.0)"), "")
            ),
        ),
        None,
    );
    add(
        &env,
        "lib-m",
        "1.0",
        &pom(
            "org.acme",
            "lib-m",
            "1.0",
            "jar",
            &format!(
                "<dependencies>{}</dependencies>",
                dep("lib-gone", Some("1.0"), "")
            ),
        ),
        None,
    );
    let up = Server::start(env.dir.path(), &env.path("up"), &[]);
    let repo = format!("{}/maven2", up.url);
    env.init("c");
    let before = snapshot(&env.path("c"));
    let fails = |gav: &str, want: &str| {
        let out = env
            .nora(
                "c",
                &["--json", "mirror", "--maven", gav, "--maven-repo", &repo],
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let e = json(&out)["items"][0]["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(e.contains(want), "{e}");
        assert_eq!(snapshot(&env.path("c")), before);
    };
    fails(
        "org.acme:nosuch:1.0",
        "org.acme:nosuch:1.0 does not exist upstream",
    );
    fails("org.acme:lib-r:1.0", "version ranges are not supported");
    fails(
        "org.acme:lib-m:1.0",
        "org.acme:lib-gone:1.0 does not exist upstream",
    );
    let out = env
        .nora("c", &["mirror", "--maven", "not-coordinates"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected group:artifact:version"));
    assert_eq!(snapshot(&env.path("c")), before);
}
