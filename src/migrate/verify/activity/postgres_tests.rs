//! PostgreSQL's write counters against a real cluster: rows written after a baseline show per
//! table, and explain exactly the differences verify finds in those tables.

use std::time::{Duration, Instant};

use super::super::Fingerprint;
use super::super::Reach;
use super::super::postgres::{self as compare, Database};
use super::super::postgres_tests::Cluster;
use super::*;

const SCHEMA: &str = "
    CREATE EXTENSION citext;
    CREATE TABLE orders (id serial PRIMARY KEY, email citext);
    CREATE TABLE users (id int PRIMARY KEY, name text);
    CREATE TABLE quiet (x int);
    INSERT INTO orders (email) VALUES ('a@example.com'), ('b@example.com'), ('c@example.com');
    INSERT INTO users VALUES (1, 'Ada'), (2, 'Bob'), (3, 'Cy');
    INSERT INTO quiet VALUES (1), (2);
";

fn shop(cluster: &Cluster) -> ServiceConnection {
    ServiceConnection {
        kind: ConnectionKind::Postgresql,
        url: cluster.url("shop"),
    }
}

fn tables(activity: &Activity) -> Vec<(&str, u64)> {
    let Activity::Postgresql { tables, .. } = activity else {
        panic!("{activity:?}")
    };
    tables.iter().map(|(n, c)| (n.as_str(), c.writes)).collect()
}

/// Counters reach the statistics a moment after the commit: measures again until `done` (5 s
/// at most) and returns the last measurement.
async fn poll<T: std::fmt::Debug>(
    mut measure: impl AsyncFnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let measured = measure().await;
        if done(&measured) || Instant::now() > deadline {
            return measured;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn database(cluster: &Cluster, name: &str) -> Database {
    match compare::measure(&cluster.url(name), name).await.unwrap() {
        Reach::Reached(database) => database,
        Reach::Unreachable(reason) => panic!("{reason}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_written_after_the_baseline_show_per_table_and_explain_only_their_differences() {
    let cluster = Cluster::start();
    let source = shop(&cluster);
    cluster.run("postgres", "CREATE DATABASE shop").await;
    cluster.run("shop", SCHEMA).await;
    // The target holds what the backup held; it lacks an extension and a large object the
    // source has, and one row of a table nobody writes to: differences no write explains.
    cluster
        .run("postgres", "CREATE DATABASE copy TEMPLATE shop")
        .await;
    cluster.run("shop", "CREATE EXTENSION pg_trgm").await;
    cluster
        .run(
            "copy",
            "DELETE FROM quiet WHERE x = 2; SELECT lo_from_bytea(0, 'extra')",
        )
        .await;

    let settled = [
        ("public.orders", 3),
        ("public.quiet", 2),
        ("public.users", 3),
    ];
    let before = poll(
        async || {
            measure(&source, "source")
                .await
                .unwrap()
                .expect("reachable")
        },
        |a| tables(a) == settled,
    )
    .await;
    assert_eq!(tables(&before), settled);

    cluster
        .run(
            "shop",
            "INSERT INTO orders (email) SELECT format('n%s@example.com', i) \
             FROM generate_series(1, 5) i; \
             UPDATE users SET name = upper(name) WHERE id <= 2;",
        )
        .await;
    let gap = poll(
        async || since(&before, &source, "source").await.unwrap().unwrap(),
        |g| g.writes == 7,
    )
    .await;
    assert_eq!(
        gap.parts,
        [
            ("public.orders".to_owned(), 5),
            ("public.users".to_owned(), 2)
        ]
    );
    assert_eq!((gap.writes, gap.unit), (7, GapUnit::Rows));

    let differences = Database::differences(
        &database(&cluster, "shop").await,
        &database(&cluster, "copy").await,
    );
    let explained: Vec<(&str, bool)> = differences
        .iter()
        .map(|d| (d.what.as_str(), gap.explains(d)))
        .collect();
    assert_eq!(
        explained,
        [
            ("table public.orders rows", true),
            ("table public.quiet rows", false),
            ("table public.users row checksum", true),
            ("sequence public.orders_id_seq", true),
            ("large objects", false),
            ("extension pg_trgm", false),
        ]
    );

    // TRUNCATE counts no row but replaces the table's file: the rows it held count.
    cluster.run("shop", "TRUNCATE quiet").await;
    let gap = since(&before, &source, "source").await.unwrap().unwrap();
    assert_eq!(
        gap.parts,
        [
            ("public.orders".to_owned(), 5),
            ("public.quiet".to_owned(), 2),
            ("public.users".to_owned(), 2)
        ]
    );

    // A refused login is not measured, like a server that is not there.
    let mut refused = url::Url::parse(&source.url).unwrap();
    refused.set_password(Some("not-the-pw-987")).unwrap();
    let refused = ServiceConnection {
        kind: ConnectionKind::Postgresql,
        url: refused.to_string(),
    };
    assert_eq!(since(&before, &refused, "source").await.unwrap(), None);
}
