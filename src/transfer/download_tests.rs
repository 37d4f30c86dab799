//! Download edge cases the sandbox cannot produce on demand, against a small real HTTP server
//! on 127.0.0.1:0 that honours Range/If-Range and misbehaves when told to: a complete partial
//! left by a crash (416), a partial from an earlier run, a wrong Content-Range, a body longer
//! than the backup, an expired URL.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use sha2::Digest;
use uuid::Uuid;

use super::resume::Sidecar;
use super::*;
use crate::model::{BackupOrigin, BackupStatus};

const ETAG: &str = "\"v1\"";

#[derive(Default, Clone, Copy)]
struct Misbehave {
    wrong_range: bool,
    extra_bytes: bool,
    /// Answers 403 TransferUrlInvalid this many times.
    expired: u32,
}

struct Server {
    data: Vec<u8>,
    misbehave: Mutex<Misbehave>,
    ranges: Mutex<Vec<Option<String>>>,
}

async fn serve_file(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    let range = headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    server.ranges.lock().expect("lock").push(range.clone());
    let mut m = server.misbehave.lock().expect("lock");
    if m.expired > 0 {
        m.expired -= 1;
        let body = r#"{"type":"AuthenticationError","code":"TransferUrlInvalid","temporary":false,"request_id":"x"}"#;
        return (StatusCode::FORBIDDEN, body).into_response();
    }
    let len = server.data.len();
    let pinned = headers.get("if-range").and_then(|v| v.to_str().ok()) == Some(ETAG);
    let from = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    match from {
        Some(from) if pinned && from >= len => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            [("content-range", format!("bytes */{len}"))],
        )
            .into_response(),
        Some(from) if pinned => {
            let shown_from = if m.wrong_range { 0 } else { from };
            (
                StatusCode::PARTIAL_CONTENT,
                [
                    ("etag", ETAG.to_owned()),
                    (
                        "content-range",
                        format!("bytes {shown_from}-{}/{len}", len - 1),
                    ),
                ],
                server.data[from..].to_vec(),
            )
                .into_response()
        }
        _ => {
            let mut body = server.data.clone();
            if m.extra_bytes {
                body.extend_from_slice(b"trailing junk");
            }
            (StatusCode::OK, [("etag", ETAG)], Body::from(body)).into_response()
        }
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    server: Arc<Server>,
    ticket: DownloadTicket,
}

async fn fixture() -> Fixture {
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 253) as u8).collect();
    let sha256 = hex::encode(sha2::Sha256::digest(&data));
    let server = Arc::new(Server {
        data,
        misbehave: Mutex::new(Misbehave::default()),
        ranges: Mutex::new(Vec::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new()
        .route("/transfer/{token}", get(serve_file))
        .with_state(server.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let size = server.data.len() as u64;
    let ticket = DownloadTicket {
        backup: Backup {
            id: Uuid::new_v4(),
            service: "files".into(),
            status: BackupStatus::Created,
            created_at: Utc::now(),
            size: Some(size),
            sha256: Some(sha256.clone()),
            shown_size: None,
            origin: BackupOrigin::Manual,
            last_restore: None,
            restore_count: 0,
        },
        url: format!("http://{addr}/transfer/SeCrEtToKeN"),
        expires_at: Some(Utc::now()),
        filename: "backup.tar.gz".into(),
        size,
        sha256: Some(sha256),
    };
    Fixture {
        dir: tempfile::tempdir().expect("tempdir"),
        server,
        ticket,
    }
}

impl Fixture {
    fn dest(&self) -> PathBuf {
        self.dir.path().join("backup.tar.gz")
    }

    fn misbehave(&self, m: Misbehave) {
        *self.server.misbehave.lock().expect("lock") = m;
    }

    fn ranges(&self) -> Vec<Option<String>> {
        self.server.ranges.lock().expect("lock").clone()
    }

    /// Leaves what a crashed earlier run would: the first `len` bytes and a sidecar.
    async fn leave_partial(&self, len: usize) {
        let dest = self.dest();
        std::fs::write(
            files::with_suffix(&dest, ".partial"),
            &self.server.data[..len],
        )
        .expect("write partial");
        Sidecar::for_ticket(&self.ticket, Some(ETAG.into()))
            .save(&files::with_suffix(&dest, ".partial.json"))
            .await
            .expect("sidecar");
    }

    async fn download(&self, attempts: u32) -> Result<Downloaded> {
        let policy = RetryPolicy {
            max_attempts: attempts,
            base_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_millis(5),
        };
        let ticket = self.ticket.clone();
        download_with(
            &reqwest::Client::new(),
            || {
                let ticket = ticket.clone();
                async move { Ok(ticket) }
            },
            &self.dest(),
            false,
            &NoProgress,
            &policy,
        )
        .await
    }

    fn assert_complete(&self, downloaded: &Downloaded) {
        assert_eq!(
            std::fs::read(&downloaded.path).expect("read"),
            self.server.data
        );
        assert!(!files::with_suffix(&self.dest(), ".partial").exists());
        assert!(!files::with_suffix(&self.dest(), ".partial.json").exists());
    }
}

#[tokio::test]
async fn a_partial_from_an_earlier_run_is_resumed_with_if_range() {
    let f = fixture().await;
    f.leave_partial(100_000).await;
    let downloaded = f.download(1).await.expect("resumed");
    assert_eq!(downloaded.resumed_from, 100_000);
    assert_eq!(f.ranges(), vec![Some("bytes=100000-".to_owned())]);
    f.assert_complete(&downloaded);
}

#[tokio::test]
async fn a_complete_partial_is_only_verified() {
    let f = fixture().await;
    f.leave_partial(f.server.data.len()).await;
    let downloaded = f.download(1).await.expect("verified");
    assert_eq!(downloaded.resumed_from, f.ticket.size);
    f.assert_complete(&downloaded);
}

#[tokio::test]
async fn a_partial_without_its_sidecar_is_not_trusted() {
    let f = fixture().await;
    std::fs::write(
        files::with_suffix(&f.dest(), ".partial"),
        b"whatever this is",
    )
    .expect("write");
    let downloaded = f.download(1).await.expect("fresh download");
    assert_eq!(downloaded.resumed_from, 0);
    assert_eq!(f.ranges(), vec![None]);
    f.assert_complete(&downloaded);
}

#[tokio::test]
async fn a_partial_for_another_backup_is_not_resumed() {
    let f = fixture().await;
    f.leave_partial(1000).await;
    let mut other = f.ticket.clone();
    other.backup.id = Uuid::new_v4();
    Sidecar::for_ticket(&other, Some(ETAG.into()))
        .save(&files::with_suffix(&f.dest(), ".partial.json"))
        .await
        .expect("sidecar");
    let downloaded = f.download(1).await.expect("fresh download");
    assert_eq!(downloaded.resumed_from, 0);
    f.assert_complete(&downloaded);
}

#[tokio::test]
async fn a_range_that_does_not_fit_the_partial_is_refused() {
    let f = fixture().await;
    f.leave_partial(1000).await;
    f.misbehave(Misbehave {
        wrong_range: true,
        ..Misbehave::default()
    });
    let error = f.download(1).await.expect_err("range refused");
    let text = error.to_string();
    assert!(text.contains("\"bytes 0-299999/300000\""), "{text}");
    assert!(!f.dest().exists());
    assert!(!files::with_suffix(&f.dest(), ".partial").exists());
    // The next attempt starts clean.
    let downloaded = f.download(2).await.expect("fresh download");
    assert_eq!(downloaded.resumed_from, 0);
    f.assert_complete(&downloaded);
}

#[tokio::test]
async fn a_body_longer_than_the_backup_is_discarded() {
    let f = fixture().await;
    f.misbehave(Misbehave {
        extra_bytes: true,
        ..Misbehave::default()
    });
    let error = f.download(2).await.expect_err("too long");
    let text = error.to_string();
    assert!(text.contains("more than the 300000 bytes"), "{text}");
    assert!(text.contains("gave up after 2 attempts"), "{text}");
    assert!(!text.contains("SeCrEtToKeN"), "{text}");
    assert!(!f.dest().exists());
    assert!(!files::with_suffix(&f.dest(), ".partial").exists());
}

#[tokio::test]
async fn an_expired_url_is_retried_with_a_fresh_ticket() {
    let f = fixture().await;
    f.misbehave(Misbehave {
        expired: 1,
        ..Misbehave::default()
    });
    let downloaded = f.download(2).await.expect("second ticket works");
    assert_eq!(downloaded.attempts, 2);
    f.assert_complete(&downloaded);

    f.misbehave(Misbehave {
        expired: 5,
        ..Misbehave::default()
    });
    std::fs::remove_file(f.dest()).expect("remove");
    let error = f.download(2).await.expect_err("always expired");
    assert_eq!(error.code(), Some("TransferUrlInvalid"));
    assert!(
        error.to_string().starts_with("download of backup "),
        "{error}"
    );
}
