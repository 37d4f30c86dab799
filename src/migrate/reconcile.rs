//! Whether an existing target may receive this plan's restore, decided from what the real
//! `setops` CLI can show (design.md section 5): the service's type, plan, options, schedule and
//! links, the changeset, and the backup table (ID, STATUS, CREATED AT, SIZE). Facts only the
//! sandbox offers (restore records, origins, checksums) may confirm a stop, never allow a restore.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::model::{Backup, BackupStatus, Service};

use super::inspect::Resolved;

/// A backup as the CLI's `backup` table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupRow {
    pub id: Uuid,
    pub status: BackupStatus,
    pub created_at: DateTime<Utc>,
    /// As the CLI's backup table prints it (`150.8 kB`): the fact itself, not a rendering.
    pub size: String,
}

impl BackupRow {
    /// The CLI-visible part of a backup; nothing else reaches the rules.
    pub fn of(b: &Backup) -> BackupRow {
        BackupRow {
            id: b.id,
            status: b.status,
            created_at: b.created_at,
            size: b.size_text().unwrap_or_else(|| "-".into()),
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} {} created {} ({})",
            self.id,
            self.status,
            self.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            self.size
        )
    }
}

/// What this plan's journal says about one migration's target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JournalView {
    /// This plan staged the target's creation.
    pub created_by_plan: bool,
    /// The upload the journal recorded (before any byte was sent).
    pub upload: Option<Uuid>,
    /// For a platform that names an upload only at the end: the target's backups before this
    /// plan's upload started. A CREATED backup not among them is this plan's upload (or a copy
    /// an interrupted attempt sent), never restored: restores are journaled first.
    pub known_before_upload: Option<Vec<Uuid>>,
    pub restore: RestoreRecord,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub enum RestoreRecord {
    #[default]
    NotRequested,
    /// An intent without a done record: the call may or may not have reached the platform.
    Requested(Uuid),
    /// The restore was seen RESTORING (or finished) by this plan.
    Started(Uuid),
    /// The platform reported the restore as failed.
    Failed { upload: Uuid, error: String },
}

/// Evidence that the data steps finished in an earlier run: relinking comes only after every
/// migration was restored and verified.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RelinkEvidence {
    /// Every planned link of this migration (at least one) points at the target already.
    pub links_in_place: bool,
    /// The changeset holds the start (at least one command) of this plan's relink commands.
    pub staged: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Assessment {
    /// Safe to go on with the migration's steps (nothing on the target, or only what the
    /// journal explains).
    Proceed,
    /// The data steps finished in an earlier run; only the relink may remain.
    Finished { evidence: String },
    /// The target may hold data of an earlier attempt that no record explains: restoring could
    /// duplicate it. Exit 3 unless the target is recreated.
    Ambiguous { found: String },
    /// Not this plan's target: another configuration or another app's link.
    Foreign { why: String },
    /// It has this plan's configuration and holds no backup, but nothing shows that this plan
    /// made it: made by hand (`service:create`), or by an earlier run whose journal is gone. The
    /// platform cannot tell these apart, so it is used only when the user says so.
    Unclaimed,
}

/// The rules, on CLI-visible facts and the journal only.
pub fn assess(
    resolved: &Resolved,
    target: &Service,
    rows: &[BackupRow],
    journal: &JournalView,
    relink: RelinkEvidence,
) -> Assessment {
    if !journal.created_by_plan
        && let Some(why) = foreign(resolved, target)
    {
        return Assessment::Foreign { why };
    }
    if relink.links_in_place {
        return Assessment::Finished {
            evidence: "the planned links already point at it".into(),
        };
    }
    if relink.staged {
        return Assessment::Finished {
            evidence: "this plan's relink commands are staged in the changeset".into(),
        };
    }
    let unexplained: Vec<&BackupRow> = rows
        .iter()
        .filter(|r| Some(r.id) != journal.upload)
        .filter(|r| {
            !(r.status == BackupStatus::Created
                && journal
                    .known_before_upload
                    .as_ref()
                    .is_some_and(|before| !before.contains(&r.id)))
        })
        .collect();
    if !unexplained.is_empty() {
        return Assessment::Ambiguous {
            found: format!(
                "it holds {} backup(s) this run's journal does not explain: {}; an earlier attempt \
                 may have uploaded and restored them, and the backup table cannot show whether a \
                 backup was restored",
                unexplained.len(),
                unexplained
                    .iter()
                    .map(|r| r.describe())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
    }
    if !journal.created_by_plan
        && journal.upload.is_none()
        && journal.restore == RestoreRecord::NotRequested
    {
        return Assessment::Unclaimed;
    }
    let ours = journal
        .upload
        .and_then(|id| rows.iter().find(|r| r.id == id));
    match &journal.restore {
        RestoreRecord::Failed { upload, error } => Assessment::Ambiguous {
            found: format!(
                "the restore of backup {upload} failed ({error}); it may hold partial data"
            ),
        },
        RestoreRecord::Requested(upload) => match ours {
            Some(r) if r.id == *upload && r.status == BackupStatus::Restoring => {
                Assessment::Proceed
            }
            _ => Assessment::Ambiguous {
                found: format!(
                    "an earlier attempt asked the platform to restore backup {upload} and stopped \
                     before it saw the restore start; the backup is {} now, and the platform shows \
                     no record of whether a restore ran",
                    ours.map(|r| r.status.as_str()).unwrap_or("gone")
                ),
            },
        },
        RestoreRecord::Started(upload) if ours.is_none() => Assessment::Ambiguous {
            found: format!("backup {upload}, which this plan restored, is gone from it"),
        },
        RestoreRecord::Started(_) => Assessment::Proceed,
        RestoreRecord::NotRequested => match ours {
            Some(r) if r.status == BackupStatus::Restoring => Assessment::Ambiguous {
                found: format!(
                    "backup {} is RESTORING although this plan never asked for a restore",
                    r.id
                ),
            },
            _ => Assessment::Proceed,
        },
    }
}

/// Extra facts a platform may offer (the sandbox's restore records) can only turn a go-ahead
/// into a stop: a backup the journal did not restore that nonetheless shows a restore.
pub fn confirm(assessment: Assessment, backups: &[Backup], journal: &JournalView) -> Assessment {
    if assessment != Assessment::Proceed {
        return assessment;
    }
    let restored_by_plan = match &journal.restore {
        RestoreRecord::Requested(id) | RestoreRecord::Started(id) => Some(*id),
        _ => None,
    };
    match backups.iter().find(|b| {
        Some(b.id) != restored_by_plan && (b.restore_count > 0 || b.last_restore.is_some())
    }) {
        Some(b) => Assessment::Ambiguous {
            found: format!(
                "the platform's records show backup {} restored into it, which this run's journal \
                 does not explain",
                b.id
            ),
        },
        None => assessment,
    }
}

/// Why `target` is not what this plan makes, if it is not.
pub fn foreign(resolved: &Resolved, target: &Service) -> Option<String> {
    if target.service_type != resolved.service_type {
        return Some(format!(
            "it is {}, the plan makes {}",
            target.service_type, resolved.service_type
        ));
    }
    if target.plan != resolved.plan {
        return Some(format!(
            "its plan is {}, the plan makes {}",
            target.plan.as_deref().unwrap_or("(none)"),
            resolved.plan.as_deref().unwrap_or("(none)")
        ));
    }
    // Documented defaults filled in on both sides: shown or left out, they are the same.
    if target.service_type.effective_options(&target.options)
        != resolved.service_type.effective_options(&resolved.options)
    {
        return Some("its options differ from the planned ones".into());
    }
    if target.backup_schedule != resolved.schedule {
        return Some(format!(
            "its backup schedule ({}) differs from the one this plan copies ({})",
            schedule_text(target.backup_schedule.as_ref()),
            schedule_text(resolved.schedule.as_ref())
        ));
    }
    target
        .links
        .iter()
        .find(|l| {
            !resolved
                .links
                .iter()
                .any(|p| p.app == l.app && p.target() == l.target())
        })
        .map(|l| {
            format!(
                "app {} links it ({}) and the plan does not",
                l.app,
                l.target()
            )
        })
}

fn schedule_text(s: Option<&crate::model::BackupSchedule>) -> String {
    match s {
        None => "none".into(),
        Some(s) => {
            let hours: Vec<String> = s.hours.iter().map(|h| format!("{h:02}:00")).collect();
            format!("{} UTC", hours.join(", "))
        }
    }
}

#[cfg(test)]
mod tests;
