//! Mirrors Go modules pinned by a go.sum from a GOPROXY: `.info`, `.mod` and `.zip` of
//! each, with the `h1:` hashes of the zip and the go.mod checked against go.sum.

use super::Watch;
use super::{Options, Report};
use crate::bundle::refs::{RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::ecosystems::AddOptions;
use crate::lockfiles::go_sum::Pinned;
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
            async move { one(&b, &p, &proxy, &c).await.map(Some) }
        },
    )
    .await
}

async fn one(b: &Bundle, p: &Pinned, proxy: &str, c: &Client) -> Result<u64, String> {
    let base = format!("{proxy}/{}/@v/{}", escape(&p.module), escape(&p.version));
    let temp = |suffix: &str| super::temp_file(b, "mirror-go-", suffix);
    let (info_url, mod_url) = (format!("{base}.info"), format!("{base}.mod"));
    let (info, go_mod) = tokio::join!(c.bytes(&info_url, 1 << 20), c.bytes(&mod_url, 16 << 20));
    let (info, go_mod) = (
        info.map_err(|e| e.to_string())?,
        go_mod.map_err(|e| e.to_string())?,
    );
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
