//! Mirrors Go modules pinned by a go.sum from a GOPROXY: `.info`, `.mod` and `.zip` of
//! each, with the `h1:` hashes of the zip and the go.mod checked against go.sum.

use super::{Item, Options, Outcome, Report};
use crate::bundle::refs::{RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::ecosystems::AddOptions;
use crate::lockfiles::go_sum::Pinned;
use crate::progress::Progress;
use crate::upstream::Client;
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

fn existing(b: &Bundle, p: &Pinned) -> bool {
    matches!(
        crate::registry::go::version(b, &p.module, &p.version),
        Ok(Some(g)) if p.zip_h1.as_ref().is_none_or(|h| *h == g.h1)
            && p.mod_h1.as_ref().is_none_or(|h| *h == g.mod_h1)
    )
}

/// Mirrors every pinned module from `proxy` (a GOPROXY base URL).
pub async fn mirror(
    bundle: Arc<Bundle>,
    pins: Vec<Pinned>,
    proxy: &str,
    client: &Client,
    opts: &Options,
    progress: &dyn Progress,
) -> Report {
    let proxy = proxy.trim_end_matches('/').to_string();
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let keep_going = opts.keep_going;
    progress.start("go", Some(pins.len() as u64));
    let mut tasks = Vec::new();
    for p in pins {
        let (b, c, sem, proxy, dry) = (
            bundle.clone(),
            client.clone(),
            sem.clone(),
            proxy.clone(),
            opts.dry_run,
        );
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            let name = format!("{}@{}", p.module, p.version);
            let item = |outcome, bytes, error| Item {
                ecosystem: "go",
                name: name.clone(),
                outcome,
                bytes,
                error,
            };
            if existing(&b, &p) {
                return item(Outcome::Skipped, 0, None);
            }
            if dry {
                return item(Outcome::Planned, 0, None);
            }
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return item(
                    Outcome::Failed,
                    0,
                    Some(
                        "not attempted after an earlier failure (--keep-going mirrors the rest)"
                            .into(),
                    ),
                );
            }
            match one(&b, &p, &proxy, &c).await {
                Ok(bytes) => item(Outcome::Added, bytes, None),
                Err(e) => {
                    if !keep_going {
                        stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    item(Outcome::Failed, 0, Some(e))
                }
            }
        }));
    }
    let mut report = Report::default();
    for t in tasks {
        let it = t.await.expect("mirror task panicked");
        progress.advance(1);
        report.items.push(it);
    }
    progress.finish();
    report
}

async fn one(b: &Bundle, p: &Pinned, proxy: &str, c: &Client) -> Result<u64, String> {
    let base = format!("{proxy}/{}/@v/{}", escape(&p.module), escape(&p.version));
    let tmp_dir = b.layout().tmp_dir();
    let temp = |suffix: &str| {
        tempfile::Builder::new()
            .prefix("mirror-go-")
            .suffix(suffix)
            .tempfile_in(&tmp_dir)
            .map_err(|e| format!("temp file in {}: {e}", tmp_dir.display()))
    };
    let info = c
        .bytes(&format!("{base}.info"), 1 << 20)
        .await
        .map_err(|e| e.to_string())?;
    let go_mod = c
        .bytes(&format!("{base}.mod"), 16 << 20)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(want) = &p.mod_h1 {
        let got = crate::ecosystems::go::h1_mod(&go_mod);
        if &got != want {
            return Err(format!(
                "hash mismatch for {}@{}/go.mod: go.sum says {want}, the upstream's go.mod hashes to {got}",
                p.module, p.version
            ));
        }
    }
    let mut zip = temp(".zip")?;
    let zip_bytes = c
        .to_file(&format!("{base}.zip"), zip.as_file_mut())
        .await
        .map_err(|e| e.to_string())?;
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
    tokio::task::block_in_place(move || {
        let i = crate::ecosystems::go::inspect(&zip_path, &opts).map_err(|e| e.to_string())?;
        if let Some(want) = &pin.zip_h1 {
            if &i.h1 != want {
                return Err(format!(
                    "hash mismatch for {}@{}: go.sum says {want}, the upstream's zip hashes to {}",
                    pin.module, pin.version, i.h1
                ));
            }
        }
        let _lock = bundle.lock_shared().map_err(|e| e.to_string())?;
        let rec: RefRecord =
            crate::ecosystems::go::store(bundle, &zip_path, i).map_err(|e| e.to_string())?;
        debug_assert!(matches!(rec.body, RefBody::GoVersion(_)));
        crate::ecosystems::commit_ref(bundle, &rec, "mirror").map_err(|e| e.to_string())?;
        Ok(zip_bytes + go_mod.len() as u64 + info.len() as u64)
    })
}
