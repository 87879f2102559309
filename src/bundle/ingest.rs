//! Streaming ingest: hash while writing to a temp file inside the bundle, fsync, verify, rename.

use crate::bundle::layout::Layout;
use crate::bundle::Bundle;
use crate::digest::{Digest, HashingWriter};
use crate::error::{Error, IoContext, Result};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use tempfile::NamedTempFile;

/// What ingest stored.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// Digest of the content.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// True when the bundle already held the blob.
    pub existed: bool,
}

/// A blob being written; invisible until [`BlobWriter::commit`].
pub struct BlobWriter {
    layout: Layout,
    staging: Option<std::sync::Arc<super::group::Staging>>,
    inner: HashingWriter<BufWriter<NamedTempFile>>,
}

impl BlobWriter {
    pub(crate) fn new(bundle: &Bundle) -> Result<Self> {
        let dir = bundle.work_dir()?;
        let tmp = tempfile::Builder::new()
            .prefix("ingest-")
            .tempfile_in(&dir)
            .at("create temp file in", &dir)?;
        Ok(BlobWriter {
            layout: bundle.layout().clone(),
            staging: bundle.staging.clone(),
            inner: HashingWriter::new(BufWriter::with_capacity(256 * 1024, tmp)),
        })
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.inner.count()
    }

    /// Flushes, optionally fsyncs, checks the digest and renames into `blobs/`.
    /// The blob directory itself is not fsynced; call [`Bundle::sync_blob_dir`] after a batch.
    /// On a [`Bundle::staged`] bundle the blob is staged instead, fsync or not.
    pub fn commit(self, expected: Option<&Digest>, fsync: bool) -> Result<Ingested> {
        let size = self.inner.count();
        let (buf, digest) = self.inner.finish();
        let tmp = buf.into_inner().map_err(|e| Error::Io {
            action: "write temp file",
            path: PathBuf::from("tmp"),
            source: e.into_error(),
        })?;
        if let Some(exp) = expected {
            if exp != &digest {
                return Err(Error::DigestMismatch {
                    what: "ingested content".into(),
                    expected: exp.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        if let Some(st) = &self.staging {
            if !self.layout.blob(&digest).exists() {
                st.stage(digest.clone(), tmp.into_temp_path());
                return Ok(Ingested {
                    digest,
                    size,
                    existed: false,
                });
            }
        }
        let existed = place(&self.layout, tmp.as_file(), tmp.path(), &digest, fsync)?;
        if !existed {
            tmp.into_temp_path().keep().map_err(|e| Error::Io {
                action: "keep",
                path: PathBuf::from("tmp"),
                source: e.error,
            })?;
        }
        Ok(Ingested {
            digest,
            size,
            existed,
        })
    }
}

/// Moves the checked temp file `path` (open as `file`) to `blobs/sha256/<digest>`, with a
/// fresh mtime so that gc's grace period protects it until a ref names it; when the blob is
/// already there, refreshes that blob's mtime instead and leaves the temp file to the caller.
/// Returns whether the blob existed.
pub(crate) fn place(
    layout: &Layout,
    file: &File,
    path: &std::path::Path,
    digest: &Digest,
    fsync: bool,
) -> Result<bool> {
    let target = layout.blob(digest);
    if target.exists() {
        touch(&target);
        return Ok(true);
    }
    file.set_modified(std::time::SystemTime::now())
        .at("set the mtime of", path)?;
    if fsync {
        file.sync_all().at("fsync", path)?;
    }
    std::fs::rename(path, &target).map_err(|e| Error::Io {
        action: "rename blob into",
        path: target.clone(),
        source: e,
    })?;
    Ok(false)
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Refreshes a blob's mtime so gc's grace period protects a blob a writer just reused.
pub(crate) fn touch(path: &std::path::Path) {
    if let Ok(f) = File::options().write(true).open(path) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

impl Bundle {
    /// Streams `r` into the bundle as a blob, verifying `expected` when given, durably.
    pub fn ingest<R: Read>(&self, mut r: R, expected: Option<&Digest>) -> Result<Ingested> {
        let mut w = self.blob_writer()?;
        std::io::copy(&mut r, &mut w).map_err(|e| Error::Io {
            action: "stream into",
            path: self.layout().tmp_dir(),
            source: e,
        })?;
        let done = w.commit(expected, true)?;
        if !done.existed && self.staging.is_none() {
            self.sync_blob_dir()?;
        }
        Ok(done)
    }

    /// Stores a small in-memory blob.
    pub fn ingest_bytes(&self, bytes: &[u8]) -> Result<Ingested> {
        self.ingest(bytes, None)
    }

    /// Starts writing a blob.
    pub fn blob_writer(&self) -> Result<BlobWriter> {
        BlobWriter::new(self)
    }

    /// Makes renames into `blobs/sha256/` durable.
    pub fn sync_blob_dir(&self) -> Result<()> {
        sync_dir(&self.layout().blob_dir())
    }
}

/// fsyncs a directory so renames into it survive a crash.
pub fn sync_dir(dir: &std::path::Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|f| f.sync_all())
            .at("fsync directory", dir)?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
