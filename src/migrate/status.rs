//! `status PLAN`: what the journal says about each migration and step, without the platform.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

use super::events::Step;
use super::journal::{self, JournalData, MigrationStep, PlanStep, RecordState, StepKey};

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub journal: String,
    /// The platform's stable identity the journal is keyed by.
    pub platform: String,
    /// The URL the last run used.
    pub endpoint: String,
    pub project: String,
    pub stage: String,
    pub run_id: String,
    pub finished: bool,
    pub updated_at: String,
    pub migrations: Vec<MigrationStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationStatus {
    pub target: String,
    pub steps: Vec<StepStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepStatus {
    pub step: Step,
    /// `done`, `in progress` (an intent without a done record), or `pending`.
    pub state: &'static str,
    pub detail: String,
}

/// Every journal of `plan_path` in `state_dir` (one per platform and stage it ran against). An
/// unreadable one stops with exit 3 and the way out, as `run` does.
pub fn read(state_dir: &Path, plan_path: &Path) -> Result<Vec<StatusReport>> {
    let mut reports = Vec::new();
    for found in journal::find_for_plan(state_dir, plan_path)? {
        let data = found.data.map_err(|why| {
            Error::Decision(format!(
                "journal {} cannot be used: {why}. Fix or restore the file, or run the plan with \
                 --restart to move it aside",
                found.path.display()
            ))
        })?;
        reports.push(report(&found.path, &data));
    }
    Ok(reports)
}

fn report(path: &Path, data: &JournalData) -> StatusReport {
    let targets: Vec<String> = data
        .plan
        .get("migrations")
        .and_then(|m| m.as_array())
        .map(|ms| {
            ms.iter()
                .filter_map(|m| m.get("target").and_then(|t| t.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let freezes = data
        .plan
        .get("freeze")
        .and_then(|f| f.as_array())
        .is_some_and(|f| !f.is_empty());
    let migrations = targets
        .iter()
        .map(|t| MigrationStatus {
            target: t.clone(),
            steps: Step::ALL
                .iter()
                .filter(|s| **s != Step::Preflight && (**s != Step::Freeze || freezes))
                .map(|s| step_status(data, *s, t))
                .collect(),
        })
        .collect();
    StatusReport {
        journal: path.display().to_string(),
        platform: data.key.platform.to_string(),
        endpoint: data.endpoint.clone(),
        project: data.key.project.clone(),
        stage: data.key.stage.clone(),
        run_id: data.run_id.clone(),
        finished: data.finished,
        updated_at: data
            .updated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        migrations,
    }
}

/// The journal keys behind one step of one target, in order; stage-wide steps share keys across
/// targets. The last key's done record means the step is done.
fn keys(step: Step, target: &str) -> Vec<StepKey> {
    let of = |s: MigrationStep| s.of(target);
    match step {
        Step::Preflight => Vec::new(),
        Step::Inspect => vec![of(MigrationStep::Inspect)],
        Step::Create => vec![PlanStep::StageTargets.key(), PlanStep::CommitTargets.key()],
        Step::Freeze => vec![
            PlanStep::Scales.key(),
            PlanStep::StageFreeze.key(),
            PlanStep::CommitFreeze.key(),
            PlanStep::Frozen.key(),
        ],
        Step::Backup => vec![of(MigrationStep::BackupCreate), of(MigrationStep::Backup)],
        Step::Download => vec![of(MigrationStep::Download)],
        Step::Upload => vec![of(MigrationStep::Upload)],
        Step::Restore => vec![of(MigrationStep::Restore)],
        Step::Wait => vec![of(MigrationStep::Wait)],
        Step::Verify => vec![of(MigrationStep::Verify)],
        Step::Relink => vec![
            PlanStep::StageRelink.key(),
            PlanStep::CommitRelink.key(),
            PlanStep::Relink.key(),
        ],
    }
}

fn step_status(data: &JournalData, step: Step, target: &str) -> StepStatus {
    let keys = keys(step, target);
    let records: Vec<_> = keys.iter().filter_map(|k| data.steps.get(k)).collect();
    let last = keys.last().and_then(|k| data.steps.get(k));
    let (state, detail) = match last {
        Some(r) if r.state == RecordState::Done => ("done", r.fact.detail()),
        _ => match records
            .iter()
            .rev()
            .find(|r| r.state == RecordState::Intent)
        {
            Some(r) => ("in progress", r.fact.detail()),
            None if !records.is_empty() => ("in progress", String::new()),
            None => ("pending", String::new()),
        },
    };
    StepStatus {
        step,
        state,
        detail,
    }
}
