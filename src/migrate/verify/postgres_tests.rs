//! The PostgreSQL comparison against a real cluster started here: two databases filled with the
//! same data in a different order match; each kind of change is reported.

use tokio_postgres::NoTls;

use super::Fingerprint;
use super::postgres::{Database, measure};
use crate::sandbox::PostgresCluster;

/// The cluster of this test, stopped before its directory goes away. The activity tests start
/// theirs with it.
pub(super) struct Cluster {
    cluster: PostgresCluster,
}

impl Cluster {
    pub fn start() -> Cluster {
        // A scratch cluster removes its data once the test binary has ended.
        let cluster = PostgresCluster::start_scratch(13).unwrap_or_else(|e| {
            panic!("cannot start PostgreSQL 13 ({e}): run scripts/install-servers")
        });
        Cluster { cluster }
    }

    pub fn url(&self, database: &str) -> String {
        let mut url = url::Url::parse(self.cluster.admin_url()).unwrap();
        url.set_path(&format!("/{database}"));
        url.to_string()
    }

    pub async fn run(&self, database: &str, sql: &str) {
        let (client, connection) = tokio_postgres::connect(&self.url(database), NoTls)
            .await
            .unwrap();
        let io = tokio::spawn(connection);
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        drop(client);
        let _ = io.await;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.cluster.stop();
    }
}

const SCHEMA: &str = r#"
    CREATE EXTENSION citext;
    CREATE TABLE orders (id serial PRIMARY KEY, email citext, total numeric(10,2),
                         ratio float8, placed timestamptz, note text, r int);
    CREATE SCHEMA "Sales Dept";
    CREATE TABLE "Sales Dept"."Q1" ("Amount" bigint);
    CREATE TABLE empty_one (x int);
    CREATE TABLE no_columns ();
    INSERT INTO no_columns DEFAULT VALUES;
    INSERT INTO no_columns DEFAULT VALUES;
"#;

const ROWS_FORWARD: &str = r#"
    INSERT INTO orders (email, total, ratio, placed, note, r) VALUES
      ('Ada@Example.com', 10.50, 0.1, '2024-01-02 03:04:05+00', 'first', 1),
      ('bob@example.com', 99.99, 1e-300, '2024-02-03 04:05:06+02', NULL, 2),
      ('cy@example.com', 0, -2.5, NULL, 'dup', 3),
      ('cy@example.com', 0, -2.5, NULL, 'dup', 3);
    INSERT INTO "Sales Dept"."Q1" VALUES (1), (2), (3);
"#;

/// The same rows in another order; ids are given so both sides hold the same values.
const ROWS_BACKWARD: &str = r#"
    INSERT INTO "Sales Dept"."Q1" VALUES (3), (1), (2);
    INSERT INTO orders (id, email, total, ratio, placed, note, r) VALUES
      (4, 'cy@example.com', 0, -2.5, NULL, 'dup', 3),
      (3, 'cy@example.com', 0, -2.5, NULL, 'dup', 3),
      (2, 'bob@example.com', 99.99, 1e-300, '2024-02-03 02:05:06+00', NULL, 2),
      (1, 'Ada@Example.com', 10.50, 0.1, '2024-01-02 03:04:05+00', 'first', 1);
    SELECT setval('orders_id_seq', 4);
"#;

async fn database(cluster: &Cluster, name: &str) -> Database {
    measure(&cluster.url(name), name).await.unwrap().reached()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_rows_match_each_change_is_reported_and_a_refused_login_is_only_a_reason() {
    let cluster = Cluster::start();
    // One statement per call: CREATE DATABASE refuses to run in a multi-statement batch.
    cluster.run("postgres", "CREATE DATABASE src").await;
    cluster.run("postgres", "CREATE DATABASE dst").await;
    cluster.run("src", &format!("{SCHEMA}{ROWS_FORWARD}")).await;
    // The target's server renders times in another zone by default: verify must not care.
    cluster
        .run(
            "dst",
            &format!("ALTER DATABASE dst SET timezone = 'Asia/Tokyo'; {SCHEMA}{ROWS_BACKWARD}"),
        )
        .await;

    let source = database(&cluster, "src").await;
    let target = database(&cluster, "dst").await;
    assert_eq!(Database::differences(&source, &target), vec![]);
    assert_eq!(
        crate::verdict::words::summary_text(&source.summary()),
        "4 tables, 9 rows, 1 sequence, 2 extensions"
    );
    assert!(
        source.tables.contains_key("\"Sales Dept\".\"Q1\""),
        "{source:?}"
    );
    assert!(source.sequences.contains_key("public.orders_id_seq"));

    cluster
        .run(
            "dst",
            "DELETE FROM orders WHERE id = 4; \
             UPDATE \"Sales Dept\".\"Q1\" SET \"Amount\" = 30 WHERE \"Amount\" = 3; \
             SELECT setval('orders_id_seq', 1, false); \
             ALTER TABLE orders ALTER COLUMN email TYPE text; DROP EXTENSION citext; \
             DROP TABLE empty_one; DELETE FROM no_columns WHERE ctid = '(0,1)';",
        )
        .await;
    let target = database(&cluster, "dst").await;
    let differences = Database::differences(&source, &target);
    let whats: Vec<&str> = differences.iter().map(|d| d.what.as_str()).collect();
    assert_eq!(
        whats,
        vec![
            "table \"Sales Dept\".\"Q1\" row checksum",
            "table public.empty_one",
            "table public.no_columns rows",
            "table public.orders rows",
            "sequence public.orders_id_seq",
            "extension citext",
        ],
        "{differences:?}"
    );
    let shown = crate::verdict::words::rows(&differences);
    assert_eq!(shown[3], ["table public.orders rows", "4", "3"]);
    assert_eq!(
        shown[4],
        ["sequence public.orders_id_seq", "4", "1 (not called)"]
    );
    assert_eq!(shown[1][2], "missing");

    // One cluster start per test run is enough: the unreachable case uses it too.
    let mut url = url::Url::parse(&cluster.url("postgres")).unwrap();
    url.set_password(Some("not-the-pw-987")).unwrap();
    let reason = measure(url.as_str(), "target").await.unwrap().unreachable();
    assert!(
        reason.starts_with("cannot connect to the target's PostgreSQL"),
        "{reason}"
    );
    assert!(!reason.contains("not-the-pw-987"), "{reason}");
}
