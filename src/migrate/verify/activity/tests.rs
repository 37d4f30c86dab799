//! The write gap's rules on measured counters, which verify differences it explains (as verify
//! itself words them), and the measurements of real Redis servers and directories.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::Duration;

use super::super::Fingerprint;
use super::super::postgres::{Database, LargeObjectSum, SequenceState, TableSum};
use super::super::redis::tests::{PASSWORD, Server};
use super::super::redis::{DatabaseSum, Keyspace};
use super::*;
use crate::tree::TreeDigest;

fn counters(writes: u64, live: u64, filenode: u32) -> TableCounters {
    TableCounters {
        writes,
        live,
        filenode,
    }
}

fn pg(tables: &[(&str, TableCounters)], stats_reset: Option<i64>) -> Activity {
    Activity::Postgresql {
        tables: tables.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect(),
        commits: 100,
        stats_reset,
    }
}

fn redis_at(changes: u64, last_save: i64, at: i64, keys: &[(u32, u64)]) -> Activity {
    Activity::Redis {
        changes_since_save: changes,
        last_save,
        at,
        keys: keys.iter().map(|(db, n)| (format!("db{db}"), *n)).collect(),
    }
}

fn parts(gap: &WriteGap) -> Vec<(&str, u64)> {
    gap.parts.iter().map(|(p, n)| (p.as_str(), *n)).collect()
}

fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn connection(kind: ConnectionKind, url: &str) -> ServiceConnection {
    ServiceConnection {
        kind,
        url: url.to_owned(),
    }
}

#[test]
fn a_measurement_is_journaled_as_counters_tagged_by_kind() {
    let measured = [
        pg(&[("\"Sales Dept\".\"Q1\"", counters(7, 3, 16384))], Some(1)),
        redis_at(4, 1_700_000_000, 1_700_000_100, &[(0, 12), (3, 1)]),
        Activity::Files {
            at_ms: 1_700_000_000_123,
            entries: 42,
        },
    ];
    for activity in measured {
        let line = serde_json::to_string(&activity).unwrap();
        assert!(line.starts_with("{\"kind\":"), "{line}");
        let back: Activity = serde_json::from_str(&line).unwrap();
        assert_eq!(back, activity, "{line}");
    }
    let json = serde_json::to_value(redis_at(4, 1, 2, &[(3, 1)])).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "redis", "changes_since_save": 4, "last_save": 1, "at": 2,
                           "keys": {"db3": 1}})
    );
}

#[test]
fn rows_written_count_per_table_and_untouched_tables_are_left_out() {
    let before = pg(
        &[
            ("public.orders", counters(100, 90, 1)),
            ("public.users", counters(10, 10, 2)),
            ("public.quiet", counters(5, 5, 3)),
        ],
        None,
    );
    let now = pg(
        &[
            ("public.orders", counters(105, 95, 1)),
            ("public.users", counters(12, 10, 2)),
            ("public.quiet", counters(5, 5, 3)),
        ],
        None,
    );
    let gap = postgres::gap(&before, &now).unwrap();
    assert_eq!(parts(&gap), [("public.orders", 5), ("public.users", 2)]);
    assert_eq!((gap.writes, gap.unit), (7, GapUnit::Rows));
    let nothing = postgres::gap(&before, &before).unwrap();
    assert!(
        nothing.is_empty() && nothing.parts.is_empty(),
        "{nothing:?}"
    );
}

#[test]
fn reset_replaced_dropped_and_new_tables_count_high_never_low() {
    let before = pg(
        &[
            ("public.down", counters(100, 50, 1)),
            ("public.truncated", counters(40, 30, 2)),
            ("public.dropped", counters(9, 8, 3)),
            ("public.dropped_empty", counters(0, 0, 4)),
        ],
        None,
    );
    let now = pg(
        &[
            // The counters went down (a crash): all since then.
            ("public.down", counters(3, 53, 1)),
            // TRUNCATE: new file, counters kept; the 30 rows it held are gone.
            ("public.truncated", counters(42, 2, 20)),
            ("public.created_empty", counters(0, 0, 30)),
            ("public.created", counters(6, 6, 31)),
        ],
        None,
    );
    let gap = postgres::gap(&before, &now).unwrap();
    assert_eq!(
        parts(&gap),
        [
            ("public.created", 6),
            ("public.created_empty", 1),
            ("public.down", 3),
            ("public.dropped", 8),
            ("public.dropped_empty", 1),
            ("public.truncated", 32),
        ]
    );
    assert_eq!(gap.writes, 51);

    // A reset of the database's statistics: every table counts all since the reset.
    let before = pg(&[("public.orders", counters(100, 90, 1))], Some(1_000));
    let now = pg(&[("public.orders", counters(150, 90, 1))], Some(2_000));
    assert_eq!(
        parts(&postgres::gap(&before, &now).unwrap()),
        [("public.orders", 150)]
    );
}

#[test]
fn key_changes_count_the_counter_and_after_a_save_what_the_key_counts_show() {
    // No save since: the counter's growth; key counts catch expired keys beyond it.
    let before = redis_at(10, 1_000, 2_000, &[(0, 50)]);
    let gap = redis::gap(&before, &redis_at(13, 1_000, 2_100, &[(0, 52)])).unwrap();
    assert_eq!((parts(&gap), gap.writes), (vec![("db0", 3)], 3));
    let gap = redis::gap(&before, &redis_at(10, 1_000, 2_100, &[(0, 46)])).unwrap();
    assert_eq!((parts(&gap), gap.writes), (vec![("db0", 4)], 4));
    assert!(
        redis::gap(&before, &redis_at(10, 1_000, 2_100, &[(0, 50)]))
            .unwrap()
            .is_empty()
    );

    // A save since (the backup's SAVE, or a restart): the counter starts again.
    let gap = redis::gap(&before, &redis_at(2, 2_050, 2_100, &[(0, 53)])).unwrap();
    assert_eq!(gap.writes, 2 + 3);
    // A save in the very second of the baseline cannot be told from one before it: after.
    let before = redis_at(4, 2_000, 2_000, &[(0, 50)]);
    let gap = redis::gap(&before, &redis_at(6, 2_000, 2_100, &[(0, 50)])).unwrap();
    assert_eq!(gap.writes, 6);

    // Several databases: the counter is server-wide, each names its key-count change.
    let before = redis_at(0, 1_000, 2_000, &[(0, 5), (3, 1)]);
    let gap = redis::gap(&before, &redis_at(7, 1_000, 2_100, &[(0, 9), (2, 1)])).unwrap();
    assert_eq!(parts(&gap), [("db0", 4), ("db2", 1), ("db3", 1)]);
    assert_eq!((gap.writes, gap.unit), (7, GapUnit::Keys));
    // No keys at either moment, yet changes: written and deleted again, in db0 as a rule.
    let gap = redis::gap(&redis_at(0, 1, 2, &[]), &redis_at(2, 1, 3, &[])).unwrap();
    assert_eq!(parts(&gap), [("db0", 2)]);
}

#[test]
fn measurements_of_different_kinds_make_no_gap() {
    let files = Activity::Files {
        at_ms: 1,
        entries: 1,
    };
    let keys = redis_at(1, 1, 1, &[]);
    assert_eq!(postgres::gap(&keys, &pg(&[], None)), None);
    assert_eq!(redis::gap(&files, &keys), None);
}

fn table(rows: i64, checksum: &str) -> TableSum {
    TableSum {
        rows,
        checksum: checksum.into(),
    }
}

fn database(orders: TableSum, users: TableSum, quiet: TableSum, seq: i64, lo: i64) -> Database {
    Database {
        tables: [
            ("public.orders".to_owned(), orders),
            ("public.users".to_owned(), users),
            ("public.quiet".to_owned(), quiet),
            ("public.users_archive".to_owned(), table(1, "1")),
        ]
        .into(),
        sequences: [(
            "public.orders_id_seq".to_owned(),
            SequenceState {
                last_value: seq,
                is_called: true,
            },
        )]
        .into(),
        extensions: ["citext".to_owned()].into(),
        large_objects: LargeObjectSum {
            count: lo,
            checksum: lo.to_string(),
        },
        server_version: "13.23".to_owned(),
    }
}

fn gap(unit: GapUnit, parts: &[(&str, u64)]) -> WriteGap {
    WriteGap {
        parts: parts.iter().map(|(p, n)| ((*p).to_owned(), *n)).collect(),
        writes: parts.iter().map(|(_, n)| n).sum(),
        unit,
    }
}

#[test]
fn a_table_difference_is_explained_only_by_writes_to_that_table() {
    let source = database(table(105, "1"), table(30, "9"), table(5, "5"), 105, 1);
    let mut target = database(table(100, "0"), table(30, "4"), table(4, "4"), 100, 2);
    target.tables.remove("public.users_archive");
    target.extensions.clear();
    let differences = Database::differences(&source, &target);
    let written = gap(GapUnit::Rows, &[("public.orders", 5), ("public.users", 2)]);
    let explained: Vec<(&str, bool)> = differences
        .iter()
        .map(|d| (d.what.as_str(), written.explains(d)))
        .collect();
    assert_eq!(
        explained,
        [
            ("table public.orders rows", true),
            ("table public.quiet rows", false),
            ("table public.users row checksum", true),
            // Written to `public.users`, not to the table whose name it starts with.
            ("table public.users_archive", false),
            ("sequence public.orders_id_seq", true),
            ("large objects", false),
            ("extension citext", false),
        ]
    );
    let quoted = gap(GapUnit::Rows, &[("\"Sales Dept\".\"Q1\"", 1)]);
    let missing = Difference::new("table \"Sales Dept\".\"Q1\"", "missing", "3 rows");
    assert!(quoted.explains(&missing));
    assert!(
        !gap(GapUnit::Rows, &[]).explains(&differences[4]),
        "no writes, no sequence"
    );
}

#[test]
fn a_key_change_explains_any_database_and_a_changed_entry_any_file_difference() {
    let db = |keys, digest: &str| DatabaseSum {
        keys,
        with_ttl: keys % 2,
        digest: digest.to_owned(),
    };
    let source = Keyspace {
        databases: [(0, db(3, "a")), (12, db(1, "b"))].into(),
        server_version: "6.2.14".to_owned(),
    };
    let target = Keyspace {
        databases: [(0, db(2, "c")), (12, db(1, "d"))].into(),
        server_version: "6.2.14".to_owned(),
    };
    let differences = Keyspace::differences(&source, &target);
    assert_eq!(differences.len(), 3, "{differences:?}");
    let changed = gap(GapUnit::Keys, &[("db0", 1)]);
    assert!(
        differences.iter().all(|d| changed.explains(d)),
        "{differences:?}"
    );
    assert!(
        !differences
            .iter()
            .any(|d| gap(GapUnit::Keys, &[]).explains(d))
    );
    assert!(!changed.explains(&Difference::new("table public.db0 keys", "1", "2")));

    let tree = |files, bytes, sha: &str| TreeDigest {
        files,
        bytes,
        sha256: sha.to_owned(),
    };
    let differences = TreeDigest::differences(&tree(3, 10, "a"), &tree(2, 9, "b"));
    assert_eq!(differences.len(), 3, "{differences:?}");
    let changed = gap(GapUnit::Files, &[("img", 1)]);
    assert!(differences.iter().all(|d| changed.explains(d)));
    assert!(
        !differences
            .iter()
            .any(|d| gap(GapUnit::Files, &[]).explains(d))
    );
    // A gap of one kind explains nothing of another.
    assert!(!changed.explains(&Difference::new("db0 keys", "1", "2")));
    assert!(!gap(GapUnit::Rows, &[("files", 1)]).explains(&differences[0]));
}

async fn key_changes(server: &Server, before: &Activity) -> u64 {
    let gap = since(
        before,
        &connection(ConnectionKind::Redis, &server.url),
        "source",
    )
    .await
    .unwrap()
    .expect("reachable");
    assert_eq!(gap.unit, GapUnit::Keys);
    gap.writes
}

#[tokio::test]
async fn keys_set_on_a_real_server_count_and_a_save_between_does_not_hide_them() {
    let server = Server::start();
    server.run(0, &[&["SET", "old", "1"]]);
    // A baseline in the second of the server's start (its last save) would count the change
    // before it too: a save in that second cannot be told from one after the baseline.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let redis = connection(ConnectionKind::Redis, &server.url);
    let before = measure(&redis, "source").await.unwrap().expect("reachable");
    let Activity::Redis { keys, .. } = &before else {
        panic!("{before:?}")
    };
    assert_eq!(keys, &BTreeMap::from([("db0".to_owned(), 1)]));
    assert_eq!(key_changes(&server, &before).await, 0);

    server.run(
        0,
        &[&["SET", "a", "1"], &["SET", "b", "2"], &["SET", "c", "3"]],
    );
    assert!(key_changes(&server, &before).await >= 3);

    // The sandbox's backup saves: the counter starts again, the new keys still count.
    server.run(0, &[&["SAVE"], &["SET", "d", "4"]]);
    assert!(key_changes(&server, &before).await >= 4);
    let gap = since(&before, &redis, "source").await.unwrap().unwrap();
    assert_eq!(parts(&gap)[0].0, "db0");
}

#[tokio::test]
async fn an_unreachable_or_refusing_redis_is_not_measured() {
    let server = Server::start();
    let wrong = server.url.replace(PASSWORD, "wrong-pw-1234");
    let closed = format!("redis://:{PASSWORD}@127.0.0.1:{}", closed_port());
    for url in [wrong, closed] {
        let redis = connection(ConnectionKind::Redis, &url);
        assert_eq!(measure(&redis, "source").await.unwrap(), None);
        let before = redis_at(0, 1, 2, &[]);
        assert_eq!(since(&before, &redis, "source").await.unwrap(), None);
    }
}

#[tokio::test]
async fn an_unreachable_postgresql_is_not_measured() {
    let url = format!("postgresql://app:s3cretpw@127.0.0.1:{}/shop", closed_port());
    let postgres = connection(ConnectionKind::Postgresql, &url);
    assert_eq!(measure(&postgres, "source").await.unwrap(), None);
    let bad = connection(
        ConnectionKind::Postgresql,
        "postgresql://app:pw@h:notaport/db",
    );
    assert_eq!(measure(&bad, "source").await.unwrap(), None);
    assert_eq!(
        since(&pg(&[], None), &postgres, "source").await.unwrap(),
        None
    );
}

fn url_of(dir: &std::path::Path) -> String {
    url::Url::from_directory_path(dir)
        .expect("absolute")
        .to_string()
}

#[tokio::test]
async fn a_written_and_a_deleted_file_count_and_a_quiet_tree_has_no_gap() {
    let root = tempfile::tempdir().unwrap();
    let path = |rel: &str| root.path().join(rel);
    std::fs::create_dir_all(path("img/2024")).unwrap();
    std::fs::write(path("img/2024/a.png"), [7u8; 30]).unwrap();
    std::fs::write(path("img/2024/b.png"), [8u8; 30]).unwrap();
    std::fs::write(path("readme.txt"), b"hello").unwrap();
    // Older than the margin for timestamp granularity, as a backup's files are by verify.
    std::thread::sleep(Duration::from_millis(2200));
    let volume = connection(ConnectionKind::Directory, &url_of(root.path()));
    let before = measure(&volume, "source").await.unwrap().expect("here");
    let Activity::Files { entries, .. } = before else {
        panic!("{before:?}")
    };
    assert_eq!(entries, 5, "two directories and three files");
    let quiet = since(&before, &volume, "source").await.unwrap().unwrap();
    assert!(quiet.is_empty() && quiet.parts.is_empty(), "{quiet:?}");

    // Rewritten in place (its directory does not change) and deleted (only its directory does).
    std::fs::write(path("readme.txt"), b"hellO").unwrap();
    std::fs::remove_file(path("img/2024/a.png")).unwrap();
    let gap = since(&before, &volume, "source").await.unwrap().unwrap();
    assert_eq!(parts(&gap), [("img/2024", 1), ("readme.txt", 1)]);
    assert_eq!((gap.writes, gap.unit), (2, GapUnit::Files));

    // Many changes: all counted, the first 20 paths named.
    std::fs::create_dir(path("many")).unwrap();
    for i in 0..30 {
        std::fs::write(path(&format!("many/{i:02}")), b"x").unwrap();
    }
    let gap = since(&before, &volume, "source").await.unwrap().unwrap();
    assert_eq!(gap.writes, 2 + 1 + 1 + 30, "root, many/ and its files too");
    assert_eq!(gap.parts.len(), 20);
    assert_eq!(
        parts(&gap)[..4],
        [(".", 1), ("img/2024", 1), ("many", 1), ("many/00", 1)]
    );
    assert_eq!(parts(&gap)[19], ("many/16", 1));
}

#[tokio::test]
async fn a_directory_elsewhere_or_of_another_kind_is_not_measured() {
    let gone = tempfile::tempdir().unwrap().path().join("nope");
    let elsewhere = connection(
        ConnectionKind::Directory,
        &format!("file://{}/", gone.display()),
    );
    assert_eq!(measure(&elsewhere, "source").await.unwrap(), None);
    let bucket = connection(ConnectionKind::Directory, "s3://bucket/prefix");
    assert_eq!(measure(&bucket, "source").await.unwrap(), None);
    let before = Activity::Files {
        at_ms: 0,
        entries: 0,
    };
    assert_eq!(since(&before, &elsewhere, "source").await.unwrap(), None);
    let here = tempfile::tempdir().unwrap();
    let redis = connection(ConnectionKind::Redis, &url_of(here.path()));
    assert_eq!(since(&before, &redis, "source").await.unwrap(), None);
}
