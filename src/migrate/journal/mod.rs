//! The run journal: one small JSON file per plan, platform and stage, replaced atomically after
//! every record, mode 0600, guarded by an exclusive lock for the whole run. Before a side effect
//! the engine writes an intent; after it, a done record with what it observed. A rerun replays
//! done steps and reconciles open intents against the platform (design.md section 5).
//!
//! Keys are typed ([`StepKey`]) and so are the observations ([`Fact`]); the file stays readable.

pub mod error;
mod facts;
mod file;
mod keys;
mod legacy;
mod plan_diff;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::platform::PlatformIdentity;

pub use error::JournalError;
pub use facts::{Fact, Verified};
pub use file::{Found, OpenRequest, find_for_plan, finished, finished_identity};
pub use keys::{MigrationStep, PlanStep, StepKey};

/// The file format this version writes; format 1 journals are converted when found.
pub const FORMAT: u32 = 2;

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
    #[serde(flatten)]
    pub fact: Fact,
}

/// What the journal belongs to; a journal for another key is never used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalKey {
    /// The platform's stable identity, never a URL spelling.
    pub platform: PlatformIdentity,
    pub project: String,
    pub stage: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalData {
    pub format: u32,
    pub key: JournalKey,
    /// The URL the last run used, for display only.
    pub endpoint: String,
    pub plan_path: String,
    pub plan_hash: String,
    /// The checked plan as JSON, to say what changed when the plan file changes.
    pub plan: Value,
    pub run_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished: bool,
    pub steps: BTreeMap<StepKey, StepRecord>,
}

/// The journal of one run, held under its lock.
pub struct Journal {
    path: PathBuf,
    data: JournalData,
    /// Notes for the run's events (a legacy journal adopted, an old one moved aside).
    notes: Vec<String>,
    // Held for the whole run; dropping it releases the lock. None for a dry run's look at a
    // journal no run has locked yet.
    _lock: Option<File>,
    /// Written on every change; false for a dry run (`Journal::peek`), which changes nothing.
    persist: bool,
}

impl Journal {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn data(&self) -> &JournalData {
        &self.data
    }

    pub fn finished(&self) -> bool {
        self.data.finished
    }

    /// What opening the journal did besides reading it, for the run to tell.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// Downloaded backups live here, private to this journal; removed once restored.
    pub fn artifacts_dir(&self) -> PathBuf {
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.path.with_file_name(format!("{stem}-artifacts"))
    }

    pub fn get(&self, key: &StepKey) -> Option<&StepRecord> {
        self.data.steps.get(key)
    }

    pub fn intent(&mut self, key: &StepKey, fact: Fact) -> Result<(), JournalError> {
        self.put(key, RecordState::Intent, fact)
    }

    pub fn done(&mut self, key: &StepKey, fact: Fact) -> Result<(), JournalError> {
        self.put(key, RecordState::Done, fact)
    }

    fn put(&mut self, key: &StepKey, state: RecordState, fact: Fact) -> Result<(), JournalError> {
        let started_at = self.get(key).map(|r| r.started_at).unwrap_or_else(Utc::now);
        self.data.steps.insert(
            key.clone(),
            StepRecord {
                state,
                started_at,
                finished_at: (state == RecordState::Done).then(Utc::now),
                fact,
            },
        );
        self.save()
    }

    /// Forgets records (a refused call that provably did nothing; a destroyed target's steps),
    /// in one write.
    pub fn forget(&mut self, keys: &[StepKey]) -> Result<(), JournalError> {
        for k in keys {
            self.data.steps.remove(k);
        }
        self.save()
    }

    pub fn set_finished(&mut self, finished: bool) -> Result<(), JournalError> {
        self.data.finished = finished;
        self.save()
    }

    fn save(&self) -> Result<(), JournalError> {
        if !self.persist {
            return Ok(());
        }
        let mut data = self.data.clone();
        data.updated_at = Utc::now();
        let bytes = serde_json::to_vec_pretty(&data).map_err(JournalError::Encode)?;
        crate::fsio::write_atomic(&self.path, &bytes)
            .map_err(|e| JournalError::io("writing the journal", &self.path, e))
    }
}

#[cfg(test)]
mod tests;
