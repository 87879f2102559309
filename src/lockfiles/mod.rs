//! Parsers for the inputs of `nora mirror`: lockfiles and sum files, each turned into the
//! list of artifacts (with the hashes they pin) that a build needs.

pub mod cargo_lock;
pub mod go_sum;
