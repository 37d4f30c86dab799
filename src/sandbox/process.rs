//! The sandbox server as a process: `sandbox serve` in the foreground (one server per directory,
//! guarded by a file lock), the background server the global `--sandbox DIR` flag starts on
//! demand (so platform work continues after the command exits), and `sandbox stop`.

use std::fs;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

mod background;

pub use background::ensure_running;

pub use super::spawn::server_info_path;
use super::spawn::{create_dir, lock_path, spawn_with};
use super::{EngineConfig, ServeOptions, SpawnConfig, token_path};
use crate::api::{ServerInfo, paths};
use crate::sandbox::{Error, Result};

/// Where a sandbox server talks and with which token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub url: String,
    pub token: String,
    /// This call started the server (it runs on in the background), rather than finding one.
    pub started: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    Stopped { pid: u32 },
    NotRunning,
}

const STOP_TIMEOUT: Duration = Duration::from_secs(10);

pub fn server_log_path(dir: &Path) -> PathBuf {
    dir.join("server.log")
}

/// `sandbox serve`: lock DIR, open it, bind `listen`, write `server.json`, call `on_ready`, serve
/// until SIGINT or SIGTERM, then remove `server.json`. `live_apps` switches live apps on for
/// this server (`--live-apps`).
pub async fn serve_foreground(
    dir: &Path,
    listen: SocketAddr,
    seed: Option<&Path>,
    config: &EngineConfig,
    live_apps: bool,
    on_ready: impl FnOnce(&ServerInfo, &Path),
) -> Result<()> {
    let shutdown = termination_signal()?;
    let options = ServeOptions {
        log_requests: true,
        live_apps,
    };
    serve_until(dir, listen, seed, config, on_ready, shutdown, options).await
}

fn termination_signal() -> Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let register = |kind| {
        signal(kind).map_err(|e| Error::Internal(format!("installing a signal handler: {e}")))
    };
    let mut term = register(SignalKind::terminate())?;
    let mut int = register(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// `serve_foreground` with the stop condition given by the caller (tests stop it in-process).
pub(crate) async fn serve_until(
    dir: &Path,
    listen: SocketAddr,
    seed: Option<&Path>,
    config: &EngineConfig,
    on_ready: impl FnOnce(&ServerInfo, &Path),
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> Result<()> {
    let config = SpawnConfig {
        dir: dir.to_path_buf(),
        seed: seed.map(Path::to_path_buf),
        engine_config: config.clone(),
        listen,
        live_apps: options.live_apps,
    };
    // The server takes DIR's lock and writes server.json itself (spawn.rs), as every in-process
    // server does, so a `--sandbox DIR` command finds it.
    let running = spawn_with(config, options.log_requests)
        .await
        .map_err(|e| match e {
            Error::Listen { .. } => Error::usage(format!("{e}; choose another --listen address")),
            e => e,
        })?;
    let info = running.info().clone();
    on_ready(&info, &token_path(dir));
    running.stop_on(shutdown).await
}

fn read_info(dir: &Path) -> Option<ServerInfo> {
    let text = crate::fsio::read_text_bounded(&server_info_path(dir), 64 * 1024).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether a process exists (a zombie child of ours counts as gone, and is reaped).
fn alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    let pid = Pid::from_raw(raw);
    match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::StillAlive) => return true,
        Ok(_) => return false,
        Err(_) => {}
    }
    match kill(pid, None) {
        Ok(()) => !is_zombie(raw),
        Err(Errno::EPERM) => true,
        Err(_) => false,
    }
}

/// A finished process whose parent has not reaped it yet still answers `kill(pid, 0)`.
fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('Z')))
        .unwrap_or(false)
}

async fn healthy(url: &str) -> bool {
    let Ok(client) = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
    else {
        return false;
    };
    match client.get(format!("{url}{}", paths::health())).send().await {
        Ok(r) => r.status().is_success(),
        Err(_) => false,
    }
}

/// Whether nobody holds `DIR/lock` (checked by taking it for a moment).
fn lock_is_free(dir: &Path) -> bool {
    let Ok(file) = fs::OpenOptions::new().read(true).open(lock_path(dir)) else {
        return true;
    };
    file.try_lock().is_ok()
}

/// `sandbox stop`: SIGTERM the server of DIR, wait up to 10 s (then SIGKILL), clean `server.json`.
pub async fn stop(dir: &Path) -> Result<StopOutcome> {
    let Some(info) = read_info(dir) else {
        return Ok(StopOutcome::NotRunning);
    };
    let remove_info = || {
        let _ = fs::remove_file(server_info_path(dir));
    };
    // A dead pid, or a live one that neither answers nor holds the lock (a reused pid), is a
    // leftover of a server that did not shut down cleanly: never signal it.
    if !alive(info.pid) || (!healthy(&info.url).await && lock_is_free(dir)) {
        remove_info();
        return Ok(StopOutcome::NotRunning);
    }
    let pid = Pid::from_raw(i32::try_from(info.pid).map_err(|_| {
        Error::Internal(format!("server.json names an impossible pid {}", info.pid))
    })?);
    let signal = |sig| match kill(pid, sig) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(Error::Internal(format!(
            "sending {sig} to the sandbox server (pid {pid}): {e}"
        ))),
    };
    signal(Signal::SIGTERM)?;
    if !wait_gone(info.pid, STOP_TIMEOUT).await {
        signal(Signal::SIGKILL)?;
        wait_gone(info.pid, Duration::from_secs(2)).await;
    }
    remove_info();
    Ok(StopOutcome::Stopped { pid: info.pid })
}

async fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    !alive(pid)
}

#[cfg(test)]
mod tests;
