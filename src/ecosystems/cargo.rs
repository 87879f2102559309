//! `nora add cargo`: imports a packaged crate (`.crate`, a gzip tar of
//! `{name}-{version}/…`) and builds its sparse-index line from the packaged Cargo.toml,
//! in the format of the crates.io index.

use crate::bundle::refs::{CargoVersion, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::ecosystems::archive::scan_tgz;
use crate::ecosystems::AddOptions;
use crate::error::{Error, IoContext, Result};
use serde_json::{json, Map, Value as Json};
use std::fs::File;
use std::path::Path;
use toml::{Table, Value as Toml};

/// Longest crate name crates.io accepts.
pub const MAX_NAME_LEN: usize = 64;

/// What a `.crate` file says of itself, read without storing anything.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// Crate name from Cargo.toml.
    pub name: String,
    /// Version from Cargo.toml.
    pub version: String,
    /// The sparse-index line.
    pub index: Json,
    /// SHA-256 of the file (the index `cksum`).
    pub sha256: crate::Digest,
}

/// Reads a `.crate` file's Cargo.toml and builds its index line, checking name, version
/// and top directory.
pub fn inspect(file: &Path) -> Result<Inspected> {
    let bad = |reason: String| Error::BadArtifact {
        path: file.to_path_buf(),
        reason,
    };
    let scan = scan_tgz(file, "Cargo.toml", "a crate")?;
    let (top, bytes) = scan
        .found
        .ok_or_else(|| bad("not a crate: no Cargo.toml in its top directory".into()))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| bad("Cargo.toml is not UTF-8".into()))?;
    let manifest: Table =
        toml::from_str(text).map_err(|e| bad(format!("Cargo.toml is not valid TOML: {e}")))?;
    let (name, version) = package_id(&manifest).map_err(|r| bad(format!("Cargo.toml: {r}")))?;
    validate_name(&name)?;
    semver::Version::parse(&version).map_err(|e| Error::InvalidName {
        what: "crate version",
        value: version.clone(),
        reason: format!("not a semantic version: {e}"),
    })?;
    if top != format!("{name}-{version}") {
        return Err(bad(format!(
            "Cargo.toml names {name} {version} but the crate's top directory is {top}/, not {name}-{version}/"
        )));
    }
    let sha256 = scan.hashes.sha256;
    let index = index_line(&manifest, sha256.hex()).map_err(|r| bad(format!("Cargo.toml: {r}")))?;
    Ok(Inspected {
        name,
        version,
        index,
        sha256,
    })
}

/// Stores an inspected `.crate` file and returns its `cargo-version` record.
pub fn store(bundle: &Bundle, file: &Path, i: Inspected) -> Result<RefRecord> {
    let stored = bundle.ingest(File::open(file).at("open", file)?, Some(&i.sha256))?;
    Ok(RefRecord::new(RefBody::CargoVersion(CargoVersion {
        name: i.name,
        version: i.version,
        crate_file: stored.digest,
        size: stored.size,
        index: i.index,
    })))
}

/// Imports one `.crate` file as a `cargo-version` record.
pub fn import(bundle: &Bundle, file: &Path, _opts: &AddOptions) -> Result<Vec<RefRecord>> {
    let i = inspect(file)?;
    Ok(vec![store(bundle, file, i)?])
}

/// Checks a crate name against crates.io's rules: 1 to 64 ASCII letters, digits, `-` and
/// `_`, starting with a letter.
pub fn validate_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() || name.len() > MAX_NAME_LEN {
        format!("a crate name has 1 to {MAX_NAME_LEN} characters")
    } else if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        "a crate name starts with an ASCII letter".into()
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        "a crate name holds only ASCII letters, digits, '-' and '_'".into()
    } else {
        return Ok(());
    };
    Err(Error::InvalidName {
        what: "crate name",
        value: name.to_string(),
        reason,
    })
}

fn package_table(manifest: &Table) -> std::result::Result<&Table, String> {
    manifest
        .get("package")
        .or_else(|| manifest.get("project"))
        .and_then(Toml::as_table)
        .ok_or_else(|| "no [package] table".to_string())
}

fn package_id(manifest: &Table) -> std::result::Result<(String, String), String> {
    let package = package_table(manifest)?;
    let field = |key: &str| {
        match package.get(key) {
        Some(Toml::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!(
            "package.{key} is not a string (a packaged Cargo.toml inherits nothing from a workspace)"
        )),
        None => Err(format!("no package.{key}")),
    }
    };
    Ok((field("name")?, field("version")?))
}

/// Builds the sparse-index line of a packaged Cargo.toml whose `.crate` has SHA-256 `cksum`:
/// `name`, `vers`, `deps`, `cksum`, `features`, `yanked`, `links`, then `v` and `features2`
/// when features use `dep:` or `?/`, then `rust_version` when the package sets one.
pub fn index_line(manifest: &Table, cksum: &str) -> std::result::Result<Json, String> {
    let (name, version) = package_id(manifest)?;
    let package = package_table(manifest)?;
    let mut deps = Vec::new();
    collect_deps(manifest, None, &mut deps)?;
    if let Some(targets) = manifest.get("target") {
        let targets = targets.as_table().ok_or("[target] is not a table")?;
        for (target, table) in targets {
            let table = table
                .as_table()
                .ok_or_else(|| format!("[target.'{target}'] is not a table"))?;
            collect_deps(table, Some(target), &mut deps)?;
        }
    }
    let (features, features2) = split_features(manifest.get("features"))?;
    let optional_string = |key: &str| match package.get(key) {
        None => Ok(None),
        Some(Toml::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("package.{key} is not a string")),
    };
    let links = optional_string("links")?;
    let rust_version = optional_string("rust-version")?;

    let mut line = Map::new();
    line.insert("name".into(), json!(name));
    line.insert("vers".into(), json!(version));
    line.insert("deps".into(), Json::Array(deps));
    line.insert("cksum".into(), json!(cksum));
    line.insert("features".into(), Json::Object(features));
    line.insert("yanked".into(), json!(false));
    line.insert("links".into(), json!(links));
    if !features2.is_empty() {
        line.insert("v".into(), json!(2));
        line.insert("features2".into(), Json::Object(features2));
    }
    if let Some(rv) = rust_version {
        line.insert("rust_version".into(), json!(rv));
    }
    Ok(Json::Object(line))
}

const DEP_TABLES: [(&str, &str, &str); 3] = [
    ("dependencies", "dependencies", "normal"),
    ("build-dependencies", "build_dependencies", "build"),
    ("dev-dependencies", "dev_dependencies", "dev"),
];

fn collect_deps(
    table: &Table,
    target: Option<&str>,
    out: &mut Vec<Json>,
) -> std::result::Result<(), String> {
    for (key, alias, kind) in DEP_TABLES {
        let Some(deps) = table.get(key).or_else(|| table.get(alias)) else {
            continue;
        };
        let deps = deps
            .as_table()
            .ok_or_else(|| format!("[{key}] is not a table"))?;
        for (dep_name, spec) in deps {
            out.push(dep_entry(dep_name, spec, target, kind)?);
        }
    }
    Ok(())
}

fn dep_entry(
    key: &str,
    spec: &Toml,
    target: Option<&str>,
    kind: &str,
) -> std::result::Result<Json, String> {
    let empty = Table::new();
    let (req, t) = match spec {
        Toml::String(req) => (req.clone(), &empty),
        Toml::Table(t) => {
            if t.get("workspace").and_then(Toml::as_bool) == Some(true) {
                return Err(format!(
                    "dependency {key} inherits from a workspace, which a packaged Cargo.toml never does"
                ));
            }
            let req = match t.get("version") {
                None => "*".to_string(),
                Some(Toml::String(v)) => v.clone(),
                Some(_) => return Err(format!("dependency {key}: version is not a string")),
            };
            (req, t)
        }
        _ => {
            return Err(format!(
                "dependency {key} is neither a version string nor a table"
            ))
        }
    };
    let flag = |names: &[&str], default: bool| match names.iter().find_map(|n| t.get(*n)) {
        None => Ok(default),
        Some(Toml::Boolean(b)) => Ok(*b),
        Some(_) => Err(format!("dependency {key}: {} is not a boolean", names[0])),
    };
    let string = |name: &str| match t.get(name) {
        None => Ok(None),
        Some(Toml::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("dependency {key}: {name} is not a string")),
    };
    let features: Vec<String> = match t.get("features") {
        None => Vec::new(),
        Some(Toml::Array(a)) => a
            .iter()
            .map(|f| f.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| format!("dependency {key}: features holds a non-string"))?,
        Some(_) => return Err(format!("dependency {key}: features is not an array")),
    };
    let mut dep = Map::new();
    dep.insert("name".into(), json!(key));
    dep.insert("req".into(), json!(req));
    dep.insert("features".into(), json!(features));
    dep.insert("optional".into(), json!(flag(&["optional"], false)?));
    dep.insert(
        "default_features".into(),
        json!(flag(&["default-features", "default_features"], true)?),
    );
    dep.insert("target".into(), json!(target));
    dep.insert("kind".into(), json!(kind));
    if let Some(registry) = string("registry-index")? {
        dep.insert("registry".into(), json!(registry));
    }
    if let Some(package) = string("package")? {
        dep.insert("package".into(), json!(package));
    }
    Ok(Json::Object(dep))
}

type Features = Map<String, Json>;

fn split_features(features: Option<&Toml>) -> std::result::Result<(Features, Features), String> {
    let (mut plain, mut new_syntax) = (Map::new(), Map::new());
    let Some(features) = features else {
        return Ok((plain, new_syntax));
    };
    let features = features.as_table().ok_or("[features] is not a table")?;
    for (feature, values) in features {
        let values: Vec<&str> = values
            .as_array()
            .and_then(|a| a.iter().map(Toml::as_str).collect())
            .ok_or_else(|| format!("feature {feature} is not an array of strings"))?;
        let uses_v2 = values
            .iter()
            .any(|v| v.starts_with("dep:") || v.contains("?/"));
        let target = if uses_v2 { &mut new_syntax } else { &mut plain };
        target.insert(feature.clone(), json!(values));
    }
    Ok((plain, new_syntax))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::ecosystems::archive::testing::{assert_refused, setup, write_tgz};

    use std::path::PathBuf;

    const MANIFEST: &str = r#"
[package]
edition = "2021"
rust-version = "1.70"
name = "demo-crate"
version = "0.3.1"
links = "z"

[dependencies]
plain = "1.0"
rand_core = { version = "0.6", package = "rand-core-fork", default-features = false }
serde = { version = "1.0", features = ["derive"], optional = true }
private = { version = "2", registry-index = "https://example.com/index" }

[dev-dependencies.tempfile]
version = "3"

[build-dependencies]
cc = "1"

[target.'cfg(unix)'.dependencies]
libc = { version = "0.2", default_features = false }

[features]
default = ["std"]
std = []
ser = ["dep:serde", "std"]
weak = ["serde?/std"]
"#;

    fn krate(dir: &Path, top: &str, manifest: &str) -> PathBuf {
        write_tgz(
            dir,
            &format!("{top}.crate"),
            &[
                (&format!("{top}/Cargo.toml.orig"), b"[package]\n"),
                (&format!("{top}/Cargo.toml"), manifest.as_bytes()),
                (&format!("{top}/src/lib.rs"), b"pub fn f() {}\n"),
            ],
        )
    }

    fn dep<'a>(line: &'a Json, name: &str) -> &'a Json {
        line["deps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no dep {name} in {line}"))
    }

    #[test]
    fn imports_crate_with_index_line() {
        let (tmp, bundle) = setup();
        let file = krate(tmp.path(), "demo-crate-0.3.1", MANIFEST);
        let recs = import(&bundle, &file, &AddOptions::default()).unwrap();
        assert_eq!(recs.len(), 1);
        let RefBody::CargoVersion(c) = &recs[0].body else {
            panic!("{recs:?}")
        };
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(
            (c.name.as_str(), c.version.as_str()),
            ("demo-crate", "0.3.1")
        );
        assert_eq!(c.crate_file, Digest::of(&bytes));
        assert_eq!(c.size, bytes.len() as u64);
        assert_eq!(bundle.blobs().unwrap(), vec![c.crate_file.clone()]);
        let line = &c.index;
        assert_eq!(line["cksum"], c.crate_file.hex());
        assert_eq!(line["name"], "demo-crate");
        assert_eq!(line["vers"], "0.3.1");
        assert_eq!(line["yanked"], false);
        assert_eq!(line["links"], "z");
        assert_eq!(line["rust_version"], "1.70");
        assert_eq!(line["v"], 2);
        assert_eq!(line["features"], json!({"default": ["std"], "std": []}));
        assert_eq!(
            line["features2"],
            json!({"ser": ["dep:serde", "std"], "weak": ["serde?/std"]})
        );
        assert_eq!(line["deps"].as_array().unwrap().len(), 7);
        assert_eq!(
            dep(line, "rand_core"),
            &json!({"name": "rand_core", "req": "0.6", "features": [], "optional": false,
                "default_features": false, "target": null, "kind": "normal", "package": "rand-core-fork"})
        );
        assert_eq!(
            dep(line, "serde"),
            &json!({"name": "serde", "req": "1.0", "features": ["derive"], "optional": true,
                "default_features": true, "target": null, "kind": "normal"})
        );
        assert_eq!(
            dep(line, "libc"),
            &json!({"name": "libc", "req": "0.2", "features": [], "optional": false,
                "default_features": false, "target": "cfg(unix)", "kind": "normal"})
        );
        assert_eq!(
            dep(line, "tempfile"),
            &json!({"name": "tempfile", "req": "3", "features": [], "optional": false,
                "default_features": true, "target": null, "kind": "dev"})
        );
        assert_eq!(dep(line, "cc")["kind"], "build");
        assert_eq!(
            dep(line, "private")["registry"],
            "https://example.com/index"
        );
        assert_eq!(dep(line, "plain")["req"], "1.0");
        let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "name",
                "vers",
                "deps",
                "cksum",
                "features",
                "yanked",
                "links",
                "v",
                "features2",
                "rust_version"
            ]
        );
        assert_eq!(
            recs[0].body.key().unwrap().to_string(),
            "cargo/demo-crate/0.3.1"
        );
        bundle.write_ref(&recs[0]).unwrap();
    }

    #[test]
    fn minimal_line_has_no_v2_fields() {
        let manifest: Table =
            toml::from_str("[package]\nname = \"Tiny\"\nversion = \"1.0.0\"\n").unwrap();
        let line = index_line(&manifest, "ab").unwrap();
        assert_eq!(
            line,
            json!({"name": "Tiny", "vers": "1.0.0", "deps": [], "cksum": "ab", "features": {},
                "yanked": false, "links": null})
        );
    }

    #[test]
    fn refuses_bad_crates() {
        let (tmp, bundle) = setup();
        let none = write_tgz(tmp.path(), "x.crate", &[("x-1.0.0/src/lib.rs", b"")]);
        let err = assert_refused(
            import,
            &bundle,
            &none,
            "not a crate: no Cargo.toml in its top directory",
        );
        assert!(matches!(err, Error::BadArtifact { .. }));
        let plain = tmp.path().join("plain.crate");
        std::fs::write(&plain, b"[package]\n").unwrap();
        assert_refused(
            import,
            &bundle,
            &plain,
            "not a crate: not a gzip-compressed tar archive",
        );
        let moved = krate(tmp.path(), "demo-crate-0.3.0", MANIFEST);
        assert_refused(
            import,
            &bundle,
            &moved,
            "top directory is demo-crate-0.3.0/",
        );
        let garbled = krate(tmp.path(), "g-1.0.0", "[package\nname=");
        assert_refused(import, &bundle, &garbled, "Cargo.toml is not valid TOML");
        let inherited = krate(
            tmp.path(),
            "w-1.0.0",
            "[package]\nname = \"w\"\nversion.workspace = true\n",
        );
        assert_refused(
            import,
            &bundle,
            &inherited,
            "package.version is not a string",
        );
        let bad_dep = krate(
            tmp.path(),
            "d-1.0.0",
            "[package]\nname = \"d\"\nversion = \"1.0.0\"\n[dependencies]\nx = 3\n",
        );
        assert_refused(
            import,
            &bundle,
            &bad_dep,
            "dependency x is neither a version string nor a table",
        );
        let bad_name = krate(
            tmp.path(),
            "9lives-1.0.0",
            "[package]\nname = \"9lives\"\nversion = \"1.0.0\"\n",
        );
        let err = assert_refused(import, &bundle, &bad_name, "starts with an ASCII letter");
        assert!(matches!(
            err,
            Error::InvalidName {
                what: "crate name",
                ..
            }
        ));
        let bad_version = krate(
            tmp.path(),
            "v-1.0",
            "[package]\nname = \"v\"\nversion = \"1.0\"\n",
        );
        let err = assert_refused(import, &bundle, &bad_version, "not a semantic version");
        assert!(matches!(
            err,
            Error::InvalidName {
                what: "crate version",
                ..
            }
        ));
    }
}
