//! The state one run shares between its steps: platform, journal, events, options.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::model::Scope;
use crate::plan::Plan;
use crate::platform::Platform;

use super::events::{Event, EventSink, Happening, Phase, Step};
use super::journal::{Fact, Journal, RecordState, StepKey, StepRecord};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Migrations transferred, restored and waited for at the same time.
    pub concurrency: usize,
    /// Use a target that exists but was not created by this plan.
    pub adopt_target: bool,
    /// Destroy and recreate a target this plan created that holds data the run cannot account
    /// for (no app may link it), instead of stopping with exit 3.
    pub recreate_target: bool,
    /// Compare each target's data with its source's before relinking (`--no-verify` clears it).
    pub verify: bool,
    /// Relink although writes reached the source after its backup (`--accept-write-gap`).
    pub accept_write_gap: bool,
    /// Scales to restore that the user gave when asked (the journal and the platform could not
    /// tell them), by app.
    pub scales: std::collections::BTreeMap<String, u8>,
    /// How the user reached this run, so suggested commands can be pasted as printed.
    pub invocation: Invocation,
}

/// Command lines as the user would type them next (connection flags included, never a token).
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// `setops-migrate [connection] run PLAN [--state-dir DIR]`.
    pub run: String,
    /// `setops-migrate [connection] -p PROJECT -s STAGE`, for building blocks.
    pub scoped: String,
}

pub struct Engine {
    pub platform: Arc<dyn Platform>,
    pub transfers: reqwest::Client,
    pub plan: Plan,
    pub scope: Scope,
    pub journal: Mutex<Journal>,
    pub sink: Arc<dyn EventSink>,
    pub run_id: String,
    pub started: Instant,
    /// Downloaded backups, private to this plan's journal; removed once restored.
    pub artifacts: PathBuf,
    pub options: RunOptions,
}

impl Engine {
    pub fn event(
        &self,
        migration: Option<&str>,
        step: Option<Step>,
        phase: Phase,
        happening: Happening,
    ) -> Event {
        Event {
            run_id: self.run_id.clone(),
            migration: migration.map(str::to_owned),
            step,
            phase,
            attempt: None,
            bytes: None,
            total: None,
            elapsed_ms: self.started.elapsed().as_millis() as u64,
            happening,
        }
    }

    pub fn emit(
        &self,
        migration: Option<&str>,
        step: Option<Step>,
        phase: Phase,
        happening: Happening,
    ) {
        self.sink
            .emit(self.event(migration, step, phase, happening));
    }

    pub fn emit_error(&self, migration: Option<&str>, step: Option<Step>, error: &Error) {
        let request_id = match error {
            Error::Platform { error, .. } => Some(error.request_id.clone()),
            _ => None,
        };
        let error_code = Some(error.error_code().to_owned());
        let failed = Happening::Failed {
            text: crate::redact::redact(&error.to_string()),
            error_code,
            request_id,
        };
        self.sink
            .emit(self.event(migration, step, Phase::Failed, failed));
    }

    /// The longest `wait_timeout` of the plan: the bound for stage-wide commits.
    pub fn longest_wait(&self) -> std::time::Duration {
        self.plan
            .migrations
            .iter()
            .map(|m| m.wait_timeout)
            .max()
            .unwrap_or(crate::plan::DEFAULT_WAIT_TIMEOUT)
    }

    pub async fn record(&self, key: &StepKey) -> Option<StepRecord> {
        self.journal.lock().await.get(key).cloned()
    }

    /// The fact of a done record, if the step finished in this or an earlier run.
    pub async fn done_fact(&self, key: &StepKey) -> Option<Fact> {
        self.record(key)
            .await
            .filter(|r| r.state == RecordState::Done)
            .map(|r| r.fact)
    }

    /// An intent without a done record: the step may or may not have happened.
    pub async fn open_intent(&self, key: &StepKey) -> Option<StepRecord> {
        self.record(key)
            .await
            .filter(|r| r.state == RecordState::Intent)
    }

    pub async fn intent(&self, key: &StepKey, fact: Fact) -> Result<()> {
        Ok(self.journal.lock().await.intent(key, fact)?)
    }

    pub async fn done(&self, key: &StepKey, fact: Fact) -> Result<()> {
        Ok(self.journal.lock().await.done(key, fact)?)
    }

    pub async fn forget(&self, keys: &[StepKey]) -> Result<()> {
        Ok(self.journal.lock().await.forget(keys)?)
    }
}
