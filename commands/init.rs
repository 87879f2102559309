//! `nora init`: create a bundle directory.

use crate::common::Global;
use crate::diagnostics::Outcome;
use std::path::PathBuf;
use std::process::ExitCode;

/// Create an empty bundle (or confirm an existing one).
///
/// Makes DIR (default: --bundle) with nora-bundle.toml, blobs/, refs/ and the OCI layout
/// marker. An existing bundle is left as it is; a non-empty directory that is not a bundle
/// is refused.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory to create the bundle in (default: the --bundle directory).
    dir: Option<PathBuf>,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let dir = a.dir.unwrap_or_else(|| g.bundle.clone());
    let (b, created) = nora::Bundle::init(&dir)?;
    if g.json {
        g.print_json(&serde_json::json!({"bundle": dir, "id": b.id(), "created": created}))?;
    } else if created {
        g.say(format!("initialized bundle {} ({})", dir.display(), b.id()));
    } else {
        g.say(format!(
            "{} is already a bundle ({})",
            dir.display(),
            b.id()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
