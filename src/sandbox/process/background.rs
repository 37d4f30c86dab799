//! The background server behind the global `--sandbox DIR` flag: find the running server of
//! DIR, or start one detached and wait until it answers.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{
    Connection, alive, create_dir, healthy, lock_path, read_info, server_info_path, server_log_path,
};
use crate::sandbox::{EngineConfig, POSTGRES_URL_ENV, read_token, token_path};
use crate::sandbox::{Error, Result};

const READY_TIMEOUT: Duration = Duration::from_secs(20);
const LOG_TAIL_LINES: usize = 20;

enum Probe {
    Ready(Connection),
    /// A live server process owns DIR but does not answer (yet).
    Starting,
    Absent,
}

async fn probe(dir: &Path) -> Result<Probe> {
    let Some(info) = read_info(dir) else {
        return Ok(Probe::Absent);
    };
    if !alive(info.pid) {
        return Ok(Probe::Absent);
    }
    if !healthy(&info.url).await {
        return Ok(Probe::Starting);
    }
    let token = read_token(&token_path(dir))?;
    Ok(Probe::Ready(Connection {
        url: info.url,
        token,
        started: false,
    }))
}

/// For `--sandbox DIR`: connect to the server of DIR, starting one in the background when none
/// runs. The server outlives this process (own session, output appended to `DIR/server.log`).
pub async fn ensure_running(
    dir: &Path,
    seed: Option<&Path>,
    program: &Path,
    config: &EngineConfig,
) -> Result<Connection> {
    let dir = std::path::absolute(dir).map_err(|e| Error::io("resolving", dir, e))?;
    let mut child = match probe(&dir).await? {
        Probe::Ready(connection) => return Ok(connection),
        Probe::Starting => None,
        Probe::Absent => {
            create_dir(&dir)?;
            let _ = fs::remove_file(server_info_path(&dir));
            Some(spawn_server(&dir, seed, program, config)?)
        }
    };
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Probe::Ready(connection) = probe(&dir).await? {
            return Ok(Connection {
                started: child.is_some(),
                ..connection
            });
        }
        let exited = match child.as_mut() {
            // An error means the child was already reaped (by `alive` in `probe`): it exited.
            Some(c) => match c.try_wait() {
                Ok(status) => status.map(|s| s.to_string()),
                Err(_) => Some("exit status unknown".to_owned()),
            },
            None if starting_elsewhere(&dir, None) => None,
            None => Some("the server that was starting stopped".to_owned()),
        };
        if let Some(how) = exited {
            // Two commands may start a server for one new directory at once; the one that lost
            // the lock exits, and the winner is the one to wait for.
            let ours = child.as_ref().map(|c| c.id());
            if child.is_some() && starting_elsewhere(&dir, ours) {
                child = None;
                continue;
            }
            return Err(Error::Internal(format!(
                "the sandbox server for {} exited before it was ready ({how}); last lines of {}:\n{}",
                dir.display(),
                server_log_path(&dir).display(),
                log_tail(&dir)
            )));
        }
        if Instant::now() > deadline {
            if let Some(c) = child.as_mut() {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err(Error::Internal(format!(
                "the sandbox server for {} did not answer within {} s; last lines of {}:\n{}",
                dir.display(),
                READY_TIMEOUT.as_secs(),
                server_log_path(&dir).display(),
                log_tail(&dir)
            )));
        }
    }
}

fn spawn_server(
    dir: &Path,
    seed: Option<&Path>,
    program: &Path,
    config: &EngineConfig,
) -> Result<std::process::Child> {
    let log_path = server_log_path(dir);
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&log_path)
        .map_err(|e| Error::io("opening", &log_path, e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| Error::io("opening", &log_path, e))?;
    let mut command = Command::new(program);
    command
        .args(["sandbox", "serve", "--dir"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"]);
    if let Some(seed) = seed {
        let seed = std::path::absolute(seed).map_err(|e| Error::io("resolving", seed, e))?;
        command.arg("--seed").arg(seed);
    }
    // Through the environment, not argv: the URL holds a password, and argv is public.
    if let Some(url) = &config.postgres_url {
        command.env(POSTGRES_URL_ENV, url);
    }
    if config.exact_versions {
        command.env(crate::sandbox::servers::EXACT_VERSIONS_ENV, "1");
    }
    command.stdin(Stdio::null()).stdout(log).stderr(log_err);
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent; it detaches the
    // server from our terminal and process group so it outlives the command that started it.
    unsafe {
        command.pre_exec(|| nix::unistd::setsid().map(|_| ()).map_err(io::Error::from));
    }
    command.spawn().map_err(|e| {
        Error::Internal(format!(
            "starting the sandbox server `{} sandbox serve`: {e}",
            program.display()
        ))
    })
}

/// The last lines of `server.log`, read from its end so a long log costs nothing.
fn log_tail(dir: &Path) -> String {
    let read = || -> io::Result<String> {
        let mut file = fs::File::open(server_log_path(dir))?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        Ok(lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n"))
    };
    match read() {
        Ok(tail) if !tail.trim().is_empty() => tail,
        Ok(_) => "(empty)".to_owned(),
        Err(e) => format!("(unreadable: {e})"),
    }
}

/// Whether another live process is serving or starting to serve DIR: it holds the lock (its pid
/// is in the lock file) or its `server.json` names it. Read without taking the lock, so a server
/// that is starting right now never finds the lock taken by this check.
fn starting_elsewhere(dir: &Path, except: Option<u32>) -> bool {
    let holder = fs::read_to_string(lock_path(dir))
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok());
    let listed = read_info(dir).map(|i| i.pid);
    [holder, listed]
        .into_iter()
        .flatten()
        .any(|pid| Some(pid) != except && alive(pid))
}
