//! Python inputs: `requirements.txt` (`==` pins, `--hash` options, `-r` includes),
//! `uv.lock`, `poetry.lock` and `pylock.toml` (PEP 751). Each becomes a list of
//! `name==version` pins with the SHA-256 hashes of the files the lock allows (empty when
//! it names none, as a requirements file without `--hash` does).

use super::Unmirrorable;
use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One pinned project version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// Project name as written.
    pub name: String,
    /// Exact version.
    pub version: String,
    /// Hex SHA-256 of every file the lock allows; empty allows any file of the version.
    pub sha256: BTreeSet<String>,
}

/// The kinds of Python lockfile nora reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// pip's requirements format.
    Requirements,
    /// uv's `uv.lock`.
    Uv,
    /// Poetry's `poetry.lock`.
    Poetry,
    /// PEP 751 `pylock.toml`.
    Pylock,
}

impl Kind {
    /// The file name this kind usually has.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Requirements => "requirements",
            Kind::Uv => "uv.lock",
            Kind::Poetry => "poetry.lock",
            Kind::Pylock => "pylock.toml",
        }
    }

    /// The kind a file's name says it is.
    pub fn of(path: &Path) -> Kind {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match name {
            "uv.lock" => Kind::Uv,
            "poetry.lock" => Kind::Poetry,
            n if n.starts_with("pylock.") && n.ends_with(".toml") => Kind::Pylock,
            _ => Kind::Requirements,
        }
    }
}

/// Reads a Python lockfile of the kind its name says, following `-r` includes.
pub fn read(path: &Path) -> Result<(Vec<Pinned>, Vec<Unmirrorable>)> {
    let mut pins = Vec::new();
    let mut skipped = Vec::new();
    match Kind::of(path) {
        Kind::Requirements => {
            let mut seen = Vec::new();
            requirements(path, &mut seen, &mut pins, &mut skipped)?
        }
        kind => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Other(format!("read {}: {e}", path.display())))?;
            let file = path.display().to_string();
            let doc: toml::Table = toml::from_str(&text)
                .map_err(|e| Error::Other(format!("{file} is not a {} file: {e}", kind.label())))?;
            match kind {
                Kind::Uv => uv(&doc, &file, &mut pins, &mut skipped)?,
                Kind::Poetry => poetry(&doc, &file, &mut pins, &mut skipped)?,
                _ => pylock(&doc, &file, &mut pins, &mut skipped)?,
            }
        }
    }
    Ok((pins, skipped))
}

/// Merges pins of the same project version (by normalized name), uniting their hashes;
/// a pin without hashes allows every file.
pub fn merge(mut pins: Vec<Pinned>) -> Vec<Pinned> {
    let key = |p: &Pinned| {
        (
            crate::ecosystems::pypi::normalize(&p.name),
            p.version.clone(),
        )
    };
    pins.sort_by_key(key);
    let mut out: Vec<Pinned> = Vec::new();
    for p in pins {
        match out.last_mut() {
            Some(last) if key(last) == key(&p) => {
                if last.sha256.is_empty() || p.sha256.is_empty() {
                    last.sha256.clear();
                } else {
                    last.sha256.extend(p.sha256);
                }
            }
            _ => out.push(p),
        }
    }
    out
}

fn requirements(
    path: &Path,
    seen: &mut Vec<PathBuf>,
    pins: &mut Vec<Pinned>,
    skipped: &mut Vec<Unmirrorable>,
) -> Result<()> {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if seen.contains(&canonical) {
        return Ok(());
    }
    seen.push(canonical);
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Other(format!("read {}: {e}", path.display())))?;
    let file = path.display().to_string();
    let mut logical = String::new();
    let mut start = 0;
    for (n, raw) in text.lines().enumerate() {
        if logical.is_empty() {
            start = n + 1;
        }
        if let Some(cont) = raw.strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(raw);
        let line = strip_comment(&logical).trim().to_string();
        logical.clear();
        if line.is_empty() {
            continue;
        }
        let at = format!("{file}:{start}");
        if let Some(include) = line
            .strip_prefix("-r")
            .or_else(|| line.strip_prefix("--requirement"))
        {
            let include = include.trim_start_matches('=').trim();
            let base = path.parent().unwrap_or(Path::new("."));
            requirements(&base.join(include), seen, pins, skipped)?;
            continue;
        }
        if line.starts_with("-e") || line.starts_with("--editable") {
            skipped.push(Unmirrorable {
                name: line.clone(),
                reason: format!("{at}: an editable install is the project's own code"),
            });
            continue;
        }
        if line.starts_with('-') {
            continue; // index, find-links and install options
        }
        match requirement(&line) {
            Ok(p) => pins.push(p),
            Err(reason) => skipped.push(Unmirrorable {
                name: line.split_whitespace().next().unwrap_or("").to_string(),
                reason: format!("{at}: {reason}"),
            }),
        }
    }
    Ok(())
}

fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// Parses one requirement line: `name[extras]==version ; marker --hash=sha256:…`.
fn requirement(line: &str) -> std::result::Result<Pinned, String> {
    let (spec, options) = match line.find(" --") {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, ""),
    };
    let mut sha256 = BTreeSet::new();
    let mut words = options.split_whitespace().peekable();
    while let Some(w) = words.next() {
        let value = match w.strip_prefix("--hash") {
            Some("") => words.next().unwrap_or(""),
            Some(v) => v.trim_start_matches('='),
            None => continue,
        };
        match value.split_once(':') {
            Some(("sha256", h)) if h.len() == 64 && h.bytes().all(|c| c.is_ascii_hexdigit()) => {
                sha256.insert(h.to_ascii_lowercase());
            }
            Some(("sha256", _)) => return Err(format!("{value} is not a SHA-256")),
            _ => {} // other algorithms: pip accepts them, nora checks SHA-256
        }
    }
    let spec = spec.split(';').next().unwrap_or(spec).trim();
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
        .unwrap_or(spec.len());
    let name = &spec[..name_end];
    let mut rest = spec[name_end..].trim_start();
    if name.is_empty() || spec.contains("://") || rest.starts_with('@') {
        return Err(
            "not a registry requirement (a URL or path); vendor it or add it with `nora add pypi`"
                .into(),
        );
    }
    if rest.starts_with('[') {
        rest = rest[rest.find(']').map_or(rest.len(), |i| i + 1)..].trim_start();
    }
    let version = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.contains([',', '*', '<', '>', '!', '~', ' ']))
        .ok_or_else(|| format!("{name}{rest} is not pinned to one version: pin it with =="))?;
    Ok(Pinned {
        name: name.to_string(),
        version: version.to_string(),
        sha256,
    })
}

fn hash_of(value: Option<&toml::Value>) -> Option<String> {
    let h = value?.as_str()?.strip_prefix("sha256:")?;
    (h.len() == 64).then(|| h.to_ascii_lowercase())
}

fn table_str<'a>(t: &'a toml::Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(toml::Value::as_str)
}

fn packages<'a>(doc: &'a toml::Table, key: &str, file: &str) -> Result<&'a Vec<toml::Value>> {
    doc.get(key).and_then(toml::Value::as_array).ok_or_else(|| {
        Error::Other(format!(
            "{file} is not a lockfile of its kind: no [[{key}]] entries"
        ))
    })
}

fn name_version(p: &toml::Table, file: &str) -> Result<(String, String)> {
    match (table_str(p, "name"), table_str(p, "version")) {
        (Some(n), Some(v)) => Ok((n.to_string(), v.to_string())),
        _ => Err(Error::Other(format!(
            "{file}: a package entry lacks a name or a version"
        ))),
    }
}

fn uv(
    doc: &toml::Table,
    file: &str,
    pins: &mut Vec<Pinned>,
    skipped: &mut Vec<Unmirrorable>,
) -> Result<()> {
    for p in packages(doc, "package", file)? {
        let Some(p) = p.as_table() else { continue };
        let source = p.get("source").and_then(toml::Value::as_table);
        let source_kind = source
            .and_then(|s| s.keys().next().cloned())
            .unwrap_or_default();
        match source_kind.as_str() {
            "registry" => {}
            "virtual" | "editable" => continue, // the project and its workspace members
            other => {
                let name = table_str(p, "name").unwrap_or("?");
                skipped.push(Unmirrorable {
                    name: name.to_string(),
                    reason: format!(
                        "{file}: its source is {} ({other}), not a registry",
                        source.and_then(|s| table_str(s, other)).unwrap_or("")
                    ),
                });
                continue;
            }
        }
        let (name, version) = name_version(p, file)?;
        let mut sha256 = BTreeSet::new();
        if let Some(sdist) = p.get("sdist").and_then(toml::Value::as_table) {
            sha256.extend(hash_of(sdist.get("hash")));
        }
        for w in p
            .get("wheels")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            sha256.extend(w.as_table().and_then(|w| hash_of(w.get("hash"))));
        }
        pins.push(Pinned {
            name,
            version,
            sha256,
        });
    }
    Ok(())
}

fn poetry(
    doc: &toml::Table,
    file: &str,
    pins: &mut Vec<Pinned>,
    skipped: &mut Vec<Unmirrorable>,
) -> Result<()> {
    // Poetry 1.0 kept the file hashes apart, in [metadata.files]
    let old_files = doc
        .get("metadata")
        .and_then(|m| m.get("files"))
        .and_then(toml::Value::as_table);
    for p in packages(doc, "package", file)? {
        let Some(p) = p.as_table() else { continue };
        let (name, version) = name_version(p, file)?;
        if let Some(kind) = p
            .get("source")
            .and_then(|s| s.get("type"))
            .and_then(toml::Value::as_str)
        {
            if kind != "legacy" {
                skipped.push(Unmirrorable {
                    name: format!("{name}=={version}"),
                    reason: format!("{file}: its source is of type {kind}, not a package index"),
                });
                continue;
            }
        }
        let files = p
            .get("files")
            .or_else(|| old_files?.get(&name))
            .and_then(toml::Value::as_array);
        let sha256 = files
            .into_iter()
            .flatten()
            .filter_map(|f| hash_of(f.get("hash")))
            .collect();
        pins.push(Pinned {
            name,
            version,
            sha256,
        });
    }
    Ok(())
}

fn pylock(
    doc: &toml::Table,
    file: &str,
    pins: &mut Vec<Pinned>,
    skipped: &mut Vec<Unmirrorable>,
) -> Result<()> {
    if table_str(doc, "lock-version").is_none() {
        return Err(Error::Other(format!(
            "{file} is not a pylock.toml: no lock-version"
        )));
    }
    for p in packages(doc, "packages", file)? {
        let Some(p) = p.as_table() else { continue };
        let name = table_str(p, "name").unwrap_or("?").to_string();
        if let Some(kind) = ["vcs", "directory", "archive"]
            .into_iter()
            .find(|k| p.contains_key(*k))
        {
            skipped.push(Unmirrorable {
                name,
                reason: format!("{file}: a {kind} package, not from an index"),
            });
            continue;
        }
        let (name, version) = name_version(p, file)?;
        let sha = |t: &toml::Value| {
            t.get("hashes")?
                .get("sha256")?
                .as_str()
                .filter(|h| h.len() == 64)
                .map(str::to_ascii_lowercase)
        };
        let mut sha256: BTreeSet<String> = p.get("sdist").and_then(sha).into_iter().collect();
        for w in p
            .get("wheels")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            sha256.extend(sha(w));
        }
        pins.push(Pinned {
            name,
            version,
            sha256,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn requirements_with_hashes_includes_and_unpinned() {
        let d = tempfile::tempdir().unwrap();
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        write(d.path(), "base.txt", "six==1.16.0  # via x\n");
        let req = write(
            d.path(),
            "requirements.txt",
            &format!("# compiled\n--index-url https://example/simple\n-r base.txt\nRequests[socks]==2.31.0 ; python_version >= \"3.8\" \\\n    --hash=sha256:{a} \\\n    --hash sha256:{b}\nflask>=2\n-e ./local\npkg @ https://x/pkg.whl\n"),
        );
        let (pins, skipped) = read(&req).unwrap();
        assert_eq!(pins.len(), 2, "{pins:?}");
        assert_eq!(
            (pins[0].name.as_str(), pins[0].version.as_str()),
            ("six", "1.16.0")
        );
        assert_eq!(pins[1].name, "Requests");
        assert_eq!(pins[1].sha256, BTreeSet::from([a, b]));
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert!(
            skipped[0]
                .reason
                .contains("requirements.txt:7: flask>=2 is not pinned"),
            "{skipped:?}"
        );
    }

    #[test]
    fn uv_poetry_and_pylock() {
        let d = tempfile::tempdir().unwrap();
        let h = "c".repeat(64);
        let uv_lock = write(d.path(), "uv.lock", &format!("version = 1\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = {{ virtual = \".\" }}\n\n[[package]]\nname = \"six\"\nversion = \"1.16.0\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\nsdist = {{ url = \"https://x/six-1.16.0.tar.gz\", hash = \"sha256:{h}\", size = 1 }}\nwheels = [{{ url = \"https://x/six-1.16.0-py2.py3-none-any.whl\", hash = \"sha256:{}\", size = 1 }}]\n\n[[package]]\nname = \"g\"\nversion = \"1\"\nsource = {{ git = \"https://x/g.git\" }}\n", "d".repeat(64)));
        let (pins, skipped) = read(&uv_lock).unwrap();
        assert_eq!(pins.len(), 1);
        assert_eq!(pins[0].sha256.len(), 2);
        assert_eq!(skipped.len(), 1);

        let poetry = write(d.path(), "poetry.lock", &format!("[[package]]\nname = \"six\"\nversion = \"1.16.0\"\nfiles = [{{file = \"six-1.16.0.tar.gz\", hash = \"sha256:{h}\"}}]\n\n[[package]]\nname = \"d\"\nversion = \"0.1\"\n[package.source]\ntype = \"directory\"\nurl = \"../d\"\n\n[metadata]\ncontent-hash = \"x\"\n"));
        let (pins, skipped) = read(&poetry).unwrap();
        assert_eq!((pins.len(), skipped.len()), (1, 1));
        assert!(pins[0].sha256.contains(&h));

        let pylock = write(d.path(), "pylock.toml", &format!("lock-version = \"1.0\"\ncreated-by = \"x\"\n[[packages]]\nname = \"six\"\nversion = \"1.16.0\"\nsdist = {{ name = \"six-1.16.0.tar.gz\", url = \"https://x\", hashes = {{ sha256 = \"{h}\" }} }}\n\n[[packages]]\nname = \"v\"\nvcs = {{ type = \"git\", url = \"https://x\" }}\n"));
        let (pins, skipped) = read(&pylock).unwrap();
        assert_eq!((pins.len(), skipped.len()), (1, 1));

        let bad = write(d.path(), "uv.lock", "not toml [");
        assert!(read(&bad)
            .unwrap_err()
            .to_string()
            .contains("is not a uv.lock file"));
    }

    #[test]
    fn merging() {
        let p = |n: &str, h: &[&str]| Pinned {
            name: n.into(),
            version: "1".into(),
            sha256: h.iter().map(|s| s.to_string()).collect(),
        };
        let m = merge(vec![
            p("A_b", &["x"]),
            p("a-b", &["y"]),
            p("c", &["z"]),
            p("C", &[]),
        ]);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].sha256.len(), 2);
        assert!(m[1].sha256.is_empty());
    }
}
