//! PUT on a transfer URL: an upload's bytes, hashed and written off the receive path, checked
//! against what the upload announced and against the engine's format before the backup becomes
//! CREATED.

use std::path::PathBuf;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{backup_gone, lookup};
use crate::api::SHA256_HEADER;
use crate::model::ServiceType;
use crate::model::{Backup, BackupStatus, codes};
use crate::sandbox::Sandbox;
use crate::sandbox::errors::{ApiError, ApiResult};
use crate::sandbox::extract::ApiPath;
use crate::sandbox::lookup::AppState;
use crate::sandbox::state::{TransferMethod, World};
use crate::transfer::spool::Spool;

/// Bytes of an upload kept for the format check: enough for every format `formats` knows
/// (a tar header inside gzip included), small whatever the upload's size.
const HEAD_LEN: usize = 16 * 1024;

fn upload_invalid(message: String) -> ApiError {
    ApiError::unprocessable(codes::UPLOAD_INVALID, message)
}

struct Expected {
    id: Uuid,
    size: u64,
    sha256: String,
    file: String,
    service_type: ServiceType,
}

fn expected_upload(sandbox: &Sandbox, world: &World, token: &str) -> ApiResult<Expected> {
    let transfer = lookup(world, token, TransferMethod::Upload)?;
    let id = transfer.backup_id;
    let entry = world.backups.get(&id).ok_or_else(|| backup_gone(id))?;
    let (BackupStatus::Uploading, Some(upload)) = (entry.backup.status, &entry.upload) else {
        return Err(ApiError::conflict(
            codes::BACKUP_STATE_INVALID,
            format!(
                "backup {id} is {}; it does not take uploaded bytes any more",
                entry.backup.status
            ),
        ));
    };
    let service_type = world
        .stage(&entry.scope())
        .and_then(|s| s.config.services.get(&entry.backup.service))
        .filter(|s| s.uid == entry.service_uid)
        .map(|s| s.service_type)
        .ok_or_else(|| backup_gone(id))?;
    sandbox
        .engines()
        .get(service_type)
        .map_err(|_| backup_gone(id))?;
    Ok(Expected {
        id,
        size: upload.size,
        sha256: upload.sha256.clone(),
        file: crate::sandbox::jobs::backup_file_name(id, service_type),
        service_type,
    })
}

pub(in crate::sandbox::routes) async fn upload(
    State(st): State<AppState>,
    ApiPath(token): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Backup>)> {
    let expected = {
        let world = st.sandbox.world().await;
        expected_upload(&st.sandbox, &world, &token)?
    };
    let id = expected.id;
    let _claim = st.sandbox.claim_upload(id).ok_or_else(|| {
        ApiError::conflict(
            codes::BACKUP_STATE_INVALID,
            format!("an upload to backup {id} is already running; wait for it or retry later"),
        )
    })?;
    if let Some(sent) = headers.get(SHA256_HEADER).and_then(|v| v.to_str().ok())
        && !sent.trim().eq_ignore_ascii_case(&expected.sha256)
    {
        return Err(upload_invalid(format!(
            "header {SHA256_HEADER} ({}) differs from the sha256 announced when the upload \
             started ({}); start a new upload for a different file",
            sent.trim(),
            expected.sha256
        )));
    }
    let partial = st
        .sandbox
        .backups_dir()
        .join(format!("{}.partial", expected.file));
    let received = receive(&partial, body, &expected).await;
    let (size, sha256, head) = match received {
        Ok(r) => r,
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
    };
    let verdict = if size != expected.size || sha256 != expected.sha256 {
        Some(format!(
            "received {size} bytes with sha256 {sha256}, but the upload announced {} bytes with \
             sha256 {}; nothing was stored, ask for a new upload URL and send the file again",
            expected.size, expected.sha256
        ))
    } else {
        st.sandbox
            .engines()
            .get(expected.service_type)
            .and_then(|engine| engine.check_upload(expected.service_type, &head))
            .err()
            .map(|e| e.to_string())
    };
    if let Some(message) = verdict {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(upload_invalid(message));
    }
    let final_path = st.sandbox.backups_dir().join(&expected.file);
    if let Err(e) = tokio::fs::rename(&partial, &final_path).await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(ApiError::internal(format!("storing upload {id}: {e}")));
    }
    let mut world = st.sandbox.world().await;
    let Some(entry) = world
        .backups
        .get_mut(&id)
        .filter(|e| e.backup.status == BackupStatus::Uploading)
    else {
        // Destroyed while the bytes were arriving.
        let _ = tokio::fs::remove_file(&final_path).await;
        return Err(backup_gone(id));
    };
    entry.backup.status = BackupStatus::Created;
    entry.backup.size = Some(size);
    entry.backup.sha256 = Some(sha256);
    entry.file = Some(expected.file.clone());
    entry.upload = None;
    let backup = entry.backup.clone();
    world.transfers.retain(|_, t| t.backup_id != id);
    st.sandbox.persist(&world)?;
    Ok((StatusCode::CREATED, Json(backup)))
}

/// Writes the body to `partial` (0600) through a [`Spool`]: hashing and writing run on their own
/// threads, so receiving is not held up by them (nor is a client's upload speed). Stops at the
/// first byte beyond the announced size. Returns size, SHA-256 and the first bytes.
async fn receive(
    partial: &PathBuf,
    body: Body,
    expected: &Expected,
) -> ApiResult<(u64, String, Vec<u8>)> {
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(partial)
        .await
        .map_err(|e| ApiError::internal(format!("creating {}: {e}", partial.display())))?;
    let mut spool = Spool::start(file.into_std().await, 0, Sha256::new());
    let mut head = Vec::with_capacity(HEAD_LEN);
    let mut size = 0u64;
    let mut refused = None;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                refused = Some(upload_invalid(format!(
                    "the upload body ended early after {size} bytes ({e}); ask for a new upload \
                     URL and send the file again"
                )));
                break;
            }
        };
        size += chunk.len() as u64;
        if size > expected.size {
            refused = Some(upload_invalid(format!(
                "the upload sent more than the announced {} bytes; nothing was stored",
                expected.size
            )));
            break;
        }
        if head.len() < HEAD_LEN {
            let take = (HEAD_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        if spool.push(chunk).await.is_err() {
            // The writer failed: finishing the spool names the error.
            break;
        }
    }
    // Finished before anything else, so no thread writes to the partial once it is removed.
    let finished = spool.finish().await;
    if let Some(refusal) = refused {
        return Err(refusal);
    }
    let hasher =
        finished.map_err(|e| ApiError::internal(format!("writing {}: {e}", partial.display())))?;
    Ok((size, hex::encode(hasher.finalize()), head))
}
