//! Flags every verb shares, output helpers, the terminal progress bar and the conflict prompt.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use nora::pack::unpack::{ConflictPolicy, ConflictSummary, Decision};
use nora::progress::Progress;
use nora::Bundle;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Flags shared by all verbs.
#[derive(clap::Args, Debug)]
pub struct Global {
    /// Bundle directory to work on.
    #[arg(
        long,
        global = true,
        env = "NORA_BUNDLE",
        default_value = "./nora-bundle",
        value_name = "DIR"
    )]
    pub bundle: PathBuf,
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log more (repeat for debug logs); logs go to stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// True when `--bundle` or `NORA_BUNDLE` was given rather than defaulted.
    #[arg(skip)]
    pub bundle_explicit: bool,
}

impl Global {
    /// Opens the bundle named by `--bundle`.
    pub fn open(&self) -> anyhow::Result<Bundle> {
        Ok(Bundle::open(&self.bundle)?)
    }
    /// Prints a line of text output unless `--json` or `--quiet`.
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.json && !self.quiet {
            out(line.as_ref());
        }
    }
    /// Prints a note on stderr unless `--quiet`.
    pub fn note(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }
    /// Prints a value as JSON on stdout.
    pub fn print_json(&self, v: &impl serde::Serialize) -> anyhow::Result<()> {
        out(&serde_json::to_string_pretty(v).context("serialize report")?);
        Ok(())
    }
    /// A progress reporter: a bar on a terminal, nothing otherwise.
    pub fn progress(&self) -> Box<dyn Progress> {
        if self.json || self.quiet || self.verbose > 0 || !std::io::stderr().is_terminal() {
            Box::new(nora::progress::Silent)
        } else {
            Box::new(Bar(ProgressBar::hidden()))
        }
    }
}

/// Exit code when stdout was closed early (as a shell reports a process SIGPIPE ended).
pub const BROKEN_PIPE: i32 = 141;

/// Writes a line to stdout. When the reader has gone (`nora ls | head`), exits quietly with
/// [`BROKEN_PIPE`] instead of panicking.
pub fn out(line: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{line}").and_then(|_| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(BROKEN_PIPE);
        }
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(1);
    }
}

/// Sets up `tracing` logs on stderr (`NORA_LOG` overrides the level).
pub fn init_logging(g: &Global) {
    let level = match g.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("NORA_LOG").unwrap_or_else(|_| level.into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Sets up the server's logs on stderr: request logs at `info` unless `-q`, as text or JSON
/// lines (`NORA_LOG` overrides the level).
pub fn init_server_logging(g: &Global, format: nora::serve::config::LogFormat) {
    let level = match (g.quiet, g.verbose) {
        (true, _) => "warn",
        (_, 0) => "info",
        _ => "debug",
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("NORA_LOG").unwrap_or_else(|_| level.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        nora::serve::config::LogFormat::Json => builder.json().try_init(),
        nora::serve::config::LogFormat::Text => builder.try_init(),
    };
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, phase: &str, total: Option<u64>) {
        self.0
            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        self.0.set_length(total.unwrap_or(0));
        self.0.set_position(0);
        self.0.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        self.0.set_prefix(phase.to_string());
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
    fn note(&self, msg: &str) {
        self.0.println(msg);
    }
}

/// Human-readable size.
pub fn size(n: u64) -> String {
    bytesize::ByteSize(n).display().iec().to_string()
}

/// `--on-conflict` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum OnConflict {
    /// Keep the bundle's version of conflicting refs.
    Keep,
    /// Take the incoming version of conflicting refs.
    Replace,
}

impl From<OnConflict> for ConflictPolicy {
    fn from(o: OnConflict) -> Self {
        match o {
            OnConflict::Keep => ConflictPolicy::Keep,
            OnConflict::Replace => ConflictPolicy::Replace,
        }
    }
}

/// True when the operator can be asked (stdin and stderr are terminals).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks the operator how to settle a merge, on the terminal.
pub fn ask(summary: &ConflictSummary) -> nora::Result<Decision> {
    eprintln!(
        "{} holds {} ref(s): {} new, {} already here, {} differ from the bundle's ({} ref(s) in the bundle now).",
        summary.source,
        summary.new + summary.identical + summary.conflicts.len(),
        summary.new,
        summary.identical,
        summary.conflicts.len(),
        summary.existing
    );
    for c in summary.conflicts.iter().take(10) {
        eprintln!("  {}: bundle has {}, incoming {}", c.key, c.ours, c.theirs);
    }
    if summary.conflicts.len() > 10 {
        eprintln!("  … and {} more", summary.conflicts.len() - 10);
    }
    let n = summary.conflicts.len();
    let items = [
        format!("merge: add what is new, keep the bundle's version of {n} conflicting ref(s)"),
        format!("replace: add what is new, take the incoming version of {n} conflicting ref(s)"),
        "abort: change nothing".to_string(),
    ];
    let choice = dialoguer::Select::new()
        .with_prompt("How should nora proceed?")
        .items(&items)
        .default(0)
        .interact_opt()
        .map_err(|e| nora::Error::Other(format!("prompt failed: {e}")))?;
    Ok(match choice {
        Some(0) => Decision::Merge(ConflictPolicy::Keep),
        Some(1) => Decision::Merge(ConflictPolicy::Replace),
        _ => Decision::Abort,
    })
}
