//! GET on a transfer URL: the backup file, streamed, with Range/If-Range and the download faults.

use std::io::SeekFrom;
use std::path::Path;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{backup_gone, lookup};
use crate::model::BackupStatus;
use crate::sandbox::errors::{ApiError, ApiResult};
use crate::sandbox::extract::ApiPath;
use crate::sandbox::faults::DownloadFaults;
use crate::sandbox::lookup::AppState;
use crate::sandbox::state::TransferMethod;

const CHUNK: usize = 64 * 1024;

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

pub(in crate::sandbox::routes) async fn download(
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

#[cfg(test)]
mod tests;
