//! A live source's write activity: what the platform lets the tool read of how much was written
//! to a service, measured once as a baseline (before its backup) and again at verify. The writes
//! between the two are the write gap, which explains a difference between the target and the
//! live source; a difference in a part of the data that had no write is not explained.
//!
//! Every count errs on the high side: a write counted that did not happen only turns corruption
//! into a write gap for data that was written anyway, while a write missed would turn a write gap
//! into a false alarm of corruption, or hide lost writes behind a passing verify.
//!
//! Measure the baseline before the backup starts: a write during the backup then counts as after
//! it (over-counted), never the other way round.

mod files;
mod postgres;
mod redis;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::{ConnectionKind, ServiceConnection};
use crate::error::Result;
use crate::verdict::Difference;

pub use postgres::TableCounters;

/// What the platform lets the tool read of one service's write activity at one moment. Journaled
/// (tagged `kind`), so it holds counters only, never a URL or password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Activity {
    /// `pg_stat_user_tables` and `pg_stat_database` of the connection's database.
    Postgresql {
        /// Per table, named as verify names tables (`public.orders`, `"Sales Dept"."Q1"`).
        tables: BTreeMap<String, TableCounters>,
        /// `xact_commit`: transactions committed, readers' included (for the record).
        commits: u64,
        /// `stats_reset` (unix ms): when the database's counters were last zeroed, if ever.
        stats_reset: Option<i64>,
    },
    /// `INFO persistence` and `INFO keyspace`.
    Redis {
        /// `rdb_changes_since_last_save`: key changes, server-wide, since the last save.
        changes_since_save: u64,
        /// `rdb_last_save_time` (unix s): the last save, or the server's start.
        last_save: i64,
        /// The server's clock (unix s) when measured.
        at: i64,
        /// Keys per database, named as INFO names them (`db0`); databases without keys are left
        /// out, as INFO leaves them out. (Names, not indexes: a tagged enum's map keys must be
        /// strings to be read back.)
        keys: BTreeMap<String, u64>,
    },
    /// A directory of files on this machine (a volume or a bucket).
    Files {
        /// The moment measured (unix ms, this machine's clock).
        at_ms: i64,
        /// Files, directories and links under the root.
        entries: u64,
    },
}

/// Writes between two measurements of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteGap {
    /// What was written, per part: table name, `db0`, or a path relative to the volume root
    /// (`.` for the root itself); with a count. Files keep only the first 20 paths.
    pub parts: Vec<(String, u64)>,
    /// Total writes (rows inserted/updated/deleted, key changes, files/dirs changed).
    pub writes: u64,
    pub unit: GapUnit,
}

/// What [`WriteGap::writes`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapUnit {
    Rows,
    Keys,
    Files,
}

impl WriteGap {
    pub fn is_empty(&self) -> bool {
        self.writes == 0
    }

    /// Whether a verify difference (`what` as verify's PostgreSQL, Redis and files comparisons
    /// write it) is explained by this gap: a table's difference only by writes to that table; a
    /// sequence's by writes to any table (nextval is counted nowhere, inserts are); a Redis
    /// database's by any key change (the server counts changes for all databases together);
    /// files by any changed entry. Large objects and extensions are never explained.
    pub fn explains(&self, difference: &Difference) -> bool {
        if self.is_empty() {
            return false;
        }
        let what = difference.what.as_str();
        match self.unit {
            GapUnit::Rows => {
                what.starts_with("sequence ")
                    || self.parts.iter().any(|(table, writes)| {
                        *writes > 0
                            && what.strip_prefix("table ").is_some_and(|rest| {
                                rest.strip_prefix(table.as_str()).is_some_and(|suffix| {
                                    matches!(suffix, "" | " rows" | " row checksum")
                                })
                            })
                    })
            }
            GapUnit::Keys => what.strip_prefix("db").is_some_and(|rest| {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                digits > 0 && rest[digits..].starts_with(" key")
            }),
            GapUnit::Files => matches!(what, "files" | "bytes") || what.starts_with("tree SHA-256"),
        }
    }
}

/// Measures the service behind `connection` now. `Ok(None)` when it cannot be reached from here
/// (like verify's unreachable side: no error, the gap is then simply not measured), or when a
/// Redis server does not report its changes. A read that fails once connected is an error
/// (redacted, like verify's).
///
/// PostgreSQL's counters reach `pg_stat_*` after a commit, usually within a second; a session
/// that commits right after an earlier report and then idles reports up to 10 s later
/// (PostgreSQL 15 and newer). A caller that finds a difference re-measures before judging it.
pub async fn measure(connection: &ServiceConnection, label: &str) -> Result<Option<Activity>> {
    match connection.kind {
        ConnectionKind::Postgresql => postgres::measure(&connection.url, label).await,
        ConnectionKind::Redis => redis::measure(&connection.url, label).await,
        ConnectionKind::Directory => files::measure(&connection.url, label).await,
    }
}

/// Writes since `before`, measuring now. For files this walks the tree for entries (files AND
/// directories: a deletion shows as its parent's change) changed after `before`'s moment, less 2 s
/// for timestamp granularity. `Ok(None)` when the service cannot be reached from here, or when
/// `before` measured another kind of data than `connection` offers now.
pub async fn since(
    before: &Activity,
    connection: &ServiceConnection,
    label: &str,
) -> Result<Option<WriteGap>> {
    if let Activity::Files { at_ms, .. } = before {
        if connection.kind != ConnectionKind::Directory {
            return Ok(None);
        }
        return files::changed_since(*at_ms, &connection.url, label).await;
    }
    let Some(now) = measure(connection, label).await? else {
        return Ok(None);
    };
    Ok(postgres::gap(before, &now).or_else(|| redis::gap(before, &now)))
}

#[cfg(all(test, feature = "sandbox"))]
mod postgres_tests;
#[cfg(test)]
mod tests;
