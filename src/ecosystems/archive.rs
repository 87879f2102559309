//! Reading the archives artifacts come in: a gzip tar scanned once for one small file while
//! the whole file is hashed (npm, Cargo, PyPI sdists), and the test helpers that build them.

use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Largest manifest (package.json, Cargo.toml, PKG-INFO) read out of an archive.
pub(crate) const MAX_MANIFEST: u64 = 16 * 1024 * 1024;

/// Hashes of a whole file, taken while it was validated.
#[derive(Debug, Clone)]
pub(crate) struct FileHashes {
    /// SHA-256, the digest the bundle stores it under.
    pub sha256: Digest,
    /// Raw SHA-512.
    pub sha512: Vec<u8>,
    /// Raw SHA-1.
    pub sha1: Vec<u8>,
}

/// What [`scan_tgz`] found.
#[derive(Debug)]
pub(crate) struct TgzScan {
    /// Top directory and contents of the first regular file `<top>/<name>`.
    pub found: Option<(String, Vec<u8>)>,
    /// Hashes of the compressed file.
    pub hashes: FileHashes,
}

struct TeeHasher<R> {
    inner: R,
    sha256: Sha256,
    sha512: Sha512,
    sha1: Sha1,
}

impl<R: Read> Read for TeeHasher<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha256.update(&buf[..n]);
        self.sha512.update(&buf[..n]);
        self.sha1.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads a gzip-compressed tar archive through to its end (so a corrupt one is refused),
/// hashing the file and keeping the first regular file named `name` one directory deep.
/// `what` names the expected kind of artifact in errors ("an npm package").
pub(crate) fn scan_tgz(path: &Path, name: &str, what: &str) -> Result<TgzScan> {
    let bad = |reason: String| Error::BadArtifact {
        path: path.to_path_buf(),
        reason: format!("not {what}: {reason}"),
    };
    let mut file = File::open(path).at("open", path)?;
    let mut magic = [0u8; 2];
    let is_gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    if !is_gzip {
        return Err(bad("not a gzip-compressed tar archive".into()));
    }
    file.seek(SeekFrom::Start(0)).at("seek", path)?;
    let tee = TeeHasher {
        inner: BufReader::with_capacity(256 * 1024, file),
        sha256: Sha256::new(),
        sha512: Sha512::new(),
        sha1: Sha1::new(),
    };
    let corrupt = |e: io::Error| bad(format!("corrupt gzip or tar data: {e}"));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tee));
    let mut found = None;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        if found.is_some() || !entry.header().entry_type().is_file() {
            continue;
        }
        let raw = entry.path_bytes();
        let text = String::from_utf8_lossy(&raw);
        let parts: Vec<&str> = text
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        if parts.len() != 2 || parts[1] != name {
            continue;
        }
        let top = parts[0].to_string();
        if entry.size() > MAX_MANIFEST {
            return Err(bad(format!(
                "{top}/{name} is larger than {MAX_MANIFEST} bytes"
            )));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(corrupt)?;
        found = Some((top, bytes));
    }
    let mut gz = archive.into_inner();
    io::copy(&mut gz, &mut io::sink()).map_err(corrupt)?;
    let mut tee = gz.into_inner();
    io::copy(&mut tee, &mut io::sink()).at("read", path)?;
    Ok(TgzScan {
        found,
        hashes: FileHashes {
            sha256: Digest::from_bytes(&tee.sha256.finalize()),
            sha512: tee.sha512.finalize().to_vec(),
            sha1: tee.sha1.finalize().to_vec(),
        },
    })
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::bundle::Bundle;
    use crate::ecosystems::AddOptions;
    use crate::error::Error;
    use std::fs::File;
    use std::io::Write;
    use std::path::{Path, PathBuf};

    /// Writes a gzip tar of `(path, contents)` files to `dir/name`.
    pub(crate) fn write_tgz(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join(name);
        let gz = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        let mut tar = tar::Builder::new(gz);
        for (p, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut h, p, *data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
        path
    }

    /// Writes a zip of `(path, contents)` files to `dir/name`.
    pub(crate) fn write_zip(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join(name);
        let mut z = zip::ZipWriter::new(File::create(&path).unwrap());
        for (p, data) in files {
            z.start_file(*p, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap();
        path
    }

    /// A temp directory holding a fresh bundle at `b`.
    pub(crate) fn setup() -> (tempfile::TempDir, Bundle) {
        let tmp = tempfile::tempdir().unwrap();
        let (bundle, _) = Bundle::init(&tmp.path().join("b")).unwrap();
        (tmp, bundle)
    }

    /// Runs an importer on `file`, expects an error mentioning `needle`, and checks that
    /// nothing was stored.
    pub(crate) fn assert_refused(
        import: impl Fn(
            &Bundle,
            &Path,
            &AddOptions,
        ) -> crate::Result<Vec<crate::bundle::refs::RefRecord>>,
        bundle: &Bundle,
        file: &Path,
        needle: &str,
    ) -> Error {
        let err = import(bundle, file, &AddOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains(needle),
            "{err} should mention {needle}"
        );
        assert!(bundle.blobs().unwrap().is_empty());
        err
    }
}
