//! `nora mirror`: fill the bundle with what lockfiles pin, from upstream registries.

use crate::common::Global;
use crate::diagnostics::Outcome;
use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use nora::mirror::config::Plan;
use nora::mirror::{self, Outcome as Status};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// Fill the bundle with what lockfiles pin, fetched from upstream registries.
///
/// Inputs come from flags, from a mirror.toml (--config; ./mirror.toml when no input is
/// given), or both: flags add lockfiles and override upstream URLs. Every artifact is
/// checked against the hash its lockfile or upstream publishes before its ref is written;
/// what the bundle already holds is skipped, so an interrupted run resumes and a newer
/// lockfile fetches only what is new. Exits 1 when anything failed (with --keep-going the
/// rest is still mirrored). Upstream credentials come from the environment only
/// (NORA_NPM_TOKEN, NORA_PYPI_TOKEN, NORA_CARGO_TOKEN, NORA_GO_PROXY_TOKEN,
/// NORA_MAVEN_TOKEN, NORA_RAW_TOKEN, sent as Bearer tokens; NORA_OCI_USERNAME and NORA_OCI_PASSWORD for
/// registries' token endpoints) and are never written or logged.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A mirror.toml listing what to mirror and from where.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A package-lock.json, npm-shrinkwrap.json or yarn.lock (repeatable).
    #[arg(long = "npm-lock", value_name = "FILE")]
    npm_lock: Vec<PathBuf>,
    /// An npm package as name[@range] (range or dist-tag; default latest), mirrored with
    /// its dependency tree resolved against the registry (repeatable).
    #[arg(long, value_name = "SPEC")]
    npm: Vec<String>,
    /// npm registry to fetch packages from [default: https://registry.npmjs.org].
    #[arg(long, env = "NORA_NPM_REGISTRY", value_name = "URL")]
    npm_registry: Option<String>,
    /// A requirements file, uv.lock, poetry.lock or pylock.toml (repeatable).
    #[arg(long = "pypi-lock", value_name = "FILE")]
    pypi_lock: Vec<PathBuf>,
    /// PyPI simple index to fetch distributions from [default: https://pypi.org/simple].
    #[arg(long, env = "NORA_PYPI_INDEX", value_name = "URL")]
    pypi_index: Option<String>,
    /// Take only wheels that run on this Python version, e.g. 3.11 (repeatable).
    #[arg(long = "python-version", value_name = "X.Y")]
    python_version: Vec<String>,
    /// Take only wheels for this platform tag, e.g. manylinux_2_17_x86_64 (repeatable).
    #[arg(long = "wheel-platform", value_name = "TAG")]
    wheel_platform: Vec<String>,
    /// A Cargo.lock whose registry crates to mirror (repeatable).
    #[arg(long = "cargo-lock", value_name = "FILE")]
    cargo_lock: Vec<PathBuf>,
    /// Sparse index to fetch crates.io's crates from (crates of other sparse registries come
    /// from the registry their lock entry names) [default: sparse+https://index.crates.io/].
    #[arg(long, env = "NORA_CARGO_INDEX", value_name = "URL")]
    cargo_index: Option<String>,
    /// A go.sum whose modules to mirror (repeatable).
    #[arg(long = "go-sum", value_name = "FILE")]
    go_sum: Vec<PathBuf>,
    /// go.mod whose module graph to mirror, resolved through the proxy (repeatable); the
    /// go.sum beside it is read too, else --go-sumdb is needed to check the modules
    #[arg(long = "go-mod", value_name = "FILE")]
    go_mod: Vec<PathBuf>,
    /// GOPROXY to fetch modules from [default: https://proxy.golang.org].
    #[arg(long, env = "NORA_GO_PROXY", value_name = "URL")]
    go_proxy: Option<String>,
    /// Check Go modules against this checksum database and carry its records and proofs,
    /// so `nora serve` answers GOSUMDB on the far side: `NAME+HASH+KEY [URL]` as GOSUMDB
    /// is written (sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8)
    #[arg(long = "go-sumdb", env = "NORA_GO_SUMDB", value_name = "KEY [URL]")]
    go_sumdb: Option<String>,
    /// Maven coordinates group:artifact:version[:classifier][@type], mirrored with what they
    /// depend on (repeatable).
    #[arg(long, value_name = "GAV")]
    maven: Vec<String>,
    /// A project's pom.xml whose dependencies (and their parents and BOMs) to mirror
    /// (repeatable).
    #[arg(long = "maven-pom", value_name = "FILE")]
    maven_pom: Vec<PathBuf>,
    /// Maven repository to fetch from [default: https://repo.maven.apache.org/maven2].
    #[arg(long, env = "NORA_MAVEN_REPO", value_name = "URL")]
    maven_repo: Option<String>,
    /// A container image to mirror: name[:tag] or name@sha256:… (repeatable). Names without
    /// a registry host are Docker Hub's (library/ for one-component names).
    #[arg(long, value_name = "REF")]
    image: Vec<String>,
    /// Of multi-platform images take only this platform, os/arch[/variant] (repeatable;
    /// default: all).
    #[arg(long, value_name = "OS/ARCH")]
    platform: Vec<String>,
    /// Also mirror the referrers (signatures, SBOMs) of each image.
    #[arg(long)]
    referrers: bool,
    /// A file to fetch, as URL#sha256=HEX; stored under /raw/<host>/<path> (repeatable).
    #[arg(long, value_name = "URL#sha256=HEX")]
    raw: Vec<String>,
    /// Artifacts fetched at once per ecosystem [default: 8].
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Seconds an upstream may stay silent before a fetch gives up (and is retried).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// List what would be fetched; fetch nothing.
    #[arg(long)]
    dry_run: bool,
    /// Mirror the rest after a failure (the exit code still reports it).
    #[arg(long)]
    keep_going: bool,
}

impl Args {
    fn has_inputs(&self) -> bool {
        !(self.npm_lock.is_empty()
            && self.npm.is_empty()
            && self.pypi_lock.is_empty()
            && self.cargo_lock.is_empty()
            && self.go_sum.is_empty()
            && self.go_mod.is_empty()
            && self.raw.is_empty()
            && self.image.is_empty()
            && self.maven.is_empty()
            && self.maven_pom.is_empty())
    }

    /// The mirror.toml (if any) with the flags laid over it.
    fn plan(self) -> anyhow::Result<Plan> {
        let default_file = PathBuf::from("mirror.toml");
        let file = match &self.config {
            Some(f) => Some(f.clone()),
            None if !self.has_inputs() && default_file.is_file() => Some(default_file),
            None => None,
        };
        let mut plan = match &file {
            Some(f) => Plan::load(f)?,
            None => Plan::default(),
        };
        plan.npm.lockfiles.extend(self.npm_lock);
        plan.npm.packages.extend(self.npm);
        plan.pypi.lockfiles.extend(self.pypi_lock);
        plan.pypi.python_versions.extend(self.python_version);
        plan.pypi.platforms.extend(self.wheel_platform);
        plan.cargo.lockfiles.extend(self.cargo_lock);
        plan.go.sums.extend(self.go_sum);
        plan.go.mods.extend(self.go_mod);
        plan.oci.images.extend(self.image);
        plan.maven.artifacts.extend(self.maven);
        plan.maven.poms.extend(self.maven_pom);
        plan.maven.repository = self.maven_repo.or(plan.maven.repository);
        plan.oci.platforms.extend(self.platform);
        plan.oci.referrers |= self.referrers;
        for r in &self.raw {
            plan.raw.push(mirror::raw::Pinned::parse(r)?);
        }
        plan.npm.registry = self.npm_registry.or(plan.npm.registry);
        plan.pypi.index = self.pypi_index.or(plan.pypi.index);
        plan.cargo.index = self.cargo_index.or(plan.cargo.index);
        plan.go.proxy = self.go_proxy.or(plan.go.proxy);
        plan.go.sumdb = self.go_sumdb.or(plan.go.sumdb);
        plan.jobs = self.jobs.or(plan.jobs);
        anyhow::ensure!(
            !plan.is_empty(),
            "nothing to mirror: give lockfiles (--npm-lock, --pypi-lock, --cargo-lock, --go-sum, --go-mod), --npm specs, --maven coordinates or --maven-pom, --image references, --raw URLs, or a mirror.toml (--config FILE)"
        );
        Ok(plan)
    }
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let (dry_run, keep_going, timeout) = (a.dry_run, a.keep_going, a.timeout);
    let plan = a.plan()?;
    let inputs = mirror::Inputs::read(&plan)?;
    let bundle = Arc::new(g.open()?.staged());
    let mut opts = mirror::Options::new(plan.jobs.unwrap_or(8), dry_run, keep_going);
    opts.timeout = std::time::Duration::from_secs(timeout.max(1));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    let quiet = g.json || g.quiet || g.verbose > 0 || !std::io::stderr().is_terminal();
    let watch: Box<dyn mirror::Watch> = if quiet {
        Box::new(mirror::Quiet)
    } else {
        Box::new(Bars::new())
    };
    let report = runtime.block_on(mirror::fetch(bundle, inputs, &plan, &opts, watch.as_ref()))?;
    drop(watch);
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
                Status::Added => g.say(format!("added   {} {}", i.ecosystem, i.name)),
                Status::Planned => g.say(format!("would fetch {} {}", i.ecosystem, i.name)),
                Status::Failed => eprintln!(
                    "failed  {} {}: {}",
                    i.ecosystem,
                    i.name,
                    i.error.as_deref().unwrap_or("")
                ),
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

/// One bar per ecosystem (artifacts done of all) and one for the bytes fetched in total.
struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    per: Mutex<HashMap<&'static str, ProgressBar>>,
}

impl Bars {
    fn new() -> Bars {
        let multi = MultiProgress::new();
        let total = multi.add(ProgressBar::no_length());
        total.set_style(
            ProgressStyle::with_template("{prefix:>8} {bytes} {bytes_per_sec} {elapsed}")
                .expect("static template"),
        );
        total.set_prefix("fetched");
        Bars {
            multi,
            total,
            per: Mutex::default(),
        }
    }
}

impl mirror::Watch for Bars {
    fn start(&self, ecosystem: &'static str, artifacts: u64) {
        let bar = self
            .multi
            .insert_before(&self.total, ProgressBar::new(artifacts));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_prefix(ecosystem);
        self.per.lock().expect("bars").insert(ecosystem, bar);
    }
    fn done(&self, ecosystem: &'static str, bytes: u64) {
        if let Some(b) = self.per.lock().expect("bars").get(ecosystem) {
            b.inc(1);
        }
        self.total.inc(bytes);
    }
    fn finish(&self, ecosystem: &'static str) {
        if let Some(b) = self.per.lock().expect("bars").get(ecosystem) {
            b.finish();
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.total.finish();
    }
}
