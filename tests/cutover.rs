//! Live sources (issue 16): a migration of a source that apps write to stops at its measured
//! write gap (exit 3, nothing relinked) unless the plan freezes the writers; a freeze loses no
//! row, brings the apps back at their scales in the relink's one commit, and leaves them frozen
//! only while a run has not finished (`run --unfreeze` brings them back without relinking). A
//! scale nobody recorded is asked for, never guessed.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::data::{connection_url, psql};
use common::{Ran, TestSandbox, eventually};
use serde_json::Value;
use setops_migrate::api::Faults;

const HEAD: &str = "version: 1\nproject: shop\nstage: production\ndefaults:\n  wait_timeout: 10m\n";

const UPGRADE: &str = "migrations:\n  - source: database\n    target: database13\n    \
                       type: postgresql13\n    plan: db.t3.micro\n    backup: fresh\n";

fn write_plan(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{HEAD}{body}")).expect("writing the plan");
    path
}

fn run(sb: &TestSandbox, plan: &Path, extra: &[&str]) -> Ran {
    sb.cmd()
        .args(["run", plan.to_str().expect("utf-8 path"), "--yes"])
        .args(extra)
        .run_unchecked()
}

fn show(runs: &[&Ran]) -> String {
    runs.iter()
        .map(|r| {
            format!(
                "\n=== exit {}\n--- stdout\n{}\n--- stderr\n{}",
                r.status, r.stdout, r.stderr
            )
        })
        .collect()
}

/// The rows the live apps wrote to a database, as `id:app`.
fn live_rows(url: &str) -> BTreeSet<String> {
    psql(url, "SELECT id || ':' || app FROM live_writes ORDER BY id")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn links_of(sb: &TestSandbox, app: &str) -> BTreeSet<String> {
    sb.app_links(app)
        .iter()
        .map(|l| l["service"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn scale_commands(commit: &Value) -> Vec<(String, u64)> {
    commit["commands"]
        .as_array()
        .expect("commands")
        .iter()
        .filter(|c| c["name"] == "app:scale:set")
        .map(|c| {
            (
                c["arguments"]["app"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                c["arguments"]["scale"].as_u64().unwrap_or(99),
            )
        })
        .collect()
}

fn has_command(commit: &Value, name: &str) -> bool {
    commit["commands"]
        .as_array()
        .expect("commands")
        .iter()
        .any(|c| c["name"] == name)
}

#[test]
fn a_live_source_stops_at_its_write_gap_and_a_freeze_then_loses_no_row() {
    let sb = TestSandbox::start_live();
    sb.speed_up();
    eventually("web and worker write to database", || {
        sb.live_count("web", "database") >= 3 && sb.live_count("worker", "database") >= 3
    });
    let dir = tempfile::tempdir().expect("temp dir");

    // Without a freeze: the writes after the backup are counted, not called corruption.
    let open = write_plan(dir.path(), "open.yaml", UPGRADE);
    let gap = run(&sb, &open, &[]);
    assert_eq!(gap.status, 3, "{}", show(&[&gap]));
    for needle in [
        "were written to database after its backup; they are not in database13",
        " rows in 1 table",
        "public.live_writes: ",
        " row(s)\n",
        "Nothing was relinked",
        "--recreate-target",
        "--accept-write-gap",
        "freeze: [web, worker]",
    ] {
        assert!(gap.stderr.contains(needle), "{needle:?}{}", show(&[&gap]));
    }
    assert!(
        !gap.stderr.contains("verification failed"),
        "{}",
        show(&[&gap])
    );
    assert_eq!(
        links_of(&sb, "web"),
        BTreeSet::from([
            "database".to_owned(),
            "files".to_owned(),
            "media".to_owned()
        ])
    );
    assert!(links_of(&sb, "worker").contains("database"));

    // With a freeze: the same upgrade from a clean target.
    let frozen = write_plan(
        dir.path(),
        "frozen.yaml",
        &format!(
            "freeze: [web, worker]\n{}",
            UPGRADE.replace("    backup: fresh\n", "")
        ),
    );
    let commits_before = sb.commits().len();
    let done = run(&sb, &frozen, &["--recreate-target"]);
    assert_eq!(done.status, 0, "{}", show(&[&gap, &done]));
    assert!(done.stdout.contains("0 writes lost"), "{}", show(&[&done]));
    assert!(
        done.stdout
            .contains("Cutover freeze of web, worker: downtime "),
        "{}",
        show(&[&done])
    );
    let on_source = sb.live_count("web", "database");
    eventually("web writes to database13 after the unfreeze", || {
        sb.live_count("web", "database13") >= 3 && sb.live_count("worker", "database13") >= 3
    });
    assert_eq!(
        sb.live_count("web", "database"),
        on_source,
        "web wrote to the old database after the cutover"
    );
    // Every row committed to the source (all before the freeze) is on the target.
    let source = live_rows(&connection_url(&sb, "database"));
    let target = live_rows(&connection_url(&sb, "database13"));
    let missing: Vec<&String> = source.difference(&target).collect();
    assert!(
        missing.is_empty(),
        "{} row(s) of the source are not on the target: {missing:?}",
        missing.len()
    );
    assert!(
        target.len() > source.len(),
        "the writers did not resume on the target"
    );
    assert_eq!((sb.app_scale("web"), sb.app_scale("worker")), (1, 1));

    // One commit froze both apps; ONE commit relinked and brought them back.
    let commits = &sb.commits()[commits_before..];
    let scaling: Vec<&Value> = commits
        .iter()
        .filter(|c| !scale_commands(c).is_empty())
        .collect();
    assert_eq!(scaling.len(), 2, "{commits:#?}");
    assert_eq!(
        scale_commands(scaling[0]),
        [("web".to_owned(), 0), ("worker".to_owned(), 0)]
    );
    assert!(
        has_command(scaling[1], "app:link:create"),
        "{:#?}",
        scaling[1]
    );
    assert_eq!(
        scale_commands(scaling[1]),
        [("web".to_owned(), 1), ("worker".to_owned(), 1)]
    );
}

#[test]
fn an_accepted_write_gap_relinks_and_is_journaled_with_its_count() {
    let sb = TestSandbox::start_live();
    sb.speed_up();
    eventually("web writes to database", || {
        sb.live_count("web", "database") >= 3
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = write_plan(dir.path(), "plan.yaml", UPGRADE);
    let gap = run(&sb, &plan, &[]);
    assert_eq!(gap.status, 3, "{}", show(&[&gap]));
    let accepted = run(&sb, &plan, &["--accept-write-gap"]);
    assert_eq!(accepted.status, 0, "{}", show(&[&gap, &accepted]));
    assert!(
        accepted
            .stdout
            .contains("writes lost (written to the sources after their backups"),
        "{}",
        show(&[&accepted])
    );
    assert!(links_of(&sb, "web").contains("database13"));
    let journal = common::journal_of(&plan);
    let verified = &journal["steps"]["verify:database13"];
    assert_eq!(verified["fact"], "verified", "{verified:#}");
    assert!(
        verified["write_gap"]["writes"].as_u64().unwrap_or(0) > 0,
        "{verified:#}"
    );
}

#[test]
fn a_failure_leaves_the_apps_frozen_and_unfreeze_brings_them_back_without_relinking() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = write_plan(
        dir.path(),
        "plan.yaml",
        &format!("freeze: [web, worker]\n{UPGRADE}"),
    );
    sb.faults(&Faults {
        corrupt_download_next: Some(20),
        ..Faults::default()
    });
    let failed = run(&sb, &plan, &[]);
    assert_eq!(failed.status, 1, "{}", show(&[&failed]));
    let plan_arg = plan.to_str().expect("utf-8");
    for needle in [
        "web, worker are still frozen (scale 0)",
        &format!("setops-migrate run {plan_arg} --yes --unfreeze"),
    ] {
        assert!(
            failed.stdout.contains(needle) || failed.stderr.contains(needle),
            "{needle:?}{}",
            show(&[&failed])
        );
    }
    assert_eq!((sb.app_scale("web"), sb.app_scale("worker")), (0, 0));

    sb.faults(&Faults {
        corrupt_download_next: Some(0),
        ..Faults::default()
    });
    let unfrozen = sb
        .cmd()
        .args(["run", plan_arg, "--unfreeze"])
        .run_unchecked();
    assert_eq!(unfrozen.status, 0, "{}", show(&[&failed, &unfrozen]));
    assert!(
        unfrozen.stdout.contains("nothing was relinked"),
        "{}",
        show(&[&unfrozen])
    );
    assert_eq!((sb.app_scale("web"), sb.app_scale("worker")), (1, 1));
    assert!(links_of(&sb, "web").contains("database"));
    let again = sb
        .cmd()
        .args(["run", plan_arg, "--unfreeze"])
        .run_unchecked();
    assert_eq!(again.status, 0, "{}", show(&[&again]));
    assert!(
        again.stdout.contains("No app of the plan is frozen"),
        "{}",
        show(&[&again])
    );

    // The next run freezes again and moves a new backup; a finished run leaves nobody frozen.
    let done = run(&sb, &plan, &[]);
    let done = if done.status == 3 {
        run(&sb, &plan, &["--recreate-target"])
    } else {
        done
    };
    assert_eq!(done.status, 0, "{}", show(&[&done]));
    assert_eq!((sb.app_scale("web"), sb.app_scale("worker")), (1, 1));
    assert!(links_of(&sb, "web").contains("database13"));
}

#[test]
fn a_scale_nobody_recorded_is_asked_for_never_guessed() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let dir = tempfile::tempdir().expect("temp dir");
    // worker stopped by hand; no journal knows what it ran at.
    sb.setops("1.4.1")
        .args(["--app", "worker", "resource:set", "scale", "0"])
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    sb.setops("1.4.1")
        .args(["changeset:commit"])
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    let plan = write_plan(
        dir.path(),
        "plan.yaml",
        &format!("freeze: [web, worker]\n{UPGRADE}"),
    );
    let refused = run(&sb, &plan, &[]);
    assert_eq!(refused.status, 3, "{}", show(&[&refused]));
    for needle in [
        "worker: the platform shows scale 0",
        "- {app: worker, scale: N}",
        "never guessed",
    ] {
        assert!(
            refused.stderr.contains(needle),
            "{needle:?}{}",
            show(&[&refused])
        );
    }
    assert!(
        !sb.services().contains_key("database13"),
        "something was created"
    );
    assert_eq!(sb.app_scale("web"), 1, "web was frozen before the question");

    let plan = write_plan(
        dir.path(),
        "given.yaml",
        &format!("freeze: [web, {{app: worker, scale: 2}}]\n{UPGRADE}"),
    );
    let done = run(&sb, &plan, &[]);
    assert_eq!(done.status, 0, "{}", show(&[&refused, &done]));
    assert_eq!((sb.app_scale("web"), sb.app_scale("worker")), (1, 2));
}
