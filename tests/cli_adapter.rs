//! The engine through the setops CLI adapter, against the sandbox's `setops` front, in both CLI
//! generations (1.4.1 changesets, 2.3.4 stage definitions): the whole demo with its data checks,
//! a plan run to its end and then again (nothing done twice), someone else's pending command,
//! and every crash point with and without the journal.

mod common;

use common::crash::{Then, Via, case};
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
        sb.fit_for_cli(version, &["files", "media"]);
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

/// Crash cases through the CLI, one test each (they run in parallel). CLI 1.x: every crash point
/// of the whole-file upload path (the CLI has no upload allocation) with the journal deleted, and
/// the upload with it kept (the rerun adopts the upload by the backups listed before it). CLI
/// 2.x: the points where a stage definition is drafted and applied, and the upload.
macro_rules! crash_cases {
    ($($name:ident: $version:literal, $point:literal, $when:literal, $then:ident;)*) => {
        $(
            #[test]
            fn $name() {
                case(Via::Cli($version), Kind::Volume, $point, $when, Then::$then);
            }
        )*
        const CRASH_CASES: &[(&str, &str)] = &[$(($point, $when)),*];
    };
}

crash_cases! {
    v1_stage_targets_before: "1.4.1", "stage-targets", "before", JournalDeleted;
    v1_stage_targets_after: "1.4.1", "stage-targets", "after", JournalDeleted;
    v1_commit_targets_before: "1.4.1", "commit-targets", "before", JournalDeleted;
    v1_commit_targets_after: "1.4.1", "commit-targets", "after", JournalDeleted;
    v1_backup_create_before: "1.4.1", "backup-create", "before", JournalDeleted;
    v1_backup_create_after: "1.4.1", "backup-create", "after", JournalDeleted;
    v1_download_before: "1.4.1", "download", "before", JournalDeleted;
    v1_download_after: "1.4.1", "download", "after", JournalDeleted;
    v1_upload_before: "1.4.1", "upload", "before", JournalDeleted;
    v1_upload_after: "1.4.1", "upload", "after", JournalDeleted;
    v1_upload_before_kept: "1.4.1", "upload", "before", JournalKept;
    v1_upload_after_kept: "1.4.1", "upload", "after", JournalKept;
    v1_restore_before: "1.4.1", "restore", "before", JournalDeleted;
    v1_restore_after: "1.4.1", "restore", "after", JournalDeleted;
    v1_stage_relink_before: "1.4.1", "stage-relink", "before", JournalDeleted;
    v1_stage_relink_after: "1.4.1", "stage-relink", "after", JournalDeleted;
    v1_commit_relink_before: "1.4.1", "commit-relink", "before", JournalDeleted;
    v1_commit_relink_after: "1.4.1", "commit-relink", "after", JournalDeleted;
    v1_stage_destroy_after: "1.4.1", "stage-destroy", "after", JournalDeleted;
    v1_commit_destroy_after: "1.4.1", "commit-destroy", "after", JournalDeleted;
    v2_stage_targets_after: "2.3.4", "stage-targets", "after", JournalKept;
    v2_commit_targets_before: "2.3.4", "commit-targets", "before", JournalKept;
    v2_commit_targets_after: "2.3.4", "commit-targets", "after", JournalDeleted;
    v2_upload_after: "2.3.4", "upload", "after", JournalKept;
    v2_upload_after_lost: "2.3.4", "upload", "after", JournalDeleted;
    v2_stage_relink_after: "2.3.4", "stage-relink", "after", JournalKept;
    v2_commit_relink_before: "2.3.4", "commit-relink", "before", JournalDeleted;
    v2_commit_relink_after: "2.3.4", "commit-relink", "after", JournalKept;
    v2_commit_destroy_after: "2.3.4", "commit-destroy", "after", JournalDeleted;
}

/// Every crash point the CLI path reaches is among the cases (upload-allocate is the ticket
/// path's own).
#[test]
fn every_crash_point_of_the_cli_path_has_a_case() {
    for point in POINTS.iter().filter(|p| **p != "upload-allocate") {
        assert!(
            CRASH_CASES.iter().any(|(p, _)| p == point),
            "no CLI crash case for {point}"
        );
    }
}

/// CLI 2.x: a draft is applied only onto the definition it was made from. Someone else's apply
/// between this run's read and its apply stops it (exit 3) with nothing applied.
#[test]
fn a_stage_definition_changed_by_someone_else_is_not_overwritten() {
    use setops_migrate::error::exit;
    use setops_migrate::model::{ChangesetCommand, Scope};
    use setops_migrate::platform::Platform;
    use setops_migrate::platform::setops_cli::SetopsCli;

    let sb = TestSandbox::start();
    sb.speed_up();
    sb.fit_for_cli("2.3.4", &["files", "media"]);
    // Makes DIR/bin/setops, the front this adapter drives.
    sb.setops("2.3.4")
        .arg("version")
        .expect(0)
        .any_stdout()
        .run();
    let scope = Scope {
        project: "shop".into(),
        stage: "production".into(),
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let env = vec![
        (
            "SETOPS_SANDBOX_DIR".into(),
            sb.dir.path().as_os_str().to_owned(),
        ),
        ("SETOPS_SANDBOX_CLI_VERSION".into(), "2.3.4".into()),
    ];
    let cli = runtime
        .block_on(SetopsCli::connect(
            sb.dir.path().join("bin/setops"),
            env,
            reqwest::Client::new(),
        ))
        .expect("the adapter connects to the front");
    let ours = ChangesetCommand::ServiceCreate {
        name: "files9".into(),
        service_type: "volume".into(),
        plan: None,
    };
    runtime
        .block_on(cli.stage_command(&scope, &ours))
        .expect("staged in the draft");
    // Someone else applies a change meanwhile (through the HTTP building blocks).
    sb.cmd()
        .args(["service:create", "theirs", "--type", "volume"])
        .expect(0)
        .any_stdout()
        .run();
    sb.cmd()
        .arg("changeset:commit")
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    let before = settled_footprint(&sb);
    let error = runtime
        .block_on(cli.commit(&scope))
        .expect_err("the changed definition is not overwritten");
    assert_eq!(error.exit_code(), exit::DECISION_NEEDED, "{error}");
    let text = error.to_string();
    assert!(text.contains("changed since this run read it"), "{text}");
    assert!(
        text.contains("theirs"),
        "the message names what changed: {text}"
    );
    assert_eq!(settled_footprint(&sb), before, "something was applied");
    assert!(!sb.services().contains_key("files9"));
}
