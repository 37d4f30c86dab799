//! Test harness: a real sandbox served in-process on 127.0.0.1:0 from a temp dir, and a builder
//! that runs the real binary in a temp working directory with a clean environment and checks
//! stdout, stderr and the exit code together.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use setops_migrate::api::{Faults, paths};
use setops_migrate::model::ServiceType;
use setops_migrate::sandbox::{
    self, EngineConfig, POSTGRES_URL_ENV, PostgresCluster, Running, SpawnConfig,
};

pub mod oracle;

pub const BIN: &str = env!("CARGO_BIN_EXE_setops-migrate");

/// The superuser URL of one PostgreSQL cluster per test binary, shared by every sandbox the
/// binary starts (each sandbox's services get databases and roles of their own in it), so no
/// test pays for an initdb. The test fails, never skips, when PostgreSQL is not installed.
pub fn postgres_url() -> String {
    static CLUSTER: std::sync::OnceLock<Result<PostgresCluster, sandbox::Error>> =
        std::sync::OnceLock::new();
    let cluster = CLUSTER.get_or_init(PostgresCluster::start_scratch);
    match cluster {
        Ok(c) => c.admin_url().to_owned(),
        Err(e) => panic!(
            "this test needs PostgreSQL: {e}\nInstall it with `apt-get install postgresql \
             postgresql-client` (scripts/test does when it is missing)"
        ),
    }
}

/// Whether a command starts a sandbox of its own (which then uses the shared cluster).
fn starts_sandbox(args: &[String]) -> bool {
    args.iter()
        .any(|a| a == "--sandbox" || a == "demo" || a == "serve")
}

pub struct TestSandbox {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub token: String,
    seed: Option<PathBuf>,
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
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let seed = seed.map(Path::to_path_buf);
        let running = serve(&runtime, dir.path(), seed.clone());
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
            runtime,
            running: Some(running),
        }
    }

    /// Stops the server (gracefully, waiting for it) and serves the same directory again on a
    /// new port, as a restarted platform would be; `url` changes, the token stays.
    pub fn restart(&mut self) {
        self.stop();
        let running = serve(&self.runtime, self.dir.path(), self.seed.clone());
        self.url = running.url.clone();
        self.token = running.token.clone();
        self.running = Some(running);
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
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            // No panic while a failing test unwinds: its own message is the one that matters.
            let _ = self.runtime.block_on(running.stop());
        }
    }
}

fn serve(runtime: &tokio::runtime::Runtime, dir: &Path, seed: Option<PathBuf>) -> Running {
    runtime
        .block_on(sandbox::spawn(SpawnConfig {
            seed,
            engine_config: EngineConfig {
                postgres_url: Some(postgres_url()),
            },
            ..SpawnConfig::new(dir)
        }))
        .expect("sandbox opens")
}

pub struct Cmd {
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
    stdin: Option<String>,
}

pub struct Ran {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Cmd {
    pub fn new() -> Cmd {
        Cmd {
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            stdin: None,
        }
    }

    pub fn arg(mut self, a: impl AsRef<str>) -> Cmd {
        self.args.push(a.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, k: &str, v: impl AsRef<str>) -> Cmd {
        self.env.push((k.to_owned(), v.as_ref().to_owned()));
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Cmd {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Runs the binary with only PATH, HOME and the given variables in its environment.
    pub fn run(self) -> Ran {
        let cwd = self.cwd.clone().unwrap_or_else(std::env::temp_dir);
        let mut c = Command::new(BIN);
        c.args(&self.args).current_dir(&cwd).env_clear();
        c.env("PATH", std::env::var("PATH").unwrap_or_default());
        c.env("HOME", &cwd);
        c.env("NO_COLOR", "1");
        if starts_sandbox(&self.args) {
            c.env(POSTGRES_URL_ENV, postgres_url());
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdin(std::process::Stdio::null());
        let out = c.output().expect("binary runs");
        let ran = Ran {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !ran.stderr.contains("panicked"),
            "the binary panicked:\n{}",
            ran.stderr
        );
        ran
    }
}

impl Ran {
    pub fn status(self, code: i32) -> Ran {
        assert_eq!(
            self.status, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn ok(self) -> Ran {
        self.status(0)
    }

    pub fn stdout_has(self, needle: &str) -> Ran {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn stderr_has(self, needle: &str) -> Ran {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn stdout_is(self, expected: &str) -> Ran {
        assert_eq!(self.stdout, expected, "stdout\n--- stderr\n{}", self.stderr);
        self
    }

    pub fn stderr_empty(self) -> Ran {
        assert!(self.stderr.is_empty(), "stderr not empty:\n{}", self.stderr);
        self
    }

    pub fn stdout_empty(self) -> Ran {
        assert!(self.stdout.is_empty(), "stdout not empty:\n{}", self.stdout);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Each stdout line parsed as JSON (for `--output json` event streams).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("line is not JSON ({e}): {l}"))
            })
            .collect()
    }
}

// ------------------------------------------------------------------------------------------------
// Engine tests (tests/run_plan.rs, tests/crash_resume.rs): plans copied out of the source tree,
// data trees compared file by file, and the end state of the two-migration plans of
// tests/plans/run/ checked against a snapshot taken before the run.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use serde_json::Value;

/// Every file under `root` by its path relative to `root`, with the SHA-256 of its bytes
/// (a symlink by its target text). A missing root is an empty tree.
pub fn tree_hashes(root: &Path) -> BTreeMap<String, String> {
    use sha2::{Digest, Sha256};
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.expect("directory entry");
            let path = entry.path();
            let kind = entry.file_type().expect("file type");
            let rel = path
                .strip_prefix(root)
                .expect("below root")
                .to_string_lossy()
                .into_owned();
            if kind.is_dir() {
                walk(root, &path, out);
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&path).expect("link");
                out.insert(rel, format!("link:{}", target.display()));
            } else {
                let bytes = std::fs::read(&path).expect("file");
                out.insert(rel, hex::encode(Sha256::digest(&bytes)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// How tree `b` differs from tree `a` (at most 5 lines), empty when they hold the same files
/// with the same bytes.
pub fn tree_diff(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, hash) in a {
        match b.get(path) {
            None => out.push(format!("missing {path}")),
            Some(h) if h != hash => out.push(format!("different bytes in {path}")),
            Some(_) => {}
        }
    }
    for path in b.keys().filter(|p| !a.contains_key(*p)) {
        out.push(format!("extra {path}"));
    }
    let total = out.len();
    if total > 5 {
        out.truncate(5);
        out.push(format!("... {} more", total - 5));
    }
    out
}

/// Copies `tests/plans/run/<name>` into a new temp dir, so journals (beside the plan by default)
/// and test files never land in the source tree. Returns the dir and the copied plan's path.
pub fn plan_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/plans/run")
        .join(name);
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = dir.path().join(name);
    std::fs::copy(&source, &plan).unwrap_or_else(|e| panic!("copying {}: {e}", source.display()));
    (dir, plan)
}

/// The default state directory of a plan: `.setops-migrate/` beside it.
pub fn state_dir_of(plan: &Path) -> PathBuf {
    plan.parent().expect("plan dir").join(".setops-migrate")
}

impl Cmd {
    /// Starts the binary with the same clean environment as [`Cmd::run`] and returns at once;
    /// stdout and stderr are piped (collect them with `wait_with_output`).
    pub fn spawn(self) -> std::process::Child {
        let cwd = self.cwd.clone().unwrap_or_else(std::env::temp_dir);
        let mut c = Command::new(BIN);
        c.args(&self.args).current_dir(&cwd).env_clear();
        c.env("PATH", std::env::var("PATH").unwrap_or_default());
        c.env("HOME", &cwd);
        c.env("NO_COLOR", "1");
        if starts_sandbox(&self.args) {
            c.env(POSTGRES_URL_ENV, postgres_url());
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c.spawn().expect("binary starts")
    }
}

impl TestSandbox {
    /// The speed knobs of the engine tests: quick commits, backups and restores.
    pub fn speed_up(&self) {
        self.faults(&Faults {
            commit_phase_ms: Some(20),
            restore_delay_ms: Some(50),
            backup_delay_ms: Some(50),
            ..Faults::default()
        });
    }

    /// Runs `args -o json` against this sandbox; it must succeed and print one JSON document.
    pub fn json(&self, args: &[&str]) -> Value {
        self.cmd().args(args).args(["-o", "json"]).run().ok().json()
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

/// `(service, env_key or path)` of each link, as a set: link order carries no meaning.
pub fn link_set(links: &[Value]) -> BTreeSet<(String, String)> {
    links
        .iter()
        .map(|l| {
            let at = l["env_key"].as_str().or(l["path"].as_str()).unwrap_or("?");
            (
                l["service"].as_str().unwrap_or("?").to_owned(),
                at.to_owned(),
            )
        })
        .collect()
}

/// The two migrations of tests/plans/run/two-migrations.yaml and crash.yaml: `files` (volume,
/// linked to web at /data) -> `files2`, and `media` (s3, web's S3_DATA_URL) -> `media2` with
/// `blockPublicAccess: "false"`.
pub const PAIRS: [(&str, &str); 2] = [("files", "files2"), ("media", "media2")];

/// The world before a run: every service's configuration, the sources' backups and data.
pub struct Snapshot {
    pub services: BTreeMap<String, Value>,
    pub backups: BTreeMap<String, Vec<Value>>,
    pub trees: BTreeMap<String, BTreeMap<String, String>>,
    pub worker_links: Vec<Value>,
}

impl Snapshot {
    pub fn take(sb: &TestSandbox) -> Snapshot {
        let mut backups = BTreeMap::new();
        let mut trees = BTreeMap::new();
        for (source, _) in PAIRS {
            backups.insert(source.to_owned(), sb.backups(source));
            let tree = tree_hashes(&sb.data_dir(source));
            assert!(!tree.is_empty(), "the demo world's {source} holds no files");
            trees.insert(source.to_owned(), tree);
        }
        Snapshot {
            services: sb.services(),
            backups,
            trees,
            worker_links: sb.app_links("worker"),
        }
    }
}

/// What may differ between runs that all end in the state of an uninterrupted run.
pub struct Expect {
    /// New manual backups of `files`: 0 for `backup: latest`, 1 for `backup: fresh`, 1..=2 where
    /// a rerun without journal cannot know about the backup an earlier attempt made.
    pub new_manual_backups_of_files: RangeInclusive<usize>,
}

/// Every way the world differs from the end state of an uninterrupted run of the two-migration
/// plan (empty when it matches): one target per migration with the source's configuration and
/// the override, one upload per target restored exactly once, every web link moved with its key
/// or path, the sources' configuration and data untouched, identical data, an empty changeset.
pub fn end_state_problems(sb: &TestSandbox, before: &Snapshot, expect: &Expect) -> Vec<String> {
    let mut problems = Vec::new();
    let services = sb.services();
    let mut want_names: BTreeSet<&str> = before.services.keys().map(String::as_str).collect();
    want_names.extend(PAIRS.iter().map(|(_, t)| *t));
    let names: BTreeSet<&str> = services.keys().map(String::as_str).collect();
    if names != want_names {
        problems.push(format!("services are {names:?}, expected {want_names:?}"));
    }
    for (source, target) in PAIRS {
        let (Some(was), Some(now)) = (before.services.get(source), services.get(source)) else {
            problems.push(format!("source {source} is gone"));
            continue;
        };
        for field in ["type", "plan", "options", "backup_schedule", "created_at"] {
            if was[field] != now[field] {
                problems.push(format!(
                    "source {source}: {field} changed from {} to {}",
                    was[field], now[field]
                ));
            }
        }
        if !now["links"].as_array().is_some_and(Vec::is_empty) {
            problems.push(format!("source {source} still has links: {}", now["links"]));
        }
        let Some(t) = services.get(target) else {
            problems.push(format!("target {target} does not exist"));
            continue;
        };
        let mut want_options = was["options"].clone();
        if target == "media2" {
            want_options["blockPublicAccess"] = Value::from("false");
        }
        for (field, want) in [
            ("type", &was["type"]),
            ("plan", &was["plan"]),
            ("backup_schedule", &was["backup_schedule"]),
            ("options", &want_options),
        ] {
            if &t[field] != want {
                problems.push(format!(
                    "target {target}: {field} is {}, expected {want}",
                    t[field]
                ));
            }
        }
        let want_links: BTreeSet<(String, String)> =
            link_set(was["links"].as_array().expect("links"))
                .into_iter()
                .map(|(_, at)| (target.to_owned(), at))
                .collect();
        let got_links = link_set(t["links"].as_array().map(Vec::as_slice).unwrap_or_default());
        if got_links != want_links {
            problems.push(format!(
                "target {target}: links {got_links:?}, expected {want_links:?}"
            ));
        }

        // Source backups: all still there, plus the fresh ones the plan made.
        let now_backups = sb.backups(source);
        let was_backups = &before.backups[source];
        for b in was_backups {
            if !now_backups.iter().any(|n| n == b) {
                problems.push(format!(
                    "source {source}: backup {} changed or vanished",
                    b["id"]
                ));
            }
        }
        let new: Vec<&Value> = now_backups
            .iter()
            .filter(|n| !was_backups.contains(n))
            .collect();
        let new_manual = new
            .iter()
            .filter(|b| b["origin"] == "manual" && b["status"] == "CREATED")
            .count();
        let want_manual = if source == "files" {
            expect.new_manual_backups_of_files.clone()
        } else {
            0..=0
        };
        if new.len() != new_manual || !want_manual.contains(&new_manual) {
            problems.push(format!(
                "source {source}: {} new backup(s) {:?}, expected {want_manual:?} new CREATED manual backup(s)",
                new.len(),
                new.iter().map(|b| format!("{} {} {}", b["id"], b["origin"], b["status"])).collect::<Vec<_>>()
            ));
        }
        let source_shas: BTreeSet<&str> = now_backups
            .iter()
            .filter_map(|b| b["sha256"].as_str())
            .collect();

        // Target backups: exactly one upload, CREATED, of the source's bytes, restored once.
        let target_backups = sb.backups(target);
        if target_backups.len() != 1 {
            problems.push(format!(
                "target {target}: {} backups {:?}, expected exactly one upload",
                target_backups.len(),
                target_backups
                    .iter()
                    .map(|b| format!("{} {} {}", b["id"], b["origin"], b["status"]))
                    .collect::<Vec<_>>()
            ));
        }
        for b in &target_backups {
            let id = b["id"].as_str().expect("backup id");
            if b["origin"] != "upload" || b["status"] != "CREATED" {
                problems.push(format!(
                    "target {target}: backup {id} is {} {}, expected a CREATED upload",
                    b["origin"], b["status"]
                ));
            }
            if !b["sha256"]
                .as_str()
                .is_some_and(|s| source_shas.contains(s))
            {
                problems.push(format!(
                    "target {target}: backup {id} has sha256 {}, which no backup of {source} has",
                    b["sha256"]
                ));
            }
            if b["last_restore"]["outcome"] != "SUCCEEDED" {
                problems.push(format!(
                    "target {target}: backup {id} last_restore is {}, expected SUCCEEDED",
                    b["last_restore"]
                ));
            }
            let info = sb.json(&["--service", target, "backup:info", id]);
            match info.get("restore_count") {
                Some(n) if n == 1 => {}
                Some(n) => problems.push(format!("target {target}: backup {id} restore_count is {n}, expected 1")),
                None => problems.push(format!(
                    "target {target}: `backup:info {id} -o json` has no restore_count field, so a second restore \
                     cannot be ruled out (the counter is not in the Backup model / sandbox yet): {info}"
                )),
            }
        }

        // Data: the source unchanged, the target holding exactly the source's files.
        let source_tree = tree_hashes(&sb.data_dir(source));
        let diff = tree_diff(&before.trees[source], &source_tree);
        if !diff.is_empty() {
            problems.push(format!("source {source}'s data changed: {diff:?}"));
        }
        let diff = tree_diff(&source_tree, &tree_hashes(&sb.data_dir(target)));
        if !diff.is_empty() {
            problems.push(format!(
                "target {target} does not hold {source}'s data: {diff:?}"
            ));
        }
    }

    // Apps: web reaches the targets under the same keys and paths; worker is untouched.
    let was_web = link_set(
        before
            .services
            .values()
            .flat_map(|s| s["links"].as_array().cloned().unwrap_or_default())
            .filter(|l| l["app"] == "web")
            .collect::<Vec<_>>()
            .as_slice(),
    );
    let want_web: BTreeSet<(String, String)> = was_web
        .into_iter()
        .map(|(service, at)| {
            let target = PAIRS
                .iter()
                .find(|(s, _)| *s == service)
                .map(|(_, t)| (*t).to_owned())
                .unwrap_or(service);
            (target, at)
        })
        .collect();
    let web = sb.app_links("web");
    if link_set(&web) != want_web || web.len() != want_web.len() {
        problems.push(format!(
            "web links {:?}, expected exactly {want_web:?}",
            link_set(&web)
        ));
    }
    let worker = sb.app_links("worker");
    if worker != before.worker_links {
        problems.push(format!(
            "worker links changed from {:?} to {worker:?}",
            before.worker_links
        ));
    }
    let changeset = sb.json(&["changeset:info"]);
    if !changeset.is_null() {
        problems.push(format!("the changeset is not empty: {changeset}"));
    }
    problems
}

/// Panics with every problem and the output of the runs that led there.
pub fn assert_end_state(sb: &TestSandbox, before: &Snapshot, expect: &Expect, runs: &[&Ran]) {
    let problems = end_state_problems(sb, before, expect);
    if problems.is_empty() {
        return;
    }
    let mut text = format!(
        "the end state differs from an uninterrupted run's:\n  - {}\n",
        problems.join("\n  - ")
    );
    for (i, ran) in runs.iter().enumerate() {
        text.push_str(&format!(
            "\n=== run {} (exit {})\n--- stdout\n{}\n--- stderr\n{}",
            i + 1,
            ran.status,
            ran.stdout,
            ran.stderr
        ));
    }
    panic!("{text}");
}
