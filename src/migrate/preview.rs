//! What `--dry-run` (and the confirmation before a run) shows: every migration resolved against
//! the platform, nothing touched.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::compat::Finding;
use crate::error::{Error, Result};
use crate::model::BackupStatus;
use crate::plan::{BackupChoice, Plan};
use crate::platform::Platform;

use super::compat;
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
    /// What the compatibility checks found (src/compat); a refusal stops the run, exit 2.
    pub findings: Vec<Finding>,
}

impl Preview {
    /// The error (exit 2) naming every refusal of every migration, if there is one.
    pub fn refusal(&self, plan: &Plan) -> Option<Error> {
        let texts: Vec<String> = plan
            .migrations
            .iter()
            .zip(&self.migrations)
            .filter_map(|(m, item)| compat::refusal(plan, m, &item.findings, "nothing was created"))
            .map(|e| e.to_string())
            .collect();
        (!texts.is_empty()).then(|| Error::BackupIncompatible(texts.join("\n")))
    }
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

/// Reads the platform and the head of each backup (a local file, or the source backup through
/// its download URL); changes nothing.
pub async fn preview(
    platform: &dyn Platform,
    transfers: &reqwest::Client,
    plan: &Plan,
) -> Result<Preview> {
    let stage = inspect::preflight(platform, plan).await?;
    let mut items = Vec::new();
    for m in &plan.migrations {
        let resolved = inspect::resolve(plan, m, &stage.services)?;
        let source = m
            .source
            .as_deref()
            .and_then(|s| inspect::find(&stage.services, s));
        let mut findings = match (&m.backup, source) {
            (BackupChoice::File(_), _) => compat::file_findings(plan, m, &resolved)?,
            (BackupChoice::Fresh, Some(s)) => {
                crate::compat::assess_types(s.service_type, resolved.service_type)
            }
            _ => Vec::new(),
        };
        let backup = match (&m.backup, &m.source) {
            (BackupChoice::File(p), _) => BackupPreview::LocalFile { path: p.clone() },
            (BackupChoice::Fresh, Some(s)) => BackupPreview::FreshAtRunTime { source: s.clone() },
            (BackupChoice::Id(id), Some(s)) => {
                let b = platform.backup(&plan.scope, s, &id.to_string()).await?;
                if let Some(source) = source {
                    findings.extend(
                        compat::backup_findings(
                            platform,
                            transfers,
                            &plan.scope,
                            source,
                            &b,
                            &resolved,
                        )
                        .await?,
                    );
                }
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
                    Some(b) => {
                        if let Some(source) = source {
                            findings.extend(
                                compat::backup_findings(
                                    platform,
                                    transfers,
                                    &plan.scope,
                                    source,
                                    b,
                                    &resolved,
                                )
                                .await?,
                            );
                        }
                        BackupPreview::Latest {
                            source: s.clone(),
                            id: b.id,
                            created_at: b.created_at,
                            size: b.size,
                            shown_size: b.shown_size.clone(),
                        }
                    }
                    None => {
                        if let Some(source) = source {
                            findings.extend(crate::compat::assess_types(
                                source.service_type,
                                resolved.service_type,
                            ));
                        }
                        BackupPreview::NoneCreated { source: s.clone() }
                    }
                }
            }
            (_, None) => BackupPreview::Nothing,
        };
        let target_exists = inspect::find(&stage.services, &m.target).is_some();
        if target_exists {
            findings.push(crate::compat::target_exists(&m.target));
        }
        items.push(PreviewItem {
            target_exists,
            resolved,
            backup,
            findings,
        });
    }
    Ok(Preview { migrations: items })
}
