//! `nora add oci`: not yet implemented.

use crate::bundle::refs::RefRecord;
use crate::bundle::Bundle;
use crate::ecosystems::AddOptions;
use crate::error::{Error, Result};
use std::path::Path;

/// Imports one oci artifact.
pub fn import(_bundle: &Bundle, file: &Path, _opts: &AddOptions) -> Result<Vec<RefRecord>> {
    Err(Error::BadArtifact { path: file.to_path_buf(), reason: "oci import is not implemented yet".into() })
}
