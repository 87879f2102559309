//! Blob upload sessions: bytes arrive in one or more chunks, are hashed as they are written
//! to a temp file in the bundle, and become a blob only when the client's digest matches.

use crate::bundle::ingest::{BlobWriter, Ingested};
use crate::bundle::layout::Layout;
use crate::digest::Digest;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

/// Why an upload step failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// No session with that id in that repository.
    #[error("upload {0} is unknown: it was finished, cancelled, or the server restarted; start a new upload")]
    Unknown(String),
    /// Another request is writing to the same session.
    #[error("upload {0} is busy with another request")]
    Busy(String),
    /// The content does not hash to the digest the client gave.
    #[error("upload digest mismatch: client said {expected}, content is {actual}")]
    DigestMismatch {
        /// What the client claimed.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] Error),
}

/// One upload in progress.
pub struct Upload {
    /// Session id (a UUID).
    pub id: String,
    /// Repository it was started in.
    pub repo: String,
    writer: BlobWriter,
}

impl Upload {
    /// Bytes received so far; the next chunk must start here.
    pub fn offset(&self) -> u64 {
        self.writer.written()
    }

    /// Appends a chunk.
    pub fn write(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(buf)
    }

    /// Checks the digest, makes the blob durable and visible, and ends the session.
    pub fn finish(self, expected: &Digest) -> std::result::Result<Ingested, UploadError> {
        match self.writer.commit(Some(expected), true) {
            Ok(done) => Ok(done),
            Err(Error::DigestMismatch {
                expected, actual, ..
            }) => Err(UploadError::DigestMismatch { expected, actual }),
            Err(e) => Err(e.into()),
        }
    }
}

enum Slot {
    Idle(Box<Upload>),
    Busy(String),
}

/// The sessions of one server. Sessions live in memory; their bytes live in the bundle's
/// `tmp/`, which `gc` sweeps after its grace period if a client walks away.
pub struct Uploads {
    layout: Layout,
    sessions: Mutex<HashMap<String, Slot>>,
}

impl Uploads {
    /// No sessions yet.
    pub fn new(layout: Layout) -> Self {
        Uploads {
            layout,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Opens a session in `repo` and returns it checked out, ready for a first chunk.
    pub fn start(&self, repo: &str) -> Result<Upload> {
        let id = uuid::Uuid::new_v4().to_string();
        let writer = BlobWriter::new(&self.layout, None)?;
        self.sessions
            .lock()
            .expect("uploads lock")
            .insert(id.clone(), Slot::Busy(repo.to_string()));
        Ok(Upload {
            id,
            repo: repo.to_string(),
            writer,
        })
    }

    /// Checks a session out for one request; give it back with [`Uploads::put_back`] or
    /// consume it with [`Upload::finish`] and then [`Uploads::forget`].
    pub fn take(&self, repo: &str, id: &str) -> std::result::Result<Upload, UploadError> {
        let mut map = self.sessions.lock().expect("uploads lock");
        match map.remove(id) {
            Some(Slot::Idle(u)) if u.repo == repo => {
                map.insert(id.to_string(), Slot::Busy(repo.to_string()));
                Ok(*u)
            }
            Some(other) => {
                let busy = matches!(other, Slot::Busy(ref r) if r == repo);
                map.insert(id.to_string(), other);
                if busy {
                    Err(UploadError::Busy(id.to_string()))
                } else {
                    Err(UploadError::Unknown(id.to_string()))
                }
            }
            None => Err(UploadError::Unknown(id.to_string())),
        }
    }

    /// Returns a checked-out session so later chunks can continue it.
    pub fn put_back(&self, upload: Upload) {
        let id = upload.id.clone();
        self.sessions
            .lock()
            .expect("uploads lock")
            .insert(id, Slot::Idle(Box::new(upload)));
    }

    /// Drops a finished or failed session (its temp file goes with it).
    pub fn forget(&self, id: &str) {
        self.sessions.lock().expect("uploads lock").remove(id);
    }

    /// Bytes received by an idle session.
    pub fn offset(&self, repo: &str, id: &str) -> std::result::Result<u64, UploadError> {
        let map = self.sessions.lock().expect("uploads lock");
        match map.get(id) {
            Some(Slot::Idle(u)) if u.repo == repo => Ok(u.offset()),
            Some(Slot::Busy(r)) if r == repo => Err(UploadError::Busy(id.to_string())),
            _ => Err(UploadError::Unknown(id.to_string())),
        }
    }

    /// Cancels an idle session, deleting what it received.
    pub fn cancel(&self, repo: &str, id: &str) -> std::result::Result<(), UploadError> {
        let u = self.take(repo, id)?;
        self.forget(&u.id);
        Ok(())
    }
}
