//! Redis: the server's count of key changes since its last save (`INFO persistence`), when that
//! save was, and the keys per database (`INFO keyspace`).

use redis::{Connection, RedisResult};

use super::super::Reach;
use super::super::redis::{connect, keyspace_keys, read_error};
use super::{Activity, GapUnit, WriteGap};
use crate::error::{Error, Result};

pub(super) async fn measure(url: &str, label: &str) -> Result<Option<Activity>> {
    let (url, owned_label) = (url.to_owned(), label.to_owned());
    tokio::task::spawn_blocking(move || measure_blocking(&url, &owned_label))
        .await
        .map_err(|e| Error::task_stopped(format!("reading the {label}'s Redis changes"), e))?
}

fn measure_blocking(url: &str, label: &str) -> Result<Option<Activity>> {
    let mut con = match connect(url, label) {
        Reach::Reached(con) => con,
        Reach::Unreachable(_) => return Ok(None),
    };
    read(&mut con).map_err(|e| read_error(label, "Redis write counters", &e))
}

/// `None` when the server does not report its changes (a Redis-compatible server may not).
fn read(con: &mut Connection) -> RedisResult<Option<Activity>> {
    let persistence: String = redis::cmd("INFO").arg("persistence").query(con)?;
    let keyspace: String = redis::cmd("INFO").arg("keyspace").query(con)?;
    let (at, _micros): (i64, i64) = redis::cmd("TIME").query(con)?;
    let field = |name: &str| {
        persistence
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|value| value.trim().parse::<i64>().ok())
    };
    let (Some(changes), Some(last_save)) = (
        field("rdb_changes_since_last_save"),
        field("rdb_last_save_time"),
    ) else {
        return Ok(None);
    };
    Ok(Some(Activity::Redis {
        changes_since_save: u64::try_from(changes).unwrap_or(0),
        last_save,
        at,
        keys: keyspace_keys(&keyspace)
            .into_iter()
            .map(|(db, keys)| (format!("db{db}"), keys))
            .collect(),
    }))
}

/// The key changes between two measurements; `None` unless both are Redis'.
///
/// Without a save since `before`, the server's counter tells the changes exactly. A save (the
/// sandbox's backup runs SAVE) or a restart zeroes it: the changes since then are the counter,
/// and the changes before it are gone, of which the key-count changes are what is left to see.
/// A save within the second of `before` cannot be told from one just before it, so it counts
/// as after. Key-count changes also catch what the counter does not (expired keys).
pub(super) fn gap(before: &Activity, now: &Activity) -> Option<WriteGap> {
    let (
        Activity::Redis {
            changes_since_save: changes_before,
            last_save: save_before,
            at: measured_before,
            keys: keys_before,
        },
        Activity::Redis {
            changes_since_save: changes_now,
            last_save: save_now,
            keys: keys_now,
            ..
        },
    ) = (before, now)
    else {
        return None;
    };
    let mut databases: Vec<&String> = keys_before.keys().chain(keys_now.keys()).collect();
    databases.sort_unstable();
    databases.dedup();
    let key_change = |db: &&String| {
        let (a, b) = (
            keys_before.get(*db).copied().unwrap_or(0),
            keys_now.get(*db).copied().unwrap_or(0),
        );
        a.abs_diff(b)
    };
    let key_changes: u64 = databases.iter().map(key_change).sum();
    let saved =
        save_now != save_before || changes_now < changes_before || save_now >= measured_before;
    let writes = if saved {
        changes_now + key_changes
    } else {
        (changes_now - changes_before).max(key_changes)
    };
    let parts = match databases.as_slice() {
        _ if writes == 0 => Vec::new(),
        // Where clients write unless they select another database.
        [] => vec![("db0".to_owned(), writes)],
        [db] => vec![((*db).clone(), writes)],
        // The counter is server-wide: each database shows the change in its key count.
        several => several
            .iter()
            .map(|db| ((*db).clone(), key_change(db)))
            .collect(),
    };
    Some(WriteGap {
        parts,
        writes,
        unit: GapUnit::Keys,
    })
}
