//! `nora completions`: shell completion scripts, generated from the clap definitions.

use crate::diagnostics::Outcome;
use clap::CommandFactory;
use std::path::PathBuf;
use std::process::ExitCode;

/// Print a shell completion script, or write all of them into a directory.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Shell to print the script for.
    #[arg(value_enum, required_unless_present = "dir")]
    shell: Option<clap_complete::Shell>,
    /// Write scripts for bash, zsh, fish, powershell and elvish into DIR.
    #[arg(long, value_name = "DIR", conflicts_with = "shell")]
    dir: Option<PathBuf>,
}

pub fn run(a: Args) -> Outcome {
    let mut cmd = crate::Cli::command();
    if let Some(dir) = a.dir {
        std::fs::create_dir_all(&dir)?;
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
            clap_complete::Shell::PowerShell,
            clap_complete::Shell::Elvish,
        ] {
            clap_complete::generate_to(shell, &mut cmd, "nora", &dir)?;
        }
    } else if let Some(shell) = a.shell {
        clap_complete::generate(shell, &mut cmd, "nora", &mut std::io::stdout());
    }
    Ok(ExitCode::SUCCESS)
}
