//! The PostgreSQL engine: each `postgresql11`/`postgresql13` service is a database with its own
//! login role, both named `sbx_<16 hex of the service uid>` (see `Credentials::generate`).
//!
//! Each type runs on a server of its own major version (`servers`: PostgreSQL 11 for
//! `postgresql11`, 13 for `postgresql13`), kept in `DIR/postgres/<major>/`. That server is one of:
//! - an existing server reached through a superuser URL (`--postgres-url`, for every version or
//!   per major: `11=URL 13=URL`), which is stored in `DIR/postgres/<major>/cluster.json` at the
//!   first operation and used again whenever the sandbox is opened without one;
//! - a cluster the sandbox runs itself ([`PostgresCluster`]): created with that major's `initdb`
//!   and started with `pg_ctl` at the first operation of its version (a sandbox without
//!   PostgreSQL services never starts one), on a free loopback port, TCP only, scram-sha-256,
//!   its superuser password generated and kept in `DIR/postgres/<major>/cluster.json` (0600).
//!   Its data is in `DIR/postgres/<major>/data`; as root PostgreSQL runs as `nobody` and the
//!   data is in `DIR/postgres/<major>/server/data`, or under `/var/tmp/setops-sandbox-postgres/`
//!   when `nobody` cannot reach `DIR` (see `location`, also for when that is removed). The
//!   server is stopped by the engine's `shutdown` or, should the sandbox process die, by a
//!   watchdog; the next open starts it again (or adopts it, if it still runs), on a new port if
//!   the old one is taken. Link values are computed per request, so a new port is harmless.
//!
//! pg_dump and pg_restore are the newest installed client, as a platform's would be.
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
mod urls;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

pub use cluster::PostgresCluster;
pub use urls::PostgresUrls;

use super::servers::{self, Product};
use super::{BackupSummary, Engine, RestoreSummary, SeedData, ServiceRef};
use crate::api::{ConnectionKind, ServiceConnection};
use crate::model::ServiceType;
use crate::sandbox::{Error, Result};
use conn::Superuser;
use record::ClusterFile;

pub(crate) struct PostgresEngine {
    /// `DIR/postgres`.
    dir: PathBuf,
    /// Err: `--postgres-url` does not parse; every operation says so.
    urls: Result<PostgresUrls>,
    /// No other version stands in for a missing one.
    exact: bool,
    /// One server per emulated major version, each started at its first operation.
    versions: BTreeMap<u32, Version>,
    /// Whether the notice about an earlier layout's cluster was given.
    legacy_checked: OnceLock<()>,
}

/// The server of one emulated major version, in `DIR/postgres/<major>`.
struct Version {
    major: u32,
    dir: PathBuf,
    /// Which server this sandbox uses for the version, decided once.
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
    /// `urls`: `--postgres-url`, superuser URLs of servers to use instead of own clusters.
    /// Nothing is read, written or started before the first operation.
    pub(crate) fn new(root: &Path, urls: Option<&str>, exact: bool) -> PostgresEngine {
        let dir = root.join("postgres");
        let versions = ServiceType::ALL
            .iter()
            .filter_map(|t| match servers::wanted(*t)? {
                (Product::Postgres, major) => Some(major),
                _ => None,
            })
            .map(|major| {
                (
                    major,
                    Version {
                        major,
                        dir: dir.join(major.to_string()),
                        mode: OnceLock::new(),
                        server: Mutex::new(None),
                    },
                )
            })
            .collect();
        PostgresEngine {
            dir,
            urls: PostgresUrls::parse(urls.unwrap_or_default()),
            exact,
            versions,
            legacy_checked: OnceLock::new(),
        }
    }

    fn version(&self, service_type: ServiceType) -> Result<&Version> {
        servers::wanted(service_type)
            .and_then(|(_, major)| self.versions.get(&major))
            .ok_or_else(|| Error::Engine(format!("{service_type} is not a PostgreSQL type")))
    }

    /// Whether this machine has what the engine needs for `service_type`; Err names the
    /// missing program and how to install it, or what is wrong with the admin URL.
    pub(crate) fn available(&self, service_type: ServiceType) -> Result<()> {
        programs::clients()?;
        let version = self.version(service_type)?;
        match version.mode(self.urls.as_ref().map_err(Error::repeated)?)? {
            Mode::Own => programs::server_for(version.major, self.exact).map(|_| ()),
            Mode::Admin { .. } => Ok(()),
        }
    }

    /// The superuser of the server of `service_type`, starting the own cluster when it is not
    /// running.
    fn connect(&self, service_type: ServiceType) -> Result<Superuser> {
        let version = self.version(service_type)?;
        let mut guard = version
            .server
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let server = match guard.take() {
            Some(Server::Own(cluster)) if !cluster.is_running() => {
                eprintln!(
                    "sandbox: the PostgreSQL {} server of {} stopped; starting it again",
                    version.major,
                    version.dir.display()
                );
                self.open_server(version)?
            }
            Some(server) => server,
            None => self.open_server(version)?,
        };
        let superuser = server.superuser().clone();
        *guard = Some(server);
        Ok(superuser)
    }

    fn open_server(&self, version: &Version) -> Result<Server> {
        programs::clients()?;
        self.legacy_checked.get_or_init(|| legacy_notice(&self.dir));
        match version.mode(self.urls.as_ref().map_err(Error::repeated)?)? {
            Mode::Admin {
                superuser,
                url,
                given,
            } => {
                if *given {
                    store_admin_url(&version.dir, url)?;
                }
                Ok(Server::Admin(superuser.clone()))
            }
            Mode::Own => {
                PostgresCluster::start(&version.dir, version.major, self.exact).map(Server::Own)
            }
        }
    }

    /// The major version of the server that runs `service_type` here: the one that made its
    /// cluster's data, else the build a new cluster would use; `None` for a server given by URL.
    pub(crate) fn server_major(&self, service_type: ServiceType) -> Option<u32> {
        let version = self.version(service_type).ok()?;
        let urls = self.urls.as_ref().ok()?;
        match version.mode(urls).ok()? {
            Mode::Admin { .. } => None,
            Mode::Own => {
                let existing = ClusterFile::load(&version.dir)
                    .ok()?
                    .own
                    .filter(|own| own.data_dir.join("PG_VERSION").is_file());
                match existing {
                    Some(own) => cluster::data_major(&own.data_dir).ok(),
                    None => programs::server_for(version.major, self.exact)
                        .ok()
                        .map(|p| p.choice.build.major),
                }
            }
        }
    }

    /// Which server runs `service_type` here, without starting anything.
    pub(crate) fn describe(&self, service_type: ServiceType) -> Result<String> {
        let version = self.version(service_type)?;
        match version.mode(self.urls.as_ref().map_err(Error::repeated)?)? {
            Mode::Admin { given: true, .. } => {
                Ok("the PostgreSQL server given with --postgres-url".to_owned())
            }
            Mode::Admin { given: false, .. } => Ok(format!(
                "the PostgreSQL server whose URL {} remembers",
                version.dir.join(record::FILE_NAME).display()
            )),
            Mode::Own => {
                let existing = ClusterFile::load(&version.dir)?
                    .own
                    .filter(|own| own.data_dir.join("PG_VERSION").is_file());
                let Some(own) = existing else {
                    return Ok(programs::server_for(version.major, self.exact)?
                        .choice
                        .describe());
                };
                let programs = programs::server_of_data(cluster::data_major(&own.data_dir)?)?;
                let mut text = programs.choice.describe();
                if programs.choice.build.major != version.major {
                    text.push_str(&format!(
                        ", standing in for PostgreSQL {}: it made the data in {} when {} was \
                         not installed",
                        version.major,
                        version.dir.display(),
                        version.major
                    ));
                }
                Ok(text)
            }
        }
    }

    fn service_url(&self, svc: &ServiceRef) -> Result<String> {
        let (role, password) = svc.login()?;
        Ok(self
            .connect(svc.service_type)?
            .endpoint
            .url(role, password, role))
    }
}

impl Version {
    fn mode(&self, urls: &PostgresUrls) -> Result<&Mode> {
        self.mode
            .get_or_init(|| {
                let (url, given) = match urls.for_major(self.major) {
                    Some(url) => (url.to_owned(), true),
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
}

fn store_admin_url(dir: &Path, url: &str) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::Engine(format!("creating {}: {e}", dir.display())))?;
    let mut file = ClusterFile::load(dir)?;
    if file.admin_url.as_deref() != Some(url) {
        file.admin_url = Some(url.to_owned());
        file.save(dir)?;
    }
    Ok(())
}

/// Sandboxes made before each major version had its own server kept one cluster in
/// `DIR/postgres/cluster.json`; its databases are not carried over, and the user is told once.
fn legacy_notice(dir: &Path) {
    let legacy = dir.join(record::FILE_NAME);
    if legacy.is_file() {
        eprintln!(
            "sandbox: {} is from an earlier setops-migrate that ran every PostgreSQL type on one \
             server; PostgreSQL services created then hold no data here now (start a new \
             sandbox directory to rehearse with real data)",
            legacy.display()
        );
    }
}

impl Engine for PostgresEngine {
    fn provision(&self, svc: &ServiceRef) -> Result<()> {
        let (role, password) = svc.login()?;
        let su = self.connect(svc.service_type)?;
        admin::provision(&programs::clients()?.psql, &su, role, password)
            .map_err(|e| Error::Engine(format!("service {:?}: {e}", svc.name)))
    }

    fn apply_options(&self, svc: &ServiceRef) -> Result<()> {
        // min_storage/max_storage size RDS storage; a local database has nothing to size.
        let Some(list) = svc.options.get("extensions") else {
            return Ok(());
        };
        let (role, _) = svc.login()?;
        let su = self.connect(svc.service_type)?;
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
        let su = self.connect(svc.service_type)?;
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
        let su = self.connect(svc.service_type)?;
        admin::remove(&programs::clients()?.psql, &su, role)
            .map_err(|e| Error::Engine(format!("service {:?}: {e}", svc.name)))
    }

    fn backup(&self, svc: &ServiceRef, out: &mut dyn Write) -> io::Result<BackupSummary> {
        let (role, password) = svc.login().map_err(io::Error::other)?;
        let su = self.connect(svc.service_type).map_err(io::Error::other)?;
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
        let su = self.connect(svc.service_type)?;
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
        for version in self.versions.values() {
            let server = version
                .server
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(Server::Own(cluster)) = server {
                cluster.stop();
            }
        }
    }
}
