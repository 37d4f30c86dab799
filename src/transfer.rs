//! Streaming, resumable, verified transfers over pre-signed URLs (design.md section 6).
//! Memory stays flat whatever the size: bodies are streamed chunk by chunk, hashed on the way.
//! Downloads land in `<dest>.partial`, resume with `Range` pinned by `If-Range`, and become
//! `dest` only after their size and SHA-256 match the ticket. Uploads reopen the file per attempt.

pub mod checksum_file;
mod download;
#[cfg(test)]
mod download_tests;
pub mod error;
mod files;
pub mod head;
mod reader;
mod resume;
pub(crate) mod spool;
mod upload;

pub use error::{TransferError, TransferFault};

use std::future::Future;
use std::path::{Path, PathBuf};

use crate::api::{DownloadTicket, UploadTicket};
use crate::error::{Error, Result};
use crate::model::{Backup, codes};
use crate::platform::http::RetryPolicy;

/// A transfer connection that moves no byte for this long is treated as cut (and retried).
const STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Where a transfer reports its bytes; the UI draws bars from it, the engine never prints.
pub trait TransferProgress: Send + Sync {
    /// A transfer of `total` bytes begins; `already` bytes came from a resumed partial file.
    fn start(&self, label: &str, total: u64, already: u64);
    fn advance(&self, bytes: u64);
    /// A resume was refused (or an upload is sent again): counting starts again from 0.
    fn restart(&self);
    /// The transfer is over, verified or given up.
    fn finish(&self);
}

/// Progress for callers that show none.
pub struct NoProgress;

impl TransferProgress for NoProgress {
    fn start(&self, _label: &str, _total: u64, _already: u64) {}
    fn advance(&self, _bytes: u64) {}
    fn restart(&self) {}
    fn finish(&self) {}
}

/// A verified download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    /// Bytes taken from an earlier partial file in the attempt that succeeded.
    pub resumed_from: u64,
    /// Attempts made, the successful one included.
    pub attempts: u32,
}

/// Downloads a backup to `dest` via `<dest>.partial`, resuming, verifying and retrying with the
/// default [`RetryPolicy`]. `ticket` is called once per attempt, since transfer URLs expire.
/// An existing `dest` is an error unless `force`; with `force` it is replaced only once the
/// new file is verified.
pub async fn download<F, Fut>(
    client: &reqwest::Client,
    ticket: F,
    dest: &Path,
    force: bool,
    progress: &dyn TransferProgress,
) -> Result<Downloaded>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<DownloadTicket>>,
{
    download::run(
        client,
        ticket,
        dest,
        force,
        progress,
        &RetryPolicy::default(),
    )
    .await
}

/// [`download`] with an explicit retry policy (attempt count and backoff).
pub async fn download_with<F, Fut>(
    client: &reqwest::Client,
    ticket: F,
    dest: &Path,
    force: bool,
    progress: &dyn TransferProgress,
    policy: &RetryPolicy,
) -> Result<Downloaded>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<DownloadTicket>>,
{
    download::run(client, ticket, dest, force, progress, policy).await
}

/// Uploads `file` (`size` bytes, SHA-256 `sha256`) with a streamed PUT, reopening the file per
/// attempt. `ticket(attempt)` gives the ticket for attempt 0, 1, ...: attempt 0 uses the ticket
/// from `start_upload`, later ones renew the URL of the same backup, so a retry never creates
/// a second backup. Returns the backup, CREATED.
pub async fn upload<F, Fut>(
    client: &reqwest::Client,
    file: &Path,
    size: u64,
    sha256: &str,
    ticket: F,
    progress: &dyn TransferProgress,
) -> Result<Backup>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<UploadTicket>>,
{
    upload::run(
        client,
        file,
        size,
        sha256,
        ticket,
        progress,
        &RetryPolicy::default(),
    )
    .await
}

/// [`upload`] with an explicit retry policy.
pub async fn upload_with<F, Fut>(
    client: &reqwest::Client,
    file: &Path,
    size: u64,
    sha256: &str,
    ticket: F,
    progress: &dyn TransferProgress,
    policy: &RetryPolicy,
) -> Result<Backup>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<UploadTicket>>,
{
    upload::run(client, file, size, sha256, ticket, progress, policy).await
}

/// Size and lowercase hex SHA-256 of a file, read in large blocks on a blocking thread.
pub async fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let (size, hasher) = files::hash_file(path.to_path_buf()).await?;
    Ok((size, files::hex_digest(hasher)))
}

/// Size and SHA-256 of a file about to be sent: taken from its `FILE.sha256` while that still
/// matches the file's size and modification time (`backup:download` leaves one), so the file is
/// read once, by the upload; otherwise the file is hashed first. The platform checks the
/// checksum of what it receives either way.
pub async fn checksum_for_upload(path: &Path) -> Result<(u64, String)> {
    match checksum_file::recorded(path).await {
        Some(known) => Ok(known),
        None => sha256_file(path).await,
    }
}

/// Whether another attempt, with a fresh ticket, may succeed.
fn worth_retrying(error: &Error) -> bool {
    // An expired or voided transfer URL is cured by the fresh ticket the next attempt gets.
    error.is_retryable() || error.code() == Some(codes::TRANSFER_URL_INVALID)
}

/// Notes the attempt count on a final transfer error, so nobody retries by hand at once.
fn gave_up(error: Error, attempts: u32) -> Error {
    if attempts <= 1 {
        return error;
    }
    let note = format!(" (gave up after {attempts} attempts)");
    match error {
        Error::Transport { context, detail } => Error::Transport {
            context,
            detail: detail + &note,
        },
        Error::Transfer(mut transfer) => {
            transfer.attempts = attempts;
            Error::Transfer(transfer)
        }
        other => other,
    }
}

/// Keeps the progress sink consistent across attempts: `start` once, then `advance`, and
/// `restart` whenever an attempt begins below what was already reported.
struct Reporter<'a> {
    sink: &'a dyn TransferProgress,
    started: bool,
    position: u64,
}

impl<'a> Reporter<'a> {
    fn new(sink: &'a dyn TransferProgress) -> Self {
        Reporter {
            sink,
            started: false,
            position: 0,
        }
    }

    /// An attempt continues from byte `from`.
    fn at(&mut self, label: &str, total: u64, from: u64) {
        if !self.started {
            self.sink.start(label, total, from);
            self.started = true;
        } else if from < self.position {
            self.sink.restart();
            if from > 0 {
                self.sink.advance(from);
            }
        } else if from > self.position {
            self.sink.advance(from - self.position);
        }
        self.position = from;
    }

    fn advance(&mut self, bytes: u64) {
        if bytes > 0 {
            self.sink.advance(bytes);
            self.position += bytes;
        }
    }

    fn finish(&self) {
        if self.started {
            self.sink.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    pub(crate) struct Recorder(pub Mutex<Vec<String>>);

    impl TransferProgress for Recorder {
        fn start(&self, label: &str, total: u64, already: u64) {
            self.0
                .lock()
                .expect("lock")
                .push(format!("start {label} {total} {already}"));
        }
        fn advance(&self, bytes: u64) {
            self.0
                .lock()
                .expect("lock")
                .push(format!("advance {bytes}"));
        }
        fn restart(&self) {
            self.0.lock().expect("lock").push("restart".into());
        }
        fn finish(&self) {
            self.0.lock().expect("lock").push("finish".into());
        }
    }

    #[test]
    fn the_reporter_starts_once_and_restarts_when_an_attempt_goes_back() {
        let recorder = Recorder::default();
        let mut reporter = Reporter::new(&recorder);
        reporter.at("f", 100, 10);
        reporter.advance(20);
        reporter.at("f", 100, 30); // a resume from where the cut left off
        reporter.at("f", 100, 0); // a refused resume
        reporter.advance(5);
        reporter.at("f", 100, 40); // a resume from a longer partial than reported
        reporter.finish();
        let events = recorder.0.lock().expect("lock").clone();
        assert_eq!(
            events,
            vec![
                "start f 100 10",
                "advance 20",
                "restart",
                "advance 5",
                "advance 35",
                "finish"
            ]
        );
    }

    #[test]
    fn an_unstarted_reporter_does_not_finish() {
        let recorder = Recorder::default();
        Reporter::new(&recorder).finish();
        assert!(recorder.0.lock().expect("lock").is_empty());
    }

    #[test]
    fn final_errors_say_how_often_they_were_tried() {
        let error = Error::from(
            TransferFault::ChecksumMismatch {
                expected: "ab".into(),
                actual: "cd".into(),
            }
            .during("download of backup x"),
        );
        assert_eq!(
            gave_up(error, 3).to_string(),
            "download of backup x: checksum mismatch (expected ab…, got cd…); the partial file \
             was discarded (gave up after 3 attempts)"
        );
        let usage = Error::usage("bad");
        assert_eq!(gave_up(usage, 3).to_string(), "bad");
    }

    #[tokio::test]
    async fn sha256_file_hashes_in_blocks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        // Longer than one block, and not a multiple of it.
        let data: Vec<u8> = (0..2_600_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).expect("write");
        let (size, sha) = sha256_file(&path).await.expect("hash");
        assert_eq!(size, 2_600_000);
        use sha2::Digest;
        assert_eq!(sha, hex::encode(sha2::Sha256::digest(&data)));

        let missing = sha256_file(&dir.path().join("nope"))
            .await
            .expect_err("missing");
        assert!(missing.to_string().contains("nope"), "{missing}");
    }

    #[tokio::test]
    async fn uploads_take_a_matching_checksum_file_and_hash_without_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").expect("write");
        use sha2::Digest;
        let real = hex::encode(sha2::Sha256::digest(b"abc"));
        assert_eq!(
            checksum_for_upload(&path).await.expect("hashed"),
            (3, real.clone())
        );
        // A recorded checksum is taken as it is: the file is not read (this one is not its hash).
        let recorded = "ab".repeat(32);
        checksum_file::record(&path, &recorded)
            .await
            .expect("record");
        assert_eq!(
            checksum_for_upload(&path).await.expect("recorded"),
            (3, recorded)
        );
        // The file grew: the record is stale and the file is hashed again.
        std::fs::write(&path, b"abcd").expect("write");
        let grown = hex::encode(sha2::Sha256::digest(b"abcd"));
        assert_eq!(
            checksum_for_upload(&path).await.expect("hashed"),
            (4, grown)
        );
    }
}
