//! The only code that turns digests and ref keys into paths inside a bundle (bundle-format.md §2, §4).

use crate::digest::Digest;
use crate::error::{Error, Result};
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};

/// Header file at the bundle root.
pub const HEADER: &str = "nora-bundle.toml";
/// OCI image layout marker, so OCI tools can read `blobs/` directly.
pub const OCI_LAYOUT: &str = "oci-layout";
/// OCI image layout index of tagged manifests.
pub const OCI_INDEX: &str = "index.json";
/// Lock file taken shared by writers and exclusively by gc.
pub const LOCK: &str = "lock";
/// Lock file that lets one unpack or restore run at a time.
pub const UNPACK_LOCK: &str = "unpack.lock";

/// Longest escaped path component before it is shortened with a hash.
pub const MAX_COMPONENT: usize = 120;

/// Paths of one bundle.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// Layout rooted at a bundle directory.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Layout { root: root.into() }
    }
    /// The bundle directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `nora-bundle.toml`.
    pub fn header(&self) -> PathBuf {
        self.root.join(HEADER)
    }
    /// `blobs/sha256`.
    pub fn blob_dir(&self) -> PathBuf {
        self.root.join("blobs").join("sha256")
    }
    /// `blobs/sha256/<hex>`.
    pub fn blob(&self, digest: &Digest) -> PathBuf {
        self.blob_dir().join(digest.hex())
    }
    /// `refs`.
    pub fn refs_dir(&self) -> PathBuf {
        self.root.join("refs")
    }
    /// The file holding the record of a ref key.
    pub fn ref_file(&self, key: &RefKey) -> PathBuf {
        self.root.join(key.rel_path())
    }
    /// The directory holding the records whose keys start with `prefix`.
    pub fn ref_dir(&self, prefix: &[&str]) -> PathBuf {
        let mut p = self.refs_dir();
        for c in prefix {
            p.push(escape_component(c));
        }
        p
    }
    /// `tmp`: ingest files, invisible until renamed.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
    /// `staging`: packs whose volumes are not all unpacked yet.
    pub fn staging_dir(&self) -> PathBuf {
        self.root.join("staging")
    }
    /// `staging/<pack-id>`.
    pub fn staging(&self, pack_id: &str) -> PathBuf {
        self.staging_dir().join(pack_id)
    }
    /// `journal`: append-only logs of ref changes and unpacked packs.
    pub fn journal_dir(&self) -> PathBuf {
        self.root.join("journal")
    }
    /// A lock file.
    pub fn lock_file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

/// A ref key: `ecosystem/component/...`, the logical name of a ref record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RefKey(Vec<String>);

impl RefKey {
    /// Builds a key from components; each must be non-empty and not `.` or `..`, without `/` or NUL.
    pub fn new<I, S>(parts: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let parts: Vec<String> = parts.into_iter().map(Into::into).collect();
        if parts.len() < 2 {
            return Err(Error::InvalidName {
                what: "ref key",
                value: parts.join("/"),
                reason: "needs an ecosystem and a name".into(),
            });
        }
        for p in &parts {
            if p.is_empty() || p == "." || p == ".." || p.contains('/') || p.contains('\0') {
                return Err(Error::InvalidName {
                    what: "ref key",
                    value: parts.join("/"),
                    reason: format!("component '{p}' is empty, a dot name, or holds '/' or NUL"),
                });
            }
        }
        Ok(RefKey(parts))
    }
    /// Parses `a/b/c`.
    pub fn parse(s: &str) -> Result<Self> {
        Self::new(s.split('/'))
    }
    /// The components.
    pub fn parts(&self) -> &[String] {
        &self.0
    }
    /// The ecosystem (first component).
    pub fn ecosystem(&self) -> &str {
        &self.0[0]
    }
    /// Path of the record relative to the bundle root: `refs/<escaped>/.../<escaped>.json`.
    pub fn rel_path(&self) -> PathBuf {
        let mut p = PathBuf::from("refs");
        let last = self.0.len() - 1;
        for (i, c) in self.0.iter().enumerate() {
            let e = escape_component(c);
            if i == last {
                p.push(format!("{e}.json"));
            } else {
                p.push(e);
            }
        }
        p
    }
    /// The relative path with `/` separators, as used inside packs.
    pub fn rel_path_string(&self) -> String {
        self.rel_path()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl std::fmt::Display for RefKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

const RESERVED: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// Escapes one name component into a file name that is portable to case-insensitive,
/// FAT and NTFS file systems and unique per input (bundle-format.md §4).
///
/// Kept: `a-z 0-9 - _ . + @ =`. An upper-case letter becomes `!` and its lower case.
/// Every other byte becomes `%` and two lower-case hex digits. A leading `.`, a trailing
/// `.`, a final `.json`'s dot and the first letter of a Windows device name are `%`-escaped.
/// A result longer than 120 bytes is cut to 80 bytes, `~`, and 32 hex digits of the
/// SHA-256 of the original component.
pub fn escape_component(c: &str) -> String {
    let mut out = String::with_capacity(c.len());
    for b in c.bytes() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'+' | b'@' | b'=' => {
                out.push(b as char)
            }
            b'A'..=b'Z' => {
                out.push('!');
                out.push(b.to_ascii_lowercase() as char);
            }
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    if out.starts_with('.') {
        out.replace_range(0..1, "%2e");
    }
    if out.ends_with('.') {
        let n = out.len();
        out.replace_range(n - 1..n, "%2e");
    }
    if out.ends_with(".json") {
        let n = out.len();
        out.replace_range(n - 5..n - 4, "%2e");
    }
    let stem = out.split('.').next().unwrap_or("");
    if RESERVED.contains(&stem) {
        let first = out.as_bytes()[0];
        out.replace_range(0..1, &format!("%{first:02x}"));
    }
    if out.len() > MAX_COMPONENT {
        let h = hex::encode(Sha256::digest(c.as_bytes()));
        let mut cut = 0;
        let bytes = out.as_bytes();
        while cut < bytes.len() {
            let unit = match bytes[cut] {
                b'%' => 3,
                b'!' => 2,
                _ => 1,
            };
            if cut + unit > 80 {
                break;
            }
            cut += unit;
        }
        out.truncate(cut);
        out.push('~');
        out.push_str(&h[..32]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_portably() {
        assert_eq!(escape_component("left-pad"), "left-pad");
        assert_eq!(escape_component("Latest"), "!latest");
        assert_eq!(escape_component("github.com/Azure"), "github.com%2f!azure");
        assert_eq!(escape_component("a:b"), "a%3ab");
        assert_eq!(escape_component(".hidden"), "%2ehidden");
        assert_eq!(escape_component("dir."), "dir%2e");
        assert_eq!(escape_component("x.json"), "x%2ejson");
        assert_eq!(escape_component("CON"), "!c!o!n");
        assert_eq!(escape_component("con.txt"), "%63on.txt");
        assert_eq!(escape_component("nul"), "%6eul");
        assert_eq!(escape_component("~"), "%7e");
        let long = "A".repeat(300);
        let e = escape_component(&long);
        assert!(e.len() <= MAX_COMPONENT, "{e}");
        assert!(e.contains('~'));
        assert_ne!(e, escape_component(&"A".repeat(301)));
    }

    #[test]
    fn distinct_inputs_stay_distinct_under_case_folding() {
        let names = [
            "latest", "Latest", "LATEST", "x.json", "x%2ejson", "!x", "X",
        ];
        let mut seen = std::collections::HashSet::new();
        for n in names {
            assert!(seen.insert(escape_component(n).to_lowercase()), "{n}");
        }
    }

    #[test]
    fn ref_paths() {
        let k = RefKey::parse("npm/@scope/Pkg/_versions/1.0.0").unwrap();
        assert_eq!(
            k.rel_path_string(),
            "refs/npm/@scope/!pkg/_versions/1.0.0.json"
        );
        assert!(RefKey::parse("npm/../x").is_err());
        assert!(RefKey::parse("npm//x").is_err());
    }
}
