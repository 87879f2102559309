//! `nora mirror`: fills a bundle with what lockfiles pin, fetched from upstream registries,
//! every artifact verified against the hash its lockfile gives before its ref is written.
//! Runs concurrently (bounded), skips what the bundle already holds, and reports per
//! artifact.

pub mod cargo;
pub mod go;

use serde::Serialize;

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Artifacts fetched at once.
    pub jobs: usize,
    /// List what would be fetched, fetch nothing.
    pub dry_run: bool,
    /// After a failure, go on with the other artifacts (else those not started are left).
    pub keep_going: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            jobs: 8,
            dry_run: false,
            keep_going: false,
        }
    }
}

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
