//! Mirrors the Python distributions a requirements file or lockfile pins: each project's
//! page is read from the upstream index (PEP 691 or 503), the files of the pinned version
//! are chosen (those whose SHA-256 the lock allows, then wheels for the wanted Python
//! versions and platforms, plus sdists), and each is downloaded, checked against the
//! SHA-256 the lock and the index publish, and imported like `nora add pypi`.

use super::Watch;
use super::{Failure, Item, Options, Outcome, Report};
use crate::bundle::Bundle;
use crate::ecosystems::pypi::{filename_version, normalize, parse_wheel_filename, WheelName};
use crate::lockfiles::python::Pinned;
use crate::upstream::simple::{self, IndexFile};
use crate::upstream::{Client, FetchError};
use std::sync::Arc;

/// Which wheels to take; empty lists take every wheel.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Python versions (`3.11`): wheels whose tags run on one of them.
    pub python_versions: Vec<String>,
    /// Platform tags (`manylinux_2_17_x86_64`, `win_amd64`): wheels for one of them
    /// (`any` always fits; an older glibc or musl of the same architecture fits too).
    pub platforms: Vec<String>,
}

/// `(family, major, minor, arch)` of a manylinux/musllinux tag, legacy aliases included.
fn linux_tag(tag: &str) -> Option<(&'static str, u32, u32, &str)> {
    for (alias, glibc) in [
        ("manylinux1_", (2, 5)),
        ("manylinux2010_", (2, 12)),
        ("manylinux2014_", (2, 17)),
    ] {
        if let Some(arch) = tag.strip_prefix(alias) {
            return Some(("manylinux", glibc.0, glibc.1, arch));
        }
    }
    let (family, rest) = if let Some(r) = tag.strip_prefix("manylinux_") {
        ("manylinux", r)
    } else {
        ("musllinux", tag.strip_prefix("musllinux_")?)
    };
    let mut parts = rest.splitn(3, '_');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((family, major, minor, parts.next()?))
}

fn platform_fits(wheel: &str, wanted: &str) -> bool {
    if wheel == "any" || wheel == wanted {
        return true;
    }
    match (linux_tag(wheel), linux_tag(wanted)) {
        (Some((f, a, b, arch)), Some((wf, wa, wb, warch))) => {
            f == wf && arch == warch && (a, b) <= (wa, wb)
        }
        _ => false,
    }
}

fn python_fits(w: &WheelName, wanted: &str) -> bool {
    let Some((major, minor)) = wanted.split_once('.') else {
        return false;
    };
    let Ok(minor_n) = minor.parse::<u32>() else {
        return false;
    };
    w.python.split('.').any(|tag| {
        let Some(v) = tag.strip_prefix("py").or_else(|| tag.strip_prefix("cp")) else {
            return false;
        };
        if v == major {
            return true;
        }
        let Some(tag_minor) = v.strip_prefix(major).and_then(|m| m.parse::<u32>().ok()) else {
            return false;
        };
        tag_minor == minor_n || (w.abi == "abi3" && tag.starts_with("cp") && tag_minor <= minor_n)
    })
}

impl Selection {
    /// True when `filename` is an sdist, or a wheel this selection takes.
    pub fn takes(&self, filename: &str) -> bool {
        let Ok(w) = parse_wheel_filename(filename) else {
            return true;
        };
        let py = self.python_versions.is_empty()
            || self.python_versions.iter().any(|v| python_fits(&w, v));
        let plat = self.platforms.is_empty()
            || w.platform
                .split('.')
                .any(|t| self.platforms.iter().any(|p| platform_fits(t, p)));
        py && plat
    }
}

fn same_version(a: &str, b: &str) -> bool {
    let n = |v: &str| {
        v.trim_start_matches(['v', 'V'])
            .to_ascii_lowercase()
            .replace(['-', '_'], ".")
    };
    n(a) == n(b)
}

/// The files of `pin` on the index page, chosen by hash, version and selection.
fn choose(pin: &Pinned, files: Vec<IndexFile>, sel: &Selection) -> Result<Vec<IndexFile>, String> {
    let of_version: Vec<IndexFile> = files
        .into_iter()
        .filter(|f| {
            if pin.sha256.is_empty() {
                filename_version(&f.filename).is_some_and(|v| same_version(&v, &pin.version))
            } else {
                f.sha256.as_ref().is_some_and(|h| pin.sha256.contains(h))
            }
        })
        .collect();
    if of_version.is_empty() {
        return Err(if pin.sha256.is_empty() {
            format!(
                "{}=={} does not exist upstream (no file of that version)",
                pin.name, pin.version
            )
        } else {
            format!(
                "hash mismatch for {}=={}: no file upstream has a SHA-256 the lockfile allows",
                pin.name, pin.version
            )
        });
    }
    let chosen: Vec<IndexFile> = of_version
        .iter()
        .filter(|f| sel.takes(&f.filename))
        .cloned()
        .collect();
    if chosen.is_empty() {
        return Err(format!(
            "{}=={}: none of its files ({}) fits the selected Python versions and platforms",
            pin.name,
            pin.version,
            of_version
                .iter()
                .map(|f| f.filename.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(chosen)
}

/// Mirrors every pinned project version from the simple index at `index`.
pub async fn mirror(
    bundle: Arc<Bundle>,
    pins: Vec<Pinned>,
    index: &str,
    sel: &Selection,
    client: &Client,
    opts: &Options,
    watch: &dyn Watch,
) -> Report {
    let index = index.trim_end_matches('/').to_string();
    // first the project pages, which say which files there are
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let mut pages = Vec::new();
    for pin in pins {
        let (c, sem, index, sel) = (client.clone(), sem.clone(), index.clone(), sel.clone());
        pages.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            let url = format!("{index}/{}/", normalize(&pin.name));
            let listed = match c.bytes_as(&url, Some(simple::ACCEPT), 64 << 20).await {
                Ok((body, ct)) => simple::parse(&body, &ct, &url),
                Err(FetchError::NotFound(_)) => {
                    Err(format!("{} does not exist upstream ({url})", pin.name))
                }
                Err(e) => Err(e.to_string()),
            };
            let chosen = listed.and_then(|files| choose(&pin, files, &sel));
            (pin, chosen)
        }));
    }
    let mut report = Report::default();
    let mut files = Vec::new();
    for p in pages {
        let (pin, chosen) = p.await.expect("index task panicked");
        match chosen {
            Ok(fs) => files.extend(fs.into_iter().map(|f| {
                (
                    format!("{}=={} {}", pin.name, pin.version, f.filename),
                    (normalize(&pin.name), f),
                )
            })),
            Err(e) => {
                report.items.push(Item {
                    ecosystem: "pypi",
                    name: format!("{}=={}", pin.name, pin.version),
                    outcome: Outcome::Failed,
                    bytes: 0,
                    error: Some(e),
                });
            }
        }
    }
    if !report.items.is_empty() && !opts.keep_going {
        return report;
    }
    let b = bundle.clone();
    let client = client.clone();
    let r = super::run(
        "pypi",
        files,
        opts,
        watch,
        move |(project, f): &(String, IndexFile)| {
            matches!(crate::registry::pypi::file(&b, project, &f.filename), Ok(Some(have))
                if f.sha256.as_deref().is_none_or(|h| have.digest.hex() == h))
        },
        move |(_, f)| {
            let (b, c) = (bundle.clone(), client.clone());
            async move { one(&b, &f, &c).await.map(Some).map_err(|e| e.to_string()) }
        },
    )
    .await;
    report.items.extend(r.items);
    report
}

/// Fetches one file an index lists (and its core metadata file when the index offers
/// one), checks it against the index's SHA-256 and stores it; returns the bytes fetched.
pub(crate) async fn one(b: &Bundle, f: &IndexFile, c: &Client) -> Result<u64, Failure> {
    let want = f.sha256.clone().ok_or_else(|| {
        format!(
            "{}: the index publishes no SHA-256 for it, so it cannot be checked",
            f.url
        )
    })?;
    if f.filename.contains(['/', '\\']) || f.filename.starts_with('.') {
        return Err(Failure::Refused(format!(
            "{}: the index names it {:?}, not a plain file name",
            f.url, f.filename
        )));
    }
    let dir_parent = b.work_dir().map_err(|e| e.to_string())?;
    let dir = tempfile::Builder::new()
        .prefix("mirror-pypi-")
        .tempdir_in(&dir_parent)
        .map_err(|e| format!("temp dir in {}: {e}", dir_parent.display()))?;
    let path = dir.path().join(&f.filename);
    let mut file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (bytes, got) = c.to_file_sha256(&f.url, &mut file).await?;
    drop(file);
    if got != want {
        return Err(Failure::Refused(format!(
            "hash mismatch for {}: the index says sha256:{want}, the download is sha256:{got}",
            f.filename
        )));
    }
    let metadata = match &f.metadata {
        Some(m) => Some(core_metadata(m, &f.filename, c).await?),
        None => None,
    };
    tokio::task::block_in_place(|| -> Result<u64, Failure> {
        super::keep(b, || {
            crate::ecosystems::pypi::import_with_metadata(b, &path, metadata.as_deref()).map_err(
                |e| {
                    // the temporary directory means nothing to the reader; the file name does
                    e.to_string()
                        .replace(&format!("{}/", dir.path().display()), "")
                },
            )
        })?;
        Ok(bytes)
    })
}

/// Fetches the core metadata file the index offers beside `filename`, checked against the
/// SHA-256 the index gives for it.
async fn core_metadata(
    m: &simple::CoreMetadataFile,
    filename: &str,
    c: &Client,
) -> Result<Vec<u8>, String> {
    let bytes = c
        .bytes(&m.url, 16 << 20)
        .await
        .map_err(|e| format!("core metadata of {filename}: {e}"))?;
    if let Some(want) = &m.sha256 {
        let got = crate::digest::Digest::of(&bytes);
        if got.hex() != want {
            return Err(format!(
                "hash mismatch for {filename}.metadata: the index says sha256:{want}, the download is {got}"
            ));
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_selection() {
        let sel = Selection {
            python_versions: vec!["3.11".into()],
            platforms: vec!["manylinux_2_28_x86_64".into()],
        };
        for yes in [
            "x-1.0.tar.gz",
            "x-1.0-py3-none-any.whl",
            "x-1.0-py2.py3-none-any.whl",
            "x-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "x-1.0-cp38-abi3-manylinux1_x86_64.whl",
        ] {
            assert!(sel.takes(yes), "{yes}");
        }
        for no in [
            "x-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            "x-1.0-cp311-cp311-manylinux_2_34_x86_64.whl",
            "x-1.0-cp311-cp311-manylinux_2_17_aarch64.whl",
            "x-1.0-cp311-cp311-win_amd64.whl",
            "x-1.0-cp311-cp311-musllinux_1_1_x86_64.whl",
            "x-1.0-py2-none-any.whl",
        ] {
            assert!(!sel.takes(no), "{no}");
        }
        assert!(Selection::default().takes("x-1.0-cp311-cp311-win_amd64.whl"));
    }

    #[test]
    fn choosing_by_hash_and_version() {
        let f = |name: &str, h: &str| IndexFile {
            filename: name.into(),
            url: format!("http://h/{name}"),
            sha256: Some(h.into()),
            metadata: None,
            ..Default::default()
        };
        let files = vec![
            f("x-1.0.tar.gz", "aa"),
            f("x-1.0-py3-none-any.whl", "bb"),
            f("x-2.0.tar.gz", "cc"),
        ];
        let pin = |h: &[&str]| Pinned {
            name: "x".into(),
            version: "1.0".into(),
            sha256: h.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(
            choose(&pin(&[]), files.clone(), &Selection::default())
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            choose(&pin(&["bb"]), files.clone(), &Selection::default()).unwrap()[0].filename,
            "x-1.0-py3-none-any.whl"
        );
        assert!(choose(&pin(&["dd"]), files.clone(), &Selection::default())
            .unwrap_err()
            .starts_with("hash mismatch for x==1.0"));
        let none = Pinned {
            version: "3.0".into(),
            ..pin(&[])
        };
        assert!(choose(&none, files, &Selection::default())
            .unwrap_err()
            .contains("does not exist upstream"));
    }
}
