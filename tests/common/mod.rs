//! Test harness: a real sandbox served in-process on 127.0.0.1:0 from a temp dir, and a builder
//! that runs the real binary in a temp working directory with a clean environment and checks
//! stdout, stderr and the exit code together.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::thread::JoinHandle;

use setops_migrate::api::{Faults, paths};
use setops_migrate::sandbox::{self, Sandbox};

pub const BIN: &str = env!("CARGO_BIN_EXE_setops-migrate");

pub struct TestSandbox {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestSandbox {
    /// The demo world, served until the value is dropped.
    pub fn start() -> TestSandbox {
        Self::start_with_seed(None)
    }

    pub fn start_with_seed(seed: Option<&Path>) -> TestSandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().to_path_buf();
        let seed = seed.map(Path::to_path_buf);
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let sandbox = Sandbox::open(&path, seed.as_deref()).await.expect("sandbox opens");
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let addr = listener.local_addr().expect("addr");
                ready_tx.send(format!("http://{addr}")).expect("ready");
                sandbox::serve(listener, sandbox, async move {
                    let _ = stop_rx.await;
                })
                .await
                .expect("serve");
            });
        });
        let url = ready_rx.recv().expect("sandbox started");
        let token = sandbox::read_token(&sandbox::token_path(dir.path())).expect("token");
        TestSandbox { dir, url, token, stop: Some(stop_tx), thread: Some(thread) }
    }

    pub fn user_token(&self, user: &str) -> String {
        sandbox::read_token(&sandbox::user_token_path(self.dir.path(), user)).expect("user token")
    }

    pub fn data_dir(&self, service: &str) -> PathBuf {
        self.dir.path().join("data").join("shop").join("production").join(service)
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
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
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
        Cmd { args: Vec::new(), env: Vec::new(), cwd: None, stdin: None }
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
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
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
        let cwd = self.cwd.clone().unwrap_or_else(|| std::env::temp_dir());
        let mut c = Command::new(BIN);
        c.args(&self.args).current_dir(&cwd).env_clear();
        c.env("PATH", std::env::var("PATH").unwrap_or_default());
        c.env("HOME", &cwd);
        c.env("NO_COLOR", "1");
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
        assert!(!ran.stderr.contains("panicked"), "the binary panicked:\n{}", ran.stderr);
        ran
    }
}

impl Ran {
    pub fn status(self, code: i32) -> Ran {
        assert_eq!(self.status, code, "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    pub fn ok(self) -> Ran {
        self.status(0)
    }

    pub fn stdout_has(self, needle: &str) -> Ran {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    pub fn stderr_has(self, needle: &str) -> Ran {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
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
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Each stdout line parsed as JSON (for `--output json` event streams).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("line is not JSON ({e}): {l}")))
            .collect()
    }
}
