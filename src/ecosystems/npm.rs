//! `nora add npm`: imports a published npm tarball (`.tgz`).
//!
//! The tarball is read once to validate it and take its hashes (SHA-256, the SHA-512 of
//! its `integrity` and the SHA-1 of its `shasum`), then streamed into the bundle, whose
//! ingest checks that the bytes are still the validated ones.

use crate::bundle::refs::{NpmDistTag, NpmVersion, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::ecosystems::archive::scan_tgz;
use crate::ecosystems::AddOptions;
use crate::error::{Error, IoContext, Result};
use base64::Engine as _;
use sha2::{Digest as _, Sha512};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Longest npm package name the registry accepts.
pub const MAX_NAME_LEN: usize = 214;

/// What an npm tarball says of itself, read without storing anything.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// Package name from package.json.
    pub name: String,
    /// Version from package.json.
    pub version: String,
    /// package.json without `dist` and `_`-fields.
    pub manifest: serde_json::Value,
    /// SHA-256 of the tarball.
    pub sha256: crate::Digest,
    /// `sha512-<base64>` of the tarball.
    pub integrity: String,
    /// Hex SHA-1 of the tarball.
    pub shasum: String,
}

/// Reads a tarball's package.json and hashes, checking name and version.
pub fn inspect(file: &Path) -> Result<Inspected> {
    let bad = |reason: String| Error::BadArtifact {
        path: file.to_path_buf(),
        reason,
    };
    let scan = scan_tgz(file, "package.json", "an npm package")?;
    let (_, bytes) = scan
        .found
        .ok_or_else(|| bad("not an npm package: no package.json in its top directory".into()))?;
    let mut manifest: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| bad(format!("package.json is not valid JSON: {e}")))?;
    let obj = manifest
        .as_object_mut()
        .ok_or_else(|| bad("package.json is not a JSON object".into()))?;
    let field = |key: &str| match obj.get(key) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(bad(format!("package.json: \"{key}\" is not a string"))),
        None => Err(bad(format!("package.json has no \"{key}\""))),
    };
    let name = field("name")?;
    let version = field("version")?;
    validate_name(&name)?;
    parse_version(&version)?;
    obj.retain(|k, _| k != "dist" && !k.starts_with('_'));
    let hashes = scan.hashes;
    Ok(Inspected {
        name,
        version,
        manifest,
        sha256: hashes.sha256,
        integrity: sri_sha512(&hashes.sha512),
        shasum: hex::encode(&hashes.sha1),
    })
}

/// Stores an inspected tarball and returns its `npm-version` record.
pub fn store(bundle: &Bundle, file: &Path, i: Inspected) -> Result<RefRecord> {
    let stored = bundle.ingest(File::open(file).at("open", file)?, Some(&i.sha256))?;
    Ok(RefRecord::new(RefBody::NpmVersion(NpmVersion {
        name: i.name,
        version: i.version,
        tarball: stored.digest,
        size: stored.size,
        integrity: i.integrity,
        shasum: i.shasum,
        manifest: i.manifest,
    })))
}

/// Imports one npm tarball: an `npm-version` record, plus the `latest` dist-tag when the
/// bundle has none yet or its `latest` is a lower version.
pub fn import(bundle: &Bundle, file: &Path, _opts: &AddOptions) -> Result<Vec<RefRecord>> {
    let i = inspect(file)?;
    let tag = latest_tag(bundle, &i.name, &i.version)?;
    let mut out = vec![store(bundle, file, i)?];
    out.extend(tag);
    Ok(out)
}

/// The `latest` dist-tag moved to `version`, when the bundle has no `latest` for `name` yet
/// or its `latest` is a lower version; `None` otherwise.
pub fn latest_tag(bundle: &Bundle, name: &str, version: &str) -> Result<Option<RefRecord>> {
    let semver = parse_version(version)?;
    let tag = NpmDistTag {
        name: name.to_string(),
        tag: "latest".into(),
        version: version.to_string(),
    };
    let move_latest = match bundle.read_ref(&RefBody::NpmDistTag(tag.clone()).key()?)? {
        None => true,
        Some(old) => match old.body {
            RefBody::NpmDistTag(t) => semver::Version::parse(&t.version).is_ok_and(|v| v < semver),
            _ => false,
        },
    };
    Ok(move_latest.then(|| RefRecord::new(RefBody::NpmDistTag(tag))))
}

/// Subresource integrity (`sha512-<base64>`) of everything `reader` yields, streamed.
pub fn integrity_sha512<R: Read>(mut reader: R) -> io::Result<String> {
    let mut hasher = Sha512::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(sri_sha512(&hasher.finalize()))
}

fn sri_sha512(hash: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

/// Checks a package name against npm's rules: `name` or `@scope/name`, at most 214
/// characters, URL-safe, no part starting with `.` or `_`. Names only legacy packages may
/// have (capitals, `~'!()*`) are accepted, since nora imports packages already published.
pub fn validate_name(name: &str) -> Result<()> {
    let fail = |reason: String| Error::InvalidName {
        what: "npm package name",
        value: name.to_string(),
        reason,
    };
    if name.len() > MAX_NAME_LEN {
        return Err(fail(format!("longer than {MAX_NAME_LEN} characters")));
    }
    let parts: Vec<&str> = match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, pkg)) => vec![scope, pkg],
            None => return Err(fail("a scoped name has the form @scope/name".into())),
        },
        None => vec![name],
    };
    for part in &parts {
        if part.is_empty() {
            return Err(fail("name and scope cannot be empty".into()));
        }
        if part.starts_with('.') || part.starts_with('_') {
            return Err(fail(format!("'{part}' starts with '.' or '_'")));
        }
        if let Some(c) = part.chars().find(|c| !is_url_safe(*c)) {
            return Err(fail(format!(
                "'{c}' is not allowed: names hold only letters, digits and -._~!*'()"
            )));
        }
    }
    if parts.len() == 1
        && ["node_modules", "favicon.ico"].contains(&name.to_ascii_lowercase().as_str())
    {
        return Err(fail("this name is reserved".into()));
    }
    Ok(())
}

fn is_url_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c)
}

/// Parses a version as semver, naming it in the error.
pub fn parse_version(version: &str) -> Result<semver::Version> {
    semver::Version::parse(version).map_err(|e| Error::InvalidName {
        what: "npm version",
        value: version.to_string(),
        reason: format!("not a semantic version: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::ecosystems::archive::testing::{assert_refused, setup, write_tgz};
    use sha1::Sha1;
    use std::io::Write;
    use std::path::PathBuf;

    fn pkg(dir: &Path, name: &str, version: &str) -> PathBuf {
        let json = format!(
            r#"{{"name":"{name}","version":"{version}","main":"index.js","dist":{{"x":1}},"_id":"x","_resolved":"y"}}"#
        );
        write_tgz(
            dir,
            &format!("{}-{version}.tgz", name.replace('/', "-")),
            &[
                ("package/index.js", b"module.exports = 1;\n"),
                ("package/package.json", json.as_bytes()),
            ],
        )
    }

    fn tag_of(records: &[RefRecord]) -> Option<String> {
        records.iter().find_map(|r| match &r.body {
            RefBody::NpmDistTag(t) => Some(t.version.clone()),
            _ => None,
        })
    }

    fn add(bundle: &Bundle, file: &Path) -> Result<Vec<RefRecord>> {
        let recs = import(bundle, file, &AddOptions::default())?;
        for r in &recs {
            bundle.write_ref(r)?;
        }
        Ok(recs)
    }

    #[test]
    fn imports_version_and_latest() {
        let (tmp, bundle) = setup();
        let file = pkg(tmp.path(), "@scope/left-pad", "1.3.0");
        let recs = add(&bundle, &file).unwrap();
        assert_eq!(recs.len(), 2);
        let RefBody::NpmVersion(v) = &recs[0].body else {
            panic!("not a version: {recs:?}")
        };
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(v.name, "@scope/left-pad");
        assert_eq!(v.version, "1.3.0");
        assert_eq!(v.tarball, Digest::of(&bytes));
        assert_eq!(v.size, bytes.len() as u64);
        let expected = format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&bytes))
        );
        assert_eq!(v.integrity, expected);
        assert_eq!(v.shasum, hex::encode(Sha1::digest(&bytes)));
        assert_eq!(
            v.manifest,
            serde_json::json!({"name": "@scope/left-pad", "version": "1.3.0", "main": "index.js"})
        );
        assert_eq!(bundle.read_blob(&v.tarball).unwrap(), bytes);
        assert_eq!(tag_of(&recs).as_deref(), Some("1.3.0"));
        assert_eq!(
            recs[1].body.key().unwrap().to_string(),
            "npm/@scope/left-pad/_tags/latest"
        );
    }

    #[test]
    fn latest_moves_only_forward() {
        let (tmp, bundle) = setup();
        add(&bundle, &pkg(tmp.path(), "a", "1.2.0")).unwrap();
        let older = add(&bundle, &pkg(tmp.path(), "a", "1.1.9")).unwrap();
        assert_eq!(older.len(), 1);
        let same = add(&bundle, &pkg(tmp.path(), "a", "1.2.0")).unwrap();
        assert_eq!(tag_of(&same), None);
        let newer = add(&bundle, &pkg(tmp.path(), "a", "1.10.0")).unwrap();
        assert_eq!(tag_of(&newer).as_deref(), Some("1.10.0"));
    }

    #[test]
    fn accepts_any_top_directory() {
        let (tmp, bundle) = setup();
        let file = write_tgz(
            tmp.path(),
            "x.tgz",
            &[
                ("node/lib/package.json", b"{}"),
                ("node/package.json", br#"{"name":"x","version":"0.0.1"}"#),
            ],
        );
        let recs = import(&bundle, &file, &AddOptions::default()).unwrap();
        assert_eq!(recs[0].body.display_name(), "x@0.0.1");
    }

    #[test]
    fn integrity_matches_known_values() {
        assert_eq!(
            integrity_sha512(&b""[..]).unwrap(),
            "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
        );
        assert_eq!(
            integrity_sha512(&b"abc"[..]).unwrap(),
            "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
        );
    }

    #[test]
    fn name_rules() {
        for ok in [
            "left-pad",
            "@babel/core",
            "a.b_c",
            "JSONStream",
            "x".repeat(214).as_str(),
        ] {
            validate_name(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            ".hidden",
            "_under",
            "@scope",
            "@.scope/x",
            "@scope/_x",
            "@/x",
            "a/b",
            "sp ace",
            "caf\u{e9}",
            "node_modules",
            "x".repeat(215).as_str(),
        ] {
            assert!(
                matches!(validate_name(bad), Err(Error::InvalidName { .. })),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn refuses_tarball_without_package_json() {
        let (tmp, bundle) = setup();
        let file = write_tgz(
            tmp.path(),
            "x.tgz",
            &[("package/lib/package.json", b"{}"), ("package.json", b"{}")],
        );
        let err = assert_refused(
            import,
            &bundle,
            &file,
            "not an npm package: no package.json in its top directory",
        );
        assert!(matches!(err, Error::BadArtifact { .. }));
    }

    #[test]
    fn refuses_non_gzip_and_corrupt_data() {
        let (tmp, bundle) = setup();
        let plain = tmp.path().join("plain.tgz");
        std::fs::write(&plain, b"just text").unwrap();
        assert_refused(import, &bundle, &plain, "not a gzip-compressed tar archive");
        let good = pkg(tmp.path(), "a", "1.0.0");
        let mut bytes = std::fs::read(&good).unwrap();
        bytes.truncate(bytes.len() - 12);
        let cut = tmp.path().join("cut.tgz");
        std::fs::write(&cut, &bytes).unwrap();
        assert_refused(import, &bundle, &cut, "corrupt gzip or tar data");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&[7u8; 1024]).unwrap();
        let not_tar = tmp.path().join("nottar.tgz");
        std::fs::write(&not_tar, gz.finish().unwrap()).unwrap();
        assert_refused(import, &bundle, &not_tar, "not an npm package");
    }

    #[test]
    fn refuses_bad_name_version_and_json() {
        let (tmp, bundle) = setup();
        let err = assert_refused(
            import,
            &bundle,
            &pkg(tmp.path(), "_private", "1.0.0"),
            "npm package name",
        );
        assert!(matches!(err, Error::InvalidName { .. }));
        let err = assert_refused(
            import,
            &bundle,
            &pkg(tmp.path(), "ok", "1.0"),
            "not a semantic version",
        );
        assert!(matches!(
            err,
            Error::InvalidName {
                what: "npm version",
                ..
            }
        ));
        let file = write_tgz(
            tmp.path(),
            "j.tgz",
            &[("package/package.json", b"{not json")],
        );
        assert_refused(import, &bundle, &file, "package.json is not valid JSON");
        let file = write_tgz(
            tmp.path(),
            "n.tgz",
            &[("package/package.json", br#"{"version":"1.0.0"}"#)],
        );
        assert_refused(import, &bundle, &file, "package.json has no \"name\"");
    }
}
