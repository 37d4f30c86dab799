//! Backups of committed services: list, info, create, restore, destroy, download tickets and
//! uploads. State rules follow the Backup & Restore document's table (CREATING: nothing;
//! RESTORING: no delete) plus the sandbox's UPLOADING state for allocated uploads.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use uuid::Uuid;

use super::resources::service_missing;
use super::{AppState, scope, stage_of};
use crate::api::{DownloadTicket, UploadRequest, UploadTicket, paths};
use crate::model::{
    Backup, BackupOrigin, BackupStatus, RestoreOutcome, RestoreRecord, Scope, ServiceType, codes,
    validators,
};
use crate::sandbox::Sandbox;
use crate::sandbox::auth::{AuthUser, digest, random_token};
use crate::sandbox::engines::{engine_for, unsupported_reason};
use crate::sandbox::errors::{ApiError, ApiResult};
use crate::sandbox::extract::{ApiJson, ApiPath};
use crate::sandbox::jobs::{Job, backup_file_name};
use crate::sandbox::state::{BackupEntry, Transfer, TransferMethod, UploadState, World};

/// How long a pre-signed URL stays valid.
pub(crate) fn url_lifetime() -> Duration {
    Duration::hours(1)
}

/// The committed service's incarnation id and type, or 404.
fn service_of(world: &World, scope: &Scope, service: &str) -> ApiResult<(Uuid, ServiceType)> {
    let svc = stage_of(world, scope)?
        .config
        .services
        .get(service)
        .ok_or_else(|| service_missing(service, scope))?;
    Ok((svc.uid, svc.service_type))
}

/// The backup with this id of this service, or 404 (also for another service's backup).
fn backup_of(world: &World, scope: &Scope, service: &str, id: &str) -> ApiResult<(Uuid, ServiceType)> {
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

fn entry_mut(world: &mut World, id: Uuid) -> ApiResult<&mut BackupEntry> {
    world
        .backups
        .get_mut(&id)
        .ok_or_else(|| ApiError::internal(format!("backup {id} vanished")))
}

fn require_engine(service_type: ServiceType, service: &str) -> ApiResult<()> {
    match engine_for(service_type) {
        Some(_) => Ok(()),
        None => Err(ApiError::unprocessable(
            codes::CURRENTLY_NOT_SUPPORTED,
            format!(
                "service {service:?} cannot be backed up: {}",
                unsupported_reason(service_type)
            ),
        )),
    }
}

/// Removes expired URLs and abandoned uploads before answering about backups.
fn sweep(sandbox: &Sandbox, world: &mut World) -> ApiResult<()> {
    let (files, changed) = world.sweep_expired(Utc::now());
    for f in files {
        let _ = std::fs::remove_file(sandbox.backups_dir().join(f));
    }
    if changed {
        sandbox.persist(world)?;
    }
    Ok(())
}

fn state_error(id: Uuid, status: BackupStatus, action: &str) -> ApiError {
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
    Ok(Json(
        world
            .service_backups(uid)
            .into_iter()
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
    service_of(&world, &scope, &service)?;
    sweep(&st.sandbox, &mut world)?;
    let (id, _) = backup_of(&world, &scope, &service, &id)?;
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
    require_engine(service_type, &service)?;
    let backup = Backup {
        id: Uuid::new_v4(),
        service: service.clone(),
        status: BackupStatus::Creating,
        created_at: Utc::now(),
        size: None,
        sha256: None,
        origin: BackupOrigin::Manual,
        last_restore: None,
    };
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
    require_engine(service_type, &service)?;
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
            return Err(state_error(id, status, "it can be destroyed once it is CREATED"));
        }
        BackupStatus::Restoring => {
            return Err(state_error(id, status, "it can be destroyed once the restore finished"));
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

/// A new pre-signed URL for one backup and one method; the token itself is only in the answer.
fn issue_url(world: &mut World, base_url: &str, id: Uuid, method: TransferMethod) -> (String, chrono::DateTime<Utc>) {
    let token = random_token();
    let expires_at = Utc::now() + url_lifetime();
    world.transfers.insert(
        digest(&token),
        Transfer {
            backup_id: id,
            method,
            expires_at,
        },
    );
    (format!("{base_url}{}", paths::transfer(&token)), expires_at)
}

pub(super) async fn download(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, service, id)): ApiPath<(String, String, String, String)>,
) -> ApiResult<Json<DownloadTicket>> {
    let scope = scope(project, stage);
    let mut world = st.sandbox.world().await;
    let (id, service_type) = backup_of(&world, &scope, &service, &id)?;
    let entry = entry_mut(&mut world, id)?;
    if entry.backup.status != BackupStatus::Created {
        return Err(state_error(
            id,
            entry.backup.status,
            "only CREATED backups can be downloaded",
        ));
    }
    let backup = entry.backup.clone();
    let (Some(size), Some(sha256)) = (backup.size, backup.sha256.clone()) else {
        return Err(ApiError::internal(format!("CREATED backup {id} has no size or checksum")));
    };
    let (url, expires_at) = issue_url(&mut world, &st.base_url, id, TransferMethod::Download);
    st.sandbox.persist(&world)?;
    Ok(Json(DownloadTicket {
        backup,
        url,
        expires_at,
        filename: backup_file_name(id, service_type),
        size,
        sha256,
    }))
}

fn check_upload_request(req: &UploadRequest) -> ApiResult<()> {
    let hex_ok = req.sha256.len() == 64 && req.sha256.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex_ok {
        return Err(ApiError::invalid_field(
            "sha256",
            validators::INVALID_FORMAT,
            "sha256 must be the file's SHA-256 as 64 hex characters",
        ));
    }
    if req.filename.trim().is_empty() {
        return Err(ApiError::invalid_field(
            "filename",
            validators::REQUIRED,
            "filename must name the local file (for display)",
        ));
    }
    if req.size == 0 {
        return Err(ApiError::invalid_field(
            "size",
            validators::GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            "size must be at least 1 byte: an empty file is no backup",
        ));
    }
    Ok(())
}

pub(super) async fn start_upload(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, service)): ApiPath<(String, String, String)>,
    ApiJson(req): ApiJson<UploadRequest>,
) -> ApiResult<(StatusCode, Json<UploadTicket>)> {
    let scope = scope(project, stage);
    let mut world = st.sandbox.world().await;
    let (uid, service_type) = service_of(&world, &scope, &service)?;
    require_engine(service_type, &service)?;
    check_upload_request(&req)?;
    sweep(&st.sandbox, &mut world)?;
    let id = Uuid::new_v4();
    let (url, expires_at) = issue_url(&mut world, &st.base_url, id, TransferMethod::Upload);
    let backup = Backup {
        id,
        service: service.clone(),
        status: BackupStatus::Uploading,
        created_at: Utc::now(),
        size: None,
        sha256: None,
        origin: BackupOrigin::Upload,
        last_restore: None,
    };
    world.backups.insert(
        id,
        BackupEntry {
            project: scope.project.clone(),
            stage: scope.stage.clone(),
            service_uid: uid,
            backup: backup.clone(),
            file: None,
            upload: Some(UploadState {
                filename: req.filename,
                size: req.size,
                sha256: req.sha256.to_ascii_lowercase(),
                url_expires_at: expires_at,
            }),
        },
    );
    st.sandbox.persist(&world)?;
    Ok((
        StatusCode::CREATED,
        Json(UploadTicket {
            backup,
            url,
            method: "PUT".to_owned(),
            expires_at,
        }),
    ))
}

pub(super) async fn upload_url(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, service, id)): ApiPath<(String, String, String, String)>,
) -> ApiResult<Json<UploadTicket>> {
    let scope = scope(project, stage);
    let mut world = st.sandbox.world().await;
    service_of(&world, &scope, &service)?;
    sweep(&st.sandbox, &mut world)?;
    let (id, _) = backup_of(&world, &scope, &service, &id)?;
    let status = entry_mut(&mut world, id)?.backup.status;
    if status != BackupStatus::Uploading {
        return Err(state_error(
            id,
            status,
            "only an upload still waiting for its bytes (UPLOADING) gets a new upload URL",
        ));
    }
    // One live upload URL per backup: older ones stop working.
    world
        .transfers
        .retain(|_, t| !(t.backup_id == id && t.method == TransferMethod::Upload));
    let (url, expires_at) = issue_url(&mut world, &st.base_url, id, TransferMethod::Upload);
    let entry = entry_mut(&mut world, id)?;
    if let Some(upload) = entry.upload.as_mut() {
        upload.url_expires_at = expires_at;
    }
    let backup = entry.backup.clone();
    st.sandbox.persist(&world)?;
    Ok(Json(UploadTicket {
        backup,
        url,
        method: "PUT".to_owned(),
        expires_at,
    }))
}
