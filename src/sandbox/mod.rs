//! The sandbox: a local SetOps emulator. An axum server implementing the HTTP contract of
//! `crate::api` with the types of `crate::model`, backed by real data (volume and s3 services are
//! directories; backups are real `.tar.gz` files). Its whole state lives in one directory:
//!
//! ```text
//! DIR/state.json        the world (atomic replace after every change), 0600
//! DIR/token             the default user's bearer token, 0600
//! DIR/users/<u>.token   every user's bearer token, 0600
//! DIR/data/<project>/<stage>/<service>/   service data
//! DIR/backups/<id>.<ext>                  backup files, 0600
//! DIR/server.json, DIR/lock, DIR/server.log   a background server (see `process`)
//! ```

mod auth;
pub mod cli_front;
mod commit;
mod content;
mod credentials;
mod engines;
mod error;
mod errors;
mod extract;
mod faults;
mod jobs;
mod live;
mod lookup;
pub mod process;
mod routes;
mod rules;
mod seed;
mod spawn;
mod state;
mod tasks;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use auth::{read_token, token_path, user_token_path};
pub use engines::postgres::PostgresCluster;
pub use engines::{EngineConfig, POSTGRES_URL_ENV, PROGRAM_PATH_ENV, emulated_servers, servers};
pub use error::{Error, Result};
pub use spawn::{Running, SpawnConfig, spawn};

use errors::ApiError;
use faults::Knobs;
use jobs::Job;
use state::World;

/// A sandbox opened on its directory. Cheap to clone; all clones share one state.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    /// Created once in DIR (`DIR/instance`): the sandbox's identity for journals, whatever its URL.
    instance: String,
    world: tokio::sync::Mutex<World>,
    /// SHA-256 of each user's token -> user name.
    tokens: HashMap<String, String>,
    knobs: Knobs,
    /// Background work (commits, backup jobs), awaited at shutdown.
    tasks: Mutex<JoinSet<()>>,
    cancel: CancellationToken,
    /// Backups whose bytes are arriving right now, so two PUTs cannot write one file.
    uploads: Mutex<HashSet<Uuid>>,
    engines: engines::Engines,
    /// What live apps wrote, and whether they are switched on.
    live: live::Counters,
    /// Live writes hold it shared; a task listing takes it alone (see `live`).
    containers: tokio::sync::RwLock<()>,
}

/// Entries a directory may hold before it has a state (written by `sandbox serve` and the
/// background spawner before the sandbox opens, or left by an interrupted seeding).
/// `bin` holds the `setops` link to this program (the sandbox front) that `--platform cli` makes.
const PRE_STATE_ENTRIES: [&str; 9] = [
    "bin",
    "instance",
    "lock",
    "server.log",
    "server.json",
    "token",
    "users",
    "data",
    "backups",
];

impl Sandbox {
    /// Opens DIR, creating and seeding it when new (`seed` file, else the built-in demo world),
    /// and recovers operations a previous server left in flight.
    pub async fn open(dir: &Path, seed: Option<&Path>) -> Result<Sandbox> {
        Sandbox::open_with(dir, seed, &EngineConfig::default()).await
    }

    /// [`Sandbox::open`] with engine settings (an external PostgreSQL server, say).
    pub async fn open_with(
        dir: &Path,
        seed: Option<&Path>,
        config: &EngineConfig,
    ) -> Result<Sandbox> {
        // Data directories are handed out as `file://` connections, which must be absolute
        // (`sandbox serve --dir .sandbox`); only an unreadable working directory keeps it as given.
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let seed = seed.map(Path::to_path_buf);
        let prepared_dir = dir.clone();
        let engines = engines::Engines::new(&dir, config);
        let prepared_engines = engines.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            prepare(&prepared_dir, seed.as_deref(), &prepared_engines)
        })
        .await
        .map_err(|e| Error::Internal(format!("opening the sandbox: {e}")));
        let (world, tokens, jobs) = match prepared {
            Ok(Ok(p)) => p,
            Ok(Err(e)) | Err(e) => {
                // Servers started while seeding must not outlive a sandbox that failed to open.
                tokio::task::spawn_blocking(move || engines.shutdown())
                    .await
                    .ok();
                return Err(e);
            }
        };
        let instance = match instance_id(&dir) {
            Ok(id) => id,
            Err(e) => {
                tokio::task::spawn_blocking(move || engines.shutdown())
                    .await
                    .ok();
                return Err(e);
            }
        };
        let sandbox = Sandbox {
            inner: Arc::new(Inner {
                dir,
                instance,
                world: tokio::sync::Mutex::new(world),
                tokens,
                knobs: Knobs::new(),
                tasks: Mutex::new(JoinSet::new()),
                cancel: CancellationToken::new(),
                uploads: Mutex::new(HashSet::new()),
                engines,
                live: live::Counters::default(),
                containers: tokio::sync::RwLock::new(()),
            }),
        };
        for job in jobs {
            sandbox.start_job(job);
        }
        Ok(sandbox)
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// This sandbox's instance ID (see [`instance_id`]).
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// Where a committed service keeps its data on disk (volume and s3 services), for checks
    /// that compare a migration's source and target byte for byte. `None` when the service does
    /// not exist or its type has no engine here.
    pub async fn service_data_dir(
        &self,
        scope: &crate::model::Scope,
        service: &str,
    ) -> Option<PathBuf> {
        let world = self.world().await;
        let svc = world.stage(scope)?.config.services.get(service)?;
        matches!(
            svc.service_type,
            crate::model::ServiceType::Volume | crate::model::ServiceType::S3
        )
        .then(|| engines::data_dir(&self.inner.dir, scope, service))
    }

    /// Why services of `service_type` hold no data in this sandbox (its engine's programs are
    /// missing, say); `None` when they do.
    pub fn engine_unavailable(&self, service_type: crate::model::ServiceType) -> Option<String> {
        self.inner
            .engines
            .get(service_type)
            .err()
            .map(|e| e.to_string())
    }

    /// The major version of the server that runs services of `service_type` here (a stand-in's
    /// when the type's own version is not installed); `None` when unknown (a server given by
    /// URL) or the type runs none.
    pub fn server_major(&self, service_type: crate::model::ServiceType) -> Option<u32> {
        self.inner.engines.server_major(service_type)
    }

    pub(crate) fn engines(&self) -> &engines::Engines {
        &self.inner.engines
    }

    pub(crate) fn user_for_token_digest(&self, digest: &str) -> Option<String> {
        self.inner.tokens.get(digest).cloned()
    }

    pub(crate) fn knobs(&self) -> &Knobs {
        &self.inner.knobs
    }

    pub(crate) fn live(&self) -> &live::Counters {
        &self.inner.live
    }

    /// Held while a live app checks that its container runs and writes.
    pub(crate) async fn containers_running(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.inner.containers.read().await
    }

    /// Held while containers are listed: live writes in flight finish first, so a container
    /// listed as stopped has written its last.
    pub(crate) async fn containers_settled(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.inner.containers.write().await
    }

    pub(crate) async fn world(&self) -> tokio::sync::MutexGuard<'_, World> {
        self.inner.world.lock().await
    }

    /// Saves the world after a mutation; a failure is the server's fault (500).
    pub(crate) fn persist(&self, world: &World) -> std::result::Result<(), ApiError> {
        state::save(&self.inner.dir, world).map_err(ApiError::internal)
    }

    pub(crate) fn backups_dir(&self) -> PathBuf {
        self.inner.dir.join("backups")
    }

    /// Marks a backup as receiving bytes; `None` when another upload to it is running.
    pub(crate) fn claim_upload(&self, id: Uuid) -> Option<UploadClaim> {
        let mut set = self.inner.uploads.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(id).then(|| UploadClaim {
            sandbox: self.clone(),
            id,
        })
    }

    /// Runs background work that ends at shutdown at the latest.
    pub(crate) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
        // Reap finished tasks so the set does not grow with the server's lifetime.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(work);
    }

    /// Waits `delay` unless the sandbox shuts down first; false means "stop, do nothing more".
    pub(crate) async fn pause(&self, delay: std::time::Duration) -> bool {
        tokio::select! {
            () = self.inner.cancel.cancelled() => false,
            () = tokio::time::sleep(delay) => true,
        }
    }

    /// Stops background work: waiting tasks end at once (their state stays as saved, and the
    /// next open recovers it); work already writing data finishes first.
    pub(crate) async fn shutdown(&self) {
        self.inner.cancel.cancel();
        let mut tasks = {
            let mut guard = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *guard)
        };
        while tasks.join_next().await.is_some() {}
        let engines = self.inner.engines.clone();
        let _ = tokio::task::spawn_blocking(move || engines.shutdown()).await;
    }
}

/// Releases an upload claim when the upload ends, however it ends.
pub(crate) struct UploadClaim {
    sandbox: Sandbox,
    id: Uuid,
}

impl Drop for UploadClaim {
    fn drop(&mut self) {
        let mut set = self
            .sandbox
            .inner
            .uploads
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        set.remove(&self.id);
    }
}

type Prepared = (World, HashMap<String, String>, Vec<Job>);

fn prepare(dir: &Path, seed_file: Option<&Path>, engines: &engines::Engines) -> Result<Prepared> {
    fs::create_dir_all(dir).map_err(|e| Error::io("creating sandbox directory", dir, e))?;
    let fresh = !state::state_path(dir).exists();
    if fresh {
        check_fresh(dir)?;
    }
    // Before seeding: engines that decide from DIR's permissions where their servers keep data
    // (PostgreSQL run as `nobody` by root) must see the final ones.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io("restricting permissions of", dir, e))?;
    let mut world = if !fresh {
        state::load(dir)?
    } else {
        let (text, origin) = match seed_file {
            Some(path) => seed::read(path)?,
            None => (seed::DEMO_SEED.to_owned(), seed::DEMO_SEED_NAME.to_owned()),
        };
        let seeded = seed::build(&text, &origin, Utc::now())?;
        let world = seed::materialize(dir, seeded, engines)?;
        state::save(dir, &world)?;
        world
    };
    let tokens = auth::load_tokens(dir, &world.users)?;
    let now = Utc::now();
    // A state written before apps had containers gets them, already running; others keep theirs.
    for stage in world
        .projects
        .values_mut()
        .flat_map(|p| p.stages.values_mut())
    {
        tasks::converge_stage(stage, now, std::time::Duration::ZERO);
    }
    let jobs = jobs::recover(dir, &mut world, engines, now);
    state::save(dir, &world)?;
    Ok((world, tokens, jobs))
}

/// A directory without state must not hold anything but sandbox files: seeding clears `data`
/// and `backups`, and pointing `--sandbox` at a project folder by mistake must not touch it.
fn check_fresh(dir: &Path) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io("reading", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("reading", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Temp files of atomic writes are `.<name>.tmp`.
        let temp = name.starts_with('.') && name.ends_with(".tmp");
        if !temp && !PRE_STATE_ENTRIES.contains(&name.as_str()) {
            return Err(Error::usage(format!(
                "{} is not empty and is not a sandbox (no state.json; found {name:?}); \
                 pass a new or empty directory",
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Serves the sandbox on `listener` until `shutdown` resolves, then stops background work, with
/// an optional request log on stderr. Pre-signed transfer URLs point at
/// `http://{listener.local_addr()}`. Work that was still waiting (a restore's delay, a commit's
/// phases) stays saved as it was; open the directory again to serve it again, which resumes or
/// fails that work as `Sandbox::open` documents. Started through [`spawn`].
async fn serve_with(
    listener: tokio::net::TcpListener,
    sandbox: Sandbox,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> Result<()> {
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Internal(format!("reading the listening address: {e}")))?;
    if options.live_apps || sandbox.world().await.live_apps {
        sandbox.live().enable();
        live::start(&sandbox);
    }
    let app = routes::router(
        lookup::AppState {
            sandbox: sandbox.clone(),
            base_url: format!("http://{addr}").into(),
        },
        options.log_requests,
    );
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::Internal(format!("sandbox server on {addr} failed: {e}")));
    sandbox.shutdown().await;
    served
}

/// How one server runs, beyond what its directory holds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServeOptions {
    /// Log every request on stderr (the foreground server does; tests do not).
    pub log_requests: bool,
    /// Live apps for this server, whatever the seed said (`sandbox serve --live-apps`).
    pub live_apps: bool,
}

/// The sandbox's instance ID, read from `DIR/instance` or created there once: a random UUID,
/// written atomically so a crash never leaves a half-written ID that changes the identity.
fn instance_id(dir: &Path) -> Result<String> {
    let path = dir.join(INSTANCE_FILE);
    match fs::read_to_string(&path) {
        Ok(text) if Uuid::parse_str(text.trim()).is_ok() => return Ok(text.trim().to_owned()),
        Ok(_) => {
            return Err(Error::Usage(format!(
                "{} does not hold a sandbox instance ID (a UUID); restore it, or remove it to \
                 give this sandbox a new identity (journals of runs against it are then not found)",
                path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("reading", &path, e)),
    }
    let id = Uuid::new_v4().to_string();
    crate::fsio::write_atomic(&path, format!("{id}\n").as_bytes())
        .map_err(|e| Error::io("writing", &path, e))?;
    Ok(id)
}

const INSTANCE_FILE: &str = "instance";
