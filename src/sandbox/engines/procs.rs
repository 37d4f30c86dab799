//! Helpers for engines that run programs: free loopback ports, running a program to its end, and
//! making sure a server the sandbox started does not outlive the sandbox process (`servers`
//! finds the programs).

use crate::sandbox::{Error, Result};
use std::path::Path;
use std::process::{Command, Stdio};

/// Replaces PATH and the PostgreSQL directories as the places server programs are looked up
/// in (a `:`-separated list, e.g. `/usr/lib/postgresql/13/bin:/usr/bin` to pick one PostgreSQL
/// version; an empty directory makes every engine that needs a program unavailable).
pub const PROGRAM_PATH_ENV: &str = "SETOPS_SANDBOX_PROGRAM_PATH";

pub(crate) fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A loopback port nobody listens on right now.
pub(crate) fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Engine(format!("finding a free port on 127.0.0.1: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Engine(format!("finding a free port on 127.0.0.1: {e}")))
}

/// Starts a detached watchdog that sends `signal` (e.g. "INT") to `child` once this process is
/// gone, so a sandbox that crashes or a test binary that exits leaves no server behind. The
/// watchdog ends by itself when the child ends first.
pub(crate) fn stop_with_this_process(child: u32, signal: &str) -> Result<()> {
    let script = r#"while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
kill -0 "$2" 2>/dev/null && kill -"$3" "$2" 2>/dev/null
exit 0"#;
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("setops-sandbox-watchdog")
        .arg(std::process::id().to_string())
        .arg(child.to_string())
        .arg(signal)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| Error::Engine(format!("starting the watchdog of process {child}: {e}")))
}

/// Runs a program to completion; Err holds its stderr (or stdout when stderr is empty) with
/// `what` in front, for restore records and server logs. Never put a password in `args`: pass
/// it through the environment (PGPASSWORD, REDISCLI_AUTH).
pub(crate) fn run(cmd: &mut Command, what: &str) -> Result<String> {
    let output = cmd.stdin(Stdio::null()).output().map_err(|e| {
        Error::Engine(format!(
            "{what}: could not start {:?}: {e}",
            cmd.get_program()
        ))
    })?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let text = if stderr.trim().is_empty() {
        String::from_utf8_lossy(&output.stdout).into_owned()
    } else {
        stderr.into_owned()
    };
    Err(Error::Engine(format!(
        "{what} failed ({}): {}",
        output.status,
        text.trim()
    )))
}
