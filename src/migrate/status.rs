//! `status PLAN`: what the journal says about each migration and step, without the platform.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

use super::events::Step;
use super::journal::{JournalData, RecordState};

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub journal: String,
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

/// Every journal of `plan_path` in `state_dir` (one per platform and stage it ran against).
pub fn read(state_dir: &Path, plan_path: &Path) -> Result<Vec<StatusReport>> {
    let stem = plan_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let entries = match std::fs::read_dir(state_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("reading the state directory", state_dir, e)),
    };
    let mut reports = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_journal = name.starts_with(&format!("{stem}-"))
            && name.ends_with(".json")
            && name.len() == stem.len() + 1 + 10 + 5;
        if !is_journal {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| Error::io("reading the journal", &path, e))?;
        let data: JournalData = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Usage(format!("journal {} is not readable: {e}", path.display()))
        })?;
        reports.push(report(&path, &data));
    }
    reports.sort_by(|a, b| a.journal.cmp(&b.journal));
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
    let migrations = targets
        .iter()
        .map(|t| MigrationStatus {
            target: t.clone(),
            steps: Step::ALL
                .iter()
                .filter(|s| **s != Step::Preflight)
                .map(|s| step_status(data, *s, t))
                .collect(),
        })
        .collect();
    StatusReport {
        journal: path.display().to_string(),
        endpoint: data.key.endpoint.clone(),
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

/// The journal keys behind one step of one target; stage-wide steps share keys across targets.
fn keys(step: Step, target: &str) -> Vec<String> {
    match step {
        Step::Create => vec!["stage-targets".into(), "commit-targets".into()],
        Step::Relink => vec![
            "stage-relink".into(),
            "commit-relink".into(),
            "relink".into(),
        ],
        Step::Backup => vec![
            format!("backup-create:{target}"),
            format!("backup:{target}"),
        ],
        other => vec![format!("{}:{target}", other.as_str())],
    }
}

fn step_status(data: &JournalData, step: Step, target: &str) -> StepStatus {
    let records: Vec<_> = keys(step, target)
        .into_iter()
        .filter_map(|k| data.steps.get(&k).map(|r| (k, r)))
        .collect();
    let last_key_done = keys(step, target)
        .last()
        .and_then(|k| data.steps.get(k))
        .is_some_and(|r| r.state == RecordState::Done);
    let (state, detail) = if last_key_done {
        let r = &data.steps[keys(step, target)
            .last()
            .map(String::as_str)
            .unwrap_or_default()];
        ("done", detail_of(&r.data))
    } else if let Some((_, r)) = records
        .iter()
        .rev()
        .find(|(_, r)| r.state == RecordState::Intent)
    {
        ("in progress", detail_of(&r.data))
    } else if !records.is_empty() {
        ("in progress", String::new())
    } else {
        ("pending", String::new())
    };
    StepStatus {
        step,
        state,
        detail,
    }
}

fn detail_of(data: &serde_json::Value) -> String {
    for k in ["upload_id", "backup_id", "commit_id", "sha256"] {
        if let Some(v) = data.get(k).and_then(|v| v.as_str()) {
            return format!("{k} {v}");
        }
    }
    if let Some(moved) = data.get("moved") {
        return format!("{moved} link(s) moved");
    }
    String::new()
}
