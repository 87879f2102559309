//! What `nora serve` asks of the bundle, per ecosystem, with no HTTP in sight: lookups,
//! pushes, listings and deletes expressed in store terms. The protocol modules in
//! [`crate::protocols`] translate HTTP to these calls and back.

pub mod cargo;
pub mod go;
pub mod maven;
pub mod npm;
pub mod oci;
pub mod pypi;
pub mod raw;
pub mod uploads;
