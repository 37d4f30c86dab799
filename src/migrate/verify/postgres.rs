//! PostgreSQL: every ordinary table of the user's schemas by row count and an order-independent
//! checksum computed by the server in one aggregate (constant memory here and there), every
//! sequence's state, and the installed extensions by name (versions differ across majors).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;
use tokio_postgres::{Client, NoTls};

use crate::error::Error;

use super::{Measured, Reach, VerifyError};
use crate::redact::redact;

use super::Fingerprint;
use crate::verdict::{Cell, Difference, MatchSummary};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Output settings that change a row's text: both sides render rows the same way whatever their
/// server defaults are.
const SESSION: &str = "SET datestyle = 'ISO, YMD'; SET timezone = 'UTC'; \
    SET intervalstyle = 'postgres'; SET bytea_output = 'hex'; SET extra_float_digits = 3; \
    SET lc_monetary = 'C'; SET lock_timeout = '30s'; SET statement_timeout = '30min'; \
    SET idle_in_transaction_session_timeout = '30min'";

/// Relations of the user's schemas that belong to the user, not to an extension (an extension's
/// own tables are created by CREATE EXTENSION on either side). `pg_` schemas are the system's.
/// `$1` is the relkind: `r` for tables, `S` for sequences.
pub(super) const USER_RELATIONS: &str = "SELECT format('%I.%I', n.nspname, c.relname) \
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
    WHERE c.relkind::text = $1 \
      AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' \
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                      AND d.objid = c.oid AND d.deptype = 'e') \
    ORDER BY 1";

/// A table's columns as the row expression to hash, each qualified by the alias `r` (so no
/// column can be mistaken for the whole row). Floats go in as their binary form: PostgreSQL 12
/// changed how floats print, and an upgrade from 11 must not look like changed data.
const ROW_COLUMNS: &str = "SELECT coalesce(string_agg(CASE \
      WHEN a.atttypid = 'float8'::regtype::oid THEN format('float8send(r.%I)', a.attname) \
      WHEN a.atttypid = 'float4'::regtype::oid THEN format('float4send(r.%I)', a.attname) \
      ELSE format('r.%I', a.attname) END, ', ' ORDER BY a.attnum), '') \
    FROM pg_attribute a \
    WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped";

/// What one database holds, as far as verify compares it. Names are quoted identifiers
/// (`public.orders`, `"Sales"."Q1"`), so they are unambiguous and safe to put into SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Database {
    pub tables: BTreeMap<String, TableSum>,
    pub sequences: BTreeMap<String, SequenceState>,
    pub extensions: BTreeSet<String>,
    pub large_objects: LargeObjectSum,
    /// `SHOW server_version`'s first word: `11.22`.
    pub server_version: String,
}

/// Large objects, which live outside tables: how many, and a sum of their contents' hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LargeObjectSum {
    pub count: i64,
    pub checksum: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableSum {
    pub rows: i64,
    /// The sum of a 64-bit hash of every row's text: independent of row order, exact (numeric).
    pub checksum: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SequenceState {
    pub last_value: i64,
    /// False until the first nextval (or after setval(…, false)): the next value is last_value.
    pub is_called: bool,
}

impl std::fmt::Display for SequenceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_called {
            write!(f, "{}", self.last_value)
        } else {
            write!(f, "{} (not called)", self.last_value)
        }
    }
}

impl From<&SequenceState> for Cell {
    fn from(s: &SequenceState) -> Self {
        Cell::Text(s.to_string())
    }
}

impl Fingerprint for Database {
    fn differences(source: &Self, target: &Self) -> Vec<Difference> {
        let mut out = Vec::new();
        for (name, s) in &source.tables {
            match target.tables.get(name) {
                None => out.push(Difference::new(
                    format!("table {name}"),
                    Cell::Rows(s.rows as u64),
                    "missing",
                )),
                Some(t) if t.rows != s.rows => out.push(Difference::new(
                    format!("table {name} rows"),
                    Cell::Number(s.rows as u64),
                    Cell::Number(t.rows as u64),
                )),
                Some(t) if t.checksum != s.checksum => out.push(Difference::new(
                    format!("table {name} row checksum"),
                    &s.checksum,
                    &t.checksum,
                )),
                Some(_) => {}
            }
        }
        for (name, t) in &target.tables {
            if !source.tables.contains_key(name) {
                out.push(Difference::new(
                    format!("table {name}"),
                    "missing",
                    Cell::Rows(t.rows as u64),
                ));
            }
        }
        for (name, s) in &source.sequences {
            match target.sequences.get(name) {
                None => out.push(Difference::new(format!("sequence {name}"), s, "missing")),
                Some(t) if t != s => out.push(Difference::new(format!("sequence {name}"), s, t)),
                Some(_) => {}
            }
        }
        for (name, t) in &target.sequences {
            if !source.sequences.contains_key(name) {
                out.push(Difference::new(format!("sequence {name}"), "missing", t));
            }
        }
        let (s, t) = (&source.large_objects, &target.large_objects);
        if s.count != t.count {
            out.push(Difference::new(
                "large objects",
                Cell::Number(s.count as u64),
                Cell::Number(t.count as u64),
            ));
        } else if s.checksum != t.checksum {
            out.push(Difference::new(
                "large object checksum",
                &s.checksum,
                &t.checksum,
            ));
        }
        // The target may bring more extensions (a newer major installs some by default).
        for name in source.extensions.difference(&target.extensions) {
            out.push(Difference::new(
                format!("extension {name}"),
                "installed",
                "missing",
            ));
        }
        out
    }

    fn summary(&self) -> MatchSummary {
        let rows: i64 = self.tables.values().map(|t| t.rows).sum();
        MatchSummary::Tables {
            tables: self.tables.len() as u64,
            rows: rows as u64,
            sequences: self.sequences.len() as u64,
            extensions: self.extensions.len() as u64,
            large_objects: self.large_objects.count as u64,
            servers: None,
        }
    }

    fn server_version(&self) -> Option<&str> {
        Some(&self.server_version)
    }
}

/// Measures the database behind `url`. `Reach::Unreachable` when it cannot be reached from here;
/// a query that fails once connected is an error. Neither ever holds the URL.
pub async fn measure(url: &str, label: &str) -> Measured<Database> {
    let session = match connect(url, label).await {
        Reach::Reached(session) => session,
        Reach::Unreachable(reason) => return Ok(Reach::Unreachable(reason)),
    };
    let measured = read_database(&session.client)
        .await
        .map_err(|e| query_error(label, "PostgreSQL data", &e));
    session.close().await;
    measured.map(Reach::Reached)
}

/// One connection to a database, closed with [`Session::close`].
pub(super) struct Session {
    pub client: Client,
    io: tokio::task::JoinHandle<std::result::Result<(), tokio_postgres::Error>>,
}

impl Session {
    pub async fn close(self) {
        // The connection future does the I/O; it ends when the client is dropped.
        drop(self.client);
        let _ = self.io.await;
    }
}

/// A new connection to the database behind `url`, or why there is none from here (said with
/// `label`, never with the URL).
pub(super) async fn connect(url: &str, label: &str) -> Reach<Session> {
    let mut config: tokio_postgres::Config = match url.parse() {
        Ok(config) => config,
        Err(e) => {
            return Reach::Unreachable(format!(
                "the platform's PostgreSQL connection for the {label} cannot be used ({})",
                redact(&e.to_string())
            ));
        }
    };
    config
        .connect_timeout(CONNECT_TIMEOUT)
        .application_name("setops-migrate verify");
    match config.connect(NoTls).await {
        Ok((client, connection)) => Reach::Reached(Session {
            client,
            io: tokio::spawn(connection),
        }),
        Err(e) => {
            // The server's own words ("password authentication failed", "database … does not
            // exist"); tokio-postgres' Display says only "db error".
            let detail = e
                .as_db_error()
                .map(|db| db.message().to_owned())
                .unwrap_or_else(|| e.to_string());
            Reach::Unreachable(format!(
                "cannot connect to the {label}'s PostgreSQL: {}",
                redact(&detail)
            ))
        }
    }
}

async fn read_database(client: &Client) -> std::result::Result<Database, tokio_postgres::Error> {
    client.batch_execute(SESSION).await?;
    let mut tables = BTreeMap::new();
    for name in relations(client, "r").await? {
        let columns: String = client.query_one(ROW_COLUMNS, &[&name]).await?.try_get(0)?;
        let sql = format!(
            "SELECT count(*), coalesce(sum(hashtextextended(ROW({columns})::text, 0)), 0)::text \
             FROM {name} AS r"
        );
        let row = client.query_one(&sql, &[]).await?;
        tables.insert(
            name,
            TableSum {
                rows: row.try_get(0)?,
                checksum: row.try_get(1)?,
            },
        );
    }
    let mut sequences = BTreeMap::new();
    for name in relations(client, "S").await? {
        let sql = format!("SELECT last_value, is_called FROM {name}");
        let row = client.query_one(&sql, &[]).await?;
        sequences.insert(
            name,
            SequenceState {
                last_value: row.try_get(0)?,
                is_called: row.try_get(1)?,
            },
        );
    }
    let extensions = client
        .query("SELECT extname::text FROM pg_extension", &[])
        .await?
        .iter()
        .map(|row| row.try_get::<_, String>(0))
        .collect::<std::result::Result<_, _>>()?;
    // md5 of each object's bytes, hashed and summed like rows: order-free, and the contents
    // stay on the server.
    let row = client
        .query_one(
            "SELECT count(*), coalesce(sum(hashtextextended(md5(lo_get(oid)), 0)), 0)::text \
             FROM pg_largeobject_metadata",
            &[],
        )
        .await?;
    let large_objects = LargeObjectSum {
        count: row.try_get(0)?,
        checksum: row.try_get(1)?,
    };
    let version: String = client
        .query_one("SHOW server_version", &[])
        .await?
        .try_get(0)?;
    Ok(Database {
        tables,
        sequences,
        extensions,
        large_objects,
        server_version: version
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    })
}

async fn relations(
    client: &Client,
    relkind: &str,
) -> std::result::Result<Vec<String>, tokio_postgres::Error> {
    client
        .query(USER_RELATIONS, &[&relkind])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect()
}

/// A query that failed once connected; `what` is what was being read (`PostgreSQL data`).
pub(super) fn query_error(label: &str, what: &'static str, e: &tokio_postgres::Error) -> Error {
    let detail = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    };
    VerifyError::ReadFailed {
        side: label.to_owned(),
        what,
        detail: redact(&detail),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: i64, checksum: &str) -> TableSum {
        TableSum {
            rows,
            checksum: checksum.into(),
        }
    }

    fn database() -> Database {
        Database {
            tables: [
                ("public.orders".to_owned(), table(1200, "-81234")),
                ("public.users".to_owned(), table(30, "4411")),
            ]
            .into(),
            sequences: [(
                "public.orders_id_seq".to_owned(),
                SequenceState {
                    last_value: 1200,
                    is_called: true,
                },
            )]
            .into(),
            extensions: ["citext".to_owned(), "plpgsql".to_owned()].into(),
            large_objects: LargeObjectSum::default(),
            server_version: "13.23".to_owned(),
        }
    }

    #[test]
    fn equal_databases_have_no_differences_and_a_summary_with_totals() {
        let db = database();
        assert!(Database::differences(&db, &db.clone()).is_empty());
        assert_eq!(
            crate::verdict::words::summary_text(&db.summary()),
            "2 tables, 1,230 rows, 1 sequence, 2 extensions"
        );
    }

    #[test]
    fn rows_checksums_sequences_and_extensions_each_make_a_row() {
        let source = database();
        let mut target = database();
        target
            .tables
            .insert("public.orders".into(), table(1199, "-1"));
        target
            .tables
            .insert("public.users".into(), table(30, "4412"));
        target.sequences.insert(
            "public.orders_id_seq".into(),
            SequenceState {
                last_value: 1,
                is_called: false,
            },
        );
        target.extensions.remove("citext");
        target.extensions.insert("pg_stat_statements".into());
        assert_eq!(
            crate::verdict::words::rows(&Database::differences(&source, &target)),
            vec![
                ["table public.orders rows", "1,200", "1,199"],
                ["table public.users row checksum", "4411", "4412"],
                ["sequence public.orders_id_seq", "1200", "1 (not called)"],
                ["extension citext", "installed", "missing"],
            ]
        );
    }

    #[test]
    fn tables_and_sequences_on_one_side_only_are_named() {
        let source = database();
        let mut target = database();
        target.tables.remove("public.users");
        target.tables.insert("\"Audit\".log".into(), table(3, "9"));
        target.sequences.clear();
        assert_eq!(
            crate::verdict::words::rows(&Database::differences(&source, &target)),
            vec![
                ["table public.users", "30 rows", "missing"],
                ["table \"Audit\".log", "missing", "3 rows"],
                ["sequence public.orders_id_seq", "1200", "missing"],
            ]
        );
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_reason_without_the_password() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url = format!("postgresql://app:s3cretpw@127.0.0.1:{port}/shop");
        let reason = measure(&url, "target").await.unwrap().unreachable();
        assert!(
            reason.starts_with("cannot connect to the target's PostgreSQL"),
            "{reason}"
        );
        assert!(!reason.contains("s3cretpw"), "{reason}");
        let reason = measure("postgresql://app:s3cretpw@h:notaport/db", "source")
            .await
            .unwrap()
            .unreachable();
        assert!(!reason.contains("s3cretpw"), "{reason}");
    }
}
