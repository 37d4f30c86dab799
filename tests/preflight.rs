//! Preflight compatibility checks through the real binary: `file:` imports in plans
//! (`plan:validate`, `run`, `run --dry-run`), `backup:upload`, and a source backup read through
//! its download URL; refusals exit 2 with nothing created or uploaded. The reader itself is run
//! on an archive pg_dump makes here from the test binary's PostgreSQL 13 cluster.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Cmd, Ran, TestSandbox, scratch_cluster};
use setops_migrate::formats::pg_archive;

/// A custom archive's header and a TOC of `extensions`, written as pg_dump writes them (4-byte
/// integers with a sign byte, length-prefixed strings), for formats and server versions no
/// pg_dump on this machine makes.
fn forged_archive(format: (u8, u8), server: &str, pg_dump: &str, extensions: &[&str]) -> Vec<u8> {
    fn int(out: &mut Vec<u8>, v: i64) {
        out.push(u8::from(v < 0));
        out.extend((v.unsigned_abs() as u32).to_le_bytes());
    }
    fn string(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            None => int(out, -1),
            Some(s) => {
                int(out, s.len() as i64);
                out.extend(s.as_bytes());
            }
        }
    }
    let mut out = b"PGDMP".to_vec();
    out.extend([format.0, format.1, 0, 4, 8, 1]);
    if format.1 >= 15 {
        out.push(0);
    } else {
        int(&mut out, -1);
    }
    for field in [0, 30, 2, 1, 10, 125, 0] {
        int(&mut out, field);
    }
    for s in ["shop", server, pg_dump] {
        string(&mut out, Some(s));
    }
    int(&mut out, extensions.len() as i64);
    for (i, name) in extensions.iter().enumerate() {
        int(&mut out, i as i64 + 1);
        int(&mut out, 0);
        for s in ["0", "0", name, "EXTENSION"] {
            string(&mut out, Some(s));
        }
        int(&mut out, 1);
        for s in ["", "", "", "public", ""] {
            string(&mut out, Some(s));
        }
        if format.1 >= 14 {
            string(&mut out, Some(""));
        }
        if format.1 >= 16 {
            int(&mut out, 0);
        }
        string(&mut out, Some(""));
        string(&mut out, Some("false"));
        string(&mut out, None);
        out.push(3);
        out.extend([0u8; 8]);
    }
    out
}

/// A plan importing `file` (written next to it) into a new `target` of `service_type`.
fn import_plan(dir: &Path, file: &str, bytes: &[u8], target: &str, service_type: &str) -> PathBuf {
    std::fs::write(dir.join(file), bytes).expect("backup file written");
    let plan_text = format!(
        "version: 1\nproject: shop\nstage: production\nmigrations:\n  - target: {target}\n    \
         type: {service_type}\n{plan}    backup: file:{file}\n    relink: none\n",
        plan = match service_type {
            "postgresql11" => "    plan: shared\n",
            "postgresql13" => "    plan: db.t3.micro\n",
            "redis6" => "    plan: cache.t3.micro\n",
            _ => "",
        }
    );
    let plan = dir.join("import.yaml");
    std::fs::write(&plan, plan_text).expect("plan written");
    plan
}

fn validate(plan: &Path) -> Cmd {
    Cmd::new().args(["plan:validate", plan.to_str().expect("utf-8 path")])
}

fn check(cond: bool, what: &str, ran: &Ran) {
    assert!(
        cond,
        "{what}\n--- exit {}\n--- stdout\n{}\n--- stderr\n{}",
        ran.status, ran.stdout, ran.stderr
    );
}

#[test]
fn a_forged_1_16_archive_is_refused_before_anything_is_created() {
    let sb = TestSandbox::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = forged_archive((1, 16), "13.4", "17.2", &[]);
    let plan = import_plan(
        dir.path(),
        "db.psqlcustom",
        &archive,
        "imported",
        "postgresql13",
    );
    validate(&plan)
        .expect(2)
        .stderr_has("migrations[0].backup: the archive is in format 1.16, made by pg_dump 17.2")
        .stderr_has("Dump again with PostgreSQL 13's pg_dump: `pg_dump -Fc --no-owner --no-acl")
        .run();
    let before = sb.services();
    for extra in [&["--dry-run"][..], &["--yes"]] {
        let ran = sb
            .cmd()
            .args(["run", plan.to_str().expect("utf-8 path")])
            .args(extra)
            .expect(2)
            .stderr_has("format 1.16")
            .run();
        check(sb.services() == before, "a service changed", &ran);
    }
}

#[test]
fn data_dumped_from_postgresql_13_is_refused_for_postgresql11() {
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = forged_archive((1, 14), "13.23", "15.14", &[]);
    let plan = import_plan(
        dir.path(),
        "db.psqlcustom",
        &archive,
        "imported",
        "postgresql11",
    );
    validate(&plan)
        .expect(2)
        .stderr_has("the archive was dumped from PostgreSQL 13.23, newer than the PostgreSQL 11")
        .stderr_has("restore it into a postgresql13 service (or postgresql14, postgresql15, postgresql16) instead")
        .run();
    // The same archive into postgresql13 is the upgrade path.
    let plan = import_plan(
        dir.path(),
        "db.psqlcustom",
        &archive,
        "imported",
        "postgresql13",
    );
    validate(&plan)
        .expect(0)
        .stdout_has("valid (1 migration(s))")
        .run();
}

/// pg_dump 15 (the newest client here) of the test binary's PostgreSQL 13 cluster: the format and
/// versions a reader must get right, and an archive postgresql13 accepts.
#[test]
fn a_real_pg_dump_15_archive_of_13_is_read_and_accepted_into_postgresql13() {
    let cluster = scratch_cluster(13);
    let url_of = |database: &str| {
        let mut url = url::Url::parse(cluster.admin_url()).expect("cluster URL");
        url.set_path(&format!("/{database}"));
        url.to_string()
    };
    let db = format!("preflight_{}", std::process::id());
    let psql = |database: &str, sql: &str| {
        let out = Command::new("psql")
            .args([&url_of(database), "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
            .output()
            .expect("psql runs (apt-get install postgresql-client)");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    psql("postgres", &format!("CREATE DATABASE {db}"));
    psql(
        &db,
        "CREATE EXTENSION citext; CREATE TABLE t (id int, s citext); INSERT INTO t VALUES (1, 'a');",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("db.psqlcustom");
    let out = Command::new("pg_dump")
        .args(["-Fc", "-f", file.to_str().expect("utf-8"), &url_of(&db)])
        .output()
        .expect("pg_dump runs (apt-get install postgresql-client)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    psql("postgres", &format!("DROP DATABASE {db}"));

    let bytes = std::fs::read(&file).expect("archive");
    let archive = pg_archive::read(&bytes, true).expect("header read");
    assert_eq!(archive.header.version.minor, 14, "{:?}", archive.header);
    assert_eq!(
        archive
            .header
            .server_version
            .as_deref()
            .and_then(pg_archive::major_of),
        Some((13, 0))
    );
    assert_eq!(archive.header.dbname.as_deref(), Some(db.as_str()));
    let toc = archive.toc.expect("a custom archive's TOC");
    assert!(toc.complete(), "{:?}", toc.stopped);
    let facts = toc.facts();
    assert!(facts.extensions.contains("citext"), "{facts:?}");
    assert!(
        toc.entries
            .iter()
            .any(|e| e.desc.as_deref() == Some("TABLE") && e.tag.as_deref() == Some("t"))
    );

    let plan_dir = dir.path();
    let plan = import_plan(
        plan_dir,
        "db.psqlcustom",
        &bytes,
        "imported",
        "postgresql13",
    );
    validate(&plan)
        .expect(0)
        .stdout_has("valid (1 migration(s))")
        .run();
}

#[test]
fn rdb_10_is_refused_for_redis6_and_rdb_9_accepted() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The first bytes of files Redis 7.0.15 and 6.2.14 write.
    let seven = b"REDIS0010\xfa\x09redis-ver\x067.0.15\xfa\x0aredis-bits\xc0\x40\xff";
    let six = b"REDIS0009\xfa\x09redis-ver\x066.2.14\xfa\x0aredis-bits\xc0\x40\xff";
    let plan = import_plan(dir.path(), "dump.rdb", seven, "cache2", "redis6");
    validate(&plan)
        .expect(2)
        .stderr_has(
            "the file was made by Redis 7.0.15 (RDB 10); SetOps' redis6 reads RDB 9 at most",
        )
        .stderr_has("Export from a Redis 6 server")
        .run();
    let plan = import_plan(dir.path(), "dump.rdb", six, "cache2", "redis6");
    validate(&plan)
        .expect(0)
        .stdout_has("valid (1 migration(s))")
        .run();
}

#[test]
fn backup_upload_of_a_refused_file_uploads_nothing() {
    let sb = TestSandbox::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        (
            "database",
            "db.psqlcustom",
            forged_archive((1, 15), "11.22", "16.4", &[]),
            "database is postgresql11: the archive is in format 1.15, made by pg_dump 16.4",
        ),
        (
            "cache",
            "dump.rdb",
            b"REDIS0010\xfa\x09redis-ver\x067.0.15".to_vec(),
            "cache is redis6: the file was made by Redis 7.0.15 (RDB 10)",
        ),
    ];
    for (service, name, bytes, says) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).expect("file written");
        let before = sb.backups(service);
        let ran = sb
            .cmd()
            .args([
                "--service",
                service,
                "backup:upload",
                file.to_str().expect("utf-8"),
            ])
            .expect(2)
            .stderr_has(says)
            .stderr_has("nothing was uploaded")
            .run();
        check(sb.backups(service) == before, "a backup was added", &ran);
    }
}

/// A file whose target type comes from the source is checked once the platform says the type:
/// the dry run shows the refusal and exits 2, and so does the run, before anything is created.
#[test]
fn run_dry_run_shows_the_refusal_of_an_archive_the_source_type_cannot_take() {
    let sb = TestSandbox::start();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("db.psqlcustom"),
        forged_archive((1, 14), "13.23", "15.14", &["pgcrypto"]),
    )
    .expect("file written");
    let plan = dir.path().join("copy.yaml");
    std::fs::write(
        &plan,
        "version: 1\nproject: shop\nstage: production\nmigrations:\n  - source: database\n    \
         target: database2\n    backup: file:db.psqlcustom\n    relink: none\n",
    )
    .expect("plan written");
    let plan = plan.to_str().expect("utf-8");
    let before = sb.services();
    let refusal = "migrations[0] (database2): the archive was dumped from PostgreSQL 13.23, newer \
                   than the PostgreSQL 11 of a postgresql11 service";
    sb.cmd()
        .args(["run", plan, "--dry-run"])
        .expect(2)
        .stdout_has("dry run, nothing will be changed")
        .stdout_has("refused: the archive was dumped from PostgreSQL 13.23")
        .stderr_has(refusal)
        .stderr_has("nothing was created")
        .run();
    let json = sb
        .cmd()
        .args(["-o", "json", "run", plan, "--dry-run"])
        .expect(2)
        .any_stdout()
        .stderr_has(refusal)
        .run()
        .json();
    let findings = json["preview"]["migrations"][0]["findings"]
        .as_array()
        .expect("findings")
        .clone();
    let refused = findings
        .iter()
        .find(|f| f["severity"] == "refuse")
        .unwrap_or_else(|| panic!("no refusal in {json}"));
    assert_eq!(refused["check"], "newer_major", "{json}");
    assert_eq!(refused["dumped_from"], "13.23", "{json}");
    let ran = sb
        .cmd()
        .args(["run", plan, "--yes"])
        .expect(2)
        .any_stdout()
        .stderr_has(refusal)
        .run();
    check(sb.services() == before, "a service changed", &ran);
}

/// A source backup is read through its download URL before the target is created: the
/// sandbox's postgresql11 backup (pg_dump 15 of a PostgreSQL 11 server, format 1.14) copied into
/// a new postgresql11 is accepted with a warning, shown in the preview and as a `compat` event.
#[test]
fn a_source_backup_is_checked_through_its_download_url_and_warnings_do_not_block() {
    let sb = TestSandbox::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = dir.path().join("copy.yaml");
    std::fs::write(
        &plan,
        "version: 1\nproject: shop\nstage: production\nmigrations:\n  - source: database\n    \
         target: database2\n    relink: none\n",
    )
    .expect("plan written");
    let plan = plan.to_str().expect("utf-8");
    let warning = "warning: the archive is in format 1.14 (pg_dump 12 to 15), newer than the 1.13 \
                   that pg_restore 11 reads";
    sb.cmd()
        .args(["run", plan, "--dry-run"])
        .expect(0)
        .stdout_has(warning)
        .run();
    let ran = sb
        .cmd()
        .args(["-o", "json", "run", plan, "--yes"])
        .expect(0)
        .any_stdout()
        .run();
    let events = ran.json_lines();
    let compat: Vec<_> = events.iter().filter(|e| e["kind"] == "compat").collect();
    check(
        compat.len() == 1
            && compat[0]["finding"]["check"] == "archive_format_newer_than_target_client"
            && compat[0]["phase"] == "info"
            && compat[0]["step"] == "inspect",
        &format!("expected one compat warning at inspect, got {compat:?}"),
        &ran,
    );
    check(
        sb.services().contains_key("database2"),
        "the target was not created",
        &ran,
    );
}
