//! The command builder: runs the real binary in a temp working directory with a clean
//! environment. [`Cmd::expect`] checks the exit code, stdout and stderr together (both streams
//! empty unless the test says what they hold); [`Cmd::run_unchecked`] is the explicit opt-out.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::sandbox::sandbox_env;

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

/// What a run did: its exit code (-1 when a signal ended it), stdout and stderr.
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
            c.envs(sandbox_env());
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Runs the binary and returns what it did, checked only for a panic. Stdin is empty
    /// unless [`Cmd::stdin`] gave it a text.
    fn output(self) -> Ran {
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

    /// The opt-out from [`Cmd::expect`]: runs the binary and checks nothing but that it did not
    /// panic, for tests where the exit code itself is what is observed (a run cut off at a crash
    /// point whose rerun may finish or refuse, a listing of a service another process may be
    /// destroying). Everything else states its expectation with [`Cmd::expect`].
    pub fn run_unchecked(self) -> Ran {
        self.output()
    }
}

impl Ran {
    /// Stdout as one JSON document (`-o json`).
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e})\n--- stdout\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Each non-empty stdout line parsed as JSON (the `run -o json` event stream).
    #[track_caller]
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!(
                        "stdout line is not JSON ({e}): {l}\n--- stdout\n{}\n--- stderr\n{}",
                        self.stdout, self.stderr
                    )
                })
            })
            .collect()
    }
}

impl Cmd {
    /// Starts the binary with the same clean environment as [`Cmd::expect`] and returns at once;
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
            Shows::Contains(needles) => {
                let missing: Vec<&String> = needles
                    .iter()
                    .filter(|n| !actual.contains(n.as_str()))
                    .collect();
                (!missing.is_empty()).then(|| format!("{name} lacks {missing:?}"))
            }
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
    /// Stdout must be exactly `text`.
    pub fn stdout(mut self, text: &str) -> Self {
        self.stdout = Shows::Exactly(text.to_owned());
        self
    }

    /// Stderr must be exactly `text`.
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

    /// Opts stdout out of the check: its content is irrelevant here, or the test reads it from
    /// the returned run (a table parsed, JSON compared) and checks it there.
    pub fn any_stdout(mut self) -> Self {
        self.stdout = Shows::Anything;
        self
    }

    /// Opts stderr out of the check (a run's progress log, timestamped line by line).
    pub fn any_stderr(mut self) -> Self {
        self.stderr = Shows::Anything;
        self
    }

    /// Runs the command and checks everything; returns the run for further checks.
    #[track_caller]
    pub fn run(self) -> Ran {
        let command = self.cmd.args.join(" ");
        let ran = self.cmd.output();
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
            "{}\n--- command\n{command}\n--- stdout\n{}\n--- stderr\n{}",
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

/// What the binary prints when it stages `command` (e.g. `service:create map[name:x type:volume]`)
/// and `pending` commands are then in the changeset.
pub fn queued(command: &str, pending: usize) -> String {
    format!(
        "Queued {command} ({pending} command(s) pending).\n\
         Run `changeset:commit` to apply, or `changeset:discard` to drop.\n"
    )
}

/// The hint `backup:restore` prints on stderr (stdout holds only the documented block).
pub fn restore_hint(id: &str) -> String {
    format!(
        "The restore runs on the platform; it has finished when `backup` no longer shows {id} as \
         RESTORING.\n"
    )
}
