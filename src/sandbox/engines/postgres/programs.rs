//! The PostgreSQL programs the engine runs, looked up once per process (PATH does not change
//! while the sandbox runs).

use std::path::PathBuf;
use std::sync::OnceLock;

use super::super::servers::{Choice, Product, choose, newest};
use crate::sandbox::{Error, Result};

const INSTALL_HINT: &str = "install the PostgreSQL client: apt-get install postgresql-client";

/// Client programs: enough for a server reached through an admin URL.
pub(crate) struct Clients {
    pub psql: PathBuf,
    pub pg_dump: PathBuf,
    pub pg_restore: PathBuf,
}

/// Server programs of one build: needed only when the sandbox runs its own cluster.
pub(crate) struct ServerPrograms {
    pub initdb: PathBuf,
    pub pg_ctl: PathBuf,
    /// Which build, for messages ("PostgreSQL 11.22 (/var/cache/…)").
    pub choice: Choice,
}

impl ServerPrograms {
    fn of(choice: Choice) -> ServerPrograms {
        ServerPrograms {
            initdb: choice.build.program("initdb"),
            pg_ctl: choice.build.program("pg_ctl"),
            choice,
        }
    }
}

/// The build that runs a new cluster for `major` (another version stands in when that one is
/// not installed, unless `exact`; see `servers`).
pub(crate) fn server_for(major: u32, exact: bool) -> Result<ServerPrograms> {
    choose(Product::Postgres, major, exact).map(ServerPrograms::of)
}

/// The build that runs existing data of `major` (a data directory's PG_VERSION): exactly that
/// major, since a server refuses another major's data directory.
pub(crate) fn server_of_data(major: u32) -> Result<ServerPrograms> {
    choose(Product::Postgres, major, true).map(ServerPrograms::of)
}

pub(crate) fn clients() -> Result<&'static Clients> {
    static CLIENTS: OnceLock<Result<Clients>> = OnceLock::new();
    CLIENTS
        .get_or_init(|| {
            let build = newest(Product::PostgresClient)
                .map_err(|e| Error::Engine(format!("{e}; {INSTALL_HINT}")))?;
            Ok(Clients {
                psql: build.program("psql"),
                pg_dump: build.program("pg_dump"),
                pg_restore: build.program("pg_restore"),
            })
        })
        .as_ref()
        .map_err(Error::repeated)
}
