//! The PostgreSQL engine: each `postgresql11`/`postgresql13` service is a database with its own
//! login role, both named `sbx_<16 hex of the service uid>` (see `Credentials::generate`).
//!
//! The server is one of:
//! - an existing server reached through a superuser URL (`--postgres-url`), which is stored in
//!   `DIR/postgres/cluster.json` at the first PostgreSQL operation and used again whenever the
//!   sandbox is opened without one;
//! - a cluster the sandbox runs itself ([`PostgresCluster`]): created with `initdb` and
//!   started with `pg_ctl` at the first PostgreSQL operation (a sandbox without PostgreSQL
//!   services never starts one), on a free loopback port, TCP only, scram-sha-256, its
//!   superuser password generated and kept in `DIR/postgres/cluster.json` (0600). Its data is
//!   in `DIR/postgres/data`; as root PostgreSQL runs as `nobody` and the data is in
//!   `DIR/postgres/server/data`, or under `/var/tmp/setops-sandbox-postgres/` when `nobody`
//!   cannot reach `DIR` (see `location`, also for when that is removed). The server is stopped by
//!   the engine's `shutdown` or, should the sandbox process die, by a watchdog; the next
//!   open starts it again (or adopts it, if it still runs), on a new port if the old one is
//!   taken. Link values are computed per request, so a new port is harmless.
//!
//! Backups are `pg_dump -Fc` archives made as the service role. Restores run `pg_restore
//! --single-transaction --no-owner --no-acl` as the service role on top of what the database
//! holds: objects that already exist make the restore fail (`relation "x" already exists`),
//! and a failed restore changes nothing.

mod admin;
mod cluster;
mod conn;
mod dump;
mod location;
mod postmaster;
mod programs;
mod record;
mod run_as;
#[cfg(test)]
mod tests;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

pub use cluster::PostgresCluster;

use super::{BackupSummary, Engine, RestoreSummary, SeedData, ServiceRef};
use crate::api::{ConnectionKind, ServiceConnection};
use crate::sandbox::{Error, Result};
use conn::Superuser;
use record::ClusterFile;

pub(crate) struct PostgresEngine {
    /// `DIR/postgres`.
    dir: PathBuf,
    admin_url: Option<String>,
    /// Which server this sandbox uses, decided once.
    mode: OnceLock<Result<Mode>>,
    /// The server, once the first operation needed it.
    server: Mutex<Option<Server>>,
}

enum Mode {
    /// `given`: the URL came with this open and still has to be stored.
    Admin {
        superuser: Superuser,
        url: String,
        given: bool,
    },
    Own,
}

enum Server {
    Admin(Superuser),
    Own(PostgresCluster),
}

impl Server {
    fn superuser(&self) -> &Superuser {
        match self {
            Server::Admin(su) => su,
            Server::Own(cluster) => cluster.superuser(),
        }
    }
}

impl PostgresEngine {
    /// `admin_url`: a superuser URL to use instead of an own cluster. Nothing is read, written
    /// or started before the first operation.
    pub(crate) fn new(root: &Path, admin_url: Option<String>) -> PostgresEngine {
        PostgresEngine {
            dir: root.join("postgres"),
            admin_url,
            mode: OnceLock::new(),
            server: Mutex::new(None),
        }
    }

    /// Whether this machine has what the engine needs; Err names the missing program and how
    /// to install it, or what is wrong with the admin URL.
    pub(crate) fn available(&self) -> Result<()> {
        programs::clients()?;
        match self.mode()? {
            Mode::Own => programs::server().map(|_| ()),
            Mode::Admin { .. } => Ok(()),
        }
    }

    fn mode(&self) -> Result<&Mode> {
        self.mode
            .get_or_init(|| {
                let (url, given) = match &self.admin_url {
                    Some(url) => (url.clone(), true),
                    None => match ClusterFile::load(&self.dir)?.admin_url {
                        Some(url) => (url, false),
                        None => return Ok(Mode::Own),
                    },
                };
                Ok(Mode::Admin {
                    superuser: Superuser::from_url(&url)?,
                    url,
                    given,
                })
            })
            .as_ref()
            .map_err(Error::repeated)
    }

    /// The superuser of the server, starting the own cluster when it is not running.
    fn connect(&self) -> Result<Superuser> {
        let mut guard = self.server.lock().unwrap_or_else(PoisonError::into_inner);
        let server = match guard.take() {
            Some(Server::Own(cluster)) if !cluster.is_running() => {
                eprintln!(
                    "sandbox: the PostgreSQL server of {} stopped; starting it again",
                    self.dir.display()
                );
                self.open_server()?
            }
            Some(server) => server,
            None => self.open_server()?,
        };
        let superuser = server.superuser().clone();
        *guard = Some(server);
        Ok(superuser)
    }

    fn open_server(&self) -> Result<Server> {
        self.available()?;
        match self.mode()? {
            Mode::Admin {
                superuser,
                url,
                given,
            } => {
                if *given {
                    self.store_admin_url(url)?;
                }
                Ok(Server::Admin(superuser.clone()))
            }
            Mode::Own => PostgresCluster::start(&self.dir).map(Server::Own),
        }
    }

    fn store_admin_url(&self, url: &str) -> Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| Error::Engine(format!("creating {}: {e}", self.dir.display())))?;
        let mut file = ClusterFile::load(&self.dir)?;
        if file.admin_url.as_deref() != Some(url) {
            file.admin_url = Some(url.to_owned());
            file.save(&self.dir)?;
        }
        Ok(())
    }

    fn service_url(&self, svc: &ServiceRef) -> Result<String> {
        let (role, password) = svc.login()?;
        Ok(self.connect()?.endpoint.url(role, password, role))
    }
}

impl Engine for PostgresEngine {
    fn provision(&self, svc: &ServiceRef) -> Result<()> {
        let (role, password) = svc.login()?;
        let su = self.connect()?;
        admin::provision(&programs::clients()?.psql, &su, role, password)
            .map_err(|e| Error::Engine(format!("service {:?}: {e}", svc.name)))
    }

    fn apply_options(&self, svc: &ServiceRef) -> Result<()> {
        // min_storage/max_storage size RDS storage; a local database has nothing to size.
        let Some(list) = svc.options.get("extensions") else {
            return Ok(());
        };
        let (role, _) = svc.login()?;
        let su = self.connect()?;
        admin::create_extensions(&programs::clients()?.psql, &su, role, list)
            .map_err(|e| Error::Engine(format!("service {:?}: {e}", svc.name)))
    }

    fn load_seed(&self, svc: &ServiceRef, seed: &SeedData) -> Result<()> {
        let SeedData::Sql(script) = seed else {
            return Err(Error::Engine(format!(
                "{} services take `sql`, not {seed:?}",
                svc.service_type
            )));
        };
        let (role, password) = svc.login()?;
        let su = self.connect()?;
        let login = conn::Login {
            user: role,
            password,
            database: role,
        };
        dump::run_script(&programs::clients()?.psql, &su.endpoint, login, script).map_err(|e| {
            Error::Engine(format!(
                "running the seed script of service {:?}: {e}",
                svc.name
            ))
        })
    }

    fn keyed_by_uid(&self) -> bool {
        true
    }

    fn remove(&self, svc: &ServiceRef) -> Result<()> {
        let (role, _) = svc.login()?;
        let su = self.connect()?;
        admin::remove(&programs::clients()?.psql, &su, role)
            .map_err(|e| Error::Engine(format!("service {:?}: {e}", svc.name)))
    }

    fn backup(&self, svc: &ServiceRef, out: &mut dyn Write) -> io::Result<BackupSummary> {
        let (role, password) = svc.login().map_err(io::Error::other)?;
        let su = self.connect().map_err(io::Error::other)?;
        let pg_dump = &programs::clients().map_err(io::Error::other)?.pg_dump;
        let login = conn::Login {
            user: role,
            password,
            database: role,
        };
        dump::backup(pg_dump, &su.endpoint, login, out)?;
        Ok(BackupSummary::default())
    }

    fn restore(&self, backup: &Path, svc: &ServiceRef) -> Result<RestoreSummary> {
        let bytes = std::fs::metadata(backup)
            .map_err(|e| Error::Engine(format!("reading {}: {e}", backup.display())))?
            .len();
        let (role, password) = svc.login()?;
        let su = self.connect()?;
        let login = conn::Login {
            user: role,
            password,
            database: role,
        };
        dump::restore(
            &programs::clients()?.pg_restore,
            &su.endpoint,
            login,
            backup,
        )?;
        Ok(RestoreSummary {
            files: 0,
            dirs: 0,
            bytes,
        })
    }

    /// No: the restore is one transaction, but one that committed just before the sandbox
    /// stopped would fail with "already exists" when run again, and a success would be
    /// recorded as a failure. An interrupted restore is recorded as interrupted instead.
    fn restore_is_repeatable(&self) -> bool {
        false
    }

    fn env_value(&self, svc: &ServiceRef, _: &str) -> Result<Option<(String, bool)>> {
        self.service_url(svc).map(|url| Some((url, true)))
    }

    fn connection(&self, svc: &ServiceRef) -> Result<ServiceConnection> {
        Ok(ServiceConnection {
            kind: ConnectionKind::Postgresql,
            url: self.service_url(svc)?,
        })
    }

    fn shutdown(&self) {
        let server = self
            .server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(Server::Own(cluster)) = server {
            cluster.stop();
        }
    }
}
