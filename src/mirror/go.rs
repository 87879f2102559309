//! Mirrors Go modules pinned by a go.sum from a GOPROXY: `.info`, `.mod` and `.zip` of
//! each, with the `h1:` hashes of the zip and the go.mod checked against go.sum and, when
//! one is given, against a checksum database, which is carried along ([`super::go_sumdb`]).

use super::go_sumdb::{self, Database};
use super::Watch;
use super::{Failure, Item, Options, Outcome, Report};

use crate::bundle::Bundle;
use crate::ecosystems::AddOptions;
use crate::lockfiles::go_sum::Pinned;
use crate::upstream::{Client, FetchError};
use std::sync::Arc;

/// Escapes a module path or version for GOPROXY URLs: `X` becomes `!x`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether the bundle holds what `p` needs: its go.mod, and its zip when go.sum pins one.
fn existing(b: &Bundle, p: &Pinned) -> bool {
    let Ok(Some(h)) = crate::registry::go::held(b, &p.module, &p.version) else {
        return false;
    };
    p.mod_h1.as_ref().is_none_or(|m| *m == h.mod_h1)
        && match (&p.zip_h1, &h.zip) {
            (Some(want), Some((_, h1))) => want == h1,
            (Some(_), None) => false,
            (None, _) => true,
        }
}

/// The hashes the database's record gives `p`, which must agree with go.sum's.
fn checked_by_record(
    mut p: Pinned,
    r: &crate::bundle::refs::GoSumdbRecord,
) -> Result<Pinned, String> {
    let (zip, go_mod) = crate::sumdb::note::record_hashes(&r.text, &p.module, &p.version);
    let (Some(zip), Some(go_mod)) = (zip, go_mod) else {
        return Err(format!(
            "the {} record of {}@{} does not give its hashes",
            r.name, p.module, p.version
        ));
    };
    for (what, sum, db) in [("", &mut p.zip_h1, zip), ("/go.mod", &mut p.mod_h1, go_mod)] {
        match sum {
            Some(h) if *h != db => {
                return Err(format!(
                    "hash mismatch for {}@{}{what}: go.sum says {h}, the checksum database {} says {db}",
                    p.module, p.version, r.name
                ))
            }
            _ => *sum = Some(db),
        }
    }
    Ok(p)
}

/// What the checksum database said of a run's pins.
struct Consulted {
    /// The pins it vouched for, with its hashes.
    pins: Vec<Pinned>,
    /// The pins it did not.
    failures: Vec<Item>,
    /// Their records.
    records: Vec<crate::bundle::refs::GoSumdbRecord>,
    /// The checked tree head and tiles to store.
    proven: go_sumdb::Proven,
}

/// Looks every pin up in `db` and proves the records; a failure of the proof fails all.
async fn consult(
    bundle: &Bundle,
    db: &Database,
    pins: Vec<Pinned>,
    client: &Client,
    opts: &Options,
) -> Result<Consulted, Item> {
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let looked = futures_util::future::join_all(pins.iter().map(|p| {
        let sem = sem.clone();
        async move {
            let _permit = sem.acquire().await.expect("semaphore open");
            go_sumdb::lookup(bundle, db, &p.module, &p.version, client).await
        }
    }))
    .await;
    let (mut ok, mut failures, mut records, mut notes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (p, l) in pins.into_iter().zip(looked) {
        let name = format!("{}@{}", p.module, p.version);
        match l.and_then(|(r, note)| checked_by_record(p, &r).map(|p| (p, r, note))) {
            Ok((p, r, note)) => {
                ok.push(p);
                records.push(r);
                notes.extend(note);
            }
            Err(e) => failures.push(failed(name, e)),
        }
    }
    if !failures.is_empty() && !opts.keep_going {
        return Ok(Consulted {
            pins: Vec::new(),
            failures,
            records: Vec::new(),
            proven: go_sumdb::Proven::default(),
        });
    }
    let proven = go_sumdb::prove(bundle, db, &records, notes, client)
        .await
        .map_err(|e| failed(format!("checksum database {}", db.name()), e))?;
    Ok(Consulted {
        pins: ok,
        failures,
        records,
        proven,
    })
}

fn failed(name: String, error: String) -> Item {
    Item {
        ecosystem: "go",
        name,
        outcome: Outcome::Failed,
        bytes: 0,
        error: Some(error),
    }
}

/// Every module version the builds of `mods` may read a go.mod of: their requirements
/// and, through the go.mod files the proxy serves, theirs, down the whole graph (the
/// main module's `replace` and `exclude` applied), so the go command finds each go.mod it
/// asks for whatever graph pruning it does. The go.mod files read here only steer the
/// walk; what is stored is checked when it is downloaded.
async fn graph(
    mods: &[crate::lockfiles::go_mod::GoMod],
    proxy: &str,
    client: &Client,
    jobs: usize,
) -> (Vec<Pinned>, Vec<Item>) {
    use std::collections::BTreeSet;
    let (mut seen, mut items) = (BTreeSet::new(), Vec::new());
    let mut level: Vec<(usize, String, String)> = Vec::new();
    for (i, m) in mods.iter().enumerate() {
        level.extend(m.requires.iter().map(|(p, v)| (i, p.clone(), v.clone())));
    }
    let sem = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    while !level.is_empty() {
        let mut fetch = Vec::new();
        for (i, path, version) in std::mem::take(&mut level) {
            let main = &mods[i];
            if main.excludes.contains(&(path.clone(), version.clone())) {
                continue;
            }
            match main.replaced(&path, &version) {
                None => items.push(failed(
                    format!("{path}@{version}"),
                    format!(
                        "not mirrorable: {} replaces it with a directory",
                        main.module
                    ),
                )),
                Some(mv) => {
                    if seen.insert(mv.clone()) {
                        fetch.push((i, mv));
                    }
                }
            }
        }
        let got = futures_util::future::join_all(fetch.into_iter().map(|(i, (path, version))| {
            let (sem, c) = (sem.clone(), client.clone());
            let url = format!("{proxy}/{}/@v/{}.mod", escape(&path), escape(&version));
            async move {
                let _permit = sem.acquire().await.expect("semaphore open");
                let r = match c.bytes(&url, 16 << 20).await {
                    Ok(b) => crate::lockfiles::go_mod::parse(&String::from_utf8_lossy(&b), &url)
                        .map_err(|e| e.to_string()),
                    Err(FetchError::NotFound(_)) => {
                        Err(format!("{path}@{version} does not exist upstream ({url})"))
                    }
                    Err(e) => Err(e.to_string()),
                };
                (i, path, version, r)
            }
        }))
        .await;
        for (i, path, version, r) in got {
            match r {
                Ok(m) => level.extend(m.requires.into_iter().map(|(p, v)| (i, p, v))),
                Err(e) => items.push(failed(format!("{path}@{version}"), e)),
            }
        }
    }
    let pins = seen
        .into_iter()
        .map(|(module, version)| Pinned {
            module,
            version,
            zip_h1: None,
            mod_h1: None,
        })
        .collect();
    (pins, items)
}

/// Mirrors every pinned module, and the module graphs of `mods`, from `proxy` (a GOPROXY
/// base URL), checked against and carrying the checksum database `sumdb` when one is
/// given. A module with no hash to check it against (not in go.sum, no database) fails.
#[allow(clippy::too_many_arguments)]
pub async fn mirror(
    bundle: Arc<Bundle>,
    mut pins: Vec<Pinned>,
    mods: &[crate::lockfiles::go_mod::GoMod],
    proxy: &str,
    sumdb: Option<&Database>,
    client: &Client,
    opts: &Options,
    watch: &dyn Watch,
) -> Report {
    let mut report = Report::default();
    if !mods.is_empty() {
        let (found, items) = graph(mods, proxy.trim_end_matches('/'), client, opts.jobs).await;
        report.items.extend(items);
        if !report.items.is_empty() && !opts.keep_going {
            return report;
        }
        for f in found {
            if !pins
                .iter()
                .any(|p| p.module == f.module && p.version == f.version)
            {
                pins.push(f);
            }
        }
    }
    if sumdb.is_none() {
        let (checked, unchecked): (Vec<_>, Vec<_>) = pins
            .into_iter()
            .partition(|p| p.mod_h1.is_some() || p.zip_h1.is_some());
        for p in unchecked {
            report.items.push(failed(
                format!("{}@{}", p.module, p.version),
                "no hash to check it against: go.sum does not list it; give a checksum database with --go-sumdb".into(),
            ));
        }
        if !report.items.is_empty() && !opts.keep_going {
            return report;
        }
        pins = checked;
    }
    let (pins, sumdb) = match sumdb.filter(|_| !opts.dry_run) {
        None => (pins, None),
        Some(db) => match consult(&bundle, db, pins, client, opts).await {
            Err(item) => {
                report.items.push(item);
                return report;
            }
            Ok(c) => {
                let stop = !c.failures.is_empty() && !opts.keep_going;
                report.items.extend(c.failures);
                if stop {
                    return report;
                }
                (c.pins, Some((db, c.records, c.proven)))
            }
        },
    };
    let mut r = fetch(bundle.clone(), pins, proxy, client, opts, watch).await;
    report.items.append(&mut r.items);
    if let Some((db, records, proven)) = sumdb {
        // records only for the modules the bundle now holds
        let held: Vec<_> = records
            .into_iter()
            .filter(|r| {
                matches!(
                    crate::registry::go::version(&bundle, &r.module, &r.version),
                    Ok(Some(_))
                )
            })
            .collect();
        let b = bundle.clone();
        let stored = tokio::task::block_in_place(|| go_sumdb::store(&b, db, proven, &held));
        if let Err(e) = stored {
            report
                .items
                .push(failed(format!("checksum database {}", db.name()), e));
        }
    }
    report
}

async fn fetch(
    bundle: Arc<Bundle>,
    pins: Vec<Pinned>,
    proxy: &str,
    client: &Client,
    opts: &Options,
    watch: &dyn Watch,
) -> Report {
    let proxy = proxy.trim_end_matches('/').to_string();
    let artifacts = pins
        .into_iter()
        .map(|p| (format!("{}@{}", p.module, p.version), p))
        .collect();
    let b = bundle.clone();
    let client = client.clone();
    super::run(
        "go",
        artifacts,
        opts,
        watch,
        move |p| existing(&b, p),
        move |p| {
            let (b, c, proxy) = (bundle.clone(), client.clone(), proxy.clone());
            async move {
                one(&b, &p, &proxy, &c)
                    .await
                    .map(Some)
                    .map_err(|e| e.to_string())
            }
        },
    )
    .await
}

/// Fetches `.info`, `.mod` and (unless go.sum pins the go.mod only) `.zip` of one module
/// version from the GOPROXY at `proxy`, checks them against `p`'s hashes and stores them;
/// returns the bytes fetched.
pub async fn one(b: &Bundle, p: &Pinned, proxy: &str, c: &Client) -> Result<u64, Failure> {
    let base = format!("{proxy}/{}/@v/{}", escape(&p.module), escape(&p.version));
    let temp = |suffix: &str| super::temp_file(b, "mirror-go-", suffix);
    let (info_url, mod_url) = (format!("{base}.info"), format!("{base}.mod"));
    let (info, go_mod) = tokio::join!(c.bytes(&info_url, 1 << 20), c.bytes(&mod_url, 16 << 20));
    let (info, go_mod) = (info?, go_mod?);
    if let Some(want) = &p.mod_h1 {
        let got = crate::ecosystems::go::h1_mod(&go_mod);
        if &got != want {
            return Err(Failure::Refused(format!(
                "hash mismatch for {}@{}/go.mod: go.sum says {want}, the upstream's go.mod hashes to {got}",
                p.module, p.version
            )));
        }
    }
    if p.zip_h1.is_none() && p.mod_h1.is_some() {
        // go.sum lists only the go.mod: builds read it for the module graph, never the zip
        let name = format!("{}@{}", p.module, p.version);
        let (bundle, pin) = (b, p.clone());
        return tokio::task::block_in_place(move || -> Result<u64, Failure> {
            super::keep(bundle, || {
                crate::ecosystems::go::store_mod_only(
                    bundle,
                    &pin.module,
                    &pin.version,
                    &info,
                    &go_mod,
                    &name,
                )
                .map(|r| vec![r])
                .map_err(|e| e.to_string())
            })?;
            Ok(go_mod.len() as u64 + info.len() as u64)
        });
    }
    let mut zip = temp(".zip")?;
    let zip_bytes = c.to_file(&format!("{base}.zip"), zip.as_file_mut()).await?;
    let mut mod_file = temp(".mod")?;
    let mut info_file = temp(".info")?;
    use std::io::Write;
    mod_file.write_all(&go_mod).map_err(|e| e.to_string())?;
    info_file.write_all(&info).map_err(|e| e.to_string())?;
    let opts = AddOptions {
        module: Some(p.module.clone()),
        version: Some(p.version.clone()),
        go_mod: Some(mod_file.path().to_path_buf()),
        go_info: Some(info_file.path().to_path_buf()),
        ..Default::default()
    };
    let (zip_path, bundle) = (zip.path().to_path_buf(), b);
    let pin = p.clone();
    tokio::task::block_in_place(move || -> Result<u64, Failure> {
        let i = crate::ecosystems::go::inspect(&zip_path, &opts).map_err(|e| e.to_string())?;
        if let Some(want) = &pin.zip_h1 {
            if &i.h1 != want {
                return Err(Failure::Refused(format!(
                    "hash mismatch for {}@{}: go.sum says {want}, the upstream's zip hashes to {}",
                    pin.module, pin.version, i.h1
                )));
            }
        }
        super::keep(bundle, || {
            crate::ecosystems::go::store(bundle, &zip_path, i)
                .map(|r| vec![r])
                .map_err(|e| e.to_string())
        })?;
        Ok(zip_bytes + go_mod.len() as u64 + info.len() as u64)
    })
}
