//! Against a real PostgreSQL: one scratch cluster shared by the tests of this module, plus one
//! own cluster for the lifecycle test. A machine without PostgreSQL fails these tests with the
//! install command.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::OnceLock;

use uuid::Uuid;

use super::conn::{Login, Superuser};
use super::postmaster::running_postmaster;
use super::record::ClusterFile;
use super::*;
use crate::model::{Scope, ServiceType};
use crate::sandbox::engines::Credentials;

const PG13: ServiceType = ServiceType::Postgresql13;

fn cluster() -> &'static PostgresCluster {
    static CLUSTER: OnceLock<PostgresCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        PostgresCluster::start_scratch(13)
            .unwrap_or_else(|e| panic!("starting a PostgreSQL cluster for the tests: {e}"))
    })
}

fn admin() -> Superuser {
    Superuser::from_url(cluster().admin_url()).expect("admin url")
}

/// An engine on the shared cluster, in its own sandbox directory.
fn engine(dir: &Path) -> PostgresEngine {
    PostgresEngine::new(dir, Some(&format!("13={}", cluster().admin_url())), true)
}

fn service(dir: &Path, name: &str, extensions: Option<&str>) -> ServiceRef {
    service_of(PG13, dir, name, extensions)
}

fn service_of(
    service_type: ServiceType,
    dir: &Path,
    name: &str,
    extensions: Option<&str>,
) -> ServiceRef {
    let uid = Uuid::new_v4();
    let scope = Scope {
        project: "shop".into(),
        stage: "prod".into(),
    };
    let mut options = BTreeMap::new();
    if let Some(list) = extensions {
        options.insert("extensions".to_owned(), list.to_owned());
    }
    ServiceRef {
        data: super::super::data_dir(dir, &scope, name),
        scope,
        name: name.to_owned(),
        uid,
        service_type,
        options,
        credentials: Credentials::generate(service_type, uid),
    }
}

fn login(svc: &ServiceRef) -> Login<'_> {
    let (user, password) = svc.login().expect("login");
    Login {
        user,
        password,
        database: user,
    }
}

/// Runs one statement with psql and returns its unaligned output.
fn query(su: &Superuser, login: Login<'_>, sql: &str) -> String {
    let psql = &programs::clients().expect("psql").psql;
    let out = su
        .endpoint
        .command(psql, login)
        .args(["-X", "-At", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn as_service(svc: &ServiceRef, sql: &str) -> String {
    query(&admin(), login(svc), sql)
}

fn create(engine: &PostgresEngine, svc: &ServiceRef) {
    engine.provision(svc).expect("provision");
    engine.apply_options(svc).expect("options");
}

fn seed(engine: &PostgresEngine, svc: &ServiceRef, sql: &str) {
    engine
        .load_seed(svc, &SeedData::Sql(sql.to_owned()))
        .expect("seed");
}

const SHOP: &str = "
CREATE TABLE customers (id bigserial PRIMARY KEY, email citext NOT NULL UNIQUE, secret bytea);
COMMENT ON TABLE customers IS 'people who buy';
INSERT INTO customers (email, secret)
  SELECT 'User' || g || '@example.org', digest(g::text, 'sha256') FROM generate_series(1, 500) g;
CREATE TABLE orders (id serial PRIMARY KEY, customer bigint REFERENCES customers, total int);
INSERT INTO orders (customer, total) SELECT g, g * 10 FROM generate_series(1, 50) g;
";

fn backup_file(engine: &PostgresEngine, svc: &ServiceRef, path: &Path) {
    let mut file = fs::File::create(path).expect("create");
    engine.backup(svc, &mut file).expect("backup");
}

#[test]
fn a_backup_restores_into_another_service_on_top_of_its_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path());
    let source = service(dir.path(), "db", Some("citext, pgcrypto"));
    let target = service(dir.path(), "db2", Some("citext,pgcrypto"));
    create(&engine, &source);
    create(&engine, &target);
    seed(&engine, &source, SHOP);
    seed(
        &engine,
        &target,
        "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('a'), ('b'), ('c');",
    );

    let archive = dir.path().join("db.psqlcustom");
    backup_file(&engine, &source, &archive);
    let bytes = fs::read(&archive).expect("read");
    assert!(bytes.starts_with(b"PGDMP"), "a custom-format archive");

    let summary = engine.restore(&archive, &target).expect("restore");
    assert_eq!(summary.bytes, bytes.len() as u64);
    for (table, rows) in [("customers", "500"), ("orders", "50"), ("notes", "3")] {
        assert_eq!(
            as_service(&target, &format!("SELECT count(*) FROM {table}")),
            rows,
            "{table}"
        );
    }
    assert_eq!(
        as_service(
            &target,
            "SELECT count(*) FROM customers WHERE email = 'user7@EXAMPLE.org'"
        ),
        "1",
        "citext compares case-insensitively after the restore"
    );
    let (role, _) = target.login().expect("login");
    assert_eq!(
        as_service(
            &target,
            "SELECT extowner::regrole FROM pg_extension WHERE extname = 'citext'"
        ),
        role,
        "the service role owns its trusted extensions"
    );
    assert!(
        !engine.restore_is_repeatable(),
        "a restore that committed just before a restart would fail when run again"
    );
}

#[test]
fn a_restore_that_conflicts_fails_with_pg_restore_text_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path());
    let source = service(dir.path(), "db", None);
    let target = service(dir.path(), "db2", None);
    create(&engine, &source);
    create(&engine, &target);
    seed(
        &engine,
        &source,
        "CREATE TABLE items (id int); INSERT INTO items SELECT generate_series(1, 10);\
         CREATE TABLE extra (id int); INSERT INTO extra VALUES (1);",
    );
    seed(
        &engine,
        &target,
        "CREATE TABLE items (id int); INSERT INTO items VALUES (99);",
    );
    let archive = dir.path().join("db.psqlcustom");
    backup_file(&engine, &source, &archive);

    let err = engine
        .restore(&archive, &target)
        .expect_err("conflict")
        .to_string();
    assert!(
        err.contains("pg_restore") && err.contains(r#"relation "items" already exists"#),
        "{err}"
    );
    assert_eq!(
        as_service(&target, "SELECT string_agg(id::text, ',') FROM items"),
        "99"
    );
    assert_eq!(
        as_service(
            &target,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'extra'"
        ),
        "0",
        "one transaction: nothing of the failed restore stays"
    );
}

#[test]
fn a_corrupt_archive_fails_with_pg_restore_text_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path());
    let source = service(dir.path(), "db", None);
    let target = service(dir.path(), "db2", None);
    create(&engine, &source);
    create(&engine, &target);
    seed(
        &engine,
        &source,
        "CREATE TABLE t (id int); INSERT INTO t VALUES (1);",
    );
    seed(
        &engine,
        &target,
        "CREATE TABLE kept (id int); INSERT INTO kept VALUES (7);",
    );
    let good = dir.path().join("good.psqlcustom");
    backup_file(&engine, &source, &good);
    let header = &fs::read(&good).expect("read")[..64];

    let garbage: Vec<u8> = (0u32..8192)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for (name, head) in [
        ("header.psqlcustom", header),
        ("magic.psqlcustom", &b"PGDMP"[..]),
    ] {
        let bad = dir.path().join(name);
        fs::write(&bad, [head, &garbage].concat()).expect("write");
        let err = engine.restore(&bad, &target).expect_err(name).to_string();
        assert!(err.starts_with("pg_restore: error:"), "{name}: {err}");
        assert!(err.len() <= admin::MAX_ERROR + 10, "{name}: capped");
    }
    assert_eq!(
        as_service(
            &target,
            "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'"
        ),
        "kept"
    );
    assert_eq!(as_service(&target, "SELECT id FROM kept"), "7");
}

#[test]
fn extensions_fall_back_to_the_superuser_and_unknown_ones_fail_with_postgres_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path());
    let svc = service(dir.path(), "db", Some("citext,dblink,citext"));
    create(&engine, &svc);
    engine
        .apply_options(&svc)
        .expect("running the options again is fine");
    let (role, _) = svc.login().expect("login");
    assert_eq!(
        as_service(
            &svc,
            "SELECT string_agg(extname || '=' || extowner::regrole::text, ',' ORDER BY extname) \
             FROM pg_extension WHERE extname <> 'plpgsql'"
        ),
        format!("citext={role},dblink={}", admin().user),
        "dblink is untrusted: the superuser creates it"
    );

    let unknown = service(dir.path(), "db3", Some("no_such_ext"));
    engine.provision(&unknown).expect("provision");
    let err = engine
        .apply_options(&unknown)
        .expect_err("unknown extension")
        .to_string();
    assert!(
        // PostgreSQL 13 names the missing control file; 15 says "is not available".
        err.contains("ERROR:") && err.contains("no_such_ext"),
        "{err}"
    );
}

#[test]
fn remove_drops_the_database_and_the_role_and_provision_starts_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path());
    let svc = service(dir.path(), "db", None);
    create(&engine, &svc);
    seed(&engine, &svc, "CREATE TABLE t (id int);");
    // Leftovers of the same name are replaced by an empty database.
    create(&engine, &svc);
    assert_eq!(
        as_service(&svc, "SELECT count(*) FROM pg_tables WHERE tablename = 't'"),
        "0"
    );

    // An open session does not keep the database alive.
    let (role, password) = svc.login().expect("login");
    let su = admin();
    let mut session = su
        .endpoint
        .command(&programs::clients().expect("psql").psql, login(&svc))
        .args(["-X", "-q", "-c", "SELECT pg_sleep(30)"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("psql");
    let open = format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{role}'");
    for _ in 0..50 {
        if query(&su, su.login(), &open) != "0" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    engine.remove(&svc).expect("remove");
    let _ = session.kill();
    let _ = session.wait();
    let exists = format!(
        "SELECT (SELECT count(*) FROM pg_database WHERE datname = '{role}') \
         + (SELECT count(*) FROM pg_roles WHERE rolname = '{role}')"
    );
    assert_eq!(query(&su, su.login(), &exists), "0");
    engine.remove(&svc).expect("removing again is fine");
    assert!(!password.is_empty());
}

#[test]
fn the_env_url_logs_in_as_the_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path());
    let svc = service(dir.path(), "db", None);
    create(&engine, &svc);
    let (value, secret) = engine
        .env_value(&svc, "http://127.0.0.1:1")
        .expect("env")
        .expect("a value");
    assert!(secret);
    let (role, password) = svc.login().expect("login");
    let port = admin().endpoint.port;
    assert_eq!(
        value,
        format!("postgresql://{role}:{password}@127.0.0.1:{port}/{role}")
    );
    let connection = engine.connection(&svc).expect("connection");
    assert_eq!(connection.kind, ConnectionKind::Postgresql);
    assert_eq!(connection.url, value);

    // What an app does with the value: log in with it.
    let app = Superuser::from_url(&value).expect("a postgresql URL");
    assert_eq!(
        query(
            &app,
            app.login(),
            "SELECT current_user || '@' || current_database()"
        ),
        format!("{role}@{role}")
    );
}

#[test]
fn failures_carry_the_programs_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path());
    let svc = service(dir.path(), "db", None);
    create(&engine, &svc);
    let err = engine
        .load_seed(
            &svc,
            &SeedData::Sql("CREATE TABLE ok (id int);\nSELEC 1;".into()),
        )
        .expect_err("bad sql")
        .to_string();
    assert!(
        err.contains(r#"syntax error at or near "SELEC""#) && err.contains("<stdin>:2"),
        "{err}"
    );

    let never_created = service(dir.path(), "ghost", None);
    let err = engine
        .backup(&never_created, &mut Vec::new())
        .expect_err("no such role")
        .to_string();
    assert!(
        err.starts_with("pg_dump failed") && err.contains("authentication failed"),
        "{err}"
    );
    let (_, password) = never_created.login().expect("login");
    assert!(!err.contains(password), "no password in errors");
}

#[test]
fn a_stored_admin_url_is_used_by_a_later_open_without_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = engine(dir.path());
    let svc = service(dir.path(), "db", None);
    create(&first, &svc);
    let file = dir.path().join("postgres/13/cluster.json");
    assert_eq!(fs::metadata(&file).expect("stored").mode() & 0o777, 0o600);

    let later = PostgresEngine::new(dir.path(), None, true);
    later.available(PG13).expect("available");
    assert_eq!(
        later.env_value(&svc, "").expect("env"),
        first.env_value(&svc, "").expect("env")
    );
    assert!(
        !dir.path().join("postgres/13/data").exists(),
        "no own cluster"
    );

    let bad = PostgresEngine::new(dir.path(), Some("mysql://x@y/z"), true);
    let err = bad.available(PG13).expect_err("bad url").to_string();
    assert!(err.contains("postgresql://"), "{err}");
}

#[test]
fn the_own_cluster_starts_lazily_is_adopted_and_restarts_on_a_new_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Closed like /root or an older tempfile's dirs: as root, `nobody` cannot reach it.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
    let engine = PostgresEngine::new(dir.path(), None, true);
    engine.available(PG13).expect("available");
    assert!(
        !dir.path().join("postgres").exists(),
        "nothing before the first operation"
    );

    let svc = service(dir.path(), "db", Some("citext"));
    create(&engine, &svc);
    seed(
        &engine,
        &svc,
        "CREATE TABLE kept (email citext); INSERT INTO kept VALUES ('A');",
    );
    let cluster_dir = dir.path().join("postgres/13");
    let file = ClusterFile::load(&cluster_dir).expect("cluster.json");
    let own = file.own.clone().expect("own cluster recorded");
    assert!(file.admin_url.is_none());
    assert_eq!(
        fs::metadata(cluster_dir.join("cluster.json"))
            .expect("meta")
            .mode()
            & 0o777,
        0o600
    );
    let data_meta = fs::metadata(&own.data_dir).expect("data dir");
    assert_eq!(data_meta.permissions().mode() & 0o777, 0o700);
    let run_as = run_as::RunAs::for_this_process().expect("run as");
    if let Some(run_as) = run_as {
        assert_eq!(
            data_meta.uid(),
            run_as.uid,
            "as root, PostgreSQL runs as nobody"
        );
        assert!(
            own.data_dir.starts_with(location::SHARED_ROOT),
            "{}",
            own.data_dir.display()
        );
    } else {
        assert_eq!(own.data_dir, cluster_dir.join("data"));
    }

    // A second start while the server runs adopts it.
    let adopted = PostgresCluster::start(&cluster_dir, 13, true).expect("adopt");
    assert_eq!(adopted.superuser().endpoint.port, own.port);

    engine.shutdown();
    assert!(running_postmaster(&own.data_dir).is_none(), "stopped");
    // The old port is taken now: the next operation starts the server on another one.
    let squatter = std::net::TcpListener::bind(("127.0.0.1", own.port)).expect("bind old port");
    let url = engine.env_value(&svc, "").expect("env").expect("value").0;
    assert!(!url.contains(&format!(":{}/", own.port)), "a new port");
    assert_eq!(
        as_service_at(&url, "SELECT email FROM kept WHERE email = 'a'"),
        "A"
    );
    drop(squatter);

    engine.shutdown();
    assert!(running_postmaster(&own.data_dir).is_none(), "stopped again");
    // Deleting the sandbox frees data kept outside it at the next sweep.
    drop(dir);
    if run_as.is_some() {
        let base = own.data_dir.parent().expect("base");
        assert!(base.exists());
        location::sweep(Path::new(location::SHARED_ROOT));
        assert!(!base.exists(), "swept");
        assert!(!base.with_extension("owner").exists(), "record swept");
    }
}

fn as_service_at(url: &str, sql: &str) -> String {
    let app = Superuser::from_url(url).expect("url");
    query(&app, app.login(), sql)
}

#[test]
fn each_type_gets_an_own_cluster_on_a_server_of_its_major_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = PostgresEngine::new(dir.path(), None, true);
    let old = service_of(ServiceType::Postgresql11, dir.path(), "db", Some("citext"));
    let new = service_of(PG13, dir.path(), "db13", Some("citext"));
    create(&engine, &old);
    create(&engine, &new);
    let version = |svc: &ServiceRef| {
        let url = engine.env_value(svc, "").expect("env").expect("value").0;
        as_service_at(&url, "SHOW server_version_num")
    };
    assert!(version(&old).starts_with("11"), "{}", version(&old));
    assert!(version(&new).starts_with("13"), "{}", version(&new));
    for major in ["11", "13"] {
        let data = ClusterFile::load(&dir.path().join("postgres").join(major))
            .expect("cluster.json")
            .own
            .expect("own cluster")
            .data_dir;
        assert_eq!(
            fs::read_to_string(data.join("PG_VERSION"))
                .expect("PG_VERSION")
                .trim(),
            major
        );
    }
    engine.shutdown();
}
