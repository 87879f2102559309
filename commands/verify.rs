//! `nora verify`: check a bundle, or a pack's signature and manifests.

use crate::common::{size, Global};
use crate::diagnostics::{Outcome, PROBLEMS};
use std::path::PathBuf;
use std::process::ExitCode;

/// Check every blob's digest, every ref's blobs and OCI graph, and ecosystem hashes.
///
/// Reports each problem with the ref or blob and its file; exits 3 when there is any.
/// With --pack, checks pack volumes instead, each on its own and without touching a
/// bundle: manifest, volume table, every entry's digest and, with --key, the signature.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Check these pack volumes instead of the bundle.
    #[arg(long, value_name = "VOLUME", num_args = 1..)]
    pack: Vec<PathBuf>,
    /// Public key (minisign .pub file or base64) the volumes must be signed with.
    #[arg(long, value_name = "PUBKEY", requires = "pack")]
    key: Option<String>,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    if !a.pack.is_empty() {
        return verify_pack(&a, g);
    }
    let bundle = g.open()?;
    let progress = g.progress();
    let report = nora::verify::verify(&bundle, progress.as_ref())?;
    if g.json {
        g.print_json(&report)?;
    } else {
        for p in &report.problems {
            eprintln!(
                "problem: {}: {} ({})",
                p.subject,
                p.message,
                p.file.display()
            );
        }
        for p in nora::pack::unpack::staged_packs(&bundle) {
            let arrived: Vec<String> = p.received.iter().map(u32::to_string).collect();
            g.note(format!(
                "note: pack {} is partly unpacked: volume(s) {} of {} arrived; unpack the others, or drop it with `nora unpack --discard {}`",
                p.pack_id,
                if arrived.is_empty() { "none".into() } else { arrived.join(", ") },
                p.volumes,
                &p.pack_id[..p.pack_id.len().min(16)]
            ));
        }
        g.say(format!(
            "{} blob(s), {} hashed, {} ref(s): {}",
            report.blobs,
            size(report.bytes),
            report.refs,
            if report.problems.is_empty() {
                "ok".to_string()
            } else {
                format!("{} problem(s)", report.problems.len())
            }
        ));
    }
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(PROBLEMS)
    })
}

fn verify_pack(a: &Args, g: &Global) -> Outcome {
    let key = a
        .key
        .as_deref()
        .map(nora::pack::sign::load_public)
        .transpose()?;
    let mut out = Vec::new();
    for f in &a.pack {
        let head = nora::pack::unpack::read_head(f, key.as_ref())?;
        let signed = head.trusted.clone();
        let checked = nora::pack::unpack::check_volume(&head)?;
        let m = &head.manifest;
        g.say(format!(
            "{}: pack {} volume {}/{}, {} entries, {} verified{}",
            f.display(),
            &m.pack_id[..16],
            m.volume,
            m.header.volumes,
            m.entries.len(),
            crate::common::size(checked),
            match &signed {
                Some(c) => format!(", signature ok ({c})"),
                None if head.signature.is_some() => ", signed (pass --key to check)".into(),
                None => ", unsigned".into(),
            }
        ));
        out.push(serde_json::json!({"file": f, "pack_id": m.pack_id, "volume": m.volume,
            "volumes": m.header.volumes, "entries": m.entries.len(), "signed": head.signature.is_some(),
            "signature_ok": signed.is_some()}));
    }
    if g.json {
        g.print_json(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}
