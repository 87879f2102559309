//! `nora restore`: bring a backup back into a bundle.

use crate::common::{Global, OnConflict};
use crate::diagnostics::Outcome;
use std::path::PathBuf;

/// Restore a backup made by `nora backup` (or any full pack).
///
/// Into an empty bundle it simply unpacks. Into a non-empty bundle it shows what would
/// change and asks: merge (keep the bundle's version of conflicting refs), replace (take
/// the backup's), or abort. Without a terminal it never asks: it fails (exit 5 when refs
/// conflict) unless --yes or --on-conflict says what to do.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Backup file(s).
    #[arg(required = true)]
    backup: Vec<PathBuf>,
    /// Settle conflicting refs without asking.
    #[arg(long, value_enum, value_name = "POLICY")]
    on_conflict: Option<OnConflict>,
    /// Do not ask; take the backup's version of conflicting refs.
    #[arg(short = 'y', long)]
    yes: bool,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let (bundle, _) = nora::Bundle::init(&g.bundle)?;
    let report =
        crate::unpack::run_unpack(&bundle, &a.backup, a.on_conflict, a.yes, None, true, g)?;
    crate::unpack::report_outcome(&report, g)
}
