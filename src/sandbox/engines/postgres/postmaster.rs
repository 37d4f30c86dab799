//! The postmaster of a cluster: started and stopped with pg_ctl, found through
//! `postmaster.pid`, waited for with psql.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::super::procs::{self, free_port};
use super::conn::{Superuser, clear_pg_env};
use super::programs;
use super::run_as::{RunAs, open_no_follow};
use crate::sandbox::{Error, Result};

/// How long a start, a stop, or an adopted server getting ready may take.
pub(crate) const WAIT: Duration = Duration::from_secs(60);

/// Starts the server with `pg_ctl start -w`, on `port` when it is free, else on a free one;
/// returns the port.
pub(crate) fn start_server(
    pg_ctl: &Path,
    data: &Path,
    base: &Path,
    port: u16,
    run_as: Option<RunAs>,
) -> Result<u16> {
    let log = base.join("postgres.log");
    let mut last_error = Error::engine("PostgreSQL was not started");
    // Another process can take a free port between our check and the server's bind.
    for attempt in 0..3 {
        let port = if attempt == 0 && port != 0 && port_is_free(port) {
            port
        } else {
            free_port()?
        };
        let mut cmd = Command::new(pg_ctl);
        cmd.arg("start")
            .arg("-D")
            .arg(data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-s", "-t"])
            .arg(WAIT.as_secs().to_string())
            .arg("-o")
            .arg(format!("-p {port}"));
        server_command(&mut cmd, run_as, base);
        match procs::run(&mut cmd, "starting PostgreSQL (pg_ctl start)") {
            Ok(_) => return Ok(port),
            Err(e) => {
                let tail = log_tail(&log);
                last_error =
                    Error::Engine(format!("{e}\nlast lines of {}:\n{tail}", log.display()));
                if !tail.contains("could not bind") {
                    break;
                }
            }
        }
    }
    Err(last_error)
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// The end of the server log, where the reason of a failed start is.
fn log_tail(log: &Path) -> String {
    const TAIL: u64 = 4096;
    let mut text = String::new();
    if let Ok(mut file) = open_no_follow(log, false) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// Polls with psql until the server answers the superuser, or `WAIT` has passed.
pub(crate) fn wait_ready(superuser: &Superuser) -> Result<()> {
    let clients = programs::clients()?;
    let deadline = Instant::now() + WAIT;
    loop {
        let mut cmd = superuser.endpoint.command(&clients.psql, superuser.login());
        cmd.args(["-X", "-q", "-c", "SELECT 1"]);
        match procs::run(&mut cmd, "connecting") {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// A server program's command: run as `run_as`, in a directory it can enter, without the
/// caller's PG* variables (a PGDATA or PGPORT would override ours).
pub(crate) fn server_command(cmd: &mut Command, run_as: Option<RunAs>, cwd: &Path) {
    clear_pg_env(cmd);
    cmd.env("LC_ALL", "C").current_dir(cwd);
    if let Some(run_as) = run_as {
        run_as.apply(cmd);
    }
}

/// `(pid, port)` of the server `data/postmaster.pid` names, when that process is alive.
pub(crate) fn running_postmaster(data: &Path) -> Option<(u32, u16)> {
    let text = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let mut lines = text.lines();
    let pid: i32 = lines.next()?.trim().parse().ok()?;
    let port: u16 = lines.nth(2)?.trim().parse().ok()?;
    if pid <= 0 {
        return None;
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => Some((pid as u32, port)),
        Err(_) => None,
    }
}

/// Stops the server of `data` (fast shutdown: sessions end, data is kept); problems go to
/// stderr, a server that is not running is fine.
pub(crate) fn stop(pg_ctl: &Path, data: &Path, run_as: Option<RunAs>) {
    if running_postmaster(data).is_none() {
        return;
    }
    let mut cmd = Command::new(pg_ctl);
    cmd.arg("stop")
        .arg("-D")
        .arg(data)
        .args(["-m", "fast", "-w", "-s", "-t"])
        .arg(WAIT.as_secs().to_string());
    server_command(&mut cmd, run_as, data);
    if let Err(e) = procs::run(&mut cmd, "stopping PostgreSQL (pg_ctl stop)") {
        eprintln!("sandbox: {e}");
    }
}
