//! Pre-signed transfer URLs (`/transfer/{token}`, no bearer token): GET streams a backup with
//! Range/If-Range support, PUT receives an upload, hashing while writing. Files are never read
//! whole into memory. Download fault knobs act here.

mod download;
mod upload;

use chrono::Utc;
use uuid::Uuid;

use crate::model::codes;
use crate::sandbox::auth::digest;
use crate::sandbox::errors::{ApiError, ApiResult};
use crate::sandbox::state::{Transfer, TransferMethod, World};

pub(super) use download::download;
pub(super) use upload::upload;

pub(super) fn lookup(world: &World, token: &str, method: TransferMethod) -> ApiResult<Transfer> {
    let transfer = world.transfers.get(&digest(token)).ok_or_else(|| {
        ApiError::transfer_invalid(
            "this transfer URL is unknown, expired or was replaced; ask for a new one \
             (backup download or upload-url)",
        )
    })?;
    if transfer.expires_at <= Utc::now() {
        return Err(ApiError::transfer_invalid(format!(
            "this transfer URL expired at {}; ask for a new one",
            transfer.expires_at.to_rfc3339()
        )));
    }
    if transfer.method != method {
        let (made_for, used_for) = match transfer.method {
            TransferMethod::Download => ("downloading (GET)", "uploading"),
            TransferMethod::Upload => ("uploading (PUT)", "downloading"),
        };
        return Err(ApiError::transfer_invalid(format!(
            "this transfer URL is for {made_for}; it cannot be used for {used_for}"
        )));
    }
    Ok(transfer.clone())
}

pub(super) fn backup_gone(id: Uuid) -> ApiError {
    ApiError::not_found(
        codes::BACKUP_NOT_FOUND,
        format!("backup {id} no longer exists"),
    )
}
