//! `nora backup`: a full pack of the bundle, for `nora restore`.

use crate::common::{size, Global};
use crate::diagnostics::Outcome;
use nora::pack::{Compression, PackOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Write a full backup of the bundle (a complete pack marked as a backup).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Backup file to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Split into volumes smaller than SIZE.
    #[arg(long, value_name = "SIZE", value_parser = crate::pack::parse_size)]
    split: Option<u64>,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let bundle = g.open()?;
    let opts = PackOptions {
        output: a.output,
        since: None,
        split: a.split,
        compression: Compression::Zstd,
        sign: None,
        dry_run: false,
        purpose: "backup",
    };
    let progress = g.progress();
    let r = nora::pack::pack(&bundle, &opts, progress.as_ref())?;
    if g.json {
        g.print_json(&r)?;
    } else {
        for f in &r.files {
            g.say(format!("wrote {}", f.display()));
        }
        g.note(format!(
            "backup {}: {} ref(s), {} blob(s), {} in {}",
            &r.pack_id[..16],
            r.refs,
            r.blobs,
            size(r.bytes),
            size(r.written)
        ));
    }
    Ok(ExitCode::SUCCESS)
}
