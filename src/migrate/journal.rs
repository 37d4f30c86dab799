//! The run journal: one small JSON file per plan and platform, replaced atomically after every
//! record (temp file, fsync, rename, fsync the directory), mode 0600, guarded by an exclusive
//! lock for the whole run. Before a side effect the engine writes an intent; after it, a done
//! record with what it observed. A rerun replays done steps and reconciles open intents.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    Intent,
    Done,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub state: RecordState,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// What the step knows: IDs, sizes, hashes. Never a token or a pre-signed URL.
    #[serde(default)]
    pub data: Value,
}

/// What the journal belongs to; a journal for another key is never used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalKey {
    pub endpoint: String,
    pub project: String,
    pub stage: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalData {
    pub format: u32,
    pub key: JournalKey,
    pub plan_path: String,
    pub plan_hash: String,
    /// The checked plan as JSON, to say what changed when the plan file changes.
    pub plan: Value,
    pub run_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished: bool,
    pub steps: BTreeMap<String, StepRecord>,
}

/// The journal of one run, held under its lock.
pub struct Journal {
    path: PathBuf,
    data: JournalData,
    // Held for the whole run; dropping it releases the lock.
    _lock: File,
}

/// Where the journal of a plan lives: `<state_dir>/<plan stem>-<hash of endpoint+scope>.json`, so
/// the same plan against another platform or stage gets its own journal.
pub fn journal_path(state_dir: &Path, plan_path: &Path, key: &JournalKey) -> PathBuf {
    let stem = plan_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan".into());
    let mut h = Sha256::new();
    h.update(key.endpoint.as_bytes());
    h.update([0]);
    h.update(key.project.as_bytes());
    h.update([0]);
    h.update(key.stage.as_bytes());
    let digest = hex::encode(h.finalize());
    state_dir.join(format!("{stem}-{}.json", &digest[..10]))
}

impl Journal {
    /// Takes the lock and loads the journal at `path`, or returns `None` data when there is none.
    /// A second run of the same plan fails here, naming the holder.
    pub fn lock(path: &Path) -> Result<(File, Option<JournalData>)> {
        let dir = path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let lock_path = path.with_extension("lock");
        let mut lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| Error::io("opening the journal lock", &lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&lock_path).unwrap_or_default();
                let holder = holder.trim();
                return Err(Error::Decision(format!(
                    "another run of this plan holds the journal lock {} ({}); wait for it to finish \
                     or stop it, then run again",
                    lock_path.display(),
                    if holder.is_empty() {
                        "holder unknown"
                    } else {
                        holder
                    }
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io("locking the journal", &lock_path, e));
            }
        }
        // Say who holds the lock, for the error a second run shows.
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "this machine".into());
        let _ = lock.set_len(0);
        let _ = writeln!(
            lock,
            "pid {} on {host} since {}",
            std::process::id(),
            Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let data = match std::fs::read(path) {
            Ok(bytes) => Some(serde_json::from_slice::<JournalData>(&bytes).map_err(|e| {
                Error::Usage(format!(
                    "journal {} is not readable ({e}); move it aside to start over, or restore it",
                    path.display()
                ))
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("reading the journal", path, e)),
        };
        if let Some(d) = &data
            && d.format != FORMAT
        {
            return Err(Error::Usage(format!(
                "journal {} has format {}, this version reads format {FORMAT}; finish it with the \
                 version that wrote it, or move it aside",
                path.display(),
                d.format
            )));
        }
        Ok((lock, data))
    }

    pub fn new(path: PathBuf, lock: File, data: JournalData) -> Result<Journal> {
        let journal = Journal {
            path,
            data,
            _lock: lock,
        };
        journal.save()?;
        Ok(journal)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn data(&self) -> &JournalData {
        &self.data
    }

    pub fn get(&self, step: &str) -> Option<&StepRecord> {
        self.data.steps.get(step)
    }

    pub fn is_done(&self, step: &str) -> bool {
        self.get(step).is_some_and(|r| r.state == RecordState::Done)
    }

    pub fn intent(&mut self, step: &str, data: Value) -> Result<()> {
        let started_at = self
            .get(step)
            .map(|r| r.started_at)
            .unwrap_or_else(Utc::now);
        self.data.steps.insert(
            step.to_owned(),
            StepRecord {
                state: RecordState::Intent,
                started_at,
                finished_at: None,
                data,
            },
        );
        self.save()
    }

    pub fn done(&mut self, step: &str, data: Value) -> Result<()> {
        let started_at = self
            .get(step)
            .map(|r| r.started_at)
            .unwrap_or_else(Utc::now);
        self.data.steps.insert(
            step.to_owned(),
            StepRecord {
                state: RecordState::Done,
                started_at,
                finished_at: Some(Utc::now()),
                data,
            },
        );
        self.save()
    }

    pub fn set_finished(&mut self, finished: bool) -> Result<()> {
        self.data.finished = finished;
        self.save()
    }

    fn save(&self) -> Result<()> {
        let mut data = self.data.clone();
        data.updated_at = Utc::now();
        let bytes = serde_json::to_vec_pretty(&data)
            .map_err(|e| Error::Internal(format!("encoding the journal: {e}")))?;
        write_atomic(&self.path, &bytes)
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| Error::io("writing", &tmp, e))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io("writing", &tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| Error::io("replacing", path, e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("syncing directory", dir, e))
}

pub fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io("creating the state directory", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn sample(path: &Path) -> JournalData {
        JournalData {
            format: FORMAT,
            key: JournalKey {
                endpoint: "http://127.0.0.1:1".into(),
                project: "shop".into(),
                stage: "production".into(),
            },
            plan_path: path.display().to_string(),
            plan_hash: "abc".into(),
            plan: Value::Null,
            run_id: "r1".into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            finished: false,
            steps: BTreeMap::new(),
        }
    }

    #[test]
    fn records_survive_reopen_and_files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("plan-x.json");
        let (lock, existing) = Journal::lock(&path).unwrap();
        assert!(existing.is_none());
        let mut j = Journal::new(path.clone(), lock, sample(&path)).unwrap();
        j.intent("upload:files2", serde_json::json!({"upload_id": "u1"}))
            .unwrap();
        j.done("backup:files2", serde_json::json!({"id": "b1"}))
            .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(j);
        let (_lock, reread) = Journal::lock(&path).unwrap();
        let reread = reread.unwrap();
        assert_eq!(reread.steps["upload:files2"].state, RecordState::Intent);
        assert_eq!(reread.steps["backup:files2"].data["id"], "b1");
    }

    #[test]
    fn a_second_holder_is_refused_with_the_holder_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan-x.json");
        let (_held, _) = Journal::lock(&path).unwrap();
        let err = match Journal::lock(&path) {
            Err(e) => e,
            Ok(_) => panic!("second lock must fail"),
        };
        assert_eq!(err.exit_code(), 3);
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id()))
        );
    }
}
