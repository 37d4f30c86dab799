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

use common::crash::{Then, Via, WHENS, is_freeze_point, order, run, show};
use common::oracle::{Before, Kind, POSTGRES, problems};
use common::{TestSandbox, plan_copy, state_dir_of};
use setops_migrate::migrate::crash::{CRASH_EXIT, POINTS};

macro_rules! for_points {
    ($kind:expr, $then:expr; $($name:ident: $point:literal, $when:literal;)*) => {
        $(
            #[test]
            fn $name() {
                common::crash::case(common::crash::Via::Api, $kind, $point, $when, $then);
            }
        )*
        pub const CASES: &[(&str, &str)] = &[$(($point, $when)),*];
    };
}

macro_rules! all_points {
    ($kind:expr, $then:expr $(; $($more:tt)*)?) => {
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
            $($($more)*)?
        }
    };
}

/// Every point, the freeze's included: for the plan that freezes its apps.
macro_rules! frozen_points {
    ($kind:expr, $then:expr) => {
        all_points! { $kind, $then;
            stage_freeze_before: "stage-freeze", "before";
            stage_freeze_after: "stage-freeze", "after";
            commit_freeze_before: "commit-freeze", "before";
            commit_freeze_after: "commit-freeze", "after";
            stage_unfreeze_before: "stage-unfreeze", "before";
            stage_unfreeze_after: "stage-unfreeze", "after";
            commit_unfreeze_before: "commit-unfreeze", "before";
            commit_unfreeze_after: "commit-unfreeze", "after";
        }
    };
}

macro_rules! kind_module {
    ($($m:ident: $kind:ident, $points:ident;)*) => {
        $(
            mod $m {
                pub mod journal_kept {
                    use crate::{Kind, Then, common};
                    $points!(Kind::$kind, Then::JournalKept);
                }
                pub mod journal_deleted {
                    use crate::{Kind, Then, common};
                    $points!(Kind::$kind, Then::JournalDeleted);
                }
                pub mod sandbox_restarted {
                    use crate::{Kind, Then, common};
                    $points!(Kind::$kind, Then::SandboxRestarted);
                }
            }
        )*
    };
}

kind_module! {
    volume: Volume, all_points;
    postgres: Postgres, frozen_points;
    redis: Redis, all_points;
}

/// A crash point added to the engine must get its cases here: every point for the plan that
/// freezes its apps, every point but the freeze's for the others.
#[test]
fn every_crash_point_is_tested_before_and_after() {
    let sorted = |cases: &[(&'static str, &'static str)]| {
        let mut cases = cases.to_vec();
        cases.sort_by_key(|(p, w)| order(p, w));
        cases
    };
    let want = |freezes: bool| -> Vec<(&str, &str)> {
        POINTS
            .iter()
            .filter(|p| freezes || !is_freeze_point(p))
            .flat_map(|p| WHENS.iter().map(move |w| (*p, *w)))
            .collect()
    };
    for (freezes, cases) in [
        (false, volume::journal_kept::CASES),
        (false, volume::journal_deleted::CASES),
        (false, volume::sandbox_restarted::CASES),
        (true, postgres::journal_kept::CASES),
        (true, postgres::journal_deleted::CASES),
        (true, postgres::sandbox_restarted::CASES),
        (false, redis::journal_kept::CASES),
        (false, redis::journal_deleted::CASES),
        (false, redis::sandbox_restarted::CASES),
    ] {
        assert_eq!(
            sorted(cases),
            want(freezes),
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
    let crashed = run(&sb, Via::Api, &plan, &[], Some("backup-create:after"));
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

    let resumed = run(&sb, Via::Api, &plan, &[], None);
    assert_eq!(resumed.status, 0, "{}", show(&[&crashed, &resumed]));
    let found = problems(&sb, &before, POSTGRES, 1..=1);
    assert!(
        found.is_empty(),
        "{}{}",
        found.join("\n"),
        show(&[&crashed, &resumed])
    );
}
