//! Pre-signed transfer URLs (`/transfer/{token}`, no bearer token): GET streams a backup with
//! Range/If-Range support, PUT receives an upload, hashing while writing. Files are never read
//! whole into memory. Download fault knobs act here.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

use super::AppState;
use crate::api::SHA256_HEADER;
use crate::model::{Backup, BackupStatus, codes};
use crate::sandbox::auth::digest;
use crate::sandbox::engines::{Engine, engine_for};
use crate::sandbox::errors::{ApiError, ApiResult};
use crate::sandbox::extract::ApiPath;
use crate::sandbox::faults::DownloadFaults;
use crate::sandbox::state::{Transfer, TransferMethod, World};

const CHUNK: usize = 64 * 1024;
/// Bytes of an upload kept for the engine's format check.
const HEAD_LEN: usize = 512;

fn lookup(world: &World, token: &str, method: TransferMethod) -> ApiResult<Transfer> {
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

fn backup_gone(id: Uuid) -> ApiError {
    ApiError::not_found(
        codes::BACKUP_NOT_FOUND,
        format!("backup {id} no longer exists"),
    )
}

#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    /// Inclusive byte range.
    Bytes(u64, u64),
    Unsatisfiable,
    /// Absent, malformed or multi-range: the whole body is sent (RFC 9110 allows ignoring it).
    Whole,
}

fn parse_range(value: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeRequest::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        (true, false) => match num(last) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if size == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Bytes(size.saturating_sub(n), size - 1),
            None => RangeRequest::Whole,
        },
        (false, true) => match num(first) {
            Some(start) if start >= size => RangeRequest::Unsatisfiable,
            Some(start) => RangeRequest::Bytes(start, size - 1),
            None => RangeRequest::Whole,
        },
        (false, false) => match (num(first), num(last)) {
            (Some(start), Some(end)) if end < start => RangeRequest::Whole,
            (Some(start), Some(_)) if start >= size => RangeRequest::Unsatisfiable,
            (Some(start), Some(end)) => RangeRequest::Bytes(start, end.min(size - 1)),
            _ => RangeRequest::Whole,
        },
        (true, true) => RangeRequest::Whole,
    }
}

/// Strong ETag from the content hash: the same bytes always carry the same tag.
fn etag_for(sha256: &str) -> String {
    format!("\"{}\"", &sha256[..sha256.len().min(32)])
}

pub(super) async fn download(
    State(st): State<AppState>,
    ApiPath(token): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (path, size, sha256, filename) = {
        let world = st.sandbox.world().await;
        let transfer = lookup(&world, &token, TransferMethod::Download)?;
        let entry = world
            .backups
            .get(&transfer.backup_id)
            .ok_or_else(|| backup_gone(transfer.backup_id))?;
        // A restore only reads the file, so a download may run beside it.
        let readable = matches!(
            entry.backup.status,
            BackupStatus::Created | BackupStatus::Restoring
        );
        match (&entry.file, entry.backup.size, &entry.backup.sha256) {
            (Some(file), Some(size), Some(sha)) if readable => (
                st.sandbox.backups_dir().join(file),
                size,
                sha.clone(),
                file.clone(),
            ),
            _ => return Err(backup_gone(transfer.backup_id)),
        }
    };
    let faults = st.sandbox.knobs().take_download();
    let etag = if faults.rotate_etag {
        etag_for(&crate::sandbox::auth::random_token())
    } else {
        etag_for(&sha256)
    };
    let mut range = if faults.ignore_range {
        RangeRequest::Whole
    } else {
        parse_range(
            headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
            size,
        )
    };
    if let Some(if_range) = headers.get(header::IF_RANGE) {
        // A date or another tag means the client's partial copy may be stale: send everything.
        if if_range.to_str().ok().map(str::trim) != Some(etag.as_str()) {
            range = RangeRequest::Whole;
        }
    }
    let (status, start, len) = match range {
        RangeRequest::Whole => (StatusCode::OK, 0, size),
        RangeRequest::Bytes(start, end) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        RangeRequest::Unsatisfiable => {
            let mut e = ApiError::unprocessable(
                "RangeNotSatisfiable",
                format!("the requested range is outside the file ({size} bytes)"),
            );
            e.status = StatusCode::RANGE_NOT_SATISFIABLE;
            let mut response = e.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(response);
        }
    };
    let sent = if faults.short { len / 2 } else { len };
    let body = file_body(&path, start, sent, faults).await?;
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    let mut set = |name: header::HeaderName, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    set(header::CONTENT_TYPE, "application/octet-stream".to_owned());
    set(header::CONTENT_LENGTH, sent.to_string());
    set(header::ACCEPT_RANGES, "bytes".to_owned());
    set(header::ETAG, etag);
    set(
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{filename}\""),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        set(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", start + len - 1),
        );
    }
    Ok(response)
}

/// Streams `len` bytes of the file from `start` in chunks, applying the corrupt and cut faults.
async fn file_body(path: &Path, start: u64, len: u64, faults: DownloadFaults) -> ApiResult<Body> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ApiError::internal(format!("opening backup file {}: {e}", path.display())))?;
    file.seek(SeekFrom::Start(start))
        .await
        .map_err(|e| ApiError::internal(format!("seeking in {}: {e}", path.display())))?;
    struct Reader {
        file: tokio::fs::File,
        sent: u64,
        len: u64,
        corrupt_at: Option<u64>,
        cut_after: Option<u64>,
    }
    let reader = Reader {
        file,
        sent: 0,
        len,
        corrupt_at: (faults.corrupt && len > 0).then_some(len / 2),
        cut_after: faults.cut_after,
    };
    let stream = futures_util::stream::unfold(reader, |mut r| async move {
        let mut limit = r.len - r.sent;
        if let Some(cut) = r.cut_after {
            if r.sent >= cut {
                // Let the server flush what was sent, so the client really holds N bytes when
                // the connection breaks (an error right away may drop buffered bytes too).
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                let e = std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "download cut by the cut_download fault knob",
                );
                r.cut_after = None;
                r.len = r.sent;
                return Some((Err(e), r));
            }
            limit = limit.min(cut - r.sent);
        }
        if limit == 0 {
            return None;
        }
        let mut buf = vec![0u8; limit.min(CHUNK as u64) as usize];
        match r.file.read(&mut buf).await {
            Ok(0) => {
                let e = std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "backup file is shorter than recorded",
                );
                r.len = r.sent;
                Some((Err(e), r))
            }
            Ok(n) => {
                buf.truncate(n);
                if let Some(at) = r.corrupt_at
                    && at >= r.sent
                    && at < r.sent + n as u64
                {
                    buf[(at - r.sent) as usize] ^= 0xff;
                }
                r.sent += n as u64;
                Some((Ok(Bytes::from(buf)), r))
            }
            Err(e) => {
                r.len = r.sent;
                Some((Err(e), r))
            }
        }
    });
    Ok(Body::from_stream(stream))
}

fn upload_invalid(message: String) -> ApiError {
    ApiError::unprocessable(codes::UPLOAD_INVALID, message)
}

struct Expected {
    id: Uuid,
    size: u64,
    sha256: String,
    file: String,
    engine: &'static dyn Engine,
}

fn expected_upload(world: &World, token: &str) -> ApiResult<Expected> {
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
    let engine = engine_for(service_type).ok_or_else(|| backup_gone(id))?;
    Ok(Expected {
        id,
        size: upload.size,
        sha256: upload.sha256.clone(),
        file: crate::sandbox::jobs::backup_file_name(id, service_type),
        engine,
    })
}

pub(super) async fn upload(
    State(st): State<AppState>,
    ApiPath(token): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Backup>)> {
    let expected = {
        let world = st.sandbox.world().await;
        expected_upload(&world, &token)?
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
    let partial = st.sandbox.backups_dir().join(format!("{}.partial", expected.file));
    let received = receive(&partial, body, &expected).await;
    let (size, sha256, head) = match received {
        Ok(r) => r,
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
    };
    let verdict = if size != expected.size || sha256 != expected.sha256 {
        Err(format!(
            "received {size} bytes with sha256 {sha256}, but the upload announced {} bytes with \
             sha256 {}; nothing was stored, ask for a new upload URL and send the file again",
            expected.size, expected.sha256
        ))
    } else {
        expected.engine.check_upload(&head)
    };
    if let Err(message) = verdict {
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

/// Writes the body to `partial` (0600), hashing as it goes; stops at the first byte beyond the
/// announced size. Returns size, SHA-256 and the first bytes.
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
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(HEAD_LEN);
    let mut size = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            upload_invalid(format!(
                "the upload body ended early after {size} bytes ({e}); ask for a new upload URL \
                 and send the file again"
            ))
        })?;
        size += chunk.len() as u64;
        if size > expected.size {
            return Err(upload_invalid(format!(
                "the upload sent more than the announced {} bytes; nothing was stored",
                expected.size
            )));
        }
        if head.len() < HEAD_LEN {
            let take = (HEAD_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        out.write_all(&chunk)
            .await
            .map_err(|e| ApiError::internal(format!("writing {}: {e}", partial.display())))?;
    }
    out.flush()
        .await
        .map_err(|e| ApiError::internal(format!("writing {}: {e}", partial.display())))?;
    out.get_ref()
        .sync_all()
        .await
        .map_err(|e| ApiError::internal(format!("syncing {}: {e}", partial.display())))?;
    Ok((size, hex::encode(hasher.finalize()), head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_like_rfc_9110() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 100), Whole);
        assert_eq!(parse_range(Some("bytes=10-"), 100), Bytes(10, 99));
        assert_eq!(parse_range(Some("bytes=10-19"), 100), Bytes(10, 19));
        assert_eq!(parse_range(Some("bytes=90-200"), 100), Bytes(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Bytes(90, 99));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=5-1"), 100), Whole);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Whole);
        assert_eq!(parse_range(Some("items=0-1"), 100), Whole);
    }

    #[test]
    fn etags_are_strong_and_derived_from_the_hash() {
        let sha = "ab".repeat(32);
        assert_eq!(etag_for(&sha), format!("\"{}\"", "ab".repeat(16)));
    }
}
