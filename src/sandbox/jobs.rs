//! Asynchronous backup work: `backup:create` (CREATING -> CREATED) and restores (RESTORING ->
//! CREATED with an outcome), plus the recovery of work a previous server left in flight, so no
//! backup stays CREATING or RESTORING forever.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Sandbox;
use super::engines::{Engine, Engines, ServiceRef};
use super::state::{BackupEntry, World};
use crate::model::{
    BackupStatus, CommitStatus, ErrorType, RestoreOutcome, ServiceError, ServiceType, codes,
};
use crate::sandbox::{Error, Result};

pub(crate) const RESTART_MESSAGE: &str = "interrupted by a sandbox restart";

pub(crate) enum Job {
    CreateBackup(Uuid),
    Restore(Uuid),
}

/// A backup file as written: its name in `DIR/backups`, size and SHA-256.
pub(crate) struct WrittenBackup {
    pub file: String,
    pub size: u64,
    pub sha256: String,
}

pub(crate) fn backup_file_name(id: Uuid, service_type: ServiceType) -> String {
    format!("{id}.{}", service_type.backup_extension().unwrap_or("bin"))
}

/// Counts and hashes what passes through, so a backup is measured while it is written.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the engine's backup of `data` to `backups_dir/<id>.<ext>` via a `.tmp` file (0600,
/// fsync, rename), so a half-written backup never carries the final name.
pub(crate) fn write_backup_file(
    engine: &dyn Engine,
    svc: &ServiceRef,
    backups_dir: &Path,
    id: Uuid,
) -> Result<WrittenBackup> {
    let name = backup_file_name(id, svc.service_type);
    let path = backups_dir.join(&name);
    let result = crate::fsio::replace_with(&path, crate::fsio::PRIVATE_FILE, |file| {
        let mut out = Hashing {
            inner: io::BufWriter::with_capacity(64 * 1024, file),
            hasher: Sha256::new(),
            written: 0,
        };
        let summary = engine.backup(svc, &mut out)?;
        if !summary.skipped.is_empty() {
            eprintln!(
                "sandbox: backup {id} left out {} entries that are neither files nor directories: {}",
                summary.skipped.len(),
                summary.skipped.join(", ")
            );
        }
        out.flush()?;
        Ok(WrittenBackup {
            file: name.clone(),
            size: out.written,
            sha256: hex::encode(out.hasher.finalize()),
        })
    });
    result.map_err(|e| Error::Engine(format!("writing backup {name}: {e}")))
}

/// A backup's service, for its engine; `None` when the service is gone.
struct Target {
    svc: ServiceRef,
    file: Option<PathBuf>,
}

fn target(dir: &Path, world: &World, entry: &BackupEntry) -> Option<Target> {
    let scope = entry.scope();
    let svc = world
        .stage(&scope)?
        .config
        .services
        .get(&entry.backup.service)
        .filter(|s| s.uid == entry.service_uid)?;
    Some(Target {
        svc: ServiceRef::new(dir, &scope, &entry.backup.service, svc),
        file: entry.file.as_ref().map(|f| dir.join("backups").join(f)),
    })
}

/// Puts the world back into a consistent state after a restart and returns the work to resume.
pub(crate) fn recover(
    dir: &Path,
    world: &mut World,
    engines: &Engines,
    now: DateTime<Utc>,
) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut unfreeze = Vec::new();
    for commit in world.commits.values_mut() {
        if commit.status == CommitStatus::Running {
            commit.status = CommitStatus::Failed;
            commit.finished_at = Some(now);
            commit.error = Some(ServiceError {
                error_type: ErrorType::Fault,
                code: codes::COMMIT_FAILED.to_owned(),
                temporary: false,
                request_id: String::new(),
                message: Some(format!(
                    "{RESTART_MESSAGE}; the changeset is kept, commit it again"
                )),
                validation_errors: None,
            });
            unfreeze.push((
                commit.project.clone(),
                commit.stage.clone(),
                commit.user.clone(),
                commit.id,
            ));
        }
    }
    for (project, stage, user, id) in unfreeze {
        if let Some(cs) = world
            .projects
            .get_mut(&project)
            .and_then(|p| p.stages.get_mut(&stage))
            .and_then(|s| s.changesets.get_mut(&user))
            .filter(|cs| cs.commit == Some(id))
        {
            cs.commit = None;
        }
    }
    let mut repeatable = Vec::new();
    let mut orphans = Vec::new();
    for (id, entry) in &world.backups {
        match entry.backup.status {
            BackupStatus::Creating | BackupStatus::Restoring => match target(dir, world, entry) {
                Some(t) => repeatable.push((
                    *id,
                    engines
                        .get(t.svc.service_type)
                        .is_ok_and(|e| e.restore_is_repeatable()),
                )),
                None => orphans.push(*id),
            },
            BackupStatus::Created | BackupStatus::Uploading => {}
        }
    }
    for id in orphans {
        eprintln!("sandbox: backup {id} belongs to a service that no longer exists; removing it");
        world.backups.remove(&id);
    }
    for (id, can_repeat) in repeatable {
        let Some(entry) = world.backups.get_mut(&id) else {
            continue;
        };
        match entry.backup.status {
            BackupStatus::Creating => jobs.push(Job::CreateBackup(id)),
            BackupStatus::Restoring if can_repeat => jobs.push(Job::Restore(id)),
            BackupStatus::Restoring => {
                finish_restore(entry, now, Err(Error::engine(RESTART_MESSAGE)))
            }
            BackupStatus::Created | BackupStatus::Uploading => {}
        }
    }
    remove_stray_files(&dir.join("backups"));
    let (files, _) = world.sweep_expired(now);
    for f in files {
        let _ = fs::remove_file(dir.join("backups").join(f));
    }
    jobs
}

/// Temp files of backups and uploads that were being written when the server stopped.
fn remove_stray_files(backups_dir: &Path) {
    let Ok(entries) = fs::read_dir(backups_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") || name.ends_with(".partial") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn finish_restore(entry: &mut BackupEntry, now: DateTime<Utc>, result: Result<()>) {
    entry.backup.status = BackupStatus::Created;
    if let Some(record) = entry.backup.last_restore.as_mut() {
        record.finished_at = Some(now);
        match result {
            Ok(()) => {
                record.outcome = RestoreOutcome::Succeeded;
                record.error = None;
            }
            Err(e) => {
                record.outcome = RestoreOutcome::Failed;
                record.error = Some(e.to_string());
            }
        }
    }
}

impl Sandbox {
    pub(crate) fn start_job(&self, job: Job) {
        let sandbox = self.clone();
        self.spawn(async move {
            match job {
                Job::CreateBackup(id) => create_backup(sandbox, id).await,
                Job::Restore(id) => restore_backup(sandbox, id).await,
            }
        });
    }
}

/// Waits the job's delay, then looks the backup up again: `None` when the sandbox is shutting
/// down or the backup left `status` meanwhile (destroyed, recovered); else its target, which is
/// `None` itself when the service is gone.
async fn claim(
    sandbox: &Sandbox,
    id: Uuid,
    status: BackupStatus,
    delay: std::time::Duration,
) -> Option<Option<Target>> {
    if !sandbox.pause(delay).await {
        return None;
    }
    let world = sandbox.world().await;
    world
        .backups
        .get(&id)
        .filter(|e| e.backup.status == status)
        .map(|e| target(sandbox.dir(), &world, e))
}

async fn create_backup(sandbox: Sandbox, id: Uuid) {
    let Some(target) = claim(
        &sandbox,
        id,
        BackupStatus::Creating,
        sandbox.knobs().backup_delay(),
    )
    .await
    else {
        return;
    };
    let written = match target {
        Some(t) => {
            let backups_dir = sandbox.backups_dir();
            let engines = sandbox.engines().clone();
            tokio::task::spawn_blocking(move || {
                let engine = engines.get(t.svc.service_type)?;
                write_backup_file(engine, &t.svc, &backups_dir, id)
            })
            .await
            .unwrap_or_else(|e| Err(Error::Engine(format!("backup task failed: {e}"))))
        }
        None => Err(Error::Engine("its service no longer exists".to_owned())),
    };
    let mut world = sandbox.world().await;
    let still_wanted = world
        .backups
        .get(&id)
        .is_some_and(|e| e.backup.status == BackupStatus::Creating);
    match written {
        Ok(w) if still_wanted => {
            if let Some(entry) = world.backups.get_mut(&id) {
                entry.backup.status = BackupStatus::Created;
                entry.backup.size = Some(w.size);
                entry.backup.sha256 = Some(w.sha256);
                entry.file = Some(w.file);
            }
        }
        Ok(w) => {
            let _ = fs::remove_file(sandbox.backups_dir().join(w.file));
            return;
        }
        // There is no failed state for backups: a backup that could not be made disappears,
        // and the reason goes to the server log.
        Err(e) if still_wanted => {
            eprintln!("sandbox: backup {id} could not be created ({e}); removing it");
            world.backups.remove(&id);
        }
        Err(_) => return,
    }
    // A failed save is logged inside persist; the in-memory state stays authoritative.
    let _ = sandbox.persist(&world);
}

async fn restore_backup(sandbox: Sandbox, id: Uuid) {
    let Some(target) = claim(
        &sandbox,
        id,
        BackupStatus::Restoring,
        sandbox.knobs().restore_delay(),
    )
    .await
    else {
        return;
    };
    let result = match target {
        Some(Target {
            svc,
            file: Some(file),
        }) => {
            let engines = sandbox.engines().clone();
            tokio::task::spawn_blocking(move || engines.get(svc.service_type)?.restore(&file, &svc))
                .await
                .unwrap_or_else(|e| Err(Error::Engine(format!("restore task failed: {e}"))))
        }
        Some(_) => Err(Error::Engine("the backup has no file".to_owned())),
        None => Err(Error::Engine("its service no longer exists".to_owned())),
    };
    if let Err(e) = &result {
        eprintln!("sandbox: restore of backup {id} failed: {e}");
    }
    let mut world = sandbox.world().await;
    let Some(entry) = world
        .backups
        .get_mut(&id)
        .filter(|e| e.backup.status == BackupStatus::Restoring)
    else {
        return;
    };
    finish_restore(entry, Utc::now(), result.map(|_| ()));
    let _ = sandbox.persist(&world);
}
