//! `nora add maven`: stores one file of a Maven repository (jar, pom, war, …) under its
//! `group/artifact/version/artifact-version[-classifier].ext` path, with the SHA-1, MD5 and
//! SHA-512 sums Maven clients fetch beside it.

use crate::bundle::refs::{MavenFile, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::digest::HashingReader;
use crate::ecosystems::AddOptions;
use crate::error::{Error, IoContext, Result};
use md5::Md5;
use quick_xml::events::Event;
use sha1::Sha1;
use sha2::Sha512;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Maven coordinates of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinates {
    /// `groupId`.
    pub group_id: String,
    /// `artifactId`.
    pub artifact_id: String,
    /// `version`.
    pub version: String,
    /// Classifier, if any.
    pub classifier: Option<String>,
    /// Extension, when given.
    pub extension: Option<String>,
}

impl Coordinates {
    /// Parses `group:artifact:version[:classifier][@extension]`.
    pub fn parse_gav(s: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidName {
            what: "Maven coordinates",
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let (gav, ext) = match s.split_once('@') {
            Some((g, e)) => (g, Some(e.to_string())),
            None => (s, None),
        };
        let parts: Vec<&str> = gav.split(':').collect();
        if !(3..=4).contains(&parts.len()) {
            return Err(bad(
                "expected group:artifact:version[:classifier][@extension]",
            ));
        }
        Ok(Coordinates {
            group_id: parts[0].to_string(),
            artifact_id: parts[1].to_string(),
            version: parts[2].to_string(),
            classifier: parts.get(3).map(|c| c.to_string()),
            extension: ext,
        })
    }
}

/// Imports one Maven file.
pub fn import(bundle: &Bundle, file: &Path, opts: &AddOptions) -> Result<Vec<RefRecord>> {
    let file_ext = file_extension(file);
    let mut coords = match &opts.gav {
        Some(g) => {
            let c = Coordinates::parse_gav(g)?;
            sanity_check_content(file, file_ext.as_deref())?;
            c
        }
        None => coordinates_from_file(file, file_ext.as_deref())?,
    };
    let extension = coords
        .extension
        .take()
        .or(file_ext)
        .ok_or_else(|| Error::BadArtifact {
            path: file.to_path_buf(),
            reason: "the file has no extension; pass --gav group:artifact:version@ext".into(),
        })?;
    check_part("groupId", &coords.group_id)?;
    check_part("artifactId", &coords.artifact_id)?;
    check_part("version", &coords.version)?;
    if let Some(c) = &coords.classifier {
        check_part("classifier", c)?;
    }
    check_part("extension", &extension)?;

    let file_name = match &coords.classifier {
        Some(c) => format!("{}-{}-{c}.{extension}", coords.artifact_id, coords.version),
        None => format!("{}-{}.{extension}", coords.artifact_id, coords.version),
    };
    let path = format!(
        "{}/{}/{}/{file_name}",
        coords.group_id.replace('.', "/"),
        coords.artifact_id,
        coords.version
    );

    let f = File::open(file).at("open", file)?;
    let mut r =
        HashingReader::<_, Sha512>::new(HashingReader::<_, Md5>::new(
            HashingReader::<_, Sha1>::new(BufReader::with_capacity(256 * 1024, f)),
        ));
    let done = bundle.ingest(&mut r, None)?;
    let (md5_r, sha512) = r.finish();
    let (sha1_r, md5) = md5_r.finish();
    let (_, sha1) = sha1_r.finish();

    Ok(vec![RefRecord::new(RefBody::MavenFile(MavenFile {
        path,
        group_id: coords.group_id,
        artifact_id: coords.artifact_id,
        version: coords.version,
        classifier: coords.classifier,
        extension,
        digest: done.digest,
        size: done.size,
        sha1: hex::encode(sha1),
        md5: hex::encode(md5),
        sha512: hex::encode(sha512),
    }))])
}

fn file_extension(file: &Path) -> Option<String> {
    let name = file.file_name()?.to_str()?;
    for double in ["tar.gz", "tar.bz2", "tar.xz", "tar.zst"] {
        if name.len() > double.len() + 1 && name.ends_with(&format!(".{double}")) {
            return Some(double.to_string());
        }
    }
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_string())
}

/// Checks one part of Maven coordinates (groupId, artifactId, version, classifier, extension).
pub fn check_part(what: &'static str, v: &str) -> Result<()> {
    let bad = |reason: String| Error::InvalidName {
        what,
        value: v.to_string(),
        reason,
    };
    if v.contains("${") {
        return Err(bad(
            "holds an unresolved ${…} property; pass --gav group:artifact:version".into(),
        ));
    }
    if v.is_empty() {
        return Err(bad("empty".into()));
    }
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c)))
    {
        return Err(bad(format!(
            "invalid character {c:?} (allowed: A-Z a-z 0-9 _ . -)"
        )));
    }
    if v.contains("..") || v.starts_with('.') || v.ends_with('.') {
        return Err(bad("must not hold '..' nor start or end with '.'".into()));
    }
    Ok(())
}

fn cannot_tell(file: &Path, why: &str) -> Error {
    Error::Other(format!(
        "cannot tell the Maven coordinates of {}{why}; pass --gav group:artifact:version",
        file.display()
    ))
}

/// Reads coordinates from a POM or from the `pom.properties` inside a jar or war.
fn coordinates_from_file(file: &Path, ext: Option<&str>) -> Result<Coordinates> {
    match ext {
        Some("pom") => {
            let (g, a, v) = parse_pom(file)?;
            let missing = |what: &str| cannot_tell(file, &format!(" (the POM has no {what})"));
            Ok(Coordinates {
                group_id: g.ok_or_else(|| missing("groupId"))?,
                artifact_id: a.ok_or_else(|| missing("artifactId"))?,
                version: v.ok_or_else(|| missing("version"))?,
                classifier: None,
                extension: None,
            })
        }
        Some("jar" | "war") => coordinates_from_jar(file),
        _ => Err(cannot_tell(file, "")),
    }
}

/// Checks that jars and wars are zips and POMs are XML even when `--gav` names them.
fn sanity_check_content(file: &Path, ext: Option<&str>) -> Result<()> {
    match ext {
        Some("pom") => parse_pom(file).map(|_| ()),
        Some("jar" | "war") => open_zip(file).map(|_| ()),
        _ => Ok(()),
    }
}

fn open_zip(file: &Path) -> Result<zip::ZipArchive<BufReader<File>>> {
    let f = File::open(file).at("open", file)?;
    zip::ZipArchive::new(BufReader::new(f)).map_err(|e| Error::BadArtifact {
        path: file.to_path_buf(),
        reason: format!("not a readable jar/zip file: {e}"),
    })
}

fn coordinates_from_jar(file: &Path) -> Result<Coordinates> {
    let mut z = open_zip(file)?;
    let candidates: Vec<String> = z
        .file_names()
        .filter(|n| {
            let parts: Vec<&str> = n.split('/').collect();
            parts.len() == 5
                && parts[0] == "META-INF"
                && parts[1] == "maven"
                && parts[4] == "pom.properties"
        })
        .map(str::to_string)
        .collect();
    let stem = file
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.rsplit_once('.'))
        .map(|(s, _)| s.to_string())
        .unwrap_or_default();
    let mut found = Vec::new();
    for name in &candidates {
        let mut e = z.by_name(name).map_err(|e| Error::BadArtifact {
            path: file.to_path_buf(),
            reason: format!("{name}: {e}"),
        })?;
        let mut text = String::new();
        (&mut e)
            .take(1 << 20)
            .read_to_string(&mut text)
            .map_err(|e| Error::BadArtifact {
                path: file.to_path_buf(),
                reason: format!("{name}: {e}"),
            })?;
        let props = parse_properties(&text);
        let get = |k: &str| props.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.clone());
        if let (Some(g), Some(a), Some(v)) = (get("groupId"), get("artifactId"), get("version")) {
            found.push((g, a, v));
        }
    }
    if found.len() > 1 {
        found.retain(|(_, a, v)| {
            let base = format!("{a}-{v}");
            stem == base || stem.starts_with(&format!("{base}-"))
        });
    }
    match found.len() {
        0 => Err(cannot_tell(file, " (no META-INF/maven/*/*/pom.properties)")),
        1 => {
            let (g, a, v) = found.pop().expect("one");
            let base = format!("{a}-{v}-");
            let classifier = stem
                .strip_prefix(&base)
                .filter(|c| !c.is_empty())
                .map(str::to_string);
            Ok(Coordinates {
                group_id: g,
                artifact_id: a,
                version: v,
                classifier,
                extension: None,
            })
        }
        _ => Err(cannot_tell(
            file,
            " (it holds several pom.properties and its name matches none of them)",
        )),
    }
}

/// Parses the `key=value` / `key: value` lines of a Java properties file (no continuations).
fn parse_properties(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .filter_map(|l| {
            let i = l.find(['=', ':'])?;
            Some((l[..i].trim().to_string(), l[i + 1..].trim().to_string()))
        })
        .collect()
}

type PomCoords = (Option<String>, Option<String>, Option<String>);

/// Reads groupId, artifactId and version of a POM, taking groupId and version from
/// `<parent>` when the project does not set them.
fn parse_pom(file: &Path) -> Result<PomCoords> {
    let bad = |reason: String| Error::BadArtifact {
        path: file.to_path_buf(),
        reason,
    };
    let f = File::open(file).at("open", file)?;
    parse_pom_from(BufReader::new(f)).map_err(bad)
}

fn parse_pom_from<R: BufRead>(r: R) -> std::result::Result<PomCoords, String> {
    let mut reader = quick_xml::Reader::from_reader(r);
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let (mut g, mut a, mut v, mut pg, mut pv) = (None, None, None, None, None);
    let mut saw_root = false;
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(|e| {
            format!(
                "not a valid POM (XML error at byte {}): {e}",
                reader.error_position()
            )
        })?;
        match ev {
            Event::Start(s) => {
                let name = String::from_utf8_lossy(s.local_name().as_ref()).into_owned();
                if stack.is_empty() {
                    if saw_root || name != "project" {
                        return Err(format!(
                            "not a POM: the root element is <{name}>, not <project>"
                        ));
                    }
                    saw_root = true;
                }
                stack.push(name);
                text.clear();
            }
            Event::Empty(_) if stack.is_empty() => {
                return Err("not a POM: empty root element".into());
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| format!("not a valid POM: {e}"))?;
                text.push_str(&s);
            }
            Event::CData(c) => text.push_str(&String::from_utf8_lossy(&c.into_inner())),
            Event::End(_) => {
                let path: Vec<&str> = stack.iter().map(String::as_str).collect();
                let val = Some(text.trim().to_string());
                match path.as_slice() {
                    ["project", "groupId"] => g = val,
                    ["project", "artifactId"] => a = val,
                    ["project", "version"] => v = val,
                    ["project", "parent", "groupId"] => pg = val,
                    ["project", "parent", "version"] => pv = val,
                    _ => {}
                }
                stack.pop();
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_root {
        return Err("not a POM: no <project> element".into());
    }
    if let Some(open) = stack.last() {
        return Err(format!("not a valid POM: <{open}> is never closed"));
    }
    Ok((g.or(pg), a, v.or(pv)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystems::archive::testing::setup;
    use sha1::Digest as _;
    use std::io::Write;

    fn body(recs: &[RefRecord]) -> &MavenFile {
        assert_eq!(recs.len(), 1);
        match &recs[0].body {
            RefBody::MavenFile(m) => m,
            other => panic!("{other:?}"),
        }
    }

    fn make_jar(path: &Path, props: &[(&str, &str)]) {
        let mut w = zip::ZipWriter::new(File::create(path).unwrap());
        let o = zip::write::SimpleFileOptions::default();
        w.start_file("META-INF/MANIFEST.MF", o).unwrap();
        w.write_all(b"Manifest-Version: 1.0\n").unwrap();
        for (name, text) in props {
            w.start_file(*name, o).unwrap();
            w.write_all(text.as_bytes()).unwrap();
        }
        w.finish().unwrap();
    }

    #[test]
    fn imports_pom_with_parent_inheritance() {
        let (dir, bundle) = setup();
        let p = dir.path().join("child.pom");
        let pom = r#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>1.0-SNAPSHOT</version></parent>
  <artifactId>child</artifactId>
  <dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId><version>9</version></dependency></dependencies>
</project>
"#;
        std::fs::write(&p, pom).unwrap();
        let recs = import(&bundle, &p, &AddOptions::default()).unwrap();
        let m = body(&recs);
        assert_eq!(
            m.path,
            "org/example/child/1.0-SNAPSHOT/child-1.0-SNAPSHOT.pom"
        );
        assert_eq!(
            (
                m.group_id.as_str(),
                m.artifact_id.as_str(),
                m.version.as_str()
            ),
            ("org.example", "child", "1.0-SNAPSHOT")
        );
        assert_eq!(m.extension, "pom");
        assert_eq!(m.sha1, hex::encode(sha1::Sha1::digest(pom.as_bytes())));
        assert_eq!(m.md5, hex::encode(md5::Md5::digest(pom.as_bytes())));
        assert_eq!(m.sha512, hex::encode(sha2::Sha512::digest(pom.as_bytes())));
        assert_eq!(m.digest, crate::digest::Digest::of(pom.as_bytes()));
        assert_eq!(m.size, pom.len() as u64);
        assert_eq!(
            recs[0].body.key().unwrap().to_string(),
            "maven/org/example/child/1.0-SNAPSHOT/child-1.0-SNAPSHOT.pom"
        );
        bundle.write_ref(&recs[0]).unwrap();
    }

    #[test]
    fn imports_jar_from_pom_properties_with_classifier() {
        let (dir, bundle) = setup();
        let p = dir.path().join("lib-2.1-sources.jar");
        make_jar(
            &p,
            &[
                (
                    "META-INF/maven/com.acme/lib/pom.properties",
                    "#Generated\nartifactId=lib\ngroupId=com.acme\nversion=2.1\n",
                ),
                (
                    "META-INF/maven/org.dep/dep/pom.properties",
                    "artifactId=dep\ngroupId=org.dep\nversion=0.3\n",
                ),
            ],
        );
        let recs = import(&bundle, &p, &AddOptions::default()).unwrap();
        let m = body(&recs);
        assert_eq!(m.path, "com/acme/lib/2.1/lib-2.1-sources.jar");
        assert_eq!(m.classifier.as_deref(), Some("sources"));
        assert_eq!(m.extension, "jar");
    }

    #[test]
    fn gav_overrides_and_sets_extension() {
        let (dir, bundle) = setup();
        let p = dir.path().join("whatever.bin");
        std::fs::write(&p, b"payload").unwrap();
        let opts = AddOptions {
            gav: Some("org.x:tool:3.0:linux-x86_64@exe".into()),
            ..Default::default()
        };
        let recs = import(&bundle, &p, &opts).unwrap();
        let m = body(&recs);
        assert_eq!(m.path, "org/x/tool/3.0/tool-3.0-linux-x86_64.exe");
        assert_eq!(m.extension, "exe");
        assert_eq!(bundle.read_blob(&m.digest).unwrap(), b"payload");
    }

    fn err(file_name: &str, content: &[u8], gav: Option<&str>) -> String {
        let (dir, bundle) = setup();
        let p = dir.path().join(file_name);
        std::fs::write(&p, content).unwrap();
        let opts = AddOptions {
            gav: gav.map(str::to_string),
            ..Default::default()
        };
        let e = import(&bundle, &p, &opts).unwrap_err().to_string();
        assert!(bundle.blobs().unwrap().is_empty(), "{e}");
        assert!(bundle.refs().unwrap().is_empty());
        e
    }

    #[test]
    fn rejects_bad_input() {
        let e = err("x.bin", b"x", None);
        assert!(
            e.contains("cannot tell the Maven coordinates of")
                && e.contains("pass --gav group:artifact:version"),
            "{e}"
        );
        let e = err(
            "a.pom",
            b"<project><groupId>g</groupId><artifactId>a</artifactId><version>${revision}</version></project>",
            None,
        );
        assert!(e.contains("${") && e.contains("--gav"), "{e}");
        let e = err("a.pom", b"<project><groupId>g</groupId>", None);
        assert!(
            e.contains("not a valid POM") || e.contains("no version"),
            "{e}"
        );
        let e = err("a.pom", b"<settings/>", None);
        assert!(e.contains("not a POM"), "{e}");
        let e = err("a.jar", b"not a zip", Some("g:a:1"));
        assert!(e.contains("not a readable jar"), "{e}");
        let e = err("a.bin", b"x", Some("g:a"));
        assert!(e.contains("group:artifact:version"), "{e}");
        let e = err("a.bin", b"x", Some("g/x:a:1"));
        assert!(e.contains("invalid character '/'"), "{e}");
        let e = err("a.bin", b"x", Some("g..x:a:1"));
        assert!(e.contains("'..'"), "{e}");
        let e = err("noext", b"x", Some("g:a:1"));
        assert!(e.contains("no extension"), "{e}");
    }

    #[test]
    fn jar_without_properties_needs_gav() {
        let (dir, bundle) = setup();
        let p = dir.path().join("plain.jar");
        make_jar(&p, &[]);
        let e = import(&bundle, &p, &AddOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("pass --gav"), "{e}");
        assert!(bundle.blobs().unwrap().is_empty());
    }

    #[test]
    fn extensions() {
        assert_eq!(
            file_extension(Path::new("a-1.tar.gz")).as_deref(),
            Some("tar.gz")
        );
        assert_eq!(file_extension(Path::new("a-1.jar")).as_deref(), Some("jar"));
        assert_eq!(file_extension(Path::new(".hidden")), None);
        assert_eq!(file_extension(Path::new("plain")), None);
    }
}
