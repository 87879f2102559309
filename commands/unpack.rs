//! `nora unpack`: take pack volumes into the bundle.

use crate::common::{self, Global, OnConflict};
use crate::diagnostics::{Outcome, INCOMPLETE};
use nora::pack::unpack::{UnpackOptions, UnpackReport};
use nora::pack::ConflictPolicy;
use std::path::PathBuf;
use std::process::ExitCode;

/// Verify pack volumes and add their content to the bundle.
///
/// Volumes can come in any order and over several runs; each is verified entry by entry
/// while streaming and committed only once whole. Refs land when every volume is in;
/// until then the command exits 4 and says which volumes are missing. Refs that differ
/// from the bundle's are settled by --on-conflict, --yes (replace), or a prompt on a
/// terminal; otherwise nothing changes and the command exits 5.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Pack volume files.
    #[arg(required_unless_present = "discard")]
    volumes: Vec<PathBuf>,
    /// Drop a partly unpacked pack that can never complete (a volume was lost): PACK-ID or
    /// its first 8+ hex digits, as `nora verify` lists them. Its blobs are left to gc.
    #[arg(long, value_name = "PACK-ID", conflicts_with_all = ["volumes", "on_conflict", "yes", "require_signature"])]
    discard: Option<String>,
    /// Settle conflicting refs: keep the bundle's or replace them with the pack's.
    #[arg(long, value_enum, value_name = "POLICY")]
    on_conflict: Option<OnConflict>,
    /// Do not ask; replace conflicting refs with the pack's.
    #[arg(short = 'y', long)]
    yes: bool,
    /// Refuse volumes not signed with this public key (minisign .pub file or base64).
    #[arg(long, value_name = "PUBKEY")]
    require_signature: Option<String>,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let bundle = g.open()?;
    if let Some(id) = &a.discard {
        let p = nora::pack::unpack::discard(&bundle, id)?;
        if g.json {
            g.print_json(&p)?;
        } else {
            g.say(format!(
                "discarded pack {}: {} of {} volume(s) had arrived; its {} blob(s) are left to gc",
                p.pack_id,
                p.received.len(),
                p.volumes,
                p.blobs
            ));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let pk = a
        .require_signature
        .as_deref()
        .map(nora::pack::sign::load_public)
        .transpose()?;
    let report = run_unpack(
        &bundle,
        &a.volumes,
        a.on_conflict,
        a.yes,
        pk.as_ref(),
        false,
        g,
    )?;
    report_outcome(&report, g)
}

/// Shared by unpack and restore.
pub fn run_unpack(
    bundle: &nora::Bundle,
    volumes: &[PathBuf],
    on_conflict: Option<OnConflict>,
    yes: bool,
    pk: Option<&minisign::PublicKey>,
    restore: bool,
    g: &Global,
) -> anyhow::Result<UnpackReport> {
    let ask = common::ask;
    let policy = on_conflict.map(ConflictPolicy::from).or(if yes {
        Some(ConflictPolicy::Replace)
    } else {
        None
    });
    let opts = UnpackOptions {
        on_conflict: policy,
        require_signature: pk,
        ask: if common::interactive() && !g.json {
            Some(&ask)
        } else {
            None
        },
        restore,
    };
    let progress = g.progress();
    Ok(nora::pack::unpack(
        bundle,
        volumes,
        &opts,
        progress.as_ref(),
    )?)
}

/// Prints the report and chooses the exit code.
pub fn report_outcome(r: &UnpackReport, g: &Global) -> Outcome {
    if g.json {
        g.print_json(r)?;
    } else if r.already {
        g.say(format!(
            "pack {} was already unpacked into this bundle; nothing to do",
            &r.pack_id[..16]
        ));
    } else {
        g.say(format!(
            "pack {}: read volume(s) {:?} of {}, {} new blob(s), {} verified",
            &r.pack_id[..16],
            r.read,
            r.volumes,
            r.blobs_added,
            common::size(r.bytes)
        ));
        if r.complete {
            g.say(format!(
                "complete: {} ref(s) added, {} unchanged, {} replaced, {} kept",
                r.refs_added, r.refs_unchanged, r.refs_replaced, r.refs_kept
            ));
        }
    }
    if !r.complete {
        let missing: Vec<String> = r.missing.iter().map(|v| v.to_string()).collect();
        g.note(format!(
            "pack {} is incomplete: waiting for volume(s) {} of {}; its refs land when they are unpacked",
            &r.pack_id[..16],
            missing.join(", "),
            r.volumes
        ));
        return Ok(ExitCode::from(INCOMPLETE));
    }
    Ok(ExitCode::SUCCESS)
}
