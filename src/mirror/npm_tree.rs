//! Resolves `name@range` specs against an npm registry the way `npm install` would pick
//! versions: the highest version satisfying each range (a dist-tag names its version), then
//! the same for its `dependencies`, `optionalDependencies` and `peerDependencies`, down the
//! whole tree.

use crate::lockfiles::npm_lock::{split_spec, Pinned};
use crate::lockfiles::Unmirrorable;
use crate::upstream::{Client, FetchError};
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};

/// Parses `name`, `name@range`, `@scope/name@range` (range default `latest`).
pub fn parse_spec(spec: &str) -> crate::Result<(String, String)> {
    let (name, range) = split_spec(spec);
    crate::ecosystems::npm::validate_name(name)?;
    Ok((
        name.to_string(),
        if range.is_empty() {
            "latest".into()
        } else {
            range.to_string()
        },
    ))
}

/// The highest version in `doc` (a packument) that `range` allows, or the version a
/// dist-tag named `range` points at.
pub fn pick(doc: &Value, range: &str) -> Option<String> {
    if let Some(v) = doc
        .get("dist-tags")
        .and_then(|t| t.get(range))
        .and_then(Value::as_str)
    {
        return Some(v.to_string());
    }
    let range: nodejs_semver::Range = range.parse().ok()?;
    doc.get("versions")?
        .as_object()?
        .keys()
        .filter_map(|v| v.parse::<nodejs_semver::Version>().ok())
        .filter(|v| v.satisfies(&range))
        .max()
        .map(|v| v.to_string())
}

fn is_registry_range(range: &str) -> bool {
    ![
        "file:",
        "link:",
        "git",
        "github:",
        "http:",
        "https:",
        "workspace:",
    ]
    .iter()
    .any(|p| range.starts_with(p))
        && !range.contains('/')
}

/// Resolves `specs` and their dependency trees; returns the pinned versions (with the
/// upstream's integrity) and what cannot come from a registry.
pub async fn resolve(
    specs: &[String],
    upstream: &str,
    client: &Client,
) -> Result<(Vec<Pinned>, Vec<Unmirrorable>), String> {
    let upstream = upstream.trim_end_matches('/');
    let mut docs: HashMap<String, Value> = HashMap::new();
    let mut queue: VecDeque<(String, String)> = VecDeque::new();
    for s in specs {
        queue.push_back(parse_spec(s).map_err(|e| e.to_string())?);
    }
    let mut done: HashSet<(String, String)> = HashSet::new();
    let mut pins: Vec<Pinned> = Vec::new();
    let mut skipped = Vec::new();
    let mut seen_versions = HashSet::new();
    while let Some((name, range)) = queue.pop_front() {
        if !done.insert((name.clone(), range.clone())) {
            continue;
        }
        let (name, range) = match range.strip_prefix("npm:") {
            Some(real) => {
                let (n, r) = split_spec(real);
                (
                    n.to_string(),
                    if r.is_empty() {
                        "latest".to_string()
                    } else {
                        r.to_string()
                    },
                )
            }
            None => (name, range),
        };
        if !is_registry_range(&range) {
            skipped.push(Unmirrorable {
                name: format!("{name}@{range}"),
                reason: "not a registry range (git, file or URL); vendor it or add its tarball with `nora add npm`".into(),
            });
            continue;
        }
        if !docs.contains_key(&name) {
            let url = format!("{upstream}/{}", name.replace('/', "%2f"));
            let (body, _) = client
                .bytes_as(&url, Some("application/json"), 256 << 20)
                .await
                .map_err(|e| match e {
                    FetchError::NotFound(_) => format!("{name} does not exist upstream ({url})"),
                    e => e.to_string(),
                })?;
            let doc: Value = serde_json::from_slice(&body)
                .map_err(|e| format!("{url}: not a packument: {e}"))?;
            docs.insert(name.clone(), doc);
        }
        let doc = &docs[&name];
        let version = pick(doc, &range)
            .ok_or_else(|| format!("{name}@{range}: no version upstream satisfies the range"))?;
        if !seen_versions.insert((name.clone(), version.clone())) {
            continue;
        }
        let manifest = &doc["versions"][&version];
        pins.push(Pinned {
            name: name.clone(),
            version: version.clone(),
            integrity: manifest["dist"]["integrity"].as_str().map(str::to_string),
        });
        let peers_optional = manifest.get("peerDependenciesMeta");
        for field in ["dependencies", "optionalDependencies", "peerDependencies"] {
            for (dep, r) in manifest
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let optional_peer = field == "peerDependencies"
                    && peers_optional
                        .and_then(|m| m.get(dep))
                        .and_then(|m| m.get("optional"))
                        .and_then(Value::as_bool)
                        == Some(true);
                if let (Some(r), false) = (r.as_str(), optional_peer) {
                    queue.push_back((dep.clone(), r.to_string()));
                }
            }
        }
    }
    pins.sort();
    Ok((pins, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picking_versions() {
        let doc = serde_json::json!({
            "dist-tags": {"latest": "1.1.0", "next": "2.0.0-beta.1"},
            "versions": {"1.0.0": {}, "1.1.0": {}, "1.2.0-rc.1": {}, "2.0.0-beta.1": {}, "0.9.0": {}}
        });
        assert_eq!(pick(&doc, "^1.0.0").as_deref(), Some("1.1.0"));
        assert_eq!(pick(&doc, "1.x || >=3").as_deref(), Some("1.1.0"));
        assert_eq!(pick(&doc, ">=0.9.0 <1.0.0").as_deref(), Some("0.9.0"));
        assert_eq!(pick(&doc, "next").as_deref(), Some("2.0.0-beta.1"));
        assert_eq!(pick(&doc, "latest").as_deref(), Some("1.1.0"));
        assert_eq!(pick(&doc, "^3"), None);
        assert_eq!(
            parse_spec("@s/n").unwrap(),
            ("@s/n".to_string(), "latest".to_string())
        );
        assert_eq!(
            parse_spec("n@^1").unwrap(),
            ("n".to_string(), "^1".to_string())
        );
        assert!(parse_spec("Bad Name@1").is_err());
    }
}
