//! Journals written before the typed format (format 1: string keys such as `upload:files2` and
//! free-form JSON data, named by the endpoint URL). A run in flight when its user upgraded is
//! found and converted, so nobody loses a run by upgrading.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::facts::{Fact, Verified};
use super::keys::{MigrationStep, PlanStep, StepKey};
use super::{JournalData, JournalKey, RecordState, StepRecord};
use crate::platform::PlatformIdentity;

pub const FORMAT: u32 = 1;

#[derive(Debug, Deserialize)]
pub struct LegacyJournal {
    pub format: u32,
    pub key: LegacyKey,
    pub plan_path: String,
    pub plan_hash: String,
    pub plan: Value,
    pub run_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished: bool,
    pub steps: BTreeMap<String, LegacyRecord>,
}

#[derive(Debug, Deserialize)]
pub struct LegacyKey {
    pub endpoint: String,
    pub project: String,
    pub stage: String,
}

#[derive(Debug, Deserialize)]
pub struct LegacyRecord {
    pub state: RecordState,
    pub started_at: DateTime<Utc>,
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub data: Value,
}

/// The legacy journal in today's format, keyed by `platform`. Says which record it could not
/// read, so the user knows what `--restart` would drop.
pub fn convert(old: LegacyJournal, platform: PlatformIdentity) -> Result<JournalData, String> {
    let mut steps = BTreeMap::new();
    for (name, record) in old.steps {
        let key: StepKey = name.parse().map_err(|e| format!("record {name:?}: {e}"))?;
        let fact = fact_of(&key, record.state, record.data)
            .map_err(|e| format!("record {name:?}: {e}"))?;
        steps.insert(
            key,
            StepRecord {
                state: record.state,
                started_at: record.started_at,
                finished_at: record.finished_at,
                fact,
            },
        );
    }
    Ok(JournalData {
        format: super::FORMAT,
        key: JournalKey {
            platform,
            project: old.key.project,
            stage: old.key.stage,
        },
        endpoint: old.key.endpoint,
        plan_path: old.plan_path,
        plan_hash: old.plan_hash,
        plan: old.plan,
        run_id: old.run_id,
        created_at: old.created_at,
        updated_at: old.updated_at,
        finished: old.finished,
        steps,
    })
}

fn fact_of(key: &StepKey, state: RecordState, data: Value) -> Result<Fact, String> {
    let uuid = |name: &str| -> Result<Option<Uuid>, String> {
        match data.get(name).and_then(Value::as_str) {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|e| format!("{name} {s:?} is not a UUID ({e})")),
        }
    };
    let text = |name: &str| data.get(name).and_then(Value::as_str).map(str::to_owned);
    let number = |name: &str| data.get(name).and_then(Value::as_u64);
    let required = |what: Option<Uuid>, name: &str| what.ok_or_else(|| format!("no {name}"));
    Ok(match key {
        StepKey::Plan(PlanStep::StageTargets | PlanStep::StageRelink | PlanStep::StageDestroy) => {
            Fact::Commands {
                commands: serde_json::from_value(data.get("commands").cloned().unwrap_or_default())
                    .map_err(|e| format!("commands: {e}"))?,
            }
        }
        StepKey::Plan(PlanStep::CommitTargets) if data.get("existing").is_some() => {
            Fact::TargetsExisted
        }
        StepKey::Plan(
            PlanStep::CommitTargets | PlanStep::CommitRelink | PlanStep::CommitDestroy,
        ) => Fact::Commit {
            commit_id: uuid("commit_id")?,
        },
        StepKey::Plan(PlanStep::Relink) => Fact::Relinked {
            moved: number("moved").unwrap_or(0) as usize,
            unfrozen_at_ms: None,
        },
        // Version 1 journals predate the freeze.
        StepKey::Plan(
            PlanStep::Scales
            | PlanStep::StageFreeze
            | PlanStep::CommitFreeze
            | PlanStep::Frozen
            | PlanStep::StageUnfreeze
            | PlanStep::CommitUnfreeze,
        ) => return Err(format!("{key} is not a step of a version 1 journal")),
        StepKey::Migration(step, _) => match step {
            MigrationStep::Inspect => Fact::Resolved(Box::new(
                serde_json::from_value(data).map_err(|e| e.to_string())?,
            )),
            MigrationStep::Activity => {
                return Err(format!("{key} is not a step of a version 1 journal"));
            }
            MigrationStep::BackupCreate => Fact::BackupCreate {
                before: Vec::new(),
                backup_id: uuid("backup_id")?,
            },
            MigrationStep::Backup => {
                Fact::Artifact(serde_json::from_value(data).map_err(|e| e.to_string())?)
            }
            MigrationStep::Download => Fact::Downloaded {
                size: number("size").ok_or("no size")?,
                sha256: text("sha256").ok_or("no sha256")?,
            },
            MigrationStep::Upload => Fact::Upload {
                upload_id: uuid("upload_id")?,
                sha256: text("sha256").unwrap_or_default(),
                known_before: None,
            },
            MigrationStep::Restore => Fact::Restore {
                upload_id: required(uuid("upload_id")?, "upload_id")?,
            },
            MigrationStep::Wait => Fact::Waited {
                upload_id: required(uuid("upload_id")?, "upload_id")?,
            },
            MigrationStep::Verify if state == RecordState::Done => Fact::Verified(Verified {
                size: number("size").unwrap_or(0),
                sha256: text("sha256").unwrap_or_default(),
                checked: data
                    .get("checked")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                data: data.get("data").cloned(),
                data_not_compared: text("data_not_compared"),
                write_gap: None,
            }),
            MigrationStep::Verify => Fact::Nothing,
        },
    })
}
