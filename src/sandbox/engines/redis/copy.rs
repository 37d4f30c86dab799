//! Copies every key of one server into another with DUMP/PTTL and RESTORE ... REPLACE: how a
//! backup loaded into a temporary server goes on top of a service's data.

use crate::sandbox::{Error, Result};
use ::redis::{Connection, Value};

/// Keys fetched per SCAN step and moved per pipeline; bounds memory to one batch of values.
const BATCH: usize = 256;

/// What a copy wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Copied {
    /// RESTORE commands run (a key SCAN returns twice is restored twice, with the same result).
    pub keys: u64,
    /// Bytes of the serialized values.
    pub bytes: u64,
}

/// Copies all databases that hold keys in `from` into the same database numbers of `to`.
pub(super) fn copy_all(from: &mut Connection, to: &mut Connection) -> Result<Copied> {
    let info: String = ::redis::cmd("INFO")
        .arg("keyspace")
        .query(from)
        .map_err(|e| Error::Engine(format!("reading the backup's keyspace: {e}")))?;
    let mut copied = Copied::default();
    for db in databases(&info) {
        copy_db(from, to, db, &mut copied)?;
    }
    Ok(copied)
}

/// Database numbers from `INFO keyspace` lines such as `db3:keys=12,expires=1,avg_ttl=0`.
fn databases(info: &str) -> Vec<u32> {
    info.lines()
        .filter_map(|line| line.strip_prefix("db")?.split_once(':')?.0.parse().ok())
        .collect()
}

fn copy_db(from: &mut Connection, to: &mut Connection, db: u32, copied: &mut Copied) -> Result<()> {
    for (con, which) in [(&mut *from, "the backup"), (&mut *to, "the service")] {
        ::redis::cmd("SELECT")
            .arg(db)
            .exec(con)
            .map_err(|e| Error::Engine(format!("selecting database {db} of {which}: {e}")))?;
    }
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = ::redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(BATCH)
            .query(from)
            .map_err(|e| {
                Error::Engine(format!(
                    "listing the keys of database {db} in the backup: {e}"
                ))
            })?;
        if !keys.is_empty() {
            copy_keys(from, to, db, &keys, copied)?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

fn copy_keys(
    from: &mut Connection,
    to: &mut Connection,
    db: u32,
    keys: &[Vec<u8>],
    copied: &mut Copied,
) -> Result<()> {
    let mut read = ::redis::pipe();
    for key in keys {
        read.cmd("DUMP").arg(key).cmd("PTTL").arg(key);
    }
    let values: Vec<Value> = read
        .query(from)
        .map_err(|e| Error::Engine(format!("reading keys of database {db} in the backup: {e}")))?;
    let mut write = ::redis::pipe();
    let mut count = 0;
    for (key, pair) in keys.iter().zip(values.chunks(2)) {
        let [dump, pttl] = pair else {
            return Err(Error::Engine(format!(
                "reading keys of database {db} in the backup: {} answers to {} commands",
                values.len(),
                2 * keys.len()
            )));
        };
        // A key that expired between SCAN and DUMP is gone: nothing to restore.
        let (Value::BulkString(payload), Value::Int(pttl)) = (dump, pttl) else {
            continue;
        };
        // PTTL: -1 means no expiry (RESTORE ttl 0); 0 means expiring now, and RESTORE would read
        // 0 as "never", so it gets the shortest real TTL instead.
        let ttl = match *pttl {
            -1 => 0,
            -2 => continue,
            ms => ms.max(1),
        };
        write
            .cmd("RESTORE")
            .arg(key)
            .arg(ttl)
            .arg(payload)
            .arg("REPLACE")
            .ignore();
        count += 1;
        copied.bytes += payload.len() as u64;
    }
    if count > 0 {
        write.exec(to).map_err(|e| {
            Error::Engine(format!(
                "writing keys into database {db} of the service: {e}"
            ))
        })?;
    }
    copied.keys += count;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspace_lines_name_the_databases_with_keys() {
        let info =
            "# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=100\r\ndb12:keys=1,expires=0,avg_ttl=0\r\n";
        assert_eq!(databases(info), vec![0, 12]);
        assert_eq!(databases("# Keyspace\r\n"), Vec::<u32>::new());
    }
}
