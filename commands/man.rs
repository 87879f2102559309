//! `nora man`: man pages, generated from the clap definitions.

use crate::diagnostics::Outcome;
use clap::CommandFactory;
use std::path::PathBuf;
use std::process::ExitCode;

/// Write man pages (nora.1 and nora-VERB.1 for each verb) into DIR.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory to write the pages into.
    dir: PathBuf,
}

pub fn run(a: Args) -> Outcome {
    std::fs::create_dir_all(&a.dir)?;
    let cmd = crate::Cli::command();
    clap_mangen::generate_to(cmd, &a.dir)?;
    Ok(ExitCode::SUCCESS)
}
