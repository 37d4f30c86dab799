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
        let child = command.spawn().map_err(|e| {
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
        let output = match tokio::time::timeout(CALL_LIMIT, child.wait_with_output()).await {
            Ok(done) => done.map_err(|e| Error::io("running", &self.bin, e))?,
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
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code(),
        })
    }
}
