//! `nora receipt`: what this bundle holds, to carry back to the connected side.

use crate::common::{size, Global};
use crate::diagnostics::Outcome;
use std::path::PathBuf;
use std::process::ExitCode;

/// Write a receipt of what the bundle holds, for `nora pack --since` on the other side.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Receipt file to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let bundle = g.open()?;
    let r = nora::pack::Receipt::of(&bundle)?;
    let id = r.write(&a.output)?;
    let len = std::fs::metadata(&a.output).map(|m| m.len()).unwrap_or(0);
    if g.json {
        g.print_json(&serde_json::json!({"file": a.output, "id": id, "blobs": r.blobs.len(), "refs": r.refs.len(), "size": len}))?;
    } else {
        g.say(format!(
            "wrote {} ({}): {} ref(s), {} blob(s), receipt {}",
            a.output.display(),
            size(len),
            r.refs.len(),
            r.blobs.len(),
            &id[..16]
        ));
    }
    Ok(ExitCode::SUCCESS)
}
