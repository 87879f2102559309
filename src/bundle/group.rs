//! Group commit for many concurrent writers (a mirror run): blobs are written to `tmp/`
//! without an fsync each, and refs are committed in batches. One sync of the file system
//! makes a whole batch of blobs durable before they are renamed into `blobs/`, and one more
//! makes the batch's refs durable before their writers are told. The ordering of §6 holds
//! (a blob is durable in `blobs/` before any ref names it), at three syncs per batch
//! instead of several fsyncs per artifact.

use crate::bundle::refs::RefRecord;
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use tempfile::TempPath;

/// Blobs written and checked but not yet durable, so not yet in `blobs/`.
#[derive(Debug, Default)]
pub struct Staging {
    pending: Mutex<HashMap<Digest, TempPath>>,
    group: Group,
}

#[derive(Debug, Default)]
struct Group {
    state: Mutex<GroupState>,
    done: Condvar,
}

#[derive(Debug, Default)]
struct GroupState {
    next: u64,
    queue: Vec<(u64, Vec<RefRecord>, String)>,
    results: HashMap<u64, std::result::Result<Vec<&'static str>, String>>,
    leading: bool,
}

impl Staging {
    /// Takes a checked temp file holding blob `digest`; a digest already staged keeps the
    /// first copy.
    pub(crate) fn stage(&self, digest: Digest, tmp: TempPath) {
        self.pending
            .lock()
            .expect("staging lock")
            .entry(digest)
            .or_insert(tmp);
    }

    /// The temp file of a staged blob.
    pub(crate) fn path(&self, d: &Digest) -> Option<std::path::PathBuf> {
        self.pending
            .lock()
            .expect("staging lock")
            .get(d)
            .map(|t| t.to_path_buf())
    }
}

impl Bundle {
    /// Makes every staged blob durable (one sync of the file system) and renames it into
    /// `blobs/`; a no-op when nothing is staged.
    pub fn flush_staged(&self) -> Result<()> {
        let Some(st) = &self.staging else {
            return Ok(());
        };
        // the lock is held through the renames, so a reader never misses a blob in between
        let mut pending = st.pending.lock().expect("staging lock");
        if pending.is_empty() {
            return Ok(());
        }
        let paths: Vec<_> = pending.values().map(|t| t.to_path_buf()).collect();
        super::sync_paths(&self.layout.tmp_dir(), &paths)?;
        for (d, tmp) in pending.drain() {
            let target = self.layout.blob(&d);
            if target.exists() {
                continue;
            }
            tmp.persist(&target).map_err(|e| Error::Io {
                action: "rename blob into",
                path: target.clone(),
                source: e.error,
            })?;
        }
        drop(pending);
        self.sync_blob_dir()
    }

    /// Commits one writer's records under the bundle's merge policy
    /// ([`crate::ecosystems::commit_ref`]) together with those of the writers waiting at
    /// the same time, and returns each record's outcome once they are durable. Without
    /// staging, commits them one by one. The caller holds the writers' lock.
    pub fn commit_grouped(
        &self,
        records: Vec<RefRecord>,
        source: &str,
    ) -> std::result::Result<Vec<&'static str>, String> {
        let Some(st) = &self.staging else {
            return records
                .iter()
                .map(|r| crate::ecosystems::commit_ref(self, r, source).map_err(|e| e.to_string()))
                .collect();
        };
        let g = &st.group;
        let mut state = g.state.lock().expect("group lock");
        let id = state.next;
        state.next += 1;
        state.queue.push((id, records, source.to_string()));
        loop {
            if let Some(r) = state.results.remove(&id) {
                return r;
            }
            if state.leading {
                state = g.done.wait(state).expect("group lock");
                continue;
            }
            state.leading = true;
            let batch = std::mem::take(&mut state.queue);
            drop(state);
            let results = self.commit_batch(batch);
            state = g.state.lock().expect("group lock");
            state.results.extend(results);
            state.leading = false;
            g.done.notify_all();
        }
    }

    /// One batch: blobs durable and in, then every writer's records decided and written.
    fn commit_batch(
        &self,
        batch: Vec<(u64, Vec<RefRecord>, String)>,
    ) -> Vec<(u64, std::result::Result<Vec<&'static str>, String>)> {
        if let Err(e) = self.flush_staged() {
            let e = e.to_string();
            return batch
                .into_iter()
                .map(|(id, ..)| (id, Err(e.clone())))
                .collect();
        }
        let mut out = Vec::with_capacity(batch.len());
        let mut writes: Vec<(u64, RefRecord)> = Vec::new();
        let mut journal = Vec::new();
        for (id, records, source) in batch {
            let mut outcomes = Vec::new();
            let mut failed = None;
            for rec in records {
                match crate::ecosystems::decide(self, &rec) {
                    Ok(crate::ecosystems::Decision::Unchanged) => outcomes.push("unchanged"),
                    Ok(crate::ecosystems::Decision::Add) => {
                        outcomes.push("added");
                        writes.push((id, rec));
                    }
                    Ok(crate::ecosystems::Decision::Replace(old)) => {
                        outcomes.push("updated");
                        journal.push(crate::ecosystems::replace_line(&old, &rec, &source));
                        writes.push((id, rec));
                    }
                    Err(e) => {
                        failed = Some(e.to_string());
                        break;
                    }
                }
            }
            out.push((id, failed.map_or(Ok(outcomes), Err)));
        }
        // two writers of one batch may name the same key: the later one wins, as it would
        // have one after the other
        let mut seen = std::collections::HashSet::new();
        let mut unique: Vec<&RefRecord> = Vec::new();
        for (_, rec) in writes.iter().rev() {
            if let Ok(k) = rec.body.key() {
                if seen.insert(k.to_string()) {
                    unique.push(rec);
                }
            }
        }
        let written = self.write_refs(&unique).and_then(|()| {
            journal
                .iter()
                .try_for_each(|line| self.journal("refs.jsonl", line))
        });
        if let Err(e) = written {
            let e = e.to_string();
            let failed: std::collections::HashSet<u64> = writes.iter().map(|(id, _)| *id).collect();
            for (id, r) in out.iter_mut() {
                if failed.contains(id) {
                    *r = Err(e.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::refs::{GoMod, RefBody};

    fn record(b: &Bundle, module: &str, text: &str) -> RefRecord {
        let mod_file = b.ingest_bytes(text.as_bytes()).unwrap().digest;
        let info = b
            .ingest_bytes(br#"{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}"#)
            .unwrap()
            .digest;
        RefRecord::new(RefBody::GoMod(GoMod {
            module: module.into(),
            version: "v1.0.0".into(),
            info,
            mod_file,
            mod_h1: crate::ecosystems::go::h1_mod(text.as_bytes()),
        }))
    }

    #[test]
    fn staged_blobs_enter_with_their_refs_and_conflicts_reach_their_writer() {
        let dir = tempfile::tempdir().unwrap();
        let (plain, _) = Bundle::init(dir.path()).unwrap();
        // a release already held, which one writer below would change
        let held = record(&plain, "example.com/held", "module example.com/held\n");
        plain.write_ref(&held).unwrap();

        let owned = plain.clone().staged();
        let b = &owned;
        let staged = record(b, "example.com/m0", "module example.com/m0\n");
        let d = staged.body.blobs()[1].clone();
        assert!(
            b.has_blob(&d) && !plain.has_blob(&d),
            "staged, not yet in blobs/"
        );
        assert_eq!(b.read_blob(&d).unwrap(), b"module example.com/m0\n");

        let results: Vec<_> = std::thread::scope(|s| {
            let first = staged.clone();
            let mut handles = vec![s.spawn(move || b.commit_grouped(vec![first], "test"))];
            for i in 1..16 {
                handles.push(s.spawn(move || {
                    let m = format!("example.com/m{i}");
                    let r = record(b, &m, &format!("module {m}\n"));
                    b.commit_grouped(vec![r], "test")
                }));
            }
            let other = record(
                b,
                "example.com/held",
                "module example.com/held // changed\n",
            );
            handles.push(s.spawn(move || b.commit_grouped(vec![other], "test")));
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in &results[..16] {
            assert_eq!(r.as_deref(), Ok(&["added"][..]));
        }
        let err = results[16].as_ref().unwrap_err();
        assert!(err.contains("releases are immutable"), "{err}");
        assert!(plain.has_blob(&d), "committed blobs are in blobs/");
        for i in 0..16 {
            let key = crate::bundle::layout::RefKey::new([
                "go".to_string(),
                "example.com".into(),
                format!("m{i}"),
                "@mod".into(),
                "v1.0.0".into(),
            ])
            .unwrap();
            let rec = plain.read_ref(&key).unwrap().expect("ref written");
            for blob in rec.body.blobs() {
                assert!(plain.has_blob(&blob));
            }
        }
        assert_eq!(
            b.commit_grouped(vec![staged], "test").as_deref(),
            Ok(&["unchanged"][..])
        );

        // a blob staged by a writer that never commits leaves nothing behind
        let orphan = b.ingest_bytes(b"never committed").unwrap().digest;
        assert!(b.has_blob(&orphan));
        drop(owned);
        assert!(!plain.has_blob(&orphan));
        let work = plain.work_dir().unwrap();
        let left: Vec<_> = std::fs::read_dir(&work)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| n != "lock")
            .collect();
        assert!(left.is_empty(), "{left:?} left in {}", work.display());
        drop(plain);
        assert!(
            !work.exists(),
            "the work directory goes with the last clone"
        );
    }
}
