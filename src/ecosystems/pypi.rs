//! `nora add pypi`: imports a wheel (`.whl`) or a source distribution (`.tar.gz`, `.zip`).
//!
//! The file name is checked against the wheel or sdist naming rules and the core metadata
//! inside (`*.dist-info/METADATA` or `PKG-INFO`) against the file name before anything is
//! stored. A wheel's METADATA is also stored as its own blob, served as PEP 658 metadata.

use crate::bundle::refs::{PypiFile, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::digest::{hash_file, Digest};
use crate::ecosystems::archive::{scan_tgz, MAX_MANIFEST};
use crate::ecosystems::AddOptions;
use crate::error::{Error, IoContext, Result};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// The parts of a wheel file name
/// (`{distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    /// Distribution name as the file spells it.
    pub distribution: String,
    /// Version.
    pub version: String,
    /// Optional build tag (starts with a digit).
    pub build: Option<String>,
    /// Python tag (`py3`, `cp312`, `py2.py3`).
    pub python: String,
    /// ABI tag (`none`, `abi3`, `cp312`).
    pub abi: String,
    /// Platform tag (`any`, `manylinux_2_17_x86_64`, …).
    pub platform: String,
}

/// The core metadata fields nora uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoreMetadata {
    /// `Name`.
    pub name: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `Requires-Python`.
    pub requires_python: Option<String>,
}

/// Imports one wheel or sdist as a `pypi-file` record.
pub fn import(bundle: &Bundle, file: &Path, _opts: &AddOptions) -> Result<Vec<RefRecord>> {
    import_with_metadata(bundle, file, None)
}

/// Imports one wheel or sdist with the core metadata file an index serves beside it
/// (PEP 658), checked before anything is stored: its Name and Version must be the
/// distribution's, and a wheel's must be, byte for byte, the METADATA inside it.
pub fn import_with_metadata(
    bundle: &Bundle,
    file: &Path,
    offered: Option<&[u8]>,
) -> Result<Vec<RefRecord>> {
    let filename = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::BadArtifact {
            path: file.to_path_buf(),
            reason: "the file name is not valid UTF-8".into(),
        })?
        .to_string();
    if filename.ends_with(".whl") {
        import_wheel(bundle, file, filename, offered)
    } else if let Some(stem) = filename.strip_suffix(".tar.gz") {
        import_sdist(
            bundle,
            file,
            stem.to_string(),
            filename.clone(),
            false,
            offered,
        )
    } else if let Some(stem) = filename.strip_suffix(".zip") {
        import_sdist(
            bundle,
            file,
            stem.to_string(),
            filename.clone(),
            true,
            offered,
        )
    } else {
        Err(Error::BadArtifact {
            path: file.to_path_buf(),
            reason:
                "not a PyPI distribution: expected a wheel (.whl) or an sdist (.tar.gz or .zip)"
                    .into(),
        })
    }
}

fn import_wheel(
    bundle: &Bundle,
    file: &Path,
    filename: String,
    offered: Option<&[u8]>,
) -> Result<Vec<RefRecord>> {
    let wheel = parse_wheel_filename(&filename)?;
    let (sha256, _) = hash_file(file).at("read", file)?;
    let want = normalize(&wheel.distribution);
    let is_metadata = |n: &str| match n.split('/').collect::<Vec<_>>()[..] {
        [dir, "METADATA"] => dir
            .strip_suffix(".dist-info")
            .is_some_and(|p| normalize(p.split('-').next().unwrap_or(p)) == want),
        _ => false,
    };
    let Some((_, bytes)) = read_zip_member(file, is_metadata, "a wheel")? else {
        return Err(Error::BadArtifact {
            path: file.to_path_buf(),
            reason: format!(
                "not a wheel: no {}-{}.dist-info/METADATA in it",
                wheel.distribution, wheel.version
            ),
        });
    };
    let meta = checked_metadata(file, &bytes, "METADATA")?;
    if normalize(&meta.name) != want || !same_version(&meta.version, &wheel.version) {
        return Err(Error::BadArtifact {
            path: file.to_path_buf(),
            reason: format!(
                "METADATA describes {} {} but the file name says {} {}",
                meta.name, meta.version, wheel.distribution, wheel.version
            ),
        });
    }
    if offered.is_some_and(|o| o != bytes) {
        return Err(Error::BadArtifact {
            path: metadata_path(file),
            reason: format!(
                "the index's core metadata file is not the METADATA inside the wheel ({} against {})",
                Digest::of(offered.unwrap_or_default()),
                Digest::of(&bytes)
            ),
        });
    }
    let stored = bundle.ingest(File::open(file).at("open", file)?, Some(&sha256))?;
    let metadata = bundle.ingest_bytes(&bytes)?.digest;
    Ok(vec![record(
        meta,
        filename,
        "bdist_wheel",
        stored.digest,
        stored.size,
        Some(metadata),
    )])
}

fn import_sdist(
    bundle: &Bundle,
    file: &Path,
    stem: String,
    filename: String,
    zip: bool,
    offered: Option<&[u8]>,
) -> Result<Vec<RefRecord>> {
    parse_sdist_stem(&stem, &filename)?;
    let is_pkg_info = |n: &str| matches!(n.split('/').collect::<Vec<_>>()[..], [dir, "PKG-INFO"] if !dir.is_empty());
    let (found, sha256) = if zip {
        let (sha256, _) = hash_file(file).at("read", file)?;
        (read_zip_member(file, is_pkg_info, "an sdist")?, sha256)
    } else {
        let scan = scan_tgz(file, "PKG-INFO", "an sdist")?;
        (scan.found, scan.hashes.sha256)
    };
    let Some((_, bytes)) = found else {
        return Err(Error::BadArtifact {
            path: file.to_path_buf(),
            reason: "not an sdist: no PKG-INFO in its top directory".into(),
        });
    };
    let meta = checked_metadata(file, &bytes, "PKG-INFO")?;
    let matches = stem.len() > meta.version.len()
        && stem
            .get(stem.len() - meta.version.len()..)
            .is_some_and(|v| same_version(v, &meta.version))
        && stem
            .get(..stem.len() - meta.version.len())
            .and_then(|p| p.strip_suffix('-'))
            .is_some_and(|p| normalize(p) == normalize(&meta.name));
    if !matches {
        return Err(Error::BadArtifact {
            path: file.to_path_buf(),
            reason: format!(
                "PKG-INFO describes {} {}, which does not match the file name {filename}",
                meta.name, meta.version
            ),
        });
    }
    if let Some(o) = offered {
        let path = metadata_path(file);
        let m = checked_metadata(&path, o, "the index's core metadata file")?;
        if normalize(&m.name) != normalize(&meta.name) || !same_version(&m.version, &meta.version) {
            return Err(Error::BadArtifact {
                path,
                reason: format!(
                    "the index's core metadata file describes {} {}, the sdist is {} {}",
                    m.name, m.version, meta.name, meta.version
                ),
            });
        }
    }
    let stored = bundle.ingest(File::open(file).at("open", file)?, Some(&sha256))?;
    let metadata = match offered {
        Some(o) => Some(bundle.ingest_bytes(o)?.digest),
        None => None,
    };
    Ok(vec![record(
        meta,
        filename,
        "sdist",
        stored.digest,
        stored.size,
        metadata,
    )])
}

fn metadata_path(file: &Path) -> std::path::PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".metadata");
    file.with_file_name(name)
}

struct Checked {
    name: String,
    version: String,
    requires_python: Option<String>,
}

fn checked_metadata(file: &Path, bytes: &[u8], what: &str) -> Result<Checked> {
    let meta = parse_core_metadata(bytes);
    let missing = |field: &str| Error::BadArtifact {
        path: file.to_path_buf(),
        reason: format!("{what} has no {field} field"),
    };
    let name = meta.name.ok_or_else(|| missing("Name"))?;
    let version = meta.version.ok_or_else(|| missing("Version"))?;
    validate_project_name(&name)?;
    if version.is_empty()
        || version
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return Err(Error::InvalidName {
            what: "PyPI version",
            value: version,
            reason: "a version holds no spaces, control characters or '/'".into(),
        });
    }
    Ok(Checked {
        name,
        version,
        requires_python: meta.requires_python.filter(|r| !r.is_empty()),
    })
}

fn record(
    meta: Checked,
    filename: String,
    packagetype: &str,
    digest: Digest,
    size: u64,
    metadata: Option<Digest>,
) -> RefRecord {
    RefRecord::new(RefBody::PypiFile(PypiFile {
        normalized: normalize(&meta.name),
        project: meta.name,
        version: meta.version,
        filename,
        packagetype: packagetype.into(),
        digest,
        size,
        requires_python: meta.requires_python,
        yanked: None,
        metadata,
    }))
}

/// PEP 503 normalisation: lowercase, each run of `-`, `_` and `.` becomes one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// Checks a project name against PEP 508: ASCII letters, digits, `-`, `_` and `.`,
/// starting and ending with a letter or digit.
pub fn validate_project_name(name: &str) -> Result<()> {
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            what: "PyPI project name",
            value: name.to_string(),
            reason: "names hold only ASCII letters, digits, '-', '_' and '.', and start and end with a letter or digit"
                .into(),
        })
    }
}

/// Splits and checks a wheel file name against the wheel spec.
pub fn parse_wheel_filename(filename: &str) -> Result<WheelName> {
    let fail = |reason: String| Error::InvalidName {
        what: "wheel file name",
        value: filename.to_string(),
        reason,
    };
    let stem = filename
        .strip_suffix(".whl")
        .ok_or_else(|| fail("a wheel file name ends in .whl".into()))?;
    let parts: Vec<&str> = stem.split('-').collect();
    let (build, tags) = match parts.len() {
        5 => (None, &parts[2..]),
        6 => (Some(parts[2]), &parts[3..]),
        n => {
            return Err(fail(format!(
                "expected {{distribution}}-{{version}}(-{{build tag}})?-{{python tag}}-{{abi tag}}-{{platform tag}}.whl, \
                 found {n} dash-separated parts (a '-' inside the name or version must be written '_')"
            )))
        }
    };
    let is_tag_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let (dist, version) = (parts[0], parts[1]);
    if dist.is_empty()
        || !dist.chars().all(is_tag_char)
        || !dist.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !dist.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err(fail(format!(
            "distribution '{dist}' must be letters, digits, '_' and '.', starting and ending with a letter or digit"
        )));
    }
    if !version.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(fail(format!(
            "version '{version}' must start with a digit (a '-' inside the name must be written '_')"
        )));
    }
    if !version
        .chars()
        .all(|c| is_tag_char(c) || c == '+' || c == '!')
    {
        return Err(fail(format!(
            "version '{version}' holds characters a version cannot"
        )));
    }
    if let Some(b) = build {
        if !b.starts_with(|c: char| c.is_ascii_digit()) || !b.chars().all(is_tag_char) {
            return Err(fail(format!("build tag '{b}' must start with a digit")));
        }
    }
    for (what, tag) in ["python", "abi", "platform"].iter().zip(tags) {
        if tag.is_empty() || !tag.chars().all(is_tag_char) {
            return Err(fail(format!(
                "{what} tag '{tag}' must be non-empty letters, digits, '_' and '.'"
            )));
        }
    }
    Ok(WheelName {
        distribution: dist.into(),
        version: version.into(),
        build: build.map(Into::into),
        python: tags[0].into(),
        abi: tags[1].into(),
        platform: tags[2].into(),
    })
}

/// The version a distribution's file name carries (wheel or sdist), if it is one.
pub fn filename_version(filename: &str) -> Option<String> {
    if filename.ends_with(".whl") {
        return parse_wheel_filename(filename).ok().map(|w| w.version);
    }
    let stem = filename
        .strip_suffix(".tar.gz")
        .or_else(|| filename.strip_suffix(".zip"))?;
    parse_sdist_stem(stem, filename).ok()?;
    stem.rsplit_once('-').map(|(_, v)| v.to_string())
}

fn parse_sdist_stem(stem: &str, filename: &str) -> Result<()> {
    let fail = |reason: &str| Error::InvalidName {
        what: "sdist file name",
        value: filename.to_string(),
        reason: reason.into(),
    };
    let (name, version) = stem
        .rsplit_once('-')
        .ok_or_else(|| fail("expected {name}-{version}.tar.gz or {name}-{version}.zip"))?;
    if name.is_empty() || version.is_empty() {
        return Err(fail(
            "expected {name}-{version}.tar.gz or {name}-{version}.zip",
        ));
    }
    if stem.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(fail("a file name holds no spaces or control characters"));
    }
    Ok(())
}

fn same_version(a: &str, b: &str) -> bool {
    a.replace('-', "_")
        .eq_ignore_ascii_case(&b.replace('-', "_"))
}

/// Reads the RFC 822-style header block of a METADATA or PKG-INFO file.
pub fn parse_core_metadata(bytes: &[u8]) -> CoreMetadata {
    let text = String::from_utf8_lossy(bytes);
    let mut headers: Vec<(&str, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim(), v.trim().to_string()));
        }
    }
    let get = |key: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim().to_string())
    };
    CoreMetadata {
        name: get("Name"),
        version: get("Version"),
        requires_python: get("Requires-Python"),
    }
}

/// The first regular file of the zip at `path` whose name `pick` accepts, with its contents.
fn read_zip_member(
    path: &Path,
    pick: impl Fn(&str) -> bool,
    what: &str,
) -> Result<Option<(String, Vec<u8>)>> {
    let bad = |reason: String| Error::BadArtifact {
        path: path.to_path_buf(),
        reason: format!("not {what}: {reason}"),
    };
    let file = File::open(path).at("open", path)?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| bad(format!("not a valid zip archive: {e}")))?;
    let names: Vec<String> = zip
        .file_names()
        .filter(|n| pick(n))
        .map(str::to_string)
        .collect();
    for name in names {
        let member = zip
            .by_name(&name)
            .map_err(|e| bad(format!("cannot read {name}: {e}")))?;
        if !member.is_file() {
            continue;
        }
        if member.size() > MAX_MANIFEST {
            return Err(bad(format!("{name} is larger than {MAX_MANIFEST} bytes")));
        }
        let mut bytes = Vec::with_capacity(member.size() as usize);
        member
            .take(MAX_MANIFEST + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("cannot read {name}: {e}")))?;
        if bytes.len() as u64 > MAX_MANIFEST {
            return Err(bad(format!("{name} is larger than {MAX_MANIFEST} bytes")));
        }
        return Ok(Some((name, bytes)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystems::archive::testing::{assert_refused, setup, write_tgz, write_zip};

    const METADATA: &[u8] = b"Metadata-Version: 2.1\nName: Demo.Pkg\nVersion: 1.0\nSummary: a demo\n  over two lines\nrequires-python: >=3.8\n\nName: not-this\n";

    fn pypi_file(recs: &[RefRecord]) -> &PypiFile {
        assert_eq!(recs.len(), 1);
        match &recs[0].body {
            RefBody::PypiFile(f) => f,
            other => panic!("not a pypi file: {other:?}"),
        }
    }

    #[test]
    fn imports_wheel_with_core_metadata() {
        let (tmp, bundle) = setup();
        let file = write_zip(
            tmp.path(),
            "demo_pkg-1.0-py3-none-any.whl",
            &[
                ("demo_pkg/__init__.py", b""),
                (
                    "other-2.0.dist-info/METADATA",
                    b"Name: other\nVersion: 2.0\n",
                ),
                ("demo_pkg-1.0.dist-info/METADATA", METADATA),
                ("demo_pkg-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
            ],
        );
        let recs = import(&bundle, &file, &AddOptions::default()).unwrap();
        let f = pypi_file(&recs);
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(f.project, "Demo.Pkg");
        assert_eq!(f.normalized, "demo-pkg");
        assert_eq!(f.version, "1.0");
        assert_eq!(f.filename, "demo_pkg-1.0-py3-none-any.whl");
        assert_eq!(f.packagetype, "bdist_wheel");
        assert_eq!(f.digest, Digest::of(&bytes));
        assert_eq!(f.size, bytes.len() as u64);
        assert_eq!(f.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(f.metadata, Some(Digest::of(METADATA)));
        assert_eq!(
            bundle.read_blob(f.metadata.as_ref().unwrap()).unwrap(),
            METADATA
        );
        assert_eq!(bundle.blobs().unwrap().len(), 2);
        assert_eq!(
            recs[0].body.key().unwrap().to_string(),
            "pypi/demo-pkg/demo_pkg-1.0-py3-none-any.whl"
        );
        bundle.write_ref(&recs[0]).unwrap();
    }

    #[test]
    fn parses_wheel_names() {
        let w = parse_wheel_filename(
            "numpy-2.1.0-1local-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.distribution, "numpy");
        assert_eq!(w.build.as_deref(), Some("1local"));
        assert_eq!(w.platform, "manylinux_2_17_x86_64.manylinux2014_x86_64");
        let w = parse_wheel_filename("zope.interface-6.0+local-py2.py3-none-any.whl").unwrap();
        assert_eq!(
            (w.version.as_str(), w.python.as_str(), w.build),
            ("6.0+local", "py2.py3", None)
        );
        for (bad, reason) in [
            ("demo-1.0-py3-none.whl", "found 4 dash-separated parts"),
            (
                "demo-pkg-1.0-1-py3-none-any.whl",
                "found 7 dash-separated parts",
            ),
            (
                "demo-1.0-b1-py3-none-any.whl",
                "build tag 'b1' must start with a digit",
            ),
            ("demo-1.0--none-any.whl", "python tag ''"),
            ("_demo-1.0-py3-none-any.whl", "distribution '_demo'"),
            ("demo-.1-py3-none-any.whl", "version '.1'"),
            ("demo-1.0-py3-none-any.zip", "ends in .whl"),
        ] {
            match parse_wheel_filename(bad) {
                Err(Error::InvalidName {
                    what: "wheel file name",
                    reason: r,
                    ..
                }) => assert!(r.contains(reason), "{bad}: {r}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_bad_wheel_name_before_storing() {
        let (tmp, bundle) = setup();
        let file = write_zip(
            tmp.path(),
            "demo-pkg-1.0-py3-none-any.whl",
            &[("demo_pkg-1.0.dist-info/METADATA", METADATA)],
        );
        let err = assert_refused(import, &bundle, &file, "must be written '_'");
        assert!(matches!(
            err,
            Error::InvalidName {
                what: "wheel file name",
                ..
            }
        ));
    }

    #[test]
    fn refuses_wheel_without_metadata() {
        let (tmp, bundle) = setup();
        let file = write_zip(
            tmp.path(),
            "demo_pkg-1.0-py3-none-any.whl",
            &[
                ("other-1.0.dist-info/METADATA", METADATA),
                ("demo_pkg-1.0.dist-info/x/METADATA", METADATA),
            ],
        );
        let err = assert_refused(import, &bundle, &file, "no demo_pkg-1.0.dist-info/METADATA");
        assert!(matches!(err, Error::BadArtifact { .. }));
    }

    #[test]
    fn refuses_wheel_whose_metadata_disagrees() {
        let (tmp, bundle) = setup();
        let file = write_zip(
            tmp.path(),
            "demo_pkg-1.1-py3-none-any.whl",
            &[("demo_pkg-1.1.dist-info/METADATA", METADATA)],
        );
        assert_refused(
            import,
            &bundle,
            &file,
            "METADATA describes Demo.Pkg 1.0 but the file name says demo_pkg 1.1",
        );
        let no_version = write_zip(
            tmp.path(),
            "demo_pkg-1.0-py3-none-any.whl",
            &[("demo_pkg-1.0.dist-info/METADATA", b"Name: demo-pkg\n")],
        );
        assert_refused(
            import,
            &bundle,
            &no_version,
            "METADATA has no Version field",
        );
    }

    #[test]
    fn refuses_non_zip_wheel_and_unknown_types() {
        let (tmp, bundle) = setup();
        let file = tmp.path().join("demo-1.0-py3-none-any.whl");
        std::fs::write(&file, b"not a zip").unwrap();
        assert_refused(
            import,
            &bundle,
            &file,
            "not a wheel: not a valid zip archive",
        );
        let egg = tmp.path().join("demo-1.0.egg");
        std::fs::write(&egg, b"x").unwrap();
        assert_refused(import, &bundle, &egg, "expected a wheel (.whl) or an sdist");
    }

    const PKG_INFO: &[u8] = b"Metadata-Version: 1.1\nName: python-dateutil\nVersion: 2.8.2\nRequires-Python: >=2.7, !=3.0.*\n";

    #[test]
    fn imports_sdists() {
        let (tmp, bundle) = setup();
        let tgz = write_tgz(
            tmp.path(),
            "python-dateutil-2.8.2.tar.gz",
            &[
                (
                    "python-dateutil-2.8.2/python_dateutil.egg-info/PKG-INFO",
                    b"Name: wrong\n",
                ),
                ("python-dateutil-2.8.2/PKG-INFO", PKG_INFO),
                ("python-dateutil-2.8.2/setup.py", b""),
            ],
        );
        let recs = import(&bundle, &tgz, &AddOptions::default()).unwrap();
        let f = pypi_file(&recs);
        assert_eq!(f.project, "python-dateutil");
        assert_eq!(f.normalized, "python-dateutil");
        assert_eq!(f.version, "2.8.2");
        assert_eq!(f.packagetype, "sdist");
        assert_eq!(f.requires_python.as_deref(), Some(">=2.7, !=3.0.*"));
        assert_eq!(f.metadata, None);
        assert_eq!(f.digest, Digest::of(&std::fs::read(&tgz).unwrap()));

        let zip = write_zip(
            tmp.path(),
            "python_dateutil-2.8.2.zip",
            &[("python_dateutil-2.8.2/PKG-INFO", PKG_INFO)],
        );
        let recs = import(&bundle, &zip, &AddOptions::default()).unwrap();
        let f = pypi_file(&recs);
        assert_eq!(f.filename, "python_dateutil-2.8.2.zip");
        assert_eq!(f.digest, Digest::of(&std::fs::read(&zip).unwrap()));
        assert_eq!(bundle.blobs().unwrap().len(), 2);
    }

    #[test]
    fn refuses_bad_sdists() {
        let (tmp, bundle) = setup();
        let none = write_tgz(tmp.path(), "demo-1.0.tar.gz", &[("demo-1.0/setup.py", b"")]);
        let err = assert_refused(
            import,
            &bundle,
            &none,
            "not an sdist: no PKG-INFO in its top directory",
        );
        assert!(matches!(err, Error::BadArtifact { .. }));
        let other = write_tgz(
            tmp.path(),
            "demo-1.1.tar.gz",
            &[("demo-1.1/PKG-INFO", b"Name: demo\nVersion: 1.0\n")],
        );
        assert_refused(
            import,
            &bundle,
            &other,
            "does not match the file name demo-1.1.tar.gz",
        );
        let unnamed = write_zip(
            tmp.path(),
            "demo.zip",
            &[("demo/PKG-INFO", b"Name: demo\nVersion: 1.0\n")],
        );
        let err = assert_refused(
            import,
            &bundle,
            &unnamed,
            "expected {name}-{version}.tar.gz",
        );
        assert!(matches!(
            err,
            Error::InvalidName {
                what: "sdist file name",
                ..
            }
        ));
        let plain = tmp.path().join("demo-1.0.tar.gz");
        std::fs::write(&plain, b"plain").unwrap();
        assert_refused(
            import,
            &bundle,
            &plain,
            "not an sdist: not a gzip-compressed tar archive",
        );
    }

    #[test]
    fn normalizes_and_parses_metadata() {
        assert_eq!(normalize("Foo.Bar__baz-_-Qux"), "foo-bar-baz-qux");
        let m = parse_core_metadata(METADATA);
        assert_eq!(
            m,
            CoreMetadata {
                name: Some("Demo.Pkg".into()),
                version: Some("1.0".into()),
                requires_python: Some(">=3.8".into()),
            }
        );
        assert!(validate_project_name("a.b-c_d9").is_ok());
        assert!(validate_project_name("-a").is_err());
        assert!(validate_project_name("a b").is_err());
    }
}
