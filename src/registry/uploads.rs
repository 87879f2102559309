//! Blob upload sessions: bytes arrive in one or more chunks, are hashed as they are appended
//! to a file in the server's work directory, and become a blob only when the client's digest
//! matches. A session holds no file descriptor between requests; sessions left idle expire,
//! and how many one client and the whole server may hold at once is capped.

use crate::bundle::ingest::{place, Ingested};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::error::{Error, IoContext};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long sessions live and how many there may be.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadLimits {
    /// A session untouched for this long is removed with what it received.
    pub expiry: Duration,
    /// Sessions one client (user, else address) may hold at once.
    pub per_client: usize,
    /// Sessions the server holds at once.
    pub total: usize,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            // distribution purges uploads after a week
            expiry: Duration::from_secs(7 * 24 * 3600),
            per_client: 100,
            total: 1000,
        }
    }
}

/// Why an upload step failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// No session with that id in that repository.
    #[error("upload {0} is unknown: it was finished, cancelled or expired, or the server restarted; start a new upload")]
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
    /// The client or the server holds as many sessions as allowed.
    #[error("{0}")]
    TooMany(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] Error),
}

/// One upload in progress, checked out for one request.
pub struct Upload {
    /// Session id (a UUID).
    pub id: String,
    /// Repository it was started in.
    pub repo: String,
    client: String,
    path: PathBuf,
    hasher: Sha256,
    written: u64,
    file: Option<File>,
    kept: bool,
}

impl Upload {
    /// Bytes received so far; the next chunk must start here.
    pub fn offset(&self) -> u64 {
        self.written
    }

    /// Appends a chunk (the file is opened on the first chunk of each request).
    pub fn write(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.file.is_none() {
            self.file = Some(File::options().create(true).append(true).open(&self.path)?);
        }
        self.file.as_mut().expect("opened").write_all(buf)?;
        self.hasher.update(buf);
        self.written += buf.len() as u64;
        Ok(())
    }

    /// Checks the digest, makes the blob durable and visible, and ends the session.
    pub fn finish(
        mut self,
        bundle: &Bundle,
        expected: &Digest,
    ) -> std::result::Result<Ingested, UploadError> {
        let digest = Digest::from_bytes(&std::mem::take(&mut self.hasher).finalize());
        if &digest != expected {
            return Err(UploadError::DigestMismatch {
                expected: expected.to_string(),
                actual: digest.to_string(),
            });
        }
        let file = match self.file.take() {
            Some(f) => f,
            None => File::options()
                .create(true)
                .append(true)
                .open(&self.path)
                .at("open", &self.path)?,
        };
        let existed = place(bundle.layout(), &file, &self.path, &digest, true)?;
        if !existed {
            self.kept = true;
            bundle.sync_blob_dir()?;
        }
        Ok(Ingested {
            digest,
            size: self.written,
            existed,
        })
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

enum Slot {
    Idle(Box<Upload>, Instant),
    Busy { repo: String, client: String },
}

impl Slot {
    fn client(&self) -> &str {
        match self {
            Slot::Idle(u, _) => &u.client,
            Slot::Busy { client, .. } => client,
        }
    }
}

/// The sessions of one server. Sessions live in memory; their bytes live in the server's
/// work directory, which gc leaves alone while the server runs.
pub struct Uploads {
    bundle: Bundle,
    limits: UploadLimits,
    sessions: Mutex<HashMap<String, Slot>>,
}

impl Uploads {
    /// No sessions yet.
    pub fn new(bundle: Bundle, limits: UploadLimits) -> Self {
        Uploads {
            bundle,
            limits,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &UploadLimits {
        &self.limits
    }

    /// Opens a session in `repo` for `client` and returns it checked out, ready for a first
    /// chunk; refused when the client or the server holds as many as allowed.
    pub fn start(&self, repo: &str, client: &str) -> std::result::Result<Upload, UploadError> {
        let dir = self.bundle.work_dir()?;
        let id = uuid::Uuid::new_v4().to_string();
        let mut map = self.sessions.lock().expect("uploads lock");
        if map.len() >= self.limits.total {
            return Err(UploadError::TooMany(format!(
                "the server holds {} upload sessions, its limit; finish or cancel uploads, or wait for idle ones to expire",
                map.len()
            )));
        }
        let mine = map.values().filter(|s| s.client() == client).count();
        if mine >= self.limits.per_client {
            return Err(UploadError::TooMany(format!(
                "{client} holds {mine} upload sessions, the limit per client; finish or cancel some first"
            )));
        }
        map.insert(
            id.clone(),
            Slot::Busy {
                repo: repo.to_string(),
                client: client.to_string(),
            },
        );
        Ok(Upload {
            path: dir.join(format!("upload-{id}")),
            id,
            repo: repo.to_string(),
            client: client.to_string(),
            hasher: Sha256::new(),
            written: 0,
            file: None,
            kept: false,
        })
    }

    /// Checks a session out for one request; give it back with [`Uploads::put_back`] or
    /// consume it with [`Upload::finish`] and then [`Uploads::forget`].
    pub fn take(&self, repo: &str, id: &str) -> std::result::Result<Upload, UploadError> {
        let mut map = self.sessions.lock().expect("uploads lock");
        match map.remove(id) {
            Some(Slot::Idle(u, _)) if u.repo == repo => {
                map.insert(
                    id.to_string(),
                    Slot::Busy {
                        repo: repo.to_string(),
                        client: u.client.clone(),
                    },
                );
                Ok(*u)
            }
            Some(other) => {
                let busy = matches!(other, Slot::Busy { repo: ref r, .. } if r == repo);
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

    /// Returns a checked-out session so later chunks can continue it; its file is closed.
    pub fn put_back(&self, mut upload: Upload) {
        upload.file = None;
        let id = upload.id.clone();
        self.sessions
            .lock()
            .expect("uploads lock")
            .insert(id, Slot::Idle(Box::new(upload), Instant::now()));
    }

    /// Drops a finished or failed session.
    pub fn forget(&self, id: &str) {
        self.sessions.lock().expect("uploads lock").remove(id);
    }

    /// Bytes received by an idle session.
    pub fn offset(&self, repo: &str, id: &str) -> std::result::Result<u64, UploadError> {
        let map = self.sessions.lock().expect("uploads lock");
        match map.get(id) {
            Some(Slot::Idle(u, _)) if u.repo == repo => Ok(u.offset()),
            Some(Slot::Busy { repo: r, .. }) if r == repo => Err(UploadError::Busy(id.to_string())),
            _ => Err(UploadError::Unknown(id.to_string())),
        }
    }

    /// Cancels an idle session, deleting what it received.
    pub fn cancel(&self, repo: &str, id: &str) -> std::result::Result<(), UploadError> {
        let u = self.take(repo, id)?;
        self.forget(&u.id);
        Ok(())
    }

    /// Ends the sessions idle for longer than the expiry, deleting what they received;
    /// returns how many.
    pub fn expire(&self) -> usize {
        let now = Instant::now();
        let gone: Vec<Slot> = {
            let mut map = self.sessions.lock().expect("uploads lock");
            let old: Vec<String> = map
                .iter()
                .filter(|(_, s)| {
                    matches!(s, Slot::Idle(_, since) if now.duration_since(*since) >= self.limits.expiry)
                })
                .map(|(id, _)| id.clone())
                .collect();
            old.iter().filter_map(|id| map.remove(id)).collect()
        };
        gone.len()
    }

    /// Sessions open now.
    pub fn count(&self) -> usize {
        self.sessions.lock().expect("uploads lock").len()
    }
}
