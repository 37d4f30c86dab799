//! Restore the uploaded backup into the target, never twice, and wait until it leaves RESTORING.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::error::{Error, Result};
use crate::model::{Backup, BackupStatus, RestoreOutcome, codes};
use crate::plan::Migration;

use super::crash::{self, When};
use super::engine::{Engine, key};
use super::events::{Phase, Step};
use super::poll::Backoff;

/// What the platform says about a restore of `upload` into the target.
enum Evidence {
    NeverRan,
    Running,
    Succeeded,
    Failed(String),
}

fn evidence(backup: &Backup) -> Evidence {
    if backup.status == BackupStatus::Restoring {
        return Evidence::Running;
    }
    match &backup.last_restore {
        None => Evidence::NeverRan,
        Some(r) => match r.outcome {
            RestoreOutcome::Running => Evidence::Running,
            RestoreOutcome::Succeeded => Evidence::Succeeded,
            RestoreOutcome::Failed => Evidence::Failed(
                r.error
                    .clone()
                    .unwrap_or_else(|| "the platform gave no error text".into()),
            ),
        },
    }
}

/// Starts the restore unless the platform shows one already ran or runs. Restore is not
/// idempotent (data lands on top), so the evidence always decides, journal or not.
pub async fn restore(engine: &Engine, m: &Migration, upload_id: &str) -> Result<()> {
    let k = key("restore", &m.target);
    if engine.done_data(&k).await.is_some() {
        engine.emit(
            Some(&m.target),
            Some(Step::Restore),
            Phase::Replayed,
            "restore started by an earlier run",
        );
        return Ok(());
    }
    let backup = match engine
        .platform
        .backup(&engine.scope, &m.target, upload_id)
        .await
    {
        Ok(b) => b,
        Err(e)
            if e.code() == Some(codes::BACKUP_NOT_FOUND)
                && engine.open_intent(&k).await.is_some() =>
        {
            return Err(Error::Decision(format!(
                "cannot tell whether backup {upload_id} was restored into {}: the restore was requested \
                 by an earlier attempt and the backup is gone. Check the data in {} (for example with \
                 `--app <app> env` and your own queries). To redo it, destroy {} and run with --restart.",
                m.target, m.target, m.target
            )));
        }
        Err(e) => return Err(e),
    };
    match evidence(&backup) {
        Evidence::Running | Evidence::Succeeded => {
            engine.emit(
                Some(&m.target),
                Some(Step::Restore),
                Phase::Info,
                "a restore of an earlier attempt is on record",
            );
            return engine.done(&k, json!({ "upload_id": upload_id })).await;
        }
        Evidence::Failed(text) => return Err(restore_failed(m, upload_id, &text)),
        Evidence::NeverRan => {}
    }
    if backup.status != BackupStatus::Created {
        return Err(Error::Internal(format!(
            "upload {upload_id} of {} is {} and cannot be restored yet; run again",
            m.target, backup.status
        )));
    }
    engine.intent(&k, json!({ "upload_id": upload_id })).await?;
    engine.emit(
        Some(&m.target),
        Some(Step::Restore),
        Phase::Started,
        format!("restoring backup {upload_id}"),
    );
    crash::point("restore", When::Before);
    engine
        .platform
        .restore_backup(&engine.scope, &m.target, upload_id)
        .await?;
    crash::point("restore", When::After);
    engine.done(&k, json!({ "upload_id": upload_id })).await
}

/// Polls until the backup leaves RESTORING; a failed restore is an error naming the backup and
/// the platform's message, and stops the run before any relink.
pub async fn wait(engine: &Engine, m: &Migration, upload_id: &str) -> Result<()> {
    let k = key("wait", &m.target);
    if engine.done_data(&k).await.is_some() {
        engine.emit(
            Some(&m.target),
            Some(Step::Wait),
            Phase::Replayed,
            "restore finished in an earlier run",
        );
        return Ok(());
    }
    let started = Instant::now();
    let deadline = started + m.wait_timeout;
    let mut backoff = Backoff::for_platform();
    let mut last_note = Instant::now();
    engine.emit(
        Some(&m.target),
        Some(Step::Wait),
        Phase::Started,
        "waiting until the restore leaves RESTORING",
    );
    loop {
        let backup = engine
            .platform
            .backup(&engine.scope, &m.target, upload_id)
            .await?;
        match evidence(&backup) {
            Evidence::Succeeded => break,
            Evidence::Failed(text) => return Err(restore_failed(m, upload_id, &text)),
            Evidence::NeverRan => {
                return Err(Error::Internal(format!(
                    "backup {upload_id} of {} shows no restore although one was started; run again to check",
                    m.target
                )));
            }
            Evidence::Running => {}
        }
        if Instant::now() >= deadline {
            return Err(Error::Internal(format!(
                "backup {upload_id} of {} is still RESTORING after {} (wait_timeout); the restore goes on \
                 on the platform: run the same command again to keep waiting",
                m.target,
                humantime::format_duration(m.wait_timeout)
            )));
        }
        if last_note.elapsed() >= Duration::from_secs(1) {
            let mut event = engine.event(
                Some(&m.target),
                Some(Step::Wait),
                Phase::Progress,
                "RESTORING",
            );
            event.elapsed_ms = started.elapsed().as_millis() as u64;
            engine.sink.emit(event);
            last_note = Instant::now();
        }
        backoff.sleep(deadline).await;
    }
    engine.emit(
        Some(&m.target),
        Some(Step::Wait),
        Phase::Done,
        format!(
            "restore finished after {}",
            humantime::format_duration(Duration::from_secs(started.elapsed().as_secs()))
        ),
    );
    engine.done(&k, json!({ "upload_id": upload_id })).await
}

fn restore_failed(m: &Migration, upload_id: &str, text: &str) -> Error {
    Error::Internal(format!(
        "the restore of backup {upload_id} into {} failed: {text}\nNothing was relinked. The target may hold \
         partial data: destroy {} (service:destroy + commit), then run the plan with --restart.",
        m.target, m.target
    ))
}
