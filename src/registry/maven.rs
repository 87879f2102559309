//! A Maven repository in store terms: files by repository path with their checksums,
//! deploys (releases immutable, SNAPSHOTs timestamped), and `maven-metadata.xml` generated
//! from what the bundle holds, at the artifact level and for each SNAPSHOT version.

use crate::bundle::ingest::{BlobWriter, Ingested};
use crate::bundle::layout::RefKey;
use crate::bundle::refs::{MavenFile, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::ecosystems::maven::check_part;
use crate::error::Error;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};
use std::io::Write;

/// Why a maven operation failed.
pub type MavenError = super::PackageError;

type Result<T> = std::result::Result<T, MavenError>;

/// Checksum files served beside every file.
pub const CHECKSUMS: [&str; 4] = ["sha1", "md5", "sha256", "sha512"];

/// The file name of generated metadata.
pub const METADATA: &str = "maven-metadata.xml";

/// A deployed file's coordinates, read from its repository path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// groupId.
    pub group_id: String,
    /// artifactId.
    pub artifact_id: String,
    /// The directory version (`1.0`, `1.0-SNAPSHOT`).
    pub version: String,
    /// Classifier, if any.
    pub classifier: Option<String>,
    /// Extension.
    pub extension: String,
}

/// Reads `g/r/o/u/p/artifact/version/artifact-version[-classifier].ext` (a SNAPSHOT file may
/// carry `base-yyyyMMdd.HHmmss-N` instead of the version).
pub fn parse_path(path: &str) -> Result<Parsed> {
    let bad = |why: &str| MavenError::Invalid(format!("{path}: {why}"));
    let segs: Vec<&str> = path.split('/').collect();
    if segs.len() < 4 {
        return Err(bad("a Maven file lives at group/artifact/version/file"));
    }
    let n = segs.len();
    let (file, version, artifact) = (segs[n - 1], segs[n - 2], segs[n - 3]);
    let group = segs[..n - 3].join(".");
    for (what, v) in [
        ("groupId", group.as_str()),
        ("artifactId", artifact),
        ("version", version),
    ] {
        check_part(what, v).map_err(|e| MavenError::Invalid(e.to_string()))?;
    }
    let rest = file
        .strip_prefix(&format!("{artifact}-"))
        .ok_or_else(|| bad("the file name must start with the artifactId and '-'"))?;
    let after = if let Some(r) = rest.strip_prefix(version) {
        r
    } else if let Some(base) = version.strip_suffix("-SNAPSHOT") {
        // base-yyyyMMdd.HHmmss-N
        let r = rest
            .strip_prefix(&format!("{base}-"))
            .ok_or_else(|| bad("the file name does not carry the directory's version"))?;
        let ts_len = "yyyyMMdd.HHmmss".len();
        let (ts, r) = (r.get(..ts_len).unwrap_or(""), r.get(ts_len..).unwrap_or(""));
        let ok_ts = ts.len() == ts_len
            && ts.bytes().enumerate().all(|(i, c)| {
                if i == 8 {
                    c == b'.'
                } else {
                    c.is_ascii_digit()
                }
            });
        let r = r
            .strip_prefix('-')
            .filter(|_| ok_ts)
            .ok_or_else(|| bad("a SNAPSHOT file carries base-yyyyMMdd.HHmmss-N"))?;
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad("a SNAPSHOT file carries a build number"));
        }
        &r[digits..]
    } else {
        return Err(bad("the file name does not carry the directory's version"));
    };
    let (classifier, extension) = if let Some(ext) = after.strip_prefix('.') {
        (None, ext)
    } else if let Some(c) = after.strip_prefix('-') {
        let dot = c.find('.').ok_or_else(|| bad("no extension"))?;
        (Some(c[..dot].to_string()), &c[dot + 1..])
    } else {
        return Err(bad(
            "expected '.ext' or '-classifier.ext' after the version",
        ));
    };
    if let Some(c) = &classifier {
        check_part("classifier", c).map_err(|e| MavenError::Invalid(e.to_string()))?;
    }
    check_part("extension", extension).map_err(|e| MavenError::Invalid(e.to_string()))?;
    Ok(Parsed {
        group_id: group,
        artifact_id: artifact.to_string(),
        version: version.to_string(),
        classifier,
        extension: extension.to_string(),
    })
}

fn key(path: &str) -> Result<RefKey> {
    RefKey::new(std::iter::once("maven").chain(path.split('/')))
        .map_err(|e| MavenError::Invalid(e.to_string()))
}

/// The file stored at `path`, if any.
pub fn file(b: &Bundle, path: &str) -> Result<Option<MavenFile>> {
    Ok(match b.read_ref(&key(path)?)? {
        Some(RefRecord {
            body: RefBody::MavenFile(f),
            ..
        }) if f.path == path => Some(f),
        _ => None,
    })
}

/// A stored file's checksum of kind `algo` (one of [`CHECKSUMS`]), as hex.
pub fn checksum_of(f: &MavenFile, algo: &str) -> String {
    match algo {
        "sha1" => f.sha1.clone(),
        "md5" => f.md5.clone(),
        "sha512" => f.sha512.clone(),
        _ => f.digest.hex().to_string(),
    }
}

/// Checksum of bytes (generated metadata).
pub fn checksum_bytes(bytes: &[u8], algo: &str) -> String {
    match algo {
        "sha1" => hex::encode(Sha1::digest(bytes)),
        "md5" => hex::encode(Md5::digest(bytes)),
        "sha512" => hex::encode(Sha512::digest(bytes)),
        _ => hex::encode(Sha256::digest(bytes)),
    }
}

/// A writer that takes the SHA-1, MD5 and SHA-512 Maven clients check while a blob is
/// written.
pub struct SumWriter {
    inner: BlobWriter,
    sha1: Sha1,
    md5: Md5,
    sha512: Sha512,
}

impl SumWriter {
    /// Wraps a blob writer.
    pub fn new(inner: BlobWriter) -> Self {
        SumWriter {
            inner,
            sha1: Sha1::new(),
            md5: Md5::new(),
            sha512: Sha512::new(),
        }
    }
}

impl Write for SumWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha1.update(&buf[..n]);
        self.md5.update(&buf[..n]);
        self.sha512.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Stores a deployed file at `path`. A release file that exists with other content is
/// refused before anything becomes visible; the same content again is accepted.
/// Returns `added`, `unchanged` or `updated`.
pub fn deploy(b: &Bundle, path: &str, w: SumWriter) -> Result<&'static str> {
    let p = parse_path(path)?;
    let existing = file(b, path)?;
    let snapshot = p.version.ends_with("-SNAPSHOT");
    let expected = existing
        .as_ref()
        .filter(|_| !snapshot)
        .map(|f| f.digest.clone());
    let SumWriter {
        inner,
        sha1,
        md5,
        sha512,
    } = w;
    // the blob enters and its ref is written in one step for gc (bundle-format.md §6)
    let _lock = b.lock_shared()?;
    let stored: Ingested = match inner.commit(expected.as_ref(), true) {
        Ok(s) => s,
        Err(Error::DigestMismatch { .. }) => {
            return Err(MavenError::Exists(format!(
                "{path} is a release already deployed with other content; releases are immutable"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    b.sync_blob_dir()?;
    let rec = RefRecord::new(RefBody::MavenFile(MavenFile {
        path: path.to_string(),
        group_id: p.group_id,
        artifact_id: p.artifact_id,
        version: p.version,
        classifier: p.classifier,
        extension: p.extension,
        digest: stored.digest,
        size: stored.size,
        sha1: hex::encode(sha1.finalize()),
        md5: hex::encode(md5.finalize()),
        sha512: hex::encode(sha512.finalize()),
    }));
    crate::ecosystems::commit_ref(b, &rec, "serve").map_err(|e| match e {
        Error::ReleaseExists(m) => MavenError::Exists(m),
        e => MavenError::Store(e),
    })
}

fn files_under(b: &Bundle, dir: &str) -> Result<Vec<(String, MavenFile)>> {
    let parts: Vec<&str> = std::iter::once("maven").chain(dir.split('/')).collect();
    Ok(b.list_refs_under(&parts)?
        .into_iter()
        .filter_map(|(_, r)| match r {
            Ok(RefRecord {
                added,
                body: RefBody::MavenFile(f),
            }) => Some((added, f)),
            _ => None,
        })
        .collect())
}

fn compact_time(rfc3339: &str) -> String {
    rfc3339
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect()
}

/// Orders Maven versions: numeric parts as numbers; a qualifier (`SNAPSHOT`, `alpha`)
/// sorts below a number and below its absence, so `1.2-SNAPSHOT` < `1.2` < `1.2.1`.
fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    let split = |v: &str| -> Vec<std::result::Result<u64, String>> {
        v.split(['.', '-'])
            .map(|p| p.parse::<u64>().map_err(|_| p.to_ascii_lowercase()))
            .collect()
    };
    let (x, y) = (split(a), split(b));
    for i in 0..x.len().max(y.len()) {
        let o = match (x.get(i), y.get(i)) {
            (Some(Ok(m)), Some(Ok(n))) => m.cmp(n),
            (Some(Err(p)), Some(Err(q))) => p.cmp(q),
            (Some(Ok(_)), Some(Err(_))) => Greater,
            (Some(Err(_)), Some(Ok(_))) => Less,
            (Some(Ok(_)), None) => Greater,
            (Some(Err(_)), None) => Less,
            (None, Some(Ok(_))) => Less,
            (None, Some(Err(_))) => Greater,
            (None, None) => Equal,
        };
        if o != Equal {
            return o;
        }
    }
    Equal
}

/// The `maven-metadata.xml` of directory `dir` (a path without the file name): for a
/// SNAPSHOT version directory its snapshot metadata, for an artifact directory its
/// versions; `None` when the bundle holds nothing there.
pub fn metadata(b: &Bundle, dir: &str) -> Result<Option<String>> {
    if dir.is_empty()
        || dir
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Ok(None);
    }
    let files = files_under(b, dir)?;
    let segs: Vec<&str> = dir.split('/').collect();
    let last = *segs.last().expect("non-empty");
    // a SNAPSHOT version directory
    if last.ends_with("-SNAPSHOT") && segs.len() >= 3 {
        let direct: Vec<&(String, MavenFile)> = files
            .iter()
            .filter(|(_, f)| f.version == last && f.path.rsplit_once('/').map(|x| x.0) == Some(dir))
            .collect();
        if direct.is_empty() {
            return Ok(None);
        }
        let artifact = segs[segs.len() - 2];
        let group = segs[..segs.len() - 2].join(".");
        let base = last.trim_end_matches("-SNAPSHOT");
        // newest build wins for each (classifier, extension)
        let mut latest: std::collections::BTreeMap<(String, String), (u64, String, String)> =
            Default::default();
        let mut newest: Option<(u64, String)> = None;
        for (added, f) in &direct {
            let fname = f.path.rsplit('/').next().unwrap_or_default();
            let Some(rest) = fname.strip_prefix(&format!("{artifact}-{base}-")) else {
                continue;
            };
            let ts = rest.get(..15).unwrap_or_default().to_string();
            let build: u64 = rest
                .get(16..)
                .unwrap_or_default()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0);
            let value = format!("{base}-{ts}-{build}");
            let k = (
                f.classifier.clone().unwrap_or_default(),
                f.extension.clone(),
            );
            if latest.get(&k).is_none_or(|(n, _, _)| build > *n) {
                latest.insert(k, (build, value, compact_time(added)));
            }
            if newest.as_ref().is_none_or(|(n, _)| build > *n) {
                newest = Some((build, ts));
            }
        }
        let updated = direct
            .iter()
            .map(|(a, _)| compact_time(a))
            .max()
            .unwrap_or_default();
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata modelVersion=\"1.1.0\">\n  <groupId>{group}</groupId>\n  <artifactId>{artifact}</artifactId>\n  <version>{last}</version>\n  <versioning>\n"
        );
        if let Some((build, ts)) = newest {
            xml.push_str(&format!(
                "    <snapshot>\n      <timestamp>{ts}</timestamp>\n      <buildNumber>{build}</buildNumber>\n    </snapshot>\n"
            ));
        }
        xml.push_str(&format!(
            "    <lastUpdated>{updated}</lastUpdated>\n    <snapshotVersions>\n"
        ));
        for ((classifier, ext), (_, value, when)) in &latest {
            xml.push_str("      <snapshotVersion>\n");
            if !classifier.is_empty() {
                xml.push_str(&format!("        <classifier>{classifier}</classifier>\n"));
            }
            xml.push_str(&format!(
                "        <extension>{ext}</extension>\n        <value>{value}</value>\n        <updated>{when}</updated>\n      </snapshotVersion>\n"
            ));
        }
        xml.push_str("    </snapshotVersions>\n  </versioning>\n</metadata>\n");
        return Ok(Some(xml));
    }
    // an artifact directory
    if segs.len() < 2 {
        return Ok(None);
    }
    let group = segs[..segs.len() - 1].join(".");
    let mine: Vec<&(String, MavenFile)> = files
        .iter()
        .filter(|(_, f)| f.artifact_id == last && f.group_id == group)
        .collect();
    if mine.is_empty() {
        return Ok(None);
    }
    let mut versions: Vec<String> = mine.iter().map(|(_, f)| f.version.clone()).collect();
    versions.sort_by(|a, b| version_cmp(a, b));
    versions.dedup();
    let latest = versions.last().cloned().unwrap_or_default();
    let release = versions
        .iter()
        .rev()
        .find(|v| !v.ends_with("-SNAPSHOT"))
        .cloned();
    let updated = mine
        .iter()
        .map(|(a, _)| compact_time(a))
        .max()
        .unwrap_or_default();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n  <groupId>{group}</groupId>\n  <artifactId>{last}</artifactId>\n  <versioning>\n    <latest>{latest}</latest>\n"
    );
    if let Some(r) = release {
        xml.push_str(&format!("    <release>{r}</release>\n"));
    }
    xml.push_str("    <versions>\n");
    for v in &versions {
        xml.push_str(&format!("      <version>{v}</version>\n"));
    }
    xml.push_str(&format!(
        "    </versions>\n    <lastUpdated>{updated}</lastUpdated>\n  </versioning>\n</metadata>\n"
    ));
    Ok(Some(xml))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let p = parse_path("com/example/app/1.0/app-1.0-sources.jar").unwrap();
        assert_eq!(
            (
                p.group_id.as_str(),
                p.classifier.as_deref(),
                p.extension.as_str()
            ),
            ("com.example", Some("sources"), "jar")
        );
        let p = parse_path("com/example/app/1.0-SNAPSHOT/app-1.0-20240101.120000-3.pom").unwrap();
        assert_eq!(
            (p.version.as_str(), p.extension.as_str()),
            ("1.0-SNAPSHOT", "pom")
        );
        assert!(parse_path("com/example/app/1.0/other-1.0.jar").is_err());
        assert!(parse_path("com/example/app/1.0/app-2.0.jar").is_err());
        assert!(parse_path("app/1.0/app-1.0.jar").is_err());
        assert!(parse_path("com/example/app/1.0-SNAPSHOT/app-1.0-2024.jar").is_err());
    }

    #[test]
    fn version_order() {
        let mut v = vec!["1.10", "1.2", "1.2-SNAPSHOT", "1.9.1", "1.2.1"];
        v.sort_by(|a, b| version_cmp(a, b));
        assert_eq!(v, ["1.2-SNAPSHOT", "1.2", "1.2.1", "1.9.1", "1.10"]);
    }
}
