//! Reading one volume: its head (manifest, signature), then every entry, checked against
//! the manifest and hashed while streaming, committed only when the whole volume verified.

use super::pipeline::{pipelined, CountingRead};
use super::State;
use crate::bundle::layout::RefKey;
use crate::bundle::refs::RefRecord;
use crate::bundle::{sync_dir, sync_paths, write_atomic, Bundle};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::pack::manifest::{
    EntryKind, VolumeManifest, MANIFEST_NAME, MAX_MANIFEST, SIGNATURE_NAME,
};
use crate::progress::Progress;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

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
    /// The signature's trusted comment, when a key was given and the signature verified.
    pub trusted: Option<String>,
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

pub(super) fn bad(file: &Path, reason: impl Into<String>) -> Error {
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

/// Reads the manifest entry with checks made as its bytes arrive, so that a manifest
/// padded or bloated to exhaust memory is refused early: at most [`MAX_MANIFEST`] bytes, no
/// whitespace run longer than canonical indentation allows, no string over 64 KiB.
fn read_manifest(file: &Path, entry: &mut impl Read) -> Result<Vec<u8>> {
    const MAX_SPACE: usize = 64;
    const MAX_STRING: usize = 64 << 10;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    let (mut in_string, mut escaped, mut string_len, mut space) = (false, false, 0usize, 0usize);
    loop {
        let n = entry
            .read(&mut buf)
            .map_err(|e| bad(file, format!("reading {MANIFEST_NAME}: {e}")))?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() as u64 + n as u64 > MAX_MANIFEST {
            return Err(bad(
                file,
                format!("{MANIFEST_NAME} is larger than {MAX_MANIFEST} bytes"),
            ));
        }
        for &b in &buf[..n] {
            if in_string {
                string_len += 1;
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
                if string_len > MAX_STRING {
                    return Err(bad(
                        file,
                        format!("{MANIFEST_NAME} holds a string over {MAX_STRING} bytes; refusing this volume"),
                    ));
                }
            } else if b.is_ascii_whitespace() {
                space += 1;
                if space > MAX_SPACE {
                    return Err(bad(
                        file,
                        format!("{MANIFEST_NAME} is padded with whitespace; refusing this volume"),
                    ));
                }
            } else {
                space = 0;
                if b == b'"' {
                    in_string = true;
                    string_len = 0;
                }
            }
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Reads a volume's manifest (and signature) without touching any bundle. With a key, the
/// signature is checked over the manifest's bytes before they are parsed.
pub fn read_head(file: &Path, key: Option<&minisign::PublicKey>) -> Result<VolumeHead> {
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
    let manifest_bytes = read_manifest(file, &mut first)?;
    drop(first);
    let mut signature = None;
    if let Some(Ok(mut e)) = entries.next() {
        if e.path_bytes().as_ref() == SIGNATURE_NAME.as_bytes() {
            let b = read_small(file, &mut e, SIGNATURE_NAME, 64 * 1024)?;
            signature = Some(String::from_utf8_lossy(&b).into_owned());
        }
    }
    let trusted = match key {
        Some(pk) => Some(check_signature(
            file,
            &manifest_bytes,
            signature.as_deref(),
            pk,
        )?),
        None => None,
    };
    let manifest = VolumeManifest::parse(&file.display().to_string(), &manifest_bytes)?;
    Ok(VolumeHead {
        file: file.to_path_buf(),
        manifest,
        manifest_bytes,
        signature,
        trusted,
    })
}

/// Checks a volume's signature over its manifest bytes; returns the trusted comment.
fn check_signature(
    file: &Path,
    manifest: &[u8],
    signature: Option<&str>,
    pk: &minisign::PublicKey,
) -> Result<String> {
    let sig = signature.ok_or_else(|| {
        Error::Signature(format!(
            "{} is not signed, and a signature is required",
            file.display()
        ))
    })?;
    crate::pack::sign::verify(pk, manifest, sig).map_err(|e| {
        Error::Signature(format!(
            "{}: {}",
            file.display(),
            e.to_string().trim_start_matches("signature: ")
        ))
    })
}

/// Walks a volume's tar entries against its manifest: the manifest (and signature) entry
/// first, then every listed entry in order, each a regular file of the listed size.
struct Cursor<'m> {
    file: &'m Path,
    m: &'m VolumeManifest,
    signed: bool,
    position: usize,
    expect: std::iter::Enumerate<std::slice::Iter<'m, crate::pack::manifest::Entry>>,
}

impl<'m> Cursor<'m> {
    fn new(head: &'m VolumeHead) -> Self {
        Cursor {
            file: &head.file,
            m: &head.manifest,
            signed: head.signature.is_some(),
            position: 0,
            expect: head.manifest.entries.iter().enumerate(),
        }
    }

    /// Checks the next tar entry: `None` for the header entries, else the manifest entry
    /// (and its index) it must match, its path and its size.
    fn next(
        &mut self,
        entry: &tar::Entry<impl Read>,
    ) -> Result<Option<(usize, &'m crate::pack::manifest::Entry, String, u64)>> {
        let file = self.file;
        let path = check_entry(file, entry)?;
        self.position += 1;
        if (self.position == 1 && path == MANIFEST_NAME)
            || (self.position == 2 && path == SIGNATURE_NAME && self.signed)
        {
            return Ok(None);
        }
        let Some((i, want)) = self.expect.next() else {
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
        Ok(Some((i, want, path, size)))
    }

    /// Unwraps the tar reader's next entry, naming a read failure as truncation or corruption.
    fn entry<T>(&self, entry: io::Result<T>) -> Result<T> {
        entry.map_err(|e| {
            bad(
                self.file,
                format!("volume {} is truncated or corrupt: {e}", self.m.volume),
            )
        })
    }

    /// Checks an entry's content digest against the manifest.
    fn digest(&self, want: &crate::pack::manifest::Entry, path: &str, got: Digest) -> Result<()> {
        if got == want.digest {
            return Ok(());
        }
        Err(bad(
            self.file,
            format!("entry '{path}' does not match its digest (expected {}, got {got}); the volume is corrupt", want.digest),
        ))
    }

    /// Fails when the stream ended before every listed entry arrived.
    fn finish(mut self) -> Result<()> {
        match self.expect.next() {
            Some((_, missing)) => Err(bad(
                self.file,
                format!(
                    "volume {} is truncated: it ends before entry '{}' the manifest lists",
                    self.m.volume, missing.path
                ),
            )),
            None => Ok(()),
        }
    }
}

/// Most zero bytes accepted after the end of the tar stream (tar writers pad to a record).
const MAX_TAIL: u64 = 1 << 20;

/// Reads the rest of the stream after the tar end: only zeros may follow, at most
/// [`MAX_TAIL`] of them, and the compressed stream must end cleanly (its checksum is
/// checked there).
fn check_tail(file: &Path, volume: u32, mut rest: impl Read) -> Result<()> {
    let mut tail = [0u8; 64 * 1024];
    let mut seen = 0u64;
    loop {
        let n = rest.read(&mut tail).map_err(|e| {
            bad(
                file,
                format!("volume {volume} is truncated or corrupt: {e}"),
            )
        })?;
        if n == 0 {
            return Ok(());
        }
        seen += n as u64;
        if seen > MAX_TAIL {
            return Err(bad(
                file,
                format!("more than {MAX_TAIL} bytes follow the end of the tar stream; refusing this volume"),
            ));
        }
        if tail[..n].iter().any(|b| *b != 0) {
            return Err(bad(
                file,
                "data follows the end of the tar stream; refusing this volume",
            ));
        }
    }
}

/// Streams a whole volume and checks every entry against its manifest (order, type, size,
/// digest) and the end of the stream, writing nothing; returns the bytes checked.
pub fn check_volume(head: &VolumeHead) -> Result<u64> {
    let file = &head.file;
    let m = &head.manifest;
    let mut ar = tar::Archive::new(decoder(file)?);
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    let mut cursor = Cursor::new(head);
    let entries = ar
        .entries()
        .map_err(|e| bad(file, format!("not a tar stream: {e}")))?;
    for entry in entries {
        let mut entry = cursor.entry(entry)?;
        let Some((_, want, path, size)) = cursor.next(&entry)? else {
            continue;
        };
        let got = copy_hashing(&mut entry, None, size, &mut buf, file, &path)?;
        cursor.digest(want, &path, got)?;
        bytes += size;
    }
    cursor.finish()?;
    check_tail(file, m.volume, ar.into_inner())?;
    Ok(bytes)
}

/// Bytes streamed between two early writeback requests.
const FLUSH_EVERY: u64 = 128 << 20;

/// Threads writing small entries.
const WRITERS: usize = 2;

/// Entries up to this size are written by the writer threads.
const SMALL: u64 = 256 * 1024;

pub(super) fn read_volume(
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
    let started = std::time::Instant::now();
    let present: std::collections::HashSet<Digest> = bundle.blobs()?.into_iter().collect();
    room_for(bundle, head, &present, staging)?;
    let write_error: std::sync::Mutex<Option<Error>> = std::sync::Mutex::new(None);
    std::thread::scope(|scope| -> Result<()> {
        // small verified files go to two writer threads, so file creation overlaps with
        // decompressing and hashing the next entries; each writer creates in a directory
        // of its own, so neither waits on the other's directory lock
        let mut queues = Vec::with_capacity(WRITERS);
        for k in 0..WRITERS {
            let dir = work.path().join(format!("w{k}"));
            fs::create_dir(&dir).at("create directory", &dir)?;
            let (tx, rx) = std::sync::mpsc::sync_channel::<(PathBuf, Vec<u8>)>(4);
            queues.push((dir, tx));
            let write_error = &write_error;
            scope.spawn(move || {
                while let Ok((path, data)) = rx.recv() {
                    if let Err(e) = fs::write(&path, &data) {
                        write_error
                            .lock()
                            .expect("writer error")
                            .get_or_insert(Error::Io {
                                action: "write",
                                path,
                                source: e,
                            });
                    }
                }
            });
        }
        // a flusher starts writeback every FLUSH_EVERY bytes, so the disk writes overlap with
        // streaming instead of all waiting for the commit's sync
        let (ftx, frx) = std::sync::mpsc::sync_channel::<()>(1);
        let flush_dir = work.path().to_path_buf();
        scope.spawn(move || {
            while frx.recv().is_ok() {
                let _ = crate::bundle::sync_paths(&flush_dir, &[]);
            }
        });
        let mut unflushed = 0u64;
        {
            let entries = ar
                .entries()
                .map_err(|e| bad(file, format!("not a tar stream: {e}")))?;
            let mut cursor = Cursor::new(head);
            for entry in entries {
                let mut entry = cursor.entry(entry)?;
                let Some((i, want, path, size)) = cursor.next(&entry)? else {
                    continue;
                };
                let verify = |got: Digest| cursor.digest(want, &path, got);
                match want.kind {
                    EntryKind::Blob | EntryKind::Part => {
                        let existing =
                            want.kind == EntryKind::Blob && present.contains(&want.digest);
                        let mut dest = work.path().join(i.to_string());
                        let mut written = true;
                        if existing {
                            crate::bundle::ingest::touch(&bundle.blob_path(&want.digest));
                            verify(copy_hashing(&mut entry, None, size, &mut buf, file, &path)?)?;
                            written = false;
                        } else if size <= SMALL {
                            let mut data = Vec::with_capacity(size as usize);
                            verify(copy_hashing(
                                &mut entry,
                                Some(&mut data),
                                size,
                                &mut buf,
                                file,
                                &path,
                            )?)?;
                            let (dir, tx) = &queues[i % WRITERS];
                            dest = dir.join(i.to_string());
                            tx.send((dest.clone(), data))
                                .map_err(|_| Error::Other("writer threads stopped".into()))?;
                        } else {
                            let mut out = File::create(&dest).at("create", &dest)?;
                            verify(copy_hashing(
                                &mut entry,
                                Some(&mut out),
                                size,
                                &mut buf,
                                file,
                                &path,
                            )?)?;
                        }
                        if written {
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
                unflushed += size;
                if unflushed >= FLUSH_EVERY {
                    unflushed = 0;
                    let _ = ftx.try_send(());
                }
                let c = compressed.load(std::sync::atomic::Ordering::Relaxed);
                progress.advance(c - last_reported);
                last_reported = c;
            }
            cursor.finish()?;
        }
        drop(queues);
        drop(ftx);
        Ok(())
    })?;
    if let Some(e) = write_error.into_inner().expect("writer error") {
        return Err(e);
    }
    check_tail(file, m.volume, ar.into_inner())?;
    new_refs
        .into_inner()
        .map_err(|e| e.into_error())
        .at("write", &refs_tmp)?;
    tracing::info!(volume = m.volume, bytes, elapsed = ?started.elapsed(), "volume streamed and verified");
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
    let mut written: Vec<PathBuf> = new_blobs.iter().map(|(_, p)| p.clone()).collect();
    written.push(refs_tmp.clone());
    if let Ok(rd) = fs::read_dir(staging.join("assembly")) {
        written.extend(rd.flatten().map(|e| e.path()));
    }
    sync_paths(work.path(), &written)?;
    tracing::info!(volume = m.volume, elapsed = ?started.elapsed(), "volume durable");
    for (d, p) in &new_blobs {
        // a blob that appeared meanwhile has the same bytes: replacing it is harmless
        let target = bundle.blob_path(d);
        fs::rename(p, &target).at("rename blob into", &target)?;
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

/// Refuses a volume whose content would not fit on the bundle's disk, before a byte of it
/// is written: its new blobs, its parts (in `tmp/`, then in their blob's assembly file,
/// which takes the whole blob's size once) and its refs.
fn room_for(
    bundle: &Bundle,
    head: &VolumeHead,
    present: &std::collections::HashSet<Digest>,
    staging: &Path,
) -> Result<()> {
    let mut needed = 0u64;
    let mut assembling = std::collections::HashSet::new();
    for e in &head.manifest.entries {
        needed = needed.saturating_add(match e.kind {
            EntryKind::Blob if present.contains(&e.digest) => 0,
            EntryKind::Blob | EntryKind::Ref => e.size,
            EntryKind::Part => {
                // the part in tmp/, and then its bytes in the blob's assembly file
                let blob = e.blob.as_ref().expect("checked: parts name their blob");
                let into_assembly = if staging.join("assembly").join(blob.hex()).exists() {
                    e.size
                } else if assembling.insert(blob.clone()) {
                    e.blob_size.unwrap_or(0)
                } else {
                    0
                };
                e.size.saturating_add(into_assembly)
            }
        });
    }
    let Some(free) = crate::bundle::free_space(&bundle.layout().tmp_dir()) else {
        return Ok(());
    };
    if needed > free {
        return Err(Error::Other(format!(
            "{}: volume {} needs {} of free space to unpack into {}, which has {}; free space there, or unpack into a bundle on a larger disk",
            head.file.display(),
            head.manifest.volume,
            bytesize::ByteSize(needed),
            bundle.root().display(),
            bytesize::ByteSize(free),
        )));
    }
    Ok(())
}

/// Copies exactly `size` bytes, hashing them, into `w` (or nowhere), through one reused buffer.
fn copy_hashing(
    r: &mut impl Read,
    mut w: Option<&mut dyn Write>,
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
