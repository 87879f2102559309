//! Typed errors of the nora library.

use std::path::PathBuf;

/// Everything the library can fail with; messages name the object and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed on a named file.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The directory is not a nora bundle.
    #[error("{0} is not a nora bundle (no nora-bundle.toml); create one with `nora init {0}`")]
    NotABundle(PathBuf),
    /// The bundle was written by a newer nora.
    #[error(
        "bundle {path} has format version {found}, this nora reads up to {supported}; upgrade nora"
    )]
    BundleTooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    /// Content did not hash to the digest it claims.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    /// A digest string is malformed.
    #[error("invalid digest '{0}': expected sha256:<64 lowercase hex digits>")]
    BadDigest(String),
    /// A name (package, tag, path, ...) is not valid for its ecosystem.
    #[error("invalid {what} '{value}': {reason}")]
    InvalidName {
        what: &'static str,
        value: String,
        reason: String,
    },
    /// An artifact given to `add` is not what its ecosystem says.
    #[error("{path}: {reason}")]
    BadArtifact { path: PathBuf, reason: String },
    /// A ref record could not be read.
    #[error("ref {key}: {reason}")]
    BadRef { key: String, reason: String },
    /// A pack or volume is malformed, tampered or unusable.
    #[error("{file}: {reason}")]
    BadPack { file: String, reason: String },
    /// Another process holds a lock this operation needs.
    #[error("{0}")]
    Locked(String),
    /// Refs in the incoming content conflict with refs in the bundle.
    #[error("{count} ref(s) in {source_name} differ from the bundle's: {sample}; choose with --on-conflict keep|replace (or --yes to replace)")]
    Conflicts {
        count: usize,
        source_name: String,
        sample: String,
    },
    /// A pack volume set is not complete yet.
    #[error("pack {pack_id} is incomplete: waiting for volume(s) {missing} of {total}")]
    Incomplete {
        pack_id: String,
        missing: String,
        total: u32,
    },
    /// A signature or key problem.
    #[error("signature: {0}")]
    Signature(String),
    /// A release (an immutable ref) is already in the bundle with other content.
    #[error("{0}")]
    ReleaseExists(String),
    /// Anything else, with its message.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// True when the failure is a full disk or an exhausted quota.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, Error::Io { source, .. } if disk_full(source))
    }

    /// The message without the paths of the machine it happened on, for answers to remote
    /// clients (the log keeps the whole message).
    pub fn public(&self) -> String {
        match self {
            // the error's own text may carry a path (tempfile's do); its kind does not
            Error::Io { action, source, .. } => format!("could not {action}: {}", source.kind()),
            Error::NotABundle(_) => "the server's bundle directory is not a nora bundle".into(),
            Error::BundleTooNew {
                found, supported, ..
            } => format!(
                "the bundle has format version {found}, this server reads up to {supported}"
            ),
            Error::BadArtifact { reason, .. } => reason.clone(),
            Error::BadPack { reason, .. } => reason.clone(),
            e => e.to_string(),
        }
    }
}

/// True for the I/O errors of a full disk or an exhausted quota.
pub fn disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Result with the library's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches the failing path to an I/O error.
pub trait IoContext<T> {
    /// Names the action and the path of a failed I/O call.
    fn at(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            action,
            path: path.into(),
            source,
        })
    }
}
