//! Progress reporting: the library calls a [`Progress`]; only the CLI knows about terminals.

/// Receives progress of long operations. All methods have no-op defaults.
pub trait Progress: Sync {
    /// A phase starts; `total` is its size in bytes when known.
    fn start(&self, _phase: &str, _total: Option<u64>) {}
    /// `bytes` more of the current phase are done.
    fn advance(&self, _bytes: u64) {}
    /// The current phase is done.
    fn finish(&self) {}
    /// A line for the operator (warnings, notes).
    fn note(&self, _msg: &str) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {}
