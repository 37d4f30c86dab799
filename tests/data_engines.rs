//! Real data through the whole tool: PostgreSQL and Redis services of the demo world migrated by
//! `run` against an in-process sandbox whose engines run real servers (one shared PostgreSQL
//! cluster per test binary, a redis-server per service). Checked from the outside with psql and
//! a Redis client through the env values the apps receive, never through the tool's own code.
//! These tests fail, never skip, when PostgreSQL or redis-server is missing.

mod common;

use common::data::{connection_url, psql};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Cmd, TestSandbox, eventually, queued, state_dir_of};

/// The demo's PostgreSQL 11 -> 13 upgrade as one plan entry.
const UPGRADE: &str = "  - source: database\n    target: database13\n    type: postgresql13\n    \
                       plan: db.t3.micro\n    backup: fresh\n";

fn write_plan(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("plan.yaml");
    let text = format!("version: 1\nproject: shop\nstage: production\nmigrations:\n{body}");
    std::fs::write(&path, text).expect("write plan");
    path
}

/// `run PLAN -y` with `extra`, for the test to state its expectation: the manifest and summary
/// on stdout, the progress log (timestamped) and any error on stderr.
fn run(sb: &TestSandbox, plan: &Path, extra: &[&str]) -> Cmd {
    sb.cmd()
        .arg("run")
        .arg(plan.to_str().expect("utf-8 path"))
        .arg("-y")
        .args(extra)
}

/// What `--app APP env` hands the app, passwords included.
fn app_env(sb: &TestSandbox, app: &str) -> BTreeMap<String, String> {
    let ran = sb
        .cmd()
        .args(["--app", app, "env", "--show-secrets", "-o", "json"])
        .expect(0)
        .any_stdout()
        .run();
    ran.json()
        .as_object()
        .expect("env -o json is an object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_owned()))
        .collect()
}

/// The user tables of a database, schema-qualified.
fn tables(url: &str) -> Vec<String> {
    psql(
        url,
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables \
         WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

/// Row count and an md5 of every row, sorted: equal only when the rows are.
fn fingerprint(url: &str, table: &str) -> String {
    psql(
        url,
        &format!(
            "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '-') \
             FROM {table} t"
        ),
    )
}

fn redis(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .expect("redis URL parses")
        .get_connection()
        .expect("redis connects")
}

/// A key's type and value in a canonical form (set and hash order is not kept by a copy,
/// so DUMP bytes may differ while the values are equal).
fn typed_value(conn: &mut redis::Connection, key: &str) -> String {
    let kind: String = redis::cmd("TYPE").arg(key).query(conn).expect("type");
    let mut items: Vec<String> = match kind.as_str() {
        "string" => vec![redis::cmd("GET").arg(key).query(conn).expect("get")],
        "list" => redis::cmd("LRANGE")
            .arg(key)
            .arg(0)
            .arg(-1)
            .query(conn)
            .expect("lrange"),
        "hash" => redis::cmd("HGETALL")
            .arg(key)
            .query::<Vec<String>>(conn)
            .expect("hgetall")
            .chunks(2)
            .map(|p| p.join("="))
            .collect(),
        "set" => redis::cmd("SMEMBERS")
            .arg(key)
            .query(conn)
            .expect("smembers"),
        "zset" => redis::cmd("ZRANGE")
            .arg(key)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query(conn)
            .expect("zrange"),
        other => panic!("{key} has an unexpected type {other}"),
    };
    if matches!(kind.as_str(), "hash" | "set") {
        items.sort();
    }
    format!("{kind}: {}", items.join(" | "))
}

#[test]
fn postgresql_11_to_13_keeps_every_row_and_sequence_and_relinks_the_apps() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let source = app_env(&sb, "web")["DATABASE_URL"].clone();
    assert!(source.starts_with("postgresql://"), "{source}");
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = write_plan(dir.path(), UPGRADE);
    run(&sb, &plan, &[])
        .expect(0)
        .any_stdout()
        .stderr_has("data matches")
        .run();

    let target = app_env(&sb, "web")["DATABASE_URL"].clone();
    assert_ne!(target, source, "web still reaches the old database");
    // A real upgrade: the source runs on PostgreSQL 11, the target on 13.
    assert!(psql(&source, "SHOW server_version_num").starts_with("11"));
    assert!(psql(&target, "SHOW server_version_num").starts_with("13"));
    assert_eq!(
        app_env(&sb, "worker")["DATABASE_URL"],
        target,
        "worker was relinked too"
    );
    let names = tables(&source);
    assert_eq!(names.len(), 4, "the demo schema has four tables: {names:?}");
    assert_eq!(tables(&target), names);
    for t in &names {
        assert_eq!(fingerprint(&target, t), fingerprint(&source, t), "{t}");
    }
    let rows: i64 = psql(&target, "SELECT count(*) FROM order_items")
        .parse()
        .expect("count");
    assert!(rows > 1000, "order_items holds {rows} rows");
    assert_eq!(
        psql(
            &target,
            "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'"
        ),
        "citext"
    );
    // Sequences continue past the source's values: new rows do not collide.
    let max_id: i64 = psql(&source, "SELECT max(id) FROM orders")
        .parse()
        .expect("id");
    let new_id: i64 = psql(
        &target,
        "INSERT INTO orders (customer_id, status, placed_at) VALUES (1, 'paid', now()) RETURNING id",
    )
    .lines()
    .next()
    .expect("returning id")
    .parse()
    .expect("id");
    assert!(
        new_id > max_id,
        "new order id {new_id} <= source max {max_id}"
    );
    let last_invoice: i64 = psql(&source, "SELECT last_value FROM invoice_number_seq")
        .parse()
        .expect("last_value");
    let next_invoice: i64 = psql(&target, "SELECT nextval('invoice_number_seq')")
        .parse()
        .expect("nextval");
    assert!(next_invoice > last_invoice);
    // The citext column still compares case-insensitively on the new server.
    assert_eq!(
        psql(
            &target,
            "SELECT count(*) FROM customers WHERE email = 'customer1@example.com'"
        ),
        "1"
    );
}

#[test]
fn redis_copy_keeps_every_key_value_and_ttl_and_relinks_worker() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let source = app_env(&sb, "worker")["REDIS_URL"].clone();
    assert!(source.starts_with("redis://"), "{source}");
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = write_plan(
        dir.path(),
        "  - source: cache\n    target: cache2\n    backup: fresh\n",
    );
    run(&sb, &plan, &[])
        .expect(0)
        .any_stdout()
        .stderr_has("data matches")
        .run();

    let target = app_env(&sb, "worker")["REDIS_URL"].clone();
    assert_ne!(target, source);
    let mut src = redis(&source);
    let mut dst = redis(&target);
    // Both ends are real Redis 6 servers, as redis6 is on SetOps: the RDB was version 9.
    for con in [&mut src, &mut dst] {
        let info: String = redis::cmd("INFO").arg("server").query(con).expect("info");
        assert!(info.contains("redis_version:6.2."), "{info}");
    }
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut src).expect("keys");
    assert_eq!(keys.len(), 500, "the demo cache holds 500 keys");
    let size: usize = redis::cmd("DBSIZE").query(&mut dst).expect("dbsize");
    assert_eq!(size, keys.len());
    let mut with_ttl = 0;
    for key in &keys {
        assert_eq!(
            typed_value(&mut dst, key),
            typed_value(&mut src, key),
            "{key}"
        );
        let ta: i64 = redis::cmd("PTTL").arg(key).query(&mut src).expect("pttl");
        let tb: i64 = redis::cmd("PTTL").arg(key).query(&mut dst).expect("pttl");
        assert_eq!(ta > 0, tb > 0, "TTL of {key}: {ta} vs {tb}");
        with_ttl += usize::from(ta > 0);
    }
    assert!(with_ttl > 0, "some demo keys carry a TTL");
}

/// A target that already holds rows keeps them: the restore goes on top. Verify then sees a
/// table the source does not have, blocks the relink and exits 5 naming it; `--no-verify`
/// relinks.
#[test]
fn restore_on_top_keeps_existing_rows_and_verify_blocks_the_relink() {
    let sb = TestSandbox::start();
    sb.speed_up();
    sb.cmd()
        .args([
            "service:create",
            "ontop",
            "--type",
            "postgresql13",
            "--plan",
            "db.t3.micro",
        ])
        .expect(0)
        .stdout(&queued(
            "service:create map[name:ontop plan:db.t3.micro type:postgresql13]",
            1,
        ))
        .run();
    sb.cmd()
        .args(["changeset:commit"])
        .expect(0)
        .stdout_has("Commit successful!")
        .run();
    let ontop = connection_url(&sb, "ontop");
    psql(
        &ontop,
        "CREATE TABLE notes (id int PRIMARY KEY, body text); \
         INSERT INTO notes VALUES (1, 'kept'), (2, 'also kept'), (3, 'still here')",
    );
    let source = app_env(&sb, "web")["DATABASE_URL"].clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = write_plan(
        dir.path(),
        "  - source: database\n    target: ontop\n    type: postgresql13\n    \
         plan: db.t3.micro\n    backup: fresh\n",
    );
    // The difference is named.
    run(&sb, &plan, &["--adopt-target"])
        .expect(5)
        .any_stdout()
        .stderr_has("notes")
        .run();
    assert_eq!(
        app_env(&sb, "web")["DATABASE_URL"],
        source,
        "nothing was relinked"
    );
    assert_eq!(psql(&ontop, "SELECT count(*) FROM notes"), "3");
    for t in tables(&source) {
        assert_eq!(fingerprint(&ontop, &t), fingerprint(&source, &t), "{t}");
    }

    run(&sb, &plan, &["--adopt-target", "--no-verify"])
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    assert_eq!(app_env(&sb, "web")["DATABASE_URL"], ontop);
    assert_eq!(psql(&ontop, "SELECT count(*) FROM notes"), "3");
}

/// A dump that pg_restore cannot read: the restore fails with pg_restore's own words, the run
/// stops before relinking, and the target is left as the failed restore left it (empty).
#[test]
fn a_pg_restore_failure_is_a_failed_restore_and_stops_before_relinking() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let source = app_env(&sb, "web")["DATABASE_URL"].clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let dump = dir.path().join("cut.dump");
    let out = Command::new("pg_dump")
        .args(["-Fc", "-d", &source, "-f"])
        .arg(&dump)
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Keep the header (the format check passes), cut the data short.
    let bytes = std::fs::read(&dump).expect("read dump");
    std::fs::write(&dump, &bytes[..bytes.len() / 2]).expect("cut dump");
    let plan = write_plan(
        dir.path(),
        "  - target: imported\n    type: postgresql13\n    plan: db.t3.micro\n    \
         backup: file:cut.dump\n    relink:\n      - {app: web, env_key: DATABASE_URL}\n",
    );
    // A failed restore (exit 1), showing pg_restore's text.
    run(&sb, &plan, &[])
        .expect(1)
        .any_stdout()
        .stderr_has("pg_restore")
        .run();
    assert_eq!(app_env(&sb, "web")["DATABASE_URL"], source, "not relinked");
    let backups = sb.backups("imported");
    let restore = &backups[0]["last_restore"];
    assert_eq!(restore["outcome"], "FAILED", "{backups:?}");
    assert!(
        restore["error"]
            .as_str()
            .unwrap_or("")
            .contains("pg_restore"),
        "{backups:?}"
    );
}

/// A file in the wrong format is refused before anything is created or uploaded, for every
/// type, naming what the file is: as a plan's `file:` import and through `backup:upload`.
#[test]
fn a_wrong_format_file_is_refused_before_upload_for_every_type() {
    let sb = TestSandbox::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.path().join(name), bytes).expect("write");
        name.to_owned()
    };
    let sql = write(
        "dump.sql",
        b"-- PostgreSQL database dump\nCREATE TABLE t (id int);\n",
    );
    let pgdump = write(
        "db.dump",
        b"PGDMP\x01\x0e\x00\x04\x08\x08\x01rest of a dump",
    );
    let rdb = write("dump.rdb", b"REDIS0010\xfa\x09redis-ver\x067.0.15");
    let targz = {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut header = tar::Header::new_ustar();
        header.set_size(5);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "a.txt", &b"hello"[..])
            .expect("tar");
        let gz = builder.into_inner().expect("tar").finish().expect("gzip");
        write("files.tar.gz", &gz)
    };
    let cases = [
        ("postgresql13", &sql, "plain SQL text"),
        ("postgresql11", &targz, "a .tar.gz archive"),
        ("volume", &pgdump, "a PostgreSQL custom archive"),
        ("s3", &rdb, "a Redis RDB file"),
        ("redis6", &targz, "a .tar.gz archive"),
        ("mongodb4", &targz, "a .tar.gz archive"),
        ("elasticsearch7", &targz, "elasticsearch7"),
    ];
    let services = || {
        sb.cmd()
            .args(["-o", "json", "service"])
            .expect(0)
            .any_stdout()
            .run()
            .stdout
    };
    let services_before = services();
    for (service_type, file, what) in cases {
        let plan_text = format!(
            "version: 1\nproject: shop\nstage: production\nmigrations:\n  - target: imported\n    \
             type: {service_type}\n    backup: file:{file}\n"
        );
        let plan = dir.path().join(format!("{service_type}.yaml"));
        std::fs::write(&plan, plan_text).expect("plan");
        run(&sb, &plan, &[]).expect(2).stderr_has(what).run();
    }
    let services_after = services();
    assert_eq!(services_before, services_after, "nothing was created");

    for (service, file, what) in [
        ("database", &targz, "a .tar.gz archive"),
        ("files", &sql, "plain SQL text"),
        ("media", &pgdump, "a PostgreSQL custom archive"),
        ("cache", &sql, "plain SQL text"),
    ] {
        let before = sb.backups(service);
        sb.cmd()
            .current_dir(dir.path())
            .args(["--service", service, "backup:upload", file])
            .expect(2)
            .stderr_has(what)
            .run();
        let after = sb.backups(service);
        assert_eq!(before, after, "{service}: no upload was started");
    }
}

/// A target that cannot be reached at verify time (here: its database was dropped after the
/// restore) is never relinked to: the platform offers a connection, so verify must use it.
#[test]
fn a_target_that_cannot_be_reached_at_verify_is_not_relinked() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let source = app_env(&sb, "web")["DATABASE_URL"].clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = write_plan(dir.path(), UPGRADE);
    sb.cmd()
        .env("SETOPS_MIGRATE_CRASH_AT", "restore:after")
        .arg("run")
        .arg(plan.to_str().expect("utf-8"))
        .arg("-y")
        .expect(99)
        .any_stdout()
        .stderr_has("crash point restore:after reached")
        .run();
    // The crash left the restore running in the sandbox: let it finish first.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let backups = sb.backups("database13");
        let done = backups
            .iter()
            .any(|b| b["last_restore"]["outcome"] == "SUCCEEDED");
        if done {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "restore never finished: {backups:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // As if the crash had come a moment later, once the run had seen the restore start: the
    // journal's restore record is done, so the rerun waits and verifies instead of stopping at
    // a restore it cannot account for.
    mark_done(&state_dir_of(&plan), "restore:database13");
    let target = connection_url(&sb, "database13");
    let mut admin = url::Url::parse(&target).expect("url");
    let database = admin.path().trim_start_matches('/').to_owned();
    admin.set_path("/postgres");
    psql(admin.as_str(), &format!("DROP DATABASE {database}"));

    run(&sb, &plan, &[])
        .expect(5)
        .any_stdout()
        .stderr_has("cannot connect to the target's PostgreSQL")
        .run();
    assert_eq!(app_env(&sb, "web")["DATABASE_URL"], source, "not relinked");
}

/// Turns the journal record `key` of the one journal in `state` from intent into done.
fn mark_done(state: &Path, key: &str) {
    let journal = std::fs::read_dir(state)
        .expect("state dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a journal");
    let mut data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&journal).expect("journal")).expect("json");
    assert_eq!(data["steps"][key]["state"], "intent", "{data}");
    data["steps"][key]["state"] = "done".into();
    std::fs::write(&journal, serde_json::to_vec_pretty(&data).expect("json")).expect("write");
}

/// An extension only a superuser can create (dblink) is not owned by the service role; its
/// comment in the dump must not roll the whole restore back.
#[test]
fn a_source_with_a_superuser_extension_migrates() {
    let sb = TestSandbox::start();
    sb.speed_up();
    sb.cmd()
        .args([
            "service:create",
            "extdb",
            "--type",
            "postgresql13",
            "--plan",
            "db.t3.micro",
        ])
        .expect(0)
        .stdout(&queued(
            "service:create map[name:extdb plan:db.t3.micro type:postgresql13]",
            1,
        ))
        .run();
    sb.cmd()
        .args([
            "--service",
            "extdb",
            "option:set",
            "extensions",
            "dblink,citext",
        ])
        .expect(0)
        .stdout(&queued(
            "service:option:set map[option:extensions service:extdb value:dblink,citext]",
            2,
        ))
        .run();
    sb.cmd()
        .args(["changeset:commit"])
        .expect(0)
        .stdout_has("Commit successful!")
        .run();
    let source = connection_url(&sb, "extdb");
    psql(
        &source,
        "CREATE TABLE t (id int PRIMARY KEY, name citext); INSERT INTO t VALUES (1, 'A'), (2, 'b')",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = write_plan(
        dir.path(),
        "  - source: extdb\n    target: extdb2\n    backup: fresh\n",
    );
    run(&sb, &plan, &[])
        .expect(0)
        .any_stdout()
        .stderr_has("data matches")
        .run();
    let target = connection_url(&sb, "extdb2");
    assert_eq!(
        psql(&target, "SELECT count(*) FROM t WHERE name = 'a'"),
        "1"
    );
    assert_eq!(
        psql(
            &target,
            "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'"
        ),
        "citext,dblink"
    );
}

/// How many of an app's containers may still run, as the 1.x front's `app:ps` lists them.
fn containers(sb: &TestSandbox, app: &str) -> usize {
    let out = sb
        .setops("1.4.1")
        .args(["app:ps", app])
        .expect(0)
        .any_stdout()
        .run()
        .stdout;
    setops_migrate::platform::setops_cli::parse::parse_tasks("setops app:ps", &out)
        .expect("app:ps parses")
        .iter()
        .filter(|t| t.may_run())
        .count()
}

/// The 1.x front, for the commands the building blocks do not have (`resource:set`).
fn setops(sb: &TestSandbox, args: &[&str]) -> String {
    sb.setops("1.4.1")
        .args(args)
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run()
        .stdout
}

/// Scales `apps` in one commit and waits until exactly `scale` containers of each run.
fn scale(sb: &TestSandbox, apps: &[&str], scale: usize) {
    for app in apps {
        setops(
            sb,
            &["--app", app, "resource:set", "scale", &scale.to_string()],
        );
    }
    setops(sb, &["changeset:commit"]);
    for app in apps {
        eventually(&format!("{app} runs {scale} container(s)"), || {
            containers(sb, app) == scale
        });
    }
}

/// Rows of `live_writes` per app, as `app|count` lines.
fn live_rows(url: &str) -> String {
    psql(
        url,
        "SELECT app || '|' || count(*) FROM live_writes GROUP BY app ORDER BY app",
    )
}

#[test]
fn live_apps_write_through_their_links_follow_a_relink_and_stop_at_scale_0() {
    let sb = TestSandbox::start_live();
    sb.speed_up();
    assert!(sb.live_writes().enabled);
    let links = [
        ("web", "database"),
        ("web", "files"),
        ("worker", "database"),
        ("worker", "cache"),
    ];
    eventually("every app writes to every service it links", || {
        links
            .iter()
            .all(|(app, service)| sb.live_count(app, service) >= 3)
    });
    assert_eq!(sb.live_count("web", "media"), 0, "s3 takes no live writes");

    // Scaled to 0: once no container runs, nothing more is written, and every confirmed write
    // is in its service.
    scale(&sb, &["web", "worker"], 0);
    let counted: Vec<u64> = links.iter().map(|(a, s)| sb.live_count(a, s)).collect();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let later: Vec<u64> = links.iter().map(|(a, s)| sb.live_count(a, s)).collect();
    assert_eq!(later, counted, "apps at scale 0 went on writing");
    let database = connection_url(&sb, "database");
    assert_eq!(
        live_rows(&database),
        format!("web|{}\nworker|{}", counted[0], counted[2])
    );
    let files = std::fs::read_dir(sb.data_dir("files").join("live-writes"))
        .expect("the volume holds the written files")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".txt"))
        .count();
    assert_eq!(files as u64, counted[1]);
    let mut cache = redis(&connection_url(&sb, "cache"));
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("live:worker:*")
        .query(&mut cache)
        .expect("keys");
    assert_eq!(keys.len() as u64, counted[3]);

    // Relinked to a new database and scaled up in one commit: the writes follow the link.
    setops(
        &sb,
        &[
            "service:create",
            "database2",
            "--type",
            "postgresql11",
            "--plan",
            "shared",
        ],
    );
    setops(&sb, &["changeset:commit"]);
    setops(&sb, &["--app", "web", "link:destroy", "database"]);
    setops(
        &sb,
        &[
            "--app",
            "web",
            "link:create",
            "database2",
            "--env-key",
            "DATABASE_URL",
        ],
    );
    scale(&sb, &["web"], 1);
    eventually("web writes to database2", || {
        sb.live_count("web", "database2") >= 3
    });
    scale(&sb, &["web"], 0);
    assert_eq!(sb.live_count("web", "database"), counted[0]);
    assert_eq!(sb.live_count("worker", "database"), counted[2]);
    assert_eq!(
        live_rows(&database),
        format!("web|{}\nworker|{}", counted[0], counted[2]),
        "the old database got writes after the relink"
    );
    assert_eq!(
        live_rows(&connection_url(&sb, "database2")),
        format!("web|{}", sb.live_count("web", "database2"))
    );
}
