//! Receipts: what a bundle holds, carried back so the connected side can cut a delta.

use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Receipt format version.
pub const RECEIPT_FORMAT: u32 = 1;

/// The contents of a receipt file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    /// Receipt format version.
    pub nora_receipt: u32,
    /// Id of the bundle described.
    pub bundle: String,
    /// When the receipt was made.
    pub created: String,
    /// Hex digests of every blob the bundle holds, sorted.
    pub blobs: Vec<String>,
    /// Every ref key and the sha256 hex of its record bytes.
    pub refs: BTreeMap<String, String>,
    /// sha256 hex of the file this receipt was read from (not stored).
    #[serde(skip)]
    pub id: String,
}

impl Receipt {
    /// Describes a bundle.
    pub fn of(bundle: &Bundle) -> Result<Receipt> {
        let refs = bundle
            .refs()?
            .into_iter()
            .map(|(k, r)| (k.to_string(), Digest::of(&r.to_bytes()).hex().to_string()))
            .collect();
        let blobs = bundle
            .blobs()?
            .into_iter()
            .map(|d| d.hex().to_string())
            .collect();
        Ok(Receipt {
            nora_receipt: RECEIPT_FORMAT,
            bundle: bundle.id().to_string(),
            created: crate::bundle::refs::now_rfc3339(),
            blobs,
            refs,
            id: String::new(),
        })
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec(self).expect("receipt serializes");
        v.push(b'\n');
        v
    }

    /// Writes the receipt atomically; returns its id.
    pub fn write(&self, path: &Path) -> Result<String> {
        let bytes = self.to_bytes();
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        crate::bundle::write_atomic(path, &bytes, dir)?;
        Ok(Digest::of(&bytes).hex().to_string())
    }

    /// Reads a receipt file.
    pub fn read(path: &Path) -> Result<Receipt> {
        let bytes = std::fs::read(path).at("read receipt", path)?;
        let bad = |reason: String| Error::Other(format!("{}: {reason}", path.display()));
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a nora receipt: {e}")))?;
        match v.get("nora_receipt").and_then(|x| x.as_u64()) {
            None => return Err(bad("not a nora receipt (no nora_receipt field)".into())),
            Some(n) if n > RECEIPT_FORMAT as u64 => {
                return Err(bad(format!(
                    "receipt format {n} is newer than this nora reads; upgrade nora"
                )))
            }
            _ => {}
        }
        let mut r: Receipt =
            serde_json::from_value(v).map_err(|e| bad(format!("malformed receipt: {e}")))?;
        r.id = Digest::of(&bytes).hex().to_string();
        Ok(r)
    }
}
