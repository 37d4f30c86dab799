//! A PostgreSQL cluster the sandbox runs itself: `initdb` once, `pg_ctl start` on a free
//! loopback port (TCP only, scram-sha-256), facts kept in `<dir>/cluster.json` (0600). A server
//! still running from an earlier process is adopted; a stopped one is started again, on a new
//! port when its old one is taken. Every server this process starts or adopts is stopped when
//! the process ends (a watchdog), or earlier by [`PostgresCluster::stop`].

use std::fs;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::super::procs::{self, stop_with_this_process};
use super::super::servers::Choice;
use super::conn::{Endpoint, Superuser};
use super::location::{self, write_for};
use super::postmaster::{self, running_postmaster, server_command, start_server, wait_ready};
use super::programs;
use super::record::{ClusterFile, FILE_NAME, OwnCluster};
use super::run_as::{RunAs, open_no_follow};
use crate::sandbox::{Error, Result};

/// The superuser `initdb` creates in the sandbox's own clusters.
const SUPERUSER: &str = "setops_sandbox";

/// A running PostgreSQL server owned by this process, reachable as superuser at
/// [`PostgresCluster::admin_url`].
pub struct PostgresCluster {
    superuser: Superuser,
    admin_url: String,
    data_dir: PathBuf,
    pg_ctl: PathBuf,
    run_as: Option<RunAs>,
    server: Choice,
}

impl std::fmt::Debug for PostgresCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresCluster")
            .field("superuser", &self.superuser)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl PostgresCluster {
    /// Starts the cluster kept in `dir` (created with `initdb` on PostgreSQL `major` when `dir`
    /// holds none yet; another version stands in when that one is missing, unless `exact`), or
    /// adopts its server when one is still running. The data survives `stop` and later starts,
    /// and is always run by a server of the major that made it.
    pub fn start(dir: &Path, major: u32, exact: bool) -> Result<PostgresCluster> {
        start_in(dir, major, exact, false)
    }

    /// A throwaway cluster on exactly PostgreSQL `major` in a new temporary directory, removed
    /// with its data once this process has ended (for a test binary's shared cluster). Not
    /// crash-safe: fsync is off.
    pub fn start_scratch(major: u32) -> Result<PostgresCluster> {
        let dir = tempfile::Builder::new()
            .prefix("setops-sandbox-pg-")
            .tempdir()
            .map_err(|e| Error::Engine(format!("creating a temporary directory: {e}")))?
            .keep();
        let cluster = match start_in(&dir, major, true, true) {
            Ok(c) => c,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        remove_after_this_process(&dir, &cluster.data_dir)?;
        Ok(cluster)
    }

    /// `postgresql://<superuser>:<password>@127.0.0.1:<port>/postgres`. Holds a password.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// Stops the server (fast shutdown: sessions are ended, data is kept). Problems are reported
    /// on stderr; a server that is not running is fine.
    pub fn stop(&self) {
        postmaster::stop(&self.pg_ctl, &self.data_dir, self.run_as);
    }

    /// The server build that runs this cluster.
    pub fn server(&self) -> &Choice {
        &self.server
    }

    pub(crate) fn superuser(&self) -> &Superuser {
        &self.superuser
    }

    /// Whether the server still runs on the port it was started on.
    pub(crate) fn is_running(&self) -> bool {
        running_postmaster(&self.data_dir)
            .is_some_and(|(_, port)| port == self.superuser.endpoint.port)
    }
}

fn start_in(dir: &Path, major: u32, exact: bool, scratch: bool) -> Result<PostgresCluster> {
    programs::clients()?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::Engine(format!("creating {}: {e}", dir.display())))?;
    let run_as = RunAs::for_this_process()?;
    let mut file = ClusterFile::load(dir)?;
    let (mut own, server) = match file.own.take() {
        Some(own) if own.data_dir.join("PG_VERSION").is_file() => {
            let server = programs::server_of_data(data_major(&own.data_dir)?)?;
            (own, server)
        }
        previous => {
            if let Some(previous) = previous {
                eprintln!(
                    "sandbox: the PostgreSQL data recorded in {} ({}) is gone; starting an empty \
                     cluster, so existing PostgreSQL services hold no databases any more",
                    dir.join(FILE_NAME).display(),
                    previous.data_dir.display()
                );
            }
            let server = programs::server_for(major, exact)?;
            let own = init(dir, run_as, &server.initdb, scratch)?;
            file.own = Some(own.clone());
            file.save(dir)?;
            (own, server)
        }
    };
    let base = own
        .data_dir
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            Error::Engine(format!(
                "{} has no parent directory",
                own.data_dir.display()
            ))
        })?;
    let mut superuser = Superuser {
        endpoint: Endpoint {
            host: "127.0.0.1".to_owned(),
            port: own.port,
            params: Vec::new(),
        },
        user: own.superuser.clone(),
        password: own.password.clone(),
        database: "postgres".to_owned(),
    };
    own.port = match running_postmaster(&own.data_dir) {
        Some((pid, port)) => {
            superuser.endpoint.port = port;
            wait_ready(&superuser).map_err(|e| {
                Error::Engine(format!(
                    "the PostgreSQL server of {} (pid {pid}) runs but does not answer on port \
                     {port}: {e}; stop it (kill -INT {pid}) and try again",
                    own.data_dir.display()
                ))
            })?;
            port
        }
        None => start_server(&server.pg_ctl, &own.data_dir, &base, own.port, run_as)?,
    };
    superuser.endpoint.port = own.port;
    let (pid, _) = running_postmaster(&own.data_dir).ok_or_else(|| {
        Error::Engine(format!(
            "PostgreSQL started but {} names no running server; see {}",
            own.data_dir.join("postmaster.pid").display(),
            base.join("postgres.log").display()
        ))
    })?;
    stop_with_this_process(pid, "INT")?;
    let data_dir = own.data_dir.clone();
    file.own = Some(own);
    file.save(dir)?;
    Ok(PostgresCluster {
        admin_url: superuser.url(),
        superuser,
        data_dir,
        pg_ctl: server.pg_ctl,
        run_as,
        server: server.choice,
    })
}

/// The major version that made a data directory (its `PG_VERSION` file: `11`, `13`, `9.6`).
pub(crate) fn data_major(data: &Path) -> Result<u32> {
    let path = data.join("PG_VERSION");
    let text = fs::read_to_string(&path)
        .map_err(|e| Error::Engine(format!("reading {}: {e}", path.display())))?;
    text.trim()
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| {
            Error::Engine(format!(
                "{} holds {:?}, not a PostgreSQL version",
                path.display(),
                text.trim()
            ))
        })
}

/// Creates a new cluster (initdb) and configures it; the server is not started.
fn init(dir: &Path, run_as: Option<RunAs>, initdb: &Path, scratch: bool) -> Result<OwnCluster> {
    let base = location::base_dir(dir, run_as)?;
    let data = base.join("data");
    if data.exists() {
        // A cluster no cluster.json records: its superuser password is unknown, so it is
        // of no use (an initdb interrupted before the record was written).
        eprintln!(
            "sandbox: removing {}, a PostgreSQL cluster without a record in {}",
            data.display(),
            dir.join(FILE_NAME).display()
        );
        fs::remove_dir_all(&data)
            .map_err(|e| Error::Engine(format!("removing {}: {e}", data.display())))?;
    }
    let password = super::super::random_alnum(32, false);
    let pwfile = base.join("initdb.pw");
    write_for(&pwfile, password.as_bytes(), run_as)?;
    let mut cmd = Command::new(initdb);
    cmd.arg("-D")
        .arg(&data)
        .arg("-U")
        .arg(SUPERUSER)
        .arg(format!("--pwfile={}", pwfile.display()))
        .args(["--auth=scram-sha-256", "--encoding=UTF8", "--no-locale"]);
    if scratch {
        cmd.arg("--no-sync");
    }
    server_command(&mut cmd, run_as, &base);
    let result = procs::run(&mut cmd, "creating a PostgreSQL cluster (initdb)");
    let _ = fs::remove_file(&pwfile);
    result?;
    configure(&data, scratch)?;
    Ok(OwnCluster {
        data_dir: data,
        port: 0,
        superuser: SUPERUSER.to_owned(),
        password,
    })
}

fn configure(data: &Path, scratch: bool) -> Result<()> {
    let mut text = String::from(
        "\n# setops-migrate sandbox: TCP on loopback only, no Unix socket (its directory may not\n\
         # be writable), and no statement text in the log (CREATE ROLE carries a password).\n\
         listen_addresses = '127.0.0.1'\n\
         unix_socket_directories = ''\n\
         password_encryption = 'scram-sha-256'\n\
         log_min_error_statement = panic\n",
    );
    if scratch {
        text.push_str(
            "# A throwaway cluster: speed over crash safety.\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             shared_buffers = 16MB\n",
        );
    }
    let conf = data.join("postgresql.conf");
    open_no_follow(&conf, true)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::Engine(format!("configuring {}: {e}", conf.display())))
}

/// Removes a scratch cluster's directories once this process has ended and its server (stopped
/// by the watchdog) is gone.
fn remove_after_this_process(dir: &Path, data: &Path) -> Result<()> {
    let script = r#"while kill -0 "$1" 2>/dev/null; do sleep 1; done
n=0
while [ "$n" -lt 60 ] && [ -f "$2/postmaster.pid" ] && kill -0 "$(head -n 1 "$2/postmaster.pid")" 2>/dev/null; do
  sleep 1; n=$((n + 1))
done
rm -rf -- "$3" "$4" "$4.owner"
exit 0"#;
    let base = data.parent().unwrap_or(data);
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("setops-sandbox-pg-cleanup")
        .arg(std::process::id().to_string())
        .arg(data)
        .arg(dir)
        .arg(base)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| Error::Engine(format!("starting the cleanup of {}: {e}", dir.display())))
}
