//! Backups and their restore records.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BackupStatus {
    Created,
    Creating,
    Restoring,
    /// An upload whose ID was allocated but whose bytes have not arrived yet. Not in the document's
    /// state table; it exists so an upload ID can be recorded before any byte is sent.
    Uploading,
}

impl BackupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::Created => "CREATED",
            BackupStatus::Creating => "CREATING",
            BackupStatus::Restoring => "RESTORING",
            BackupStatus::Uploading => "UPLOADING",
        }
    }
}

impl fmt::Display for BackupStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupOrigin {
    /// `backup:create`
    Manual,
    /// made by a backup schedule
    Scheduled,
    /// `backup:upload`
    Upload,
    /// The platform does not say (the `setops` CLI's backup table has no such column).
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RestoreOutcome {
    Running,
    Succeeded,
    Failed,
}

/// The last restore of a backup, so a client can tell a finished restore from one that never ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRecord {
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: RestoreOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    pub id: Uuid,
    pub service: String,
    pub status: BackupStatus,
    pub created_at: DateTime<Utc>,
    /// Bytes of the backup file; unknown while CREATING or UPLOADING.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Lowercase hex SHA-256 of the backup file, once it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The size as the platform printed it (`150.8 kB`) where it gives no exact one: the
    /// `setops` CLI's backup table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown_size: Option<String>,
    pub origin: BackupOrigin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restore: Option<RestoreRecord>,
    /// How many restores of this backup were started; a restore resumed after a platform
    /// restart is not counted again.
    #[serde(default)]
    pub restore_count: u32,
}

impl Backup {
    /// The size as the CLI prints it: the exact size rounded (`150.8 kB`), else the platform's
    /// own printed size; `None` while it has none (CREATING).
    pub fn size_text(&self) -> Option<String> {
        self.size
            .map(crate::units::format_size)
            .or_else(|| self.shown_size.clone())
    }
}
