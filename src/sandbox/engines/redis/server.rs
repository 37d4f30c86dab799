//! One redis-server process: its configuration file, start, readiness, stop, and the server a
//! crashed earlier sandbox process may have left running on the same directory.

use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use ::redis::{Client, Connection, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::super::procs;
use super::log::log_tail;
use crate::sandbox::{Error, Result};

pub(super) const CONFIG_FILE: &str = "redis.conf";
pub(super) const LOG_FILE: &str = "redis.log";
pub(super) const PID_FILE: &str = "redis.pid";

/// How long a new server may take to accept connections at all.
const ACCEPT_LIMIT: Duration = Duration::from_secs(5);
/// How long a server that answers `LOADING` may take to load its data (a large AOF or RDB).
const LOAD_LIMIT: Duration = Duration::from_secs(600);
/// How long SIGTERM may take before SIGKILL: appendonly servers fsync their log first.
const STOP_LIMIT: Duration = Duration::from_secs(10);
/// Reads and writes on a connection; generous because SAVE of a large data set blocks.
const IO_TIMEOUT: Duration = Duration::from_secs(600);
/// Attempts at a free port: another process may take the port between probe and bind.
const PORT_ATTEMPTS: usize = 3;

/// What one server is for.
pub(super) struct ServerSpec<'a> {
    /// Absolute directory: config, log, pidfile and data live here.
    pub dir: &'a Path,
    pub password: &'a str,
    /// `appendonly yes` (a service's data survives restarts) or no persistence at all.
    pub persistent: bool,
    /// The RDB file name in `dir` that is loaded at start and written by SAVE.
    pub dbfilename: &'a str,
}

/// A running redis-server this process started. Dropping it stops the server, so a temporary
/// server ends whichever way the work using it ends.
pub(super) struct Server {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Server {
    /// Writes the config (0600: it holds the password) and starts the server; Ok once it answers
    /// PING. Err carries the tail of the server's log.
    pub(super) fn start(program: &Path, spec: &ServerSpec) -> Result<Server> {
        let mut last_error = Error::engine("redis-server was not started");
        for _ in 0..PORT_ATTEMPTS {
            let port = procs::free_port()?;
            match Server::start_on(program, spec, port) {
                Ok(server) => return Ok(server),
                Err(StartError::PortTaken(text)) => last_error = text,
                Err(StartError::Failed(text)) => return Err(text),
            }
        }
        Err(last_error)
    }

    fn start_on(program: &Path, spec: &ServerSpec, port: u16) -> Result<Server, StartError> {
        let dir = spec.dir;
        let config = config_text(spec, port).map_err(StartError::Failed)?;
        let config_path = dir.join(CONFIG_FILE);
        crate::fsio::write_atomic(&config_path, config.as_bytes())
            .map_err(|e| Error::Engine(format!("writing {}: {e}", config_path.display())))
            .map_err(StartError::Failed)?;
        let log_path = dir.join(LOG_FILE);
        let log_start = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        // Startup errors before redis opens its logfile (a bad config line) go to stderr.
        let console = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&log_path)
            .map_err(|e| {
                StartError::Failed(Error::Engine(format!(
                    "opening {}: {e}",
                    log_path.display()
                )))
            })?;
        let console_err = console.try_clone().map_err(|e| {
            StartError::Failed(Error::Engine(format!(
                "opening {}: {e}",
                log_path.display()
            )))
        })?;
        // Through `sh` only to set the umask: what redis writes (RDB, append-only files,
        // pidfile) is then 0600. `exec` keeps the pid, so the child is redis-server itself.
        let child = Command::new("sh")
            .arg("-c")
            .arg("umask 077 && exec \"$0\" \"$1\"")
            .arg(program)
            .arg(dir.join(CONFIG_FILE))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(console)
            .stderr(console_err)
            // Its own process group: a Ctrl-C meant for the sandbox must not stop the server
            // before the sandbox has shut down in order.
            .process_group(0)
            .spawn()
            .map_err(|e| {
                StartError::Failed(Error::Engine(format!(
                    "starting {}: {e}",
                    program.display()
                )))
            })?;
        let mut server = Server {
            child,
            port,
            dir: dir.to_owned(),
        };
        procs::stop_with_this_process(server.child.id(), "TERM").map_err(StartError::Failed)?;
        match server.wait_ready(spec.password) {
            Ok(()) => Ok(server),
            Err(why) => {
                server.stop();
                let log = log_tail(&log_path, log_start);
                if log.contains("Address already in use") {
                    Err(StartError::PortTaken(Error::Engine(format!(
                        "redis-server could not listen on 127.0.0.1:{port}: {log}"
                    ))))
                } else {
                    Err(StartError::Failed(Error::Engine(format!(
                        "redis-server {why}: {log}"
                    ))))
                }
            }
        }
    }

    /// Waits until PING answers PONG: while the server accepts nothing for ACCEPT_LIMIT, or
    /// keeps answering LOADING past LOAD_LIMIT, or exits, it is not ready.
    fn wait_ready(&mut self, password: &str) -> Result<()> {
        let started = Instant::now();
        let mut deadline = started + ACCEPT_LIMIT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error::Engine(format!("exited at start ({status})")));
            }
            let answer = connect(self.port, password, Duration::from_millis(500))
                .and_then(|mut con| ::redis::cmd("PING").query::<String>(&mut con));
            match answer {
                Ok(_) => return Ok(()),
                Err(e) if e.code() == Some("LOADING") => deadline = started + LOAD_LIMIT,
                Err(_) => {}
            }
            if Instant::now() >= deadline {
                return Err(Error::Engine(format!(
                    "did not answer PING within {} s",
                    deadline.duration_since(started).as_secs()
                )));
            }
            sleep(Duration::from_millis(50));
        }
    }

    /// A new connection, authenticated.
    pub(super) fn connect(&self, password: &str) -> Result<Connection> {
        connect(self.port, password, ACCEPT_LIMIT).map_err(|e| {
            Error::Engine(format!(
                "connecting to redis-server on port {}: {e}",
                self.port
            ))
        })
    }

    pub(super) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM (redis flushes its append-only file and exits), SIGKILL after STOP_LIMIT.
    fn stop(&mut self) {
        if !self.is_running() {
            return;
        }
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = Instant::now() + STOP_LIMIT;
        while Instant::now() < deadline {
            if !self.is_running() {
                return;
            }
            sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

enum StartError {
    PortTaken(Error),
    Failed(Error),
}

/// An authenticated connection to a loopback server. The password travels in the AUTH
/// command only, never in a URL that could end up in an error text.
pub(super) fn connect(
    port: u16,
    password: &str,
    timeout: Duration,
) -> ::redis::RedisResult<Connection> {
    let info = ConnectionAddr::Tcp("127.0.0.1".to_owned(), port)
        .into_connection_info()?
        .set_redis_settings(
            RedisConnectionInfo::default()
                .set_password(password)
                // CLIENT SETINFO is unknown before Redis 7.2.
                .set_skip_set_lib_name(),
        );
    let con = Client::open(info)?.get_connection_with_timeout(timeout)?;
    con.set_read_timeout(Some(IO_TIMEOUT))?;
    con.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(con)
}

fn config_text(spec: &ServerSpec, port: u16) -> Result<String> {
    let dir = utf8(spec.dir)?;
    let in_dir = |name: &str| quote(&format!("{}/{name}", dir.trim_end_matches('/')));
    let appendonly = if spec.persistent { "yes" } else { "no" };
    Ok(format!(
        "# Written by the setops-migrate sandbox at each start.\n\
         bind 127.0.0.1\n\
         port {port}\n\
         protected-mode yes\n\
         daemonize no\n\
         dir {dir}\n\
         logfile {log}\n\
         pidfile {pid}\n\
         requirepass {password}\n\
         dbfilename {dbfilename}\n\
         save \"\"\n\
         appendonly {appendonly}\n",
        dir = quote(dir),
        log = in_dir(LOG_FILE),
        pid = in_dir(PID_FILE),
        password = quote(spec.password),
        dbfilename = quote(spec.dbfilename),
    ))
}

fn utf8(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| {
        Error::Engine(format!(
            "{} is not valid UTF-8, which a redis.conf cannot hold; use a sandbox directory with a plain name",
            path.display()
        ))
    })
}

/// A redis.conf double-quoted string: backslash, quote and anything unprintable escaped.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// Stops a redis-server that still serves `dir` although no server of this process does: the
/// pidfile names it, and it is only touched when it really is a live redis-server whose working
/// directory is `dir` (a pid may have been reused since).
pub(super) fn stop_leftover(dir: &Path) -> Result<()> {
    let pidfile = dir.join(PID_FILE);
    let Ok(text) = fs::read_to_string(&pidfile) else {
        return Ok(());
    };
    let pid = match text.trim().parse::<i32>() {
        Ok(pid) if pid > 0 && serves_dir(pid, dir) => pid,
        _ => {
            let _ = fs::remove_file(&pidfile);
            return Ok(());
        }
    };
    for (signal, limit) in [
        (Signal::SIGTERM, STOP_LIMIT),
        (Signal::SIGKILL, Duration::from_secs(2)),
    ] {
        let _ = kill(Pid::from_raw(pid), signal);
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if !serves_dir(pid, dir) {
                let _ = fs::remove_file(&pidfile);
                return Ok(());
            }
            sleep(Duration::from_millis(20));
        }
    }
    Err(Error::Engine(format!(
        "a redis-server left by an earlier sandbox (pid {pid}) still runs on {} and does not stop; stop it and try again",
        dir.display()
    )))
}

/// Whether `pid` is a live (not zombie) redis-server working in `dir`.
fn serves_dir(pid: i32, dir: &Path) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let Ok(stat) = fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    // "pid (comm) S ...": the state follows the last ')', the name may hold spaces.
    let Some((head, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let live = !matches!(rest.trim_start().chars().next(), Some('Z' | 'X') | None);
    let is_redis = head
        .split_once('(')
        .is_some_and(|(_, comm)| comm == "redis-server");
    let same_dir = match (fs::read_link(proc_dir.join("cwd")), dir.canonicalize()) {
        (Ok(cwd), Ok(dir)) => cwd == dir,
        _ => false,
    };
    live && is_redis && same_dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_what_the_config_parser_would_misread() {
        assert_eq!(quote("plain"), "\"plain\"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("x\ny é"), "\"x\\x0ay \\xc3\\xa9\"");
    }
}
