//! The sandbox harness: a real sandbox served in-process on 127.0.0.1:0 from a temp dir, with the
//! PostgreSQL cluster its services use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use setops_migrate::api::{Faults, LiveWrites, paths};
use setops_migrate::model::ServiceType;
use setops_migrate::sandbox::{self, EngineConfig, PostgresCluster, Running, SpawnConfig};

use super::cmd::Cmd;

/// The PostgreSQL major versions the sandbox emulates (postgresql11, postgresql13).
pub const POSTGRES_MAJORS: [u32; 2] = [11, 13];

/// `--postgres-url` for test sandboxes: one scratch cluster per emulated major version and test
/// binary (`11=URL 13=URL`), each on a real server of that version, shared by every sandbox the
/// binary starts (each sandbox's services get databases and roles of their own in it), so no
/// test pays for an initdb. The test fails, never skips, when a version is not installed.
pub fn postgres_url() -> String {
    POSTGRES_MAJORS
        .iter()
        .map(|major| format!("{major}={}", scratch_cluster(*major).admin_url()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The test binary's cluster of one PostgreSQL major version.
pub fn scratch_cluster(major: u32) -> &'static PostgresCluster {
    type Clusters = std::sync::Mutex<BTreeMap<u32, &'static PostgresCluster>>;
    static CLUSTERS: Clusters = std::sync::Mutex::new(BTreeMap::new());
    let mut clusters = CLUSTERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    clusters
        .entry(major)
        .or_insert_with(|| match PostgresCluster::start_scratch(major) {
            Ok(c) => Box::leak(Box::new(c)),
            Err(e) => panic!(
                "this test needs PostgreSQL {major}: {e}\nscripts/test installs every emulated \
                 version (scripts/install-servers), and the PostgreSQL client with \
                 `apt-get install postgresql-client`"
            ),
        })
}

/// The environment a command that starts a sandbox gets: the shared clusters, the servers
/// directory (HOME is a temp dir in tests), and exact versions, so no test runs on a stand-in.
pub fn sandbox_env() -> Vec<(&'static str, String)> {
    let mut env = vec![
        (sandbox::POSTGRES_URL_ENV, postgres_url()),
        (sandbox::servers::EXACT_VERSIONS_ENV, "1".to_owned()),
    ];
    if let Some(dir) = sandbox::servers::servers_dir() {
        env.push((
            sandbox::servers::SERVERS_DIR_ENV,
            dir.to_string_lossy().into_owned(),
        ));
    }
    env
}

pub struct TestSandbox {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub token: String,
    seed: Option<PathBuf>,
    /// Live apps on (`sandbox serve --live-apps`), again after a restart.
    live: bool,
    /// Drives the server; tests themselves are synchronous.
    runtime: tokio::runtime::Runtime,
    running: Option<Running>,
}

impl TestSandbox {
    /// The demo world, served until the value is dropped.
    pub fn start() -> TestSandbox {
        Self::start_with_seed(None)
    }

    pub fn start_with_seed(seed: Option<&Path>) -> TestSandbox {
        Self::start_with(seed, false)
    }

    /// The demo world with live apps: each app with a running container writes to the services
    /// it links (`sandbox serve --live-apps`).
    pub fn start_live() -> TestSandbox {
        Self::start_with(None, true)
    }

    fn start_with(seed: Option<&Path>, live: bool) -> TestSandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let seed = seed.map(Path::to_path_buf);
        let running = serve(&runtime, dir.path(), seed.clone(), live);
        for t in [ServiceType::Postgresql13, ServiceType::Redis6] {
            if let Some(reason) = running.sandbox().engine_unavailable(t) {
                panic!("this test needs the sandbox's {t} engine: {reason}");
            }
        }
        TestSandbox {
            dir,
            url: running.url.clone(),
            token: running.token.clone(),
            seed,
            live,
            runtime,
            running: Some(running),
        }
    }

    /// Stops the server (gracefully, waiting for it) and serves the same directory again on a
    /// new port, as a restarted platform would be; `url` changes, the token stays.
    pub fn restart(&mut self) {
        let old = self.url.clone();
        // The system may hand out the freed port again; a restart must land elsewhere.
        for _ in 0..5 {
            self.stop();
            let running = serve(&self.runtime, self.dir.path(), self.seed.clone(), self.live);
            self.url = running.url.clone();
            self.token = running.token.clone();
            self.running = Some(running);
            if self.url != old {
                return;
            }
        }
    }

    fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            self.runtime
                .block_on(running.stop())
                .expect("sandbox stops");
        }
    }

    pub fn user_token(&self, user: &str) -> String {
        sandbox::read_token(&sandbox::user_token_path(self.dir.path(), user)).expect("user token")
    }

    pub fn data_dir(&self, service: &str) -> PathBuf {
        self.dir
            .path()
            .join("data")
            .join("shop")
            .join("production")
            .join(service)
    }

    /// What the live apps wrote so far, per app and service.
    pub fn live_writes(&self) -> LiveWrites {
        reqwest::blocking::Client::new()
            .get(format!("{}{}", self.url, paths::sandbox_live_writes()))
            .bearer_auth(&self.token)
            .send()
            .expect("live-writes request")
            .error_for_status()
            .expect("live-writes answers")
            .json()
            .expect("live-writes JSON")
    }

    /// Confirmed writes of `app` to `service` (0 before the first).
    pub fn live_count(&self, app: &str, service: &str) -> u64 {
        self.live_writes()
            .writers
            .iter()
            .find(|w| w.app == app && w.service == service)
            .map_or(0, |w| w.writes)
    }

    /// The scale `app` of shop/production is set to, as committed.
    pub fn app_scale(&self, app: &str) -> u64 {
        let scope = setops_migrate::model::Scope {
            project: "shop".into(),
            stage: "production".into(),
        };
        let info: Value = reqwest::blocking::Client::new()
            .get(format!("{}{}", self.url, paths::app(&scope, app)))
            .bearer_auth(&self.token)
            .send()
            .expect("app request")
            .error_for_status()
            .expect("app answers")
            .json()
            .expect("app JSON");
        info["scale"].as_u64().expect("the app shows its scale")
    }

    /// The commits of the sandbox's world so far, oldest first, as its state file keeps them.
    pub fn commits(&self) -> Vec<Value> {
        let state: Value = serde_json::from_slice(
            &std::fs::read(self.dir.path().join("state.json")).expect("state.json"),
        )
        .expect("state JSON");
        let mut commits: Vec<Value> = state["commits"]
            .as_object()
            .expect("commits")
            .values()
            .cloned()
            .collect();
        commits.sort_by_key(|c| c["started_at"].as_str().unwrap_or_default().to_owned());
        commits
    }

    pub fn faults(&self, faults: &Faults) {
        let client = reqwest::blocking::Client::new();
        let resp = client
            .put(format!("{}{}", self.url, paths::sandbox_faults()))
            .bearer_auth(&self.token)
            .json(faults)
            .send()
            .expect("faults request");
        assert!(resp.status().is_success(), "faults: {}", resp.status());
    }

    /// A command against this sandbox, scoped to shop/production.
    pub fn cmd(&self) -> Cmd {
        Cmd::new()
            .env("SETOPS_API_URL", &self.url)
            .env("SETOPS_TOKEN", &self.token)
            .args(["-p", "shop", "-s", "production"])
    }

    /// Makes the world one CLI 2.x can show: stage definitions have no backup schedule, so the
    /// sources' schedules are removed (and committed) before a 2.x run.
    pub fn fit_for_cli(&self, version: &str, sources: &[&str]) {
        if !version.starts_with("2.") {
            return;
        }
        for source in sources {
            self.setops("1.4.1")
                .args(["--service", source, "backup:unschedule"])
                .expect(0)
                .any_stdout()
                .run();
        }
        self.setops("1.4.1")
            .args(["--output", "plain", "changeset:commit"])
            .expect(0)
            .any_stdout()
            .any_stderr()
            .run();
    }

    /// The sandbox's `setops` front (this binary linked as `DIR/bin/setops`), answering as
    /// CLI `version`.
    pub fn setops(&self, version: &str) -> Cmd {
        let bin = self.dir.path().join("bin");
        let link = bin.join("setops");
        if !link.exists() {
            std::fs::create_dir_all(&bin).expect("bin dir");
            std::os::unix::fs::symlink(super::cmd::BIN, &link).expect("setops link");
        }
        Cmd::new()
            .program(&link)
            .env(
                "SETOPS_SANDBOX_DIR",
                self.dir.path().to_str().expect("utf-8 dir"),
            )
            .env("SETOPS_SANDBOX_CLI_VERSION", version)
            .args(["-p", "shop", "-s", "production"])
    }

    /// The binary driving this sandbox through the setops CLI adapter and the sandbox's front,
    /// which answers as setops `version` (`1.4.1` or `2.3.4`).
    pub fn cli_cmd(&self, version: &str) -> Cmd {
        Cmd::new()
            .env("SETOPS_SANDBOX_CLI_VERSION", version)
            .arg("--sandbox")
            .arg(self.dir.path().to_str().expect("utf-8 temp dir"))
            .args(["--platform", "cli", "-p", "shop", "-s", "production"])
    }
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            // No panic while a failing test unwinds: its own message is the one that matters.
            let _ = self.runtime.block_on(running.stop());
        }
    }
}

fn serve(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    seed: Option<PathBuf>,
    live_apps: bool,
) -> Running {
    runtime
        .block_on(sandbox::spawn(SpawnConfig {
            seed,
            engine_config: EngineConfig {
                postgres_url: Some(postgres_url()),
                exact_versions: true,
            },
            live_apps,
            ..SpawnConfig::new(dir)
        }))
        .expect("sandbox opens")
}

impl TestSandbox {
    /// The speed knobs of the engine tests: quick commits, backups and restores.
    pub fn speed_up(&self) {
        self.faults(&Faults {
            commit_phase_ms: Some(20),
            restore_delay_ms: Some(50),
            backup_delay_ms: Some(50),
            task_delay_ms: Some(100),
            ..Faults::default()
        });
    }

    /// Runs `args -o json` against this sandbox; it must succeed and print one JSON document.
    pub fn json(&self, args: &[&str]) -> Value {
        self.cmd()
            .args(args)
            .args(["-o", "json"])
            .expect(0)
            .any_stdout()
            .run()
            .json()
    }

    pub fn services(&self) -> BTreeMap<String, Value> {
        let list = self.json(&["service"]);
        list.as_array()
            .expect("service list")
            .iter()
            .map(|s| (s["name"].as_str().expect("name").to_owned(), s.clone()))
            .collect()
    }

    pub fn backups(&self, service: &str) -> Vec<Value> {
        self.json(&["--service", service, "backup"])
            .as_array()
            .expect("backup list")
            .clone()
    }

    pub fn app_links(&self, app: &str) -> Vec<Value> {
        self.json(&["--app", app, "link"])
            .as_array()
            .expect("link list")
            .clone()
    }
}

/// Waits up to 30 s for `check` to hold, looking every 100 ms; panics naming `what`.
#[track_caller]
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
