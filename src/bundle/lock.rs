//! Advisory locks that make concurrent nora processes safe (bundle-format.md §6).

use crate::error::{Error, IoContext, Result};
use std::fs::{File, OpenOptions};
use std::path::Path;

/// A held lock; released on drop.
#[derive(Debug)]
pub struct LockGuard {
    _file: File,
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .at("open lock file", path)
}

/// Waits for a shared lock (writers: ingest and ref writes).
pub fn shared(path: &Path) -> Result<LockGuard> {
    let f = open(path)?;
    f.lock_shared().at("take shared lock on", path)?;
    Ok(LockGuard { _file: f })
}

/// Waits for an exclusive lock (gc's mark and sweep, restore's replace).
pub fn exclusive(path: &Path) -> Result<LockGuard> {
    let f = open(path)?;
    f.lock().at("take exclusive lock on", path)?;
    Ok(LockGuard { _file: f })
}

/// Takes a shared (or exclusive) lock if it is free now; `None` when another holder is in
/// the way.
pub fn try_now(path: &Path, exclusive: bool) -> Result<Option<LockGuard>> {
    let f = open(path)?;
    let r = if exclusive {
        f.try_lock()
    } else {
        f.try_lock_shared()
    };
    match r {
        Ok(()) => Ok(Some(LockGuard { _file: f })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e).at("take lock on", path),
    }
}

/// Takes an exclusive lock or fails at once with `busy` as the message.
pub fn try_exclusive(path: &Path, busy: &str) -> Result<LockGuard> {
    let f = open(path)?;
    match f.try_lock() {
        Ok(()) => Ok(LockGuard { _file: f }),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked(busy.to_string())),
        Err(std::fs::TryLockError::Error(e)) => Err(e).at("take lock on", path),
    }
}
