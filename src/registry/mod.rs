//! What `nora serve` asks of the bundle, per ecosystem, with no HTTP in sight: lookups,
//! pushes, listings and deletes expressed in store terms. The protocol modules in
//! [`crate::protocols`] translate HTTP to these calls and back.

pub mod cargo;
pub mod go;
pub mod go_sumdb;
pub mod maven;
pub mod npm;
pub mod oci;
pub mod pypi;
pub mod raw;
pub mod uploads;
pub mod usage;

/// Why a package registry operation (npm, PyPI, Cargo, Maven) failed; each protocol turns
/// it into its own status and error body.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The request, name or package is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The version or file exists, and releases are immutable.
    #[error("{0}")]
    Exists(String),
    /// No such package, version, tag or file.
    #[error("{0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::error::Error),
}
