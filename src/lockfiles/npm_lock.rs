//! `package-lock.json` (lockfileVersion 1, 2 and 3) and `npm-shrinkwrap.json`: every
//! registry package a `node_modules` tree holds, nested duplicates included, with the
//! `integrity` the lock pins. Lockfiles written with `omit-lockfile-registry-resolved`
//! have no `resolved` URLs; name + version + integrity is all a registry entry needs.

use super::Unmirrorable;
use crate::error::{Error, Result};
use serde_json::{Map, Value};

/// One npm package version from the registry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pinned {
    /// Package name as the registry knows it (an alias's real name).
    pub name: String,
    /// Exact version.
    pub version: String,
    /// Subresource integrity the lock pins (`sha512-…`, possibly several), if any.
    pub integrity: Option<String>,
}

/// Parses lockfile text; `file` names it in errors. Pins come back sorted and without
/// duplicates.
pub fn parse(text: &str, file: &str) -> Result<(Vec<Pinned>, Vec<Unmirrorable>)> {
    let bad = |reason: String| Error::Other(format!("{file} is not an npm lockfile: {reason}"));
    let doc: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| bad("not a JSON object".into()))?;
    let version = obj
        .get("lockfileVersion")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("no \"lockfileVersion\"".into()))?;
    let mut pins = Vec::new();
    let mut skipped = Vec::new();
    if !(1..=3).contains(&version) {
        return Err(bad(format!("lockfileVersion {version} is not supported")));
    }
    match (version, obj.get("packages"), obj.get("dependencies")) {
        (2.., Some(Value::Object(packages)), _) => {
            for (path, entry) in packages {
                from_packages_entry(path, entry, &mut pins, &mut skipped)
                    .map_err(|e| bad(format!("packages[\"{path}\"]: {e}")))?;
            }
        }
        (1, _, Some(Value::Object(deps))) => from_v1(deps, &mut pins, &mut skipped, &bad)?,
        (1, _, None) => {}
        _ => return Err(bad("no \"packages\" object".into())),
    }
    pins.sort();
    pins.dedup();
    Ok((pins, skipped))
}

fn str_field<'a>(entry: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    entry.get(key).and_then(Value::as_str)
}

fn from_packages_entry(
    path: &str,
    entry: &Value,
    pins: &mut Vec<Pinned>,
    skipped: &mut Vec<Unmirrorable>,
) -> std::result::Result<(), String> {
    let entry = entry.as_object().ok_or("not an object")?;
    // the root, workspace folders and links are the project's own code
    let Some(idx) = path.rfind("node_modules/") else {
        return Ok(());
    };
    if entry.get("link").and_then(Value::as_bool) == Some(true)
        || entry.get("inBundle").and_then(Value::as_bool) == Some(true)
    {
        return Ok(());
    }
    let folder = &path[idx + "node_modules/".len()..];
    let name = str_field(entry, "name").unwrap_or(folder);
    let version = str_field(entry, "version").ok_or("no \"version\"")?;
    let resolved = str_field(entry, "resolved");
    classify(
        name,
        version,
        resolved,
        str_field(entry, "integrity"),
        pins,
        skipped,
    );
    Ok(())
}

fn from_v1(
    deps: &Map<String, Value>,
    pins: &mut Vec<Pinned>,
    skipped: &mut Vec<Unmirrorable>,
    bad: &dyn Fn(String) -> Error,
) -> Result<()> {
    for (folder, entry) in deps {
        let entry = entry
            .as_object()
            .ok_or_else(|| bad(format!("dependencies[\"{folder}\"] is not an object")))?;
        if entry.get("bundled").and_then(Value::as_bool) != Some(true) {
            let version = str_field(entry, "version")
                .ok_or_else(|| bad(format!("dependencies[\"{folder}\"] has no \"version\"")))?;
            // an alias is written `npm:real-name@1.2.3`
            let (name, version) = match version.strip_prefix("npm:") {
                Some(spec) => split_spec(spec),
                None => (folder.as_str(), version),
            };
            classify(
                name,
                version,
                str_field(entry, "resolved"),
                str_field(entry, "integrity"),
                pins,
                skipped,
            );
        }
        if let Some(Value::Object(nested)) = entry.get("dependencies") {
            from_v1(nested, pins, skipped, bad)?;
        }
    }
    Ok(())
}

/// Splits `name@version` (the name may be scoped: `@scope/name@1.0.0`).
pub fn split_spec(spec: &str) -> (&str, &str) {
    match spec[1.min(spec.len())..].find('@') {
        Some(i) => (&spec[..i + 1], &spec[i + 2..]),
        None => (spec, ""),
    }
}

/// True when `resolved` (if any) names a registry tarball: `…/<name>/-/<file>.tgz`.
pub fn is_registry_tarball(resolved: Option<&str>) -> bool {
    match resolved {
        None => true,
        Some(r) => {
            (r.starts_with("https://") || r.starts_with("http://"))
                && r.split(['#', '?']).next().unwrap_or(r).contains("/-/")
        }
    }
}

/// Sorts one lock entry into a registry pin or a reason it cannot be mirrored.
pub(crate) fn classify(
    name: &str,
    version: &str,
    resolved: Option<&str>,
    integrity: Option<&str>,
    pins: &mut Vec<Pinned>,
    skipped: &mut Vec<Unmirrorable>,
) {
    let registry_version = semver::Version::parse(version).is_ok();
    if registry_version && is_registry_tarball(resolved) {
        pins.push(Pinned {
            name: name.to_string(),
            version: version.to_string(),
            integrity: integrity.map(str::to_string),
        });
        return;
    }
    let from = resolved.unwrap_or(version);
    let kind = if from.starts_with("git") || from.starts_with("github:") {
        "a git dependency"
    } else if from.starts_with("file:") || from.starts_with("link:") {
        "a local file dependency"
    } else if from.starts_with("http") {
        "a tarball URL dependency (not from a registry)"
    } else {
        "not a registry package"
    };
    skipped.push(Unmirrorable {
        name: format!("{name}@{version}"),
        reason: format!("{kind}: {from}; vendor it or add its tarball with `nora add npm`"),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_packages_with_nested_duplicates_scopes_aliases_and_git() {
        let text = r#"{
  "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": {"name": "app", "version": "1.0.0", "dependencies": {"@acme/a": "^1.0.0"}},
    "node_modules/@acme/a": {"version": "1.2.0", "integrity": "sha512-AAAA"},
    "node_modules/@acme/a/node_modules/c": {"version": "2.0.0", "integrity": "sha512-CCC2"},
    "node_modules/c": {"version": "1.0.0", "integrity": "sha512-CCC1", "dev": true},
    "node_modules/alias": {"name": "real", "version": "3.0.0", "integrity": "sha512-RRRR"},
    "node_modules/g": {"version": "0.1.0", "resolved": "git+ssh://git@github.com/x/g.git#abc"},
    "node_modules/local": {"resolved": "packages/local", "link": true},
    "node_modules/inb": {"version": "1.0.0", "inBundle": true},
    "node_modules/d": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/d/-/d-1.0.0.tgz", "integrity": "sha512-DDDD"},
    "packages/local": {"name": "local", "version": "0.0.1"}
  }
}"#;
        let (pins, skipped) = parse(text, "package-lock.json").unwrap();
        let names: Vec<_> = pins
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(
            names,
            [
                "@acme/a@1.2.0",
                "c@1.0.0",
                "c@2.0.0",
                "d@1.0.0",
                "real@3.0.0"
            ]
        );
        assert_eq!(pins[0].integrity.as_deref(), Some("sha512-AAAA"));
        assert_eq!(skipped.len(), 1);
        assert!(
            skipped[0].reason.starts_with("a git dependency"),
            "{skipped:?}"
        );
    }

    #[test]
    fn v1_nested_dependencies() {
        let text = r#"{
  "name": "app", "version": "1.0.0", "lockfileVersion": 1,
  "dependencies": {
    "@acme/a": {"version": "1.2.0", "integrity": "sha512-AAAA",
      "dependencies": {"c": {"version": "2.0.0", "integrity": "sha1-xyz"}}},
    "c": {"version": "1.0.0", "integrity": "sha512-CCC1"},
    "alias": {"version": "npm:@acme/real@3.0.0", "integrity": "sha512-RRRR"},
    "f": {"version": "file:../f"},
    "b": {"version": "1.0.0", "bundled": true}
  }
}"#;
        let (pins, skipped) = parse(text, "package-lock.json").unwrap();
        let names: Vec<_> = pins
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(
            names,
            ["@acme/a@1.2.0", "@acme/real@3.0.0", "c@1.0.0", "c@2.0.0"]
        );
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].reason.starts_with("a local file dependency"));
    }

    #[test]
    fn not_a_lockfile() {
        for bad in [
            "[]",
            "{}",
            "{\"lockfileVersion\": 3}",
            "nope",
            "{\"lockfileVersion\": 9, \"packages\": {}}",
        ] {
            let e = parse(bad, "x.json").unwrap_err().to_string();
            assert!(e.starts_with("x.json is not an npm lockfile"), "{e}");
        }
        assert_eq!(split_spec("@s/n@1.0.0"), ("@s/n", "1.0.0"));
        assert_eq!(split_spec("n@^1"), ("n", "^1"));
    }
}
