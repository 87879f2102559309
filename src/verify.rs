//! Integrity checks of a bundle (`nora verify`): every blob's digest, every ref's blobs and
//! OCI graph, and each ecosystem's own hash.

use crate::bundle::graph;
use crate::bundle::refs::RefBody;
use crate::bundle::Bundle;
use crate::digest::{hash_file, Digest};
use crate::progress::Progress;
use crate::Result;
use base64::Engine as _;
use rayon::prelude::*;
use serde::Serialize;
use sha1::Digest as _;
use std::collections::HashSet;
use std::io::Read;
use std::path::PathBuf;

/// One problem found.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// The ref key or blob digest concerned.
    pub subject: String,
    /// The file concerned.
    pub file: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// The outcome of a verification.
#[derive(Debug, Default, Serialize)]
pub struct VerifyReport {
    /// Blobs hashed.
    pub blobs: u64,
    /// Bytes hashed.
    pub bytes: u64,
    /// Refs checked.
    pub refs: u64,
    /// Problems; empty when the bundle is sound.
    pub problems: Vec<Problem>,
    /// Packs whose volumes are not all unpacked yet.
    pub incomplete_unpacks: Vec<String>,
}

/// Verifies the whole bundle; hashing runs on every core.
pub fn verify(bundle: &Bundle, progress: &dyn Progress) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let blobs = bundle.blobs()?;
    let sizes: Vec<u64> = blobs
        .iter()
        .map(|d| {
            std::fs::metadata(bundle.blob_path(d))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .collect();
    progress.start("verify", Some(sizes.iter().sum()));
    let bad_blobs: Vec<Problem> = blobs
        .par_iter()
        .zip(sizes.par_iter())
        .filter_map(|(d, size)| {
            let path = bundle.blob_path(d);
            let r = hash_file(&path);
            progress.advance(*size);
            match r {
                Ok((got, _)) if &got == d => None,
                Ok((got, _)) => Some(Problem {
                    subject: d.to_string(),
                    file: path,
                    message: format!("content hashes to {got}, not to its name"),
                }),
                Err(e) => Some(Problem {
                    subject: d.to_string(),
                    file: path,
                    message: format!("unreadable: {e}"),
                }),
            }
        })
        .collect();
    progress.finish();
    report.blobs = blobs.len() as u64;
    report.bytes = sizes.iter().sum();
    let corrupt: HashSet<String> = bad_blobs.iter().map(|p| p.subject.clone()).collect();
    report.problems.extend(bad_blobs);
    stray_files(bundle, &mut report);

    let refs = bundle.list_refs()?;
    report.refs = refs.len() as u64;
    let ref_problems: Vec<Problem> = refs
        .par_iter()
        .flat_map_iter(|(key, rec)| {
            let file = bundle.layout().ref_file(key);
            let mut out = Vec::new();
            match rec {
                Err(e) => out.push(Problem {
                    subject: key.to_string(),
                    file,
                    message: e.to_string(),
                }),
                Ok(rec) => {
                    let graph = graph::problems(bundle, &rec.body);
                    let complete = graph.is_empty();
                    out.extend(graph.into_iter().map(|p| Problem {
                        subject: key.to_string(),
                        file: file.clone(),
                        message: p.to_string(),
                    }));
                    if complete
                        && !rec
                            .body
                            .blobs()
                            .iter()
                            .any(|d| corrupt.contains(&d.to_string()))
                    {
                        if let Err(msg) = ecosystem_hash(bundle, &rec.body) {
                            out.push(Problem {
                                subject: key.to_string(),
                                file,
                                message: msg,
                            });
                        }
                    }
                }
            }
            out
        })
        .collect();
    report.problems.extend(ref_problems);
    if let Ok(rd) = std::fs::read_dir(bundle.layout().staging_dir()) {
        report.incomplete_unpacks = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        report.incomplete_unpacks.sort();
    }
    Ok(report)
}

fn stray_files(bundle: &Bundle, report: &mut VerifyReport) {
    let dir = bundle.layout().blob_dir();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if Digest::from_hex(&name).is_err() {
                report.problems.push(Problem {
                    subject: name,
                    file: e.path(),
                    message:
                        "not a blob: file names in blobs/sha256 must be 64 lowercase hex digits"
                            .into(),
                });
            }
        }
    }
}

/// sha1, md5 and sha512 of a blob in one pass.
fn multi_hash(bundle: &Bundle, d: &Digest) -> std::io::Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let mut f =
        std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(bundle.blob_path(d))?);
    let (mut s1, mut m5, mut s512) = (sha1::Sha1::new(), md5::Md5::new(), sha2::Sha512::new());
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        s1.update(&buf[..n]);
        m5.update(&buf[..n]);
        s512.update(&buf[..n]);
    }
    Ok((
        s1.finalize().to_vec(),
        m5.finalize().to_vec(),
        s512.finalize().to_vec(),
    ))
}

/// Checks that the go.mod blob `d` hashes to the `h1:` its ref records.
fn go_mod_hash(bundle: &Bundle, d: &crate::digest::Digest, recorded: &str) -> Result<(), String> {
    let m = bundle.read_blob(d).map_err(|e| e.to_string())?;
    let mh = crate::ecosystems::go::h1_mod(&m);
    if mh != recorded {
        return Err(format!(
            "Go go.mod hash {mh} does not match the recorded {recorded}"
        ));
    }
    Ok(())
}

fn ecosystem_hash(bundle: &Bundle, body: &RefBody) -> std::result::Result<(), String> {
    let io = |e: std::io::Error| format!("unreadable: {e}");
    match body {
        RefBody::NpmVersion(v) => {
            let (sha1, _, sha512) = multi_hash(bundle, &v.tarball).map_err(io)?;
            let b64 = base64::engine::general_purpose::STANDARD;
            let ok = v
                .integrity
                .split_whitespace()
                .any(|sri| match sri.split_once('-') {
                    Some(("sha512", h)) => b64.decode(h).map(|h| h == sha512).unwrap_or(false),
                    Some(("sha1", h)) => b64.decode(h).map(|h| h == sha1).unwrap_or(false),
                    _ => false,
                });
            if !ok {
                return Err(format!(
                    "npm integrity {} does not match the tarball {}",
                    v.integrity, v.tarball
                ));
            }
            if v.shasum != hex::encode(&sha1) {
                return Err(format!(
                    "npm shasum {} does not match the tarball (sha1 {})",
                    v.shasum,
                    hex::encode(&sha1)
                ));
            }
        }
        RefBody::CargoVersion(c) => {
            let cksum = c.index.get("cksum").and_then(|x| x.as_str()).unwrap_or("");
            if cksum != c.crate_file.hex() {
                return Err(format!(
                    "Cargo cksum {cksum} does not match the .crate {}",
                    c.crate_file
                ));
            }
        }
        RefBody::GoVersion(g) => {
            let zip = std::fs::File::open(bundle.blob_path(&g.zip)).map_err(io)?;
            let h1 = crate::ecosystems::go::h1_zip(std::io::BufReader::new(zip))
                .map_err(|e| e.to_string())?;
            if h1 != g.h1 {
                return Err(format!(
                    "Go zip hash {h1} does not match the recorded {}",
                    g.h1
                ));
            }
            go_mod_hash(bundle, &g.mod_file, &g.mod_h1)?;
        }
        RefBody::GoMod(g) => {
            go_mod_hash(bundle, &g.mod_file, &g.mod_h1)?;
        }
        RefBody::GoSumdbTree(t) => {
            let v = crate::sumdb::note::Verifier::parse(&t.key)?;
            let note = bundle.read_blob(&t.note).map_err(|e| e.to_string())?;
            let tree = crate::sumdb::note::parse_tree(v.open(&note)?)?;
            if tree.n != t.size {
                return Err(format!(
                    "the signed tree note is of {} records, the record says {}",
                    tree.n, t.size
                ));
            }
        }
        RefBody::MavenFile(m) => {
            let (sha1, md5, sha512) = multi_hash(bundle, &m.digest).map_err(io)?;
            if hex::encode(sha1) != m.sha1
                || hex::encode(md5) != m.md5
                || hex::encode(sha512) != m.sha512
            {
                return Err(format!(
                    "Maven checksums recorded for {} do not match the file",
                    m.path
                ));
            }
        }
        RefBody::PypiFile(f) if f.filename.is_empty() => {
            return Err("PyPI file without a file name".into())
        }
        _ => {}
    }
    Ok(())
}
