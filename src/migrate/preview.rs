//! What `--dry-run` (and the confirmation before a run) shows: every migration resolved against
//! the platform, nothing touched.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::error::Result;
use crate::model::BackupStatus;
use crate::plan::{BackupChoice, Plan};
use crate::platform::Platform;

use super::inspect::{self, Resolved};

/// What `--dry-run` shows: every migration resolved against the platform, nothing touched.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub migrations: Vec<PreviewItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewItem {
    pub resolved: Resolved,
    pub backup: BackupPreview,
    pub target_exists: bool,
}

/// Which bytes a migration will move, as far as it can be known before the run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackupPreview {
    LocalFile {
        path: PathBuf,
    },
    /// `backup: fresh`: made when the run gets there.
    FreshAtRunTime {
        source: String,
    },
    /// A backup named by its ID in the plan.
    Named {
        source: String,
        id: Uuid,
        status: BackupStatus,
        size: Option<u64>,
        /// The platform's printed size where it gives no exact one (the `setops` CLI).
        #[serde(skip_serializing_if = "Option::is_none")]
        shown_size: Option<String>,
    },
    /// `backup: latest`, as it stands now.
    Latest {
        source: String,
        id: Uuid,
        created_at: DateTime<Utc>,
        size: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        shown_size: Option<String>,
    },
    /// `backup: latest`, but the source has no CREATED backup.
    NoneCreated {
        source: String,
    },
    Nothing,
}

pub async fn preview(platform: &dyn Platform, plan: &Plan) -> Result<Preview> {
    let stage = inspect::preflight(platform, plan).await?;
    let mut items = Vec::new();
    for m in &plan.migrations {
        let resolved = inspect::resolve(plan, m, &stage.services)?;
        inspect::check_file_format(plan, m, &resolved)?;
        let backup = match (&m.backup, &m.source) {
            (BackupChoice::File(p), _) => BackupPreview::LocalFile { path: p.clone() },
            (BackupChoice::Fresh, Some(s)) => BackupPreview::FreshAtRunTime { source: s.clone() },
            (BackupChoice::Id(id), Some(s)) => {
                let b = platform.backup(&plan.scope, s, &id.to_string()).await?;
                BackupPreview::Named {
                    source: s.clone(),
                    id: b.id,
                    status: b.status,
                    size: b.size,
                    shown_size: b.shown_size,
                }
            }
            (_, Some(s)) => {
                let backups = platform.backups(&plan.scope, s).await?;
                match inspect::latest_created(&backups) {
                    Some(b) => BackupPreview::Latest {
                        source: s.clone(),
                        id: b.id,
                        created_at: b.created_at,
                        size: b.size,
                        shown_size: b.shown_size.clone(),
                    },
                    None => BackupPreview::NoneCreated { source: s.clone() },
                }
            }
            (_, None) => BackupPreview::Nothing,
        };
        items.push(PreviewItem {
            target_exists: inspect::find(&stage.services, &m.target).is_some(),
            resolved,
            backup,
        });
    }
    Ok(Preview { migrations: items })
}
