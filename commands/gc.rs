//! `nora gc`: remove unreferenced blobs and stale temp files.

use crate::common::{size, Global};
use crate::diagnostics::Outcome;
use std::process::ExitCode;

/// Remove blobs no ref reaches and stale temp files.
///
/// Marks from every ref (following OCI manifest graphs) and from partly unpacked packs,
/// then sweeps what is older than the grace period. Safe while other nora processes
/// write: it takes the bundle's exclusive lock, so a ref and the blobs it names are
/// written as one step, and the temp files of running processes (uploads in progress
/// included) are never touched. The grace period is what protects blobs a client stored
/// and names later (an OCI push's layers before its manifest): on a bundle being served,
/// keep it longer than the slowest push.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print what would be removed, remove nothing.
    #[arg(long)]
    dry_run: bool,
    /// Keep unreferenced blobs and temp files younger than this (e.g. 1h, 30m; 0s only for
    /// a bundle nobody is pushing to).
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    grace: std::time::Duration,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let bundle = g.open()?;
    let report = nora::gc::gc(
        &bundle,
        &nora::gc::GcOptions {
            dry_run: a.dry_run,
            grace: a.grace,
        },
    )?;
    if g.json {
        g.print_json(&report)?;
    } else {
        let verb = if a.dry_run { "would remove" } else { "removed" };
        for (d, s) in &report.removed {
            g.say(format!("{verb} {d} ({})", size(*s)));
        }
        for (p, s) in &report.tmp_removed {
            g.say(format!("{verb} {} ({})", p.display(), size(*s)));
        }
        g.say(format!(
            "{} live blob(s); {} {} unreferenced blob(s) and {} temp file(s), {}; {} young blob(s) kept",
            report.live,
            verb,
            report.removed.len(),
            report.tmp_removed.len(),
            size(report.freed),
            report.young
        ));
    }
    Ok(ExitCode::SUCCESS)
}
