//! Transfers and the HTTP adapter against the real sandbox, started in-process on 127.0.0.1:0:
//! resumed, refused, corrupt and short downloads, forced overwrites, and uploads that never
//! create a second backup.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use setops_migrate::api::{DownloadTicket, Faults, UploadRequest, paths};
use setops_migrate::error::Error;
use setops_migrate::model::{Backup, BackupOrigin, BackupStatus, Scope};
use setops_migrate::platform::http::{HttpPlatform, RetryPolicy};
use setops_migrate::platform::{Platform, TicketUploads};
use setops_migrate::sandbox::{self, Running, SpawnConfig};
use setops_migrate::transfer::{self, Downloaded, NoProgress, TransferProgress};

struct World {
    dir: tempfile::TempDir,
    base: String,
    token: String,
    platform: HttpPlatform,
    scope: Scope,
    _server: Running,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = sandbox::spawn(SpawnConfig::new(dir.path().join("sandbox")))
        .await
        .expect("sandbox opens");
    let (base, token) = (server.url.clone(), server.token.clone());
    let platform = HttpPlatform::new(&base, token.clone()).expect("platform");
    World {
        dir,
        base,
        token,
        platform,
        scope: Scope {
            project: "shop".into(),
            stage: "production".into(),
        },
        _server: server,
    }
}

impl World {
    async fn faults(&self, faults: Faults) {
        let response = self
            .platform
            .http_client()
            .put(format!("{}{}", self.base, paths::sandbox_faults()))
            .bearer_auth(&self.token)
            .json(&faults)
            .send()
            .await
            .expect("faults request");
        assert!(response.status().is_success(), "{}", response.status());
    }

    /// The demo world's CREATED backup of `files`.
    async fn files_backup(&self) -> Backup {
        let backups = self
            .platform
            .backups(&self.scope, "files")
            .await
            .expect("backups");
        backups
            .into_iter()
            .find(|b| b.status == BackupStatus::Created)
            .expect("the demo world has a CREATED backup of files")
    }

    async fn ticket(&self, backup: &Backup) -> DownloadTicket {
        self.platform
            .download_ticket(&self.scope, "files", &backup.id.to_string())
            .await
            .expect("ticket")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Downloads `backup` to `name` with a fast retry policy, counting ticket requests.
    async fn download(
        &self,
        backup: &Backup,
        name: &str,
        attempts: u32,
        progress: &dyn TransferProgress,
    ) -> (Result<Downloaded, Error>, u32) {
        let tickets = AtomicU32::new(0);
        let id = backup.id.to_string();
        let result = transfer::download_with(
            self.platform.http_client(),
            || {
                tickets.fetch_add(1, Ordering::SeqCst);
                self.platform.download_ticket(&self.scope, "files", &id)
            },
            &self.path(name),
            false,
            progress,
            &fast(attempts),
        )
        .await;
        (result, tickets.load(Ordering::SeqCst))
    }

    async fn clean_copy(&self, backup: &Backup) -> Vec<u8> {
        let (result, _) = self.download(backup, "clean", 1, &NoProgress).await;
        let downloaded = result.expect("clean download");
        assert_eq!(downloaded.resumed_from, 0);
        std::fs::read(downloaded.path).expect("read clean copy")
    }
}

fn fast(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

fn transfer_token(url: &str) -> String {
    url.rsplit_once("/transfer/")
        .map(|(_, token)| token.to_owned())
        .expect("a transfer URL")
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn events(&self) -> Vec<String> {
        self.0.lock().expect("lock").clone()
    }
}

impl TransferProgress for Recorder {
    fn start(&self, _label: &str, total: u64, already: u64) {
        self.0
            .lock()
            .expect("lock")
            .push(format!("start {total} {already}"));
    }
    fn advance(&self, _bytes: u64) {}
    fn restart(&self) {
        self.0.lock().expect("lock").push("restart".into());
    }
    fn finish(&self) {
        self.0.lock().expect("lock").push("finish".into());
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn leftovers(path: &Path) -> (bool, bool) {
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    let sidecar = PathBuf::from(format!("{}.partial.json", path.display()));
    (partial.exists(), sidecar.exists())
}

#[tokio::test]
async fn a_clean_download_is_verified_private_and_tidy() {
    let w = world().await;
    let backup = w.files_backup().await;
    let ticket = w.ticket(&backup).await;
    let recorder = Recorder::default();
    let (result, tickets) = w.download(&backup, "out", 3, &recorder).await;
    let downloaded = result.expect("download");
    assert_eq!(tickets, 1);
    assert_eq!(downloaded.attempts, 1);
    assert_eq!(downloaded.size, ticket.size);
    assert_eq!(Some(downloaded.sha256), ticket.sha256);
    let (size, sha) = transfer::sha256_file(&downloaded.path).await.expect("hash");
    assert_eq!((size, Some(sha)), (ticket.size, ticket.sha256.clone()));
    assert_eq!(mode(&downloaded.path), 0o600);
    assert_eq!(leftovers(&downloaded.path), (false, false));
    assert_eq!(
        recorder.events(),
        vec![format!("start {} 0", ticket.size), "finish".to_owned()]
    );
}

#[tokio::test]
async fn a_cut_download_resumes_from_its_partial_file() {
    let w = world().await;
    let backup = w.files_backup().await;
    let clean = w.clean_copy(&backup).await;
    w.faults(Faults {
        cut_download_after: Some(clean.len() as u64 / 3),
        cut_download_next: Some(1),
        ..Faults::default()
    })
    .await;
    let recorder = Recorder::default();
    let (result, tickets) = w.download(&backup, "out", 3, &recorder).await;
    let downloaded = result.expect("download resumes");
    assert_eq!(downloaded.attempts, 2);
    assert_eq!(tickets, 2, "every attempt asks for a fresh URL");
    assert!(downloaded.resumed_from > 0, "{downloaded:?}");
    assert!(downloaded.resumed_from <= clean.len() as u64 / 3);
    assert_eq!(std::fs::read(&downloaded.path).expect("read"), clean);
    assert!(!recorder.events().contains(&"restart".to_owned()));
}

#[tokio::test]
async fn a_server_that_ignores_range_restarts_from_zero() {
    let w = world().await;
    let backup = w.files_backup().await;
    let clean = w.clean_copy(&backup).await;
    w.faults(Faults {
        cut_download_after: Some(clean.len() as u64 / 2),
        cut_download_next: Some(1),
        ignore_range: Some(true),
        ..Faults::default()
    })
    .await;
    let recorder = Recorder::default();
    let (result, _) = w.download(&backup, "out", 3, &recorder).await;
    let downloaded = result.expect("download restarts");
    assert_eq!(downloaded.attempts, 2);
    assert_eq!(downloaded.resumed_from, 0);
    assert_eq!(std::fs::read(&downloaded.path).expect("read"), clean);
    assert!(recorder.events().contains(&"restart".to_owned()));
}

#[tokio::test]
async fn a_changed_etag_restarts_from_zero() {
    let w = world().await;
    let backup = w.files_backup().await;
    let clean = w.clean_copy(&backup).await;
    w.faults(Faults {
        cut_download_after: Some(clean.len() as u64 / 2),
        cut_download_next: Some(1),
        rotate_etag: Some(true),
        ..Faults::default()
    })
    .await;
    let (result, _) = w.download(&backup, "out", 4, &NoProgress).await;
    let downloaded = result.expect("download restarts");
    assert_eq!(downloaded.resumed_from, 0);
    assert!(downloaded.attempts >= 2);
    assert_eq!(std::fs::read(&downloaded.path).expect("read"), clean);
}

#[tokio::test]
async fn a_corrupt_body_is_never_promoted() {
    let w = world().await;
    let backup = w.files_backup().await;
    let clean = w.clean_copy(&backup).await;
    let token = transfer_token(&w.ticket(&backup).await.url);

    w.faults(Faults {
        corrupt_download_next: Some(2),
        ..Faults::default()
    })
    .await;
    let (result, tickets) = w.download(&backup, "bad", 2, &NoProgress).await;
    let error = result.expect_err("every attempt is corrupt");
    assert_eq!(tickets, 2);
    let text = error.to_string();
    assert!(matches!(error, Error::Transfer { .. }), "{error:?}");
    assert!(text.contains("checksum mismatch"), "{text}");
    assert!(text.contains("gave up after 2 attempts"), "{text}");
    assert!(!text.contains(&token), "{text}");
    assert!(!w.path("bad").exists());
    assert_eq!(leftovers(&w.path("bad")), (false, false));

    w.faults(Faults {
        corrupt_download_next: Some(1),
        ..Faults::default()
    })
    .await;
    let (result, _) = w.download(&backup, "good", 3, &NoProgress).await;
    let downloaded = result.expect("second attempt is clean");
    assert_eq!(downloaded.attempts, 2);
    assert_eq!(std::fs::read(&downloaded.path).expect("read"), clean);
}

#[tokio::test]
async fn a_short_body_is_never_promoted() {
    let w = world().await;
    let backup = w.files_backup().await;
    let clean = w.clean_copy(&backup).await;

    w.faults(Faults {
        short_download_next: Some(2),
        ..Faults::default()
    })
    .await;
    let (result, _) = w.download(&backup, "bad", 2, &NoProgress).await;
    let error = result.expect_err("every attempt is short");
    assert!(error.is_retryable(), "{error:?}");
    assert!(!w.path("bad").exists());

    w.faults(Faults {
        short_download_next: Some(1),
        ..Faults::default()
    })
    .await;
    let (result, _) = w.download(&backup, "good", 3, &NoProgress).await;
    let downloaded = result.expect("a later attempt completes");
    assert!(downloaded.attempts >= 2);
    assert_eq!(std::fs::read(&downloaded.path).expect("read"), clean);
    assert_eq!(leftovers(&downloaded.path), (false, false));
}

#[tokio::test]
async fn an_existing_file_needs_force_and_is_replaced_only_when_verified() {
    let w = world().await;
    let backup = w.files_backup().await;
    let dest = w.path("existing");
    std::fs::write(&dest, b"keep me").expect("write");

    let tickets = AtomicU32::new(0);
    let error = transfer::download(
        w.platform.http_client(),
        || {
            tickets.fetch_add(1, Ordering::SeqCst);
            async { Err::<DownloadTicket, _>(Error::Internal("must not be called".into())) }
        },
        &dest,
        false,
        &NoProgress,
    )
    .await
    .expect_err("exists");
    assert!(matches!(error, Error::Usage(_)), "{error:?}");
    assert!(error.to_string().contains("-f/--force"), "{error}");
    assert_eq!(
        tickets.load(Ordering::SeqCst),
        0,
        "no network before the check"
    );
    assert_eq!(std::fs::read(&dest).expect("read"), b"keep me");

    // With force, a failed download leaves the old file alone.
    w.faults(Faults {
        corrupt_download_next: Some(1),
        ..Faults::default()
    })
    .await;
    let id = backup.id.to_string();
    let failed = transfer::download_with(
        w.platform.http_client(),
        || w.platform.download_ticket(&w.scope, "files", &id),
        &dest,
        true,
        &NoProgress,
        &fast(1),
    )
    .await;
    assert!(failed.is_err());
    assert_eq!(std::fs::read(&dest).expect("read"), b"keep me");

    let downloaded = transfer::download_with(
        w.platform.http_client(),
        || w.platform.download_ticket(&w.scope, "files", &id),
        &dest,
        true,
        &NoProgress,
        &fast(1),
    )
    .await
    .expect("forced download");
    assert_eq!(Some(downloaded.sha256), w.ticket(&backup).await.sha256);
    assert_eq!(mode(&dest), 0o600);
}

async fn uploaded_backups(w: &World) -> Vec<Backup> {
    w.platform
        .backups(&w.scope, "scratch")
        .await
        .expect("backups of scratch")
        .into_iter()
        .filter(|b| b.origin == BackupOrigin::Upload)
        .collect()
}

#[tokio::test]
async fn an_upload_round_trip_keeps_the_checksum() {
    let w = world().await;
    let backup = w.files_backup().await;
    let (result, _) = w.download(&backup, "files.tar.gz", 1, &NoProgress).await;
    let downloaded = result.expect("download");
    let before = uploaded_backups(&w).await.len();

    let request = UploadRequest {
        filename: "files.tar.gz".into(),
        size: downloaded.size,
        sha256: downloaded.sha256.clone(),
    };
    let first = w
        .platform
        .start_upload(&w.scope, "scratch", &request)
        .await
        .expect("upload allocated");
    let mut first = Some(first);
    let tickets = AtomicU32::new(0);
    let recorder = Recorder::default();
    let created = transfer::upload_with(
        w.platform.http_client(),
        &downloaded.path,
        downloaded.size,
        &downloaded.sha256,
        |_attempt| {
            tickets.fetch_add(1, Ordering::SeqCst);
            let ready = first.take();
            async move { ready.ok_or_else(|| Error::Internal("one ticket only".into())) }
        },
        &recorder,
        &fast(3),
    )
    .await
    .expect("upload");
    assert_eq!(tickets.load(Ordering::SeqCst), 1);
    assert_eq!(created.status, BackupStatus::Created);
    assert_eq!(created.sha256.as_deref(), Some(downloaded.sha256.as_str()));
    assert_eq!(created.size, Some(downloaded.size));
    assert_eq!(uploaded_backups(&w).await.len(), before + 1);
    assert_eq!(
        recorder.events(),
        vec![format!("start {} 0", downloaded.size), "finish".to_owned()]
    );
}

#[tokio::test]
async fn bytes_that_miss_the_checksum_are_refused_and_the_retry_reuses_the_backup() {
    let w = world().await;
    let backup = w.files_backup().await;
    let (result, _) = w.download(&backup, "files.tar.gz", 1, &NoProgress).await;
    let downloaded = result.expect("download");
    let before = uploaded_backups(&w).await.len();

    // Same size, one byte different: the server can only tell once it has read the body.
    let mut damaged = std::fs::read(&downloaded.path).expect("read");
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    let damaged_path = w.path("damaged.tar.gz");
    std::fs::write(&damaged_path, &damaged).expect("write");

    let request = UploadRequest {
        filename: "files.tar.gz".into(),
        size: downloaded.size,
        sha256: downloaded.sha256.clone(),
    };
    let ticket = w
        .platform
        .start_upload(&w.scope, "scratch", &request)
        .await
        .expect("upload allocated");
    let id = ticket.backup.id;
    let upload_token = transfer_token(&ticket.url);
    let mut first = Some(ticket);
    let tickets = AtomicU32::new(0);
    let error = transfer::upload_with(
        w.platform.http_client(),
        &damaged_path,
        downloaded.size,
        &downloaded.sha256,
        |_attempt| {
            tickets.fetch_add(1, Ordering::SeqCst);
            let ready = first.take();
            async move { ready.ok_or_else(|| Error::Internal("one ticket only".into())) }
        },
        &NoProgress,
        &fast(3),
    )
    .await
    .expect_err("checksum refused");
    assert_eq!(error.code(), Some("UploadInvalid"), "{error:?}");
    assert_eq!(
        tickets.load(Ordering::SeqCst),
        1,
        "UploadInvalid is not retried"
    );
    assert!(!error.to_string().contains(&upload_token), "{error}");

    // The retry renews the URL of the same backup instead of allocating another one.
    let backup_id = id.to_string();
    let created = transfer::upload_with(
        w.platform.http_client(),
        &downloaded.path,
        downloaded.size,
        &downloaded.sha256,
        |_attempt| w.platform.renew_upload(&w.scope, "scratch", &backup_id),
        &NoProgress,
        &fast(3),
    )
    .await
    .expect("retry with the right bytes");
    assert_eq!(created.id, id);
    assert_eq!(created.status, BackupStatus::Created);
    assert_eq!(created.sha256.as_deref(), Some(downloaded.sha256.as_str()));
    let uploads = uploaded_backups(&w).await;
    assert_eq!(uploads.len(), before + 1, "{uploads:?}");
}

#[tokio::test]
async fn the_http_adapter_retries_overload_and_maps_missing_things() {
    let w = world().await;
    let platform = HttpPlatform::new(&w.base, w.token.clone())
        .expect("platform")
        .with_retry(fast(4));
    w.faults(Faults {
        overload_next: Some(2),
        ..Faults::default()
    })
    .await;
    let service = platform
        .service(&w.scope, "files")
        .await
        .expect("the third try gets through");
    assert_eq!(service.name, "files");

    assert_eq!(
        platform.changeset(&w.scope).await.expect("no changeset"),
        None
    );
    assert!(
        !platform
            .discard_changeset(&w.scope)
            .await
            .expect("nothing to discard")
    );

    let error = platform
        .service(&w.scope, "nope")
        .await
        .expect_err("no such service");
    assert_eq!(error.code(), Some("ServiceDoesNotExist"));
    let text = error.to_string();
    assert!(
        text.starts_with("reading service \"nope\" in shop/production: ServiceDoesNotExist"),
        "{text}"
    );

    let bad_token = HttpPlatform::new(&w.base, "0".repeat(64)).expect("platform");
    let error = bad_token.whoami().await.expect_err("unknown token");
    assert_eq!(error.code(), Some("SessionInvalid"));
    assert!(!error.to_string().contains(&"0".repeat(64)));
}
