//! Journal keys: one per stage-wide step, or per step and target. Written as readable text in
//! the file (`commit-targets`, `upload:files2`) and parsed back into the enum.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Steps done once for the whole plan (they stage and commit for every migration at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlanStep {
    StageDestroy,
    CommitDestroy,
    StageTargets,
    CommitTargets,
    StageRelink,
    CommitRelink,
    Relink,
    /// The frozen apps' scales before the freeze, recorded before anything is staged.
    Scales,
    StageFreeze,
    CommitFreeze,
    /// No container of a frozen app runs any more.
    Frozen,
    StageUnfreeze,
    CommitUnfreeze,
}

/// Steps of one migration, in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MigrationStep {
    Inspect,
    /// The source's write activity just before its backup (the write gap's baseline).
    Activity,
    BackupCreate,
    Backup,
    Download,
    Upload,
    Restore,
    Wait,
    Verify,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepKey {
    Plan(PlanStep),
    Migration(MigrationStep, String),
}

impl PlanStep {
    pub const ALL: [PlanStep; 13] = [
        PlanStep::StageDestroy,
        PlanStep::CommitDestroy,
        PlanStep::StageTargets,
        PlanStep::CommitTargets,
        PlanStep::StageRelink,
        PlanStep::CommitRelink,
        PlanStep::Relink,
        PlanStep::Scales,
        PlanStep::StageFreeze,
        PlanStep::CommitFreeze,
        PlanStep::Frozen,
        PlanStep::StageUnfreeze,
        PlanStep::CommitUnfreeze,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanStep::StageDestroy => "stage-destroy",
            PlanStep::CommitDestroy => "commit-destroy",
            PlanStep::StageTargets => "stage-targets",
            PlanStep::CommitTargets => "commit-targets",
            PlanStep::StageRelink => "stage-relink",
            PlanStep::CommitRelink => "commit-relink",
            PlanStep::Relink => "relink",
            PlanStep::Scales => "scales",
            PlanStep::StageFreeze => "stage-freeze",
            PlanStep::CommitFreeze => "commit-freeze",
            PlanStep::Frozen => "frozen",
            PlanStep::StageUnfreeze => "stage-unfreeze",
            PlanStep::CommitUnfreeze => "commit-unfreeze",
        }
    }

    pub fn key(self) -> StepKey {
        StepKey::Plan(self)
    }
}

impl MigrationStep {
    pub const ALL: [MigrationStep; 9] = [
        MigrationStep::Inspect,
        MigrationStep::Activity,
        MigrationStep::BackupCreate,
        MigrationStep::Backup,
        MigrationStep::Download,
        MigrationStep::Upload,
        MigrationStep::Restore,
        MigrationStep::Wait,
        MigrationStep::Verify,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MigrationStep::Inspect => "inspect",
            MigrationStep::Activity => "activity",
            MigrationStep::BackupCreate => "backup-create",
            MigrationStep::Backup => "backup",
            MigrationStep::Download => "download",
            MigrationStep::Upload => "upload",
            MigrationStep::Restore => "restore",
            MigrationStep::Wait => "wait",
            MigrationStep::Verify => "verify",
        }
    }

    pub fn of(self, target: &str) -> StepKey {
        StepKey::Migration(self, target.to_owned())
    }
}

impl StepKey {
    /// The migration target the key belongs to, if it is not stage-wide.
    pub fn target(&self) -> Option<&str> {
        match self {
            StepKey::Plan(_) => None,
            StepKey::Migration(_, t) => Some(t),
        }
    }
}

impl fmt::Display for StepKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepKey::Plan(p) => f.write_str(p.as_str()),
            StepKey::Migration(m, target) => write!(f, "{}:{target}", m.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a journal step (expected e.g. `commit-targets` or `upload:<target>`)")]
pub struct UnknownStep(pub String);

impl FromStr for StepKey {
    type Err = UnknownStep;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(p) = PlanStep::ALL.iter().find(|p| p.as_str() == s) {
            return Ok(StepKey::Plan(*p));
        }
        let (step, target) = s.split_once(':').ok_or_else(|| UnknownStep(s.to_owned()))?;
        let step = MigrationStep::ALL
            .iter()
            .find(|m| m.as_str() == step)
            .ok_or_else(|| UnknownStep(s.to_owned()))?;
        if target.is_empty() {
            return Err(UnknownStep(s.to_owned()));
        }
        Ok(StepKey::Migration(*step, target.to_owned()))
    }
}

impl Serialize for StepKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StepKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_reads_back_as_itself() {
        let mut keys: Vec<StepKey> = PlanStep::ALL.iter().map(|p| p.key()).collect();
        keys.extend(MigrationStep::ALL.iter().map(|m| m.of("files2")));
        for k in keys {
            assert_eq!(k.to_string().parse::<StepKey>(), Ok(k.clone()), "{k}");
        }
    }

    #[test]
    fn unknown_text_is_refused() {
        for bad in ["", "upload", "upload:", "uplod:files2", "commit"] {
            assert!(bad.parse::<StepKey>().is_err(), "{bad:?}");
        }
    }
}
