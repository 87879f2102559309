//! The volume manifest (`nora-pack.json`), first entry of every volume (bundle-format.md §8).

use crate::digest::Digest;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Pack format version this nora writes and the newest it reads.
pub const PACK_FORMAT: u32 = 1;
/// Name of the manifest entry.
pub const MANIFEST_NAME: &str = "nora-pack.json";
/// Name of the signature entry.
pub const SIGNATURE_NAME: &str = "nora-pack.json.minisig";
/// Most entries one volume lists; `pack` starts another volume rather than list more.
pub const MAX_ENTRIES: usize = 1_000_000;
/// Largest manifest a reader accepts (a million entries of about 500 bytes).
pub const MAX_MANIFEST: u64 = 512 << 20;

/// Manifest of one volume; every volume carries the header and the whole volume table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeManifest {
    /// Pack format version.
    pub nora_pack: u32,
    /// Pack id: sha256 hex of the canonical [`PackHeader`].
    pub pack_id: String,
    /// Header shared by all volumes.
    #[serde(flatten)]
    pub header: PackHeader,
    /// This volume's number, 1-based.
    pub volume: u32,
    /// This volume's entries, in tar order.
    pub entries: Vec<Entry>,
}

/// Fields every volume of a pack shares; the pack id is their hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackHeader {
    /// `pack` or `backup`.
    pub purpose: String,
    /// The newest `added` time among the pack's refs (RFC 3339); also every tar entry's mtime.
    pub created: String,
    /// Id of the bundle the pack was cut from.
    pub source_bundle: String,
    /// `zstd` or `gzip`.
    pub compression: String,
    /// The receipt a delta was cut against; `None` for a full pack.
    pub base: Option<Base>,
    /// Blobs the pack's refs need but the pack does not carry (the far side must hold them).
    pub requires: Vec<Digest>,
    /// Number of volumes.
    pub volumes: u32,
    /// One row per volume.
    pub table: Vec<TableRow>,
    /// Totals over the whole pack.
    pub totals: Totals,
}

/// The receipt a delta pack was cut against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Base {
    /// Receipt id (sha256 hex of the receipt file).
    pub receipt: String,
    /// Bundle the receipt describes.
    pub bundle: String,
}

/// One volume, as every volume's table describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// Volume number.
    pub volume: u32,
    /// Number of entries (manifest and signature excluded).
    pub entries: u64,
    /// Content bytes of those entries.
    pub bytes: u64,
    /// sha256 hex of the canonical JSON of the volume's entry list.
    pub digest: String,
}

/// Counts over the whole pack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Blobs carried (a blob in parts counts once).
    pub blobs: u64,
    /// Refs carried.
    pub refs: u64,
    /// Content bytes carried.
    pub bytes: u64,
}

/// Kind of a pack entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A whole blob, `blobs/sha256/<hex>`.
    Blob,
    /// One part of a blob larger than a volume, `parts/sha256/<hex>/<nnnn>`.
    Part,
    /// A ref record, `refs/....json`.
    Ref,
}

/// One entry of a volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Path inside the tar.
    pub path: String,
    /// What it is.
    #[serde(rename = "type")]
    pub kind: EntryKind,
    /// Its size in bytes.
    pub size: u64,
    /// sha256 of its bytes.
    pub digest: Digest,
    /// Ref key (refs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Whole-blob digest (parts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<Digest>,
    /// Part number, 1-based (parts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Number of parts of the blob (parts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u32>,
    /// Offset of the part in the blob (parts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Size of the whole blob (parts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_size: Option<u64>,
}

impl Entry {
    /// Checks that the path is the one its kind and digest imply, so no entry can name a
    /// location outside the bundle.
    pub fn check_path(&self) -> std::result::Result<(), String> {
        let ok = match self.kind {
            EntryKind::Blob => self.path == format!("blobs/sha256/{}", self.digest.hex()),
            EntryKind::Part => match (&self.blob, self.index) {
                (Some(b), Some(i)) => self.path == format!("parts/sha256/{}/{:04}", b.hex(), i),
                _ => false,
            },
            EntryKind::Ref => match &self.key {
                Some(k) => crate::bundle::layout::RefKey::parse(k)
                    .map(|k| k.rel_path_string() == self.path)
                    .unwrap_or(false),
                None => false,
            },
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "manifest entry '{}' does not match its type and digest",
                self.path
            ))
        }
    }
}

impl Entry {
    /// Checks a part's numbers: its index among its blob's parts, and its bytes within the
    /// blob, whose size is within what the whole pack carries.
    pub fn check_part(&self, pack_bytes: u64) -> std::result::Result<(), String> {
        if self.kind != EntryKind::Part {
            return Ok(());
        }
        let (Some(index), Some(parts), Some(offset), Some(blob_size)) =
            (self.index, self.parts, self.offset, self.blob_size)
        else {
            return Err(format!(
                "part '{}' lacks its index, parts, offset or blob_size",
                self.path
            ));
        };
        if index == 0 || index > parts {
            return Err(format!("part '{}' is number {index} of {parts}", self.path));
        }
        if blob_size > pack_bytes {
            return Err(format!(
                "part '{}' belongs to a blob of {blob_size} bytes, more than the {pack_bytes} the whole pack carries",
                self.path
            ));
        }
        if offset
            .checked_add(self.size)
            .is_none_or(|end| end > blob_size)
        {
            return Err(format!(
                "part '{}' covers bytes {offset} to {offset}+{} of a blob of {blob_size} bytes",
                self.path, self.size
            ));
        }
        Ok(())
    }
}

/// sha256 hex of the canonical JSON of an entry list, hashed as it is serialized.
pub fn entries_digest<E: Serialize>(entries: &[E]) -> String {
    let mut w = crate::digest::HashingWriter::new(std::io::sink());
    serde_json::to_writer(&mut w, entries).expect("entries serialize");
    w.finish().1.hex().to_string()
}

/// A manifest being written, borrowing its header and entries; it serializes to exactly
/// the bytes of the equal [`VolumeManifest`].
#[derive(Serialize)]
pub struct ManifestOut<'a> {
    /// Pack format version.
    pub nora_pack: u32,
    /// Pack id.
    pub pack_id: &'a str,
    /// Shared header.
    #[serde(flatten)]
    pub header: &'a PackHeader,
    /// Volume number.
    pub volume: u32,
    /// This volume's entries.
    pub entries: Vec<&'a Entry>,
}

impl ManifestOut<'_> {
    /// Canonical bytes, as stored in the tar.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serializes");
        v.push(b'\n');
        v
    }
}

/// The pack id of a header.
pub fn pack_id(header: &PackHeader) -> String {
    let v = serde_json::json!({"nora_pack": PACK_FORMAT, "header": header});
    Digest::of(&serde_json::to_vec(&v).expect("header serializes"))
        .hex()
        .to_string()
}

impl VolumeManifest {
    /// Canonical bytes, as stored in the tar.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serializes");
        v.push(b'\n');
        v
    }

    /// Parses and checks a manifest: format version, pack id, table row and entry paths.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<VolumeManifest> {
        let bad = |reason: String| Error::BadPack {
            file: file.to_string(),
            reason,
        };
        #[derive(Deserialize)]
        struct Version {
            nora_pack: Option<u64>,
        }
        let v: Version = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("{MANIFEST_NAME} is not JSON: {e}")))?;
        let version = v.nora_pack.ok_or_else(|| {
            bad(format!(
                "{MANIFEST_NAME} has no nora_pack version; this is not a nora pack"
            ))
        })?;
        if version > PACK_FORMAT as u64 {
            return Err(bad(format!(
                "pack format version {version} is newer than this nora reads ({PACK_FORMAT}); upgrade nora"
            )));
        }
        let m: VolumeManifest = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("{MANIFEST_NAME} is malformed: {e}")))?;
        if m.entries.len() > MAX_ENTRIES {
            return Err(bad(format!(
                "the volume lists {} entries, more than the {MAX_ENTRIES} a volume may hold",
                m.entries.len()
            )));
        }
        if pack_id(&m.header) != m.pack_id {
            return Err(bad(
                "pack id does not match the pack header; the manifest was altered".into(),
            ));
        }
        let row = m
            .header
            .table
            .iter()
            .find(|r| r.volume == m.volume)
            .ok_or_else(|| {
                bad(format!(
                    "volume {} is not in the pack's volume table",
                    m.volume
                ))
            })?;
        if m.header.table.len() as u32 != m.header.volumes
            || m.volume == 0
            || m.volume > m.header.volumes
        {
            return Err(bad("volume table is inconsistent".into()));
        }
        let listed = m
            .entries
            .iter()
            .try_fold(0u64, |sum, e| sum.checked_add(e.size))
            .ok_or_else(|| bad("the entries' sizes add up to more than 2^64 bytes".into()))?;
        if row.digest != entries_digest(&m.entries)
            || row.entries != m.entries.len() as u64
            || row.bytes != listed
        {
            return Err(bad(format!(
                "volume {}'s entries do not match the pack's volume table; it belongs to another pack or was altered",
                m.volume
            )));
        }
        let total: Option<u64> = m
            .header
            .table
            .iter()
            .try_fold(0u64, |sum, r| sum.checked_add(r.bytes));
        if total != Some(m.header.totals.bytes) {
            return Err(bad(
                "the pack's totals do not match its volume table; the manifest was altered".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for e in &m.entries {
            e.check_path().map_err(bad)?;
            e.check_part(m.header.totals.bytes).map_err(bad)?;
            if !seen.insert(e.path.as_str()) {
                return Err(bad(format!("entry '{}' is listed twice", e.path)));
            }
        }
        if m.to_bytes() != bytes {
            return Err(bad(format!(
                "{MANIFEST_NAME} is not in its canonical form (bundle-format.md §8.4): it was padded or rewritten; refusing this volume"
            )));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_and_owned_manifests_serialize_alike() {
        let e = Entry {
            path: format!("blobs/sha256/{}", Digest::of(b"x").hex()),
            kind: EntryKind::Blob,
            size: 1,
            digest: Digest::of(b"x"),
            key: None,
            blob: None,
            index: None,
            parts: None,
            offset: None,
            blob_size: None,
        };
        let header = PackHeader {
            purpose: "pack".into(),
            created: "2026-01-01T00:00:00Z".into(),
            source_bundle: "b".into(),
            compression: "zstd".into(),
            base: None,
            requires: vec![],
            volumes: 1,
            table: vec![TableRow {
                volume: 1,
                entries: 1,
                bytes: 1,
                digest: entries_digest(std::slice::from_ref(&e)),
            }],
            totals: Totals {
                blobs: 1,
                refs: 0,
                bytes: 1,
            },
        };
        let id = pack_id(&header);
        let owned = VolumeManifest {
            nora_pack: 1,
            pack_id: id.clone(),
            header: header.clone(),
            volume: 1,
            entries: vec![e.clone()],
        };
        let borrowed = ManifestOut {
            nora_pack: 1,
            pack_id: &id,
            header: &header,
            volume: 1,
            entries: vec![&e],
        };
        assert_eq!(owned.to_bytes(), borrowed.to_bytes());
        assert_eq!(
            entries_digest(&[&e]),
            entries_digest(std::slice::from_ref(&e))
        );
        VolumeManifest::parse("t", &borrowed.to_bytes()).unwrap();
    }
}
