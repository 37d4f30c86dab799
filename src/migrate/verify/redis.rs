//! Redis: per database, the key count, how many keys carry a TTL, and an order-independent digest
//! over every key's name, type and canonical value. Keys are walked with SCAN, one value in
//! memory at a time, so memory does not grow with the number of keys.

use std::collections::BTreeMap;
use std::time::Duration;

use redis::{Connection, RedisResult, Value};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Error;

use super::{Measured, Reach, VerifyError};
use crate::redact::redact;

use super::Fingerprint;
use crate::verdict::{Cell, Difference, MatchSummary};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// One reply (a whole list or hash) may be large; a server silent this long is gone.
const READ_TIMEOUT: Duration = Duration::from_secs(120);
const SCAN_COUNT: usize = 1000;
/// SCAN may return a key twice while the server resizes its table; a walk whose count differs
/// from DBSIZE is repeated this many times before its result stands.
const WALKS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Keyspace {
    /// Database index -> what it holds; empty databases are left out, as INFO leaves them out.
    pub databases: BTreeMap<u32, DatabaseSum>,
    /// `redis_version` of `INFO server`: `6.2.14`.
    pub server_version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DatabaseSum {
    pub keys: u64,
    pub with_ttl: u64,
    /// Hex of the wrapping sum of every key's hash (order-independent).
    pub digest: String,
}

impl Fingerprint for Keyspace {
    fn differences(source: &Self, target: &Self) -> Vec<Difference> {
        let empty = DatabaseSum {
            digest: digest_hex(0),
            ..DatabaseSum::default()
        };
        let mut indexes: Vec<u32> = source
            .databases
            .keys()
            .chain(target.databases.keys())
            .copied()
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        let mut out = Vec::new();
        for db in indexes {
            let s = source.databases.get(&db).unwrap_or(&empty);
            let t = target.databases.get(&db).unwrap_or(&empty);
            if s.keys != t.keys {
                out.push(Difference::new(
                    format!("db{db} keys"),
                    Cell::Number(s.keys),
                    Cell::Number(t.keys),
                ));
            }
            if s.with_ttl != t.with_ttl {
                out.push(Difference::new(
                    format!("db{db} keys with a TTL"),
                    Cell::Number(s.with_ttl),
                    Cell::Number(t.with_ttl),
                ));
            }
            if s.keys == t.keys && s.digest != t.digest {
                out.push(Difference::new(
                    format!("db{db} key names, types and values (digest)"),
                    Cell::Digest(s.digest.clone()),
                    Cell::Digest(t.digest.clone()),
                ));
            }
        }
        out
    }

    fn summary(&self) -> MatchSummary {
        MatchSummary::Keys {
            keys: self.databases.values().map(|d| d.keys).sum(),
            databases: self.databases.len() as u64,
            servers: None,
        }
    }

    fn server_version(&self) -> Option<&str> {
        Some(&self.server_version)
    }
}

/// Measures the Redis behind `url` (blocking client on a blocking thread). `Reach::Unreachable`
/// when it cannot be reached from here; a command that fails once connected is an error.
pub async fn measure(url: &str, label: &str) -> Measured<Keyspace> {
    let (url, owned_label) = (url.to_owned(), label.to_owned());
    tokio::task::spawn_blocking(move || measure_blocking(&url, &owned_label))
        .await
        .map_err(|e| Error::task_stopped(format!("reading the {label}'s Redis keys"), e))?
}

fn measure_blocking(url: &str, label: &str) -> Measured<Keyspace> {
    let mut con = match connect(url, label) {
        Reach::Reached(con) => con,
        Reach::Unreachable(reason) => return Ok(Reach::Unreachable(reason)),
    };
    read_keyspace(&mut con)
        .map(Reach::Reached)
        .map_err(|e| read_error(label, "Redis keys", &e))
}

/// A new blocking connection to the Redis behind `url`, or why there is none from here (said
/// with `label`, never with the URL).
pub(super) fn connect(url: &str, label: &str) -> Reach<Connection> {
    let unreachable = |e: redis::RedisError| {
        Reach::Unreachable(format!(
            "cannot connect to the {label}'s Redis: {}",
            redact(&e.to_string())
        ))
    };
    let client = match redis::Client::open(url) {
        Ok(client) => client,
        Err(e) => return unreachable(e),
    };
    let con = match client.get_connection_with_timeout(CONNECT_TIMEOUT) {
        Ok(con) => con,
        Err(e) => return unreachable(e),
    };
    // Only a broken socket refuses its timeouts.
    let timeouts = con
        .set_read_timeout(Some(READ_TIMEOUT))
        .and_then(|()| con.set_write_timeout(Some(READ_TIMEOUT)));
    match timeouts {
        Ok(()) => Reach::Reached(con),
        Err(e) => unreachable(e),
    }
}

/// A command that failed once connected; `what` is what was being read (`Redis keys`).
pub(super) fn read_error(label: &str, what: &'static str, e: &redis::RedisError) -> Error {
    VerifyError::ReadFailed {
        side: label.to_owned(),
        what,
        detail: redact(&e.to_string()),
    }
    .into()
}

fn read_keyspace(con: &mut Connection) -> RedisResult<Keyspace> {
    let info: String = redis::cmd("INFO").arg("keyspace").query(con)?;
    let mut databases = BTreeMap::new();
    for (db, _) in keyspace_keys(&info) {
        redis::cmd("SELECT").arg(db).query::<()>(con)?;
        let mut sum = walk(con)?;
        for _ in 1..WALKS {
            let expected: u64 = redis::cmd("DBSIZE").query(con)?;
            if sum.keys == expected {
                break;
            }
            sum = walk(con)?;
        }
        if sum.keys > 0 {
            databases.insert(db, sum);
        }
    }
    let server: String = redis::cmd("INFO").arg("server").query(con)?;
    let server_version = server
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or_default()
        .trim()
        .to_owned();
    Ok(Keyspace {
        databases,
        server_version,
    })
}

/// `db0:keys=3,expires=0,avg_ttl=0` lines of `INFO keyspace` -> `[(0, 3)]`: each database
/// that holds keys, with how many.
pub(super) fn keyspace_keys(info: &str) -> Vec<(u32, u64)> {
    info.lines()
        .filter_map(|line| {
            let (db, fields) = line.strip_prefix("db")?.split_once(':')?;
            let keys = fields.split(',').find_map(|f| f.strip_prefix("keys="))?;
            Some((db.parse().ok()?, keys.trim().parse().ok()?))
        })
        .collect()
}

/// One SCAN over the selected database.
fn walk(con: &mut Connection) -> RedisResult<DatabaseSum> {
    let (mut keys, mut with_ttl, mut total) = (0u64, 0u64, 0u128);
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .query(con)?;
        for key in batch {
            // A key that expired or was deleted since SCAN named it is not counted.
            if let Some((hash, ttl)) = key_hash(con, &key)? {
                keys += 1;
                with_ttl += u64::from(ttl);
                total = total.wrapping_add(hash);
            }
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    Ok(DatabaseSum {
        keys,
        with_ttl,
        digest: digest_hex(total),
    })
}

fn digest_hex(total: u128) -> String {
    format!("{total:032x}")
}

/// The key's hash (first 128 bits of a SHA-256 over name, type, canonical value and whether it
/// expires) and whether it has a TTL; `None` when the key is gone.
fn key_hash(con: &mut Connection, key: &[u8]) -> RedisResult<Option<(u128, bool)>> {
    let kind: String = redis::cmd("TYPE").arg(key).query(con)?;
    let mut h = Framed::default();
    h.field(key);
    h.field(kind.as_bytes());
    let present = match kind.as_str() {
        "none" => false,
        "string" => match redis::cmd("GET").arg(key).query::<Option<Vec<u8>>>(con)? {
            Some(v) => h.field(&v),
            None => false,
        },
        "list" => h.fields(list(con, "LRANGE", key, &["0", "-1"])?),
        "set" => {
            let mut members = list(con, "SMEMBERS", key, &[])?;
            members.sort_unstable();
            h.fields(members)
        }
        "hash" => {
            let flat = list(con, "HGETALL", key, &[])?;
            let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = pairs(flat);
            pairs.sort_unstable();
            h.fields(pairs.into_iter().flat_map(|(f, v)| [f, v]).collect())
        }
        "zset" => {
            // Scores as numbers: servers of different versions print doubles differently.
            let flat = list(con, "ZRANGE", key, &["0", "-1", "WITHSCORES"])?;
            let mut any = false;
            for (member, score) in pairs(flat) {
                let score: f64 = String::from_utf8_lossy(&score).parse().unwrap_or(f64::NAN);
                h.field(&member);
                h.field(&score.to_bits().to_le_bytes());
                any = true;
            }
            any
        }
        "stream" => {
            let entries: Value = redis::cmd("XRANGE").arg(key).arg("-").arg("+").query(con)?;
            h.value(&entries);
            true
        }
        // Module types have no generic read command: name and type still count.
        _ => true,
    };
    if !present {
        return Ok(None);
    }
    let ttl: i64 = redis::cmd("PTTL").arg(key).query(con)?;
    if ttl == -2 {
        return Ok(None);
    }
    h.field(&[u8::from(ttl >= 0)]);
    Ok(Some((h.finish(), ttl >= 0)))
}

fn list(
    con: &mut Connection,
    command: &str,
    key: &[u8],
    args: &[&str],
) -> RedisResult<Vec<Vec<u8>>> {
    redis::cmd(command).arg(key).arg(args).query(con)
}

fn pairs(flat: Vec<Vec<u8>>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = flat.into_iter();
    let mut out = Vec::new();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    out
}

/// SHA-256 over length-prefixed fields, so `["ab","c"]` and `["a","bc"]` hash differently.
#[derive(Default)]
struct Framed(Sha256);

impl Framed {
    fn field(&mut self, bytes: &[u8]) -> bool {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        true
    }

    /// Every element of a collection; `false` for none (Redis removes empty collections, so an
    /// empty reply means the key went away).
    fn fields(&mut self, items: Vec<Vec<u8>>) -> bool {
        self.0.update((items.len() as u64).to_le_bytes());
        for item in &items {
            self.field(item);
        }
        !items.is_empty()
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Nil => self.tagged(b'n', b""),
            Value::Int(i) => self.tagged(b'i', &i.to_le_bytes()),
            Value::BulkString(b) => self.tagged(b'b', b),
            Value::SimpleString(s) => self.tagged(b'b', s.as_bytes()),
            Value::Array(items) | Value::Set(items) => {
                self.tagged(b'a', &(items.len() as u64).to_le_bytes());
                items.iter().for_each(|v| self.value(v));
            }
            other => self.tagged(b'o', format!("{other:?}").as_bytes()),
        }
    }

    fn tagged(&mut self, tag: u8, bytes: &[u8]) {
        self.0.update([tag]);
        self.field(bytes);
    }

    fn finish(self) -> u128 {
        let hash = self.0.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&hash[..16]);
        u128::from_le_bytes(first)
    }
}

#[cfg(test)]
#[path = "redis_tests.rs"]
pub(super) mod tests;
