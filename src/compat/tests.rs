//! The rules on built archives and RDB heads: what is refused, what is only a warning, and that
//! accepted backups give no finding at all.

use crate::formats::head::from_bytes;
use crate::formats::pg_archive::ArchiveVersion;
use crate::formats::pg_archive::tests::{Entry, build};
use crate::model::ServiceType::{self, Postgresql11, Postgresql13, Postgresql16, Redis6, Redis7};

use super::*;

fn archive(format: (u8, u8), server: &str, entries: &[Entry]) -> HeadFacts {
    let bytes = build(
        ArchiveVersion::new(format.0, format.1, 0),
        server,
        "15.14",
        entries,
    );
    from_bytes(&bytes, true)
}

/// Each finding as `refuse <check>` or `warn <check>`.
fn checks(facts: &HeadFacts, target: ServiceType) -> Vec<String> {
    assess(facts, target)
        .iter()
        .map(|f| {
            let json = serde_json::to_value(f).unwrap();
            format!(
                "{} {}",
                json["severity"].as_str().unwrap(),
                json["check"].as_str().unwrap()
            )
        })
        .collect()
}

fn table(owner: &'static str) -> Entry {
    Entry {
        desc: "TABLE",
        tag: "t",
        owner,
        defn: "CREATE TABLE public.t (id integer);\n",
    }
}

#[test]
fn a_pg_dump_15_archive_of_13_restores_into_postgresql13() {
    let facts = archive((1, 14), "13.23", &[table("shop")]);
    assert_eq!(checks(&facts, Postgresql13), Vec::<String>::new());
}

#[test]
fn archive_formats_past_1_14_are_refused_with_the_pg_dump_to_use() {
    for minor in [15, 16] {
        let facts = archive((1, minor), "13.4", &[table("shop")]);
        let found = assess(&facts, Postgresql13);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].refuses());
        let text = found[0].check.to_string();
        assert!(text.contains(&format!("format 1.{minor}")), "{text}");
        assert!(text.contains("PostgreSQL 13's pg_dump"), "{text}");
        assert!(text.contains("pg_dump -Fc --no-owner --no-acl"), "{text}");
    }
    // A format no pg_dump writes yet: its layout is unknown, the version alone refuses it.
    let future = from_bytes(b"PGDMP\x01\x11\x00\x04\x08\x01\x00", true);
    assert_eq!(
        checks(&future, Postgresql13),
        ["refuse archive_format_too_new"]
    );
}

#[test]
fn postgresql16_restores_format_1_15_and_no_extension_list_means_no_extension_finding() {
    let ext = Entry {
        desc: "EXTENSION",
        tag: "postgis",
        ..Entry::default()
    };
    let v15 = archive((1, 15), "16.4", &[ext, table("shop")]);
    assert!(checks(&v15, Postgresql16).is_empty());
    assert_eq!(
        checks(&archive((1, 16), "16.4", &[]), Postgresql16),
        ["refuse archive_format_too_new"]
    );
}

#[test]
fn format_1_14_into_postgresql11_is_accepted_with_a_warning() {
    let facts = archive((1, 14), "11.22", &[table("shop")]);
    assert_eq!(
        checks(&facts, Postgresql11),
        ["warn archive_format_newer_than_target_client"]
    );
    let older = archive((1, 13), "11.22", &[table("shop")]);
    assert!(checks(&older, Postgresql11).is_empty());
}

#[test]
fn data_of_a_newer_major_is_refused_and_older_is_the_upgrade_path() {
    let from13 = archive((1, 14), "13.23", &[table("shop")]);
    let found = assess(&from13, Postgresql11);
    assert!(found.iter().any(|f| f.refuses()
        && matches!(&f.check, Check::NewerMajor { dumped_from, .. } if dumped_from == "13.23")));
    let text = words::refusals(&found).join("\n");
    assert!(
        text.contains("restore it into a postgresql13 service"),
        "{text}"
    );
    let from11 = archive((1, 14), "11.22", &[table("shop")]);
    assert!(checks(&from11, Postgresql13).is_empty());
    let from96 = archive((1, 13), "9.6.24", &[table("shop")]);
    assert!(checks(&from96, Postgresql11).is_empty());
    let from15 = archive((1, 14), "15.4", &[]);
    let text = words::refusals(&assess(&from15, Postgresql13)).join("\n");
    assert!(
        text.contains("restore it into a postgresql15 service (or postgresql16) instead"),
        "{text}"
    );
    let from17 = archive((1, 14), "17.2", &[]);
    let text = words::refusals(&assess(&from17, Postgresql16)).join("\n");
    assert!(
        text.contains(
            "no SetOps PostgreSQL type runs PostgreSQL 17 or newer; dump from a server of 16"
        ),
        "{text}"
    );
}

#[test]
fn transaction_timeout_is_refused_before_17() {
    let set = Entry {
        desc: "SEARCHPATH",
        tag: "SEARCHPATH",
        defn: "SET transaction_timeout = 0;\n",
        ..Entry::default()
    };
    let facts = archive((1, 14), "13.4", &[set]);
    assert_eq!(checks(&facts, Postgresql13), ["refuse transaction_timeout"]);
}

#[test]
fn extensions_large_objects_and_owners() {
    let ext = |name| Entry {
        desc: "EXTENSION",
        tag: name,
        ..Entry::default()
    };
    let blob = Entry {
        desc: "BLOB",
        tag: "16537",
        owner: "shop",
        ..Entry::default()
    };
    let facts = archive(
        (1, 14),
        "11.22",
        &[
            ext("pgcrypto"),
            ext("timetravel"),
            ext("postgis"),
            blob,
            table("shop"),
        ],
    );
    assert_eq!(
        checks(&facts, Postgresql13),
        [
            "warn extension_unknown",
            "refuse extension_missing",
            "warn large_objects",
        ]
    );
    let unknown = assess(&facts, Postgresql13)[0].check.to_string();
    assert!(
        unknown.contains("postgis, which is not known to be available on postgresql13"),
        "{unknown}"
    );
    // The public schema's owner is the database template's, whoever made the objects.
    let public = Entry {
        desc: "SCHEMA",
        tag: "public",
        owner: "postgres",
        ..Entry::default()
    };
    let one_owner = archive((1, 14), "13.1", &[public, table("shop"), table("shop")]);
    assert!(checks(&one_owner, Postgresql13).is_empty());
    let owners: Vec<Entry> = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]
        .into_iter()
        .map(table)
        .collect();
    let found = assess(&archive((1, 14), "13.1", &owners), Postgresql13);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(!found[0].refuses());
    let text = found[0].check.to_string();
    assert!(
        text.contains("7 roles (a1, a2, a3, a4, a5 and 2 more)"),
        "{text}"
    );
}

#[test]
fn a_toc_past_the_head_is_a_warning_and_a_cut_file_a_refusal() {
    let bytes = build(
        ArchiveVersion::new(1, 14, 0),
        "13.4",
        "15.1",
        &[table("shop"), table("shop"), table("shop")],
    );
    let cut = &bytes[..bytes.len() - 40];
    assert_eq!(
        checks(&from_bytes(cut, false), Postgresql13),
        ["warn toc_not_fully_read"]
    );
    assert_eq!(
        checks(&from_bytes(cut, true), Postgresql13),
        ["refuse archive_unreadable"]
    );
    let mut toc_dat = bytes.clone();
    toc_dat[10] = 5;
    assert_eq!(
        checks(&from_bytes(&toc_dat, true), Postgresql13),
        ["refuse not_custom_format"]
    );
}

#[test]
fn rdb_versions_against_redis6() {
    let seven = from_bytes(b"REDIS0010\xfa\x09redis-ver\x067.0.15\xfa", true);
    let found = assess(&seven, Redis6);
    assert_eq!(found.len(), 1);
    assert!(found[0].refuses());
    assert_eq!(
        found[0].check.to_string(),
        "the file was made by Redis 7.0.15 (RDB 10); SetOps' redis6 reads RDB 9 at most \
         (\"Can't handle RDB format version 10\"). Export from a Redis 6 server (redis-cli --rdb \
         FILE), or restore into a Redis 7 service"
    );
    let bare = from_bytes(b"REDIS0011", true);
    assert!(
        assess(&bare, Redis6)[0]
            .check
            .to_string()
            .contains("Redis 7.2")
    );
    let six = from_bytes(b"REDIS0009\xfa\x09redis-ver\x066.2.14", true);
    assert_eq!(assess(&six, Redis6), []);
    // redis7 is Redis 7.0 here: RDB 10 loads, 7.2's 11 does not.
    assert_eq!(assess(&seven, Redis7), []);
    let text = assess(&from_bytes(b"REDIS0011", true), Redis7)[0]
        .check
        .to_string();
    assert!(
        text.contains("SetOps' redis7 reads RDB 10 at most"),
        "{text}"
    );
    assert!(text.contains("Export from a Redis 7.0 server"), "{text}");
}

#[test]
fn types_alone_refuse_a_newer_source_major() {
    assert!(refused(&assess_types(Postgresql13, Postgresql11)));
    assert_eq!(assess_types(Postgresql11, Postgresql13), []);
    assert_eq!(assess_types(Redis6, Redis6), []);
}

#[test]
fn findings_serialize_with_their_severity_and_check() {
    let f = target_exists("db13");
    assert_eq!(
        serde_json::to_value(&f).unwrap(),
        serde_json::json!({"severity": "warn", "check": "target_exists", "target": "db13"})
    );
    assert!(
        f.to_string()
            .starts_with("warning: target db13 exists already")
    );
}
