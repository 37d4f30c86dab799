//! The engine through the setops CLI adapter, against the sandbox's `setops` front, in both CLI
//! generations (1.4.1 changesets, 2.3.4 stage definitions): the whole demo with its data checks,
//! a plan run to its end and then again (nothing done twice), someone else's pending command,
//! and every crash point with and without the journal.

mod common;

use common::crash::{Then, Via, WHENS, case};
use common::oracle::{Kind, settled_footprint};
use common::{Cmd, Expect, Snapshot, TestSandbox, assert_end_state, plan_copy, state_dir_of};
use setops_migrate::migrate::crash::POINTS;

const GENERATIONS: [&str; 2] = ["1.4.1", "2.3.4"];

/// An uninterrupted run of two-migrations.yaml moves existing backups.
const LATEST: Expect = Expect {
    new_manual_backups_of_files: 0..=0,
};

#[test]
fn demo_through_the_cli_runs_in_both_generations_and_ends_with_the_same_data_checks() {
    for version in GENERATIONS {
        let ran = Cmd::new()
            .env("SETOPS_SANDBOX_CLI_VERSION", version)
            .args(["demo", "--platform", "cli"])
            .expect(0)
            .stdout_has("web now links: ")
            .stdout_has("| web    | DATABASE_URL | database13 |")
            .stdout_has("| worker | REDIS_URL    | cache2     |")
            .stdout_has("4 tables, 7,920 rows")
            .stdout_has(": 500 keys")
            .stderr_has(format!("setops CLI {version}"))
            .run();
        assert_eq!(
            ran.stdout.matches("identical").count(),
            2,
            "CLI {version}: both data targets identical\n{}",
            ran.stdout
        );
    }
}

#[test]
fn a_plan_runs_to_its_end_through_the_cli_and_a_rerun_without_journal_changes_nothing() {
    for version in GENERATIONS {
        let sb = TestSandbox::start();
        sb.speed_up();
        let before = Snapshot::take(&sb);
        let (_dir, plan) = plan_copy("two-migrations.yaml");
        let plan_arg = plan.to_str().expect("utf-8 path");
        let first = sb
            .cli_cmd(version)
            .args(["run", plan_arg, "--yes"])
            .expect(0)
            .any_stdout()
            .any_stderr()
            .run();
        assert_end_state(&sb, &before, &LATEST, &[&first]);
        let settled = settled_footprint(&sb);
        std::fs::remove_dir_all(state_dir_of(&plan)).expect("deleting the journal");
        sb.cli_cmd(version)
            .args(["run", plan_arg, "--yes"])
            .expect(0)
            .any_stdout()
            .any_stderr()
            .run();
        assert_eq!(
            settled_footprint(&sb),
            settled,
            "CLI {version}: the rerun without journal changed the platform"
        );
    }
}

#[test]
fn someone_elses_pending_command_stops_a_cli_1_run_before_anything_is_staged() {
    let sb = TestSandbox::start();
    sb.speed_up();
    sb.cmd()
        .args(["service:create", "other", "--type", "volume"])
        .expect(0)
        .any_stdout()
        .run();
    let before = settled_footprint(&sb);
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    sb.cli_cmd("1.4.1")
        .args(["run", plan.to_str().expect("utf-8 path"), "--yes"])
        .expect(3)
        .any_stdout()
        .stderr_has("already holds 1 command(s) this run did not stage")
        .stderr_has("service:create map[name:other type:volume]")
        .run();
    assert_eq!(settled_footprint(&sb), before, "the platform changed");
}

/// Every crash point of a whole-file upload path (the CLI has no upload allocation), with the
/// journal kept and deleted, in both generations.
#[test]
fn every_crash_point_through_the_cli_resumes_or_stops_having_changed_nothing() {
    for version in GENERATIONS {
        for point in POINTS.iter().filter(|p| **p != "upload-allocate") {
            for when in WHENS {
                for then in [Then::JournalKept, Then::JournalDeleted] {
                    case(Via::Cli(version), Kind::Volume, point, when, then);
                }
            }
        }
    }
}
