//! End-to-end tests of the sandbox: a real server on 127.0.0.1:0 over a temp directory, driven
//! with reqwest. A small seed keeps each sandbox fast; one test covers the full demo world.

mod api;
mod backups;
mod changesets;
mod faults;
mod recovery;
mod transfer;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{
    EngineConfig, PostgresCluster, Running, Sandbox, SpawnConfig, read_token, spawn, token_path,
    user_token_path,
};
use crate::api::{Faults, paths};
use crate::model::{Backup, BackupStatus, Commit, CommitStatus, Scope, ServiceError};

pub(super) const TEST_SEED: &str = r#"
users:
  - {name: demo, default: true}
  - {name: ci}
projects:
  - name: shop
    stages:
      - name: production
        apps:
          - name: web
            links:
              - {service: files, path: /data}
              - {service: media, env_key: S3_DATA_URL}
          - name: worker
        services:
          - name: files
            type: volume
            backup_schedule: {hours: [3]}
            content: {seed: 1, files: 12, max_size: 4096, depth: 3}
            seed_backup: true
          - name: media
            type: s3
            options: {blockPublicAccess: "true"}
            content: {seed: 2, files: 5, max_size: 2048, depth: 2}
            seed_backup: true
          - name: scratch
            type: volume
          - name: database
            type: postgresql11
          - name: search
            type: elasticsearch7
            plan: t3.small.elasticsearch
      - name: staging
"#;

pub(super) struct TestServer {
    pub url: String,
    pub token: String,
    pub ci_token: String,
    pub client: reqwest::Client,
    pub sandbox: Sandbox,
    server: Running,
}

/// Engine settings for test sandboxes: one scratch PostgreSQL cluster per emulated major version
/// shared by every sandbox of the test binary (no initdb per test), and exact server versions.
/// Fails the test, never skips, when a version is not installed.
pub(crate) fn engine_config() -> EngineConfig {
    static URLS: std::sync::OnceLock<std::result::Result<String, String>> =
        std::sync::OnceLock::new();
    let urls = URLS.get_or_init(|| {
        [11, 13]
            .iter()
            .map(|major| {
                PostgresCluster::start_scratch(*major)
                    // Kept for the whole test binary: its server stops when the binary ends.
                    .map(|c| format!("{major}={}", Box::leak(Box::new(c)).admin_url()))
                    .map_err(|e| e.to_string())
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(|urls| urls.join(" "))
    });
    match urls {
        Ok(urls) => EngineConfig {
            postgres_url: Some(urls.clone()),
            exact_versions: true,
        },
        Err(e) => panic!(
            "these tests need PostgreSQL 11 and 13: {e}; scripts/test installs them \
             (scripts/install-servers)"
        ),
    }
}

pub(super) fn scope() -> Scope {
    Scope {
        project: "shop".into(),
        stage: "production".into(),
    }
}

pub(super) fn seed_file(dir: &Path) -> PathBuf {
    let path = dir.join("seed.yaml");
    std::fs::write(&path, TEST_SEED).expect("write seed");
    path
}

impl TestServer {
    /// A new sandbox in `dir/sb` seeded with the small test world, with fast delays.
    pub async fn start(dir: &Path) -> TestServer {
        let seed = seed_file(dir);
        let server = Self::open(&dir.join("sb"), Some(&seed)).await;
        server
            .faults(json!({"commit_phase_ms": 5, "backup_delay_ms": 0, "restore_delay_ms": 0}))
            .await;
        server
    }

    /// Opens (or reopens) the sandbox in `sb` without touching the fault knobs.
    pub async fn open(sb: &Path, seed: Option<&Path>) -> TestServer {
        let server = spawn(SpawnConfig {
            seed: seed.map(Path::to_path_buf),
            engine_config: engine_config(),
            ..SpawnConfig::new(sb)
        })
        .await
        .expect("open sandbox");
        TestServer {
            url: server.url.clone(),
            token: server.token.clone(),
            ci_token: read_token(&user_token_path(sb, "ci")).expect("ci token"),
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            sandbox: server.sandbox().clone(),
            server,
        }
    }

    /// Graceful shutdown: waiting background work stops, the state stays on disk.
    pub async fn stop(self) {
        self.server.stop().await.expect("serve");
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.url)
        };
        let mut req = self.client.request(method, url);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.call(Method::GET, path, Some(&self.token), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.call(Method::POST, path, Some(&self.token), Some(body))
            .await
    }

    pub async fn faults(&self, body: Value) -> Faults {
        let r = self
            .call(
                Method::PUT,
                &paths::sandbox_faults(),
                Some(&self.token),
                Some(body),
            )
            .await;
        expect_json(r, StatusCode::OK).await
    }

    pub async fn backups(&self, service: &str) -> Vec<Backup> {
        expect_json(
            self.get(&paths::backups(&scope(), service)).await,
            StatusCode::OK,
        )
        .await
    }

    pub async fn backup(&self, service: &str, id: &str) -> Backup {
        expect_json(
            self.get(&paths::backup(&scope(), service, id)).await,
            StatusCode::OK,
        )
        .await
    }

    /// Polls a backup until `done` holds (at most 10 s).
    pub async fn wait_backup(
        &self,
        service: &str,
        id: &str,
        done: impl Fn(&Backup) -> bool,
    ) -> Backup {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let b = self.backup(service, id).await;
            if done(&b) {
                return b;
            }
            assert!(
                Instant::now() < deadline,
                "backup {id} still {:?}",
                b.status
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn wait_created(&self, service: &str, id: &str) -> Backup {
        self.wait_backup(service, id, |b| b.status == BackupStatus::Created)
            .await
    }

    pub async fn stage_command(&self, token: &str, command: Value) -> reqwest::Response {
        self.call(
            Method::POST,
            &paths::changeset_commands(&scope()),
            Some(token),
            Some(command),
        )
        .await
    }

    /// Stages the commands as the default user, commits, and waits for the commit to end.
    pub async fn commit_all(&self, commands: &[Value]) -> Commit {
        for c in commands {
            let r = self.stage_command(&self.token, c.clone()).await;
            assert_eq!(
                r.status(),
                StatusCode::OK,
                "{}",
                r.text().await.unwrap_or_default()
            );
        }
        let r = self
            .post(&paths::changeset_commit(&scope()), json!({}))
            .await;
        let commit: Commit = expect_json(r, StatusCode::ACCEPTED).await;
        self.wait_commit(&self.token, &commit).await
    }

    pub async fn wait_commit(&self, token: &str, commit: &Commit) -> Commit {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = self
                .call(
                    Method::GET,
                    &paths::commit(&scope(), &commit.id),
                    Some(token),
                    None,
                )
                .await;
            let c: Commit = expect_json(r, StatusCode::OK).await;
            if c.status != CommitStatus::Running {
                return c;
            }
            assert!(Instant::now() < deadline, "commit still running: {c:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Where a service's data lives on disk.
    pub async fn data(&self, service: &str) -> PathBuf {
        self.sandbox
            .service_data_dir(&scope(), service)
            .await
            .expect("service with data")
    }
}

pub(super) async fn expect_json<T: DeserializeOwned>(
    r: reqwest::Response,
    status: StatusCode,
) -> T {
    let got = r.status();
    let text = r.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad body {text}: {e}"))
}

/// Asserts a ServiceError answer and returns it; every error carries the response's request id.
pub(super) async fn expect_error(
    r: reqwest::Response,
    status: StatusCode,
    code: &str,
) -> ServiceError {
    let header = r
        .headers()
        .get(crate::api::REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let e: ServiceError = expect_json(r, status).await;
    assert_eq!(e.code, code, "{e:?}");
    assert_eq!(
        Some(e.request_id.clone()),
        header,
        "body and header request ids differ"
    );
    assert_eq!(e.request_id.len(), 8);
    assert!(e.message.as_deref().is_some_and(|m| !m.is_empty()));
    e
}

pub(super) fn flat(e: &ServiceError) -> Vec<(String, String)> {
    crate::model::flatten_validation(e.validation_errors.as_ref().expect("validation tree"))
}
