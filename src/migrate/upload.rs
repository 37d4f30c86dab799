//! Uploading the moved file to the target exactly once. A platform that hands out upload
//! tickets gives the upload its ID before any byte is sent, so the ID is journaled first and a
//! broken upload is resumed under it. A platform that takes the whole file in one call (the
//! `setops` CLI) names the ID only at the end, so the intent records which backups the target
//! held before, and a rerun adopts the upload that appeared since instead of sending again.

use std::path::Path;

use uuid::Uuid;

use crate::api::UploadRequest;
use crate::error::Result;
use crate::model::{Backup, BackupStatus, codes};
use crate::plan::Migration;
use crate::platform::{FileUploads, TicketUploads, Uploads};
use crate::transfer;

use super::crash::{self, When};
use super::data::{FileFacts, unexpected};
use super::engine::Engine;
use super::events::{Happening, Phase, Step};
use super::journal::{Fact, MigrationStep};

pub async fn upload(
    engine: &Engine,
    m: &Migration,
    source: &Path,
    file: &FileFacts,
) -> Result<Backup> {
    let k = MigrationStep::Upload.of(&m.target);
    if let Some(fact) = engine.done_fact(&k).await {
        let Some(id) = fact.upload_id() else {
            return Err(unexpected(&k, &fact));
        };
        emit(
            engine,
            m,
            Phase::Replayed,
            Happening::UploadedEarlier {
                upload_id: id.to_string(),
            },
        );
        return engine
            .platform
            .backup(&engine.scope, &m.target, &id.to_string())
            .await;
    }
    match engine.platform.uploads() {
        Uploads::Tickets(tickets) => by_tickets(engine, m, source, file, tickets).await,
        Uploads::WholeFile(uploader) => whole_file(engine, m, source, file, uploader).await,
    }
}

fn emit(engine: &Engine, m: &Migration, phase: Phase, happening: Happening) {
    engine.emit(Some(&m.target), Some(Step::Upload), phase, happening);
}

fn fact(id: Option<Uuid>, file: &FileFacts, known_before: Option<Vec<Uuid>>) -> Fact {
    Fact::Upload {
        upload_id: id,
        sha256: file.sha256.clone(),
        known_before,
    }
}

/// Tickets: the ID is journaled before any byte is sent; an earlier attempt's upload is found by
/// that ID before a new one starts. (An upload the journal does not know stops the run before
/// this step: src/migrate/reconcile.rs.)
async fn by_tickets(
    engine: &Engine,
    m: &Migration,
    source: &Path,
    file: &FileFacts,
    tickets: &dyn TicketUploads,
) -> Result<Backup> {
    let k = MigrationStep::Upload.of(&m.target);
    let recorded = engine
        .open_intent(&k)
        .await
        .and_then(|r| r.fact.upload_id());
    let existing = match recorded {
        Some(id) => find(engine, m, id).await?,
        None => None,
    };
    let ticket = match existing {
        Some(b) if b.status != BackupStatus::Uploading => {
            emit(
                engine,
                m,
                Phase::Info,
                Happening::UploadFound {
                    upload_id: b.id.to_string(),
                },
            );
            engine.done(&k, fact(Some(b.id), file, None)).await?;
            return Ok(b);
        }
        Some(b) => {
            emit(
                engine,
                m,
                Phase::Info,
                Happening::UploadResumed {
                    upload_id: b.id.to_string(),
                },
            );
            tickets
                .renew_upload(&engine.scope, &m.target, &b.id.to_string())
                .await?
        }
        None => {
            engine.intent(&k, fact(None, file, None)).await?;
            crash::point("upload-allocate", When::Before);
            let request = UploadRequest {
                filename: file_name(source),
                size: file.size,
                sha256: file.sha256.clone(),
            };
            let ticket = tickets
                .start_upload(&engine.scope, &m.target, &request)
                .await?;
            engine
                .intent(&k, fact(Some(ticket.backup.id), file, None))
                .await?;
            crash::point("upload-allocate", When::After);
            ticket
        }
    };
    let upload_id = ticket.backup.id.to_string();
    emit(
        engine,
        m,
        Phase::Started,
        Happening::UploadStarted {
            upload_id: Some(upload_id.clone()),
        },
    );
    crash::point("upload", When::Before);
    let progress = engine.sink.transfer(engine.event(
        Some(&m.target),
        Some(Step::Upload),
        Phase::Progress,
        Happening::Uploading,
    ));
    let (scope, target, id) = (&engine.scope, m.target.as_str(), upload_id.as_str());
    let mut first = Some(ticket);
    let backup = transfer::upload(
        &engine.transfers,
        source,
        file.size,
        &file.sha256,
        |_attempt| {
            let ready = first.take();
            async move {
                match ready {
                    Some(t) => Ok(t),
                    None => tickets.renew_upload(scope, target, id).await,
                }
            }
        },
        progress.as_ref(),
    )
    .await?;
    crash::point("upload", When::After);
    finish(engine, m, file, backup, None).await
}

/// Whole file: the intent lists the target's backups before the call; a rerun adopts a CREATED
/// backup that appeared since and has the file's size, and sends the file only when none did.
async fn whole_file(
    engine: &Engine,
    m: &Migration,
    source: &Path,
    file: &FileFacts,
    uploader: &dyn FileUploads,
) -> Result<Backup> {
    let k = MigrationStep::Upload.of(&m.target);
    let listed = engine.platform.backups(&engine.scope, &m.target).await?;
    let earlier = engine.open_intent(&k).await.and_then(|r| match r.fact {
        Fact::Upload {
            known_before: Some(before),
            ..
        } => Some(before),
        _ => None,
    });
    if let Some(before) = &earlier
        && let Some(found) = appeared_since(&listed, before, file.size)
    {
        emit(
            engine,
            m,
            Phase::Info,
            Happening::UploadFound {
                upload_id: found.id.to_string(),
            },
        );
        let found = found.clone();
        return finish(engine, m, file, found, earlier).await;
    }
    // The earlier attempt's list still holds: nothing it sent is left out of a new one.
    let before = earlier.unwrap_or_else(|| listed.iter().map(|b| b.id).collect());
    engine
        .intent(&k, fact(None, file, Some(before.clone())))
        .await?;
    emit(
        engine,
        m,
        Phase::Started,
        Happening::UploadStarted { upload_id: None },
    );
    crash::point("upload", When::Before);
    let sent = uploader
        .upload_file(&engine.scope, &m.target, source)
        .await?;
    crash::point("upload", When::After);
    finish(engine, m, file, sent, Some(before)).await
}

/// A backup the target did not hold before the upload started, CREATED, of the file's size (as
/// exactly as the platform shows it): the upload of an attempt that stopped before it heard the
/// ID. The newest wins; any other such copy was never restored (a restore is journaled first).
pub fn appeared_since<'a>(listed: &'a [Backup], before: &[Uuid], size: u64) -> Option<&'a Backup> {
    listed
        .iter()
        .filter(|b| !before.contains(&b.id) && b.status == BackupStatus::Created)
        .filter(|b| match (b.size, &b.shown_size) {
            (Some(exact), _) => exact == size,
            (None, Some(shown)) => crate::units::size_fits(shown, size),
            (None, None) => false,
        })
        .max_by_key(|b| b.created_at)
}

async fn finish(
    engine: &Engine,
    m: &Migration,
    file: &FileFacts,
    backup: Backup,
    known_before: Option<Vec<Uuid>>,
) -> Result<Backup> {
    emit(
        engine,
        m,
        Phase::Done,
        Happening::Uploaded {
            upload_id: backup.id.to_string(),
        },
    );
    engine
        .done(
            &MigrationStep::Upload.of(&m.target),
            fact(Some(backup.id), file, known_before),
        )
        .await?;
    Ok(backup)
}

/// The upload an earlier attempt recorded, if the target still has it.
async fn find(engine: &Engine, m: &Migration, id: Uuid) -> Result<Option<Backup>> {
    match engine
        .platform
        .backup(&engine.scope, &m.target, &id.to_string())
        .await
    {
        Ok(b) => Ok(Some(b)),
        // Gone (destroyed by hand, or an allocation the platform expired): nothing of it was
        // restored, as no restore was recorded; upload anew.
        Err(e) if e.code() == Some(codes::BACKUP_NOT_FOUND) => Ok(None),
        Err(e) => Err(e),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into())
}
