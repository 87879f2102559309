//! A writer process's own directory under `tmp/` (bundle-format.md §3, §6). Its temp files
//! live there; a lock held on the directory's `lock` file for the life of the process tells
//! gc that everything inside is in use, whatever the grace period.

use crate::bundle::layout::{Layout, LOCK};
use crate::bundle::lock;
use crate::error::{IoContext, Result};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// Names of work directories start with this.
pub const PREFIX: &str = "w-";

/// A work directory, removed with its content when dropped.
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
    _lock: File,
}

impl WorkDir {
    /// Creates a fresh work directory and takes its lock. It is made under the writers'
    /// shared lock, so gc (which sweeps under the exclusive one) never sees it unlocked.
    pub fn create(layout: &Layout) -> Result<WorkDir> {
        let _writers = lock::shared(&layout.lock_file(LOCK))?;
        let path = layout
            .tmp_dir()
            .join(format!("{PREFIX}{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir(&path).at("create directory", &path)?;
        let lock_path = path.join("lock");
        let f = File::create_new(&lock_path).at("create", &lock_path)?;
        f.lock().at("take lock on", &lock_path)?;
        Ok(WorkDir { path, _lock: f })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// True when `dir` is a work directory that a live process holds.
pub fn in_use(dir: &Path) -> bool {
    let is_work = dir
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(PREFIX));
    if !is_work {
        return false;
    }
    // anything but a lock file that is missing or free counts as in use
    match File::open(dir.join("lock")) {
        Ok(f) => !matches!(f.try_lock_shared(), Ok(())),
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}
