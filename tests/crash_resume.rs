//! The engine killed at every named crash point (`SETOPS_MIGRATE_CRASH_AT=<point>:<before|after>`)
//! and run again three ways: with the journal it left, with the journal deleted (a fresh CI
//! runner), and with the journal kept but the sandbox restarted on a new port in between (a
//! reboot; the journal must be found by the platform's identity, not its URL). Each for a volume
//! (and an s3 bucket) plan, a PostgreSQL upgrade from a fresh backup, and a Redis copy from a
//! fresh backup.
//!
//! Each rerun must either reach exactly the end state of an uninterrupted run (one target per
//! migration, one upload restored exactly once, links moved once, sources untouched), or, where
//! the platform cannot tell what happened, exit 3 having changed nothing; then
//! `--recreate-target` must reach the end state. The destroy points are reached by a
//! `--recreate-target` run on a target left ambiguous by a lost journal.
//!
//! The one accepted difference: where a journal is lost after a fresh backup was made, the
//! source may end with one extra manual backup (a rerun cannot know about the first).

mod common;

use std::path::Path;

use common::oracle::{Before, Kind, POSTGRES, problems, settled_footprint};
use common::{Ran, TestSandbox, plan_copy, state_dir_of};
use setops_migrate::migrate::crash::{CRASH_EXIT, POINTS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// The rerun finds the journal the crashed run left.
    JournalKept,
    /// The whole state directory is deleted before the rerun.
    JournalDeleted,
    /// The sandbox is stopped and served again on another port; the journal stays.
    SandboxRestarted,
}

const WHENS: [&str; 2] = ["before", "after"];

/// Position of a crash in run order, to tell which crashes come after a fresh backup exists.
fn order(point: &str, when: &str) -> usize {
    let p = POINTS
        .iter()
        .position(|p| *p == point)
        .unwrap_or_else(|| panic!("{point} is not in crash::POINTS {POINTS:?}"));
    2 * p
        + WHENS
            .iter()
            .position(|w| *w == when)
            .expect("before or after")
}

fn is_destroy_point(point: &str) -> bool {
    matches!(point, "stage-destroy" | "commit-destroy")
}

/// A run whose exit code is what the case observes (cut off at a crash point, or a rerun that
/// either finishes or refuses having changed nothing), so it is run unchecked.
fn run(sb: &TestSandbox, plan: &str, extra: &[&str], crash: Option<&str>) -> Ran {
    let mut cmd = sb.cmd().args(["run", plan, "--yes"]).args(extra);
    if let Some(at) = crash {
        cmd = cmd.env("SETOPS_MIGRATE_CRASH_AT", at);
    }
    cmd.run_unchecked()
}

fn show(runs: &[&Ran]) -> String {
    runs.iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "\n=== run {} (exit {})\n--- stdout\n{}\n--- stderr\n{}",
                i + 1,
                r.status,
                r.stdout,
                r.stderr
            )
        })
        .collect()
}

fn case(kind: Kind, point: &str, when: &str, then: Then) {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/plans/run")
        .join(kind.seed());
    let mut sb = TestSandbox::start_with_seed(Some(&seed));
    sb.speed_up();
    let before = Before::take(&sb, kind.expected());
    let (_dir, plan) = plan_copy(kind.plan());
    let plan = plan.to_str().expect("utf-8 path").to_owned();
    let state = state_dir_of(Path::new(&plan));
    let mut runs: Vec<Ran> = Vec::new();

    let mut extra: Vec<&str> = Vec::new();
    let mut journal_lost = then == Then::JournalDeleted;
    if is_destroy_point(point) {
        // A target left ambiguous: a run cut off after its upload, its journal lost.
        let setup = run(&sb, &plan, &[], Some("upload:after"));
        assert_eq!(setup.status, CRASH_EXIT, "{}", show(&[&setup]));
        std::fs::remove_dir_all(&state).expect("deleting the state dir");
        runs.push(setup);
        extra.push("--recreate-target");
        journal_lost = true;
    }

    let at = format!("{point}:{when}");
    let crashed = run(&sb, &plan, &extra, Some(&at));
    let reached = crashed.status == CRASH_EXIT
        && crashed
            .stderr
            .contains(&format!("crash point {at} reached"));
    runs.push(crashed);
    assert!(
        reached,
        "the run did not stop at {at} (expected exit {CRASH_EXIT}){}",
        show(&runs.iter().collect::<Vec<_>>())
    );
    match then {
        Then::JournalKept => {}
        Then::JournalDeleted => {
            std::fs::remove_dir_all(&state).expect("deleting the state dir");
        }
        Then::SandboxRestarted => {
            let old = sb.url.clone();
            sb.restart();
            sb.speed_up();
            assert_ne!(sb.url, old, "the sandbox came back on the same port");
        }
    }

    let footprint_before = settled_footprint(&sb);
    let resumed = run(&sb, &plan, &extra, None);
    let status = resumed.status;
    runs.push(resumed);
    // Counted by `cargo test --test crash_resume -- --nocapture | grep outcome:`.
    println!(
        "outcome: {kind:?} {at} {then:?}: {}",
        if status == 0 {
            "resumed"
        } else {
            "exit 3, then --recreate-target"
        }
    );
    match status {
        0 => {}
        3 => {
            let after = settled_footprint(&sb);
            assert!(
                after == footprint_before,
                "the rerun exited 3 but changed the platform:\nbefore {footprint_before:#?}\nafter {after:#?}{}",
                show(&runs.iter().collect::<Vec<_>>())
            );
            let last = &runs[runs.len() - 1];
            assert!(
                last.stderr.contains("--recreate-target"),
                "exit 3 without naming --recreate-target{}",
                show(&[last])
            );
            let recreated = run(&sb, &plan, &["--recreate-target"], None);
            let ok = recreated.status == 0;
            runs.push(recreated);
            assert!(
                ok,
                "--recreate-target did not finish the plan{}",
                show(&runs.iter().collect::<Vec<_>>())
            );
        }
        _ => panic!(
            "the rerun after {at} ({then:?}) exited {status}{}",
            show(&runs.iter().collect::<Vec<_>>())
        ),
    }
    let extra_backup = journal_lost && order(point, when) >= order("backup-create", "after");
    let new_manual = if extra_backup { 1..=2 } else { 1..=1 };
    let found = problems(&sb, &before, kind.expected(), new_manual);
    assert!(
        found.is_empty(),
        "after {at} ({kind:?}, {then:?}) the end state differs from an uninterrupted run's:\n  - {}{}",
        found.join("\n  - "),
        show(&runs.iter().collect::<Vec<_>>())
    );
}

macro_rules! for_points {
    ($kind:expr, $then:expr; $($name:ident: $point:literal, $when:literal;)*) => {
        $(
            #[test]
            fn $name() {
                super::super::case($kind, $point, $when, $then);
            }
        )*
        pub const CASES: &[(&str, &str)] = &[$(($point, $when)),*];
    };
}

macro_rules! all_points {
    ($kind:expr, $then:expr) => {
        for_points! { $kind, $then;
            stage_targets_before: "stage-targets", "before";
            stage_targets_after: "stage-targets", "after";
            commit_targets_before: "commit-targets", "before";
            commit_targets_after: "commit-targets", "after";
            backup_create_before: "backup-create", "before";
            backup_create_after: "backup-create", "after";
            download_before: "download", "before";
            download_after: "download", "after";
            upload_allocate_before: "upload-allocate", "before";
            upload_allocate_after: "upload-allocate", "after";
            upload_before: "upload", "before";
            upload_after: "upload", "after";
            restore_before: "restore", "before";
            restore_after: "restore", "after";
            stage_relink_before: "stage-relink", "before";
            stage_relink_after: "stage-relink", "after";
            commit_relink_before: "commit-relink", "before";
            commit_relink_after: "commit-relink", "after";
            stage_destroy_before: "stage-destroy", "before";
            stage_destroy_after: "stage-destroy", "after";
            commit_destroy_before: "commit-destroy", "before";
            commit_destroy_after: "commit-destroy", "after";
        }
    };
}

macro_rules! kind_module {
    ($($m:ident: $kind:ident;)*) => {
        $(
            mod $m {
                pub mod journal_kept {
                    use crate::{Kind, Then};
                    all_points!(Kind::$kind, Then::JournalKept);
                }
                pub mod journal_deleted {
                    use crate::{Kind, Then};
                    all_points!(Kind::$kind, Then::JournalDeleted);
                }
                pub mod sandbox_restarted {
                    use crate::{Kind, Then};
                    all_points!(Kind::$kind, Then::SandboxRestarted);
                }
            }
        )*
    };
}

kind_module! {
    volume: Volume;
    postgres: Postgres;
    redis: Redis;
}

/// A crash point added to the engine must get its cases here.
#[test]
fn every_crash_point_is_tested_before_and_after() {
    let want: Vec<(&str, &str)> = POINTS
        .iter()
        .flat_map(|p| WHENS.iter().map(move |w| (*p, *w)))
        .collect();
    for cases in [
        volume::journal_kept::CASES,
        volume::journal_deleted::CASES,
        volume::sandbox_restarted::CASES,
        postgres::journal_kept::CASES,
        postgres::journal_deleted::CASES,
        postgres::sandbox_restarted::CASES,
        redis::journal_kept::CASES,
        redis::journal_deleted::CASES,
        redis::sandbox_restarted::CASES,
    ] {
        assert_eq!(
            cases,
            want.as_slice(),
            "crash points and tested cases differ"
        );
    }
}

/// A run that saw its fresh backup CREATED and stopped before it recorded the backup as its
/// choice (between two journal writes, no crash point there): the rerun uses that backup and
/// makes no second one. Found by scripts/chaos.
#[test]
fn a_fresh_backup_seen_created_is_not_made_again() {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans/run/crash-world-data.yaml");
    let sb = TestSandbox::start_with_seed(Some(&seed));
    sb.speed_up();
    let before = Before::take(&sb, POSTGRES);
    let (_dir, plan) = plan_copy("crash-postgres.yaml");
    let plan = plan.to_str().expect("utf-8 path").to_owned();
    let crashed = run(&sb, &plan, &[], Some("backup-create:after"));
    assert_eq!(crashed.status, CRASH_EXIT, "{}", show(&[&crashed]));
    // The journal as that run would have left it: the backup-create record done.
    let state = state_dir_of(Path::new(&plan));
    let journal = std::fs::read_dir(&state)
        .expect("state dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a journal");
    let mut data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&journal).expect("read")).expect("json");
    let key = "backup-create:database13";
    assert_eq!(data["steps"][key]["state"], "intent", "{data}");
    data["steps"][key]["state"] = "done".into();
    std::fs::write(&journal, serde_json::to_vec_pretty(&data).expect("json")).expect("write");

    let resumed = run(&sb, &plan, &[], None);
    assert_eq!(resumed.status, 0, "{}", show(&[&crashed, &resumed]));
    let found = problems(&sb, &before, POSTGRES, 1..=1);
    assert!(
        found.is_empty(),
        "{}{}",
        found.join("\n"),
        show(&[&crashed, &resumed])
    );
}
