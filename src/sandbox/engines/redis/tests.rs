//! Against real redis-server processes, started in temporary directories.

use std::collections::BTreeMap;
use std::time::Duration;

use ::redis::Value;

use super::super::{Credentials, KeySpec};
use super::*;
use crate::model::Scope;

/// The engine over a fresh sandbox directory; fails (never skips) without redis-server.
fn engine() -> (tempfile::TempDir, RedisEngine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = RedisEngine::new(dir.path(), true);
    if let Err(e) = engine.available(ServiceType::Redis6) {
        panic!("these tests run a real redis-server: {e}");
    }
    (dir, engine)
}

fn service(root: &Path, name: &str) -> ServiceRef {
    let uid = Uuid::new_v4();
    ServiceRef {
        scope: Scope {
            project: "shop".to_owned(),
            stage: "prod".to_owned(),
        },
        name: name.to_owned(),
        uid,
        service_type: ServiceType::Redis6,
        data: super::super::data_dir(
            root,
            &Scope {
                project: "shop".to_owned(),
                stage: "prod".to_owned(),
            },
            name,
        ),
        options: BTreeMap::new(),
        credentials: Credentials::generate(ServiceType::Redis6, uid),
    }
}

fn con(engine: &RedisEngine, svc: &ServiceRef) -> Connection {
    engine.running(svc).unwrap().connect().unwrap()
}

fn cmd<T: ::redis::FromRedisValue>(con: &mut Connection, args: &[&str]) -> T {
    let mut c = ::redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap()
}

/// A key's type and contents in a canonical order (a set's DUMP payload depends on its hash
/// table's layout, so payloads are not compared).
#[derive(Debug, PartialEq)]
enum Typed {
    String(String),
    Hash(Vec<(String, String)>),
    List(Vec<String>),
    Set(Vec<String>),
    SortedSet(Vec<(String, String)>),
}

fn typed(con: &mut Connection, key: &str) -> Typed {
    let kind: String = cmd(con, &["TYPE", key]);
    match kind.as_str() {
        "string" => Typed::String(cmd(con, &["GET", key])),
        "hash" => {
            let mut fields: Vec<(String, String)> = cmd(con, &["HGETALL", key]);
            fields.sort();
            Typed::Hash(fields)
        }
        "list" => Typed::List(cmd(con, &["LRANGE", key, "0", "-1"])),
        "set" => {
            let mut members: Vec<String> = cmd(con, &["SMEMBERS", key]);
            members.sort();
            Typed::Set(members)
        }
        "zset" => Typed::SortedSet(cmd(con, &["ZRANGE", key, "0", "-1", "WITHSCORES"])),
        other => panic!("unexpected type {other} of {key}"),
    }
}

/// Every key of the selected database with its contents and whether it has a TTL.
fn snapshot(con: &mut Connection) -> BTreeMap<String, (Typed, bool)> {
    let keys: Vec<String> = cmd(con, &["KEYS", "*"]);
    keys.into_iter()
        .map(|k| {
            let value = typed(con, &k);
            let pttl: i64 = cmd(con, &["PTTL", &k]);
            (k, (value, pttl > 0))
        })
        .collect()
}

fn backup_file(engine: &RedisEngine, svc: &ServiceRef, dir: &Path) -> PathBuf {
    let path = dir.join(format!("{}.rdb", svc.name));
    let mut file = fs::File::create(&path).unwrap();
    let summary = engine.backup(svc, &mut file).unwrap();
    assert_eq!(summary.files, 1);
    path
}

#[test]
fn a_backup_restored_into_another_service_goes_on_top() {
    let (root, engine) = engine();
    let (a, b) = (
        service(root.path(), "cache"),
        service(root.path(), "cache-new"),
    );
    engine.provision(&a).unwrap();
    engine.provision(&b).unwrap();
    let spec = KeySpec { seed: 3, count: 80 };
    engine.load_seed(&a, &SeedData::Keys(spec.clone())).unwrap();
    let planned = seed::plan(&spec);
    let shared = planned[0].key().to_owned();
    // The target already holds a key the backup lacks and one the backup replaces.
    let mut target = con(&engine, &b);
    let _: () = cmd(&mut target, &["SET", "keep:me", "still here"]);
    let _: () = cmd(&mut target, &["SET", &shared, "old value"]);
    // A second database must come along too.
    let mut source = con(&engine, &a);
    let _: () = cmd(&mut source, &["SELECT", "3"]);
    let _: () = cmd(&mut source, &["SET", "in:db3", "x"]);
    let _: () = cmd(&mut source, &["SELECT", "0"]);

    let backup = backup_file(&engine, &a, root.path());
    for written_by_redis in [RDB_FILE, server::PID_FILE] {
        let mode = fs::metadata(a.data.join(written_by_redis))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{written_by_redis}");
    }
    assert!(matches!(
        crate::formats::sniff(&backup).unwrap(),
        crate::formats::DetectedFormat::Rdb { .. }
    ));
    let summary = engine.restore(&backup, &b).unwrap();
    assert_eq!(summary.files, 81);

    let expected = snapshot(&mut source);
    assert_eq!(expected.len(), 80);
    assert!(expected.values().any(|(_, ttl)| *ttl), "the seed sets TTLs");
    let mut got = snapshot(&mut target);
    assert_eq!(
        got.remove("keep:me").map(|(_, ttl)| ttl),
        Some(false),
        "a key the backup lacks is kept"
    );
    assert_eq!(got, expected);
    let _: () = cmd(&mut target, &["SELECT", "3"]);
    let value: String = cmd(&mut target, &["GET", "in:db3"]);
    assert_eq!(value, "x");

    // Running it again changes nothing.
    let _: () = cmd(&mut target, &["SELECT", "0"]);
    engine.restore(&backup, &b).unwrap();
    let mut again = snapshot(&mut target);
    again.remove("keep:me");
    assert_eq!(again, expected);
}

#[test]
fn a_file_the_server_cannot_load_fails_with_its_log_and_changes_nothing() {
    let (root, engine) = engine();
    let svc = service(root.path(), "cache");
    engine.provision(&svc).unwrap();
    let _: () = cmd(&mut con(&engine, &svc), &["SET", "k", "v"]);

    let newer = root.path().join("newer.rdb");
    fs::write(&newer, b"REDIS0099\xfa\x09redis-ver\x059.9.9\xff").unwrap();
    let err = engine.restore(&newer, &svc).unwrap_err().to_string();
    assert!(err.starts_with("the backup could not be loaded"), "{err}");
    assert!(err.contains("Can't handle RDB format version 99"), "{err}");
    assert!(
        !err.contains("WARNING"),
        "advisory warnings are left out: {err}"
    );

    let corrupt = root.path().join("corrupt.rdb");
    fs::write(&corrupt, b"REDIS0009\x00\x01garbage that is no RDB at all").unwrap();
    let err = engine.restore(&corrupt, &svc).unwrap_err().to_string();
    assert!(err.starts_with("the backup could not be loaded"), "{err}");
    assert!(err.contains("Short read or OOM loading DB"), "{err}");

    let tar = root.path().join("files.tar.gz");
    fs::write(&tar, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]).unwrap();
    let err = engine.restore(&tar, &svc).unwrap_err().to_string();
    assert!(
        err.contains("a redis6 backup must be a Redis RDB file"),
        "{err}"
    );

    let mut c = con(&engine, &svc);
    assert_eq!(cmd::<Vec<String>>(&mut c, &["KEYS", "*"]), vec!["k"]);
    // No temporary directory is left behind.
    let leftovers: Vec<_> = fs::read_dir(root.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".redis-restore-")
        })
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn the_env_url_needs_the_password() {
    let (root, engine) = engine();
    let svc = service(root.path(), "cache");
    engine.provision(&svc).unwrap();
    let (url, secret) = engine.env_value(&svc, "http://unused").unwrap().unwrap();
    assert!(secret);
    let (_, password) = svc.login().unwrap();
    assert!(
        url.starts_with(&format!("redis://:{password}@127.0.0.1:")),
        "{url}"
    );
    let mut with = ::redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    assert_eq!(cmd::<String>(&mut with, &["PING"]), "PONG");

    let without_url = url.replace(&format!(":{password}@"), "");
    let refused = ::redis::Client::open(without_url.as_str())
        .unwrap()
        .get_connection()
        .and_then(|mut c| ::redis::cmd("PING").query::<String>(&mut c));
    let err = refused.unwrap_err();
    assert_eq!(err.code(), Some("NOAUTH"), "{err}");

    let connection = engine.connection(&svc).unwrap();
    assert_eq!(connection.kind, ConnectionKind::Redis);
    assert_eq!(connection.url, url);
    let config = fs::metadata(svc.data.join(server::CONFIG_FILE)).unwrap();
    assert_eq!(config.permissions().mode() & 0o777, 0o600);
}

#[test]
fn remove_stops_the_server_and_deletes_the_data() {
    let (root, engine) = engine();
    let svc = service(root.path(), "cache");
    engine.provision(&svc).unwrap();
    let port = engine.running(&svc).unwrap().port;
    engine.remove(&svc).unwrap();
    assert!(!svc.data.exists());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    assert!(engine.servers().is_empty());
}

#[test]
fn data_survives_a_restart_and_a_crashed_sandboxs_server_is_replaced() {
    let root = tempfile::tempdir().unwrap();
    let svc = service(root.path(), "cache");
    let first = RedisEngine::new(root.path(), true);
    first.provision(&svc).unwrap();
    let _: () = cmd(&mut con(&first, &svc), &["SET", "survivor", "1"]);
    let old_port = first.running(&svc).unwrap().port;
    // A crash: the engine goes away without stopping its server.
    std::mem::forget(first);

    let second = RedisEngine::new(root.path(), true);
    let mut c = con(&second, &svc);
    assert_eq!(cmd::<String>(&mut c, &["GET", "survivor"]), "1");
    assert!(std::net::TcpStream::connect(("127.0.0.1", old_port)).is_err());
    second.shutdown();

    let third = RedisEngine::new(root.path(), true);
    assert_eq!(
        cmd::<String>(&mut con(&third, &svc), &["GET", "survivor"]),
        "1"
    );
}

#[test]
fn a_new_service_of_a_destroyed_ones_name_starts_empty() {
    let (root, engine) = engine();
    let old = service(root.path(), "cache");
    engine.provision(&old).unwrap();
    let _: () = cmd(&mut con(&engine, &old), &["SET", "old", "1"]);
    let new = service(root.path(), "cache");
    engine.provision(&new).unwrap();
    assert_eq!(cmd::<i64>(&mut con(&engine, &new), &["DBSIZE"]), 0);
    assert_eq!(engine.servers().len(), 1);
}

#[test]
fn a_ttl_carries_over_and_the_key_still_expires() {
    let (root, engine) = engine();
    let (a, b) = (service(root.path(), "a"), service(root.path(), "b"));
    engine.provision(&a).unwrap();
    engine.provision(&b).unwrap();
    let mut source = con(&engine, &a);
    let _: () = cmd(&mut source, &["SET", "short", "x", "PX", "1500"]);
    let backup = backup_file(&engine, &a, root.path());
    engine.restore(&backup, &b).unwrap();
    let mut target = con(&engine, &b);
    let pttl: i64 = cmd(&mut target, &["PTTL", "short"]);
    assert!(pttl > 0 && pttl <= 1500, "pttl {pttl}");
    std::thread::sleep(Duration::from_millis(1600));
    let value: Value = cmd(&mut target, &["GET", "short"]);
    assert_eq!(value, Value::Nil);
}
