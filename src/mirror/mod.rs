//! `nora mirror`: fills a bundle with what lockfiles pin, fetched from upstream registries,
//! every artifact verified against the hash its lockfile gives before its ref is written.
//! Runs concurrently (bounded), skips what the bundle already holds, and reports per
//! artifact.

pub mod cargo;
pub mod config;
pub mod go;
pub mod go_sumdb;
pub mod maven;
pub mod npm;
pub mod npm_tree;
pub mod oci;
pub mod pypi;
pub mod raw;

use crate::bundle::Bundle;
use serde::Serialize;
use std::sync::Arc;

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Artifacts fetched at once.
    pub jobs: usize,
    /// List what would be fetched, fetch nothing.
    pub dry_run: bool,
    /// After a failure, go on with the other artifacts (else those not started are left).
    pub keep_going: bool,
    /// How long an upstream may stay silent before a fetch gives up (and is retried).
    pub timeout: std::time::Duration,
    /// Set by the first failure; shared by the clones of one run's options.
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Options {
    /// Options for one run.
    pub fn new(jobs: usize, dry_run: bool, keep_going: bool) -> Options {
        Options {
            jobs,
            dry_run,
            keep_going,
            timeout: std::time::Duration::from_secs(60),
            stop: Default::default(),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options::new(8, false, false)
    }
}

/// Receives a run's progress: the CLI draws bars, the library knows no terminal.
pub trait Watch: Sync {
    /// An ecosystem starts with `artifacts` to look at.
    fn start(&self, _ecosystem: &'static str, _artifacts: u64) {}
    /// One artifact is done; `bytes` were fetched for it.
    fn done(&self, _ecosystem: &'static str, _bytes: u64) {}
    /// An ecosystem is done.
    fn finish(&self, _ecosystem: &'static str) {}
}

/// Watches nothing.
pub struct Quiet;

impl Watch for Quiet {}

/// What happened to one artifact.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Fetched, verified and stored.
    Added,
    /// Already in the bundle with the pinned hash.
    Skipped,
    /// Would be fetched (`--dry-run`).
    Planned,
    /// Not mirrored; see the reason.
    Failed,
}

/// One artifact's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// Ecosystem.
    pub ecosystem: &'static str,
    /// `module@version`, `name@version`, …
    pub name: String,
    /// What happened.
    pub outcome: Outcome,
    /// Bytes fetched.
    pub bytes: u64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The report of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Every artifact, in input order.
    pub items: Vec<Item>,
}

impl Report {
    /// Number of items with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.items.iter().filter(|i| i.outcome == outcome).count()
    }
    /// Bytes fetched in all.
    pub fn bytes(&self) -> u64 {
        self.items.iter().map(|i| i.bytes).sum()
    }
}

const NOT_ATTEMPTED: &str =
    "not attempted after an earlier failure (--keep-going mirrors the rest)";

/// Runs one ecosystem's artifacts through `fetch`, at most `opts.jobs` at once: an artifact
/// `present` says the bundle holds is skipped (as is one `fetch` finds unchanged, `None`), a dry run only plans, and after a failure the
/// artifacts not yet started are left unless `opts.keep_going`. Items keep input order.
pub(crate) async fn run<T, P, F, Fut>(
    ecosystem: &'static str,
    artifacts: Vec<(String, T)>,
    opts: &Options,
    watch: &dyn Watch,
    present: P,
    fetch: F,
) -> Report
where
    T: Send + 'static,
    P: Fn(&T) -> bool + Send + Sync + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Option<u64>, String>> + Send + 'static,
{
    use std::sync::atomic::Ordering;
    watch.start(ecosystem, artifacts.len() as u64);
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let stop = opts.stop.clone();
    let (present, fetch) = (Arc::new(present), Arc::new(fetch));
    let (dry, keep_going) = (opts.dry_run, opts.keep_going);
    // artifacts start in input order (each waits for a permit before it is spawned), so a
    // failure leaves exactly those after it; finished ones are reported as permits free up
    let mut pending: std::collections::VecDeque<tokio::task::JoinHandle<Item>> =
        std::collections::VecDeque::new();
    let mut report = Report::default();
    let collect = |item: Item, report: &mut Report| {
        watch.done(ecosystem, item.bytes);
        report.items.push(item);
    };
    for (name, pin) in artifacts {
        let permit = sem.clone().acquire_owned().await.expect("semaphore open");
        while pending.front().is_some_and(|t| t.is_finished()) {
            let t = pending.pop_front().expect("front exists");
            collect(t.await.expect("mirror task panicked"), &mut report);
        }
        let (stop, present, fetch) = (stop.clone(), present.clone(), fetch.clone());
        pending.push_back(tokio::spawn(async move {
            let _permit = permit;
            let item = |outcome, bytes, error| Item {
                ecosystem,
                name: name.clone(),
                outcome,
                bytes,
                error,
            };
            if tokio::task::block_in_place(|| present(&pin)) {
                return item(Outcome::Skipped, 0, None);
            }
            if dry {
                return item(Outcome::Planned, 0, None);
            }
            if stop.load(Ordering::Relaxed) {
                return item(Outcome::Failed, 0, Some(NOT_ATTEMPTED.into()));
            }
            match fetch(pin).await {
                Ok(Some(bytes)) => item(Outcome::Added, bytes, None),
                Ok(None) => item(Outcome::Skipped, 0, None),
                Err(e) => {
                    if !keep_going {
                        stop.store(true, Ordering::Relaxed);
                    }
                    item(Outcome::Failed, 0, Some(e))
                }
            }
        }));
    }
    for t in pending {
        collect(t.await.expect("mirror task panicked"), &mut report);
    }
    watch.finish(ecosystem);
    report
}

/// A temp file in the bundle's tmp directory, for a download on its way in.
pub(crate) fn temp_file(
    b: &Bundle,
    prefix: &str,
    suffix: &str,
) -> Result<tempfile::NamedTempFile, String> {
    let dir = b.work_dir().map_err(|e| e.to_string())?;
    tempfile::Builder::new()
        .prefix(prefix)
        .suffix(suffix)
        .tempfile_in(&dir)
        .map_err(|e| format!("temp file in {}: {e}", dir.display()))
}

/// Why one artifact was not stored.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The upstream did not serve it.
    #[error(transparent)]
    Fetch(#[from] crate::upstream::FetchError),
    /// The upstream's metadata says it does not exist.
    #[error("{0}")]
    Missing(String),
    /// What it served failed a check, or storing failed.
    #[error("{0}")]
    Refused(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Refused(s)
    }
}

/// Stores what `store` makes and commits its refs (source `mirror`) with those of the other
/// artifacts finishing at the same time ([`Bundle::commit_grouped`]), under the bundle's
/// shared lock so that gc waits: the last step of every artifact a run fetched and checked.
pub(crate) fn keep(
    b: &Bundle,
    store: impl FnOnce() -> Result<Vec<crate::bundle::refs::RefRecord>, String>,
) -> Result<(), String> {
    let _lock = b.lock_shared().map_err(|e| e.to_string())?;
    b.commit_grouped(store()?, "mirror").map(|_| ())
}

/// What the lockfiles of a plan pin, read and checked before anything is fetched.
#[derive(Debug, Default)]
pub struct Inputs {
    /// npm packages.
    pub npm: Vec<crate::lockfiles::npm_lock::Pinned>,
    /// npm `name@range` specs to resolve against the registry.
    pub npm_specs: Vec<String>,
    /// Python project versions.
    pub pypi: Vec<crate::lockfiles::python::Pinned>,
    /// Crates.
    pub cargo: Vec<crate::lockfiles::cargo_lock::Pinned>,
    /// Go modules.
    pub go: Vec<crate::lockfiles::go_sum::Pinned>,
    /// go.mod files whose module graphs to resolve through the proxy.
    pub go_mods: Vec<crate::lockfiles::go_mod::GoMod>,
    /// The checksum database to check them against and carry.
    pub go_sumdb: Option<go_sumdb::Database>,
    /// Files by URL.
    pub raw: Vec<raw::Pinned>,
    /// Maven coordinates to resolve.
    pub maven: Vec<crate::ecosystems::maven::Coordinates>,
    /// Maven projects whose dependencies to resolve.
    pub maven_poms: Vec<std::path::PathBuf>,
    /// Container images.
    pub oci: Vec<oci::ImageRef>,
    /// Which platforms and whether referrers.
    pub oci_selection: oci::Selection,
    /// Entries that cannot be mirrored, by ecosystem.
    pub unmirrorable: Vec<(&'static str, crate::lockfiles::Unmirrorable)>,
}

fn read_text(path: &std::path::Path) -> crate::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| crate::Error::Other(format!("read {}: {e}", path.display())))
}

impl Inputs {
    /// Reads every lockfile of `plan`; a file that is not what it claims is an error.
    pub fn read(plan: &config::Plan) -> crate::Result<Inputs> {
        use crate::lockfiles::{cargo_lock, go_sum, npm_lock, python, yarn_lock};
        let mut i = Inputs::default();
        let skip = |eco, u: Vec<crate::lockfiles::Unmirrorable>| {
            u.into_iter().map(move |u| (eco, u)).collect::<Vec<_>>()
        };
        let mut unmirrorable = Vec::new();
        for f in &plan.npm.lockfiles {
            let (text, name) = (read_text(f)?, f.display().to_string());
            let (p, u) = if f.file_name().is_some_and(|n| n == "yarn.lock") {
                yarn_lock::parse(&text, &name)?
            } else {
                npm_lock::parse(&text, &name)?
            };
            i.npm.extend(p);
            unmirrorable.extend(skip("npm", u));
        }
        i.npm.sort();
        i.npm
            .dedup_by(|x, y| x.name == y.name && x.version == y.version);
        for spec in &plan.npm.packages {
            npm_tree::parse_spec(spec)?;
        }
        i.npm_specs = plan.npm.packages.clone();
        for f in &plan.pypi.lockfiles {
            let (p, u) = python::read(f)?;
            i.pypi.extend(p);
            unmirrorable.extend(skip("pypi", u));
        }
        i.pypi = python::merge(std::mem::take(&mut i.pypi));
        for f in &plan.cargo.lockfiles {
            let (p, u) = cargo_lock::parse(&read_text(f)?, &f.display().to_string())?;
            i.cargo.extend(p);
            unmirrorable.extend(skip("cargo", u));
        }
        i.cargo
            .sort_by(|x, y| (&x.name, &x.version).cmp(&(&y.name, &y.version)));
        i.cargo
            .dedup_by(|x, y| x.name == y.name && x.version == y.version);
        for f in &plan.go.sums {
            i.go.extend(go_sum::parse(&read_text(f)?, &f.display().to_string())?);
        }
        for f in &plan.go.mods {
            let name = f.display().to_string();
            i.go_mods
                .push(crate::lockfiles::go_mod::parse(&read_text(f)?, &name)?);
            let sum = f.with_file_name("go.sum");
            if sum.is_file() {
                i.go.extend(go_sum::parse(
                    &read_text(&sum)?,
                    &sum.display().to_string(),
                )?);
            } else if plan.go.sumdb.is_none() {
                return Err(crate::Error::Other(format!(
                    "{name}: no go.sum beside it, so nothing to check its modules against; \
                     give a checksum database with --go-sumdb (sum.golang.org's key is in the README)"
                )));
            }
        }
        i.go.sort_by(|x, y| (&x.module, &x.version).cmp(&(&y.module, &y.version)));
        i.go.dedup_by(|x, y| x.module == y.module && x.version == y.version);
        if let Some(spec) = &plan.go.sumdb {
            i.go_sumdb = Some(go_sumdb::Database::parse(spec).map_err(crate::Error::Other)?);
        }
        i.raw = plan.raw.clone();
        for c in &plan.maven.artifacts {
            i.maven
                .push(crate::ecosystems::maven::Coordinates::parse_gav(c)?);
        }
        for f in &plan.maven.poms {
            crate::lockfiles::pom::parse(
                &std::fs::read(f)
                    .map_err(|e| crate::Error::Other(format!("read {}: {e}", f.display())))?,
                &f.display().to_string(),
            )?;
            i.maven_poms.push(f.clone());
        }
        for spec in &plan.oci.images {
            i.oci.push(oci::ImageRef::parse(spec)?);
        }
        i.oci.sort_by(|a, b| a.spec.cmp(&b.spec));
        i.oci.dedup_by(|a, b| a.spec == b.spec);
        i.oci_selection = oci::Selection {
            platforms: plan
                .oci
                .platforms
                .iter()
                .filter(|p| p.as_str() != "all")
                .map(|p| oci::Platform::parse(p))
                .collect::<crate::Result<_>>()?,
            referrers: plan.oci.referrers,
        };
        if plan.oci.platforms.iter().any(|p| p == "all") {
            i.oci_selection.platforms.clear();
        }
        i.unmirrorable = unmirrorable;
        Ok(i)
    }
}

/// Fetches everything `inputs` pins from the upstreams of `plan`, every ecosystem at once.
/// Upstream credentials come from `NORA_<ECOSYSTEM>_TOKEN` variables.
pub async fn fetch(
    bundle: Arc<Bundle>,
    inputs: Inputs,
    plan: &config::Plan,
    opts: &Options,
    watch: &dyn Watch,
) -> crate::Result<Report> {
    use crate::upstream::Client;
    use config::defaults;
    let npm_client = Client::with_timeout("NORA_NPM_TOKEN", opts.timeout)?;
    let pypi_client = Client::with_timeout("NORA_PYPI_TOKEN", opts.timeout)?;
    let cargo_client = Client::with_timeout("NORA_CARGO_TOKEN", opts.timeout)?;
    let go_client = Client::with_timeout("NORA_GO_PROXY_TOKEN", opts.timeout)?;
    let raw_client = Client::with_timeout("NORA_RAW_TOKEN", opts.timeout)?;
    let oci_client = Client::with_timeout("NORA_OCI_TOKEN", opts.timeout)?;
    let maven_client = Client::with_timeout("NORA_MAVEN_TOKEN", opts.timeout)?;
    let maven_repo = plan
        .maven
        .repository
        .as_deref()
        .unwrap_or(defaults::MAVEN_REPOSITORY);
    let sel = pypi::Selection {
        python_versions: plan.pypi.python_versions.clone(),
        platforms: plan.pypi.platforms.clone(),
    };
    let mut report = Report::default();
    for (eco, u) in inputs.unmirrorable {
        report.items.push(Item {
            ecosystem: eco,
            name: u.name,
            outcome: Outcome::Failed,
            bytes: 0,
            error: Some(format!("not mirrorable: {}", u.reason)),
        });
    }
    let empty = || async { Report::default() };
    let (n, p, c, g, r, o, m) = tokio::join!(
        async {
            let mut pins = inputs.npm;
            let registry = plan
                .npm
                .registry
                .as_deref()
                .unwrap_or(defaults::NPM_REGISTRY);
            let mut report = Report::default();
            if !inputs.npm_specs.is_empty() {
                match npm_tree::resolve(&inputs.npm_specs, registry, &npm_client).await {
                    Ok((resolved, skipped)) => {
                        pins.extend(resolved);
                        pins.sort();
                        pins.dedup_by(|x, y| x.name == y.name && x.version == y.version);
                        report.items.extend(skipped.into_iter().map(|u| Item {
                            ecosystem: "npm",
                            name: u.name,
                            outcome: Outcome::Failed,
                            bytes: 0,
                            error: Some(format!("not mirrorable: {}", u.reason)),
                        }));
                    }
                    Err(e) => {
                        report.items.push(Item {
                            ecosystem: "npm",
                            name: "dependency resolution".into(),
                            outcome: Outcome::Failed,
                            bytes: 0,
                            error: Some(e),
                        });
                        return report;
                    }
                }
            }
            if !pins.is_empty() {
                let r = npm::mirror(bundle.clone(), pins, registry, &npm_client, opts, watch).await;
                report.items.extend(r.items);
            }
            report
        },
        async {
            if inputs.pypi.is_empty() {
                return empty().await;
            }
            pypi::mirror(
                bundle.clone(),
                inputs.pypi,
                plan.pypi.index.as_deref().unwrap_or(defaults::PYPI_INDEX),
                &sel,
                &pypi_client,
                opts,
                watch,
            )
            .await
        },
        async {
            if inputs.cargo.is_empty() {
                return empty().await;
            }
            cargo::mirror(
                bundle.clone(),
                inputs.cargo,
                plan.cargo.index.as_deref().unwrap_or(defaults::CARGO_INDEX),
                &cargo_client,
                opts,
                watch,
            )
            .await
        },
        async {
            if inputs.go.is_empty() && inputs.go_mods.is_empty() {
                return empty().await;
            }
            go::mirror(
                bundle.clone(),
                inputs.go,
                &inputs.go_mods,
                plan.go.proxy.as_deref().unwrap_or(defaults::GO_PROXY),
                inputs.go_sumdb.as_ref(),
                &go_client,
                opts,
                watch,
            )
            .await
        },
        async {
            if inputs.raw.is_empty() {
                return empty().await;
            }
            raw::mirror(bundle.clone(), inputs.raw, &raw_client, opts, watch).await
        },
        async {
            if inputs.oci.is_empty() {
                return empty().await;
            }
            oci::mirror(
                bundle.clone(),
                inputs.oci,
                &inputs.oci_selection,
                &oci_client,
                opts,
                watch,
            )
            .await
        },
        async {
            if inputs.maven.is_empty() && inputs.maven_poms.is_empty() {
                return empty().await;
            }
            let mut resolver = maven::Resolver::new(maven_repo, maven_client.clone());
            let mut resolved = resolver.resolve_coordinates(&inputs.maven).await;
            for f in &inputs.maven_poms {
                if resolved.is_ok() {
                    resolved = resolver.resolve_project(f).await;
                }
            }
            if let Err(e) = resolved {
                return Report {
                    items: vec![Item {
                        ecosystem: "maven",
                        name: "dependency resolution".into(),
                        outcome: Outcome::Failed,
                        bytes: 0,
                        error: Some(e),
                    }],
                };
            }
            let files = resolver.files.into_iter().collect();
            maven::mirror(
                bundle.clone(),
                files,
                resolver.fetched,
                maven_repo,
                &maven_client,
                opts,
                watch,
            )
            .await
        },
    );
    for part in [n, p, c, g, r, o, m] {
        report.items.extend(part.items);
    }
    Ok(report)
}
