//! npm packages in store terms: packuments (full and abbreviated) built from the bundle's
//! version and dist-tag records, tarballs, publishes checked against the integrity the
//! client declares, dist-tags, and unpublishing versions.

use crate::bundle::layout::RefKey;
use crate::bundle::refs::{NpmDistTag, NpmVersion, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::ecosystems::npm::{parse_version, validate_name};
use crate::error::{Error, IoContext};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Why a npm operation failed.
pub type NpmError = super::PackageError;

type Result<T> = std::result::Result<T, NpmError>;

fn invalid(e: Error) -> NpmError {
    match e {
        Error::InvalidName { .. } | Error::BadArtifact { .. } => NpmError::Invalid(e.public()),
        e => NpmError::Store(e),
    }
}

/// Checks a package name.
pub fn check_name(name: &str) -> Result<()> {
    validate_name(name).map_err(invalid)
}

fn parts(name: &str) -> Vec<&str> {
    std::iter::once("npm").chain(name.split('/')).collect()
}

/// A package's versions (with when each was added) and dist-tags.
pub struct Package {
    /// Versions in semver order, with their records' `added` times.
    pub versions: Vec<(String, NpmVersion)>,
    /// Tag → version.
    pub tags: BTreeMap<String, String>,
}

/// Everything the bundle holds of `name`; `None` when it holds no version.
pub fn package(b: &Bundle, name: &str) -> Result<Option<Package>> {
    check_name(name)?;
    let mut p = parts(name);
    p.push("_versions");
    let mut versions: Vec<(String, NpmVersion)> = b
        .list_refs_under(&p)?
        .into_iter()
        .filter_map(|(_, r)| match r {
            Ok(RefRecord {
                added,
                body: RefBody::NpmVersion(v),
            }) if v.name == name => Some((added, v)),
            _ => None,
        })
        .collect();
    if versions.is_empty() {
        return Ok(None);
    }
    versions.sort_by_key(|(_, v)| semver::Version::parse(&v.version).ok());
    p.pop();
    p.push("_tags");
    let tags = b
        .list_refs_under(&p)?
        .into_iter()
        .filter_map(|(_, r)| match r {
            Ok(RefRecord {
                body: RefBody::NpmDistTag(t),
                ..
            }) if t.name == name => Some((t.tag, t.version)),
            _ => None,
        })
        .collect();
    Ok(Some(Package { versions, tags }))
}

/// File name of a version's tarball: `<name without scope>-<version>.tgz`.
pub fn tarball_name(name: &str, version: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    format!("{base}-{version}.tgz")
}

fn dist(v: &NpmVersion, tarball_base: &str) -> Value {
    json!({
        "integrity": v.integrity,
        "shasum": v.shasum,
        "tarball": format!("{tarball_base}/{}/-/{}", v.name, tarball_name(&v.name, &v.version)),
    })
}

/// A revision string that changes whenever the package's versions or tags change.
pub fn revision(p: &Package) -> String {
    let mut h = Vec::new();
    for (_, v) in &p.versions {
        h.extend_from_slice(v.version.as_bytes());
        h.extend_from_slice(v.tarball.hex().as_bytes());
    }
    for (t, v) in &p.tags {
        h.extend_from_slice(format!("{t}={v};").as_bytes());
    }
    format!(
        "{}-{}",
        p.versions.len(),
        &crate::Digest::of(&h).hex()[..32]
    )
}

/// The full packument; tarball URLs start with `tarball_base` (…/npm).
pub fn packument(name: &str, p: &Package, tarball_base: &str) -> Value {
    let mut versions = Map::new();
    let mut time = Map::new();
    for (added, v) in &p.versions {
        let mut doc = match &v.manifest {
            Value::Object(m) => m.clone(),
            _ => Map::new(),
        };
        doc.insert("name".into(), json!(v.name));
        doc.insert("version".into(), json!(v.version));
        doc.insert("_id".into(), json!(format!("{}@{}", v.name, v.version)));
        doc.insert("dist".into(), dist(v, tarball_base));
        versions.insert(v.version.clone(), Value::Object(doc));
        time.insert(v.version.clone(), json!(added));
    }
    let created = p
        .versions
        .iter()
        .map(|(a, _)| a.as_str())
        .min()
        .unwrap_or_default();
    let modified = p
        .versions
        .iter()
        .map(|(a, _)| a.as_str())
        .max()
        .unwrap_or_default();
    time.insert("created".into(), json!(created));
    time.insert("modified".into(), json!(modified));
    let latest = p.tags.get("latest").and_then(|l| {
        p.versions
            .iter()
            .find(|(_, v)| &v.version == l)
            .map(|(_, v)| v)
    });
    let mut out = json!({
        "_id": name,
        "_rev": revision(p),
        "name": name,
        "dist-tags": p.tags,
        "versions": versions,
        "time": time,
    });
    if let Some(l) = latest {
        for k in [
            "description",
            "license",
            "readme",
            "homepage",
            "repository",
            "keywords",
        ] {
            if let Some(v) = l.manifest.get(k) {
                out[k] = v.clone();
            }
        }
    }
    out
}

/// The fields of a version document an abbreviated packument keeps (`dist` aside).
const ABBREVIATED_KEEP: [&str; 17] = [
    "name",
    "version",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "bundledDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bin",
    "directories",
    "engines",
    "cpu",
    "os",
    "deprecated",
    "_hasShrinkwrap",
    "hasInstallScript",
];

/// The abbreviated form of one version document (a package.json or a packument's
/// version entry): what installs need, with `hasInstallScript` derived from its scripts.
pub fn abbreviate_version(manifest: &Value) -> Map<String, Value> {
    let mut doc = Map::new();
    if let Value::Object(m) = manifest {
        for k in ABBREVIATED_KEEP.iter().chain(["dist"].iter()) {
            if let Some(x) = m.get(*k) {
                doc.insert((*k).into(), x.clone());
            }
        }
        let scripts = m.get("scripts").and_then(Value::as_object);
        if scripts.is_some_and(|s| {
            ["preinstall", "install", "postinstall"]
                .iter()
                .any(|k| s.contains_key(*k))
        }) {
            doc.insert("hasInstallScript".into(), json!(true));
        }
    }
    doc
}

/// The abbreviated packument (`application/vnd.npm.install-v1+json`): what installs need.
pub fn abbreviated(name: &str, p: &Package, tarball_base: &str) -> Value {
    let mut versions = Map::new();
    for (_, v) in &p.versions {
        let mut doc = abbreviate_version(&v.manifest);
        doc.insert("name".into(), json!(v.name));
        doc.insert("version".into(), json!(v.version));
        doc.insert("dist".into(), dist(v, tarball_base));
        versions.insert(v.version.clone(), Value::Object(doc));
    }
    let modified = p
        .versions
        .iter()
        .map(|(a, _)| a.as_str())
        .max()
        .unwrap_or_default();
    json!({"name": name, "modified": modified, "dist-tags": p.tags, "versions": versions})
}

/// The version whose tarball is `file` (`<base>-<version>.tgz`).
pub fn tarball(b: &Bundle, name: &str, file: &str) -> Result<Option<NpmVersion>> {
    check_name(name)?;
    let base = name.rsplit('/').next().unwrap_or(name);
    let Some(version) = file
        .strip_prefix(&format!("{base}-"))
        .and_then(|r| r.strip_suffix(".tgz"))
    else {
        return Ok(None);
    };
    if parse_version(version).is_err() {
        return Ok(None);
    }
    Ok(match b.read_ref(&version_key(name, version)?)? {
        Some(RefRecord {
            body: RefBody::NpmVersion(v),
            ..
        }) => Some(v),
        _ => None,
    })
}

fn version_key(name: &str, version: &str) -> Result<RefKey> {
    RefBody::NpmVersion(NpmVersion {
        name: name.into(),
        version: version.into(),
        tarball: crate::Digest::of(b""),
        size: 0,
        integrity: String::new(),
        shasum: String::new(),
        manifest: Value::Null,
    })
    .key()
    .map_err(invalid)
}

fn tag_record(name: &str, tag: &str, version: &str) -> RefRecord {
    RefRecord::new(RefBody::NpmDistTag(NpmDistTag {
        name: name.into(),
        tag: tag.into(),
        version: version.into(),
    }))
}

fn check_tag(tag: &str) -> Result<()> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && parse_version(tag).is_err()
        && !tag.starts_with('.')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(NpmError::Invalid(format!(
            "dist-tag '{tag}' is invalid: letters, digits, '-', '_' and '.', and not a version"
        )))
    }
}

/// What a publish stored.
#[derive(Debug, Clone)]
pub struct Published {
    /// Versions added.
    pub versions: Vec<String>,
}

/// The members of a publish body that nora reads. Attachments stay raw: their base64 is
/// decoded from the request's own bytes straight into a temp file, so a publish is held in
/// memory once.
#[derive(serde::Deserialize)]
struct PublishDoc<'a> {
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    versions: Option<Value>,
    #[serde(rename = "_attachments", borrow, default)]
    attachments: Option<&'a serde_json::value::RawValue>,
    #[serde(rename = "dist-tags", default)]
    dist_tags: Option<Value>,
}

/// One attachment of a publish body.
#[derive(serde::Deserialize)]
struct AttachmentDoc<'a> {
    #[serde(borrow, default)]
    data: Option<&'a serde_json::value::RawValue>,
    #[serde(default)]
    length: Option<Value>,
}

/// Decodes an attachment's base64 `data` into `out`; returns the number of bytes. A bad
/// attachment is `Invalid`; a failure to write is the store's.
fn decode_attachment(
    data: &serde_json::value::RawValue,
    out: &mut impl std::io::Write,
    file: &str,
) -> Result<u64> {
    let invalid = |why: String| NpmError::Invalid(format!("attachment {file} {why}"));
    let text = data.get();
    let quoted = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or_else(|| invalid("has no base64 \"data\"".into()))?;
    let decoded;
    let b64 = if quoted.contains('\\') {
        decoded = serde_json::from_str::<String>(text).map_err(|e| invalid(e.to_string()))?;
        decoded.as_bytes()
    } else {
        quoted.as_bytes()
    };
    let mut r = base64::read::DecoderReader::new(b64, &base64::engine::general_purpose::STANDARD);
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = std::io::Read::read(&mut r, &mut buf)
            .map_err(|e| invalid(format!("is not base64: {e}")))?;
        if n == 0 {
            return Ok(total);
        }
        out.write_all(&buf[..n])
            .at("write the tarball of", std::path::PathBuf::from(file))?;
        total += n as u64;
    }
}

/// Publishes the JSON body of `PUT /npm/<name>`: every version with an attachment is
/// checked (tarball name and version, declared `integrity` and `shasum`) and stored, then
/// the body's dist-tags are applied. Nothing is written unless every check passes.
pub fn publish(b: &Bundle, name: &str, raw: &[u8]) -> Result<Published> {
    check_name(name)?;
    let body: PublishDoc = serde_json::from_slice(raw).map_err(|e| {
        if serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_ok() {
            NpmError::Invalid("publish body is not a JSON object".into())
        } else {
            NpmError::Invalid(format!("the body is not JSON: {e}"))
        }
    })?;
    if let Some(n) = body.name.as_ref().filter(|n| n.as_str() != Some(name)) {
        if n.is_string() {
            return Err(NpmError::Invalid(format!(
                "publish body names {n} but was sent to {name}"
            )));
        }
    }
    let versions = body
        .versions
        .as_ref()
        .and_then(Value::as_object)
        .ok_or_else(|| NpmError::Invalid("publish body has no \"versions\" object".into()))?;
    let attachments: BTreeMap<String, AttachmentDoc> = body
        .attachments
        .and_then(|a| serde_json::from_str(a.get()).ok())
        .ok_or_else(|| NpmError::Invalid("publish body has no \"_attachments\"".into()))?;
    let tmp_dir = b.work_dir()?;
    let mut staged = Vec::new();
    for (version, doc) in versions {
        // npm names the attachment `<name>-<version>.tgz`, scope included
        let file = format!("{name}-{version}.tgz");
        let Some(att) = attachments
            .get(&file)
            .or_else(|| attachments.get(&tarball_name(name, version)))
        else {
            continue;
        };
        parse_version(version).map_err(invalid)?;
        if b.read_ref(&version_key(name, version)?)?.is_some() {
            return Err(NpmError::Exists(format!(
                "cannot publish over the previously published version {name}@{version}; versions are immutable"
            )));
        }
        let data = att.data.ok_or_else(|| {
            NpmError::Invalid(format!("attachment {file} has no base64 \"data\""))
        })?;
        let mut tmp = tempfile::Builder::new()
            .prefix("npm-publish-")
            .tempfile_in(&tmp_dir)
            .at("create temp file in", &tmp_dir)?;
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        let size = decode_attachment(data, &mut out, &file)?;
        std::io::Write::flush(&mut out).at("write", &tmp_dir)?;
        drop(out);
        if let Some(len) = att.length.as_ref().and_then(Value::as_u64) {
            if len != size {
                return Err(NpmError::Invalid(format!(
                    "attachment {file} says {len} bytes but holds {size}"
                )));
            }
        }
        let inspected = crate::ecosystems::npm::inspect(tmp.path()).map_err(invalid)?;
        if inspected.name != name || &inspected.version != version {
            return Err(NpmError::Invalid(format!(
                "the tarball of {name}@{version} holds {}@{}",
                inspected.name, inspected.version
            )));
        }
        let dist = doc.get("dist");
        let declared = dist
            .and_then(|d| d.get("integrity"))
            .and_then(Value::as_str);
        if let Some(d) = declared {
            if d != inspected.integrity {
                return Err(NpmError::Invalid(format!(
                    "{name}@{version}: the tarball's integrity is {}, the publish declares {d}",
                    inspected.integrity
                )));
            }
        }
        if let Some(s) = dist.and_then(|d| d.get("shasum")).and_then(Value::as_str) {
            if s != inspected.shasum {
                return Err(NpmError::Invalid(format!(
                    "{name}@{version}: the tarball's shasum is {}, the publish declares {s}",
                    inspected.shasum
                )));
            }
        }
        if declared.is_none() && dist.and_then(|d| d.get("shasum")).is_none() {
            return Err(NpmError::Invalid(format!(
                "{name}@{version}: the publish declares neither integrity nor shasum"
            )));
        }
        let mut manifest = doc.clone();
        if let Some(m) = manifest.as_object_mut() {
            m.retain(|k, _| k != "dist" && !k.starts_with('_'));
        }
        staged.push((tmp, inspected, manifest));
    }
    if staged.is_empty() {
        return Err(NpmError::Invalid(
            "publish body has no version with its tarball attached".into(),
        ));
    }
    let tags: Vec<(String, String)> = body
        .dist_tags
        .as_ref()
        .and_then(Value::as_object)
        .map(|t| {
            t.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    for (t, _) in &tags {
        check_tag(t)?;
    }
    let _lock = b.lock_shared()?;
    let mut out = Vec::new();
    for (tmp, mut inspected, manifest) in staged {
        inspected.manifest = manifest;
        let rec = crate::ecosystems::npm::store(b, tmp.path(), inspected)?;
        if let RefBody::NpmVersion(v) = &rec.body {
            out.push(v.version.clone());
        }
        crate::ecosystems::commit_ref(b, &rec, "serve")?;
    }
    for (tag, version) in tags {
        if out.contains(&version) {
            crate::ecosystems::commit_ref(b, &tag_record(name, &tag, &version), "serve")?;
        }
    }
    Ok(Published { versions: out })
}

/// Points a dist-tag at a version the bundle holds.
pub fn set_tag(b: &Bundle, name: &str, tag: &str, version: &str) -> Result<()> {
    check_name(name)?;
    check_tag(tag)?;
    if b.read_ref(&version_key(name, version)?)?.is_none() {
        return Err(NpmError::NotFound(format!(
            "{name}@{version} is not in this registry"
        )));
    }
    let _lock = b.lock_shared()?;
    crate::ecosystems::commit_ref(b, &tag_record(name, tag, version), "serve")?;
    Ok(())
}

/// Removes a dist-tag (`latest` cannot be removed, as on the public registry).
pub fn remove_tag(b: &Bundle, name: &str, tag: &str) -> Result<()> {
    check_name(name)?;
    check_tag(tag)?;
    if tag == "latest" {
        return Err(NpmError::Invalid(
            "the latest dist-tag cannot be removed".into(),
        ));
    }
    let key = tag_record(name, tag, "0.0.0").body.key().map_err(invalid)?;
    let _lock = b.lock_shared()?;
    match b.remove_ref_journaled(&key, "serve")? {
        Some(_) => Ok(()),
        None => Err(NpmError::NotFound(format!("{name} has no dist-tag {tag}"))),
    }
}

/// Unpublishes the versions of `name` that `keep` no longer lists (npm's `PUT …/-rev/…`),
/// and the tags that pointed at them; returns the versions removed.
pub fn unpublish_missing(b: &Bundle, name: &str, keep: &Value) -> Result<Vec<String>> {
    let p = package(b, name)?
        .ok_or_else(|| NpmError::NotFound(format!("package {name} is not in this registry")))?;
    let listed = keep
        .get("versions")
        .and_then(Value::as_object)
        .ok_or_else(|| NpmError::Invalid("the update has no \"versions\" object".into()))?;
    let _lock = b.lock_shared()?;
    let mut gone = Vec::new();
    for (_, v) in &p.versions {
        if !listed.contains_key(&v.version) {
            b.remove_ref_journaled(&version_key(name, &v.version)?, "serve")?;
            gone.push(v.version.clone());
        }
    }
    for (tag, v) in &p.tags {
        if gone.contains(v) {
            let key = tag_record(name, tag, v).body.key().map_err(invalid)?;
            b.remove_ref_journaled(&key, "serve")?;
        }
    }
    // a remaining version keeps `latest` pointing somewhere, as npm expects
    let left: Vec<&NpmVersion> = p
        .versions
        .iter()
        .map(|(_, v)| v)
        .filter(|v| !gone.contains(&v.version))
        .collect();
    if gone.iter().any(|g| p.tags.get("latest") == Some(g)) {
        if let Some(newest) = left.last() {
            crate::ecosystems::commit_ref(
                b,
                &tag_record(name, "latest", &newest.version),
                "serve",
            )?;
        }
    }
    Ok(gone)
}

/// Unpublishes every version of `name`.
pub fn unpublish_all(b: &Bundle, name: &str) -> Result<()> {
    unpublish_missing(b, name, &json!({"versions": {}}))?;
    Ok(())
}
