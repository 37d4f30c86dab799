//! PostgreSQL: each table's insert, update and delete counters (`pg_stat_user_tables`), read on
//! a fresh connection each time (a session keeps one statistics snapshot per transaction).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::super::Reach;
use super::super::postgres::{USER_RELATIONS, connect, query_error};
use super::{Activity, GapUnit, WriteGap};
use crate::error::Result;

/// One table's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCounters {
    /// `n_tup_ins + n_tup_upd + n_tup_del`: rows written since the counters started.
    pub writes: u64,
    /// `n_live_tup`: the rows the statistics think the table holds.
    pub live: u64,
    /// `relfilenode`: changes when the table's file is replaced (TRUNCATE, VACUUM FULL, a drop
    /// and re-create), which the row counters do not see.
    pub filenode: u32,
}

/// Counters of the tables verify compares (the same relations, named the same way).
fn tables_sql() -> String {
    format!(
        "WITH compared(name) AS ({USER_RELATIONS}) \
         SELECT format('%I.%I', s.schemaname, s.relname), \
                s.n_tup_ins + s.n_tup_upd + s.n_tup_del, s.n_live_tup, c.relfilenode \
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
         WHERE format('%I.%I', s.schemaname, s.relname) IN (SELECT name FROM compared)"
    )
}

const DATABASE_SQL: &str = "SELECT xact_commit, \
    (extract(epoch FROM stats_reset) * 1000)::bigint \
    FROM pg_stat_database WHERE datname = current_database()";

pub(super) async fn measure(url: &str, label: &str) -> Result<Option<Activity>> {
    let session = match connect(url, label).await {
        Reach::Reached(session) => session,
        Reach::Unreachable(_) => return Ok(None),
    };
    let read = read(&session.client)
        .await
        .map_err(|e| query_error(label, "PostgreSQL write counters", &e));
    session.close().await;
    read.map(Some)
}

async fn read(client: &Client) -> std::result::Result<Activity, tokio_postgres::Error> {
    let mut tables = BTreeMap::new();
    for row in client.query(&tables_sql(), &[&"r"]).await? {
        tables.insert(
            row.try_get(0)?,
            TableCounters {
                writes: count(row.try_get(1)?),
                live: count(row.try_get(2)?),
                filenode: row.try_get(3)?,
            },
        );
    }
    let row = client.query_one(DATABASE_SQL, &[]).await?;
    Ok(Activity::Postgresql {
        tables,
        commits: count(row.try_get(0)?),
        stats_reset: row.try_get(1)?,
    })
}

/// Counters are bigint and never negative.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The rows written between two measurements, per table; `None` unless both are PostgreSQL's.
///
/// Counters that went down, or a database whose statistics were reset since, count everything
/// since the reset. A table whose file was replaced (TRUNCATE) or that is gone also counts the
/// rows it held; a table that is new counts at least one write, as does a replaced one.
pub(super) fn gap(before: &Activity, now: &Activity) -> Option<WriteGap> {
    let (
        Activity::Postgresql {
            tables: was,
            stats_reset: reset_before,
            ..
        },
        Activity::Postgresql {
            tables: is,
            stats_reset: reset_now,
            ..
        },
    ) = (before, now)
    else {
        return None;
    };
    let reset = reset_before != reset_now;
    let mut parts = Vec::new();
    for (name, now) in is {
        let writes = match was.get(name) {
            None => now.writes.max(1),
            Some(was) => {
                let since = if reset || now.writes < was.writes {
                    now.writes
                } else {
                    now.writes - was.writes
                };
                if now.filenode == was.filenode {
                    since
                } else {
                    (since + was.live).max(1)
                }
            }
        };
        parts.push((name.clone(), writes));
    }
    for (name, was) in was {
        if !is.contains_key(name) {
            parts.push((name.clone(), was.live.max(1)));
        }
    }
    parts.retain(|(_, writes)| *writes > 0);
    parts.sort();
    Some(WriteGap {
        writes: parts.iter().map(|(_, n)| n).sum(),
        parts,
        unit: GapUnit::Rows,
    })
}
