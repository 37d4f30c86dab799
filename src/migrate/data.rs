//! Moving the bytes: choose or create the source backup, download it, upload it to the target.
//! Each step records what it observed; each side effect is reconciled before it is repeated.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::backoff::Poller;
use crate::error::{Error, Result};
use crate::model::{Backup, BackupStatus};
use crate::plan::{BackupChoice, Migration};
use crate::transfer::{self, TransferFault};

use super::compat;
use super::crash::{self, When};
use super::engine::Engine;
use super::events::{Happening, Phase, Step};
use super::inspect::{Resolved, latest_created};
use super::journal::{Fact, MigrationStep};

/// The bytes a migration moves: a source backup (downloaded to `file`) or a local file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// The source backup, when the data comes from the platform.
    pub backup_id: Option<String>,
    pub file: PathBuf,
    /// Exact size and SHA-256 where they are known before any download: a local file, or a
    /// platform that reports them. Otherwise the download finds them out.
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
    /// The size the platform printed for the backup where it gave no exact one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown_size: Option<String>,
}

/// What the moved bytes are, exactly: known once the file is on this machine.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFacts {
    pub size: u64,
    pub sha256: String,
}

impl Artifact {
    /// Whether a file of `size` bytes with `sha256` is this artifact, as far as it is known.
    pub fn accepts(&self, size: u64, sha256: &str) -> bool {
        let size_ok = match (self.size, &self.shown_size) {
            (Some(exact), _) => exact == size,
            (None, Some(shown)) => crate::units::size_fits(shown, size),
            (None, None) => true,
        };
        size_ok && self.sha256.as_deref().is_none_or(|s| s == sha256)
    }

    /// The facts known before any download (a local file, or a platform that reports them).
    fn known(&self) -> Option<FileFacts> {
        Some(FileFacts {
            size: self.size?,
            sha256: self.sha256.clone()?,
        })
    }
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
            // A file from `backup:download` brings its checksum; the upload then reads it once.
            let (size, sha256) = transfer::checksum_for_upload(path).await?;
            Artifact {
                backup_id: None,
                file: path.clone(),
                size: Some(size),
                sha256: Some(sha256),
                shown_size: None,
            }
        }
        (choice, Some(source)) => {
            // Before the backup, so a write it misses is counted (over-counting is safe).
            super::verify::gap::record_baseline(engine, m).await?;
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
            compat::chosen_backup(engine, m, resolved, source, &backup).await?;
            if backup.size.is_none() && backup.shown_size.is_none() {
                return Err(Error::unexpected(
                    format!("backup {} of {source}", backup.id),
                    "it is CREATED but the platform shows no size for it",
                ));
            }
            let ext = resolved.service_type.backup_extension().unwrap_or("backup");
            let file = engine.artifacts.join(format!("{}.{ext}", backup.id));
            Artifact {
                backup_id: Some(backup.id.to_string()),
                file,
                size: backup.size,
                sha256: backup.sha256.clone(),
                shown_size: backup.shown_size.clone(),
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
            shown_size: artifact.shown_size.clone(),
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
    let mut poller = Poller::start();
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
        poller.sleep(deadline).await;
    }
}

/// Downloads the source backup into the plan's artifact directory (resumable, verified) and
/// says what the file is; a local file is only described.
pub async fn download(engine: &Engine, m: &Migration, artifact: &Artifact) -> Result<FileFacts> {
    let (Some(backup_id), Some(source)) = (&artifact.backup_id, &m.source) else {
        return artifact.known().ok_or_else(|| {
            Error::unexpected(
                format!("the local file {}", artifact.file.display()),
                format!(
                    "its size and SHA-256 were not recorded when it was chosen; run again with \
                     --restart:\n  {} --restart",
                    engine.options.invocation.run
                ),
            )
        });
    };
    let k = MigrationStep::Download.of(&m.target);
    if let Some(Fact::Downloaded { size, sha256 }) = engine.done_fact(&k).await
        && artifact.file.is_file()
    {
        engine.emit(
            Some(&m.target),
            Some(Step::Download),
            Phase::Replayed,
            Happening::DownloadedEarlier,
        );
        return Ok(FileFacts { size, sha256 });
    }
    if artifact.file.is_file() {
        // Renamed into place by an attempt that died before recording it. Only a file whose
        // exact checksum was known beforehand can be trusted; otherwise fetch it again.
        let (size, sha256) = transfer::sha256_file(&artifact.file).await?;
        if artifact.sha256.is_some() && artifact.accepts(size, &sha256) {
            engine
                .done(
                    &k,
                    Fact::Downloaded {
                        size,
                        sha256: sha256.clone(),
                    },
                )
                .await?;
            return Ok(FileFacts { size, sha256 });
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
    if !artifact.accepts(got.size, &got.sha256) {
        remove(&artifact.file)?;
        let fault = match &artifact.shown_size {
            Some(shown) if artifact.size.is_none() => TransferFault::SizeDiffersFromShown {
                size: got.size,
                shown: shown.clone(),
            },
            _ => TransferFault::DiffersFromRecord,
        };
        return Err(fault
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
                sha256: got.sha256.clone(),
            },
        )
        .await?;
    Ok(FileFacts {
        size: got.size,
        sha256: got.sha256,
    })
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

/// A journal record whose fact does not belong to its step: a hand-edited or damaged journal.
pub fn unexpected(key: &super::journal::StepKey, fact: &Fact) -> Error {
    super::journal::JournalError::UnexpectedRecord {
        key: key.to_string(),
        fact: format!("{fact:?}"),
    }
    .into()
}
