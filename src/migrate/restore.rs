//! Restore the uploaded backup into the target, never twice, and wait until it leaves RESTORING.
//! What decides is what the `setops` CLI shows (the backup's STATUS) and the journal; a platform's
//! restore records (the sandbox's) may only stop a run, never start a restore.

use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::backoff::Poller;
use crate::error::{Error, Result};
use crate::model::{Backup, BackupStatus, RestoreOutcome, codes};
use crate::plan::Migration;

use super::crash::{self, When};
use super::engine::Engine;
use super::events::{Happening, Phase, Step};
use super::guards;
use super::journal::{Fact, MigrationStep};

/// Starts the restore of `upload_id` into the target, exactly once. Restore is not idempotent
/// (data lands on top), so it starts only into a target that is provably untouched, but for the
/// backups of a target adopted with `--adopt-target` (`adopted`).
pub async fn restore(
    engine: &Engine,
    m: &Migration,
    upload_id: Uuid,
    adopted: &[Uuid],
) -> Result<()> {
    let k = MigrationStep::Restore.of(&m.target);
    if engine.done_fact(&k).await.is_some() {
        engine.emit(
            Some(&m.target),
            Some(Step::Restore),
            Phase::Replayed,
            Happening::RestoreStartedEarlier,
        );
        return Ok(());
    }
    let id = upload_id.to_string();
    if engine.open_intent(&k).await.is_some() {
        // Asked for by an earlier attempt that stopped before it saw the answer.
        let status = match engine.platform.backup(&engine.scope, &m.target, &id).await {
            Ok(b) => b.status.as_str(),
            Err(e) if e.code() == Some(codes::BACKUP_NOT_FOUND) => "gone",
            Err(e) => return Err(e),
        };
        if status == BackupStatus::Restoring.as_str() {
            engine.emit(
                Some(&m.target),
                Some(Step::Restore),
                Phase::Info,
                Happening::EarlierRestoreRunning,
            );
            return engine.done(&k, Fact::Restore { upload_id }).await;
        }
        return Err(guards::ambiguous(
            engine,
            &m.target,
            format!(
                "an earlier attempt asked the platform to restore backup {id} and stopped before it \
                 saw the restore start; the backup is {status} now, and the platform shows no \
                 record of whether a restore ran"
            ),
        )
        .await);
    }
    // The target was assessed when the run started; it may have changed while the data moved.
    let mut backups = engine.platform.backups(&engine.scope, &m.target).await?;
    backups.retain(|b| !adopted.contains(&b.id));
    if let Some(why) = touched(&backups, upload_id) {
        return Err(guards::ambiguous(engine, &m.target, why).await);
    }
    let Some(backup) = backups.iter().find(|b| b.id == upload_id) else {
        return Err(Error::unexpected(
            format!("upload {id} of {}", m.target),
            "it is not in its backup list; run again",
        ));
    };
    if backup.status != BackupStatus::Created {
        return Err(Error::unexpected(
            format!("upload {id} of {}", m.target),
            format!(
                "it is {} and cannot be restored yet; run again",
                backup.status
            ),
        ));
    }
    engine.intent(&k, Fact::Restore { upload_id }).await?;
    engine.emit(
        Some(&m.target),
        Some(Step::Restore),
        Phase::Started,
        Happening::RestoreStarted {
            backup_id: id.clone(),
        },
    );
    crash::point("restore", When::Before);
    match engine
        .platform
        .restore_backup(&engine.scope, &m.target, &id)
        .await
    {
        Ok(_) => {}
        // The platform answered no: nothing started, so the intent must not make a rerun doubt.
        Err(e) if is_refusal(&e) => {
            engine.forget(&[k]).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    }
    crash::point("restore", When::After);
    engine.done(&k, Fact::Restore { upload_id }).await
}

/// Why the target is not provably untouched: a backup other than ours, or anything RESTORING;
/// then, from records only some platforms keep, a restore already on record.
fn touched(backups: &[Backup], upload_id: Uuid) -> Option<String> {
    if let Some(other) = backups.iter().find(|b| b.id != upload_id) {
        return Some(format!(
            "backup {} ({}) appeared on it while this run moved the data",
            other.id, other.status
        ));
    }
    backups
        .iter()
        .find(|b| {
            b.status == BackupStatus::Restoring || b.restore_count > 0 || b.last_restore.is_some()
        })
        .map(|b| format!("backup {} shows a restore this run did not ask for", b.id))
}

/// A definitive no from the platform (a 4xx ServiceError that is not temporary): the call did
/// nothing. Anything else (no answer, a 5xx) may or may not have started the restore.
fn is_refusal(e: &Error) -> bool {
    matches!(e, Error::Platform { status, error, .. } if (400..500).contains(status) && !error.temporary)
}

/// Polls until the backup leaves RESTORING; a restore the platform reports as failed is an error
/// naming the backup and the platform's message, stops the run before any relink, and is
/// recorded so a rerun offers to recreate the target.
pub async fn wait(engine: &Engine, m: &Migration, upload_id: Uuid) -> Result<()> {
    let k = MigrationStep::Wait.of(&m.target);
    match engine.done_fact(&k).await {
        Some(Fact::RestoreFailed { error, .. }) => {
            return Err(restore_failed(engine, m, upload_id, &error));
        }
        Some(_) => {
            engine.emit(
                Some(&m.target),
                Some(Step::Wait),
                Phase::Replayed,
                Happening::RestoreFinishedEarlier,
            );
            return Ok(());
        }
        None => {}
    }
    let id = upload_id.to_string();
    let started = Instant::now();
    let deadline = started + m.wait_timeout;
    let mut poller = Poller::start();
    let mut last_note = Instant::now();
    engine.emit(
        Some(&m.target),
        Some(Step::Wait),
        Phase::Started,
        Happening::WaitStarted,
    );
    loop {
        let backup = engine
            .platform
            .backup(&engine.scope, &m.target, &id)
            .await?;
        if backup.status != BackupStatus::Restoring {
            // Left RESTORING: finished. A platform that keeps restore records may say it failed.
            if let Some(r) = &backup.last_restore
                && r.outcome == RestoreOutcome::Failed
            {
                let error = r
                    .error
                    .clone()
                    .unwrap_or_else(|| "the platform gave no error text".into());
                engine
                    .done(
                        &k,
                        Fact::RestoreFailed {
                            upload_id,
                            error: error.clone(),
                        },
                    )
                    .await?;
                return Err(restore_failed(engine, m, upload_id, &error));
            }
            break;
        }
        if Instant::now() >= deadline {
            return Err(Error::StillBusy {
                backup_id: id,
                service: m.target.clone(),
                status: BackupStatus::Restoring,
                waited: m.wait_timeout,
            });
        }
        if last_note.elapsed() >= Duration::from_secs(1) {
            let mut event = engine.event(
                Some(&m.target),
                Some(Step::Wait),
                Phase::Progress,
                Happening::Restoring,
            );
            event.elapsed_ms = started.elapsed().as_millis() as u64;
            engine.sink.emit(event);
            last_note = Instant::now();
        }
        poller.sleep(deadline).await;
    }
    engine.emit(
        Some(&m.target),
        Some(Step::Wait),
        Phase::Done,
        Happening::RestoreFinished {
            after: Duration::from_secs(started.elapsed().as_secs()),
        },
    );
    engine.done(&k, Fact::Waited { upload_id }).await
}

fn restore_failed(engine: &Engine, m: &Migration, upload_id: Uuid, text: &str) -> Error {
    Error::RestoreFailed {
        backup_id: upload_id,
        target: m.target.clone(),
        reason: text.to_owned(),
        rerun: engine.options.invocation.run.clone(),
    }
}
