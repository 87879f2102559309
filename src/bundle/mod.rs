//! The bundle store: one portable, content-addressed directory (bundle-format.md).

pub mod graph;
pub mod group;
pub mod ingest;
pub mod layout;
pub mod lock;
pub mod oci;
pub mod refs;
pub mod work;

use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use layout::{Layout, RefKey};
use refs::RefRecord;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use ingest::{sync_dir, BlobWriter, Ingested};

/// The bundle format version this nora writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Contents of `nora-bundle.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    /// Bundle format version.
    pub format: u32,
    /// Random id of this bundle (32 hex digits), fixed at `init`.
    pub id: String,
    /// When the bundle was created.
    pub created: String,
}

/// An open bundle directory.
#[derive(Debug, Clone)]
pub struct Bundle {
    layout: Layout,
    header: Header,
    /// Set by [`Bundle::staged`]: blobs wait in `tmp/` for a group commit.
    staging: Option<std::sync::Arc<group::Staging>>,
    /// This process's work directory, made when first needed ([`Bundle::work_dir`]).
    work: std::sync::Arc<std::sync::Mutex<Option<work::WorkDir>>>,
}

const DIRS: [&str; 5] = ["blobs/sha256", "refs", "tmp", "staging", "journal"];

impl Bundle {
    /// Creates a bundle in `dir` (made if absent; must be empty or already a bundle).
    /// Returns the bundle and whether it was newly created.
    pub fn init(dir: &Path) -> Result<(Bundle, bool)> {
        let layout = Layout::new(dir);
        if layout.header().exists() {
            return Ok((Bundle::open(dir)?, false));
        }
        if dir.exists() {
            let mut entries = fs::read_dir(dir).at("read directory", dir)?;
            if entries.next().is_some() {
                return Err(Error::Other(format!(
                    "{} exists and is not empty; nora init needs an empty or new directory",
                    dir.display()
                )));
            }
        }
        for d in DIRS {
            let p = dir.join(d);
            fs::create_dir_all(&p).at("create directory", &p)?;
        }
        let header = Header {
            format: FORMAT_VERSION,
            id: uuid::Uuid::new_v4().simple().to_string(),
            created: refs::now_rfc3339(),
        };
        write_atomic(
            &dir.join(layout::OCI_LAYOUT),
            b"{\"imageLayoutVersion\":\"1.0.0\"}\n",
            &dir.join("tmp"),
        )?;
        write_atomic(
            &dir.join(layout::OCI_INDEX),
            b"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}\n",
            &dir.join("tmp"),
        )?;
        let text = toml::to_string(&header).map_err(|e| Error::Other(e.to_string()))?;
        // the header goes last: a directory without it is not yet a bundle
        write_atomic(&layout.header(), text.as_bytes(), &dir.join("tmp"))?;
        sync_dir(dir)?;
        Ok((
            Bundle {
                layout,
                header,
                staging: None,
                work: Default::default(),
            },
            true,
        ))
    }

    /// Opens an existing bundle, refusing other directories and newer formats.
    pub fn open(dir: &Path) -> Result<Bundle> {
        let layout = Layout::new(dir);
        let hp = layout.header();
        let text = match fs::read_to_string(&hp) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotABundle(dir.to_path_buf()))
            }
            Err(e) => return Err(e).at("read", hp),
        };
        let header: Header = toml::from_str(&text).map_err(|e| {
            Error::Other(format!("{}: not a valid bundle header: {e}", hp.display()))
        })?;
        if header.format > FORMAT_VERSION {
            return Err(Error::BundleTooNew {
                path: dir.to_path_buf(),
                found: header.format,
                supported: FORMAT_VERSION,
            });
        }
        for d in DIRS {
            let p = dir.join(d);
            if !p.is_dir() {
                fs::create_dir_all(&p).at("create directory", &p)?;
            }
        }
        Ok(Bundle {
            layout,
            header,
            staging: None,
            work: Default::default(),
        })
    }

    /// This bundle for many concurrent writers: ingested blobs are staged without an fsync
    /// each and made durable in batches, by [`Bundle::commit_grouped`] or before any ref
    /// is written ([`group`]). Staged blobs not committed are removed when the last clone
    /// is dropped.
    pub fn staged(mut self) -> Bundle {
        self.staging = Some(Default::default());
        self
    }

    /// Path helpers.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    /// The bundle directory.
    pub fn root(&self) -> &Path {
        self.layout.root()
    }
    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The bundle id.
    pub fn id(&self) -> &str {
        &self.header.id
    }

    /// This process's work directory under `tmp/`, where its temp files live: gc leaves it
    /// alone while the process runs (§6). Made on first use, removed when the last clone of
    /// this bundle is dropped.
    pub fn work_dir(&self) -> Result<PathBuf> {
        let mut w = self.work.lock().expect("work dir lock");
        if w.is_none() {
            *w = Some(work::WorkDir::create(&self.layout)?);
        }
        Ok(w.as_ref().expect("just made").path().to_path_buf())
    }

    /// Waits for the writers' shared lock.
    pub fn lock_shared(&self) -> Result<lock::LockGuard> {
        lock::shared(&self.layout.lock_file(layout::LOCK))
    }
    /// The writers' lock (shared, or exclusive for a remover) if it is free now.
    pub fn try_lock(&self, exclusive: bool) -> Result<Option<lock::LockGuard>> {
        lock::try_now(&self.layout.lock_file(layout::LOCK), exclusive)
    }
    /// Waits for the exclusive lock.
    pub fn lock_exclusive(&self) -> Result<lock::LockGuard> {
        lock::exclusive(&self.layout.lock_file(layout::LOCK))
    }

    /// True when the blob is present (or staged).
    pub fn has_blob(&self, d: &Digest) -> bool {
        self.layout.blob(d).is_file() || self.staged_path(d).is_some()
    }
    fn staged_path(&self, d: &Digest) -> Option<PathBuf> {
        self.staging.as_ref().and_then(|s| s.path(d))
    }
    /// The size of a blob, if present (or staged).
    pub fn blob_size(&self, d: &Digest) -> Option<u64> {
        let p = self.staged_path(d).unwrap_or_else(|| self.layout.blob(d));
        fs::metadata(p)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    }
    /// Path of a blob.
    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.layout.blob(d)
    }
    /// Opens a blob for reading.
    pub fn open_blob(&self, d: &Digest) -> Result<fs::File> {
        let p = self.staged_path(d).unwrap_or_else(|| self.layout.blob(d));
        fs::File::open(&p).at("open blob", p)
    }
    /// Reads a (small) blob whole.
    pub fn read_blob(&self, d: &Digest) -> Result<Vec<u8>> {
        let p = self.staged_path(d).unwrap_or_else(|| self.layout.blob(d));
        fs::read(&p).at("read blob", p)
    }

    /// Reads the record at `key`, if any.
    pub fn read_ref(&self, key: &RefKey) -> Result<Option<RefRecord>> {
        let p = self.layout.ref_file(key);
        match fs::read(&p) {
            Ok(b) => Ok(Some(RefRecord::from_bytes(key, &b)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).at("read ref", p),
        }
    }

    /// Writes a record atomically. Under the writers' lock, so that no remover runs in
    /// between, every blob the record needs (for OCI records, the whole manifest graph) is
    /// checked to be present and the record is written (§6).
    pub fn write_ref(&self, rec: &RefRecord) -> Result<RefKey> {
        let key = rec.body.key()?;
        let _lock = self.lock_shared()?;
        self.flush_staged()?;
        self.check_needs(&key, rec)?;
        let p = self.layout.ref_file(&key);
        let parent = p.parent().expect("ref files live under refs/");
        fs::create_dir_all(parent).at("create directory", parent)?;
        write_atomic(&p, &rec.to_bytes(), &self.work_dir()?)?;
        sync_dir(parent)?;
        Ok(key)
    }

    fn check_needs(&self, key: &RefKey, rec: &RefRecord) -> Result<()> {
        let mut needed = std::collections::BTreeSet::new();
        graph::closure(self, key, &rec.body, &mut needed).map_err(|e| match e {
            Error::BadRef { key, reason } => Error::BadRef {
                key,
                reason: format!("{reason}; refs are written only after their blobs"),
            },
            e => e,
        })
    }

    /// Writes many records in one batch: temp files, one sync of the file system, renames,
    /// then one fsync per directory touched. As in [`Bundle::write_ref`], everything each
    /// record needs is checked under the writers' lock first.
    pub fn write_refs(&self, records: &[&RefRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let _lock = self.lock_shared()?;
        self.flush_staged()?;
        use rayon::prelude::*;
        let tmp_dir = self.work_dir()?;
        let mut made = std::collections::HashSet::new();
        let mut targets = Vec::with_capacity(records.len());
        for rec in records {
            let key = rec.body.key()?;
            self.check_needs(&key, rec)?;
            let target = self.layout.ref_file(&key);
            let parent = target
                .parent()
                .expect("ref files live under refs/")
                .to_path_buf();
            if made.insert(parent.clone()) {
                fs::create_dir_all(&parent).at("create directory", &parent)?;
            }
            targets.push(target);
        }
        let t0 = std::time::Instant::now();
        // file creation dominates on slow metadata paths: spread it over the cores
        let staged: Vec<(tempfile::TempPath, &PathBuf)> = records
            .par_iter()
            .zip(targets.par_iter())
            .map(|(rec, target)| {
                let mut tmp = tempfile::Builder::new()
                    .prefix("write-")
                    .tempfile_in(&tmp_dir)
                    .at("create temp file in", &tmp_dir)?;
                tmp.write_all(&rec.to_bytes()).at("write", tmp.path())?;
                Ok((tmp.into_temp_path(), target))
            })
            .collect::<Result<_>>()?;
        tracing::debug!(refs = records.len(), created = ?t0.elapsed(), "ref batch written");
        let t0 = std::time::Instant::now();
        let paths: Vec<PathBuf> = staged.iter().map(|(t, _)| t.to_path_buf()).collect();
        sync_paths(&tmp_dir, &paths)?;
        tracing::debug!(refs = records.len(), sync = ?t0.elapsed(), "ref batch durable");
        let t0 = std::time::Instant::now();
        staged.into_par_iter().try_for_each(|(tmp, target)| {
            tmp.persist(target).map(|_| ()).map_err(|e| Error::Io {
                action: "rename into",
                path: target.clone(),
                source: e.error,
            })
        })?;
        tracing::debug!(renames = ?t0.elapsed(), "ref batch renamed");
        let t0 = std::time::Instant::now();
        let dirs: Vec<PathBuf> = made.into_iter().collect();
        sync_paths(&tmp_dir, &dirs)?;
        tracing::debug!(dirs = dirs.len(), elapsed = ?t0.elapsed(), "ref directories synced");
        Ok(())
    }

    /// Number of ref files, counted without reading them.
    pub fn count_refs(&self) -> usize {
        walkdir::WalkDir::new(self.layout.refs_dir())
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .count()
    }

    /// Removes the record at `key`; returns whether it existed.
    pub fn remove_ref(&self, key: &RefKey) -> Result<bool> {
        let p = self.layout.ref_file(key);
        match fs::remove_file(&p) {
            Ok(()) => {
                if let Some(parent) = p.parent() {
                    sync_dir(parent)?;
                    remove_empty_dirs(parent, &self.layout.refs_dir());
                }
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).at("remove ref", p),
        }
    }

    /// Removes the record at `key` and journals the removal (§7.3) with `source`; returns
    /// the removed record, if there was one.
    pub fn remove_ref_journaled(&self, key: &RefKey, source: &str) -> Result<Option<RefRecord>> {
        let old = self.read_ref(key)?;
        if !self.remove_ref(key)? {
            return Ok(None);
        }
        let old_body = old
            .as_ref()
            .map(|r| serde_json::to_value(&r.body).expect("json"));
        self.journal(
            "refs.jsonl",
            &serde_json::json!({"time": refs::now_rfc3339(), "key": key.to_string(),
                "action": "remove", "source": source, "old": old_body, "new": null}),
        )?;
        Ok(old)
    }

    /// Every ref in the bundle, sorted by key. Unreadable records are reported as errors.
    pub fn list_refs(&self) -> Result<Vec<(RefKey, Result<RefRecord>)>> {
        self.list_refs_in(&self.layout.refs_dir())
    }

    /// Every ref of one ecosystem, sorted by key.
    pub fn list_ecosystem_refs(&self, ecosystem: &str) -> Result<Vec<(RefKey, Result<RefRecord>)>> {
        let dir = self
            .layout
            .refs_dir()
            .join(layout::escape_component(ecosystem));
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        self.list_refs_in(&dir)
    }

    /// Every ref whose key starts with `prefix`, sorted by key; empty when there are none.
    pub fn list_refs_under(&self, prefix: &[&str]) -> Result<Vec<(RefKey, Result<RefRecord>)>> {
        let dir = self.layout.ref_dir(prefix);
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        self.list_refs_in(&dir)
    }

    fn list_refs_in(&self, root: &Path) -> Result<Vec<(RefKey, Result<RefRecord>)>> {
        let mut out = Vec::new();
        self.walk_refs_in(root, |k, r| {
            out.push((k, r));
            Ok(())
        })?;
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Calls `f` for every ref record file (in file-name order, not key order) without
    /// holding them all in memory.
    pub fn walk_refs(&self, f: impl FnMut(RefKey, Result<RefRecord>) -> Result<()>) -> Result<()> {
        self.walk_refs_in(&self.layout.refs_dir(), f)
    }

    /// [`Bundle::walk_refs`] limited to keys starting with `prefix`.
    pub fn walk_refs_under(
        &self,
        prefix: &[&str],
        f: impl FnMut(RefKey, Result<RefRecord>) -> Result<()>,
    ) -> Result<()> {
        let dir = self.layout.ref_dir(prefix);
        if !dir.is_dir() {
            return Ok(());
        }
        self.walk_refs_in(&dir, f)
    }

    fn walk_refs_in(
        &self,
        root: &Path,
        mut f: impl FnMut(RefKey, Result<RefRecord>) -> Result<()>,
    ) -> Result<()> {
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            let entry = entry.map_err(|e| Error::Other(format!("walk {}: {e}", root.display())))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry.path().strip_prefix(self.root()).expect("under root");
            let bytes = fs::read(entry.path()).at("read ref", entry.path())?;
            match serde_json::from_slice::<RefRecord>(&bytes) {
                Ok(rec) => match rec.body.key() {
                    Ok(k) if k.rel_path() == rel => f(k, Ok(rec))?,
                    Ok(k) => f(
                        k.clone(),
                        Err(Error::BadRef {
                            key: rel.display().to_string(),
                            reason: format!(
                                "record names {k}, which belongs at {}",
                                k.rel_path().display()
                            ),
                        }),
                    )?,
                    Err(e) => f(path_key(rel), Err(e))?,
                },
                Err(e) => f(
                    path_key(rel),
                    Err(Error::BadRef {
                        key: rel.display().to_string(),
                        reason: format!("not a valid ref record: {e}"),
                    }),
                )?,
            }
        }
        Ok(())
    }

    /// Every readable ref, sorted by key.
    pub fn refs(&self) -> Result<Vec<(RefKey, RefRecord)>> {
        Ok(self
            .list_refs()?
            .into_iter()
            .filter_map(|(k, r)| r.ok().map(|r| (k, r)))
            .collect())
    }

    /// Every blob digest present in `blobs/sha256/`, sorted; names that are not digests are skipped.
    pub fn blobs(&self) -> Result<Vec<Digest>> {
        let dir = self.layout.blob_dir();
        let mut out = Vec::new();
        for e in fs::read_dir(&dir).at("read directory", &dir)? {
            let e = e.at("read directory", &dir)?;
            if let Some(name) = e.file_name().to_str() {
                if let Ok(d) = Digest::from_hex(name) {
                    out.push(d);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Rewrites the root `index.json` (OCI image layout) from the OCI tag refs, so OCI tools
    /// can read the bundle as a layout (`oci:DIR:<repository>:<tag>`). Derived data.
    pub fn rebuild_oci_index(&self) -> Result<()> {
        let mut manifests = Vec::new();
        for (_, rec) in self.list_ecosystem_refs("oci")? {
            if let Ok(RefRecord {
                body: refs::RefBody::OciTag(t),
                ..
            }) = rec
            {
                manifests.push(serde_json::json!({
                    "mediaType": t.media_type, "digest": t.digest, "size": t.size,
                    "annotations": {"org.opencontainers.image.ref.name": format!("{}:{}", t.repository, t.tag)}
                }));
            }
        }
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": oci::INDEX_V1, "manifests": manifests});
        let mut bytes = serde_json::to_vec_pretty(&index).expect("json");
        bytes.push(b'\n');
        let path = self.root().join(layout::OCI_INDEX);
        if std::fs::read(&path).ok().as_deref() == Some(&bytes[..]) {
            return Ok(());
        }
        write_atomic(&path, &bytes, &self.work_dir()?)
    }

    /// Looks refs up with one directory listing per directory instead of a probe per key.
    pub fn ref_probe(&self) -> RefProbe<'_> {
        RefProbe {
            bundle: self,
            listings: std::collections::HashMap::new(),
        }
    }

    /// Appends one JSON line to `journal/<name>`.
    pub fn journal(&self, name: &str, line: &serde_json::Value) -> Result<()> {
        let p = self.layout.journal_dir().join(name);
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .at("open journal", &p)?;
        let mut s = serde_json::to_vec(line).expect("json");
        s.push(b'\n');
        f.write_all(&s).at("append to journal", &p)?;
        f.sync_data().at("fsync", &p)
    }
}

/// Ref lookups backed by cached directory listings (see [`Bundle::ref_probe`]); valid while
/// no other writer adds refs to the directories it has listed.
pub struct RefProbe<'b> {
    bundle: &'b Bundle,
    listings: std::collections::HashMap<PathBuf, std::collections::HashSet<std::ffi::OsString>>,
}

impl RefProbe<'_> {
    /// The record at `key`, if any.
    pub fn get(&mut self, key: &RefKey) -> Result<Option<RefRecord>> {
        let path = self.bundle.layout.ref_file(key);
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return self.bundle.read_ref(key);
        };
        let names = self.listings.entry(dir.to_path_buf()).or_insert_with(|| {
            fs::read_dir(dir)
                .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
                .unwrap_or_default()
        });
        if names.contains(name) {
            self.bundle.read_ref(key)
        } else {
            Ok(None)
        }
    }
}

fn path_key(rel: &Path) -> RefKey {
    RefKey::new(
        rel.components()
            .skip(1)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    )
    .unwrap_or_else(|_| RefKey::new(["?", "?"]).expect("static key"))
}

fn remove_empty_dirs(mut dir: &Path, stop: &Path) {
    while dir != stop && dir.starts_with(stop) {
        if fs::remove_dir(dir).is_err() {
            break;
        }
        match dir.parent() {
            Some(p) => dir = p,
            None => break,
        }
    }
}

/// Bytes free for an unprivileged writer on the file system holding `dir`, where the
/// platform tells.
pub fn free_space(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        // SAFETY: statvfs writes only into the struct given; the path is NUL-terminated.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return None;
        }
        #[allow(clippy::unnecessary_cast)]
        Some(st.f_bavail as u64 * st.f_frsize as u64)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// Makes written files durable: one `syncfs` of the file system holding `dir` on Linux,
/// else an fsync of each path.
pub fn sync_paths(dir: &Path, paths: &[PathBuf]) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let d = fs::File::open(dir).at("open", dir)?;
        // SAFETY: syncfs takes any open descriptor on the file system to flush.
        if unsafe { libc::syncfs(d.as_raw_fd()) } == 0 {
            return Ok(());
        }
    }
    for p in paths {
        fs::File::open(p)
            .and_then(|f| f.sync_all())
            .at("fsync", p)?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: temp file in `tmp_dir`, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8], tmp_dir: &Path) -> Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix("write-")
        .tempfile_in(tmp_dir)
        .at("create temp file in", tmp_dir)?;
    tmp.write_all(bytes).at("write", tmp.path())?;
    tmp.as_file().sync_all().at("fsync", tmp.path())?;
    tmp.persist(path).map_err(|e| Error::Io {
        action: "rename into",
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}
