//! `run PLAN`, `status PLAN` and `demo` through the real binary against the in-process sandbox:
//! a two-migration plan end to end, reruns (finished, without journal, while locked, changed),
//! the guards that stop a run before it changes anything, JSON events, and failed restores.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{
    Cmd, Expect, Ran, Snapshot, TestSandbox, assert_end_state, link_set, plan_copy, queued,
    restore_hint, state_dir_of, tree_hashes,
};
use serde_json::Value;
use setops_migrate::api::Faults;
use setops_migrate::model::codes;

/// What an uninterrupted run of two-migrations.yaml leaves behind (it moves existing backups).
const LATEST: Expect = Expect {
    new_manual_backups_of_files: 0..=0,
};

/// `run PLAN` with `extra` against this sandbox, for the test to state its expectation. A run
/// with `--yes` logs its progress (timestamped) on stderr; its manifest and summary go to stdout.
fn run(sb: &TestSandbox, plan: &Path, extra: &[&str]) -> Cmd {
    sb.cmd()
        .arg("run")
        .arg(plan.to_str().expect("utf-8 path"))
        .args(extra)
}

/// Fails with the whole output when `cond` does not hold.
fn check(cond: bool, what: &str, ran: &Ran) {
    assert!(
        cond,
        "{what}\n--- exit {}\n--- stdout\n{}\n--- stderr\n{}",
        ran.status, ran.stdout, ran.stderr
    );
}

/// Nothing on the platform changed since `before`: same services and links, no new backups,
/// an empty changeset.
fn assert_untouched(sb: &TestSandbox, before: &Snapshot, ran: &Ran) {
    check(
        sb.services() == before.services,
        "the services changed",
        ran,
    );
    for (source, backups) in &before.backups {
        check(
            &sb.backups(source) == backups,
            &format!("the backups of {source} changed"),
            ran,
        );
    }
    let changeset = sb.json(&["changeset:info"]);
    check(
        changeset.is_null(),
        &format!("the changeset is not empty: {changeset}"),
        ran,
    );
}

#[test]
fn a_two_migration_plan_runs_to_the_end_and_status_shows_every_step_done() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let before = Snapshot::take(&sb);
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    let ran = run(&sb, &plan, &["--yes"])
        .expect(0)
        .stdout_has("Done. The sources were not changed.")
        .any_stderr()
        .run();

    // The targets as `service:info` shows them: the source's configuration plus the override.
    let files2 = sb.json(&["service:info", "files2"]);
    assert_eq!(files2["type"], "volume", "{files2}");
    assert_eq!(
        files2["options"], before.services["files"]["options"],
        "{files2}"
    );
    assert_eq!(
        files2["backup_schedule"], before.services["files"]["backup_schedule"],
        "{files2}"
    );
    let media2 = sb.json(&["service:info", "media2"]);
    assert_eq!(media2["type"], "s3", "{media2}");
    assert_eq!(media2["options"]["blockPublicAccess"], "false", "{media2}");
    assert_eq!(
        before.services["media"]["options"]["blockPublicAccess"],
        "true"
    );
    let media = sb.json(&["service:info", "media"]);
    assert_eq!(
        media["options"]["blockPublicAccess"], "true",
        "the source's option changed: {media}"
    );
    // Every web link of a migrated source points at its target under the same key or path;
    // the database link was not part of the plan.
    let web = sb.app_links("web");
    let want: std::collections::BTreeSet<(String, String)> = [
        ("files2", "/data"),
        ("media2", "S3_DATA_URL"),
        ("database", "DATABASE_URL"),
    ]
    .iter()
    .map(|(s, a)| (s.to_string(), a.to_string()))
    .collect();
    assert_eq!(link_set(&web), want, "{web:?}");

    let status = sb
        .cmd()
        .args(["status", plan.to_str().unwrap()])
        .expect(0)
        .stdout_has(": finished, updated")
        .run();
    let mut rows = Vec::new();
    for line in status.stdout.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.first() == Some(&"TARGET") {
            continue;
        }
        rows.push((
            cells[0].to_owned(),
            cells[1].to_owned(),
            cells[2].to_owned(),
        ));
    }
    let steps = [
        "inspect", "create", "backup", "download", "upload", "restore", "wait", "verify", "relink",
    ];
    for target in ["files2", "media2"] {
        for step in steps {
            check(
                rows.iter()
                    .any(|(t, s, state)| t == target && s == step && state == "done"),
                &format!("status has no `{target} {step} done` row"),
                &status,
            );
        }
    }
    check(
        rows.iter().all(|(_, _, state)| state == "done"),
        "a step is not done",
        &status,
    );

    let reports = sb
        .cmd()
        .args(["status", plan.to_str().unwrap(), "-o", "json"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let reports = reports.as_array().expect("a list of journals");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["finished"], true);
    let migrations = reports[0]["migrations"].as_array().expect("migrations");
    assert_eq!(migrations.len(), 2);
    for m in migrations {
        let states: Vec<&str> = m["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, vec!["done"; steps.len()], "{m}");
    }
    assert_end_state(&sb, &before, &LATEST, &[&ran]);
}

#[test]
fn a_finished_plan_is_not_run_again_even_when_the_platform_is_gone() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    run(&sb, &plan, &["--yes"])
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    let (url, token) = (sb.url.clone(), sb.token.clone());
    drop(sb); // the URL is dead from here on: any platform call would fail
    Cmd::new()
        .env("SETOPS_API_URL", &url)
        .env("SETOPS_TOKEN", &token)
        .args([
            "-p",
            "shop",
            "-s",
            "production",
            "run",
            plan.to_str().unwrap(),
            "--yes",
        ])
        .expect(0)
        .stdout_has("Already done: this plan finished in an earlier run")
        .stdout_has("Nothing was changed.")
        .stderr_has("already done")
        .run();
}

#[test]
fn a_finished_plan_rerun_without_its_journal_reaches_the_same_state_and_changes_nothing() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let before = Snapshot::take(&sb);
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    let first = run(&sb, &plan, &["--yes"])
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    let after_first = sb.services();
    let backups_after_first: Vec<Vec<Value>> = ["files", "files2", "media", "media2"]
        .iter()
        .map(|s| sb.backups(s))
        .collect();

    std::fs::remove_dir_all(state_dir_of(&plan)).expect("journal removed");
    // The journal-less rerun of a finished plan succeeds.
    let second = run(&sb, &plan, &["--yes"])
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    check(
        sb.services() == after_first,
        "the rerun changed a service",
        &second,
    );
    let backups_now: Vec<Vec<Value>> = ["files", "files2", "media", "media2"]
        .iter()
        .map(|s| sb.backups(s))
        .collect();
    check(
        backups_now == backups_after_first,
        "the rerun changed a backup",
        &second,
    );
    assert_end_state(&sb, &before, &LATEST, &[&first, &second]);
}

/// A sandbox restarted on another port is the same platform: its journal is found, and a
/// finished plan is reported done with nothing uploaded or restored again.
#[test]
fn a_finished_plan_rerun_after_the_sandbox_moved_to_another_port_is_already_done() {
    let mut sb = TestSandbox::start();
    sb.speed_up();
    let before = Snapshot::take(&sb);
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    let first = run(&sb, &plan, &["--yes"])
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    let old = sb.url.clone();
    sb.restart();
    sb.speed_up();
    assert_ne!(sb.url, old, "same port after the restart");
    // The journal is found on the new port.
    let second = run(&sb, &plan, &["--yes"])
        .expect(0)
        .stdout_has("Already done: this plan finished in an earlier run")
        .any_stderr()
        .run();
    assert_end_state(&sb, &before, &LATEST, &[&first, &second]);
}

#[test]
fn a_foreign_command_in_the_changeset_stops_the_run_before_anything_is_staged() {
    let sb = TestSandbox::start();
    sb.speed_up();
    sb.cmd()
        .args(["service:create", "other", "--type", "volume"])
        .expect(0)
        .stdout(&queued("service:create map[name:other type:volume]", 1))
        .run();
    let pending = sb.json(&["changeset:info"]);
    let before = Snapshot::take(&sb);
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    // The foreign command is named.
    let ran = run(&sb, &plan, &["--yes"])
        .expect(3)
        .any_stdout()
        .stderr_has("already holds 1 command(s) this run did not stage")
        .stderr_has("service:create map[name:other type:volume]")
        .run();
    let now = sb.json(&["changeset:info"]);
    assert_eq!(
        now["commands"], pending["commands"],
        "the changeset changed"
    );
    assert_eq!(
        now["commands"],
        serde_json::json!([{"name": "service:create", "arguments": {"name": "other", "type": "volume"}}])
    );
    let services = sb.services();
    check(
        !services.contains_key("files2") && !services.contains_key("media2"),
        "a target was created",
        &ran,
    );
    check(services == before.services, "the services changed", &ran);
}

#[test]
fn a_second_run_while_the_first_holds_the_lock_is_refused_naming_the_holder() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let before = Snapshot::take(&sb);
    sb.faults(&Faults {
        restore_delay_ms: Some(3000),
        ..Faults::default()
    });
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    let first = sb
        .cmd()
        .arg("run")
        .arg(plan.to_str().unwrap())
        .arg("--yes")
        .spawn();
    let state = state_dir_of(&plan);
    let deadline = Instant::now() + Duration::from_secs(60);
    let lock = loop {
        let found = std::fs::read_dir(&state).ok().and_then(|entries| {
            entries.flatten().map(|e| e.path()).find(|p| {
                p.extension().is_some_and(|x| x == "lock")
                    && std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
            })
        });
        if let Some(lock) = found {
            break lock;
        }
        assert!(
            Instant::now() < deadline,
            "the first run never created its journal lock in {}",
            state.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Refused, naming the lock file and the holder's pid.
    let second = run(&sb, &plan, &["--yes"])
        .expect(3)
        .any_stdout()
        .stderr_has("another run of this plan holds the journal lock")
        .stderr_has(lock.display().to_string())
        .stderr_has(format!("pid {} ", first.id()))
        .run();

    let out = first.wait_with_output().expect("first run ends");
    let first = Ran {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    check(first.status == 0, "the first run did not finish", &first);
    assert_end_state(&sb, &before, &LATEST, &[&first, &second]);
}

#[test]
fn a_changed_plan_is_refused_with_what_changed_unless_restart() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let before = Snapshot::take(&sb);
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    // The first run stops once its journal is written, before anything is staged.
    sb.cmd()
        .env("SETOPS_MIGRATE_CRASH_AT", "stage-targets:before")
        .args(["run", plan.to_str().unwrap(), "--yes"])
        .expect(setops_migrate::migrate::crash::CRASH_EXIT)
        .any_stdout()
        .stderr_has("crash point stage-targets:before reached")
        .run();
    let text = std::fs::read_to_string(&plan).unwrap();
    let changed = text.replace(
        r#"blockPublicAccess: "false""#,
        r#"blockPublicAccess: "true""#,
    );
    assert_ne!(text, changed, "the plan holds the override to change");
    std::fs::write(&plan, changed).unwrap();

    // Refused, saying what changed and offering --restart.
    let refused = run(&sb, &plan, &["--yes"])
        .expect(3)
        .any_stdout()
        .stderr_has("changed since the run recorded in")
        .stderr_has(r#"migrations[1].options.blockPublicAccess: "false" -> "true""#)
        .stderr_has("--restart")
        .run();
    assert_untouched(&sb, &before, &refused);

    let restarted = run(&sb, &plan, &["--yes", "--restart"])
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    let media2 = sb.json(&["service:info", "media2"]);
    assert_eq!(
        media2["options"]["blockPublicAccess"], "true",
        "the restarted run did not use the new plan: {media2}"
    );
    let aside: Vec<String> = std::fs::read_dir(state_dir_of(&plan))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".replaced-"))
        .collect();
    check(
        aside.len() == 1,
        &format!("the old journal was not kept aside: {aside:?}"),
        &restarted,
    );
}

#[test]
fn without_a_terminal_and_without_yes_the_run_asks_for_yes_and_changes_nothing() {
    let sb = TestSandbox::start();
    let before = Snapshot::take(&sb);
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    // The manifest, then a refusal saying to pass --yes.
    let ran = run(&sb, &plan, &[])
        .expect(3)
        .any_stdout()
        .stderr_has("pass --yes")
        .run();
    assert_untouched(&sb, &before, &ran);
    check(!state_dir_of(&plan).exists(), "a journal was written", &ran);
}

#[test]
fn dry_run_prints_the_manifest_and_the_resolved_backups_and_touches_nothing() {
    let sb = TestSandbox::start();
    let before = Snapshot::take(&sb);
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    let ran = run(&sb, &plan, &["--dry-run"])
        .expect(0)
        .stdout_has("dry run, nothing will be changed")
        .run();
    let row = |item: &str| -> Vec<String> {
        ran.stdout
            .lines()
            .find(|l| l.split('|').nth(1).is_some_and(|c| c.trim() == item))
            .map(|l| {
                l.split('|')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    check(
        row("option blockPublicAccess") == ["option blockPublicAccess", "false", "override"],
        "the override is not marked in the manifest",
        &ran,
    );
    check(
        row("type").get(2).is_some_and(|c| c == "copied"),
        "the type is not marked copied",
        &ran,
    );
    for (source, target) in common::PAIRS {
        check(
            ran.stdout.contains(&format!("{source} -> {target}")),
            &format!("no {source} -> {target} section"),
            &ran,
        );
        let latest = before.backups[source]
            .iter()
            .filter(|b| b["status"] == "CREATED")
            .max_by_key(|b| b["created_at"].as_str().unwrap().to_owned())
            .expect("a CREATED backup");
        let id = latest["id"].as_str().unwrap();
        check(
            ran.stdout
                .contains(&format!("backup: latest backup {id} of {source} (")),
            &format!("the resolved backup {id} of {source} is not shown"),
            &ran,
        );
    }
    assert_untouched(&sb, &before, &ran);
    check(!state_dir_of(&plan).exists(), "a journal was written", &ran);
}

#[test]
fn json_output_is_one_event_per_line_with_run_id_phase_and_elapsed_ms() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    // Events on stdout, nothing on stderr.
    let ran = run(&sb, &plan, &["--yes", "-o", "json"])
        .expect(0)
        .any_stdout()
        .run();
    let lines = ran.json_lines();
    let events: Vec<&Value> = lines.iter().filter(|v| v.get("phase").is_some()).collect();
    check(!events.is_empty(), "no events", &ran);
    let run_ids: std::collections::BTreeSet<&str> =
        events.iter().filter_map(|e| e["run_id"].as_str()).collect();
    check(
        run_ids.len() == 1,
        &format!("events carry run ids {run_ids:?}, expected one"),
        &ran,
    );
    let steps: std::collections::BTreeSet<&str> =
        events.iter().filter_map(|e| e["step"].as_str()).collect();
    for step in [
        "preflight",
        "inspect",
        "create",
        "backup",
        "download",
        "upload",
        "restore",
        "wait",
        "verify",
        "relink",
    ] {
        check(
            steps.contains(step),
            &format!("no event for step {step}"),
            &ran,
        );
    }
    let not_events: Vec<String> = lines
        .iter()
        .filter(|v| {
            !(v["run_id"].is_string() && v["phase"].is_string() && v["elapsed_ms"].is_u64())
        })
        .map(|v| {
            let s = v.to_string();
            if s.len() > 160 {
                format!("{}…", &s[..160])
            } else {
                s
            }
        })
        .collect();
    check(
        not_events.is_empty(),
        &format!(
            "{} stdout line(s) are not events with run_id, phase and elapsed_ms:\n  {}",
            not_events.len(),
            not_events.join("\n  ")
        ),
        &ran,
    );
}

#[test]
fn a_target_name_taken_by_a_service_of_another_type_stops_the_run_with_exit_3() {
    let sb = TestSandbox::start();
    sb.speed_up();
    sb.cmd()
        .args(["service:create", "files2", "--type", "s3"])
        .expect(0)
        .stdout(&queued("service:create map[name:files2 type:s3]", 1))
        .run();
    sb.cmd()
        .args(["changeset:commit"])
        .expect(0)
        .stdout_has("Commit successful!")
        .run();
    let before = Snapshot::take(&sb);
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    let reason = "target files2 exists in shop/production and was not created by this plan (it is s3, the plan makes volume)";
    // Events on stdout; stderr gives the reason and offers --adopt-target.
    let ran = run(&sb, &plan, &["--yes", "-o", "json"])
        .expect(3)
        .any_stdout()
        .stderr_has(reason)
        .stderr_has("--adopt-target")
        .run();
    assert_untouched(&sb, &before, &ran);
    let lines = ran.json_lines();
    let failed: Vec<&Value> = lines.iter().filter(|e| e["phase"] == "failed").collect();
    check(
        failed
            .iter()
            .any(|e| e["message"].as_str().is_some_and(|m| m.contains(reason))),
        "no `failed` event carries the reason (JSON consumers only see events)",
        &ran,
    );
    // A guard of preflight refused, not the platform: the tool's own code, no request id.
    check(
        failed.iter().all(|e| {
            e["step"] == "preflight"
                && e["error_code"] == "TargetNotCreatedByPlan"
                && e.get("request_id").is_none()
        }),
        "the failed event lacks step preflight and error_code TargetNotCreatedByPlan, or claims \
         a platform request",
        &ran,
    );
}

#[test]
fn a_restore_the_platform_refuses_is_a_failed_event_with_its_code_and_request_id() {
    let sb = TestSandbox::start();
    sb.speed_up();
    // files2 exists already (adopted) and is busy restoring something else.
    sb.cmd()
        .args(["service:create", "files2", "--type", "volume"])
        .expect(0)
        .stdout(&queued("service:create map[name:files2 type:volume]", 1))
        .run();
    sb.cmd()
        .args(["changeset:commit"])
        .expect(0)
        .stdout_has("Commit successful!")
        .run();
    let (dir, plan) = plan_copy("files-only.yaml");
    let small = dir.path().join("small.tar.gz");
    {
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&small).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o644);
        tar.append_data(&mut header, "other.txt", &b"other"[..])
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    let busy = sb.json(&[
        "--service",
        "files2",
        "backup:upload",
        small.to_str().unwrap(),
    ]);
    let busy = busy["id"].as_str().expect("upload id").to_owned();
    sb.faults(&Faults {
        restore_delay_ms: Some(120_000),
        ..Faults::default()
    });
    sb.cmd()
        .args(["--service", "files2", "backup:restore", &busy])
        .expect(0)
        .stdout_has("RESTORING")
        .stderr(&restore_hint(&busy))
        .run();
    let web_before = sb.app_links("web");

    // Events on stdout; stderr names the restore in the way (and the event's request_id, below).
    let ran = run(&sb, &plan, &["--yes", "--adopt-target", "-o", "json"])
        .expect(1)
        .any_stdout()
        .stderr_has(&busy)
        .run();
    let lines = ran.json_lines();
    let failed: Vec<&Value> = lines.iter().filter(|e| e["phase"] == "failed").collect();
    let refused = failed
        .iter()
        .find(|e| e["error_code"] == codes::BACKUP_STATE_INVALID);
    check(
        refused.is_some(),
        "no failed event with error_code BackupStateInvalid",
        &ran,
    );
    let refused = refused.unwrap();
    assert_eq!(refused["migration"], "files2", "{refused}");
    let request_id = refused["request_id"].as_str().unwrap_or_default();
    check(
        !request_id.is_empty(),
        "the failed event has no request_id",
        &ran,
    );
    check(
        ran.stderr.contains(&format!("(request_id {request_id})")),
        "stderr lacks the event's request_id",
        &ran,
    );
    check(
        sb.app_links("web") == web_before,
        "the links changed although the restore was refused",
        &ran,
    );
}

#[test]
fn a_failed_restore_stops_the_run_before_relinking() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let (dir, plan) = plan_copy("evil-import.yaml");
    {
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(dir.path().join("evil.tar.gz")).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        for (name, data) in [("fine.txt", &b"fine"[..]), ("../evil", &b"evil"[..])] {
            // Written raw: the tar crate refuses `..` in paths it is given.
            let mut header = tar::Header::new_gnu();
            header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append(&header, data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
    }
    let web_before = sb.app_links("web");
    // The platform's message, and that nothing was relinked.
    let ran = run(&sb, &plan, &["--yes"])
        .expect(1)
        .any_stdout()
        .stderr_has("archive entry `../evil` contains `..`")
        .stderr_has("Nothing was relinked")
        .run();
    let uploads = sb.backups("imported");
    check(
        uploads.len() == 1,
        &format!("expected one upload on imported: {uploads:?}"),
        &ran,
    );
    let id = uploads[0]["id"].as_str().unwrap();
    check(
        ran.stderr
            .contains(&format!("the restore of backup {id} into imported failed")),
        "stderr does not name the failed backup",
        &ran,
    );
    // Without a terminal the failure is said once, by its log line; the way on follows it.
    check(
        ran.stderr
            .matches(&format!("the restore of backup {id} into imported failed"))
            .count()
            == 1,
        "the failure is printed more than once",
        &ran,
    );
    check(
        !ran.stderr.lines().any(|l| l.starts_with("error:")),
        "the failure is repeated as an error line",
        &ran,
    );
    assert_eq!(
        uploads[0]["last_restore"]["outcome"], "FAILED",
        "{uploads:?}"
    );
    check(
        sb.app_links("web") == web_before,
        "web's links changed after a failed restore",
        &ran,
    );
    check(
        tree_hashes(&sb.data_dir("imported")).is_empty(),
        "the failed restore wrote data",
        &ran,
    );
    let outside = sb.data_dir("imported").parent().unwrap().join("evil");
    check(
        !outside.exists(),
        "the archive wrote outside the service's data",
        &ran,
    );
}

#[test]
fn demo_runs_and_finds_both_targets_identical() {
    // The database and the cache were migrated while their apps wrote to them, frozen for the
    // cutover, verified row by row and key by key, and the apps' new env values reach them.
    let ran = Cmd::new()
        .arg("demo")
        .expect(0)
        .stdout_has("web now links: ")
        .stdout_has("| web    | DATABASE_URL | database13 | postgresql 13")
        .stdout_has("| worker | REDIS_URL    | cache2     | redis 6")
        .stdout_has("Cutover freeze of web, worker: downtime ")
        .stdout_has("0 writes lost: 4 of 4 target(s) hold exactly their source's data")
        .any_stderr()
        .run();
    // Files the apps wrote to the new volume after the unfreeze are counted apart.
    let held = ran.stdout.matches("identical").count() + ran.stdout.matches("all held, + ").count();
    check(
        held == 2,
        &format!("the file check holds {held} of 2 targets"),
        &ran,
    );
    check(
        ran.stderr.matches("data matches").count() == 4,
        "every migration's data was compared",
        &ran,
    );
}

/// On a machine without PostgreSQL and redis-server (no program where the sandbox looks), the
/// demo still runs the volume and bucket migrations and says which it left out and why.
#[test]
fn demo_without_postgresql_and_redis_leaves_their_migrations_out_and_says_why() {
    let empty = tempfile::tempdir().expect("temp dir");
    let ran = Cmd::new()
        .env(
            setops_migrate::sandbox::PROGRAM_PATH_ENV,
            empty.path().to_str().expect("utf-8"),
        )
        .arg("demo")
        .expect(0)
        .any_stdout()
        .stderr_has(
            "Left out database -> database13: the PostgreSQL client (psql, pg_restore, pg_dump) \
             was not found in SETOPS_SANDBOX_PROGRAM_PATH",
        )
        .stderr_has("apt-get install postgresql-client")
        .stderr_has("Left out cache -> cache2: Redis 6 is not installed (looked in SETOPS_SANDBOX_PROGRAM_PATH")
        .stderr_has("run scripts/install-servers")
        .run();
    // Files web wrote to files2 after the unfreeze are counted apart.
    let held = ran.stdout.matches("identical").count() + ran.stdout.matches("all held, + ").count();
    check(held == 2, "files and media were still migrated", &ran);
    check(
        !ran.stdout.contains("database13") && !ran.stdout.contains("cache2"),
        "nothing of the left-out migrations ran",
        &ran,
    );
}

/// On a machine with only Debian's PostgreSQL 15 and Redis 7 (no emulated version installed),
/// those servers stand in and the demo says so; the upgrade and the cache copy, whose stand-in
/// backups no postgresql13 or redis6 takes, are left out with the reason instead of failing.
#[test]
fn demo_on_stand_in_servers_names_them_and_leaves_out_what_they_cannot_restore() {
    let nothing = tempfile::tempdir().expect("temp dir");
    let ran = Cmd::new()
        .env(
            setops_migrate::sandbox::servers::SERVERS_DIR_ENV,
            nothing.path().to_str().expect("utf-8"),
        )
        .env(setops_migrate::sandbox::servers::EXACT_VERSIONS_ENV, "0")
        // Own clusters, not the tests' shared servers of the real versions.
        .env(setops_migrate::sandbox::POSTGRES_URL_ENV, "")
        .arg("demo")
        .expect(0)
        .any_stdout()
        .stderr_has("postgresql11 runs on PostgreSQL 15.")
        .stderr_has(
            "standing in for PostgreSQL 11, which is not installed: run scripts/install-servers",
        )
        .stderr_has("redis6 runs on Redis 7.")
        .stderr_has(
            "Left out database -> database13: postgresql11 runs on a stand-in server of version 15",
        )
        .stderr_has("Left out cache -> cache2: redis6 runs on a stand-in server of version 7")
        .run();
    // Files web wrote to files2 after the unfreeze are counted apart.
    let held = ran.stdout.matches("identical").count() + ran.stdout.matches("all held, + ").count();
    check(held == 2, "files and media were still migrated", &ran);
}

/// The README's GitHub Actions steps that run a plan, as `(step, script)`: each step of a
/// ```yaml block whose `run: |` script calls `setops-migrate run`, its script dedented.
fn readme_ci_steps() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut out = Vec::new();
    for block in readme.split("```yaml\n").skip(1) {
        let lines: Vec<&str> = block.split("\n```").next().unwrap_or("").lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim() != "run: |" {
                continue;
            }
            let key = indent(line);
            let body: Vec<&str> = lines[i + 1..]
                .iter()
                .take_while(|l| l.trim().is_empty() || indent(l) > key)
                .copied()
                .collect();
            let script: String = body
                .iter()
                .map(|l| l.get(key + 2..).unwrap_or("").to_owned() + "\n")
                .collect();
            if !script.contains("setops-migrate run") {
                continue;
            }
            // The step: from its `- ` line to the next line at or left of that dash.
            let start = (0..=i)
                .rev()
                .find(|j| lines[*j].trim_start().starts_with("- ") && indent(lines[*j]) < key)
                .expect("the step's `- ` line");
            let dash = indent(lines[start]);
            let end = (i + 1..lines.len())
                .find(|j| !lines[*j].trim().is_empty() && indent(lines[*j]) <= dash)
                .unwrap_or(lines.len());
            out.push((lines[start..end].join("\n"), script));
        }
    }
    out
}

/// The README's CI examples pipe `run` into `tee`. A failed run must fail the job with the run's
/// own exit code: each step says `shell: bash` (GitHub then runs it with pipefail), and the script
/// itself sets pipefail, so it keeps the code under the default `bash -e` as well.
#[test]
fn the_readme_ci_examples_fail_the_job_with_the_exit_code_of_a_failed_run() {
    let steps = readme_ci_steps();
    assert!(
        steps.len() >= 2,
        "the README's CI examples were not found: {steps:#?}"
    );
    let sb = TestSandbox::start();
    sb.speed_up();
    // A run that refuses (exit 3): files2 exists, made by hand as another type.
    sb.cmd()
        .args(["service:create", "files2", "--type", "s3"])
        .expect(0)
        .any_stdout()
        .run();
    sb.cmd()
        .args(["changeset:commit"])
        .expect(0)
        .any_stdout()
        .run();
    let work = tempfile::tempdir().expect("temp dir");
    let bin = work.path().join("bin");
    std::fs::create_dir_all(work.path().join("plans")).expect("plans dir");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::os::unix::fs::symlink(common::BIN, bin.join("setops-migrate")).expect("link");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans/run/files-only.yaml");
    std::fs::copy(source, work.path().join("plans/upgrade.yaml")).expect("plan");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (n, (step, script)) in steps.iter().enumerate() {
        assert!(
            step.lines().any(|l| l.trim() == "shell: bash"),
            "README CI step {n} runs `setops-migrate run` without `shell: bash` (GitHub's default \
             shell has no pipefail):\n{step}"
        );
        let file = work.path().join(format!("step{n}.sh"));
        std::fs::write(&file, script).expect("script");
        // GitHub's shell when none is named: `bash -e {0}`.
        let ran = std::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-e"])
            .arg(&file)
            .current_dir(work.path())
            .env_clear()
            .env("PATH", &path)
            .env("HOME", work.path())
            .env("NO_COLOR", "1")
            .env("SETOPS_API_URL", &sb.url)
            .env("SETOPS_TOKEN", &sb.token)
            .output()
            .expect("bash runs");
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert_eq!(
            ran.status.code(),
            Some(3),
            "README CI step {n} did not keep the failed run's exit code 3:\n{script}\n--- stderr\n{stderr}"
        );
        assert!(
            stderr.contains("was not created by this plan"),
            "the run did not fail for the expected reason:\n{stderr}"
        );
    }
}

/// The commands a message offers to paste: each line that, indented, starts with
/// `setops-migrate `, split into words (the tests' paths hold no spaces).
fn offered_commands(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("setops-migrate "))
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// The offered command ending in `last`, run as pasted (the binary in place of `setops-migrate`).
#[track_caller]
fn paste(text: &str, last: &str) -> Cmd {
    let offered = offered_commands(text);
    let words = offered
        .iter()
        .find(|w| w.last().is_some_and(|l| l == last))
        .unwrap_or_else(|| panic!("no offered command ends in {last}:\n{text}"));
    Cmd::new().args(&words[1..])
}

/// A plan in its own temp dir, by absolute path, so the commands a message offers run anywhere.
fn plan_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = dir.path().join("upgrade.yaml");
    std::fs::write(&plan, text).expect("plan");
    (dir, plan)
}

const UPGRADE: &str = "version: 1\nproject: shop\nstage: production\nmigrations:\n  - source: \
                       database\n    target: database13\n    type: postgresql13\n    plan: \
                       db.t3.micro\n    backup: latest\n";

/// The newcomer's dead end: verify stops a run on a live source (exit 5); the plan switched to
/// `backup: fresh` and `--restart` must not restore on top of the half-filled target, and every
/// command the messages offer exists, carries the connection flags given, and runs as printed.
#[test]
fn a_live_source_stops_at_verify_and_every_way_on_runs_as_printed() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let sandbox = sb.dir.path().to_str().expect("utf-8 dir").to_owned();
    let (_dir, plan) = plan_file(UPGRADE);
    let plan_arg = plan.to_str().expect("utf-8 path");
    let as_user = || Cmd::new().args(["--sandbox", &sandbox, "run", plan_arg, "--yes"]);
    // The source is written to after its newest backup was made.
    let source = common::data::connection_url(&sb, "database");
    common::data::psql(
        &source,
        "INSERT INTO customers (email, name, country, created_at) \
         VALUES ('late@example.com', 'late', 'DE', now())",
    );
    let ran = as_user()
        .expect(5)
        .any_stdout()
        .stderr_has("table public.customers rows")
        .run();
    let offered = offered_commands(&ran.stderr);
    check(offered.len() >= 3, "fewer than three ways on", &ran);
    for words in &offered {
        check(
            words[1..3] == ["--sandbox".to_owned(), sandbox.clone()],
            &format!("{words:?} lacks the --sandbox flag the run was given"),
            &ran,
        );
    }
    check(
        ran.stderr.contains(&format!(
            "set `backup: fresh` for this migration in {plan_arg}"
        )),
        "the way on does not say to take a fresh backup",
        &ran,
    );
    // Looking at the target, as offered, works.
    paste(&ran.stderr, "database13")
        .expect(0)
        .stdout_has("Name:              database13")
        .run();

    // As the user did: the plan now takes a fresh backup, and the run starts over.
    std::fs::write(&plan, UPGRADE.replace("backup: latest", "backup: fresh")).expect("plan");
    let target = common::data::connection_url(&sb, "database13");
    let rows_before = common::data::psql(&target, "SELECT count(*) FROM customers");
    let backups_before = sb.backups("database13");
    let ran = as_user()
        .arg("--restart")
        .expect(3)
        .any_stdout()
        .stderr_has("cannot tell whether target database13 in shop/production already holds data")
        .run();
    check(
        sb.backups("database13") == backups_before,
        "the target's backups changed: something was uploaded or restored",
        &ran,
    );
    check(
        common::data::psql(&target, "SELECT count(*) FROM customers") == rows_before,
        "the target's rows changed",
        &ran,
    );
    check(
        !ran.stderr.contains("service:destroy"),
        "the way on is a building block instead of the run's own --recreate-target",
        &ran,
    );
    // The offered way on, pasted, reaches the end with the source's current rows.
    paste(&ran.stderr, "--recreate-target")
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    let target = common::data::connection_url(&sb, "database13");
    assert_eq!(
        common::data::psql(&target, "SELECT count(*) FROM customers"),
        common::data::psql(&source, "SELECT count(*) FROM customers"),
    );
    let web = sb.app_links("web");
    assert!(
        web.iter().any(|l| l["service"] == "database13"),
        "web was not relinked: {web:?}"
    );
}

/// A target made by hand with exactly this plan's configuration (`service:create` + commit, as
/// the README shows) is not taken for an earlier run's: the run stops before anything is
/// changed and offers `--adopt-target`, which then uses it. One whose copied backup schedule is
/// missing is refused for that reason.
#[test]
fn a_target_made_by_hand_is_used_only_when_adopted() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let sandbox = sb.dir.path().to_str().expect("utf-8 dir").to_owned();
    for name in ["scratch2", "files2"] {
        sb.cmd()
            .args(["service:create", name, "--type", "volume"])
            .expect(0)
            .any_stdout()
            .run();
    }
    sb.cmd()
        .args(["changeset:commit"])
        .expect(0)
        .any_stdout()
        .run();
    let before = Snapshot::take(&sb);
    let run_as_user = |plan: &Path| {
        Cmd::new().args([
            "--sandbox",
            &sandbox,
            "run",
            plan.to_str().expect("utf-8 path"),
            "--yes",
        ])
    };

    // scratch has no schedule, options or links: scratch2 matches the plan exactly.
    let (_dir, plan) = plan_file(
        "version: 1\nproject: shop\nstage: production\nmigrations:\n  - source: scratch\n    \
         target: scratch2\n",
    );
    let ran = run_as_user(&plan)
        .expect(3)
        .any_stdout()
        .stderr_has("target scratch2 exists in shop/production with this plan's configuration, but nothing shows that this plan created it")
        .stderr_has("Nothing was changed.")
        .run();
    assert_untouched(&sb, &before, &ran);
    check(
        sb.backups("scratch2").is_empty(),
        "something was uploaded to scratch2",
        &ran,
    );
    paste(&ran.stderr, "--adopt-target")
        .expect(0)
        .any_stdout()
        .stderr_has("adopted as asked (--adopt-target)")
        .run();
    assert_eq!(sb.backups("scratch2").len(), 1, "scratch2 holds no restore");

    // files has a backup schedule; files2 made by hand has none: refused, naming it.
    let (_dir, plan) = plan_file(
        "version: 1\nproject: shop\nstage: production\nmigrations:\n  - source: files\n    \
         target: files2\n",
    );
    let ran = run_as_user(&plan)
        .expect(3)
        .any_stdout()
        .stderr_has("target files2 exists in shop/production and was not created by this plan (its backup schedule (none) differs from the one this plan copies (03:00 UTC))")
        .run();
    check(
        offered_commands(&ran.stderr)
            .iter()
            .any(|w| w.last().is_some_and(|l| l == "--adopt-target") && w[2] == sandbox),
        "no pasteable --adopt-target with the --sandbox flag",
        &ran,
    );
    check(
        sb.backups("files2").is_empty(),
        "something was uploaded to files2",
        &ran,
    );
}

/// `run --dry-run` applies every guard the run applies before it changes anything, and exits
/// with the code the run would: a foreign command in the changeset, a target this plan did not
/// make, a plan changed since its journal. It never writes a journal or touches the platform.
#[test]
fn a_dry_run_exits_with_the_code_the_run_would_and_changes_nothing() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let (_dir, plan) = plan_copy("two-migrations.yaml");
    let services = sb.services();

    // Someone else's command is pending: both refuse with exit 3.
    sb.cmd()
        .args(["service:create", "other", "--type", "volume"])
        .expect(0)
        .any_stdout()
        .run();
    let pending = sb.json(&["changeset:info"]);
    let foreign = "already holds 1 command(s) this run did not stage";
    run(&sb, &plan, &["--dry-run"])
        .expect(3)
        .stdout_has("dry run, nothing will be changed")
        .stderr_has(foreign)
        .run();
    assert_eq!(sb.json(&["changeset:info"]), pending);
    assert_eq!(sb.services(), services);
    assert!(!state_dir_of(&plan).exists(), "the dry run wrote a journal");
    sb.cmd()
        .args(["changeset:discard"])
        .expect(0)
        .any_stdout()
        .run();

    // A target made by hand: exit 3 both ways; with --adopt-target the dry run goes ahead.
    sb.cmd()
        .args(["service:create", "files2", "--type", "volume"])
        .expect(0)
        .any_stdout()
        .run();
    sb.cmd()
        .args(["changeset:commit"])
        .expect(0)
        .any_stdout()
        .run();
    let before = Snapshot::take(&sb);
    let not_ours = "target files2 exists in shop/production and was not created by this plan";
    let dry = run(&sb, &plan, &["--dry-run"])
        .expect(3)
        .stdout_has("files -> files2  (target exists)")
        .stderr_has(not_ours)
        .run();
    assert_untouched(&sb, &before, &dry);
    run(&sb, &plan, &["--dry-run", "--adopt-target"])
        .expect(0)
        .stdout_has("dry run, nothing will be changed")
        .stderr_has("adopted as asked (--adopt-target)")
        .run();
    check(
        !state_dir_of(&plan).exists(),
        "a dry run wrote a journal",
        &dry,
    );
    let real = run(&sb, &plan, &["--yes"])
        .expect(3)
        .any_stdout()
        .stderr_has(not_ours)
        .run();
    assert_untouched(&sb, &before, &real);

    // The plan changed since the run its journal recorded: exit 3 both ways, naming --restart.
    let text = std::fs::read_to_string(&plan).expect("plan");
    std::fs::write(
        &plan,
        text.replace("wait_timeout: 10m", "wait_timeout: 20m"),
    )
    .expect("plan");
    let journal: Vec<_> = std::fs::read_dir(state_dir_of(&plan))
        .expect("state dir")
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).ok()))
        .collect();
    run(&sb, &plan, &["--dry-run", "--adopt-target"])
        .expect(3)
        .any_stdout()
        .stderr_has("changed since the run recorded in")
        .stderr_has("--restart")
        .run();
    let after: Vec<_> = std::fs::read_dir(state_dir_of(&plan))
        .expect("state dir")
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).ok()))
        .collect();
    assert_eq!(journal, after, "the dry run changed the state directory");
    run(&sb, &plan, &["--yes", "--adopt-target"])
        .expect(3)
        .any_stdout()
        .stderr_has("changed since the run recorded in")
        .run();
}

/// `run -o json`: every `failed` event says at which step the run stopped and why, as a code a
/// script can match: a verify failure and a preflight refusal as much as a platform error.
#[test]
fn failed_events_name_their_step_and_error_code() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let (_dir, plan) = plan_file(UPGRADE);
    let failed = |ran: &Ran| -> Vec<Value> {
        ran.json_lines()
            .into_iter()
            .filter(|e| e["phase"] == "failed")
            .collect()
    };

    // The source is written to after its newest backup: verify stops the run (exit 5).
    common::data::psql(
        &common::data::connection_url(&sb, "database"),
        "INSERT INTO customers (email, name, country, created_at) \
         VALUES ('late@example.com', 'late', 'DE', now())",
    );
    let ran = run(&sb, &plan, &["--yes", "-o", "json"])
        .expect(5)
        .any_stdout()
        .stderr_has("verification of database -> database13 failed")
        .run();
    let events = failed(&ran);
    check(
        events.iter().any(|e| {
            e["migration"] == "database13"
                && e["step"] == "verify"
                && e["error_code"] == "DataDiffers"
        }),
        &format!("no failed event with step verify and error_code DataDiffers: {events:?}"),
        &ran,
    );

    // Someone else's command is pending: preflight refuses (exit 3).
    sb.cmd()
        .args(["service:create", "other", "--type", "volume"])
        .expect(0)
        .any_stdout()
        .run();
    let (_dir, files) = plan_copy("files-only.yaml");
    let ran = run(&sb, &files, &["--yes", "-o", "json"])
        .expect(3)
        .any_stdout()
        .stderr_has("already holds 1 command(s) this run did not stage")
        .run();
    let events = failed(&ran);
    check(
        !events.is_empty()
            && events.iter().all(|e| {
                e["step"] == "preflight"
                    && e["error_code"] == "ForeignChangeset"
                    && e.get("request_id").is_none()
            }),
        &format!(
            "the failed event lacks step preflight and error_code ForeignChangeset: {events:?}"
        ),
        &ran,
    );
}
