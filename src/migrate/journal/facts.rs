//! What a journal record knows: one variant per kind of observation, tagged in the file
//! (`"fact": "upload"`). Never a token or a pre-signed URL.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::migrate::data::Artifact;
use crate::migrate::inspect::Resolved;
use crate::migrate::verify::activity::{Activity, WriteGap};
use crate::model::ChangesetCommand;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    /// An intent recorded before anything was observed.
    Nothing,
    /// The migration resolved against the platform at inspect time (the source snapshot).
    Resolved(Box<Resolved>),
    /// The changeset commands a stage step stages, in order.
    Commands {
        commands: Vec<ChangesetCommand>,
    },
    /// A commit: its ID once the platform gave one.
    Commit {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        commit_id: Option<Uuid>,
    },
    /// Every target existed already, so nothing was committed.
    TargetsExisted,
    /// `backup:create` on the source: the backup IDs listed just before the call (so a rerun
    /// finds the new one by the backup table alone) and the new ID once known.
    BackupCreate {
        #[serde(default)]
        before: Vec<Uuid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backup_id: Option<Uuid>,
    },
    /// The bytes this migration moves.
    Artifact(Artifact),
    Downloaded {
        size: u64,
        sha256: String,
    },
    /// An upload to the target: its ID is recorded before any byte is sent.
    Upload {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        upload_id: Option<Uuid>,
        sha256: String,
        /// For a platform that names the upload only at the end: the target's backups before
        /// the upload started, so a rerun can tell which one the upload made.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        known_before: Option<Vec<Uuid>>,
    },
    /// A restore of `upload_id` was requested (intent) or seen RESTORING (done).
    Restore {
        upload_id: Uuid,
    },
    /// The restore left RESTORING.
    Waited {
        upload_id: Uuid,
    },
    /// The platform said the restore failed: the target holds partial data.
    RestoreFailed {
        upload_id: Uuid,
        error: String,
    },
    Verified(Verified),
    Relinked {
        moved: usize,
        /// When the same commit restored the frozen apps' scales (unix ms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unfrozen_at_ms: Option<u64>,
    },
    /// Each frozen app's scale before the freeze, to restore at the relink or `--unfreeze`.
    Scales {
        scales: BTreeMap<String, u8>,
    },
    /// No container of a frozen app runs since `at_ms` (unix ms): the downtime's start.
    Frozen {
        at_ms: u64,
    },
    /// The source's write activity, the write gap's baseline.
    Activity(Activity),
    /// Concluded from the platform's state rather than done by this run (e.g. the apps already
    /// link the target, so the data steps finished in a run whose journal is gone).
    Observed {
        evidence: String,
    },
}

/// What verify checked and found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verified {
    pub size: u64,
    pub sha256: String,
    /// `size`, `sha256`, and `data` when the data itself was compared.
    pub checked: Vec<String>,
    /// The compared data's fingerprint (tables and rows, keys, files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_not_compared: Option<String>,
    /// Writes to the source after its backup that the target lacks, relinked anyway because the
    /// user accepted them (`--accept-write-gap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_gap: Option<WriteGap>,
}

impl Fact {
    /// The upload this record names, for status lines and summaries.
    pub fn upload_id(&self) -> Option<Uuid> {
        match self {
            Fact::Upload { upload_id, .. } => *upload_id,
            Fact::Restore { upload_id }
            | Fact::Waited { upload_id }
            | Fact::RestoreFailed { upload_id, .. } => Some(*upload_id),
            _ => None,
        }
    }

    /// One short line for `status`.
    pub fn detail(&self) -> String {
        match self {
            Fact::Nothing | Fact::TargetsExisted => String::new(),
            Fact::Resolved(r) => format!("{} ({})", r.target, r.service_type),
            Fact::Commands { commands } => format!("{} command(s)", commands.len()),
            Fact::Commit { commit_id } => commit_id
                .map(|id| format!("commit_id {id}"))
                .unwrap_or_default(),
            Fact::BackupCreate { backup_id, .. } => backup_id
                .map(|id| format!("backup_id {id}"))
                .unwrap_or_default(),
            Fact::Artifact(a) => match &a.backup_id {
                Some(id) => format!("backup_id {id}"),
                None => format!("file {}", a.file.display()),
            },
            Fact::Downloaded { sha256, .. } => format!("sha256 {sha256}"),
            Fact::Upload {
                upload_id, sha256, ..
            } => match upload_id {
                Some(id) => format!("upload_id {id}"),
                None => format!("sha256 {sha256}"),
            },
            Fact::Restore { upload_id } | Fact::Waited { upload_id } => {
                format!("upload_id {upload_id}")
            }
            Fact::RestoreFailed { upload_id, error } => {
                format!("upload_id {upload_id} failed: {error}")
            }
            Fact::Verified(v) => v.checked.join(", "),
            Fact::Relinked { moved, .. } => format!("{moved} link(s) moved"),
            Fact::Scales { scales } => scales
                .iter()
                .map(|(app, scale)| format!("{app} scale {scale}"))
                .collect::<Vec<_>>()
                .join(", "),
            Fact::Frozen { .. } => "no container runs".to_owned(),
            Fact::Activity(_) => "source activity measured".to_owned(),
            Fact::Observed { evidence } => format!("observed: {evidence}"),
        }
    }
}
