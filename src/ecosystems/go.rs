//! `nora add go`: imports a Go module zip (`MODULE@VERSION/...` entries) with its `.mod` and
//! `.info` files, and computes the `h1:` hashes go.sum records (golang.org/x/mod/sumdb/dirhash).

use crate::bundle::refs::{GoMod, GoVersion, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::ecosystems::AddOptions;
use crate::error::{Error, IoContext, Result};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;
use zip::ZipArchive;

/// Largest go.mod the go command accepts.
const MAX_GO_MOD: u64 = 16 << 20;
/// Largest `.info` file read.
const MAX_INFO: u64 = 1 << 20;

/// What a module zip (with its optional `.mod` and `.info`) says, read without storing.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// Module path.
    pub module: String,
    /// Version.
    pub version: String,
    /// `h1:` of the zip.
    pub h1: String,
    /// The go.mod served as `.mod`.
    pub mod_bytes: Vec<u8>,
    /// `h1:` of the go.mod.
    pub mod_h1: String,
    /// The `.info` JSON.
    pub info_bytes: Vec<u8>,
}

/// Imports one Go module zip.
pub fn import(bundle: &Bundle, file: &Path, opts: &AddOptions) -> Result<Vec<RefRecord>> {
    let i = inspect(file, opts)?;
    Ok(vec![store(bundle, file, i)?])
}

/// Reads and checks a module zip, its go.mod and `.info`, and computes both `h1:` hashes.
pub fn inspect(file: &Path, opts: &AddOptions) -> Result<Inspected> {
    let bad = |reason: String| Error::BadArtifact {
        path: file.to_path_buf(),
        reason,
    };
    let f = File::open(file).at("open", file)?;
    let mut z = ZipArchive::new(BufReader::new(f))
        .map_err(|e| bad(format!("not a readable zip file: {e}")))?;
    let scan = scan_names(&mut z).map_err(bad)?;
    check_module_path(&scan.module)?;
    check_version(&scan.module, &scan.version)?;
    if let Some(m) = &opts.module {
        if m != &scan.module {
            return Err(bad(format!(
                "the zip holds module {}, not {m} as --module says",
                scan.module
            )));
        }
    }
    if let Some(v) = &opts.version {
        if v != &scan.version {
            return Err(bad(format!(
                "the zip holds version {}, not {v} as --version says",
                scan.version
            )));
        }
    }
    let go_mod_entry = format!("{}go.mod", scan.prefix);
    let (h1, zip_go_mod) = hash_zip(&mut z, Some(&go_mod_entry)).map_err(bad)?;

    let mod_bytes = match &opts.go_mod {
        Some(p) => read_limited(p, MAX_GO_MOD)?,
        None => match zip_go_mod {
            Some(b) => b,
            None => format!("module {}\n", scan.module).into_bytes(),
        },
    };
    check_go_mod(&mod_bytes, &scan.module).map_err(|reason| Error::BadArtifact {
        path: opts.go_mod.clone().unwrap_or_else(|| file.to_path_buf()),
        reason,
    })?;
    let info_bytes = match &opts.go_info {
        Some(p) => {
            let b = read_limited(p, MAX_INFO)?;
            check_info(&b, &scan.version).map_err(|reason| Error::BadArtifact {
                path: p.clone(),
                reason,
            })?;
            b
        }
        None => {
            let time = scan
                .newest
                .map(format_zip_time)
                .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
            let v = serde_json::json!({"Version": scan.version, "Time": time});
            serde_json::to_vec(&v).expect("json")
        }
    };
    let mod_h1 = h1_mod(&mod_bytes);
    Ok(Inspected {
        module: scan.module,
        version: scan.version,
        h1,
        mod_bytes,
        mod_h1,
        info_bytes,
    })
}

/// Stores an inspected module and returns its `go-version` record.
pub fn store(bundle: &Bundle, file: &Path, i: Inspected) -> Result<RefRecord> {
    let zip_blob = bundle.ingest(BufReader::new(File::open(file).at("open", file)?), None)?;
    let mod_blob = bundle.ingest_bytes(&i.mod_bytes)?;
    let info_blob = bundle.ingest_bytes(&i.info_bytes)?;
    Ok(RefRecord::new(RefBody::GoVersion(GoVersion {
        module: i.module,
        version: i.version,
        info: info_blob.digest,
        mod_file: mod_blob.digest,
        zip: zip_blob.digest,
        size: zip_blob.size,
        h1: i.h1,
        mod_h1: i.mod_h1,
    })))
}

/// Checks and stores the `.info` and `.mod` of a version whose zip is not carried, and
/// returns its `go-mod` record; `name` names them in errors.
pub fn store_mod_only(
    bundle: &Bundle,
    module: &str,
    version: &str,
    info: &[u8],
    go_mod: &[u8],
    name: &str,
) -> Result<RefRecord> {
    check_module_path(module)?;
    check_version(module, version)?;
    let bad = |reason: String| Error::Other(format!("{name}: {reason}"));
    check_go_mod(go_mod, module).map_err(bad)?;
    check_info(info, version).map_err(bad)?;
    let mod_blob = bundle.ingest_bytes(go_mod)?;
    let info_blob = bundle.ingest_bytes(info)?;
    Ok(RefRecord::new(RefBody::GoMod(GoMod {
        module: module.to_string(),
        version: version.to_string(),
        info: info_blob.digest,
        mod_file: mod_blob.digest,
        mod_h1: h1_mod(go_mod),
    })))
}

/// The `h1:` hash of a module zip, as go.sum records it for `MODULE VERSION`.
pub fn h1_zip<R: Read + Seek>(r: R) -> Result<String> {
    let mut z =
        ZipArchive::new(r).map_err(|e| Error::Other(format!("not a readable zip file: {e}")))?;
    hash_zip(&mut z, None).map(|(h, _)| h).map_err(Error::Other)
}

/// The `h1:` hash of a go.mod file, as go.sum records it for `MODULE VERSION/go.mod`.
pub fn h1_mod(bytes: &[u8]) -> String {
    hash1([("go.mod".as_bytes(), Sha256::digest(bytes).to_vec())])
}

fn hash1<'a>(files: impl IntoIterator<Item = (&'a [u8], Vec<u8>)>) -> String {
    let mut h = Sha256::new();
    for (name, sum) in files {
        h.update(hex::encode(sum).as_bytes());
        h.update(b"  ");
        h.update(name);
        h.update(b"\n");
    }
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(h.finalize())
    )
}

/// Hashes every entry as dirhash.HashZip does (names sorted bytewise); returns the hash and
/// the content of the entry named `capture`, if present.
fn hash_zip<R: Read + Seek>(
    z: &mut ZipArchive<R>,
    capture: Option<&str>,
) -> std::result::Result<(String, Option<Vec<u8>>), String> {
    let mut names = Vec::with_capacity(z.len());
    for i in 0..z.len() {
        let e = z
            .by_index_raw(i)
            .map_err(|e| format!("zip entry {i}: {e}"))?;
        let name = e.name_raw().to_vec();
        if name.contains(&b'\n') {
            return Err("zip entry names with newlines are not supported".into());
        }
        names.push((name, i));
    }
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!(
            "zip holds {} twice",
            String::from_utf8_lossy(&w[0].0)
        ));
    }
    let mut sums = Vec::with_capacity(names.len());
    let mut captured = None;
    let mut buf = vec![0u8; 64 * 1024];
    for (name, i) in &names {
        let mut e = z
            .by_index(*i)
            .map_err(|e| format!("{}: {e}", String::from_utf8_lossy(name)))?;
        let keep = capture.is_some_and(|c| c.as_bytes() == name.as_slice());
        if keep && e.size() > MAX_GO_MOD {
            return Err(format!("{capture:?} is larger than 16 MiB"));
        }
        let mut kept = Vec::new();
        let mut h = Sha256::new();
        loop {
            let n = e
                .read(&mut buf)
                .map_err(|err| format!("read {}: {err}", String::from_utf8_lossy(name)))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            if keep {
                kept.extend_from_slice(&buf[..n]);
            }
        }
        if keep {
            captured = Some(kept);
        }
        sums.push(h.finalize().to_vec());
    }
    let h1 = hash1(names.iter().map(|(n, _)| n.as_slice()).zip(sums));
    Ok((h1, captured))
}

struct ZipScan {
    module: String,
    version: String,
    prefix: String,
    newest: Option<zip::DateTime>,
}

/// Reads the `MODULE@VERSION/` prefix from the entry names and checks every entry against it.
fn scan_names<R: Read + Seek>(z: &mut ZipArchive<R>) -> std::result::Result<ZipScan, String> {
    if z.is_empty() {
        return Err("the zip is empty; a Go module zip holds MODULE@VERSION/... entries".into());
    }
    let mut prefix: Option<String> = None;
    let mut newest: Option<zip::DateTime> = None;
    let mut seen = HashSet::new();
    for i in 0..z.len() {
        let e = z
            .by_index_raw(i)
            .map_err(|e| format!("zip entry {i}: {e}"))?;
        let name = std::str::from_utf8(e.name_raw())
            .map_err(|_| format!("zip entry {i} has a name that is not UTF-8"))?
            .to_string();
        let p = match &prefix {
            Some(p) => p.clone(),
            None => {
                let p = entry_prefix(&name).ok_or_else(|| {
                    format!(
                        "entry {name:?} is not under MODULE@VERSION/; this is not a Go module zip"
                    )
                })?;
                prefix = Some(p.clone());
                p
            }
        };
        let rest = name.strip_prefix(p.as_str()).ok_or_else(|| {
            format!("entry {name:?} is not under {p}; all entries of a Go module zip share one MODULE@VERSION/ prefix")
        })?;
        if !rest.is_empty() {
            let file = rest.strip_suffix('/').unwrap_or(rest);
            check_file_path(file).map_err(|r| format!("entry {name:?}: {r}"))?;
            if !seen.insert(file.to_lowercase()) {
                return Err(format!(
                    "entry {name:?} collides with another entry (names differ only in case or repeat)"
                ));
            }
        }
        if let Some(t) = e.last_modified() {
            if newest.is_none_or(|n| time_key(&t) > time_key(&n)) {
                newest = Some(t);
            }
        }
    }
    let prefix = prefix.expect("non-empty zip");
    let (module, version) = prefix
        .trim_end_matches('/')
        .split_once('@')
        .expect("prefix has @");
    Ok(ZipScan {
        module: module.to_string(),
        version: version.to_string(),
        prefix: prefix.clone(),
        newest,
    })
}

fn entry_prefix(name: &str) -> Option<String> {
    let at = name.find('@')?;
    let slash = at + name[at..].find('/')?;
    if at == 0 || slash == at + 1 {
        return None;
    }
    Some(name[..=slash].to_string())
}

fn time_key(t: &zip::DateTime) -> (u16, u8, u8, u8, u8, u8) {
    (
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )
}

fn format_zip_time(t: zip::DateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn check_file_path(p: &str) -> std::result::Result<(), String> {
    if p.is_empty() || p.starts_with('/') {
        return Err("empty or absolute path".into());
    }
    if p.contains('\\') {
        return Err("backslash in path".into());
    }
    for elem in p.split('/') {
        if elem.is_empty() || elem == "." || elem == ".." {
            return Err("path is not clean (empty, '.' or '..' element)".into());
        }
    }
    Ok(())
}

fn invalid_module(value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidName {
        what: "Go module path",
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Checks a module path's syntax (golang.org/x/mod/module.CheckPath, without requiring a dot).
pub fn check_module_path(path: &str) -> Result<()> {
    if path.is_empty() {
        return Err(invalid_module(path, "empty"));
    }
    if path.starts_with('/') || path.ends_with('/') {
        return Err(invalid_module(path, "leading or trailing slash"));
    }
    for (i, elem) in path.split('/').enumerate() {
        if elem.is_empty() {
            return Err(invalid_module(path, "empty path element"));
        }
        if elem == "." || elem == ".." {
            return Err(invalid_module(path, "'.' or '..' path element"));
        }
        if elem.starts_with('.') || elem.ends_with('.') {
            return Err(invalid_module(
                path,
                format!("element '{elem}' starts or ends with a dot"),
            ));
        }
        if let Some(c) = elem
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~".contains(*c)))
        {
            return Err(invalid_module(path, format!("invalid character {c:?}")));
        }
        if i == 0 {
            if elem.starts_with('-') {
                return Err(invalid_module(path, "leading dash in first element"));
            }
            if elem.chars().any(|c| c.is_ascii_uppercase()) {
                return Err(invalid_module(
                    path,
                    "the first path element must be lower case",
                ));
            }
        }
    }
    Ok(())
}

fn invalid_version(value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidName {
        what: "Go module version",
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Checks that `version` is canonical (`vX.Y.Z[-pre]`, optionally `+incompatible`) and agrees
/// with the module path's major version suffix.
pub fn check_version(module: &str, version: &str) -> Result<()> {
    let rest = version
        .strip_prefix('v')
        .ok_or_else(|| invalid_version(version, "must start with 'v'"))?;
    let (core, incompatible) = match rest.strip_suffix("+incompatible") {
        Some(c) => (c, true),
        None => (rest, false),
    };
    let sv = semver::Version::parse(core).map_err(|e| invalid_version(version, e.to_string()))?;
    if !sv.build.is_empty() || sv.to_string() != core {
        return Err(invalid_version(
            version,
            "not canonical semver (vMAJOR.MINOR.PATCH[-prerelease], build metadata only +incompatible)",
        ));
    }
    let major = path_major(module)?;
    let ok = match &major {
        None if incompatible => sv.major >= 2,
        None => sv.major <= 1,
        Some(_) if incompatible => false,
        Some((n, gopkg)) => sv.major == *n || (*gopkg && *n == 1 && version.starts_with("v0.0.0-")),
    };
    if !ok {
        let want = match major {
            None if incompatible => "v2 or later for +incompatible".to_string(),
            None => "v0 or v1 (or +incompatible)".to_string(),
            Some((n, _)) => format!("v{n}, without +incompatible"),
        };
        return Err(invalid_version(
            version,
            format!("module {module} needs major version {want}"),
        ));
    }
    Ok(())
}

/// The major version a module path's suffix (`/vN`, gopkg.in `.vN`) demands, if any.
fn path_major(module: &str) -> Result<Option<(u64, bool)>> {
    if let Some(rest) = module.strip_prefix("gopkg.in/") {
        let last = rest.rsplit('/').next().unwrap_or(rest);
        let last = last.strip_suffix("-unstable").unwrap_or(last);
        let n = last
            .rsplit_once(".v")
            .and_then(|(_, n)| parse_major(n))
            .ok_or_else(|| invalid_module(module, "gopkg.in paths end in .vN"))?;
        return Ok(Some((n, true)));
    }
    let last = module.rsplit('/').next().unwrap_or(module);
    if module.contains('/') {
        if let Some(n) = last.strip_prefix('v') {
            if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return match parse_major(n) {
                    Some(m) if m >= 2 => Ok(Some((m, false))),
                    _ => Err(invalid_module(
                        module,
                        format!("invalid major version suffix /{last}"),
                    )),
                };
            }
        }
    }
    Ok(None)
}

fn parse_major(n: &str) -> Option<u64> {
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || (n.len() > 1 && n.starts_with('0'))
    {
        return None;
    }
    n.parse().ok()
}

fn read_limited(p: &Path, max: u64) -> Result<Vec<u8>> {
    let f = File::open(p).at("open", p)?;
    let mut v = Vec::new();
    f.take(max + 1).read_to_end(&mut v).at("read", p)?;
    if v.len() as u64 > max {
        return Err(Error::BadArtifact {
            path: p.to_path_buf(),
            reason: format!("larger than {max} bytes"),
        });
    }
    Ok(v)
}

/// Checks that a go.mod's `module` directive, when it has one, names `module`.
fn check_go_mod(bytes: &[u8], module: &str) -> std::result::Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "go.mod is not UTF-8".to_string())?;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        let Some(rest) = line.strip_prefix("module") else {
            continue;
        };
        if !(rest.starts_with(char::is_whitespace) || rest.starts_with('"')) {
            continue;
        }
        let declared = rest.trim().trim_matches(|c| c == '"' || c == '`');
        if declared.is_empty() || declared == "(" {
            continue;
        }
        if declared != module {
            return Err(format!(
                "go.mod declares module {declared}, but the zip holds {module}"
            ));
        }
        return Ok(());
    }
    Ok(())
}

fn check_info(bytes: &[u8], version: &str) -> std::result::Result<(), String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not a JSON .info file: {e}"))?;
    match v.get("Version").and_then(|v| v.as_str()) {
        Some(found) if found == version => Ok(()),
        Some(found) => Err(format!(
            ".info names version {found}, but the zip holds {version}"
        )),
        None => Err(".info has no string \"Version\" field".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;

    fn make_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(File::create(path).unwrap());
        let t = zip::DateTime::from_date_and_time(2023, 5, 6, 7, 8, 10).unwrap();
        for (name, data) in entries {
            let o = SimpleFileOptions::default().last_modified_time(t);
            if name.ends_with('/') {
                w.add_directory(*name, o).unwrap();
            } else {
                w.start_file(*name, o).unwrap();
                w.write_all(data).unwrap();
            }
        }
        w.finish().unwrap();
    }

    fn expected_h1(files: &[(&str, &[u8])]) -> String {
        let mut files = files.to_vec();
        files.sort_by(|a, b| a.0.cmp(b.0));
        let mut summary = String::new();
        for (n, d) in files {
            summary.push_str(&format!("{}  {}\n", hex::encode(Sha256::digest(d)), n));
        }
        format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary.as_bytes()))
        )
    }

    #[test]
    fn h1_mod_matches_the_spec() {
        let content = b"module example.com/m\n";
        let line = format!("{}  go.mod\n", hex::encode(Sha256::digest(content)));
        let want = format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(line.as_bytes()))
        );
        assert_eq!(h1_mod(content), want);
        assert!(want.starts_with("h1:") && want.len() == 47 && want.ends_with('='));
        assert_ne!(h1_mod(b"module example.com/n\n"), want);
    }

    #[test]
    fn h1_zip_sorts_names_and_hashes_contents() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.zip");
        let files: [(&str, &[u8]); 3] = [
            ("example.com/m@v1.0.0/z.go", b"package m\n"),
            ("example.com/m@v1.0.0/go.mod", b"module example.com/m\n"),
            ("example.com/m@v1.0.0/a/b.go", b"package b\n"),
        ];
        make_zip(&p, &files);
        let h = h1_zip(File::open(&p).unwrap()).unwrap();
        assert_eq!(h, expected_h1(&files));
        assert!(h1_zip(Cursor::new(b"not a zip".to_vec())).is_err());

        let with_dir = dir.path().join("d.zip");
        let files: [(&str, &[u8]); 2] = [
            ("example.com/m@v1.0.0/a/", b""),
            ("example.com/m@v1.0.0/a/b.go", b"package b\n"),
        ];
        make_zip(&with_dir, &files);
        assert_eq!(
            h1_zip(File::open(&with_dir).unwrap()).unwrap(),
            expected_h1(&files),
            "directory entries count as empty files, as in dirhash.HashZip"
        );
    }

    #[test]
    fn imports_module_zip() {
        let dir = tempfile::tempdir().unwrap();
        let (bundle, _) = Bundle::init(&dir.path().join("b")).unwrap();
        let p = dir.path().join("m.zip");
        let gomod: &[u8] = b"module github.com/Example/Mod/v2\n\ngo 1.21\n";
        let files: [(&str, &[u8]); 2] = [
            ("github.com/Example/Mod/v2@v2.1.0-pre.1/go.mod", gomod),
            (
                "github.com/Example/Mod/v2@v2.1.0-pre.1/mod.go",
                b"package mod\n",
            ),
        ];
        make_zip(&p, &files);
        let recs = import(&bundle, &p, &AddOptions::default()).unwrap();
        assert_eq!(recs.len(), 1);
        let RefBody::GoVersion(g) = &recs[0].body else {
            panic!("not a go-version")
        };
        assert_eq!(g.module, "github.com/Example/Mod/v2");
        assert_eq!(g.version, "v2.1.0-pre.1");
        assert_eq!(g.h1, expected_h1(&files));
        assert_eq!(g.mod_h1, h1_mod(gomod));
        assert_eq!(bundle.read_blob(&g.mod_file).unwrap(), gomod);
        let zip_bytes = std::fs::read(&p).unwrap();
        assert_eq!(g.zip, crate::digest::Digest::of(&zip_bytes));
        assert_eq!(g.size, zip_bytes.len() as u64);
        let info: serde_json::Value =
            serde_json::from_slice(&bundle.read_blob(&g.info).unwrap()).unwrap();
        assert_eq!(info["Version"], "v2.1.0-pre.1");
        assert_eq!(info["Time"], "2023-05-06T07:08:10Z");
        assert_eq!(
            recs[0].body.key().unwrap().to_string(),
            "go/github.com/Example/Mod/v2/@v/v2.1.0-pre.1"
        );
        bundle.write_ref(&recs[0]).unwrap();
    }

    #[test]
    fn synthesizes_go_mod_and_uses_given_files() {
        let dir = tempfile::tempdir().unwrap();
        let (bundle, _) = Bundle::init(&dir.path().join("b")).unwrap();
        let p = dir.path().join("m.zip");
        make_zip(
            &p,
            &[
                ("example.com/old@v3.0.0+incompatible/", b""),
                ("example.com/old@v3.0.0+incompatible/x.go", b"package old\n"),
            ],
        );
        let recs = import(&bundle, &p, &AddOptions::default()).unwrap();
        let RefBody::GoVersion(g) = &recs[0].body else {
            panic!()
        };
        assert_eq!(
            bundle.read_blob(&g.mod_file).unwrap(),
            b"module example.com/old\n"
        );

        let info = dir.path().join("v.info");
        std::fs::write(
            &info,
            br#"{"Version":"v3.0.0+incompatible","Time":"2020-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let gomod = dir.path().join("v.mod");
        std::fs::write(&gomod, b"module example.com/old\n// from proxy\n").unwrap();
        let opts = AddOptions {
            go_info: Some(info.clone()),
            go_mod: Some(gomod.clone()),
            module: Some("example.com/old".into()),
            version: Some("v3.0.0+incompatible".into()),
            ..Default::default()
        };
        let recs = import(&bundle, &p, &opts).unwrap();
        let RefBody::GoVersion(g) = &recs[0].body else {
            panic!()
        };
        assert_eq!(
            bundle.read_blob(&g.info).unwrap(),
            std::fs::read(&info).unwrap()
        );
        assert_eq!(
            bundle.read_blob(&g.mod_file).unwrap(),
            std::fs::read(&gomod).unwrap()
        );
    }

    fn import_err(entries: &[(&str, &[u8])], opts: &AddOptions) -> String {
        let dir = tempfile::tempdir().unwrap();
        let (bundle, _) = Bundle::init(&dir.path().join("b")).unwrap();
        let p = dir.path().join("m.zip");
        make_zip(&p, entries);
        let e = import(&bundle, &p, opts).unwrap_err().to_string();
        assert!(bundle.blobs().unwrap().is_empty(), "{e}");
        assert!(bundle.refs().unwrap().is_empty());
        e
    }

    #[test]
    fn rejects_bad_zips() {
        let none = AddOptions::default();
        let e = import_err(
            &[("a.com/m@v1.0.0/x.go", b""), ("a.com/n@v1.0.0/y.go", b"")],
            &none,
        );
        assert!(e.contains("share one MODULE@VERSION/"), "{e}");
        let e = import_err(&[("x.go", b"")], &none);
        assert!(e.contains("not a Go module zip"), "{e}");
        let e = import_err(&[("a.com/m@1.0.0/x.go", b"")], &none);
        assert!(e.contains("must start with 'v'"), "{e}");
        let e = import_err(&[("a.com/m@v1.0/x.go", b"")], &none);
        assert!(e.contains("Go module version"), "{e}");
        let e = import_err(&[("a.com/m@v2.0.0/x.go", b"")], &none);
        assert!(e.contains("needs major version"), "{e}");
        let e = import_err(&[("a.com/m/v2@v3.0.0/x.go", b"")], &none);
        assert!(e.contains("needs major version v2"), "{e}");
        let e = import_err(&[("a.com/../m@v1.0.0/x.go", b"")], &none);
        assert!(e.contains("Go module path"), "{e}");
        let e = import_err(&[("a.com/m@v1.0.0/../x.go", b"")], &none);
        assert!(e.contains("not clean"), "{e}");
        let e = import_err(
            &[("a.com/m@v1.0.0/X.go", b""), ("a.com/m@v1.0.0/x.go", b"")],
            &none,
        );
        assert!(e.contains("collides"), "{e}");
        let e = import_err(&[("a.com/m@v1.0.0/go.mod", b"module a.com/other\n")], &none);
        assert!(e.contains("declares module a.com/other"), "{e}");
        let opts = AddOptions {
            version: Some("v1.0.1".into()),
            ..Default::default()
        };
        let e = import_err(&[("a.com/m@v1.0.0/x.go", b"")], &opts);
        assert!(e.contains("not v1.0.1 as --version says"), "{e}");
    }

    #[test]
    fn rejects_mismatched_info() {
        let dir = tempfile::tempdir().unwrap();
        let info = dir.path().join("v.info");
        std::fs::write(&info, br#"{"Version":"v1.0.1"}"#).unwrap();
        let opts = AddOptions {
            go_info: Some(info),
            ..Default::default()
        };
        let e = import_err(&[("a.com/m@v1.0.0/x.go", b"")], &opts);
        assert!(e.contains(".info names version v1.0.1"), "{e}");
    }

    #[test]
    fn version_and_path_rules() {
        assert!(check_version("a.com/m", "v0.0.0-20230101000000-abcdefabcdef").is_ok());
        assert!(check_version("a.com/m", "v1.2.3+build").is_err());
        assert!(check_version("a.com/m", "v01.2.3").is_err());
        assert!(check_version("gopkg.in/yaml.v2", "v2.4.0").is_ok());
        assert!(check_version("gopkg.in/yaml.v2", "v3.0.0").is_err());
        assert!(check_version("a.com/m/v1", "v1.0.0").is_err());
        assert!(check_module_path("golang.org/x/text").is_ok());
        assert!(check_module_path("example/Mixed_Case~x").is_ok());
        assert!(check_module_path("Upper.com/x").is_err());
        assert!(check_module_path("a.com/x/").is_err());
        assert!(check_module_path("a.com/x y").is_err());
    }
}
