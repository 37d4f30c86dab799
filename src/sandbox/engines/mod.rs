//! Engines hold a service's data for real. One implementation per service type:
//! - `volume` and `s3`: directories under `DIR/data/<project>/<stage>/<service>/` (for s3, object
//!   keys are relative paths), backups are `.tar.gz` (`dirtree`);
//! - `postgresql11`/`postgresql13`: a database with its own role in a PostgreSQL cluster the
//!   sandbox runs itself or reaches through an admin URL (`postgres`);
//! - `redis6`: one redis-server per service (`redis`);
//! - `mongodb4`: archives kept as files, no server (`mongo`).
//!
//! `elasticsearch7` has no engine: SetOps has no backup format for it. Services of a type whose
//! engine is unavailable here (PostgreSQL not installed, say) can still be created and linked;
//! they hold no data, and backups of them are refused with the reason.

mod dirs;
pub(crate) mod dirtree;
mod expansion;
#[cfg(test)]
mod fuzz;
mod mongo;
pub(crate) mod postgres;
mod procs;
pub use procs::PROGRAM_PATH_ENV;
pub(crate) mod redis;
pub mod servers;

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use uuid::Uuid;

use crate::api::ServiceConnection;
use crate::model::{Scope, ServiceType};

pub(crate) use crate::sandbox::credentials::{Credentials, random_alnum};
use crate::sandbox::{Error, Result};
pub(crate) use dirs::urlencode;
pub(crate) use dirtree::{BackupSummary, RestoreSummary};

/// Data a seed file puts into a new service (see plans/sandbox/demo-world.yaml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SeedData {
    /// `content:` generated files (volume, s3).
    Files(crate::sandbox::content::ContentSpec),
    /// `sql:` a script run as the service's role (postgresql).
    Sql(String),
    /// `keys:` generated keys of every Redis data type (redis6).
    Keys(KeySpec),
}

/// `keys:` of a seeded redis6 service: deterministic keys of every type (strings, hashes,
/// lists, sets, sorted sets), some with a TTL.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeySpec {
    /// Any number; the same number gives the same keys.
    pub seed: u64,
    /// How many keys to create.
    pub count: u32,
}

/// One committed service as an engine sees it. Owned, so background jobs can carry it.
#[derive(Debug, Clone)]
pub(crate) struct ServiceRef {
    pub scope: Scope,
    pub name: String,
    pub uid: Uuid,
    pub service_type: ServiceType,
    /// `DIR/data/<project>/<stage>/<service>`: the engine's own directory for this service.
    pub data: PathBuf,
    pub options: BTreeMap<String, String>,
    pub credentials: Option<Credentials>,
}

impl ServiceRef {
    pub(crate) fn new(
        root: &Path,
        scope: &Scope,
        name: &str,
        svc: &super::state::ServiceConfig,
    ) -> ServiceRef {
        ServiceRef {
            scope: scope.clone(),
            name: name.to_owned(),
            uid: svc.uid,
            service_type: svc.service_type,
            data: data_dir(root, scope, name),
            options: svc.options.clone(),
            credentials: svc.credentials.clone(),
        }
    }

    /// The database login, or an error naming the service (every PostgreSQL and Redis service
    /// gets one at creation).
    pub(crate) fn login(&self) -> Result<(&str, &str)> {
        self.credentials
            .as_ref()
            .and_then(Credentials::login)
            .ok_or_else(|| Error::Engine(format!("service {:?} has no credentials", self.name)))
    }
}

pub(crate) trait Engine: Send + Sync {
    /// Creates the service's empty data store. Leftovers of an earlier service of the same name
    /// are removed first: a new service starts empty.
    fn provision(&self, svc: &ServiceRef) -> Result<()> {
        remove_dir_if_present(&svc.data).map_err(Error::engine)?;
        fs::create_dir_all(&svc.data).map_err(Error::engine)
    }

    /// Applies the service's options (PostgreSQL `extensions`), after `provision` and after a
    /// commit that changed them. Must be safe to run again.
    fn apply_options(&self, _svc: &ServiceRef) -> Result<()> {
        Ok(())
    }

    /// Puts a seed's data into a provisioned service.
    fn load_seed(&self, svc: &ServiceRef, seed: &SeedData) -> Result<()> {
        Err(Error::Engine(format!(
            "{} services cannot be seeded with {seed:?}",
            svc.service_type
        )))
    }

    /// Whether the store is named by the service's uid rather than its directory, so removing a
    /// destroyed service cannot touch a new service of the same name (a database per uid).
    fn keyed_by_uid(&self) -> bool {
        false
    }

    /// Removes the data of a destroyed service.
    fn remove(&self, svc: &ServiceRef) -> Result<()> {
        remove_dir_if_present(&svc.data).map_err(Error::engine)
    }

    /// Writes a backup of the data in this type's backup format.
    fn backup(&self, svc: &ServiceRef, out: &mut dyn Write) -> io::Result<BackupSummary>;

    /// Checks the first bytes of an uploaded backup (up to 16 KiB, or the whole file).
    fn check_upload(&self, service_type: ServiceType, head: &[u8]) -> Result<()> {
        crate::formats::check_head_for_type(head, service_type)
            .map(|_| ())
            .map_err(Error::Engine)
    }

    /// Restores a backup on top of the data (nothing is purged). The error text is what the
    /// restore record shows.
    fn restore(&self, backup: &Path, svc: &ServiceRef) -> Result<RestoreSummary>;

    /// Whether running the same restore again after an interruption gives the same result as
    /// running it once, so a restore interrupted by a restart may simply run again.
    fn restore_is_repeatable(&self) -> bool;

    /// The env value a linked app receives, with whether it holds a secret; `None` for types
    /// that are mounted instead.
    fn env_value(&self, svc: &ServiceRef, base_url: &str) -> Result<Option<(String, bool)>>;

    /// How this machine reaches the service's data, for verification.
    fn connection(&self, svc: &ServiceRef) -> Result<ServiceConnection>;

    /// Stops what the engine runs (servers), at sandbox shutdown.
    fn shutdown(&self) {}
}

/// The environment variable that carries `EngineConfig::postgres_url` to a background sandbox
/// (and that `--postgres-url` reads).
pub const POSTGRES_URL_ENV: &str = "SETOPS_SANDBOX_POSTGRES_URL";

/// How the sandbox's engines reach their servers.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// A PostgreSQL superuser URL (`postgresql://user:pw@host:port/db`) for every emulated
    /// version, or `11=URL 13=URL`, one per major; `None` runs own clusters under `DIR/postgres`.
    pub postgres_url: Option<String>,
    /// Refuse to run a service type on another server version than the one that emulates it
    /// (`servers::EXACT_VERSIONS_ENV`), instead of standing in with the newest installed.
    pub exact_versions: bool,
}

/// The engines of one sandbox. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Engines {
    inner: Arc<EnginesInner>,
}

struct EnginesInner {
    volume: dirs::DirEngine,
    s3: dirs::DirEngine,
    postgres: postgres::PostgresEngine,
    redis: redis::RedisEngine,
    mongo: mongo::MongoEngine,
}

impl Engines {
    pub(crate) fn new(root: &Path, config: &EngineConfig) -> Engines {
        Engines {
            inner: Arc::new(EnginesInner {
                volume: dirs::DirEngine { bucket: false },
                s3: dirs::DirEngine { bucket: true },
                postgres: postgres::PostgresEngine::new(
                    root,
                    config.postgres_url.as_deref(),
                    config.exact_versions,
                ),
                redis: redis::RedisEngine::new(root, config.exact_versions),
                mongo: mongo::MongoEngine,
            }),
        }
    }

    /// The engine for a type, or why this sandbox has none (the text completes "cannot be
    /// backed up: ...").
    pub(crate) fn get(&self, service_type: ServiceType) -> Result<&dyn Engine> {
        let i = &*self.inner;
        match service_type {
            ServiceType::Volume => Ok(&i.volume),
            ServiceType::S3 => Ok(&i.s3),
            ServiceType::Postgresql11
            | ServiceType::Postgresql13
            | ServiceType::Postgresql14
            | ServiceType::Postgresql15
            | ServiceType::Postgresql16 => i
                .postgres
                .available(service_type)
                .map(|()| &i.postgres as &dyn Engine),
            ServiceType::Redis6 | ServiceType::Redis7 => i
                .redis
                .available(service_type)
                .map(|()| &i.redis as &dyn Engine),
            ServiceType::Mongodb4 => Ok(&i.mongo),
            ServiceType::Elasticsearch7 => Err(Error::engine(
                "elasticsearch7 services have no backup format (SetOps: \"Not implemented yet\")",
            )),
        }
    }

    /// Which server runs `service_type` here (Err: why none can), without starting anything;
    /// `None` for types that run no server.
    fn describe_server(&self, service_type: ServiceType) -> Option<Result<String>> {
        let i = &*self.inner;
        match servers::wanted(service_type)?.0 {
            servers::Product::Postgres | servers::Product::PostgresClient => {
                Some(i.postgres.describe(service_type))
            }
            servers::Product::Redis => Some(i.redis.describe(service_type)),
        }
    }

    /// The major version of the server that runs `service_type`, when known without starting
    /// anything.
    pub(crate) fn server_major(&self, service_type: ServiceType) -> Option<u32> {
        let i = &*self.inner;
        match servers::wanted(service_type)?.0 {
            servers::Product::Postgres | servers::Product::PostgresClient => {
                i.postgres.server_major(service_type)
            }
            servers::Product::Redis => i.redis.server_major(service_type),
        }
    }

    /// Stops every server the engines started.
    pub(crate) fn shutdown(&self) {
        self.inner.redis.shutdown();
        self.inner.postgres.shutdown();
    }
}

/// Which server emulates each service type that runs one, in the sandbox of `root` with
/// `config` (Err: why that type has no server here), for `sandbox serve` and the demo to say.
/// Nothing is started.
pub fn emulated_servers(
    root: &Path,
    config: &EngineConfig,
) -> Vec<(ServiceType, std::result::Result<String, String>)> {
    let engines = Engines::new(root, config);
    ServiceType::ALL
        .iter()
        .filter_map(|t| {
            let described = engines.describe_server(*t)?;
            Some((*t, described.map_err(|e| e.to_string())))
        })
        .collect()
}

pub(crate) fn data_dir(root: &Path, scope: &Scope, service: &str) -> PathBuf {
    root.join("data")
        .join(&scope.project)
        .join(&scope.stage)
        .join(service)
}

pub(crate) fn remove_dir_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
