//! Backups of committed services: list, info, create, restore, destroy (tickets for transfers
//! are in `tickets`). State rules follow the Backup & Restore document's table (CREATING: nothing;
//! RESTORING: no delete) plus the sandbox's UPLOADING state for allocated uploads, which the
//! list leaves out (the document's table has three states) and only their ID reaches.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::model::{
    Backup, BackupOrigin, BackupStatus, RestoreOutcome, RestoreRecord, Scope, ServiceType, codes,
};
use crate::sandbox::Sandbox;
use crate::sandbox::auth::AuthUser;
use crate::sandbox::errors::{ApiError, ApiResult};
use crate::sandbox::extract::ApiPath;
use crate::sandbox::jobs::Job;
use crate::sandbox::lookup::{AppState, scope, service_missing, stage_of};
use crate::sandbox::state::{BackupEntry, World, new_backup};

/// How long a pre-signed URL stays valid.
pub(super) fn url_lifetime() -> Duration {
    Duration::hours(1)
}

/// The committed service's incarnation id and type, or 404.
pub(super) fn service_of(
    world: &World,
    scope: &Scope,
    service: &str,
) -> ApiResult<(Uuid, ServiceType)> {
    let svc = stage_of(world, scope)?
        .config
        .services
        .get(service)
        .ok_or_else(|| service_missing(service, scope))?;
    Ok((svc.uid, svc.service_type))
}

/// The backup with this id of this service, or 404 (also for another service's backup).
pub(super) fn backup_of(
    world: &World,
    scope: &Scope,
    service: &str,
    id: &str,
) -> ApiResult<(Uuid, ServiceType)> {
    let (uid, service_type) = service_of(world, scope, service)?;
    let missing = || {
        ApiError::not_found(
            codes::BACKUP_NOT_FOUND,
            format!("backup {id:?} does not exist for service {service:?} in {scope}"),
        )
    };
    let backup_id: Uuid = id.parse().map_err(|_| missing())?;
    match world.backups.get(&backup_id) {
        Some(entry) if entry.service_uid == uid => Ok((backup_id, service_type)),
        _ => Err(missing()),
    }
}

pub(super) fn entry_mut(world: &mut World, id: Uuid) -> ApiResult<&mut BackupEntry> {
    world
        .backups
        .get_mut(&id)
        .ok_or_else(|| ApiError::internal(format!("backup {id} vanished")))
}

pub(super) fn require_engine(
    sandbox: &Sandbox,
    service_type: ServiceType,
    service: &str,
) -> ApiResult<()> {
    sandbox
        .engines()
        .get(service_type)
        .map(|_| ())
        .map_err(|reason| {
            ApiError::unprocessable(
                codes::CURRENTLY_NOT_SUPPORTED,
                format!("service {service:?} cannot be backed up: {reason}"),
            )
        })
}

/// Removes expired URLs and abandoned uploads before answering about backups.
pub(super) fn sweep(sandbox: &Sandbox, world: &mut World) -> ApiResult<()> {
    let (files, changed) = world.sweep_expired(Utc::now());
    for f in files {
        let _ = std::fs::remove_file(sandbox.backups_dir().join(f));
    }
    if changed {
        sandbox.persist(world)?;
    }
    Ok(())
}

/// The backup a request names, after expired uploads are swept (an expired one is not found).
/// A missing service is reported before anything is swept.
pub(super) fn current_backup(
    sandbox: &Sandbox,
    world: &mut World,
    scope: &Scope,
    service: &str,
    id: &str,
) -> ApiResult<Uuid> {
    service_of(world, scope, service)?;
    sweep(sandbox, world)?;
    Ok(backup_of(world, scope, service, id)?.0)
}

pub(super) fn state_error(id: Uuid, status: BackupStatus, action: &str) -> ApiError {
    let detail = match status {
        BackupStatus::Creating => "wait until `backup` lists it as CREATED".to_owned(),
        BackupStatus::Restoring => "wait until its restore finished (CREATED again)".to_owned(),
        BackupStatus::Uploading => "its bytes have not been uploaded yet".to_owned(),
        BackupStatus::Created => "it is already complete".to_owned(),
    };
    ApiError::conflict(
        codes::BACKUP_STATE_INVALID,
        format!("backup {id} is {status}; {action} ({detail})"),
    )
}

pub(super) async fn list(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, service)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<Vec<Backup>>> {
    let scope = scope(project, stage);
    let mut world = st.sandbox.world().await;
    let (uid, _) = service_of(&world, &scope, &service)?;
    sweep(&st.sandbox, &mut world)?;
    // SetOps' backup table knows three states: an upload is listed once its bytes arrived
    // (CREATED); until then only its ID answers (`backup:info`, `backup:destroy`).
    Ok(Json(
        world
            .service_backups(uid)
            .into_iter()
            .filter(|e| e.backup.status != BackupStatus::Uploading)
            .map(|e| e.backup.clone())
            .collect(),
    ))
}

pub(super) async fn info(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, service, id)): ApiPath<(String, String, String, String)>,
) -> ApiResult<Json<Backup>> {
    let scope = scope(project, stage);
    let mut world = st.sandbox.world().await;
    let id = current_backup(&st.sandbox, &mut world, &scope, &service, &id)?;
    Ok(Json(entry_mut(&mut world, id)?.backup.clone()))
}

pub(super) async fn create(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, service)): ApiPath<(String, String, String)>,
) -> ApiResult<(StatusCode, Json<Backup>)> {
    let scope = scope(project, stage);
    let mut world = st.sandbox.world().await;
    let (uid, service_type) = service_of(&world, &scope, &service)?;
    require_engine(&st.sandbox, service_type, &service)?;
    let backup = new_backup(
        Uuid::new_v4(),
        &service,
        BackupStatus::Creating,
        BackupOrigin::Manual,
    );
    world.backups.insert(
        backup.id,
        BackupEntry {
            project: scope.project.clone(),
            stage: scope.stage.clone(),
            service_uid: uid,
            backup: backup.clone(),
            file: None,
            upload: None,
        },
    );
    st.sandbox.persist(&world)?;
    drop(world);
    st.sandbox.start_job(Job::CreateBackup(backup.id));
    Ok((StatusCode::CREATED, Json(backup)))
}

pub(super) async fn restore(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, service, id)): ApiPath<(String, String, String, String)>,
) -> ApiResult<(StatusCode, Json<Backup>)> {
    let scope = scope(project, stage);
    let mut world = st.sandbox.world().await;
    let (id, service_type) = backup_of(&world, &scope, &service, &id)?;
    require_engine(&st.sandbox, service_type, &service)?;
    let entry = entry_mut(&mut world, id)?;
    if entry.backup.status != BackupStatus::Created {
        return Err(state_error(
            id,
            entry.backup.status,
            "only CREATED backups can be restored",
        ));
    }
    let uid = entry.service_uid;
    if let Some(other) = world
        .service_backups(uid)
        .into_iter()
        .find(|b| b.backup.status == BackupStatus::Restoring)
    {
        return Err(ApiError::conflict(
            codes::BACKUP_STATE_INVALID,
            format!(
                "service {service:?} is already restoring backup {}; one restore at a time, \
                 wait until that backup is CREATED again",
                other.backup.id
            ),
        ));
    }
    let entry = entry_mut(&mut world, id)?;
    entry.backup.status = BackupStatus::Restoring;
    entry.backup.restore_count += 1;
    entry.backup.last_restore = Some(RestoreRecord {
        started_at: Utc::now(),
        finished_at: None,
        outcome: RestoreOutcome::Running,
        error: None,
    });
    let answer = entry.backup.clone();
    st.sandbox.persist(&world)?;
    drop(world);
    st.sandbox.start_job(Job::Restore(id));
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

pub(super) async fn destroy(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, service, id)): ApiPath<(String, String, String, String)>,
) -> ApiResult<Json<Backup>> {
    let scope = scope(project, stage);
    let mut world = st.sandbox.world().await;
    let (id, _) = backup_of(&world, &scope, &service, &id)?;
    let status = entry_mut(&mut world, id)?.backup.status;
    match status {
        BackupStatus::Creating => {
            return Err(state_error(
                id,
                status,
                "it can be destroyed once it is CREATED",
            ));
        }
        BackupStatus::Restoring => {
            return Err(state_error(
                id,
                status,
                "it can be destroyed once the restore finished",
            ));
        }
        BackupStatus::Created | BackupStatus::Uploading => {}
    }
    let Some(entry) = world.backups.remove(&id) else {
        return Err(ApiError::internal(format!("backup {id} vanished")));
    };
    world.transfers.retain(|_, t| t.backup_id != id);
    if let Some(file) = &entry.file {
        let path = st.sandbox.backups_dir().join(file);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            eprintln!("sandbox: removing {}: {e}", path.display());
        }
    }
    st.sandbox.persist(&world)?;
    Ok(Json(entry.backup))
}
