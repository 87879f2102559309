//! `nora pack`: cut a pack (full, or a delta against a receipt).

use crate::common::{size, Global};
use crate::diagnostics::Outcome;
use nora::pack::{Compression, PackOptions, Receipt};
use std::path::PathBuf;
use std::process::ExitCode;

/// Write the bundle (or what a receipt says the far side lacks) into a pack.
///
/// A pack is a zstd (or gzip) tar stream with its manifest first; the same bundle and
/// options give byte-identical files. --split writes numbered volumes, each smaller than
/// SIZE and checkable alone (4G suits FAT32); blobs larger than a volume travel in parts.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output file; volumes are named OUT with .001, .002… before .tar.zst.
    #[arg(short, long, value_name = "OUT", required_unless_present = "dry_run")]
    output: Option<PathBuf>,
    /// Leave out what this receipt (from `nora receipt` on the far side) says is held.
    #[arg(long, value_name = "RECEIPT")]
    since: Option<PathBuf>,
    /// Split into volumes smaller than SIZE (e.g. 4G, 700M; binary units).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    split: Option<u64>,
    /// Compress with gzip instead of zstd.
    #[arg(long)]
    gzip: bool,
    /// Sign every volume manifest with this minisign secret key.
    #[arg(long, value_name = "KEY")]
    sign: Option<PathBuf>,
    /// Print what would go in and its size; write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Parses `4G`, `700M`, `1048576` as binary sizes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let with_unit = if t.chars().last().is_some_and(|c| c.is_ascii_alphabetic())
        && !t.to_ascii_lowercase().ends_with("ib")
    {
        format!("{}iB", t.trim_end_matches(['b', 'B']))
    } else {
        t.to_string()
    };
    with_unit
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| format!("'{s}' is not a size like 4G or 700M: {e}"))
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let bundle = g.open()?;
    let receipt = a.since.as_deref().map(Receipt::read).transpose()?;
    let key = a
        .sign
        .as_deref()
        .map(nora::pack::sign::load_secret)
        .transpose()?;
    let opts = PackOptions {
        output: a
            .output
            .unwrap_or_else(|| PathBuf::from("nora-pack.tar.zst")),
        since: receipt.as_ref(),
        split: a.split,
        compression: if a.gzip {
            Compression::Gzip
        } else {
            Compression::Zstd
        },
        sign: key.as_ref(),
        dry_run: a.dry_run,
        purpose: "pack",
    };
    let progress = g.progress();
    let report = nora::pack::pack(&bundle, &opts, progress.as_ref())?;
    if g.json {
        g.print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    if a.dry_run {
        for e in &report.entries {
            g.say(e);
        }
    } else {
        for f in &report.files {
            g.say(format!("wrote {}", f.display()));
        }
    }
    g.note(format!(
        "pack {}: {} ref(s), {} blob(s), {} content{}{}, {} volume(s){}",
        &report.pack_id[..16],
        report.refs,
        report.blobs,
        size(report.bytes),
        if a.dry_run {
            String::new()
        } else {
            format!(" in {}", size(report.written))
        },
        if report.requires > 0 {
            format!(", {} blob(s) expected on the far side", report.requires)
        } else {
            String::new()
        },
        report.files.len(),
        if a.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    ));
    Ok(ExitCode::SUCCESS)
}
