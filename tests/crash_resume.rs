//! The engine killed at every named crash point (`SETOPS_MIGRATE_CRASH_AT=<point>:<before|after>`)
//! and run again, with its journal and without it (a fresh CI runner): the rerun must end in
//! exactly the state of an uninterrupted run — one target per migration, one upload per target
//! restored once, every link moved, the sources untouched, identical data.
//!
//! Each case runs in its own sandbox seeded with tests/plans/run/crash-world.yaml: the demo world
//! with fewer, smaller files, so all 36 cases stay within a few minutes on 2 cores.
//!
//! The one accepted difference: without the journal, a rerun cannot know about a `backup:create`
//! an earlier attempt finished (the plan's `files2` takes `backup: fresh`), so from
//! `backup-create:after` on the source `files` may end with one extra manual backup.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{
    Expect, Ran, Snapshot, TestSandbox, assert_end_state, link_set, plan_copy, state_dir_of,
};
use setops_migrate::migrate::crash::{CRASH_EXIT, POINTS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Journal {
    /// The rerun finds the journal the crashed run left.
    Kept,
    /// The whole state directory is deleted before the rerun.
    Deleted,
}

const WHENS: [&str; 2] = ["before", "after"];

/// Position of a crash in run order, to tell which crashes come after `backup-create:after`.
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

fn crash_and_resume(point: &str, when: &str, journal: Journal) {
    crash_wait_and_resume(point, when, journal, |_| {});
}

/// Crashes the run at `point:when`, lets `meanwhile` look at or wait for the platform, then runs
/// the plan again and checks the end state.
fn crash_wait_and_resume(
    point: &str,
    when: &str,
    journal: Journal,
    meanwhile: impl FnOnce(&TestSandbox),
) {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans/run/crash-world.yaml");
    let sb = TestSandbox::start_with_seed(Some(&seed));
    sb.speed_up();
    let before = Snapshot::take(&sb);
    let (_dir, plan) = plan_copy("crash.yaml");
    let plan = plan.to_str().expect("utf-8 path").to_owned();

    let crashed = sb
        .cmd()
        .env("SETOPS_MIGRATE_CRASH_AT", format!("{point}:{when}"))
        .args(["run", &plan, "--yes"])
        .run();
    assert!(
        crashed.status == CRASH_EXIT
            && crashed
                .stderr
                .contains(&format!("crash point {point}:{when} reached")),
        "the run did not stop at {point}:{when} (exit {}, expected {CRASH_EXIT})\n--- stdout\n{}\n--- stderr\n{}",
        crashed.status,
        crashed.stdout,
        crashed.stderr
    );
    let state = state_dir_of(Path::new(&plan));
    if journal == Journal::Deleted {
        std::fs::remove_dir_all(&state)
            .unwrap_or_else(|e| panic!("deleting {}: {e}", state.display()));
    }

    meanwhile(&sb);
    let resumed = sb.cmd().args(["run", &plan, "--yes"]).run();
    if resumed.status != 0 {
        panic!(
            "the rerun after {point}:{when} ({journal:?} journal) exited {}\n=== crashed run\n--- stdout\n{}\n--- stderr\n{}\n=== rerun\n--- stdout\n{}\n--- stderr\n{}",
            resumed.status, crashed.stdout, crashed.stderr, resumed.stdout, resumed.stderr
        );
    }
    let extra_backup_possible =
        journal == Journal::Deleted && order(point, when) >= order("backup-create", "after");
    let expect = Expect {
        new_manual_backups_of_files: if extra_backup_possible { 1..=2 } else { 1..=1 },
    };
    let runs: [&Ran; 2] = [&crashed, &resumed];
    assert_end_state(&sb, &before, &expect, &runs);
}

macro_rules! crash_tests {
    ($($name:ident: $point:literal, $when:literal, $journal:ident;)*) => {
        $(
            #[test]
            fn $name() {
                crash_and_resume($point, $when, Journal::$journal);
            }
        )*
        const COVERED: &[(&str, &str, Journal)] = &[$(($point, $when, Journal::$journal)),*];
    };
}

crash_tests! {
    stage_targets_before_journal_kept: "stage-targets", "before", Kept;
    stage_targets_after_journal_kept: "stage-targets", "after", Kept;
    commit_targets_before_journal_kept: "commit-targets", "before", Kept;
    commit_targets_after_journal_kept: "commit-targets", "after", Kept;
    backup_create_before_journal_kept: "backup-create", "before", Kept;
    backup_create_after_journal_kept: "backup-create", "after", Kept;
    download_before_journal_kept: "download", "before", Kept;
    download_after_journal_kept: "download", "after", Kept;
    upload_allocate_before_journal_kept: "upload-allocate", "before", Kept;
    upload_allocate_after_journal_kept: "upload-allocate", "after", Kept;
    upload_before_journal_kept: "upload", "before", Kept;
    upload_after_journal_kept: "upload", "after", Kept;
    restore_before_journal_kept: "restore", "before", Kept;
    restore_after_journal_kept: "restore", "after", Kept;
    stage_relink_before_journal_kept: "stage-relink", "before", Kept;
    stage_relink_after_journal_kept: "stage-relink", "after", Kept;
    commit_relink_before_journal_kept: "commit-relink", "before", Kept;
    commit_relink_after_journal_kept: "commit-relink", "after", Kept;
    stage_targets_before_journal_deleted: "stage-targets", "before", Deleted;
    stage_targets_after_journal_deleted: "stage-targets", "after", Deleted;
    commit_targets_before_journal_deleted: "commit-targets", "before", Deleted;
    commit_targets_after_journal_deleted: "commit-targets", "after", Deleted;
    backup_create_before_journal_deleted: "backup-create", "before", Deleted;
    backup_create_after_journal_deleted: "backup-create", "after", Deleted;
    download_before_journal_deleted: "download", "before", Deleted;
    download_after_journal_deleted: "download", "after", Deleted;
    upload_allocate_before_journal_deleted: "upload-allocate", "before", Deleted;
    upload_allocate_after_journal_deleted: "upload-allocate", "after", Deleted;
    upload_before_journal_deleted: "upload", "before", Deleted;
    upload_after_journal_deleted: "upload", "after", Deleted;
    restore_before_journal_deleted: "restore", "before", Deleted;
    restore_after_journal_deleted: "restore", "after", Deleted;
    stage_relink_before_journal_deleted: "stage-relink", "before", Deleted;
    stage_relink_after_journal_deleted: "stage-relink", "after", Deleted;
    commit_relink_before_journal_deleted: "commit-relink", "before", Deleted;
    commit_relink_after_journal_deleted: "commit-relink", "after", Deleted;
}

/// The immediate rerun after `commit-relink:after` races the relink commit, which the platform
/// finishes on its own. Here the rerun comes once the commit went through, as when a CI job is
/// retried on a fresh runner later: the sources no longer have links, the targets have them.
#[test]
fn commit_relink_after_journal_deleted_rerun_once_the_commit_went_through() {
    crash_wait_and_resume("commit-relink", "after", Journal::Deleted, |sb| {
        let want: BTreeSet<(String, String)> = [("files2", "/data"), ("media2", "S3_DATA_URL")]
            .iter()
            .map(|(s, at)| (s.to_string(), at.to_string()))
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while link_set(&sb.app_links("web")) != want {
            assert!(
                Instant::now() < deadline,
                "the relink commit never went through"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    });
}

/// A crash point added to the engine must get its tests here.
#[test]
fn every_crash_point_is_tested_before_and_after_with_and_without_journal() {
    let mut missing = Vec::new();
    for point in POINTS {
        for when in WHENS {
            for journal in [Journal::Kept, Journal::Deleted] {
                if !COVERED.contains(&(point, when, journal)) {
                    missing.push(format!("{point}:{when} ({journal:?})"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "crash points without a test: {missing:?}"
    );
    assert_eq!(
        COVERED.len(),
        POINTS.len() * WHENS.len() * 2,
        "a crash point is tested twice or is not in crash::POINTS"
    );
}
