//! Runs the `setops` binary: never on a terminal (stdin closed, so it cannot prompt), stdout and
//! stderr kept apart, a time limit per call, and the command line remembered without anything a
//! secret could hide in, for error messages.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::error::{Error, Result};
use crate::model::Scope;

/// What one call printed and how it ended.
#[derive(Debug)]
pub struct Ran {
    /// `setops -p shop -s production backup`, for messages.
    pub shown: String,
    pub stdout: String,
    pub stderr: String,
    /// `None` when the process was ended by a signal.
    pub code: Option<i32>,
}

impl Ran {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

#[derive(Debug, Clone)]
pub struct Runner {
    bin: PathBuf,
    /// Variables the child gets on top of ours (the sandbox front's directory and version).
    env: Vec<(OsString, OsString)>,
}

/// What one call may print on each of stdout and stderr. The CLI prints tables and blocks (a
/// stage dump of a large stage is well under a MiB); more is a runaway program, stopped before it
/// fills memory.
const MAX_OUTPUT_BYTES: u64 = 16 * 1024 * 1024;

/// The longest any single call may take. A commit of RDS or ElastiCache services can take long;
/// an upload of a large backup longer: the engine's own waits bound those.
const CALL_LIMIT: Duration = Duration::from_secs(6 * 60 * 60);

impl Runner {
    pub fn new(bin: PathBuf, env: Vec<(OsString, OsString)>) -> Self {
        Runner { bin, env }
    }

    pub fn bin(&self) -> &std::path::Path {
        &self.bin
    }

    /// `setops [-p P -s S] ARGS...`.
    pub async fn run(&self, scope: Option<&Scope>, args: &[&str]) -> Result<Ran> {
        let mut all: Vec<&str> = Vec::with_capacity(args.len() + 4);
        if let Some(scope) = scope {
            all.extend(["-p", scope.project.as_str(), "-s", scope.stage.as_str()]);
        }
        all.extend_from_slice(args);
        let shown = format!("setops {}", all.join(" "));
        let mut command = Command::new(&self.bin);
        command
            .args(&all)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::usage(format!(
                    "the setops CLI was not found at {}; install it (see the README, section \
                     \"The real SetOps\") or point SETOPS_BIN at it",
                    self.bin.display()
                ))
            } else {
                Error::io("starting", &self.bin, e)
            }
        })?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let finished = async {
            // Both pipes at once (a child blocked on a full stderr would never close stdout); the
            // first one over its limit ends the call, and dropping the child kills it.
            let (out, err) = tokio::try_join!(
                read_pipe(stdout, &shown, "stdout"),
                read_pipe(stderr, &shown, "stderr")
            )?;
            let status = child
                .wait()
                .await
                .map_err(|e| Error::io("running", &self.bin, e))?;
            Ok::<_, Error>((out, err, status))
        };
        let (stdout, stderr, status) = match tokio::time::timeout(CALL_LIMIT, finished).await {
            Ok(done) => done?,
            Err(_) => {
                return Err(Error::Transport {
                    context: shown,
                    detail: format!(
                        "no answer within {}",
                        humantime::format_duration(CALL_LIMIT)
                    ),
                });
            }
        };
        Ok(Ran {
            shown,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            code: status.code(),
        })
    }
}

/// Everything the child prints on one pipe, up to [`MAX_OUTPUT_BYTES`].
async fn read_pipe(
    pipe: Option<impl tokio::io::AsyncRead + Unpin>,
    shown: &str,
    which: &str,
) -> Result<Vec<u8>> {
    let Some(pipe) = pipe else {
        return Ok(Vec::new());
    };
    crate::fsio::read_bounded_async(pipe, MAX_OUTPUT_BYTES)
        .await
        .map_err(|e| {
            let detail = if crate::fsio::is_too_large(&e) {
                format!(
                    "it printed more than {} on {which}, far more than any setops output; check \
                     that SETOPS_BIN (or setops on PATH) is the SetOps CLI",
                    crate::fsio::shown_limit(MAX_OUTPUT_BYTES)
                )
            } else {
                format!("reading its {which} failed: {e}")
            };
            Error::Unexpected {
                context: shown.to_owned(),
                detail,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_program_that_prints_without_end_is_stopped_at_the_limit() {
        // `yes` prints `y` lines forever: the call ends once 16 MiB have come, and says why.
        let runner = Runner::new(PathBuf::from("yes"), Vec::new());
        let err = runner.run(None, &[]).await.expect_err("refused");
        let text = err.to_string();
        assert!(
            text.starts_with("setops : it printed more than 16 MiB on stdout"),
            "{text}"
        );
        assert!(text.contains("SETOPS_BIN"), "{text}");
    }

    #[tokio::test]
    async fn stdout_stderr_and_the_exit_code_are_kept_apart() {
        let runner = Runner::new(PathBuf::from("sh"), Vec::new());
        let ran = runner
            .run(None, &["-c", "echo out; echo err >&2; exit 3"])
            .await
            .expect("ran");
        assert_eq!(
            (ran.stdout.as_str(), ran.stderr.as_str()),
            ("out\n", "err\n")
        );
        assert_eq!(ran.code, Some(3));
    }
}
