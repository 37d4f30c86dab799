//! Moving the bytes: choose or create the source backup, download it, upload it to the target.
//! Each step records what it observed; each side effect is reconciled before it is repeated.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::UploadRequest;
use crate::error::{Error, Result};
use crate::model::{Backup, BackupStatus, codes};
use crate::plan::{BackupChoice, Migration};
use crate::transfer::{self, TransferFault};

use super::crash::{self, When};
use super::engine::Engine;
use super::events::{Happening, Phase, Step};
use super::inspect::{Resolved, latest_created};
use super::journal::{Fact, MigrationStep};
use super::poll::Backoff;

/// The bytes a migration moves: a source backup (downloaded to `file`) or a local file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// The source backup, when the data comes from the platform.
    pub backup_id: Option<String>,
    pub file: PathBuf,
    pub size: u64,
    pub sha256: String,
}

/// Picks (or makes) the source backup and records its identity.
pub async fn select_backup(
    engine: &Engine,
    m: &Migration,
    resolved: &Resolved,
) -> Result<Artifact> {
    let k = MigrationStep::Backup.of(&m.target);
    if let Some(fact) = engine.done_fact(&k).await {
        let Fact::Artifact(artifact) = fact else {
            return Err(unexpected(&k, &fact));
        };
        engine.emit(
            Some(&m.target),
            Some(Step::Backup),
            Phase::Replayed,
            Happening::BackupChosenEarlier,
        );
        return Ok(artifact);
    }
    engine.emit(
        Some(&m.target),
        Some(Step::Backup),
        Phase::Started,
        Happening::ChoosingBackup {
            choice: m.backup.clone(),
        },
    );
    let artifact = match (&m.backup, &m.source) {
        (BackupChoice::File(path), _) => {
            let (size, sha256) = transfer::sha256_file(path).await?;
            Artifact {
                backup_id: None,
                file: path.clone(),
                size,
                sha256,
            }
        }
        (choice, Some(source)) => {
            let backup = match choice {
                BackupChoice::Id(id) => wait_created(engine, m, source, &id.to_string()).await?,
                BackupChoice::Fresh => fresh_backup(engine, m, source).await?,
                _ => {
                    let backups = engine.platform.backups(&engine.scope, source).await?;
                    latest_created(&backups).cloned().ok_or_else(|| {
                        Error::Usage(format!(
                            "source {source} has no CREATED backup for `backup: latest`; use `backup: fresh` to make one"
                        ))
                    })?
                }
            };
            let (Some(size), Some(sha256)) = (backup.size, backup.sha256.clone()) else {
                return Err(Error::unexpected(
                    format!("backup {} of {source}", backup.id),
                    "it is CREATED but the platform gave no size or SHA-256",
                ));
            };
            let ext = resolved.service_type.backup_extension().unwrap_or("backup");
            let file = engine.artifacts.join(format!("{}.{ext}", backup.id));
            Artifact {
                backup_id: Some(backup.id.to_string()),
                file,
                size,
                sha256,
            }
        }
        (_, None) => {
            return Err(Error::Usage(format!(
                "migrations[{}] ({}): an import needs `backup: file:<path>`",
                m.index, m.target
            )));
        }
    };
    engine.emit(
        Some(&m.target),
        Some(Step::Backup),
        Phase::Done,
        Happening::BackupChosen {
            backup_id: artifact.backup_id.clone(),
            file: artifact.file.clone(),
            size: artifact.size,
        },
    );
    engine.done(&k, Fact::Artifact(artifact.clone())).await?;
    Ok(artifact)
}

/// `backup: fresh`: create once (reconciling an earlier attempt), then wait until CREATED.
async fn fresh_backup(engine: &Engine, m: &Migration, source: &str) -> Result<Backup> {
    let k = MigrationStep::BackupCreate.of(&m.target);
    // Made and seen CREATED by an earlier attempt that stopped before it recorded the choice.
    if let Some(Fact::BackupCreate {
        backup_id: Some(id),
        ..
    }) = engine.done_fact(&k).await
    {
        return wait_created(engine, m, source, &id.to_string()).await;
    }
    let id = match engine.open_intent(&k).await {
        Some(open) => match open.fact {
            Fact::BackupCreate {
                backup_id: Some(id),
                ..
            } => Some(id),
            Fact::BackupCreate { before, .. } => {
                created_since(engine, source, &before, open.started_at).await?
            }
            other => return Err(unexpected(&k, &other)),
        },
        None => None,
    };
    let id = match id {
        Some(id) => id,
        None => {
            // The backup table before the call: a rerun tells the new backup by its ID alone.
            let before: Vec<Uuid> = engine
                .platform
                .backups(&engine.scope, source)
                .await?
                .iter()
                .map(|b| b.id)
                .collect();
            engine
                .intent(
                    &k,
                    Fact::BackupCreate {
                        before: before.clone(),
                        backup_id: None,
                    },
                )
                .await?;
            crash::point("backup-create", When::Before);
            let created = engine.platform.create_backup(&engine.scope, source).await?;
            engine
                .intent(
                    &k,
                    Fact::BackupCreate {
                        before,
                        backup_id: Some(created.id),
                    },
                )
                .await?;
            crash::point("backup-create", When::After);
            created.id
        }
    };
    let backup = wait_created(engine, m, source, &id.to_string()).await?;
    engine
        .done(
            &k,
            Fact::BackupCreate {
                before: Vec::new(),
                backup_id: Some(backup.id),
            },
        )
        .await?;
    Ok(backup)
}

/// The backup an interrupted `backup:create` made: listed now, not listed before the call, and
/// not older than the intent (a scheduled backup that finished meanwhile is as fresh, so it
/// serves as well). Only the backup table decides.
async fn created_since(
    engine: &Engine,
    source: &str,
    before: &[Uuid],
    since: DateTime<Utc>,
) -> Result<Option<Uuid>> {
    let backups = engine.platform.backups(&engine.scope, source).await?;
    // Platform and local clocks may differ a little.
    let skew = chrono::Duration::seconds(5);
    Ok(backups
        .iter()
        .filter(|b| !before.contains(&b.id) && b.created_at + skew >= since)
        .filter(|b| matches!(b.status, BackupStatus::Created | BackupStatus::Creating))
        .min_by_key(|b| b.created_at)
        .map(|b| b.id))
}

async fn wait_created(engine: &Engine, m: &Migration, source: &str, id: &str) -> Result<Backup> {
    let deadline = Instant::now() + m.wait_timeout;
    let mut backoff = Backoff::for_platform();
    loop {
        let backup = engine.platform.backup(&engine.scope, source, id).await?;
        match backup.status {
            BackupStatus::Created => return Ok(backup),
            BackupStatus::Creating => {}
            other => {
                return Err(Error::Usage(format!(
                    "backup {id} of {source} is {other}; only a CREATED backup can be moved"
                )));
            }
        }
        if Instant::now() >= deadline {
            return Err(Error::StillBusy {
                backup_id: id.to_owned(),
                service: source.to_owned(),
                status: BackupStatus::Creating,
                waited: m.wait_timeout,
            });
        }
        backoff.sleep(deadline).await;
    }
}

/// Downloads the source backup into the plan's artifact directory (resumable, verified).
pub async fn download(engine: &Engine, m: &Migration, artifact: &Artifact) -> Result<()> {
    let (Some(backup_id), Some(source)) = (&artifact.backup_id, &m.source) else {
        return Ok(()); // a local file needs no download
    };
    let k = MigrationStep::Download.of(&m.target);
    if engine.done_fact(&k).await.is_some() && artifact.file.is_file() {
        engine.emit(
            Some(&m.target),
            Some(Step::Download),
            Phase::Replayed,
            Happening::DownloadedEarlier,
        );
        return Ok(());
    }
    if artifact.file.is_file() {
        // Renamed into place by an attempt that died before recording it: the checksum decides.
        let (size, sha) = transfer::sha256_file(&artifact.file).await?;
        if size == artifact.size && sha == artifact.sha256 {
            return engine
                .done(&k, Fact::Downloaded { size, sha256: sha })
                .await;
        }
        remove(&artifact.file)?;
    }
    engine.emit(
        Some(&m.target),
        Some(Step::Download),
        Phase::Started,
        Happening::DownloadStarted {
            backup_id: backup_id.clone(),
        },
    );
    crash::point("download", When::Before);
    let progress = engine.sink.transfer(engine.event(
        Some(&m.target),
        Some(Step::Download),
        Phase::Progress,
        Happening::Downloading,
    ));
    let platform = engine.platform.clone();
    let scope = &engine.scope;
    let got = transfer::download(
        &engine.transfers,
        || {
            let platform = platform.clone();
            async move { platform.download_ticket(scope, source, backup_id).await }
        },
        &artifact.file,
        false,
        progress.as_ref(),
    )
    .await?;
    crash::point("download", When::After);
    if got.sha256 != artifact.sha256 {
        remove(&artifact.file)?;
        return Err(TransferFault::DiffersFromRecord
            .during(format!("download of backup {backup_id}"))
            .into());
    }
    engine.emit(
        Some(&m.target),
        Some(Step::Download),
        Phase::Done,
        Happening::Downloaded { size: got.size },
    );
    engine
        .done(
            &k,
            Fact::Downloaded {
                size: got.size,
                sha256: got.sha256,
            },
        )
        .await
}

/// Uploads the artifact to the target exactly once: the upload ID is journaled before any byte
/// is sent, and an earlier attempt's upload is found by that ID before a new one starts. (An
/// upload the journal does not know stops the run before this step: src/migrate/reconcile.rs.)
pub async fn upload(engine: &Engine, m: &Migration, artifact: &Artifact) -> Result<Backup> {
    let k = MigrationStep::Upload.of(&m.target);
    if let Some(fact) = engine.done_fact(&k).await {
        let Some(id) = fact.upload_id() else {
            return Err(unexpected(&k, &fact));
        };
        engine.emit(
            Some(&m.target),
            Some(Step::Upload),
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
    let recorded = engine
        .open_intent(&k)
        .await
        .and_then(|r| r.fact.upload_id());
    let existing = match recorded {
        Some(id) => find_upload(engine, m, id).await?,
        None => None,
    };
    let upload_fact = |id: Option<Uuid>| Fact::Upload {
        upload_id: id,
        sha256: artifact.sha256.clone(),
    };
    let ticket = match existing {
        Some(b) if b.status != BackupStatus::Uploading => {
            engine.emit(
                Some(&m.target),
                Some(Step::Upload),
                Phase::Info,
                Happening::UploadFound {
                    upload_id: b.id.to_string(),
                },
            );
            engine.done(&k, upload_fact(Some(b.id))).await?;
            return Ok(b);
        }
        Some(b) => {
            engine.emit(
                Some(&m.target),
                Some(Step::Upload),
                Phase::Info,
                Happening::UploadResumed {
                    upload_id: b.id.to_string(),
                },
            );
            engine
                .platform
                .renew_upload(&engine.scope, &m.target, &b.id.to_string())
                .await?
        }
        None => {
            engine.intent(&k, upload_fact(None)).await?;
            crash::point("upload-allocate", When::Before);
            let request = UploadRequest {
                filename: file_name(&artifact.file),
                size: artifact.size,
                sha256: artifact.sha256.clone(),
            };
            let ticket = engine
                .platform
                .start_upload(&engine.scope, &m.target, &request)
                .await?;
            engine
                .intent(&k, upload_fact(Some(ticket.backup.id)))
                .await?;
            crash::point("upload-allocate", When::After);
            ticket
        }
    };
    let upload_id = ticket.backup.id.to_string();
    engine.emit(
        Some(&m.target),
        Some(Step::Upload),
        Phase::Started,
        Happening::UploadStarted {
            upload_id: upload_id.clone(),
        },
    );
    crash::point("upload", When::Before);
    let progress = engine.sink.transfer(engine.event(
        Some(&m.target),
        Some(Step::Upload),
        Phase::Progress,
        Happening::Uploading,
    ));
    let platform = engine.platform.clone();
    let scope = &engine.scope;
    let target = m.target.as_str();
    let id_ref = upload_id.as_str();
    let mut first = Some(ticket);
    let backup = transfer::upload(
        &engine.transfers,
        &artifact.file,
        artifact.size,
        &artifact.sha256,
        |_attempt| {
            let ready = first.take();
            let platform = platform.clone();
            async move {
                match ready {
                    Some(t) => Ok(t),
                    None => platform.renew_upload(scope, target, id_ref).await,
                }
            }
        },
        progress.as_ref(),
    )
    .await?;
    crash::point("upload", When::After);
    engine.emit(
        Some(&m.target),
        Some(Step::Upload),
        Phase::Done,
        Happening::Uploaded {
            upload_id: backup.id.to_string(),
        },
    );
    engine.done(&k, upload_fact(Some(backup.id))).await?;
    Ok(backup)
}

/// The upload an earlier attempt recorded, if the target still has it.
async fn find_upload(engine: &Engine, m: &Migration, id: Uuid) -> Result<Option<Backup>> {
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

/// Removes the downloaded copy once the target holds the data; a local `file:` is never touched.
pub fn discard_artifact(engine: &Engine, artifact: &Artifact) -> Result<()> {
    if artifact.backup_id.is_some()
        && artifact.file.starts_with(&engine.artifacts)
        && artifact.file.exists()
    {
        remove(&artifact.file)?;
    }
    Ok(())
}

fn remove(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|e| Error::io("removing", path, e))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into())
}

/// A journal record whose fact does not belong to its step: a hand-edited or damaged journal.
pub fn unexpected(key: &super::journal::StepKey, fact: &Fact) -> Error {
    super::journal::JournalError::UnexpectedRecord {
        key: key.to_string(),
        fact: format!("{fact:?}"),
    }
    .into()
}
