//! One download, attempt by attempt: decide whether the partial file can be resumed, ask for
//! the rest pinned to its ETag, stream the body into the partial while hashing it (both off the
//! receive path), and verify size and SHA-256 before the partial may become the destination.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, ETAG, IF_RANGE, RANGE};
use sha2::{Digest, Sha256};

use super::TransferFault;
use super::files::{self, with_suffix};
use super::resume::{Sidecar, parse_content_range, range_from};
use super::spool::Spool;
use super::{Downloaded, Reporter, STALL_TIMEOUT, TransferProgress, gave_up, worth_retrying};
use crate::api::DownloadTicket;
use crate::error::{Error, Result};
use crate::platform::http::{
    RetryPolicy, read_error_body, service_error, transport_detail, transport_error,
};

struct Paths<'a> {
    dest: &'a Path,
    partial: PathBuf,
    sidecar: PathBuf,
}

impl Paths<'_> {
    /// Drops a partial file that cannot be trusted, so the next attempt starts from zero.
    async fn discard(&self) -> Result<()> {
        files::remove_if_exists(&self.partial).await?;
        files::remove_if_exists(&self.sidecar).await
    }
}

struct Verified {
    size: u64,
    sha256: String,
    resumed_from: u64,
}

pub(super) async fn run<F, Fut>(
    client: &reqwest::Client,
    mut ticket: F,
    dest: &Path,
    force: bool,
    progress: &dyn TransferProgress,
    policy: &RetryPolicy,
) -> Result<Downloaded>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<DownloadTicket>>,
{
    if !force && files::length(dest).await?.is_some() {
        return Err(Error::usage(format!(
            "{} exists; pass -f/--force to overwrite it",
            dest.display()
        )));
    }
    let paths = Paths {
        dest,
        partial: with_suffix(dest, ".partial"),
        sidecar: with_suffix(dest, ".partial.json"),
    };
    let mut reporter = Reporter::new(progress);
    let mut attempt = 0;
    let result = loop {
        attempt += 1;
        let ticket = match ticket().await {
            Ok(ticket) => ticket,
            Err(e) => break Err(e),
        };
        match attempt_once(client, &ticket, &paths, &mut reporter).await {
            Ok(verified) => break finish(&paths, verified, attempt).await,
            Err(e) if attempt < policy.attempts() && worth_retrying(&e) => {
                tokio::time::sleep(policy.delay(attempt)).await;
            }
            Err(e) => break Err(gave_up(e, attempt)),
        }
    };
    reporter.finish();
    result
}

async fn finish(paths: &Paths<'_>, verified: Verified, attempts: u32) -> Result<Downloaded> {
    files::promote(&paths.partial, paths.dest).await?;
    files::remove_if_exists(&paths.sidecar).await?;
    Ok(Downloaded {
        path: paths.dest.to_path_buf(),
        size: verified.size,
        sha256: verified.sha256,
        resumed_from: verified.resumed_from,
        attempts,
    })
}

fn retryable(context: &str, fault: TransferFault) -> Error {
    fault.during(context).into()
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The first characters of a checksum, enough to tell two apart in a message.
fn short(sha: &str) -> String {
    sha.chars().take(12).collect()
}

/// The partial's length and pinned ETag when it holds bytes of this ticket's file; otherwise
/// the partial is discarded.
async fn resumable(ticket: &DownloadTicket, paths: &Paths<'_>) -> Result<Option<(u64, String)>> {
    let Some(len) = files::length(&paths.partial).await? else {
        return Ok(None);
    };
    if let Some(sidecar) = Sidecar::load(&paths.sidecar).await
        && sidecar.matches(ticket)
        && len > 0
        && len <= ticket.size
        && let Some(etag) = sidecar.etag
    {
        return Ok(Some((len, etag)));
    }
    paths.discard().await?;
    Ok(None)
}

/// What a response lets the attempt do.
enum Accepted {
    /// Write the body into the partial file from byte `start`, continuing `hasher`.
    Body {
        response: reqwest::Response,
        start: u64,
        hasher: Sha256,
    },
    /// The partial file already holds every byte; it only needs verifying.
    Complete { len: u64, hasher: Sha256 },
}

async fn attempt_once(
    client: &reqwest::Client,
    ticket: &DownloadTicket,
    paths: &Paths<'_>,
    reporter: &mut Reporter<'_>,
) -> Result<Verified> {
    let context = format!("download of backup {}", ticket.backup.id);
    if ticket.sha256.as_deref().is_some_and(|s| !is_sha256(s)) {
        return Err(TransferFault::TicketWithoutChecksum.during(context).into());
    }
    let label = ticket.filename.as_str();
    let resume = resumable(ticket, paths).await?;
    let mut request = client.get(&ticket.url);
    if let Some((from, etag)) = &resume {
        request = request
            .header(RANGE, range_from(*from))
            .header(IF_RANGE, etag.as_str());
    }
    let response = match tokio::time::timeout(STALL_TIMEOUT, request.send()).await {
        Ok(sent) => sent.map_err(|e| transport_error(context.clone(), e))?,
        Err(_) => {
            return Err(Error::Transport {
                context,
                detail: format!("no answer within {} s", STALL_TIMEOUT.as_secs()),
            });
        }
    };
    match accept(response, ticket, resume, paths, &context).await? {
        Accepted::Complete { len, hasher } => {
            reporter.at(label, ticket.size, len);
            verify(ticket, len, hasher, len, paths, &context).await
        }
        Accepted::Body {
            response,
            start,
            hasher,
        } => {
            reporter.at(label, ticket.size, start);
            let (written, hasher) =
                write_body(response, start, hasher, ticket, paths, reporter, &context).await?;
            verify(ticket, written, hasher, start, paths, &context).await
        }
    }
}

/// Decides from the status, Content-Range and ETag whether the body continues the partial
/// file, replaces it, or is refused (the partial is then discarded when it cannot be trusted).
async fn accept(
    response: reqwest::Response,
    ticket: &DownloadTicket,
    resume: Option<(u64, String)>,
    paths: &Paths<'_>,
    context: &str,
) -> Result<Accepted> {
    let status = response.status();
    let etag = response
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match (status, resume) {
        (StatusCode::PARTIAL_CONTENT, Some((from, pinned))) => {
            let shown = response
                .headers()
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("no Content-Range")
                .to_owned();
            let range = parse_content_range(&shown);
            if !range.is_some_and(|r| r.start == from && r.total == ticket.size) {
                paths.discard().await?;
                return Err(retryable(
                    context,
                    TransferFault::ResumeRefused {
                        from,
                        answered: shown,
                    },
                ));
            }
            if etag.is_some_and(|e| e != pinned) {
                paths.discard().await?;
                return Err(retryable(context, TransferFault::ChangedUpstream));
            }
            let (len, hasher) = files::hash_file(paths.partial.clone()).await?;
            if len != from {
                paths.discard().await?;
                return Err(retryable(context, TransferFault::PartialChanged));
            }
            Ok(Accepted::Body {
                response,
                start: from,
                hasher,
            })
        }
        // The whole file: a fresh start, or a resume the server refused (changed ETag, Range
        // ignored). Its ETag pins any later resume.
        (StatusCode::OK, _) => {
            // Old bytes go first, so a sidecar never describes bytes of another response.
            files::remove_if_exists(&paths.partial).await?;
            Sidecar::for_ticket(ticket, etag)
                .save(&paths.sidecar)
                .await?;
            Ok(Accepted::Body {
                response,
                start: 0,
                hasher: Sha256::new(),
            })
        }
        // Everything had arrived before; only the verification was missing.
        (StatusCode::RANGE_NOT_SATISFIABLE, Some((from, _))) if from == ticket.size => {
            let (len, hasher) = files::hash_file(paths.partial.clone()).await?;
            Ok(Accepted::Complete { len, hasher })
        }
        (StatusCode::RANGE_NOT_SATISFIABLE | StatusCode::PARTIAL_CONTENT, _) => {
            paths.discard().await?;
            Err(retryable(
                context,
                TransferFault::UnaskedStatus {
                    status: status.to_string(),
                },
            ))
        }
        _ => {
            let headers = response.headers().clone();
            let body = read_error_body(response).await;
            Err(Error::Platform {
                context: context.to_owned(),
                status: status.as_u16(),
                error: Box::new(service_error(status, &headers, &body)),
            })
        }
    }
}

/// Streams the body into the partial file through a [`Spool`] (hashing and writing happen on
/// their own threads, so receiving never waits on them); returns the partial's length and the
/// hash of all of it. A cut or stalled connection keeps what arrived, so the next attempt resumes
/// from it.
async fn write_body(
    response: reqwest::Response,
    start: u64,
    hasher: Sha256,
    ticket: &DownloadTicket,
    paths: &Paths<'_>,
    reporter: &mut Reporter<'_>,
    context: &str,
) -> Result<(u64, Sha256)> {
    let kept = "the partial file is kept and the next attempt resumes from it";
    let file = files::open_private(&paths.partial, start > 0).await?;
    let mut spool = Spool::start(file, start, hasher);
    let mut written = start;
    let mut body = response.bytes_stream();
    let cut = loop {
        let next = tokio::time::timeout(STALL_TIMEOUT, body.next()).await;
        let chunk = match next {
            Ok(None) => break None,
            Ok(Some(Ok(chunk))) => chunk,
            Ok(Some(Err(e))) => {
                break Some(format!(
                    "{} after byte {written} of {}; {kept}",
                    transport_detail(e),
                    ticket.size
                ));
            }
            Err(_) => {
                break Some(format!(
                    "no data arrived for {} s after byte {written} of {}; {kept}",
                    STALL_TIMEOUT.as_secs(),
                    ticket.size
                ));
            }
        };
        let len = chunk.len() as u64;
        if written + len > ticket.size {
            // The threads stop before the partial goes, so nothing writes to it afterwards.
            let _ = spool.finish().await;
            paths.discard().await?;
            return Err(retryable(
                context,
                TransferFault::Oversized { size: ticket.size },
            ));
        }
        if spool.push(chunk).await.is_err() {
            // The writer failed; finishing the spool below returns its error.
            break None;
        }
        written += len;
        reporter.advance(len);
    };
    let hasher = spool
        .finish()
        .await
        .map_err(|e| Error::io("writing", &paths.partial, e))?;
    match cut {
        Some(detail) => Err(Error::Transport {
            context: context.to_owned(),
            detail,
        }),
        None => Ok((written, hasher)),
    }
}

async fn verify(
    ticket: &DownloadTicket,
    written: u64,
    hasher: Sha256,
    resumed_from: u64,
    paths: &Paths<'_>,
    context: &str,
) -> Result<Verified> {
    if written < ticket.size {
        return Err(retryable(
            context,
            TransferFault::BodyEnded {
                at: written,
                size: ticket.size,
            },
        ));
    }
    let sha256 = files::hex_digest(hasher);
    if let Some(expected) = &ticket.sha256
        && !sha256.eq_ignore_ascii_case(expected)
    {
        paths.discard().await?;
        return Err(retryable(
            context,
            TransferFault::ChecksumMismatch {
                expected: short(expected),
                actual: short(&sha256),
            },
        ));
    }
    Ok(Verified {
        size: written,
        sha256,
        resumed_from,
    })
}
