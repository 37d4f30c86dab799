//! One write of a live app: a row, a key or a file, each new (never an overwrite), so what a
//! service holds can be counted against what was written. Connections are kept between writes
//! and dropped after a failure.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::api::LiveWriteKind;
use crate::model::ServiceType;
use crate::redact::redact;

/// How long one connection attempt or one write may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// The table every live app writes its rows to.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS live_writes (id bigserial PRIMARY KEY, \
                            app text NOT NULL, written_at timestamptz NOT NULL DEFAULT now())";

/// The mounted volume's directory the files go to.
const FILES_DIR: &str = "live-writes";

/// Where a write goes. URLs hold passwords: no `Debug`, never shown.
#[derive(Clone)]
pub(super) enum Target {
    Rows(String),
    Keys(String),
    Files(PathBuf),
}

impl Target {
    pub fn url(kind: LiveWriteKind, url: String) -> Target {
        match kind {
            LiveWriteKind::Keys => Target::Keys(url),
            _ => Target::Rows(url),
        }
    }

    pub fn kind(&self) -> LiveWriteKind {
        match self {
            Target::Rows(_) => LiveWriteKind::Rows,
            Target::Keys(_) => LiveWriteKind::Keys,
            Target::Files(_) => LiveWriteKind::Files,
        }
    }
}

/// What a live app writes to a service of this type through its env value, if anything.
pub(super) fn kind_of(service_type: ServiceType) -> Option<LiveWriteKind> {
    match service_type {
        ServiceType::Postgresql11
        | ServiceType::Postgresql13
        | ServiceType::Postgresql14
        | ServiceType::Postgresql15
        | ServiceType::Postgresql16 => Some(LiveWriteKind::Rows),
        ServiceType::Redis6 | ServiceType::Redis7 => Some(LiveWriteKind::Keys),
        _ => None,
    }
}

pub(super) struct Writer {
    postgres: HashMap<String, tokio_postgres::Client>,
    redis: HashMap<String, redis::Connection>,
    /// Part of every key and file name, so a restarted sandbox never writes a name again.
    run: i64,
    seq: u64,
}

impl Writer {
    pub fn new() -> Writer {
        Writer {
            postgres: HashMap::new(),
            redis: HashMap::new(),
            run: chrono::Utc::now().timestamp_millis(),
            seq: 0,
        }
    }

    /// Writes once for `app`; `Err` holds a message without credentials.
    pub async fn write(&mut self, app: &str, target: &Target) -> Result<(), String> {
        self.seq += 1;
        let name = format!("{app}:{}:{}", self.run, self.seq);
        match target {
            Target::Rows(url) => self.row(url, app).await,
            Target::Keys(url) => self.key(url, format!("live:{name}")).await,
            Target::Files(dir) => {
                let (dir, file) = (dir.join(FILES_DIR), name.replace(':', "-"));
                tokio::task::spawn_blocking(move || write_file(&dir, &file))
                    .await
                    .map_err(|e| format!("writing a file stopped: {e}"))?
            }
        }
    }

    async fn row(&mut self, url: &str, app: &str) -> Result<(), String> {
        if !self.postgres.contains_key(url) {
            let client = connect_postgres(url).await?;
            self.postgres.insert(url.to_owned(), client);
        }
        let Some(client) = self.postgres.get(url) else {
            return Err("the connection vanished".to_owned());
        };
        let inserted = tokio::time::timeout(
            TIMEOUT,
            client.execute("INSERT INTO live_writes (app) VALUES ($1)", &[&app]),
        )
        .await;
        match inserted {
            Ok(Ok(_)) => Ok(()),
            failed => {
                self.postgres.remove(url);
                Err(match failed {
                    Ok(Err(e)) => postgres_error(&e),
                    _ => "the insert timed out".to_owned(),
                })
            }
        }
    }

    async fn key(&mut self, url: &str, key: String) -> Result<(), String> {
        let kept = self.redis.remove(url);
        let owned_url = url.to_owned();
        let (result, con) = tokio::task::spawn_blocking(move || {
            let mut con = match kept {
                Some(con) => con,
                None => match connect_redis(&owned_url) {
                    Ok(con) => con,
                    Err(e) => return (Err(e), None),
                },
            };
            let set = redis::cmd("SET")
                .arg(&key)
                .arg(chrono::Utc::now().to_rfc3339())
                .query::<()>(&mut con)
                .map_err(|e| redact(&e.to_string()));
            let keep = set.is_ok().then_some(con);
            (set, keep)
        })
        .await
        .map_err(|e| format!("writing a key stopped: {e}"))?;
        if let Some(con) = con {
            self.redis.insert(url.to_owned(), con);
        }
        result
    }
}

async fn connect_postgres(url: &str) -> Result<tokio_postgres::Client, String> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| redact(&e.to_string()))?;
    config
        .connect_timeout(TIMEOUT)
        .application_name("setops-migrate sandbox live app");
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| postgres_error(&e))?;
    // The connection future does the I/O; it ends when the client is dropped.
    tokio::spawn(connection);
    tokio::time::timeout(TIMEOUT, client.batch_execute(CREATE_TABLE))
        .await
        .map_err(|_| "creating the table timed out".to_owned())?
        .map_err(|e| postgres_error(&e))?;
    Ok(client)
}

/// The server's own words; tokio-postgres' Display says only "db error".
fn postgres_error(e: &tokio_postgres::Error) -> String {
    let text = e
        .as_db_error()
        .map(|db| db.message().to_owned())
        .unwrap_or_else(|| e.to_string());
    redact(&text)
}

fn connect_redis(url: &str) -> Result<redis::Connection, String> {
    let failed = |e: redis::RedisError| redact(&e.to_string());
    let con = redis::Client::open(url)
        .map_err(failed)?
        .get_connection_with_timeout(TIMEOUT)
        .map_err(failed)?;
    con.set_read_timeout(Some(TIMEOUT)).map_err(failed)?;
    con.set_write_timeout(Some(TIMEOUT)).map_err(failed)?;
    Ok(con)
}

/// A new file, whole or not at all: written beside its name, then renamed.
fn write_file(dir: &std::path::Path, name: &str) -> Result<(), String> {
    let failed = |e: std::io::Error| format!("writing into the volume: {e}");
    std::fs::create_dir_all(dir).map_err(failed)?;
    let temp = dir.join(format!(".{name}.tmp"));
    let text = format!("{}\n", chrono::Utc::now().to_rfc3339());
    std::fs::write(&temp, text).map_err(failed)?;
    std::fs::rename(&temp, dir.join(format!("{name}.txt"))).map_err(failed)
}
