//! Writing packs: volume files with the manifest first, deterministic tar headers, zstd or gzip.

use crate::bundle::Bundle;
use crate::error::{Error, IoContext, Result};
use crate::pack::manifest::{self, Base, ManifestOut, PackHeader, TableRow, Totals, PACK_FORMAT};
use crate::pack::plan::{self, Planned, Source};
use crate::pack::receipt::Receipt;
use crate::pack::select;
use crate::progress::Progress;
use serde::Serialize;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Compression of a pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// zstd, level 3, one frame with checksum (default).
    Zstd,
    /// gzip, level 6.
    Gzip,
}

impl Compression {
    fn name(self) -> &'static str {
        match self {
            Compression::Zstd => "zstd",
            Compression::Gzip => "gzip",
        }
    }
}

/// Options of `nora pack` (and `backup`).
pub struct PackOptions<'a> {
    /// Output file (volumes get `.NNN` before the `.tar.zst` suffix).
    pub output: PathBuf,
    /// Receipt of the far side, for a delta.
    pub since: Option<&'a Receipt>,
    /// Largest volume size (every volume is strictly smaller).
    pub split: Option<u64>,
    /// Compression.
    pub compression: Compression,
    /// Secret key to sign every volume manifest with.
    pub sign: Option<&'a minisign::SecretKey>,
    /// Only plan and report.
    pub dry_run: bool,
    /// `pack` or `backup`.
    pub purpose: &'static str,
}

/// What was (or would be) written.
#[derive(Debug, Serialize)]
pub struct PackReport {
    /// The pack id.
    pub pack_id: String,
    /// Volume files.
    pub files: Vec<PathBuf>,
    /// Refs carried.
    pub refs: u64,
    /// Blobs carried.
    pub blobs: u64,
    /// Content bytes carried.
    pub bytes: u64,
    /// Blobs required from the far side (deltas).
    pub requires: u64,
    /// Refs per ecosystem.
    pub ecosystems: std::collections::BTreeMap<String, usize>,
    /// Bytes written (compressed), 0 on a dry run.
    pub written: u64,
    /// Each entry (dry run only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<String>,
}

/// Name of volume `n` of `total` for an output path.
pub fn volume_path(out: &Path, n: u32, total: u32) -> PathBuf {
    if total == 1 {
        return out.to_path_buf();
    }
    let name = out
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let suffixes = [".tar.zst", ".tar.gz", ".tgz", ".tzst"];
    let new = match suffixes.iter().find(|s| name.ends_with(*s)) {
        Some(s) => format!("{}.{n:03}{s}", &name[..name.len() - s.len()]),
        None => format!("{name}.{n:03}"),
    };
    out.with_file_name(new)
}

/// Cuts a pack from the bundle.
pub fn pack(bundle: &Bundle, opts: &PackOptions, progress: &dyn Progress) -> Result<PackReport> {
    let sel = {
        let _lock = bundle.lock_shared()?;
        select::select(bundle, opts.since)?
    };
    let volumes = plan::plan(bundle, &sel, opts.split)?;
    let n = volumes.len() as u32;
    let table: Vec<TableRow> = volumes
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let entries: Vec<&manifest::Entry> = v.iter().map(|p| &p.entry).collect();
            TableRow {
                volume: i as u32 + 1,
                entries: entries.len() as u64,
                bytes: entries.iter().map(|e| e.size).sum(),
                digest: manifest::entries_digest(&entries),
            }
        })
        .collect();
    let totals = Totals {
        blobs: sel.blobs.len() as u64,
        refs: sel.refs.len() as u64,
        bytes: table.iter().map(|r| r.bytes).sum(),
    };
    let header = PackHeader {
        purpose: opts.purpose.to_string(),
        created: sel.created.clone(),
        source_bundle: bundle.id().to_string(),
        compression: opts.compression.name().to_string(),
        base: opts.since.map(|r| Base {
            receipt: r.id.clone(),
            bundle: r.bundle.clone(),
        }),
        requires: sel.requires.clone(),
        volumes: n,
        table,
        totals: totals.clone(),
    };
    let pack_id = manifest::pack_id(&header);
    let files: Vec<PathBuf> = (1..=n).map(|i| volume_path(&opts.output, i, n)).collect();
    let mut report = PackReport {
        pack_id: pack_id.clone(),
        files: files.clone(),
        refs: totals.refs,
        blobs: totals.blobs,
        bytes: totals.bytes,
        requires: sel.requires.len() as u64,
        ecosystems: select::by_ecosystem(&sel),
        written: 0,
        entries: Vec::new(),
    };
    if opts.dry_run {
        report.entries = volumes
            .iter()
            .enumerate()
            .flat_map(|(i, v)| {
                v.iter()
                    .map(move |p| format!("{}\t{}\t{}", i + 1, p.entry.size, p.entry.path))
            })
            .collect();
        return Ok(report);
    }
    let mtime = humantime::parse_rfc3339(&sel.created)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    remove_stale_temp_files(&opts.output);
    progress.start("pack", Some(totals.bytes));
    for (i, entries) in volumes.into_iter().enumerate() {
        let m = ManifestOut {
            nora_pack: PACK_FORMAT,
            pack_id: &pack_id,
            header: &header,
            volume: i as u32 + 1,
            entries: entries.iter().map(|p| &p.entry).collect(),
        };
        let written = write_volume(bundle, &sel, &files[i], &m, &entries, opts, mtime, progress)?;
        if let Some(limit) = opts.split {
            if written >= limit {
                return Err(Error::Other(format!(
                    "{} came out at {written} bytes, not below --split {limit}; please report this",
                    files[i].display()
                )));
            }
        }
        report.written += written;
    }
    progress.finish();
    Ok(report)
}

/// Prefix of the temp file a volume is written to, beside its final name.
const TEMP_PREFIX: &str = ".nora-pack-";

/// Removes the temp files that killed packs left beside `output` (those no running pack
/// holds locked), so they do not pile up on removable media.
fn remove_stale_temp_files(output: &Path) {
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        if !e.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let Ok(f) = std::fs::File::open(e.path()) else {
            continue;
        };
        if f.try_lock().is_ok() && std::fs::remove_file(e.path()).is_ok() {
            tracing::info!(file = %e.path().display(), "removed the temp file of an earlier pack that did not finish");
        }
    }
}

fn header(path: &str, size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    let _ = path;
    h
}

fn append<W: Write>(
    t: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    mtime: u64,
    r: impl Read,
    out: &Path,
) -> Result<()> {
    let mut h = header(path, size, mtime);
    t.append_data(&mut h, path, r).at("write entry to", out)
}

#[allow(clippy::too_many_arguments)]
fn write_volume(
    bundle: &Bundle,
    sel: &select::Selection,
    out: &Path,
    m: &ManifestOut,
    entries: &[Planned],
    opts: &PackOptions,
    mtime: u64,
    progress: &dyn Progress,
) -> Result<u64> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let tmp = builder.tempfile_in(dir).at("create temp file in", dir)?;
    // held while this pack writes it: a later pack knows a temp file nobody holds is stale
    tmp.as_file().lock().at("lock", tmp.path())?;
    let file = tmp.reopen().at("open", tmp.path())?;
    let buffered = BufWriter::with_capacity(1 << 20, file);
    let sink = match opts.compression {
        Compression::Zstd => {
            let mut enc =
                zstd::stream::write::Encoder::new(buffered, 3).at("start zstd on", out)?;
            let workers = std::thread::available_parallelism()
                .map(|n| n.get() as u32)
                .unwrap_or(1)
                .max(1);
            enc.multithread(workers).at("start zstd workers for", out)?;
            enc.include_checksum(true).at("configure zstd for", out)?;
            // 1 MiB jobs keep the workers' buffers small; part of the fixed parameters, so
            // output stays deterministic
            enc.set_parameter(zstd::stream::raw::CParameter::JobSize(1 << 20))
                .at("configure zstd for", out)?;
            Sink::Zstd(enc)
        }
        Compression::Gzip => Sink::Gzip(
            flate2::GzBuilder::new()
                .mtime(0)
                .write(buffered, flate2::Compression::new(6)),
        ),
    };
    let mut t = tar::Builder::new(sink);
    t.mode(tar::HeaderMode::Deterministic);
    let mbytes = m.to_bytes();
    append(
        &mut t,
        manifest::MANIFEST_NAME,
        mbytes.len() as u64,
        mtime,
        &mbytes[..],
        out,
    )?;
    if let Some(sk) = opts.sign {
        let sig = crate::pack::sign::sign(
            sk,
            &mbytes,
            &format!(
                "nora pack {} volume {}/{}",
                m.pack_id, m.volume, m.header.volumes
            ),
        )?;
        append(
            &mut t,
            manifest::SIGNATURE_NAME,
            sig.len() as u64,
            mtime,
            sig.as_bytes(),
            out,
        )?;
    }
    for p in entries {
        let e = &p.entry;
        match &p.source {
            Source::Ref(i) => append(&mut t, &e.path, e.size, mtime, &sel.refs[*i].1[..], out)?,
            Source::Blob => {
                let f = bundle.open_blob(&e.digest)?;
                let len = f.metadata().at("stat", bundle.blob_path(&e.digest))?.len();
                if len != e.size {
                    return Err(Error::Other(format!(
                        "blob {} changed size while packing",
                        e.digest
                    )));
                }
                let r = ProgressReader {
                    inner: BufReader::with_capacity(64 * 1024, f).take(e.size),
                    progress,
                };
                append(&mut t, &e.path, e.size, mtime, r, out)?;
            }
            Source::Range { offset, len } => {
                let blob = e.blob.as_ref().expect("parts name their blob");
                let mut f = bundle.open_blob(blob)?;
                f.seek(SeekFrom::Start(*offset))
                    .at("seek in", bundle.blob_path(blob))?;
                let r = ProgressReader {
                    inner: BufReader::with_capacity(64 * 1024, f).take(*len),
                    progress,
                };
                append(&mut t, &e.path, *len, mtime, r, out)?;
            }
        }
    }
    let sink = t.into_inner().at("finish tar", out)?;
    let mut buffered = match sink {
        Sink::Zstd(e) => e.finish(),
        Sink::Gzip(g) => g.finish(),
    }
    .at("finish compressing", out)?;
    buffered.flush().at("write", out)?;
    drop(buffered);
    let file = tmp.as_file();
    file.sync_all().at("fsync", tmp.path())?;
    let written = file.metadata().at("stat", tmp.path())?.len();
    tmp.persist(out).map_err(|e| Error::Io {
        action: "rename volume to",
        path: out.to_path_buf(),
        source: e.error,
    })?;
    Ok(written)
}

struct ProgressReader<'p, R> {
    inner: R,
    progress: &'p dyn Progress,
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

enum Sink<W: Write> {
    Zstd(zstd::stream::write::Encoder<'static, W>),
    Gzip(flate2::write::GzEncoder<W>),
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Zstd(e) => e.write(buf),
            Sink::Gzip(g) => g.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Zstd(e) => e.flush(),
            Sink::Gzip(g) => g.flush(),
        }
    }
}
