//! The words for each [`Happening`]: the `message` of a JSON line and the text of a human or
//! plain line. The engine hands values; sizes, durations and lists are written out here.

use std::fmt;

use crate::api::ConnectionKind;
use crate::migrate::events::{Happening, VerifyOutcome};
use crate::plan::BackupChoice;

use super::commit::phase_text;
use super::format_size;
use super::verify::summary_text;

/// What the artifact check covered; always said, so nobody reads more into it.
fn backup_matches(checksum: bool) -> &'static str {
    if checksum {
        "backup matches (size, SHA-256)"
    } else {
        "backup matches (size as the platform shows it; it reports no SHA-256)"
    }
}

impl fmt::Display for Happening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Happening::*;
        match self {
            JournalNote { text } => f.write_str(text),
            Compat { finding } => write!(f, "{finding}"),
            AlreadyFinished => f.write_str("this plan finished in an earlier run; nothing to do"),
            RunStarted { plan, migrations } => {
                write!(f, "running {} ({migrations} migration(s))", plan.display())
            }
            RunFinished { already_done, .. } => f.write_str(if *already_done {
                "already done"
            } else {
                "all migrations finished"
            }),
            PreflightStarted { scope } => write!(f, "checking {scope}"),
            PreflightDone => f.write_str("token, project, stage and sources checked"),
            Inspected {
                source,
                target,
                service_type,
            } => write!(
                f,
                "{} -> {target} ({service_type})",
                source.as_deref().unwrap_or("(file)")
            ),
            TargetAdopted { why } => write!(
                f,
                "target exists and {why}; adopted as asked (--adopt-target): the data lands on top of what it holds"
            ),
            DataMovedEarlier { evidence } => {
                write!(f, "the data was moved by an earlier run ({evidence})")
            }
            DestroyingTargets { targets } => write!(
                f,
                "destroying {} to start again from a clean target (--recreate-target)",
                targets.join(", ")
            ),
            DestroyedTargets { targets } => write!(f, "destroyed {}", targets.join(", ")),
            TargetsCreatedEarlier => f.write_str("targets were created by an earlier run"),
            TargetsExist => f.write_str("every target exists already"),
            CreatingTargets { targets } => write!(f, "creating {}", targets.join(", ")),
            CreatedTargets { targets } => write!(f, "created {}", targets.join(", ")),
            Staged { commands, scope } => write!(
                f,
                "staged {commands} command(s) in the changeset of {scope}"
            ),
            EarlierCommitApplied => f.write_str("the commit of an earlier attempt went through"),
            EarlierCommitRunning => {
                f.write_str("an earlier attempt's commit is running; waiting for it")
            }
            CommitPhase {
                phase,
                applied,
                total,
            } => write!(f, "commit {}", phase_text(*phase, *applied, *total)),
            CommitSucceeded => f.write_str("Commit successful!"),
            BackupChosenEarlier => f.write_str("backup chosen by an earlier run"),
            ChoosingBackup { choice } => match choice {
                BackupChoice::Latest => {
                    f.write_str("choosing the newest CREATED backup of the source")
                }
                BackupChoice::Fresh => f.write_str("creating a fresh backup of the source"),
                BackupChoice::Id(id) => write!(f, "using backup {id}"),
                BackupChoice::File(p) => write!(f, "hashing {}", p.display()),
            },
            BackupChosen {
                backup_id: Some(id),
                size,
                shown_size,
                ..
            } => write!(
                f,
                "backup {id} ({})",
                size_text(*size, shown_size.as_deref())
            ),
            BackupChosen {
                backup_id: None,
                file,
                size,
                shown_size,
            } => write!(
                f,
                "local file {} ({})",
                file.display(),
                size_text(*size, shown_size.as_deref())
            ),
            DownloadedEarlier => f.write_str("downloaded by an earlier run"),
            DownloadStarted { backup_id } => write!(f, "downloading backup {backup_id}"),
            Downloading => f.write_str("downloading"),
            Downloaded { size } => write!(f, "downloaded {}", format_size(*size)),
            UploadedEarlier { upload_id } => {
                write!(f, "uploaded as {upload_id} by an earlier run")
            }
            UploadFound { upload_id } => {
                write!(f, "found upload {upload_id} of an earlier attempt")
            }
            UploadResumed { upload_id } => write!(f, "resuming upload {upload_id}"),
            UploadStarted {
                upload_id: Some(upload_id),
            } => write!(f, "uploading as backup {upload_id}"),
            UploadStarted { upload_id: None } => f.write_str("uploading"),
            Uploading => f.write_str("uploading"),
            Uploaded { upload_id } => write!(f, "uploaded as backup {upload_id}"),
            RestoreStartedEarlier => f.write_str("restore started by an earlier run"),
            EarlierRestoreRunning => {
                f.write_str("the restore an earlier attempt asked for is running")
            }
            RestoreStarted { backup_id } => write!(f, "restoring backup {backup_id}"),
            RestoreFinishedEarlier => f.write_str("restore finished in an earlier run"),
            WaitStarted => f.write_str("waiting until the restore leaves RESTORING"),
            Restoring => f.write_str("RESTORING"),
            RestoreFinished { after } => write!(
                f,
                "restore finished after {}",
                humantime::format_duration(*after)
            ),
            VerifiedEarlier => f.write_str("verified by an earlier run"),
            Comparing {
                kind,
                source,
                target,
            } => write!(
                f,
                "comparing {} of {source} and {target}",
                match kind {
                    ConnectionKind::Postgresql => "the PostgreSQL tables",
                    ConnectionKind::Redis => "the Redis keys",
                    ConnectionKind::Directory => "the files",
                }
            ),
            Verified {
                outcome: VerifyOutcome::DataMatches(summary),
                checksum,
            } => write!(
                f,
                "data matches: {}; {}",
                summary_text(summary),
                backup_matches(*checksum)
            ),
            Verified {
                outcome: VerifyOutcome::NotCompared { reason },
                checksum,
            } => write!(
                f,
                "{}; data not compared: {reason}",
                backup_matches(*checksum)
            ),
            RelinkedEarlier => f.write_str("apps were relinked by an earlier run"),
            LinksInPlace => f.write_str("every planned link points at its target already"),
            Relinking { links } => write!(f, "relinking {links} link(s)"),
            Relinked { app, target, at } => write!(f, "{app} now reaches {target} at {at}"),
            Freezing { scales } => write!(
                f,
                "freezing {} for the cutover (scale 0 until the relink)",
                scale_list(scales)
            ),
            FrozenEarlier => f.write_str("apps frozen by an earlier run"),
            WaitingForApps { running } => {
                write!(
                    f,
                    "waiting for {running} container(s) of the frozen apps to stop"
                )
            }
            Frozen { apps } => write!(
                f,
                "{} stopped: no container runs, the sources are quiet",
                apps.join(", ")
            ),
            Unfrozen {
                scales,
                downtime_ms,
            } => {
                write!(f, "{} back", scale_list(scales))?;
                if let Some(ms) = downtime_ms {
                    write!(f, "; downtime {}", downtime_text(*ms))?;
                }
                Ok(())
            }
            StillFrozen {
                apps,
                resume,
                unfreeze,
            } => write!(
                f,
                "{} {} still frozen (scale 0). Resume the run:\n      {resume}\nor bring \
                 the apps back without relinking:\n      {unfreeze}",
                apps.join(", "),
                if apps.len() == 1 { "is" } else { "are" }
            ),
            WriteGapAccepted { source, gap } => write!(
                f,
                "relinking without {} written to {source} after its backup \
                 (--accept-write-gap)",
                super::verify::gap_text(gap)
            ),
            Failed { text, .. } => f.write_str(text),
        }
    }
}

/// `web (scale 2), worker (scale 1)`.
fn scale_list(scales: &std::collections::BTreeMap<String, u8>) -> String {
    scales
        .iter()
        .map(|(app, scale)| format!("{app} (scale {scale})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1m 12.4s`: to a tenth of a second.
pub fn downtime_text(ms: u64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(ms / 100 * 100)).to_string()
}

/// The exact size where known, else the platform's printed one.
fn size_text(size: Option<u64>, shown: Option<&str>) -> String {
    match (size, shown) {
        (Some(bytes), _) => format_size(bytes),
        (None, Some(shown)) => shown.to_owned(),
        (None, None) => "size not shown".to_owned(),
    }
}
