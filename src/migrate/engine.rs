//! The state one run shares between its steps: platform, journal, events, options.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::model::Scope;
use crate::plan::Plan;
use crate::platform::Platform;

use super::events::{Event, EventSink, Phase, Step};
use super::journal::{Journal, RecordState, StepRecord};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Migrations transferred, restored and waited for at the same time.
    pub concurrency: usize,
    /// Use a target that exists but was not created by this plan.
    pub adopt_target: bool,
    /// Discard the journal of an earlier, different version of the plan.
    pub restart: bool,
    /// Where journals and downloaded artifacts live.
    pub state_dir: PathBuf,
    /// Compare each target's data with its source's before relinking (`--no-verify` clears it).
    pub verify: bool,
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
        message: impl Into<String>,
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
            message: message.into(),
            error_code: None,
            request_id: None,
            data: None,
        }
    }

    pub fn emit(
        &self,
        migration: Option<&str>,
        step: Option<Step>,
        phase: Phase,
        message: impl Into<String>,
    ) {
        self.sink.emit(self.event(migration, step, phase, message));
    }

    pub fn emit_error(&self, migration: Option<&str>, step: Option<Step>, error: &Error) {
        let mut event = self.event(
            migration,
            step,
            Phase::Failed,
            crate::redact::redact(&error.to_string()),
        );
        if let Error::Platform { error, .. } = error {
            event.error_code = Some(error.code.clone());
            event.request_id = Some(error.request_id.clone());
        }
        self.sink.emit(event);
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

    pub async fn record(&self, key: &str) -> Option<StepRecord> {
        self.journal.lock().await.get(key).cloned()
    }

    /// The data of a done record, if the step finished in this or an earlier run.
    pub async fn done_data(&self, key: &str) -> Option<Value> {
        self.record(key)
            .await
            .filter(|r| r.state == RecordState::Done)
            .map(|r| r.data)
    }

    /// The data of an intent without a done record: the step may or may not have happened.
    pub async fn open_intent(&self, key: &str) -> Option<StepRecord> {
        self.record(key)
            .await
            .filter(|r| r.state == RecordState::Intent)
    }

    pub async fn intent(&self, key: &str, data: Value) -> Result<()> {
        self.journal.lock().await.intent(key, data)
    }

    pub async fn done(&self, key: &str, data: Value) -> Result<()> {
        self.journal.lock().await.done(key, data)
    }
}

/// Journal keys: one per step and target, or per plan for stage-wide steps.
pub fn key(step: &str, target: &str) -> String {
    format!("{step}:{target}")
}

/// A string field of a journal record.
pub fn field<'a>(data: &'a Value, name: &str) -> Option<&'a str> {
    data.get(name).and_then(Value::as_str)
}
