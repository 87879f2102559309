//! `nora mirror`: fill the bundle with what lockfiles pin, from upstream registries.

use crate::common::Global;
use crate::diagnostics::Outcome;
use anyhow::Context;
use nora::mirror::{self, Outcome as Status};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Fill the bundle with what lockfiles pin, fetched from upstream registries.
///
/// Every artifact is checked against the hash its lockfile pins before its ref is written;
/// what the bundle already holds is skipped, so an interrupted run resumes and a newer
/// lockfile fetches only what is new. Exits 1 when anything failed (with --keep-going the
/// rest is still mirrored). Upstream credentials come from the environment only
/// (NORA_GO_PROXY_TOKEN, NORA_CARGO_TOKEN, sent as Bearer tokens) and are never written or
/// logged.
///
/// This release mirrors Go modules (go.sum) and registry crates (Cargo.lock); the other
/// ecosystems follow.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A go.sum whose modules to mirror (repeatable).
    #[arg(long = "go-sum", value_name = "FILE")]
    go_sum: Vec<PathBuf>,
    /// GOPROXY to fetch modules from.
    #[arg(
        long,
        env = "NORA_GO_PROXY",
        value_name = "URL",
        default_value = "https://proxy.golang.org"
    )]
    go_proxy: String,
    /// A Cargo.lock whose registry crates to mirror (repeatable).
    #[arg(long = "cargo-lock", value_name = "FILE")]
    cargo_lock: Vec<PathBuf>,
    /// Sparse index to fetch crates.io's crates from (crates of other sparse registries come
    /// from the registry their lock entry names).
    #[arg(
        long,
        env = "NORA_CARGO_INDEX",
        value_name = "URL",
        default_value = "sparse+https://index.crates.io/"
    )]
    cargo_index: String,
    /// Artifacts fetched at once.
    #[arg(long, short = 'j', default_value_t = 8)]
    jobs: usize,
    /// List what would be fetched; fetch nothing.
    #[arg(long)]
    dry_run: bool,
    /// Mirror the rest after a failure (the exit code still reports it).
    #[arg(long)]
    keep_going: bool,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    anyhow::ensure!(
        !a.go_sum.is_empty() || !a.cargo_lock.is_empty(),
        "nothing to mirror: give --go-sum FILE or --cargo-lock FILE"
    );
    let bundle = Arc::new(g.open()?);
    let mut crates = Vec::new();
    let mut unmirrorable = Vec::new();
    for f in &a.cargo_lock {
        let text = std::fs::read_to_string(f).with_context(|| format!("read {}", f.display()))?;
        let (p, u) = nora::lockfiles::cargo_lock::parse(&text, &f.display().to_string())?;
        crates.extend(p);
        unmirrorable.extend(u);
    }
    crates.sort_by(|x, y| (&x.name, &x.version).cmp(&(&y.name, &y.version)));
    crates.dedup_by(|x, y| x.name == y.name && x.version == y.version);
    let mut pins = Vec::new();
    for f in &a.go_sum {
        let text = std::fs::read_to_string(f).with_context(|| format!("read {}", f.display()))?;
        pins.extend(nora::lockfiles::go_sum::parse(
            &text,
            &f.display().to_string(),
        )?);
    }
    pins.sort_by(|x, y| (&x.module, &x.version).cmp(&(&y.module, &y.version)));
    pins.dedup_by(|x, y| x.module == y.module && x.version == y.version);
    let go_client = nora::upstream::Client::new("NORA_GO_PROXY_TOKEN")?;
    let cargo_client = nora::upstream::Client::new("NORA_CARGO_TOKEN")?;
    let opts = mirror::Options {
        jobs: a.jobs,
        dry_run: a.dry_run,
        keep_going: a.keep_going,
    };
    let progress = g.progress();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    let mut report = mirror::Report::default();
    for u in unmirrorable {
        report.items.push(mirror::Item {
            ecosystem: "cargo",
            name: u.name,
            outcome: Status::Failed,
            bytes: 0,
            error: Some(format!("not mirrorable: {}", u.reason)),
        });
    }
    if !crates.is_empty() {
        let r = runtime.block_on(mirror::cargo::mirror(
            bundle.clone(),
            crates,
            &a.cargo_index,
            &cargo_client,
            &opts,
            progress.as_ref(),
        ));
        report.items.extend(r.items);
    }
    if !pins.is_empty() {
        let r = runtime.block_on(mirror::go::mirror(
            bundle,
            pins,
            &a.go_proxy,
            &go_client,
            &opts,
            progress.as_ref(),
        ));
        report.items.extend(r.items);
    }
    let failed = report.count(Status::Failed);
    if g.json {
        g.print_json(&serde_json::json!({
            "added": report.count(Status::Added),
            "skipped": report.count(Status::Skipped),
            "planned": report.count(Status::Planned),
            "failed": failed,
            "bytes": report.bytes(),
            "items": report.items,
        }))?;
    } else {
        for i in &report.items {
            match i.outcome {
                Status::Added => g.say(format!("added   {}", i.name)),
                Status::Planned => g.say(format!("would fetch {}", i.name)),
                Status::Failed => {
                    eprintln!("failed  {}: {}", i.name, i.error.as_deref().unwrap_or(""))
                }
                Status::Skipped => {}
            }
        }
        g.note(format!(
            "{} added, {} already present, {} failed, {} fetched",
            report.count(Status::Added),
            report.count(Status::Skipped),
            failed,
            bytesize::ByteSize(report.bytes())
        ));
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
