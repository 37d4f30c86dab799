//! Starting a sandbox server in-process: the one way `demo`, `sandbox serve` and the tests run
//! one. The server runs on the caller's tokio runtime until it is stopped.

use std::fs;
use std::future::Future;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use chrono::Utc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{
    EngineConfig, Error, Result, Sandbox, ServeOptions, read_token, serve_with, token_path,
};
use crate::api::ServerInfo;

/// What to serve, and where.
#[derive(Debug, Clone)]
pub struct SpawnConfig {
    /// The sandbox directory; created and seeded when new, served as it is otherwise.
    pub dir: PathBuf,
    /// Seed file for a new directory; `None` seeds the built-in demo world.
    pub seed: Option<PathBuf>,
    pub engine_config: EngineConfig,
    /// Port 0 lets the system pick a free port.
    pub listen: SocketAddr,
    /// Apps with running containers write to their services while this server runs, whatever
    /// the seed's `live_apps` says (see `sandbox::live`).
    pub live_apps: bool,
}

impl SpawnConfig {
    /// DIR with the demo world, default engines, on a free port of 127.0.0.1.
    pub fn new(dir: impl Into<PathBuf>) -> SpawnConfig {
        SpawnConfig {
            dir: dir.into(),
            seed: None,
            engine_config: EngineConfig::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            live_apps: false,
        }
    }
}

/// A running sandbox server. `stop` shuts it down and waits; dropping it starts the same
/// graceful shutdown without waiting. The directory may be served again afterwards.
pub struct Running {
    pub url: String,
    /// The default user's token.
    pub token: String,
    sandbox: Sandbox,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<()>>>,
    /// What `DIR/server.json` says of this server.
    info: ServerInfo,
    /// DIR's lock and its `server.json`: one server per directory, and any process finds it.
    registration: Option<Registration>,
}

/// Held while the server runs: the lock on `DIR/lock`, and what `DIR/server.json` says.
struct Registration {
    _lock: fs::File,
    dir: PathBuf,
    info: ServerInfo,
}

impl Registration {
    /// Removes `server.json` if it is still ours; the lock goes when the file is closed.
    fn release(self) {
        let path = server_info_path(&self.dir);
        let ours = fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<ServerInfo>(&t).ok())
            .is_some_and(|i| i.pid == self.info.pid && i.url == self.info.url);
        if ours {
            let _ = fs::remove_file(path);
        }
    }
}

/// Opens `config.dir` (creating and seeding it when new), binds `config.listen` and serves on
/// the current tokio runtime.
pub async fn spawn(config: SpawnConfig) -> Result<Running> {
    spawn_with(config, false).await
}

/// [`spawn`] with an optional request log on stderr (the foreground server logs; tests do not).
pub(crate) async fn spawn_with(config: SpawnConfig, log_requests: bool) -> Result<Running> {
    create_dir(&config.dir)?;
    let lock = acquire_lock(&config.dir)?;
    let sandbox =
        Sandbox::open_with(&config.dir, config.seed.as_deref(), &config.engine_config).await?;
    let started = match read_token(&token_path(&config.dir)) {
        Ok(token) => bind_and_serve(&config, &sandbox, log_requests)
            .await
            .map(|served| (token, served)),
        Err(e) => Err(e),
    };
    let (token, (url, stop, server)) = match started {
        Ok(started) => started,
        Err(e) => {
            // Engine servers started while opening must not outlive a sandbox that never served.
            sandbox.shutdown().await;
            return Err(e);
        }
    };
    let info = ServerInfo {
        url: url.clone(),
        pid: std::process::id(),
        started_at: Utc::now(),
    };
    let mut running = Running {
        url,
        token,
        sandbox,
        stop: Some(stop),
        server: Some(server),
        info: info.clone(),
        registration: None,
    };
    let path = server_info_path(&config.dir);
    let written = serde_json::to_vec_pretty(&info)
        .map_err(|e| Error::Internal(format!("serializing server.json: {e}")))
        .and_then(|json| {
            crate::fsio::write_atomic(&path, &json).map_err(|e| Error::io("writing", &path, e))
        });
    if let Err(e) = written {
        let _ = running.stop_now().await;
        return Err(e);
    }
    running.registration = Some(Registration {
        _lock: lock,
        dir: config.dir.clone(),
        info,
    });
    Ok(running)
}

type Served = (String, oneshot::Sender<()>, JoinHandle<Result<()>>);

async fn bind_and_serve(
    config: &SpawnConfig,
    sandbox: &Sandbox,
    log_requests: bool,
) -> Result<Served> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Internal(format!("reading the listening address: {e}")))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_with(
        listener,
        sandbox.clone(),
        async move {
            // A dropped sender stops the server too.
            let _ = stopped.await;
        },
        ServeOptions {
            log_requests,
            live_apps: config.live_apps,
        },
    ));
    Ok((format!("http://{addr}"), stop, server))
}

impl Running {
    /// The served sandbox, for checks straight on its state and disk.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    pub fn dir(&self) -> &Path {
        self.sandbox.dir()
    }

    /// What `DIR/server.json` says of this server.
    pub fn info(&self) -> &ServerInfo {
        &self.info
    }

    /// Graceful shutdown: requests in flight finish, waiting background work stops (its state
    /// stays saved), engine servers stop. Returns once all of that is done.
    pub async fn stop(mut self) -> Result<()> {
        self.stop_now().await
    }

    /// Serves until `signal` resolves, then stops as [`Running::stop`] does. Returns early with
    /// the server's error when it fails by itself.
    pub(crate) async fn stop_on(mut self, signal: impl Future<Output = ()>) -> Result<()> {
        if let Some(server) = self.server.as_mut() {
            tokio::select! {
                joined = server => {
                    self.server = None;
                    return joined_result(joined);
                }
                () = signal => {}
            }
        }
        self.stop_now().await
    }

    async fn stop_now(&mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = match self.server.take() {
            Some(server) => joined_result(server.await),
            None => Ok(()),
        };
        if let Some(registration) = self.registration.take() {
            registration.release();
        }
        result
    }
}

fn joined_result(joined: std::result::Result<Result<()>, tokio::task::JoinError>) -> Result<()> {
    joined.map_err(|e| Error::Internal(format!("the sandbox server task failed: {e}")))?
}

impl Drop for Running {
    fn drop(&mut self) {
        // Drop cannot wait; the runtime finishes the shutdown (callers that must know it is
        // done use `stop`).
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(registration) = self.registration.take() {
            registration.release();
        }
    }
}

pub fn server_info_path(dir: &Path) -> PathBuf {
    dir.join("server.json")
}

pub(crate) fn lock_path(dir: &Path) -> PathBuf {
    dir.join("lock")
}

pub(crate) fn create_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io("creating sandbox directory", dir, e))
}

/// Whether a sandbox lock's record (the holder's pid) names this very process.
fn held_by_this_process(text: &str) -> bool {
    text.trim() == std::process::id().to_string()
}

/// One server per directory: an exclusive lock on `DIR/lock`, which also records the holder's pid
/// so the refusal can name it.
fn acquire_lock(dir: &Path) -> Result<fs::File> {
    let path = lock_path(dir);
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| Error::io("opening", &path, e))?;
    match crate::fsio::lock::try_lock_patiently(&file, held_by_this_process) {
        Ok(()) => {
            let pid = std::process::id();
            file.set_len(0)
                .and_then(|()| file.seek(SeekFrom::Start(0)))
                .and_then(|_| writeln!(file, "{pid}"))
                .map_err(|e| Error::io("writing", &path, e))?;
            Ok(file)
        }
        Err(fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file
                .seek(SeekFrom::Start(0))
                .and_then(|_| file.read_to_string(&mut text));
            let holder = match text.trim() {
                "" => "another process".to_owned(),
                pid => format!("pid {pid}"),
            };
            Err(Error::usage(format!(
                "the sandbox in {} is already served by {holder}; use it through \
                 `--sandbox {}` or stop it with `setops-migrate sandbox stop --dir {}`",
                dir.display(),
                dir.display(),
                dir.display()
            )))
        }
        Err(fs::TryLockError::Error(e)) => Err(Error::io("locking", &path, e)),
    }
}
