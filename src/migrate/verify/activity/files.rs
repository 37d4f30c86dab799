//! Volumes and buckets: the entries of the directory on this machine changed after a moment. A
//! new, rewritten, renamed or chmod-ed entry changes its own times; a deleted one changes its
//! directory's. Memory stays bounded: the walk counts, and keeps a few paths to name.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::super::Reach;
use super::super::files::local_directory;
use super::{Activity, GapUnit, WriteGap};
use crate::error::{Error, Result};

/// Timestamps are coarse on some file systems (2 s on FAT): an entry changed this long before the
/// moment still counts as after it.
const MARGIN_MS: i64 = 2000;

/// Paths kept to name in a gap; the count covers all.
const NAMED: usize = 20;

pub(super) async fn measure(url: &str, label: &str) -> Result<Option<Activity>> {
    let Reach::Reached(root) = local_directory(url, label) else {
        return Ok(None);
    };
    let at_ms = now_ms();
    let walk = blocking(label, move || walk(&root, i64::MAX)).await?;
    Ok(Some(Activity::Files {
        at_ms,
        // The root is no entry of the volume.
        entries: walk.entries.saturating_sub(1),
    }))
}

pub(super) async fn changed_since(at_ms: i64, url: &str, label: &str) -> Result<Option<WriteGap>> {
    let Reach::Reached(root) = local_directory(url, label) else {
        return Ok(None);
    };
    let walk = blocking(label, move || walk(&root, at_ms - MARGIN_MS)).await?;
    Ok(Some(WriteGap {
        parts: walk.named.into_iter().map(|path| (path, 1)).collect(),
        writes: walk.changed,
        unit: GapUnit::Files,
    }))
}

async fn blocking(label: &str, f: impl FnOnce() -> Result<Walk> + Send + 'static) -> Result<Walk> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::task_stopped(format!("looking for changed files in the {label}"), e))?
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[derive(Debug, Default)]
struct Walk {
    /// Every entry, the root included.
    entries: u64,
    /// Entries changed at or after the moment.
    changed: u64,
    /// The first changed paths in sorted order, relative to the root (`.` for the root).
    named: BTreeSet<String>,
}

impl Walk {
    fn changed(&mut self, rel: &Path) {
        self.changed += 1;
        let shown = if rel.as_os_str().is_empty() {
            ".".to_owned()
        } else {
            rel.to_string_lossy().into_owned()
        };
        self.named.insert(shown);
        if self.named.len() > NAMED {
            self.named.pop_last();
        }
    }
}

/// Walks `root` without following links, counting entries whose content or status changed at or
/// after `from_ms` (the later of mtime and ctime: ctime cannot be set back by a copy that keeps
/// times). An entry that vanishes during the walk was changed just now, and counts.
fn walk(root: &Path, from_ms: i64) -> Result<Walk> {
    let mut walk = Walk::default();
    let mut pending: Vec<PathBuf> = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let path = root.join(&rel);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                walk.changed(&rel);
                continue;
            }
            Err(e) => return Err(Error::io("reading", &path, e)),
        };
        walk.entries += 1;
        let changed_ms = (meta.mtime() * 1000 + meta.mtime_nsec() / 1_000_000)
            .max(meta.ctime() * 1000 + meta.ctime_nsec() / 1_000_000);
        if changed_ms >= from_ms {
            walk.changed(&rel);
        }
        if !meta.is_dir() {
            continue;
        }
        let listing = match std::fs::read_dir(&path) {
            Ok(listing) => listing,
            // Counted above if it changed; a removed directory changed its parent too.
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("listing", &path, e)),
        };
        for entry in listing {
            let entry = entry.map_err(|e| Error::io("listing", &path, e))?;
            pending.push(rel.join(entry.file_name()));
        }
    }
    Ok(walk)
}
