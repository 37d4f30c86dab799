//! One upload, attempt by attempt: reopen the file, stream it as the PUT body (read in large
//! blocks on a helper thread) with its length and SHA-256, and read back the CREATED backup.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::TryStreamExt;
use reqwest::Method;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use tokio::time::Instant;

use super::TransferFault;
use super::reader;
use super::{Reporter, STALL_TIMEOUT, TransferProgress, gave_up, worth_retrying};
use crate::api::{SHA256_HEADER, UploadTicket};
use crate::error::{Error, Result};
use crate::model::Backup;
use crate::platform::http::{
    RetryPolicy, read_error_body, service_error, transport_detail, transport_error,
};

/// How often sent bytes are handed to the progress sink while the body streams.
const PROGRESS_TICK: Duration = Duration::from_millis(100);
/// How long the server may take to answer once the whole file is sent (it checks size,
/// checksum and format).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

pub(super) async fn run<F, Fut>(
    client: &reqwest::Client,
    file: &Path,
    size: u64,
    sha256: &str,
    mut ticket: F,
    progress: &dyn TransferProgress,
    policy: &RetryPolicy,
) -> Result<Backup>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<UploadTicket>>,
{
    let label = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string());
    let mut reporter = Reporter::new(progress);
    let mut attempt: u32 = 0;
    let result = loop {
        let ticket = match ticket(attempt).await {
            Ok(ticket) => ticket,
            Err(e) => break Err(e),
        };
        attempt += 1;
        match attempt_once(client, file, size, sha256, &ticket, &label, &mut reporter).await {
            Ok(backup) => break Ok(backup),
            Err(e) if attempt < policy.attempts() && worth_retrying(&e) => {
                tokio::time::sleep(policy.delay(attempt)).await;
            }
            Err(e) => break Err(gave_up(e, attempt)),
        }
    };
    reporter.finish();
    result
}

async fn attempt_once(
    client: &reqwest::Client,
    file: &Path,
    size: u64,
    sha256: &str,
    ticket: &UploadTicket,
    label: &str,
    reporter: &mut Reporter<'_>,
) -> Result<Backup> {
    let id = ticket.backup.id;
    let context = format!("upload of {} to backup {id}", file.display());
    let handle = tokio::fs::File::open(file)
        .await
        .map_err(|e| Error::io("opening", file, e))?;
    let len = handle
        .metadata()
        .await
        .map_err(|e| Error::io("reading", file, e))?
        .len();
    let handle = handle.into_std().await;
    if len != size {
        return Err(TransferFault::FileChanging {
            now: len,
            hashed: size,
        }
        .during(context)
        .into());
    }
    let method = Method::from_bytes(ticket.method.as_bytes()).map_err(|_| {
        Error::unexpected(
            context.clone(),
            format!(
                "the upload ticket names an invalid HTTP method {:?}",
                ticket.method
            ),
        )
    })?;

    reporter.at(label, size, 0);
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    let body = reader::blocks(handle, size).inspect_ok(move |chunk| {
        counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    });
    let send = client
        .request(method, &ticket.url)
        .header(CONTENT_LENGTH, size)
        .header(CONTENT_TYPE, "application/octet-stream")
        .header(SHA256_HEADER, sha256)
        .body(reqwest::Body::wrap_stream(body))
        .send();
    tokio::pin!(send);
    let mut reported = 0u64;
    let mut moved_at = Instant::now();
    let mut ticker = tokio::time::interval(PROGRESS_TICK);
    let response = loop {
        tokio::select! {
            response = &mut send => break response,
            _ = ticker.tick() => {
                let now = sent.load(Ordering::Relaxed);
                if now != reported {
                    moved_at = Instant::now();
                }
                reporter.advance(now.saturating_sub(reported));
                reported = now;
                // While sending, silence means a dead connection; once everything is sent the
                // server may take a while to check the file.
                let limit = if now < size { STALL_TIMEOUT } else { ANSWER_TIMEOUT };
                if moved_at.elapsed() > limit {
                    return Err(Error::Transport {
                        context,
                        detail: format!(
                            "nothing moved for {} s after byte {now} of {size}",
                            limit.as_secs()
                        ),
                    });
                }
            }
        }
    };
    reporter.advance(sent.load(Ordering::Relaxed).saturating_sub(reported));
    let response = response.map_err(|e| transport_error(context.clone(), e))?;
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let body = read_error_body(response).await;
        return Err(Error::Platform {
            context,
            status: status.as_u16(),
            error: Box::new(service_error(status, &headers, &body)),
        });
    }
    // The server has taken the bytes; sending them again could not help, so what follows is
    // final, and the message says how to look at the backup instead.
    let unusable = |problem: String| -> Error {
        TransferFault::AnswerUnusable {
            status: status.to_string(),
            problem,
            backup: id.to_string(),
        }
        .during(context.clone())
        .into()
    };
    let bytes = response
        .bytes()
        .await
        .map_err(|e| unusable(format!("broke off ({})", transport_detail(e))))?;
    serde_json::from_slice(&bytes).map_err(|e| unusable(format!("is not a backup ({e})")))
}
