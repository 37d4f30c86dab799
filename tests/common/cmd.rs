//! The command builder: runs the real binary in a temp working directory with a clean
//! environment; `Ran` checks what it printed and how it exited.

use std::path::{Path, PathBuf};
use std::process::Command;

use setops_migrate::sandbox::POSTGRES_URL_ENV;

use super::sandbox::postgres_url;

pub const BIN: &str = env!("CARGO_BIN_EXE_setops-migrate");

/// Whether a command starts a sandbox of its own (which then uses the shared cluster).
fn starts_sandbox(args: &[String]) -> bool {
    args.iter()
        .any(|a| a == "--sandbox" || a == "demo" || a == "serve")
}

pub struct Cmd {
    /// The program run; [`BIN`] unless [`Cmd::program`] names another (a `setops` symlink).
    program: PathBuf,
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
            program: PathBuf::from(BIN),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            stdin: None,
        }
    }

    /// Runs `program` instead of the binary itself (a symlink to it under another name).
    pub fn program(mut self, program: impl AsRef<Path>) -> Cmd {
        self.program = program.as_ref().to_path_buf();
        self
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

    /// Text the binary reads on stdin.
    pub fn stdin(mut self, text: impl Into<String>) -> Cmd {
        self.stdin = Some(text.into());
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Cmd {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The binary in the working directory with only PATH, HOME, NO_COLOR and the given
    /// variables in its environment (and the shared cluster for a command that starts a sandbox).
    fn command(&self) -> Command {
        let cwd = self.cwd.clone().unwrap_or_else(std::env::temp_dir);
        let mut c = Command::new(&self.program);
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
        c
    }

    /// Runs the binary with only PATH, HOME and the given variables in its environment.
    /// Stdin is empty unless [`Cmd::stdin`] gave it a text.
    pub fn run(self) -> Ran {
        let mut c = self.command();
        let out = match &self.stdin {
            None => {
                c.stdin(std::process::Stdio::null());
                c.output().expect("binary runs")
            }
            Some(text) => {
                use std::io::Write;
                use std::process::Stdio;
                c.stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let mut child = c.spawn().expect("binary starts");
                let mut stdin = child.stdin.take().expect("stdin is piped");
                stdin
                    .write_all(text.as_bytes())
                    .expect("stdin takes the text");
                drop(stdin);
                child.wait_with_output().expect("binary runs")
            }
        };
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

impl Cmd {
    /// Starts the binary with the same clean environment as [`Cmd::run`] and returns at once;
    /// stdout and stderr are piped (collect them with `wait_with_output`).
    pub fn spawn(self) -> std::process::Child {
        let mut c = self.command();
        c.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c.spawn().expect("binary starts")
    }
}

/// What one stream must show.
enum Shows {
    Exactly(String),
    Contains(Vec<String>),
    Anything,
}

impl Shows {
    fn problem(&self, name: &str, actual: &str) -> Option<String> {
        match self {
            Shows::Exactly(text) if text != actual => {
                Some(format!("{name} differs\n--- expected {name}\n{text}"))
            }
            Shows::Contains(needles) => needles
                .iter()
                .find(|n| !actual.contains(n.as_str()))
                .map(|n| format!("{name} lacks {n:?}")),
            _ => None,
        }
    }
}

/// A run checked as a whole, as casey/just's `Test::run` does: the exit code, stdout and stderr
/// together, every mismatch reported at once. Both streams must be empty unless the test says
/// what they hold, or opts out explicitly with `any_stdout` / `any_stderr`.
pub struct Expectation {
    cmd: Cmd,
    status: i32,
    stdout: Shows,
    stderr: Shows,
}

impl Cmd {
    /// Starts an [`Expectation`]: the run must exit with `status`.
    pub fn expect(self, status: i32) -> Expectation {
        Expectation {
            cmd: self,
            status,
            stdout: Shows::Exactly(String::new()),
            stderr: Shows::Exactly(String::new()),
        }
    }
}

impl Expectation {
    pub fn stdout(mut self, text: &str) -> Self {
        self.stdout = Shows::Exactly(text.to_owned());
        self
    }

    pub fn stderr(mut self, text: &str) -> Self {
        self.stderr = Shows::Exactly(text.to_owned());
        self
    }

    /// Loosens stdout to "contains each of these".
    pub fn stdout_has(mut self, needle: impl Into<String>) -> Self {
        self.stdout = Shows::Contains(add(self.stdout, needle.into()));
        self
    }

    /// Loosens stderr to "contains each of these".
    pub fn stderr_has(mut self, needle: impl Into<String>) -> Self {
        self.stderr = Shows::Contains(add(self.stderr, needle.into()));
        self
    }

    pub fn any_stdout(mut self) -> Self {
        self.stdout = Shows::Anything;
        self
    }

    pub fn any_stderr(mut self) -> Self {
        self.stderr = Shows::Anything;
        self
    }

    /// Runs the command and checks everything; returns the run for further checks.
    pub fn run(self) -> Ran {
        let ran = self.cmd.run();
        let mut problems = Vec::new();
        if ran.status != self.status {
            problems.push(format!(
                "exit code {} (expected {})",
                ran.status, self.status
            ));
        }
        problems.extend(self.stdout.problem("stdout", &ran.stdout));
        problems.extend(self.stderr.problem("stderr", &ran.stderr));
        assert!(
            problems.is_empty(),
            "{}\n--- stdout\n{}\n--- stderr\n{}",
            problems.join("\n"),
            ran.stdout,
            ran.stderr
        );
        ran
    }
}

/// Needles so far plus `needle` (an exact or open expectation is replaced).
fn add(shows: Shows, needle: String) -> Vec<String> {
    match shows {
        Shows::Contains(mut needles) => {
            needles.push(needle);
            needles
        }
        _ => vec![needle],
    }
}
