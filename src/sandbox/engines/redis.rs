//! The redis6 engine: one redis-server per service, started when something needs it, of the
//! Redis version that emulates the type (Redis 6.2 for `redis6`, see `servers`).
//!
//! Each service's directory (`DIR/data/<project>/<stage>/<service>/`) holds its server's
//! `redis.conf` (0600: it holds the password), its append-only data (`appendonly yes`, so data
//! survives a sandbox restart), `redis.log` and `redis.pid`. The server listens on 127.0.0.1 on a
//! port chosen afresh at each start, and requires the service's password (user `default`). It
//! starts at commit, or later when an env value, a backup, a restore or a seed needs it, and stops
//! at sandbox shutdown (or, should the sandbox die, by a watchdog). A server left running by a
//! sandbox process that crashed is stopped before a new one starts on the same directory.
//!
//! Backup: SAVE, then the server's `dump.rdb`, an RDB file of the local Redis's version (RDB 9
//! from Redis 6, 10 from Redis 7.0, 11 from Redis 7.2: with Redis 6.2, RDB 9 as on SetOps).
//!
//! Restore goes on top of the service's data, like every SetOps restore:
//! 1. The file must be an RDB file (`REDIS` and four digits); anything else is refused and
//!    nothing changes.
//! 2. A temporary redis-server (its own temporary directory, no persistence, its own password, a
//!    loopback port) loads the file. When it cannot (an RDB from a newer Redis than the local one,
//!    a damaged file), the restore fails with what that server logged, and nothing changes.
//! 3. For every database that holds keys, each key is copied into the same database number of
//!    the service (DUMP and PTTL, then RESTORE key ttl payload REPLACE):
//!    - a key in the backup replaces the service's key of the same name, whatever its type;
//!    - keys the service holds that the backup does not are kept;
//!    - a key with a time to live keeps the time it had left when the restore read it; keys
//!      already expired in the file are not restored.
//! 4. The temporary server is stopped however the copy ends.
//!
//! Running the same restore again gives the same result, so an interrupted restore simply runs
//! again. A restore that fails during the copy leaves the keys copied so far in the service.

mod copy;
mod log;
mod seed;
mod server;

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use ::redis::Connection;
use uuid::Uuid;

use self::server::{Server, ServerSpec};
use super::servers;
use super::{
    BackupSummary, Engine, RestoreSummary, SeedData, ServiceRef, random_alnum,
    remove_dir_if_present, urlencode,
};
use crate::api::{ConnectionKind, ServiceConnection};
use crate::model::ServiceType;
use crate::sandbox::{Error, Result};

/// The RDB file a service's server writes on SAVE (and that backups stream out).
const RDB_FILE: &str = "dump.rdb";
/// Name of the backup inside a restore's temporary directory (a symlink to the backup file).
const RESTORE_RDB: &str = "backup.rdb";

pub(crate) struct RedisEngine {
    /// The sandbox directory: restores make their temporary directories here.
    root: PathBuf,
    /// No other version stands in for a missing one.
    exact: bool,
    /// The servers this engine runs, by service uid.
    servers: Mutex<HashMap<Uuid, Server>>,
}

/// Where a running service server listens and how to log in.
struct Endpoint {
    port: u16,
    password: String,
}

impl Endpoint {
    fn connect(&self) -> Result<Connection> {
        server::connect(self.port, &self.password, std::time::Duration::from_secs(5)).map_err(|e| {
            Error::Engine(format!(
                "connecting to redis-server on port {}: {e}",
                self.port
            ))
        })
    }

    fn url(&self) -> String {
        format!(
            "redis://:{}@127.0.0.1:{}",
            urlencode(&self.password),
            self.port
        )
    }
}

impl RedisEngine {
    pub(crate) fn new(root: &Path, exact: bool) -> RedisEngine {
        RedisEngine {
            root: root.to_owned(),
            exact,
            servers: Mutex::new(HashMap::new()),
        }
    }

    /// Ok when a redis-server for `service_type` is installed; Err says how to install it.
    pub(crate) fn available(&self, service_type: ServiceType) -> Result<()> {
        self.program(service_type).map(|_| ())
    }

    /// The major version of the redis-server that runs `service_type` here.
    pub(crate) fn server_major(&self, service_type: ServiceType) -> Option<u32> {
        let (product, major) = servers::wanted(service_type)?;
        servers::choose(product, major, self.exact)
            .ok()
            .map(|c| c.build.major)
    }

    /// Which server runs `service_type` here.
    pub(crate) fn describe(&self, service_type: ServiceType) -> Result<String> {
        let (product, major) = servers::wanted(service_type)
            .ok_or_else(|| Error::Engine(format!("{service_type} is not a Redis type")))?;
        servers::choose(product, major, self.exact).map(|c| c.describe())
    }

    /// The redis-server of the Redis major that emulates `service_type` (Redis 6 for `redis6`;
    /// see `servers`), so backups carry that version's RDB format and restores load files as
    /// it would.
    fn program(&self, service_type: ServiceType) -> Result<PathBuf> {
        let (product, major) = servers::wanted(service_type)
            .ok_or_else(|| Error::Engine(format!("{service_type} is not a Redis type")))?;
        servers::choose(product, major, self.exact).map(|c| c.build.program("redis-server"))
    }

    fn servers(&self) -> MutexGuard<'_, HashMap<Uuid, Server>> {
        // A panic elsewhere while holding the map leaves it usable: entries are whole servers.
        self.servers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The service's server, started when it does not run. The map stays locked during a start,
    /// so two requests cannot start two servers on one directory.
    fn running(&self, svc: &ServiceRef) -> Result<Endpoint> {
        let (_, password) = svc.login()?;
        let endpoint = |port| Endpoint {
            port,
            password: password.to_owned(),
        };
        let program = self.program(svc.service_type)?;
        let mut servers = self.servers();
        if let Some(server) = servers.get_mut(&svc.uid) {
            if server.is_running() {
                return Ok(endpoint(server.port));
            }
            // It died (killed from outside); start it again on the same data.
            servers.remove(&svc.uid);
        }
        let dir = private_dir(&svc.data)?;
        server::stop_leftover(&dir)?;
        let server = Server::start(
            &program,
            &ServerSpec {
                dir: &dir,
                password,
                persistent: true,
                dbfilename: RDB_FILE,
            },
        )
        .map_err(|e| {
            Error::Engine(format!(
                "starting the redis-server of service {:?}: {e}",
                svc.name
            ))
        })?;
        let port = server.port;
        servers.insert(svc.uid, server);
        Ok(endpoint(port))
    }

    /// Stops every server on `data`: ours (a destroyed service of the same name) and one a
    /// crashed earlier sandbox left behind.
    fn stop_servers_on(&self, data: &Path) -> Result<()> {
        let Ok(dir) = data.canonicalize() else {
            return Ok(());
        };
        let stopped: Vec<Server> = {
            let mut servers = self.servers();
            let uids: Vec<Uuid> = servers
                .iter()
                .filter(|(_, s)| s.dir == dir)
                .map(|(uid, _)| *uid)
                .collect();
            uids.iter().filter_map(|uid| servers.remove(uid)).collect()
        };
        // Dropping stops them, outside the lock.
        drop(stopped);
        server::stop_leftover(&dir)
    }

    /// Stops every server this engine started.
    pub(crate) fn shutdown(&self) {
        let servers: Vec<Server> = self.servers().drain().map(|(_, s)| s).collect();
        drop(servers);
    }
}

impl Drop for RedisEngine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Creates `dir` (0700: it holds the password and the data) and returns its absolute path, which
/// the server's config needs.
fn private_dir(dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir)
        .map_err(|e| Error::Engine(format!("creating {}: {e}", dir.display())))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::Engine(format!("setting the mode of {}: {e}", dir.display())))?;
    dir.canonicalize()
        .map_err(|e| Error::Engine(format!("resolving {}: {e}", dir.display())))
}

/// Refuses anything that does not start like an RDB file, before a server is started.
fn check_rdb(backup: &Path) -> Result<()> {
    let mut head = Vec::new();
    fs::File::open(backup)
        .and_then(|f| f.take(16 * 1024).read_to_end(&mut head))
        .map_err(|e| Error::Engine(format!("reading the backup file: {e}")))?;
    crate::formats::check_head_for_type(&head, ServiceType::Redis6)
        .map(|_| ())
        .map_err(Error::Engine)
}

impl Engine for RedisEngine {
    /// A new service starts empty: any server on the directory is stopped and the directory
    /// wiped before its own server starts.
    fn provision(&self, svc: &ServiceRef) -> Result<()> {
        self.stop_servers_on(&svc.data)?;
        remove_dir_if_present(&svc.data)
            .map_err(|e| Error::Engine(format!("removing {}: {e}", svc.data.display())))?;
        self.running(svc).map(|_| ())
    }

    fn load_seed(&self, svc: &ServiceRef, seed: &SeedData) -> Result<()> {
        let SeedData::Keys(spec) = seed else {
            return Err(Error::Engine(format!(
                "{} services take `keys`, not {seed:?}",
                svc.service_type
            )));
        };
        let mut con = self.running(svc)?.connect()?;
        seed::load(&mut con, spec)
    }

    fn remove(&self, svc: &ServiceRef) -> Result<()> {
        let own = self.servers().remove(&svc.uid);
        drop(own);
        self.stop_servers_on(&svc.data)?;
        remove_dir_if_present(&svc.data)
            .map_err(|e| Error::Engine(format!("removing {}: {e}", svc.data.display())))
    }

    fn backup(&self, svc: &ServiceRef, out: &mut dyn Write) -> io::Result<BackupSummary> {
        let mut con = self
            .running(svc)
            .and_then(|e| e.connect())
            .map_err(io::Error::other)?;
        ::redis::cmd("SAVE").exec(&mut con).map_err(|e| {
            io::Error::other(format!(
                "SAVE on the redis-server of service {:?}: {e}",
                svc.name
            ))
        })?;
        let mut rdb = fs::File::open(svc.data.join(RDB_FILE))?;
        io::copy(&mut rdb, out)?;
        Ok(BackupSummary {
            files: 1,
            ..BackupSummary::default()
        })
    }

    /// `files` counts the keys written, `bytes` their serialized size.
    fn restore(&self, backup: &Path, svc: &ServiceRef) -> Result<RestoreSummary> {
        check_rdb(backup)?;
        let target = self.running(svc)?;
        let program = self.program(svc.service_type)?;
        let backup = backup
            .canonicalize()
            .map_err(|e| Error::Engine(format!("resolving the backup file: {e}")))?;
        fs::create_dir_all(&self.root)
            .map_err(|e| Error::Engine(format!("creating {}: {e}", self.root.display())))?;
        let tmp = tempfile::Builder::new()
            .prefix(".redis-restore-")
            .tempdir_in(&self.root)
            .map_err(|e| {
                Error::Engine(format!(
                    "creating a temporary directory in {}: {e}",
                    self.root.display()
                ))
            })?;
        let tmp_dir = tmp
            .path()
            .canonicalize()
            .map_err(|e| Error::Engine(format!("resolving {}: {e}", tmp.path().display())))?;
        // A symlink, not a copy: the temporary server only reads it (no save points), and even a
        // save would replace the link, never the backup.
        std::os::unix::fs::symlink(&backup, tmp_dir.join(RESTORE_RDB)).map_err(|e| {
            Error::Engine(format!(
                "linking the backup into {}: {e}",
                tmp_dir.display()
            ))
        })?;
        let password = random_alnum(32, false);
        let loader = Server::start(
            &program,
            &ServerSpec {
                dir: &tmp_dir,
                password: &password,
                persistent: false,
                dbfilename: RESTORE_RDB,
            },
        )
        .map_err(|e| Error::Engine(format!("the backup could not be loaded: {e}")))?;
        let mut from = loader.connect(&password)?;
        let mut to = target.connect()?;
        let copied = copy::copy_all(&mut from, &mut to)?;
        drop(loader);
        Ok(RestoreSummary {
            files: copied.keys,
            dirs: 0,
            bytes: copied.bytes,
        })
    }

    fn restore_is_repeatable(&self) -> bool {
        true
    }

    fn env_value(&self, svc: &ServiceRef, _: &str) -> Result<Option<(String, bool)>> {
        Ok(Some((self.running(svc)?.url(), true)))
    }

    fn connection(&self, svc: &ServiceRef) -> Result<ServiceConnection> {
        Ok(ServiceConnection {
            kind: ConnectionKind::Redis,
            url: self.running(svc)?.url(),
        })
    }

    fn shutdown(&self) {
        RedisEngine::shutdown(self);
    }
}

#[cfg(test)]
mod tests;
