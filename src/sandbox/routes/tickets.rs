//! Pre-signed URL tickets: download tickets for CREATED backups, and uploads (a backup allocated
//! in UPLOADING plus a PUT URL, renewable until the bytes arrive).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use uuid::Uuid;

use super::backups::{
    backup_of, current_backup, entry_mut, require_engine, service_of, state_error, sweep,
    url_lifetime,
};
use crate::api::{DownloadTicket, UploadRequest, UploadTicket, paths};
use crate::model::{BackupOrigin, BackupStatus, validators};
use crate::sandbox::auth::{AuthUser, digest, random_token};
use crate::sandbox::errors::{ApiError, ApiResult};
use crate::sandbox::extract::{ApiJson, ApiPath};
use crate::sandbox::jobs::backup_file_name;
use crate::sandbox::lookup::{AppState, scope};
use crate::sandbox::state::{
    BackupEntry, Transfer, TransferMethod, UploadState, World, new_backup,
};

/// A new pre-signed URL for one backup and one method; the token itself is only in the answer.
fn issue_url(
    world: &mut World,
    base_url: &str,
    id: Uuid,
    method: TransferMethod,
) -> (String, chrono::DateTime<Utc>) {
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
        return Err(ApiError::internal(format!(
            "CREATED backup {id} has no size or checksum"
        )));
    };
    let (url, expires_at) = issue_url(&mut world, &st.base_url, id, TransferMethod::Download);
    st.sandbox.persist(&world)?;
    Ok(Json(DownloadTicket {
        backup,
        url,
        expires_at: Some(expires_at),
        filename: backup_file_name(id, service_type),
        size,
        sha256: Some(sha256),
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
    // The contract's range (docs/openapi.yaml: int64); no file is larger.
    if i64::try_from(req.size).is_err() {
        return Err(ApiError::invalid_field(
            "size",
            validators::LESS_THAN_OR_EQUAL_TO_THRESHOLD,
            format!("size must be at most {} bytes", i64::MAX),
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
    require_engine(&st.sandbox, service_type, &service)?;
    check_upload_request(&req)?;
    sweep(&st.sandbox, &mut world)?;
    let id = Uuid::new_v4();
    let (url, expires_at) = issue_url(&mut world, &st.base_url, id, TransferMethod::Upload);
    let backup = new_backup(id, &service, BackupStatus::Uploading, BackupOrigin::Upload);
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
    let id = current_backup(&st.sandbox, &mut world, &scope, &service, &id)?;
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
