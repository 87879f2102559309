//! A Go checksum database carried in the bundle, in store terms: its signed tree heads,
//! the records of the modules mirrored, and the tiles that prove them.

use crate::bundle::layout::RefKey;
use crate::bundle::refs::{GoSumdbRecord, GoSumdbTile, GoSumdbTree, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::error::Result;

fn base(name: &str, part: &str) -> Vec<String> {
    vec!["go".into(), "_sumdb".into(), name.into(), part.into()]
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        && !name.starts_with('.')
}

/// The records of database `name` under `part` (`tree`, `lookup`).
fn under(b: &Bundle, name: &str, part: &str) -> Result<Vec<RefBody>> {
    if !valid_name(name) {
        return Ok(Vec::new());
    }
    let prefix = base(name, part);
    Ok(
        b.list_refs_under(&prefix.iter().map(String::as_str).collect::<Vec<_>>())?
            .into_iter()
            .filter_map(|(_, r)| r.ok().map(|r| r.body))
            .collect(),
    )
}

/// Every tree head held for database `name`, smallest first.
pub fn trees(b: &Bundle, name: &str) -> Result<Vec<GoSumdbTree>> {
    let mut out: Vec<GoSumdbTree> = under(b, name, "tree")?
        .into_iter()
        .filter_map(|r| match r {
            RefBody::GoSumdbTree(t) if t.name == name => Some(t),
            _ => None,
        })
        .collect();
    out.sort_by_key(|t| t.size);
    Ok(out)
}

/// The largest tree head held for database `name`.
pub fn latest(b: &Bundle, name: &str) -> Result<Option<GoSumdbTree>> {
    Ok(trees(b, name)?.pop())
}

/// Every record held for database `name`.
pub fn records(b: &Bundle, name: &str) -> Result<Vec<GoSumdbRecord>> {
    Ok(under(b, name, "lookup")?
        .into_iter()
        .filter_map(|r| match r {
            RefBody::GoSumdbRecord(r) if r.name == name => Some(r),
            _ => None,
        })
        .collect())
}

/// The record of `module@version` in database `name`.
pub fn record(
    b: &Bundle,
    name: &str,
    module: &str,
    version: &str,
) -> Result<Option<GoSumdbRecord>> {
    if !valid_name(name)
        || crate::ecosystems::go::check_module_path(module).is_err()
        || crate::ecosystems::go::check_version(module, version).is_err()
    {
        return Ok(None);
    }
    let key = RefKey::new(
        base(name, "lookup")
            .into_iter()
            .chain(module.split('/').map(str::to_string))
            .chain(["@v".to_string(), version.to_string()]),
    )?;
    Ok(match b.read_ref(&key)? {
        Some(RefRecord {
            body: RefBody::GoSumdbRecord(r),
            ..
        }) if r.module == module && r.version == version => Some(r),
        _ => None,
    })
}

/// The tile at `path` (`8/0/000.p/5`) of database `name`.
pub fn tile(b: &Bundle, name: &str, path: &str) -> Result<Option<GoSumdbTile>> {
    if !valid_name(name) || crate::sumdb::tlog::Tile::parse(path).is_none() {
        return Ok(None);
    }
    let key = RefKey::new(
        base(name, "tile")
            .into_iter()
            .chain(path.split('/').map(str::to_string)),
    )?;
    Ok(match b.read_ref(&key)? {
        Some(RefRecord {
            body: RefBody::GoSumdbTile(t),
            ..
        }) if t.tile == path => Some(t),
        _ => None,
    })
}
