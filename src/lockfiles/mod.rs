//! Parsers for the inputs of `nora mirror`: lockfiles and sum files, each turned into the
//! list of artifacts (with the hashes they pin) that a build needs.

pub mod cargo_lock;
pub mod go_mod;
pub mod go_sum;
pub mod npm_lock;
pub mod pom;
pub mod python;
pub mod yarn_lock;

/// What a lockfile holds that cannot be mirrored (git, local and other non-registry
/// sources).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmirrorable {
    /// `name version` or `name@spec`.
    pub name: String,
    /// Why.
    pub reason: String,
}
