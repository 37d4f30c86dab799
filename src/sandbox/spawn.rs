//! Starting a sandbox server in-process: the one way `demo`, `sandbox serve` and the tests run
//! one. The server runs on the caller's tokio runtime until it is stopped.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{EngineConfig, Error, Result, Sandbox, read_token, serve_with, token_path};

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
}

impl SpawnConfig {
    /// DIR with the demo world, default engines, on a free port of 127.0.0.1.
    pub fn new(dir: impl Into<PathBuf>) -> SpawnConfig {
        SpawnConfig {
            dir: dir.into(),
            seed: None,
            engine_config: EngineConfig::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
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
}

/// Opens `config.dir` (creating and seeding it when new), binds `config.listen` and serves on
/// the current tokio runtime.
pub async fn spawn(config: SpawnConfig) -> Result<Running> {
    spawn_with(config, false).await
}

/// [`spawn`] with an optional request log on stderr (the foreground server logs; tests do not).
pub(crate) async fn spawn_with(config: SpawnConfig, log_requests: bool) -> Result<Running> {
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
    Ok(Running {
        url,
        token,
        sandbox,
        stop: Some(stop),
        server: Some(server),
    })
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
        log_requests,
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
        match self.server.take() {
            Some(server) => joined_result(server.await),
            None => Ok(()),
        }
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
    }
}
