//! The verify step end to end against an in-process sandbox (a real server on 127.0.0.1:0):
//! what is compared, what is said when something cannot be, what the journal keeps.

use crate::migrate::verify::VerifyError;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Instant;

use chrono::Utc;
use serde_json::Value;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::verify;
use crate::error::Error;
use crate::migrate::data::FileFacts;
use crate::migrate::engine::{Engine, RunOptions};
use crate::migrate::events::{Event, EventSink, Phase, Step};
use crate::migrate::journal::{Fact, Journal, MigrationStep, OpenRequest};
use crate::model::{Backup, BackupOrigin, BackupStatus, Scope};
use crate::plan::{BackupChoice, DEFAULT_WAIT_TIMEOUT, Migration, Plan, Relink};
use crate::platform::PlatformIdentity;
use crate::platform::http::HttpPlatform;
use crate::sandbox::{Running, SpawnConfig, spawn};
use crate::transfer::{NoProgress, TransferProgress};

/// Two volumes with the same generated files, one with other files, and a MongoDB (whose data
/// the sandbox cannot hand out).
const SEED: &str = r#"
users:
  - {name: demo, default: true}
projects:
  - name: shop
    stages:
      - name: production
        services:
          - name: files
            type: volume
            content: {seed: 7, files: 9, max_size: 3000, depth: 2}
          - name: same
            type: volume
            content: {seed: 7, files: 9, max_size: 3000, depth: 2}
          - name: other
            type: volume
            content: {seed: 8, files: 9, max_size: 3000, depth: 2}
          - name: docs
            type: mongodb4
            plan: db.t3.medium
"#;

#[derive(Default)]
struct Recorder(StdMutex<Vec<Event>>);

impl EventSink for Recorder {
    fn emit(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
    fn transfer(&self, _base: Event) -> Box<dyn TransferProgress> {
        Box::new(NoProgress)
    }
}

impl Recorder {
    fn last(&self) -> Event {
        self.0.lock().unwrap().last().cloned().expect("an event")
    }
}

struct World {
    _dir: tempfile::TempDir,
    state: std::path::PathBuf,
    platform: Arc<HttpPlatform>,
    _server: Running,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.yaml");
    std::fs::write(&seed, SEED).unwrap();
    let server = spawn(SpawnConfig {
        seed: Some(seed),
        ..SpawnConfig::new(dir.path().join("sb"))
    })
    .await
    .expect("open sandbox");
    World {
        state: dir.path().join("state"),
        platform: Arc::new(HttpPlatform::new(&server.url, server.token.clone()).unwrap()),
        _dir: dir,
        _server: server,
    }
}

fn migration(source: Option<&str>, target: &str) -> Migration {
    Migration {
        index: 0,
        source: source.map(str::to_owned),
        target: target.to_owned(),
        service_type: None,
        plan: None,
        options: Default::default(),
        backup: match source {
            Some(_) => BackupChoice::Latest,
            None => BackupChoice::File("files.tar.gz".into()),
        },
        wait_timeout: DEFAULT_WAIT_TIMEOUT,
        relink: Relink::None,
    }
}

fn engine(world: &World, m: &Migration, verify: bool, sink: Arc<Recorder>) -> Engine {
    let scope = Scope {
        project: "shop".into(),
        stage: "production".into(),
    };
    let plan = Plan {
        path: world.state.join(format!("{}.yaml", Uuid::new_v4())),
        content_hash: "0".repeat(64),
        scope: scope.clone(),
        migrations: vec![m.clone()],
        freeze: Vec::new(),
    };
    let journal = Journal::open(OpenRequest {
        state_dir: &world.state,
        plan: &plan,
        platform: PlatformIdentity::Sandbox {
            instance: "verify-test".into(),
        },
        endpoint: "test".into(),
        restart: false,
    })
    .unwrap();
    Engine {
        platform: world.platform.clone(),
        transfers: reqwest::Client::new(),
        plan,
        scope,
        journal: Mutex::new(journal),
        sink,
        run_id: "verifytest".into(),
        started: Instant::now(),
        artifacts: world.state.join("artifacts"),
        options: RunOptions {
            concurrency: 1,
            adopt_target: false,
            recreate_target: false,
            verify,
            accept_write_gap: false,
            scales: Default::default(),
            invocation: Default::default(),
        },
    }
}

/// An uploaded backup that matches the moved file unless `sha256` says otherwise.
const BACKUP: &str = "4be3f3b5-0000-4000-8000-000000000001";

fn pair(sha256: &str) -> (FileFacts, Backup) {
    let artifact = FileFacts {
        size: 1234,
        sha256: "ab".repeat(32),
    };
    let upload = Backup {
        id: Uuid::new_v4(),
        service: "target".into(),
        status: BackupStatus::Created,
        created_at: Utc::now(),
        size: Some(1234),
        sha256: Some(sha256.to_owned()),
        shown_size: None,
        origin: BackupOrigin::Upload,
        last_restore: None,
        restore_count: 1,
    };
    (artifact, upload)
}

async fn journaled(engine: &Engine, target: &str) -> Value {
    match engine.done_fact(&MigrationStep::Verify.of(target)).await {
        Some(Fact::Verified(v)) => serde_json::to_value(v).unwrap(),
        other => panic!("expected a done verify record, got {other:?}"),
    }
}

#[tokio::test]
async fn equal_directories_match_are_journaled_and_replayed() {
    let world = world().await;
    let m = migration(Some("files"), "same");
    let sink = Arc::new(Recorder::default());
    let engine = engine(&world, &m, true, sink.clone());
    let (artifact, upload) = pair(&"ab".repeat(32));
    verify(&engine, &m, Some(BACKUP), &artifact, &upload)
        .await
        .unwrap();
    let done = sink.last();
    assert_eq!((done.step, done.phase), (Some(Step::Verify), Phase::Done));
    let message = done.happening.to_string();
    assert!(
        message.starts_with("data matches: 9 files, ")
            && message.ends_with("; backup matches (size, SHA-256)"),
        "{message}"
    );
    let record = journaled(&engine, "same").await;
    assert_eq!(
        record["checked"],
        serde_json::json!(["size", "sha256", "data"])
    );
    assert_eq!(record["data"]["kind"], "directory");
    assert_eq!(record["data"]["source"]["files"], 9);
    assert!(
        !record.to_string().contains("file://"),
        "no connection URL in the journal: {record}"
    );

    verify(&engine, &m, Some(BACKUP), &artifact, &upload)
        .await
        .unwrap();
    assert_eq!(sink.last().phase, Phase::Replayed);
}

#[tokio::test]
async fn different_directories_fail_with_a_table_and_nothing_is_journaled() {
    let world = world().await;
    let m = migration(Some("files"), "other");
    let engine = engine(&world, &m, true, Arc::new(Recorder::default()));
    let (artifact, upload) = pair(&"ab".repeat(32));
    let error = verify(&engine, &m, Some(BACKUP), &artifact, &upload)
        .await
        .expect_err("the data differs");
    assert!(matches!(error, Error::DataDiffers(_)), "{error:?}");
    assert_eq!(error.exit_code(), crate::error::exit::VERIFICATION_FAILED);
    let text = error.to_string();
    assert!(
        text.starts_with("verification of files -> other failed"),
        "{text}"
    );
    assert!(
        text.contains("| tree SHA-256 (paths and contents)"),
        "{text}"
    );
    assert!(text.contains("--no-verify"), "{text}");
    assert!(!text.contains("file://"), "{text}");
    assert!(
        engine
            .done_fact(&MigrationStep::Verify.of("other"))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn what_was_not_compared_is_said_and_journaled_without_an_error() {
    let world = world().await;
    let cases = [
        (
            migration(Some("files"), "docs"),
            true,
            "no connection to the target docs",
        ),
        (
            migration(Some("files"), "other"),
            false,
            "--no-verify was given",
        ),
        (
            migration(None, "same"),
            true,
            "no source service to compare with",
        ),
    ];
    for (m, verify_data, reason) in cases {
        let sink = Arc::new(Recorder::default());
        let engine = engine(&world, &m, verify_data, sink.clone());
        let (artifact, upload) = pair(&"ab".repeat(32));
        verify(&engine, &m, Some(BACKUP), &artifact, &upload)
            .await
            .unwrap();
        let message = sink.last().happening.to_string();
        assert!(
            message.starts_with("backup matches (size, SHA-256); data not compared: ")
                && message.contains(reason),
            "{message}"
        );
        let record = journaled(&engine, &m.target).await;
        assert_eq!(record["checked"], serde_json::json!(["size", "sha256"]));
        assert!(
            record["data_not_compared"]
                .as_str()
                .unwrap()
                .contains(reason),
            "{record}"
        );
    }
}

#[tokio::test]
async fn a_backup_that_differs_fails_before_any_data_is_compared() {
    let world = world().await;
    let m = migration(Some("files"), "same");
    let sink = Arc::new(Recorder::default());
    let engine = engine(&world, &m, true, sink.clone());
    let (artifact, upload) = pair(&"cd".repeat(32));
    let error = verify(&engine, &m, Some(BACKUP), &artifact, &upload)
        .await
        .expect_err("sha differs");
    assert!(
        matches!(&error, Error::Verify(e) if matches!(**e, VerifyError::UploadDiffers { .. })),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("nothing was relinked"),
        "{error}"
    );
    assert!(
        sink.0.lock().unwrap().is_empty(),
        "no comparison was started"
    );
}

#[tokio::test]
async fn a_missing_source_service_is_an_error_not_a_skipped_check() {
    let world = world().await;
    let m = migration(Some("vanished"), "same");
    let engine = engine(&world, &m, true, Arc::new(Recorder::default()));
    let (artifact, upload) = pair(&"ab".repeat(32));
    let error = verify(&engine, &m, Some(BACKUP), &artifact, &upload)
        .await
        .expect_err("no such service");
    assert_eq!(
        error.code(),
        Some(crate::model::codes::SERVICE_DOES_NOT_EXIST)
    );
}
