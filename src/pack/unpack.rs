//! Unpacking: volumes in any order, every entry verified while streaming, content committed
//! only once verified, refs committed when the whole pack has arrived (bundle-format.md §9).

use crate::bundle::layout::{self, RefKey};
use crate::bundle::refs::RefRecord;
use crate::bundle::{lock, sync_dir, write_atomic, Bundle};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::pack::manifest::{EntryKind, PackHeader, VolumeManifest, MANIFEST_NAME, SIGNATURE_NAME};
use crate::pack::select::closure;
use crate::progress::Progress;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// How refs that differ from the bundle's are settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConflictPolicy {
    /// The bundle's record stays.
    Keep,
    /// The incoming record wins.
    Replace,
}

/// The operator's answer to a [`ConflictSummary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Settle conflicts with this policy.
    Merge(ConflictPolicy),
    /// Change nothing.
    Abort,
}

/// One ref that differs between the bundle and the incoming content.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    /// Ref key.
    pub key: String,
    /// What the bundle's record names.
    pub ours: String,
    /// What the incoming record names.
    pub theirs: String,
}

/// What committing a pack would change, for the operator to decide on.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictSummary {
    /// Pack file(s) the content comes from.
    pub source: String,
    /// Refs the bundle does not have.
    pub new: usize,
    /// Refs the bundle already has, identical.
    pub identical: usize,
    /// Refs that differ.
    pub conflicts: Vec<Conflict>,
    /// Refs in the bundle before.
    pub existing: usize,
}

/// Asks the operator to settle a merge.
pub type AskFn = dyn Fn(&ConflictSummary) -> Result<Decision>;

/// Options of `nora unpack` and `nora restore`.
#[derive(Default)]
pub struct UnpackOptions<'a> {
    /// Settle conflicts without asking.
    pub on_conflict: Option<ConflictPolicy>,
    /// Refuse volumes not signed by this key.
    pub require_signature: Option<&'a minisign::PublicKey>,
    /// Asks the operator; `None` when there is no terminal.
    pub ask: Option<&'a AskFn>,
    /// Restore semantics: a non-empty bundle always needs a decision.
    pub restore: bool,
}

/// What an unpack did.
#[derive(Debug, Default, Serialize)]
pub struct UnpackReport {
    /// Pack id.
    pub pack_id: String,
    /// Volumes of the pack.
    pub volumes: u32,
    /// Volumes read and committed in this run.
    pub read: Vec<u32>,
    /// Volumes given that were already unpacked.
    pub skipped: Vec<u32>,
    /// Volumes still missing (empty when complete).
    pub missing: Vec<u32>,
    /// True when the whole pack is in the bundle.
    pub complete: bool,
    /// True when the pack had been fully unpacked before this run.
    pub already: bool,
    /// Blobs newly stored.
    pub blobs_added: u64,
    /// Content bytes verified.
    pub bytes: u64,
    /// Refs added.
    pub refs_added: u64,
    /// Refs already present and identical.
    pub refs_unchanged: u64,
    /// Conflicting refs replaced by the pack's.
    pub refs_replaced: u64,
    /// Conflicting refs where the bundle's were kept.
    pub refs_kept: u64,
}

/// Progress of one pack's unpack, kept in `staging/<pack-id>/state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    pack_id: String,
    header: PackHeader,
    received: BTreeSet<u32>,
    /// Blob digests received so far (protects them from gc until the refs land).
    blobs: BTreeSet<Digest>,
    /// For each blob carried in parts: part numbers received.
    parts: BTreeMap<Digest, BTreeSet<u32>>,
}

/// A volume's first entries, read without touching the bundle.
pub struct VolumeHead {
    /// The volume file.
    pub file: PathBuf,
    /// Its manifest.
    pub manifest: VolumeManifest,
    /// The manifest's exact bytes.
    pub manifest_bytes: Vec<u8>,
    /// The signature entry, if any.
    pub signature: Option<String>,
}

/// Blobs `gc` must keep because an unfinished unpack holds them.
pub fn staged_blobs(bundle: &Bundle) -> Result<BTreeSet<Digest>> {
    let mut out = BTreeSet::new();
    let dir = bundle.layout().staging_dir();
    let Ok(rd) = fs::read_dir(&dir) else {
        return Ok(out);
    };
    for e in rd.flatten() {
        let p = e.path().join("state.json");
        if let Ok(b) = fs::read(&p) {
            if let Ok(s) = serde_json::from_slice::<State>(&b) {
                out.extend(s.blobs);
            }
        }
    }
    Ok(out)
}

fn decoder(file: &Path) -> Result<Box<dyn Read + Send>> {
    let f = File::open(file).at("open pack volume", file)?;
    decompress(file, BufReader::with_capacity(1 << 20, f))
}

/// Picks the decompressor from the stream's magic bytes.
fn decompress<R: io::BufRead + Send + 'static>(
    file: &Path,
    mut r: R,
) -> Result<Box<dyn Read + Send>> {
    let magic = r.fill_buf().at("read", file)?;
    if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let mut d = zstd::stream::read::Decoder::with_buffer(r).at("start zstd on", file)?;
        d.window_log_max(31).at("configure zstd for", file)?;
        Ok(Box::new(d))
    } else if magic.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(r)))
    } else {
        Err(bad(file, "not a nora pack: neither zstd nor gzip data"))
    }
}

fn bad(file: &Path, reason: impl Into<String>) -> Error {
    Error::BadPack {
        file: file.display().to_string(),
        reason: reason.into(),
    }
}

fn entry_kind_name(t: tar::EntryType) -> &'static str {
    match t {
        tar::EntryType::Symlink => "a symlink",
        tar::EntryType::Link => "a hardlink",
        tar::EntryType::Char => "a character device",
        tar::EntryType::Block => "a block device",
        tar::EntryType::Fifo => "a fifo",
        tar::EntryType::Directory => "a directory",
        _ => "not a regular file",
    }
}

/// Checks one tar entry's type and name before its bytes are read.
fn check_entry(file: &Path, entry: &tar::Entry<impl Read>) -> Result<String> {
    let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    let t = entry.header().entry_type();
    if path.starts_with('/') || path.split('/').any(|c| c == "..") || path.contains('\\') {
        return Err(bad(
            file,
            format!("entry '{path}' escapes the bundle; refusing this volume"),
        ));
    }
    if t != tar::EntryType::Regular && t != tar::EntryType::Continuous {
        return Err(bad(
            file,
            format!(
                "entry '{path}' is {}; packs carry only regular files",
                entry_kind_name(t)
            ),
        ));
    }
    Ok(path)
}

fn read_small(file: &Path, entry: &mut impl Read, what: &str, limit: u64) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    entry
        .take(limit + 1)
        .read_to_end(&mut v)
        .map_err(|e| bad(file, format!("reading {what}: {e}")))?;
    if v.len() as u64 > limit {
        return Err(bad(file, format!("{what} is larger than {limit} bytes")));
    }
    Ok(v)
}

/// Reads a volume's manifest (and signature) without touching any bundle.
pub fn read_head(file: &Path) -> Result<VolumeHead> {
    let mut ar = tar::Archive::new(decoder(file)?);
    let mut entries = ar
        .entries()
        .map_err(|e| bad(file, format!("not a tar stream: {e}")))?;
    let mut first = match entries.next() {
        Some(Ok(e)) => e,
        Some(Err(e)) => return Err(bad(file, format!("not a nora pack: {e}"))),
        None => return Err(bad(file, "empty tar stream; not a nora pack")),
    };
    let path = check_entry(file, &first)?;
    if path != MANIFEST_NAME {
        return Err(bad(
            file,
            format!("not a nora pack: first entry is '{path}', not {MANIFEST_NAME}"),
        ));
    }
    let manifest_bytes = read_small(file, &mut first, MANIFEST_NAME, 1 << 30)?;
    drop(first);
    let manifest = VolumeManifest::parse(&file.display().to_string(), &manifest_bytes)?;
    let mut signature = None;
    if let Some(Ok(mut e)) = entries.next() {
        if e.path_bytes().as_ref() == SIGNATURE_NAME.as_bytes() {
            let b = read_small(file, &mut e, SIGNATURE_NAME, 64 * 1024)?;
            signature = Some(String::from_utf8_lossy(&b).into_owned());
        }
    }
    Ok(VolumeHead {
        file: file.to_path_buf(),
        manifest,
        manifest_bytes,
        signature,
    })
}

/// Checks a volume's signature with a public key; returns the trusted comment.
pub fn check_signature(head: &VolumeHead, pk: &minisign::PublicKey) -> Result<String> {
    let sig = head.signature.as_deref().ok_or_else(|| {
        Error::Signature(format!(
            "{} is not signed, and a signature is required",
            head.file.display()
        ))
    })?;
    crate::pack::sign::verify(pk, &head.manifest_bytes, sig).map_err(|e| {
        Error::Signature(format!(
            "{}: {}",
            head.file.display(),
            e.to_string().trim_start_matches("signature: ")
        ))
    })
}

fn packs_done(bundle: &Bundle) -> BTreeSet<String> {
    let p = bundle.layout().journal_dir().join("packs.jsonl");
    fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            v.get("pack_id")
                .and_then(|x| x.as_str())
                .map(str::to_string)
        })
        .collect()
}

/// Unpacks volumes of one pack into the bundle.
pub fn unpack(
    bundle: &Bundle,
    files: &[PathBuf],
    opts: &UnpackOptions,
    progress: &dyn Progress,
) -> Result<UnpackReport> {
    if files.is_empty() {
        return Err(Error::Other("no pack volumes given".into()));
    }
    let _unpack_lock = lock::try_exclusive(
        &bundle.layout().lock_file(layout::UNPACK_LOCK),
        &format!(
            "another nora unpack or restore is running on {}; wait for it to finish, then run this again",
            bundle.root().display()
        ),
    )?;
    let _writer_lock = bundle.lock_shared()?;
    let mut heads = Vec::new();
    for f in files {
        let h = read_head(f)?;
        if let Some(pk) = opts.require_signature {
            check_signature(&h, pk)?;
        }
        heads.push(h);
    }
    let first = &heads[0];
    for h in &heads[1..] {
        if h.manifest.pack_id != first.manifest.pack_id {
            return Err(bad(
                &h.file,
                format!(
                    "belongs to pack {}, but {} belongs to pack {}; unpack one pack at a time",
                    &h.manifest.pack_id[..16],
                    first.file.display(),
                    &first.manifest.pack_id[..16]
                ),
            ));
        }
    }
    let pack_id = first.manifest.pack_id.clone();
    let header = first.manifest.header.clone();
    let mut report = UnpackReport {
        pack_id: pack_id.clone(),
        volumes: header.volumes,
        ..Default::default()
    };
    if packs_done(bundle).contains(&pack_id) {
        report.complete = true;
        report.already = true;
        report.skipped = heads.iter().map(|h| h.manifest.volume).collect();
        return Ok(report);
    }
    let missing_required: Vec<&Digest> = header
        .requires
        .iter()
        .filter(|d| !bundle.has_blob(d))
        .collect();
    if !missing_required.is_empty() {
        let base = header
            .base
            .as_ref()
            .map(|b| {
                format!(
                    "receipt {} of bundle {}",
                    &b.receipt[..16.min(b.receipt.len())],
                    b.bundle
                )
            })
            .unwrap_or_else(|| "a receipt".into());
        let list: Vec<String> = missing_required
            .iter()
            .take(20)
            .map(|d| d.to_string())
            .collect();
        return Err(bad(
            &first.file,
            format!(
                "this delta was cut against {base}, and the target bundle lacks {} blob(s) it needs: {}{}; unpack the earlier packs first or ask for a full pack",
                missing_required.len(),
                list.join(", "),
                if missing_required.len() > 20 { ", …" } else { "" }
            ),
        ));
    }
    let staging = bundle.layout().staging(&pack_id);
    let state_path = staging.join("state.json");
    let mut state = match fs::read(&state_path) {
        Ok(b) => serde_json::from_slice::<State>(&b).map_err(|e| {
            Error::Other(format!(
                "{}: unreadable unpack state: {e}",
                state_path.display()
            ))
        })?,
        Err(_) => State {
            pack_id: pack_id.clone(),
            header: header.clone(),
            received: BTreeSet::new(),
            blobs: BTreeSet::new(),
            parts: BTreeMap::new(),
        },
    };
    heads.sort_by_key(|h| h.manifest.volume);
    heads.dedup_by_key(|h| h.manifest.volume);
    let total: u64 = heads
        .iter()
        .filter(|h| !state.received.contains(&h.manifest.volume))
        .filter_map(|h| fs::metadata(&h.file).ok().map(|m| m.len()))
        .sum();
    progress.start("unpack", Some(total));
    for h in &heads {
        let v = h.manifest.volume;
        if state.received.contains(&v) {
            report.skipped.push(v);
            continue;
        }
        let (blobs_added, bytes) = read_volume(bundle, h, &staging, &mut state, progress)?;
        report.blobs_added += blobs_added;
        report.bytes += bytes;
        report.read.push(v);
    }
    progress.finish();
    report.missing = (1..=header.volumes)
        .filter(|v| !state.received.contains(v))
        .collect();
    if !report.missing.is_empty() {
        return Ok(report);
    }
    finish(bundle, &staging, &state, opts, &heads, &mut report)?;
    report.complete = true;
    Ok(report)
}

struct ChannelReader {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    back: std::sync::mpsc::SyncSender<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.buf.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(b)) if b.is_empty() => self.done = true,
                Ok(Ok(b)) => {
                    let used = std::mem::replace(&mut self.buf, b);
                    let _ = self.back.try_send(used);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => self.done = true,
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

const CHUNK: usize = 1 << 20;

/// Decompresses on its own thread so hashing and writing overlap with it; chunk buffers
/// travel back for reuse, so memory stays at a handful of chunks.
fn pipelined(
    mut r: Box<dyn Read + Send>,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> ChannelReader {
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(3);
    let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    std::thread::spawn(move || loop {
        let mut b = back_rx.try_recv().unwrap_or_default();
        b.resize(CHUNK, 0);
        let mut filled = 0;
        let res = loop {
            match r.read(&mut b[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == b.len() {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        counter.fetch_add(filled as u64, std::sync::atomic::Ordering::Relaxed);
        b.truncate(filled);
        let end = filled == 0;
        match res {
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
            Ok(()) => {
                if tx.send(Ok(b)).is_err() || end {
                    return;
                }
            }
        }
    });
    ChannelReader {
        rx,
        back: back_tx,
        buf: Vec::new(),
        pos: 0,
        done: false,
    }
}

struct CountingRead<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for CountingRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

fn read_volume(
    bundle: &Bundle,
    head: &VolumeHead,
    staging: &Path,
    state: &mut State,
    progress: &dyn Progress,
) -> Result<(u64, u64)> {
    let file = &head.file;
    let m = &head.manifest;
    let tmp_root = bundle.layout().tmp_dir();
    let work = tempfile::Builder::new()
        .prefix(&format!("unpack-{}-{}-", &m.pack_id[..16], m.volume))
        .tempdir_in(&tmp_root)
        .at("create temp directory in", &tmp_root)?;
    let raw = File::open(file).at("open pack volume", file)?;
    let compressed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = CountingRead {
        inner: raw,
        count: compressed.clone(),
    };
    let dec = decompress(file, BufReader::with_capacity(1 << 20, counted))?;
    let plain = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut ar = tar::Archive::new(pipelined(dec, plain));
    let mut new_blobs: Vec<(Digest, PathBuf)> = Vec::new();
    let refs_tmp = work.path().join("refs.jsonl");
    let mut new_refs = io::BufWriter::new(File::create(&refs_tmp).at("create", &refs_tmp)?);
    let mut ref_count = 0usize;
    let mut parts_done: Vec<(crate::pack::manifest::Entry, PathBuf)> = Vec::new();
    let mut bytes = 0u64;
    let mut last_reported = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    {
        let mut entries = ar
            .entries()
            .map_err(|e| bad(file, format!("not a tar stream: {e}")))?;
        let mut expect = m.entries.iter().enumerate();
        let mut position = 0usize;
        loop {
            let next = entries.next();
            let mut entry = match next {
                None => break,
                Some(Err(e)) => {
                    return Err(bad(
                        file,
                        format!("volume {} is truncated or corrupt: {e}", m.volume),
                    ))
                }
                Some(Ok(e)) => e,
            };
            let path = check_entry(file, &entry)?;
            position += 1;
            let header_entry = match position {
                1 => path == MANIFEST_NAME,
                2 => path == SIGNATURE_NAME && head.signature.is_some(),
                _ => false,
            };
            if header_entry {
                io::copy(&mut entry, &mut io::sink())
                    .map_err(|e| bad(file, format!("reading {path}: {e}")))?;
                continue;
            }
            let Some((i, want)) = expect.next() else {
                return Err(bad(
                    file,
                    format!("entry '{path}' is not listed in the volume manifest"),
                ));
            };
            if path != want.path {
                return Err(bad(
                    file,
                    format!("entry '{path}' is not the next entry the manifest lists ('{}'); refusing this volume", want.path),
                ));
            }
            let size = entry
                .header()
                .size()
                .map_err(|e| bad(file, format!("entry '{path}': bad size: {e}")))?;
            if size != want.size {
                return Err(bad(
                    file,
                    format!(
                        "entry '{path}' holds {size} bytes, the manifest says {}",
                        want.size
                    ),
                ));
            }
            let verify = |got: Digest| -> Result<()> {
                if got != want.digest {
                    Err(bad(file, format!("entry '{path}' does not match its digest (expected {}, got {got}); the volume is corrupt", want.digest)))
                } else {
                    Ok(())
                }
            };
            match want.kind {
                EntryKind::Blob | EntryKind::Part => {
                    let existing = want.kind == EntryKind::Blob && bundle.has_blob(&want.digest);
                    let dest = work.path().join(i.to_string());
                    let mut out = if existing {
                        crate::bundle::ingest::touch(&bundle.blob_path(&want.digest));
                        None
                    } else {
                        Some(File::create(&dest).at("create", &dest)?)
                    };
                    verify(copy_hashing(
                        &mut entry,
                        out.as_mut(),
                        size,
                        &mut buf,
                        file,
                        &path,
                    )?)?;
                    if out.is_some() {
                        if want.kind == EntryKind::Blob {
                            new_blobs.push((want.digest.clone(), dest));
                        } else {
                            parts_done.push((want.clone(), dest));
                        }
                    }
                }
                EntryKind::Ref => {
                    let bytes = read_small(file, &mut entry, &path, 64 << 20)?;
                    verify(Digest::of(&bytes))?;
                    let key = RefKey::parse(want.key.as_deref().unwrap_or_default())?;
                    let rec = RefRecord::from_bytes(&key, &bytes)
                        .map_err(|e| bad(file, e.to_string()))?;
                    let mut line = serde_json::to_vec(&rec).expect("records serialize");
                    line.push(b'\n');
                    new_refs.write_all(&line).at("write", &refs_tmp)?;
                    ref_count += 1;
                }
            }
            bytes += size;
            let c = compressed.load(std::sync::atomic::Ordering::Relaxed);
            progress.advance(c - last_reported);
            last_reported = c;
        }
        if let Some((_, missing)) = expect.next() {
            return Err(bad(
                file,
                format!(
                    "volume {} is truncated: it ends before entry '{}' the manifest lists",
                    m.volume, missing.path
                ),
            ));
        }
    }
    let mut rest = ar.into_inner();
    let mut tail = [0u8; 64 * 1024];
    loop {
        let n = rest.read(&mut tail).map_err(|e| {
            bad(
                file,
                format!("volume {} is truncated or corrupt: {e}", m.volume),
            )
        })?;
        if n == 0 {
            break;
        }
        if tail[..n].iter().any(|b| *b != 0) {
            return Err(bad(
                file,
                "data follows the end of the tar stream; refusing this volume",
            ));
        }
    }
    new_refs
        .into_inner()
        .map_err(|e| e.into_error())
        .at("write", &refs_tmp)?;
    // everything verified: parts into their blobs' assembly files, then make it durable
    for (e, p) in &parts_done {
        let blob = e.blob.as_ref().expect("parts name their blob");
        let asm_dir = staging.join("assembly");
        fs::create_dir_all(&asm_dir).at("create directory", &asm_dir)?;
        let asm = asm_dir.join(blob.hex());
        let mut f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&asm)
            .at("open", &asm)?;
        let blob_size = e.blob_size.unwrap_or(0);
        if f.metadata().at("stat", &asm)?.len() != blob_size {
            f.set_len(blob_size).at("size", &asm)?;
        }
        f.seek(SeekFrom::Start(e.offset.unwrap_or(0)))
            .at("seek in", &asm)?;
        let mut src = File::open(p).at("open", p)?;
        io::copy(&mut src, &mut f).at("copy part into", &asm)?;
        fs::remove_file(p).at("remove", p)?;
    }
    sync_all_in(work.path(), &new_blobs, staging)?;
    for (d, p) in &new_blobs {
        let target = bundle.blob_path(d);
        if !target.exists() {
            fs::rename(p, &target).at("rename blob into", &target)?;
        }
    }
    bundle.sync_blob_dir()?;
    if ref_count > 0 {
        let refs_dir = staging.join("refs");
        fs::create_dir_all(&refs_dir).at("create directory", &refs_dir)?;
        let target = refs_dir.join(format!("{:04}.jsonl", m.volume));
        fs::rename(&refs_tmp, &target).at("stage refs", &target)?;
        sync_dir(&refs_dir)?;
    }
    state.received.insert(m.volume);
    state.blobs.extend(
        m.entries
            .iter()
            .filter(|e| e.kind == EntryKind::Blob)
            .map(|e| e.digest.clone()),
    );
    for (e, _) in parts_done {
        let blob = e.blob.expect("parts name their blob");
        state
            .parts
            .entry(blob)
            .or_default()
            .insert(e.index.unwrap_or(0));
    }
    fs::create_dir_all(staging).at("create directory", staging)?;
    write_atomic(
        &staging.join("state.json"),
        &serde_json::to_vec_pretty(&*state).expect("state"),
        &bundle.layout().tmp_dir(),
    )?;
    sync_dir(staging)?;
    let c = compressed.load(std::sync::atomic::Ordering::Relaxed);
    progress.advance(c.saturating_sub(last_reported));
    Ok((new_blobs.len() as u64, bytes))
}

/// Copies exactly `size` bytes, hashing them, into `w` (or nowhere), through one reused buffer.
fn copy_hashing(
    r: &mut impl Read,
    mut w: Option<&mut File>,
    size: u64,
    buf: &mut [u8],
    file: &Path,
    path: &str,
) -> Result<Digest> {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    let mut left = size;
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = match r.read(&mut buf[..want]) {
            Ok(0) => {
                return Err(bad(
                    file,
                    format!(
                        "entry '{path}' is truncated: {} of {size} bytes",
                        size - left
                    ),
                ))
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(bad(
                    file,
                    format!("entry '{path}' is truncated or corrupt: {e}"),
                ))
            }
        };
        h.update(&buf[..n]);
        if let Some(w) = w.as_deref_mut() {
            w.write_all(&buf[..n])
                .map_err(|e| bad(file, format!("writing entry '{path}': {e}")))?;
        }
        left -= n as u64;
    }
    Ok(Digest::from_bytes(&h.finalize()))
}

/// Makes every file written for a volume durable: one `syncfs` where the platform has it.
fn sync_all_in(work: &Path, blobs: &[(Digest, PathBuf)], staging: &Path) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let d = File::open(work).at("open", work)?;
        // SAFETY: syncfs takes any open descriptor on the file system to flush.
        let rc = unsafe { libc::syncfs(d.as_raw_fd()) };
        if rc == 0 {
            return Ok(());
        }
    }
    for (_, p) in blobs {
        File::open(p).and_then(|f| f.sync_all()).at("fsync", p)?;
    }
    if let Ok(rd) = fs::read_dir(staging.join("assembly")) {
        for e in rd.flatten() {
            File::open(e.path())
                .and_then(|f| f.sync_all())
                .at("fsync", e.path())?;
        }
    }
    for e in walkdir::WalkDir::new(work)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
    {
        File::open(e.path())
            .and_then(|f| f.sync_all())
            .at("fsync", e.path())?;
    }
    Ok(())
}

/// Reads the staged ref files of a pack one record at a time.
fn for_each_staged(dir: &Path, mut f: impl FnMut(RefKey, RefRecord) -> Result<()>) -> Result<()> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Ok(());
    };
    let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    files.sort();
    for p in files {
        let r = io::BufReader::new(File::open(&p).at("open staged refs", &p)?);
        for line in io::BufRead::lines(r) {
            let line = line.at("read staged refs", &p)?;
            let rec: RefRecord = serde_json::from_str(&line).map_err(|err| {
                Error::Other(format!("{}: unreadable staged ref: {err}", p.display()))
            })?;
            f(rec.body.key()?, rec)?;
        }
    }
    Ok(())
}

fn describe(rec: &RefRecord) -> String {
    let blobs = rec.body.blobs();
    match blobs.last() {
        Some(d) => format!("{} ({})", rec.body.display_name(), &d.to_string()[..19]),
        None => rec.body.display_name(),
    }
}

fn finish(
    bundle: &Bundle,
    staging: &Path,
    state: &State,
    opts: &UnpackOptions,
    heads: &[VolumeHead],
    report: &mut UnpackReport,
) -> Result<()> {
    // blobs carried in parts: every part verified on arrival; now the whole
    for (blob, got) in &state.parts {
        let target = bundle.blob_path(blob);
        if target.exists() {
            continue;
        }
        let asm = staging.join("assembly").join(blob.hex());
        let (d, _) = crate::digest::hash_file(&asm).at("hash", &asm)?;
        if &d != blob {
            return Err(Error::DigestMismatch {
                what: format!("blob reassembled from {} parts", got.len()),
                expected: blob.to_string(),
                actual: d.to_string(),
            });
        }
        File::open(&asm)
            .and_then(|f| f.sync_all())
            .at("fsync", &asm)?;
        fs::rename(&asm, &target).at("rename blob into", &target)?;
        bundle.sync_blob_dir()?;
        report.blobs_added += 1;
    }
    // pass 1: classify every staged ref, keeping only the keys of new ones and the conflicts
    let refs_root = staging.join("refs");
    let mut new: std::collections::HashSet<RefKey> = std::collections::HashSet::new();
    let mut identical = 0usize;
    let mut conflicts = Vec::new();
    for_each_staged(&refs_root, |k, rec| {
        let mut needed = BTreeSet::new();
        closure(bundle, &k, &rec.body, &mut needed)
            .map_err(|e| Error::Other(format!("pack {}: {e}", &state.pack_id[..16])))?;
        match bundle.read_ref(&k)? {
            None => {
                new.insert(k);
            }
            Some(old) if old.same_target(&rec) => identical += 1,
            Some(old) => conflicts.push((k, old, rec)),
        }
        Ok(())
    })?;
    conflicts.sort_by(|a, b| a.0.cmp(&b.0));
    let existing = bundle.count_refs();
    let source = heads
        .iter()
        .map(|h| h.file.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let needs_decision = !conflicts.is_empty() || (opts.restore && existing > 0);
    let policy = if !needs_decision {
        ConflictPolicy::Keep
    } else if let Some(p) = opts.on_conflict {
        p
    } else {
        let summary = ConflictSummary {
            source: source.clone(),
            new: new.len(),
            identical,
            conflicts: conflicts
                .iter()
                .map(|(k, old, rec)| Conflict {
                    key: k.to_string(),
                    ours: describe(old),
                    theirs: describe(rec),
                })
                .collect(),
            existing,
        };
        match opts.ask {
            Some(ask) => match ask(&summary)? {
                Decision::Merge(p) => p,
                Decision::Abort => {
                    return Err(Error::Other(
                        "aborted; no ref changed (the pack stays staged: run the same command again to decide anew)"
                            .to_string(),
                    ))
                }
            },
            None if conflicts.is_empty() => {
                return Err(Error::Other(format!(
                    "the bundle already holds {existing} ref(s) and restoring {source} would merge into it; \
                     pass --yes or --on-conflict keep|replace to proceed without a terminal"
                )))
            }
            None => {
                let sample: Vec<String> = summary.conflicts.iter().take(5).map(|c| format!("{} (bundle: {}, pack: {})", c.key, c.ours, c.theirs)).collect();
                return Err(Error::Conflicts { count: conflicts.len(), source_name: source, sample: sample.join("; ") });
            }
        }
    };
    // pass 2: write the new refs in batches, then the conflicts the policy replaces
    let mut batch: Vec<RefRecord> = Vec::new();
    for_each_staged(&refs_root, |k, rec| {
        if new.contains(&k) {
            batch.push(rec);
            if batch.len() >= 4096 {
                bundle.write_refs(&batch.iter().collect::<Vec<_>>())?;
                batch.clear();
            }
        }
        Ok(())
    })?;
    bundle.write_refs(&batch.iter().collect::<Vec<_>>())?;
    report.refs_added = new.len() as u64;
    report.refs_unchanged = identical as u64;
    let mut replaced = Vec::new();
    for (k, old, rec) in &conflicts {
        match policy {
            ConflictPolicy::Keep => report.refs_kept += 1,
            ConflictPolicy::Replace => {
                replaced.push(rec);
                bundle.journal(
                    "refs.jsonl",
                    &serde_json::json!({"time": crate::bundle::refs::now_rfc3339(), "key": k.to_string(),
                        "action": "replace", "source": format!("pack {}", state.pack_id), "old": old.body, "new": rec.body}),
                )?;
                report.refs_replaced += 1;
            }
        }
    }
    bundle.write_refs(&replaced)?;
    bundle.journal(
        "packs.jsonl",
        &serde_json::json!({"time": crate::bundle::refs::now_rfc3339(), "pack_id": state.pack_id,
            "purpose": state.header.purpose, "source_bundle": state.header.source_bundle,
            "volumes": state.header.volumes, "refs_added": report.refs_added,
            "refs_replaced": report.refs_replaced, "refs_kept": report.refs_kept}),
    )?;
    fs::remove_dir_all(staging).at("remove staging directory", staging)?;
    if report.refs_added + report.refs_replaced > 0 {
        bundle.rebuild_oci_index()?;
    }
    Ok(())
}
