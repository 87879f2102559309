//! Go modules in store terms: the versions of a module and the `.info`, `.mod` and `.zip`
//! blobs of one version. Modules enter with `nora add go` (GOPROXY has no upload).

use crate::bundle::refs::{GoVersion, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::ecosystems::go::{check_module_path, check_version};
use crate::error::Result;

fn prefix<'a>(module: &'a str, marker: &'a str) -> Vec<&'a str> {
    std::iter::once("go")
        .chain(module.split('/'))
        .chain(std::iter::once(marker))
        .collect()
}

/// Every version of `module` the bundle holds, in semver order (oldest first).
pub fn versions(b: &Bundle, module: &str) -> Result<Vec<GoVersion>> {
    check_module_path(module)?;
    let mut out: Vec<GoVersion> = b
        .list_refs_under(&prefix(module, "@v"))?
        .into_iter()
        .filter_map(|(_, r)| match r {
            Ok(RefRecord {
                body: RefBody::GoVersion(g),
                ..
            }) if g.module == module => Some(g),
            _ => None,
        })
        .collect();
    out.sort_by_key(|g| semver_of(&g.version));
    Ok(out)
}

/// One version of `module`, if the bundle holds it.
pub fn version(b: &Bundle, module: &str, version: &str) -> Result<Option<GoVersion>> {
    check_module_path(module)?;
    check_version(module, version)?;
    let key = crate::bundle::layout::RefKey::new(
        prefix(module, "@v")
            .into_iter()
            .chain(std::iter::once(version)),
    )?;
    Ok(match b.read_ref(&key)? {
        Some(RefRecord {
            body: RefBody::GoVersion(g),
            ..
        }) if g.module == module => Some(g),
        _ => None,
    })
}

/// What the bundle holds of one module version: the whole of it, or its go.mod alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    /// The `.info` blob.
    pub info: Digest,
    /// The `.mod` blob.
    pub mod_file: Digest,
    /// `h1:` of the go.mod.
    pub mod_h1: String,
    /// The zip blob and its `h1:`, unless only the go.mod is held.
    pub zip: Option<(Digest, String)>,
}

/// The files of `module@version` the bundle holds, whole (`go-version`) or go.mod only
/// (`go-mod`).
pub fn held(b: &Bundle, module: &str, version: &str) -> Result<Option<Held>> {
    if let Some(g) = self::version(b, module, version)? {
        return Ok(Some(Held {
            info: g.info,
            mod_file: g.mod_file,
            mod_h1: g.mod_h1,
            zip: Some((g.zip, g.h1)),
        }));
    }
    let key = crate::bundle::layout::RefKey::new(
        prefix(module, "@mod")
            .into_iter()
            .chain(std::iter::once(version)),
    )?;
    Ok(match b.read_ref(&key)? {
        Some(RefRecord {
            body: RefBody::GoMod(g),
            ..
        }) if g.module == module => Some(Held {
            info: g.info,
            mod_file: g.mod_file,
            mod_h1: g.mod_h1,
            zip: None,
        }),
        _ => None,
    })
}

fn semver_of(v: &str) -> Option<semver::Version> {
    let core = v.strip_prefix('v')?;
    let core = core.strip_suffix("+incompatible").unwrap_or(core);
    semver::Version::parse(core).ok()
}

/// True for pseudo-versions (`v0.0.0-20240101120000-abcdef123456` and the other forms),
/// which `@v/list` leaves out as the GOPROXY protocol expects.
pub fn is_pseudo(version: &str) -> bool {
    let v = version.strip_suffix("+incompatible").unwrap_or(version);
    let Some((head, rev)) = v.rsplit_once('-') else {
        return false;
    };
    if rev.len() != 12 || !rev.bytes().all(|c| c.is_ascii_hexdigit()) {
        return false;
    }
    let ts: String = head.chars().rev().take(14).collect();
    ts.len() == 14
        && ts.bytes().all(|c| c.is_ascii_digit())
        && matches!(head.chars().rev().nth(14), Some('-') | Some('.'))
}

/// The version `@latest` names: the highest release, else the highest pre-release, else
/// the highest pseudo-version.
pub fn latest(versions: &[GoVersion]) -> Option<&GoVersion> {
    let by = |pick: &dyn Fn(&GoVersion) -> bool| {
        versions
            .iter()
            .filter(|g| pick(g))
            .max_by(|a, b| semver_of(&a.version).cmp(&semver_of(&b.version)))
    };
    let release = |g: &GoVersion| semver_of(&g.version).is_some_and(|s| s.pre.is_empty());
    by(&release)
        .or_else(|| by(&|g: &GoVersion| !is_pseudo(&g.version)))
        .or_else(|| by(&|_| true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_versions() {
        assert!(is_pseudo("v0.0.0-20240101120000-abcdef123456"));
        assert!(is_pseudo("v1.2.4-0.20240101120000-abcdef123456"));
        assert!(is_pseudo("v1.2.3-pre.0.20240101120000-abcdef123456"));
        assert!(!is_pseudo("v1.2.3"));
        assert!(!is_pseudo("v1.2.3-rc.1"));
    }
}
