//! Small, real-shaped artifacts of all seven ecosystems, written into a directory.
//! Shared by the tests and by `examples/make_samples.rs` (the README's demo).

#![allow(dead_code)]

use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Paths of the generated samples.
pub struct Samples {
    pub oci_layout: PathBuf,
    pub docker_save: PathBuf,
    pub npm: PathBuf,
    pub npm_scoped: PathBuf,
    pub wheel: PathBuf,
    pub sdist: PathBuf,
    pub crate_file: PathBuf,
    pub go_zip: PathBuf,
    pub maven_pom: PathBuf,
    pub maven_jar: PathBuf,
    pub raw: PathBuf,
}

pub fn tar_gz(path: &Path, files: &[(&str, &[u8])]) {
    let f = std::fs::File::create(path).unwrap();
    let mut t = tar::Builder::new(GzEncoder::new(f, flate2::Compression::default()));
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        t.append_data(&mut h, name, *data).unwrap();
    }
    t.into_inner().unwrap().finish().unwrap();
}

fn zip_file(path: &Path, files: &[(&str, &[u8])]) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
}

fn sha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// An npm package tarball.
pub fn npm_tgz(path: &Path, name: &str, version: &str) {
    let pj = format!(
        r#"{{"name":"{name}","version":"{version}","description":"sample","main":"index.js","license":"MIT"}}"#
    );
    tar_gz(
        path,
        &[
            ("package/package.json", pj.as_bytes()),
            ("package/index.js", b"module.exports = 42;\n"),
        ],
    );
}

/// A wheel.
pub fn wheel(dir: &Path, name: &str, version: &str) -> PathBuf {
    wheel_tagged(dir, name, version, "py3-none-any", &[])
}

/// A wheel with a tag (`cp311-cp311-manylinux_2_17_x86_64`) and `Requires-Dist` lines;
/// its module `name` holds `VERSION` and `TAG`.
pub fn wheel_tagged(
    dir: &Path,
    name: &str,
    version: &str,
    tag: &str,
    requires: &[&str],
) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{name}-{version}-{tag}.whl"));
    let mut meta = format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Python: >=3.8\n"
    );
    for r in requires {
        meta.push_str(&format!("Requires-Dist: {r}\n"));
    }
    meta.push('\n');
    let info = format!("{name}-{version}.dist-info");
    let module = format!("VERSION = '{version}'\nTAG = '{tag}'\n");
    let wheel = format!(
        "Wheel-Version: 1.0\nGenerator: nora-tests\nRoot-Is-Purelib: {}\nTag: {tag}\n",
        tag.ends_with("-any")
    );
    zip_file(
        &path,
        &[
            (&format!("{name}/__init__.py"), module.as_bytes()),
            (&format!("{info}/METADATA"), meta.as_bytes()),
            (&format!("{info}/WHEEL"), wheel.as_bytes()),
            (&format!("{info}/RECORD"), b""),
        ],
    );
    path
}

/// An sdist `name-version.tar.gz` with its PKG-INFO.
pub fn sdist(dir: &Path, name: &str, version: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{name}-{version}.tar.gz"));
    let meta = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n");
    tar_gz(
        &path,
        &[
            (&format!("{name}-{version}/PKG-INFO"), meta.as_bytes()),
            (
                &format!("{name}-{version}/setup.py"),
                b"from setuptools import setup\nsetup()\n",
            ),
        ],
    );
    path
}

/// A .crate with one renamed, one optional and one dev dependency.
pub fn crate_file(dir: &Path, name: &str, version: &str) -> PathBuf {
    let path = dir.join(format!("{name}-{version}.crate"));
    let toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\n[dependencies.serde]\nversion = \"1.0\"\noptional = true\n\n[dependencies.rand_alias]\nversion = \"0.8\"\npackage = \"rand\"\n\n[dev-dependencies.tempfile]\nversion = \"3\"\n\n[features]\ndefault = []\nser = [\"dep:serde\"]\n"
    );
    let top = format!("{name}-{version}");
    tar_gz(
        &path,
        &[
            (&format!("{top}/Cargo.toml"), toml.as_bytes()),
            (&format!("{top}/src/lib.rs"), b"pub fn f() {}\n"),
        ],
    );
    path
}

/// A Go module zip.
pub fn go_zip(dir: &Path, module: &str, version: &str) -> PathBuf {
    go_zip_requiring(dir, module, version, &[])
}

/// A module zip whose package `lib` has `F() int`, calling the `F` of every module it
/// requires (module, version) so that they are needed to build it.
pub fn go_zip_requiring(
    dir: &Path,
    module: &str,
    version: &str,
    requires: &[(&str, &str)],
) -> PathBuf {
    let path = dir.join(format!("{version}.zip"));
    let pre = format!("{module}@{version}");
    let mut gomod = format!("module {module}\n\ngo 1.19\n");
    let mut imports = String::new();
    let mut sum = String::from("1");
    for (i, (m, v)) in requires.iter().enumerate() {
        gomod.push_str(&format!("\nrequire {m} {v}\n"));
        imports.push_str(&format!("import dep{i} \"{m}\"\n"));
        sum.push_str(&format!(" + dep{i}.F()"));
    }
    let code = format!("package lib\n\n{imports}\nfunc F() int {{ return {sum} }}\n");
    zip_file(
        &path,
        &[
            (&format!("{pre}/go.mod"), gomod.as_bytes()),
            (&format!("{pre}/lib.go"), code.as_bytes()),
        ],
    );
    path
}

/// A POM with coordinates.
pub fn pom(dir: &Path, g: &str, a: &str, v: &str) -> PathBuf {
    let path = dir.join(format!("{a}-{v}.pom"));
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>{g}</groupId>\n  <artifactId>{a}</artifactId>\n  <version>{v}</version>\n  <packaging>jar</packaging>\n</project>\n"
    );
    std::fs::write(&path, xml).unwrap();
    path
}

/// A jar with embedded pom.properties.
pub fn jar(dir: &Path, g: &str, a: &str, v: &str) -> PathBuf {
    let path = dir.join(format!("{a}-{v}.jar"));
    let props = format!("groupId={g}\nartifactId={a}\nversion={v}\n");
    zip_file(
        &path,
        &[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            (
                &format!("META-INF/maven/{g}/{a}/pom.properties"),
                props.as_bytes(),
            ),
            ("com/example/App.class", b"\xca\xfe\xba\xbe"),
        ],
    );
    path
}

fn put_blob(blobs: &Path, data: &[u8]) -> (String, u64) {
    let d = sha(data);
    std::fs::write(blobs.join(&d), data).unwrap();
    (format!("sha256:{d}"), data.len() as u64)
}

/// An OCI image layout with a two-platform index tagged `REPO:TAG`; returns the index digest.
pub fn oci_layout(dir: &Path, repo: &str, tag: &str, seed: &str) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let mut manifests = Vec::new();
    for arch in ["amd64", "arm64"] {
        let layer = {
            let mut t = tar::Builder::new(Vec::new());
            let content = format!("{seed} {arch}\n");
            let mut h = tar::Header::new_gnu();
            h.set_size(content.len() as u64);
            h.set_mode(0o644);
            t.append_data(&mut h, "etc/os", content.as_bytes()).unwrap();
            t.into_inner().unwrap()
        };
        let (ld, ls) = put_blob(&blobs, &layer);
        let config = format!(
            r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":["{ld}"]}}}}"#
        );
        let (cd, cs) = put_blob(&blobs, config.as_bytes());
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{cs}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{ld}","size":{ls}}}]}}"#
        );
        let (md, ms) = put_blob(&blobs, manifest.as_bytes());
        manifests.push(format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{ms},"platform":{{"architecture":"{arch}","os":"linux"}}}}"#
        ));
    }
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
        manifests.join(",")
    );
    let (id, is) = put_blob(&blobs, index.as_bytes());
    let top = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{id}","size":{is},"annotations":{{"org.opencontainers.image.ref.name":"{repo}:{tag}"}}}}]}}"#
    );
    std::fs::write(dir.join("index.json"), top).unwrap();
    id
}

/// A `docker save` tarball in Docker's classic layout.
pub fn docker_save(path: &Path, repo_tag: &str) {
    let layer = {
        let mut t = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(6);
        h.set_mode(0o644);
        t.append_data(&mut h, "hello", &b"world\n"[..]).unwrap();
        t.into_inner().unwrap()
    };
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["sha256:{}"]}}}}"#,
        sha(&layer)
    );
    let cname = format!("{}.json", sha(config.as_bytes()));
    let manifest =
        format!(r#"[{{"Config":"{cname}","RepoTags":["{repo_tag}"],"Layers":["abc/layer.tar"]}}]"#);
    let f = std::fs::File::create(path).unwrap();
    let mut t = tar::Builder::new(f);
    for (name, data) in [
        (cname.as_str(), config.as_bytes()),
        ("abc/layer.tar", &layer[..]),
        ("manifest.json", manifest.as_bytes()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        t.append_data(&mut h, name, data).unwrap();
    }
    t.into_inner().unwrap();
}

/// Writes one sample of each ecosystem (two for npm and PyPI) into `dir`.
pub fn make_samples(dir: &Path) -> Samples {
    std::fs::create_dir_all(dir).unwrap();
    let oci_layout = dir.join("oci-layout-dir");
    oci_layout_fn(&oci_layout);
    let docker_save = dir.join("hello-docker.tar");
    self::docker_save(&docker_save, "hello:1.0");
    let npm = dir.join("left-pad-1.3.0.tgz");
    npm_tgz(&npm, "left-pad", "1.3.0");
    let npm_scoped = dir.join("scope-util-2.0.0.tgz");
    npm_tgz(&npm_scoped, "@acme/util", "2.0.0");
    let wheel = self::wheel(dir, "sample_pkg", "1.0.0");
    let sdist = dir.join("sample_pkg-1.0.0.tar.gz");
    tar_gz(
        &sdist,
        &[("sample_pkg-1.0.0/PKG-INFO", b"Metadata-Version: 2.1\nName: sample_pkg\nVersion: 1.0.0\nRequires-Python: >=3.8\n\n"), ("sample_pkg-1.0.0/setup.py", b"")],
    );
    let crate_file = self::crate_file(dir, "sample-crate", "0.1.0");
    let go_zip = self::go_zip(dir, "example.com/Sample/mod", "v1.2.3");
    let maven_pom = pom(dir, "com.example", "app", "1.0");
    let maven_jar = jar(dir, "com.example", "app", "1.0");
    let raw = dir.join("tool.sh");
    std::fs::write(&raw, "#!/bin/sh\necho offline\n").unwrap();
    Samples {
        oci_layout,
        docker_save,
        npm,
        npm_scoped,
        wheel,
        sdist,
        crate_file,
        go_zip,
        maven_pom,
        maven_jar,
        raw,
    }
}

fn oci_layout_fn(dir: &Path) {
    oci_layout(dir, "library/sample", "1.0", "sample");
}

/// Lays the module zip at `zip` out in GOPROXY form under `root` (`.zip`, `.mod` from the
/// zip's go.mod, `.info`, and a line in `list`) and returns the zip's bytes.
#[allow(dead_code)]
pub fn goproxy_layout(root: &Path, module: &str, version: &str, zip: &Path) -> Vec<u8> {
    let at = root.join(nora::mirror::go::escape(module)).join("@v");
    std::fs::create_dir_all(&at).unwrap();
    let bytes = std::fs::read(zip).unwrap();
    std::fs::write(at.join(format!("{version}.zip")), &bytes).unwrap();
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut go_mod = String::new();
    std::io::Read::read_to_string(
        &mut archive
            .by_name(&format!("{module}@{version}/go.mod"))
            .unwrap(),
        &mut go_mod,
    )
    .unwrap();
    std::fs::write(at.join(format!("{version}.mod")), go_mod).unwrap();
    std::fs::write(
        at.join(format!("{version}.info")),
        format!(r#"{{"Version":"{version}","Time":"2024-01-01T00:00:00Z"}}"#),
    )
    .unwrap();
    let list = at.join("list");
    let mut l = std::fs::read_to_string(&list).unwrap_or_default();
    l.push_str(&format!("{version}\n"));
    std::fs::write(list, l).unwrap();
    bytes
}

/// A packaged crate (`name-version/Cargo.toml`, `src/lib.rs`).
pub fn krate(dir: &Path, name: &str, version: &str, deps: &str, lib: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{name}-{version}.crate"));
    let toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n{deps}"
    );
    let f = std::fs::File::create(&path).unwrap();
    let mut t = tar::Builder::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::default(),
    ));
    for (p, data) in [
        ("Cargo.toml", toml.as_bytes()),
        ("src/lib.rs", lib.as_bytes()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        t.append_data(&mut h, format!("{name}-{version}/{p}"), data)
            .unwrap();
    }
    t.into_inner().unwrap().finish().unwrap();
    path
}
