//! The PostgreSQL programs the engine runs, looked up once per process (PATH does not change
//! while the sandbox runs).

use std::path::PathBuf;
use std::sync::OnceLock;

use super::super::procs::find_program;
use crate::sandbox::{Error, Result};

const INSTALL_HINT: &str = "install PostgreSQL: apt-get install postgresql postgresql-client";

/// Client programs: enough for a server reached through an admin URL.
pub(crate) struct Clients {
    pub psql: PathBuf,
    pub pg_dump: PathBuf,
    pub pg_restore: PathBuf,
}

/// Server programs: needed only when the sandbox runs its own cluster.
pub(crate) struct ServerPrograms {
    pub initdb: PathBuf,
    pub pg_ctl: PathBuf,
}

pub(crate) fn clients() -> Result<&'static Clients> {
    static CLIENTS: OnceLock<Result<Clients>> = OnceLock::new();
    CLIENTS
        .get_or_init(|| {
            Ok(Clients {
                psql: find_program("psql", INSTALL_HINT)?,
                pg_dump: find_program("pg_dump", INSTALL_HINT)?,
                pg_restore: find_program("pg_restore", INSTALL_HINT)?,
            })
        })
        .as_ref()
        .map_err(Error::repeated)
}

pub(crate) fn server() -> Result<&'static ServerPrograms> {
    static SERVER: OnceLock<Result<ServerPrograms>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let initdb = find_program("initdb", INSTALL_HINT)?;
            let pg_ctl = find_program("pg_ctl", INSTALL_HINT)?;
            // pg_ctl starts the `postgres` next to itself; checked here so a missing server
            // binary is reported by name instead of as a failed start.
            find_program("postgres", INSTALL_HINT)?;
            Ok(ServerPrograms { initdb, pg_ctl })
        })
        .as_ref()
        .map_err(Error::repeated)
}
