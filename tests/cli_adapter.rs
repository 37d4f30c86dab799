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
            .stdout_has("| web    | DATABASE_URL | database13 | postgresql 13")
            .stdout_has("| worker | REDIS_URL    | cache2     | redis 6")
            .stdout_has("Cutover freeze of web, worker: downtime ")
            .stderr_has(format!("setops CLI {version}"))
            .run();
        // The setops CLI offers no connection to a service's data: no count of writes lost.
        assert!(
            !ran.stdout.contains("writes lost"),
            "CLI {version}: a count of writes lost without comparing data\n{}",
            ran.stdout
        );
        let held =
            ran.stdout.matches("identical").count() + ran.stdout.matches("all held, + ").count();
        assert_eq!(
            held, 2,
            "CLI {version}: both file targets hold their sources\n{}",
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

/// Crash cases through the CLI, one test each (they run in parallel): every crash point of the
/// whole-file upload path (the CLI has no upload allocation), with the journal kept and deleted,
/// in both generations.
macro_rules! cli_points {
    ($version:literal, $then:ident) => {
        use super::super::{Kind, Then, Via, case};
        cli_points! { $version, $then;
            stage_targets_before: "stage-targets", "before";
            stage_targets_after: "stage-targets", "after";
            commit_targets_before: "commit-targets", "before";
            commit_targets_after: "commit-targets", "after";
            backup_create_before: "backup-create", "before";
            backup_create_after: "backup-create", "after";
            download_before: "download", "before";
            download_after: "download", "after";
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
    ($version:literal, $then:ident; $($name:ident: $point:literal, $when:literal;)*) => {
        $(
            #[test]
            fn $name() {
                case(Via::Cli($version), Kind::Volume, $point, $when, Then::$then);
            }
        )*
        pub const CASES: &[(&str, &str)] = &[$(($point, $when)),*];
    };
}

mod v1 {
    pub mod journal_kept {
        cli_points!("1.4.1", JournalKept);
    }
    pub mod journal_deleted {
        cli_points!("1.4.1", JournalDeleted);
    }
}

mod v2 {
    pub mod journal_kept {
        cli_points!("2.3.4", JournalKept);
    }
    pub mod journal_deleted {
        cli_points!("2.3.4", JournalDeleted);
    }
}

/// Every crash point the CLI path reaches has its cases (upload-allocate is the ticket path's;
/// the freeze's are reached by the HTTP suite's frozen plan, tests/crash_resume.rs).
#[test]
fn every_crash_point_of_the_cli_path_has_its_cases() {
    let want: Vec<(&str, &str)> = POINTS
        .iter()
        .filter(|p| **p != "upload-allocate" && !common::crash::is_freeze_point(p))
        .flat_map(|p| ["before", "after"].map(|w| (*p, w)))
        .collect();
    for cases in [
        v1::journal_kept::CASES,
        v1::journal_deleted::CASES,
        v2::journal_kept::CASES,
        v2::journal_deleted::CASES,
    ] {
        assert_eq!(cases, want.as_slice(), "crash points and CLI cases differ");
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

/// A platform call's value, or the test's failure naming the CLI version and the call.
fn ok<T>(version: &str, what: &str, result: setops_migrate::error::Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("CLI {version}: {what}: {e}"))
}

/// The platform side of a cutover freeze, through the adapter in both generations: an app's
/// scale is read, a scale change is staged beside a relink and both are applied by ONE commit,
/// and the containers are counted until none runs.
#[test]
fn scales_are_read_staged_with_a_relink_in_one_commit_and_containers_counted() {
    use setops_migrate::model::{ChangesetCommand, CommitStatus, Scope};
    use setops_migrate::platform::Platform;
    use setops_migrate::platform::setops_cli::SetopsCli;

    let scope = Scope {
        project: "shop".into(),
        stage: "production".into(),
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    for version in GENERATIONS {
        let sb = TestSandbox::start();
        sb.speed_up();
        sb.fit_for_cli(version, &["files", "media"]);
        // Makes DIR/bin/setops, the front this adapter drives.
        sb.setops(version)
            .arg("version")
            .expect(0)
            .any_stdout()
            .run();
        let env = vec![
            (
                "SETOPS_SANDBOX_DIR".into(),
                sb.dir.path().as_os_str().to_owned(),
            ),
            ("SETOPS_SANDBOX_CLI_VERSION".into(), version.into()),
        ];
        let cli = ok(
            version,
            "connecting",
            runtime.block_on(SetopsCli::connect(
                sb.dir.path().join("bin/setops"),
                env,
                reqwest::Client::new(),
            )),
        );
        let commit = |what: &str| {
            let done = ok(version, what, runtime.block_on(cli.commit(&scope)));
            assert_eq!(
                done.status,
                CommitStatus::Succeeded,
                "CLI {version}: {what}"
            );
        };
        let stage = |command: ChangesetCommand| {
            ok(
                version,
                "staging",
                runtime.block_on(cli.stage_command(&scope, &command)),
            );
        };
        let scale_of = |app: &str| {
            ok(
                version,
                "scale",
                runtime.block_on(cli.app_scale(&scope, app)),
            )
        };
        let wait_for = |app: &str, wanted: usize| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let running = ok(
                    version,
                    "counting containers",
                    runtime.block_on(cli.running_containers(&scope, app)),
                );
                if running == wanted {
                    return;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "CLI {version}: {app} runs {running} container(s), not {wanted}"
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        };

        assert_eq!(scale_of("web"), Some(1));
        let tasks = ok(
            version,
            "tasks",
            runtime.block_on(cli.app_tasks(&scope, "web")),
        );
        assert_eq!(tasks.len(), 1, "CLI {version}: {tasks:?}");
        assert_eq!(tasks[0].last_status, "RUNNING");
        assert_eq!(tasks[0].id.len(), 32);

        stage(ChangesetCommand::ServiceCreate {
            name: "files2".into(),
            service_type: "volume".into(),
            plan: None,
        });
        commit("creating files2");
        // Frozen, then relinked and scaled up again in one commit.
        stage(ChangesetCommand::ScaleSet {
            app: "web".into(),
            scale: 0,
        });
        commit("scaling web to 0");
        wait_for("web", 0);
        assert_eq!(scale_of("web"), Some(0));
        stage(ChangesetCommand::LinkDestroy {
            app: "web".into(),
            service: "files".into(),
        });
        stage(ChangesetCommand::LinkCreate {
            app: "web".into(),
            service: "files2".into(),
            env_key: None,
            path: Some("/data".into()),
            read_only: false,
        });
        stage(ChangesetCommand::ScaleSet {
            app: "web".into(),
            scale: 2,
        });
        let pending = ok(
            version,
            "changeset",
            runtime.block_on(cli.changeset(&scope)),
        )
        .expect("three commands pending");
        assert_eq!(pending.commands.len(), 3, "CLI {version}: {pending:?}");
        commit("relinking web and scaling it to 2");
        wait_for("web", 2);
        assert_eq!(scale_of("web"), Some(2));
        let links = ok(
            version,
            "links",
            runtime.block_on(cli.app_links(&scope, "web")),
        );
        assert!(
            links
                .iter()
                .any(|l| l.service == "files2" && l.path.as_deref() == Some("/data")),
            "CLI {version}: {links:?}"
        );
        // Out of range: refused, nothing staged or applied.
        let refused = runtime.block_on(cli.stage_command(
            &scope,
            &ChangesetCommand::ScaleSet {
                app: "web".into(),
                scale: 17,
            },
        ));
        assert!(refused.is_err(), "CLI {version}: scale 17 was staged");
        let _ = runtime.block_on(cli.discard_changeset(&scope));
        assert_eq!(scale_of("web"), Some(2));
    }
}

/// The cutover freeze through both CLI generations: the apps' scales read (`app:info`, the
/// stage definition), set to 0 and committed, containers counted (`app:ps`, `task`), and the
/// relink committed together with the restored scales; the end state is an uninterrupted run's.
#[test]
fn a_frozen_upgrade_runs_through_both_generations() {
    use common::oracle::{Before, problems};
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/plans/run")
        .join(Kind::Postgres.seed());
    for version in GENERATIONS {
        let sb = TestSandbox::start_with_seed(Some(&seed));
        sb.speed_up();
        sb.fit_for_cli(version, &["database"]);
        let before = Before::take(&sb, Kind::Postgres.expected());
        let (_dir, plan) = plan_copy(Kind::Postgres.plan());
        let plan = plan.to_str().expect("utf-8 path").to_owned();
        let commits = sb.commits().len();
        let ran = common::crash::run(&sb, Via::Cli(version), &plan, &[], None);
        assert_eq!(
            ran.status,
            0,
            "CLI {version}{}",
            common::crash::show(&[&ran])
        );
        assert!(
            ran.stdout
                .contains("Cutover freeze of web, worker: downtime"),
            "CLI {version}{}",
            common::crash::show(&[&ran])
        );
        let found = problems(&sb, &before, Kind::Postgres.expected(), 1..=1);
        assert!(found.is_empty(), "CLI {version}: {found:#?}");
        // Targets, freeze, relink with the scales: three commits.
        assert_eq!(sb.commits().len() - commits, 3, "CLI {version}");
    }
}
