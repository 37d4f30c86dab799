//! What `--dry-run` (and the confirmation before a run) shows: every migration resolved against
//! the platform, nothing touched.

use serde::Serialize;

use crate::error::Result;
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
    pub backup: String,
    pub target_exists: bool,
}

pub async fn preview(platform: &dyn Platform, plan: &Plan) -> Result<Preview> {
    let stage = inspect::preflight(platform, plan).await?;
    let mut items = Vec::new();
    for m in &plan.migrations {
        let resolved = inspect::resolve(plan, m, &stage.services)?;
        inspect::check_file_format(plan, m, &resolved)?;
        let backup = match (&m.backup, &m.source) {
            (BackupChoice::File(p), _) => format!("local file {}", p.display()),
            (BackupChoice::Fresh, Some(s)) => format!("a fresh backup of {s}, made at run time"),
            (BackupChoice::Id(id), Some(s)) => {
                let b = platform.backup(&plan.scope, s, &id.to_string()).await?;
                format!(
                    "backup {} of {s} ({}, {})",
                    b.id,
                    b.status,
                    size_text(b.size)
                )
            }
            (_, Some(s)) => {
                let backups = platform.backups(&plan.scope, s).await?;
                match inspect::latest_created(&backups) {
                    Some(b) => format!(
                        "latest backup {} of {s} ({}, {})",
                        b.id,
                        b.created_at
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        size_text(b.size)
                    ),
                    None => format!("none: {s} has no CREATED backup (use backup: fresh)"),
                }
            }
            (_, None) => "none".into(),
        };
        items.push(PreviewItem {
            target_exists: inspect::find(&stage.services, &m.target).is_some(),
            resolved,
            backup,
        });
    }
    Ok(Preview { migrations: items })
}

fn size_text(size: Option<u64>) -> String {
    size.map(crate::ui::format_size)
        .unwrap_or_else(|| "size unknown".into())
}
