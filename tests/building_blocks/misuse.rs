//! Command-line misuse: every case exits 2 with a message naming the flag or argument, leaves no
//! file behind in the working directory and changes nothing on the platform.

use crate::common::{Cmd, TestSandbox, queued};
use crate::{backups, changeset_json, entries};

/// What the platform looks like, to prove a failed command changed nothing.
fn snapshot(sb: &TestSandbox) -> (String, String, String, serde_json::Value) {
    let services = sb
        .cmd()
        .args(["-o", "json", "service"])
        .expect(0)
        .any_stdout()
        .run()
        .stdout;
    let ids = |service: &str| {
        backups(sb, service)
            .iter()
            .map(|b| format!("{} {}", b.id, b.status))
            .collect::<Vec<_>>()
            .join(",")
    };
    (services, ids("scratch"), ids("files"), changeset_json(sb))
}

#[test]
fn every_misuse_exits_2_names_the_flag_and_changes_nothing() {
    let sb = TestSandbox::start();
    let cwd = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(cwd.path().join("a-directory")).expect("mkdir");
    let before = snapshot(&sb);

    let cases: [(&[&str], &[&str]); 8] = [
        (&["--bogus", "service"], &["--bogus"]),
        (&["--service", "files", "backup:download"], &["<ID>"]),
        (&["backup"], &["--service"]),
        (&["link"], &["--app"]),
        (&["-o", "xml", "service"], &["--output", "xml"]),
        (&["--app", "web", "link:create", "files"], &["--env-key"]),
        (
            &["--service", "scratch", "backup:upload", "missing.tar.gz"],
            &["missing.tar.gz"],
        ),
        (
            &["--service", "scratch", "backup:upload", "a-directory"],
            &["a-directory"],
        ),
    ];
    for (args, named) in cases {
        let expectation = sb.cmd().current_dir(cwd.path()).args(args).expect(2);
        named
            .iter()
            .fold(expectation, |e, needle| e.stderr_has(*needle))
            .run();
        assert_eq!(
            entries(cwd.path()),
            ["a-directory"],
            "{args:?} left a file behind"
        );
    }
    assert_eq!(
        snapshot(&sb),
        before,
        "a failed command changed the platform"
    );
}

#[test]
fn a_missing_project_or_stage_is_named() {
    // Nothing listens on port 1: the scope is checked before any request is made.
    let bare = || {
        Cmd::new()
            .env("SETOPS_API_URL", "http://127.0.0.1:1")
            .env("SETOPS_TOKEN", "unused")
    };
    bare()
        .args(["-s", "production", "service"])
        .expect(2)
        .stderr_has("-p/--project")
        .run();
    bare()
        .args(["-p", "shop", "service"])
        .expect(2)
        .stderr_has("-s/--stage")
        .run();
}

#[test]
fn a_missing_platform_is_a_usage_error_naming_the_choices() {
    Cmd::new()
        .env("SETOPS_TOKEN", "unused")
        .args(["-p", "shop", "-s", "production", "service"])
        .expect(2)
        .stderr_has("--sandbox")
        .stderr_has("--api")
        .run();
}

#[test]
fn a_rejected_service_create_leaves_the_changeset_as_it_was() {
    let sb = TestSandbox::start();
    assert!(changeset_json(&sb).is_null());
    sb.cmd()
        .args(["service:create", "x", "--type", "volume"])
        .expect(2)
        .stderr_has("NAME: service name `x` is too short")
        .run();
    assert!(
        changeset_json(&sb).is_null(),
        "a refused command created a changeset"
    );
    sb.cmd()
        .args(["service:create", "fine-name", "--type", "nosuchtype"])
        .expect(2)
        .stderr_has("--type: unknown service type `nosuchtype`")
        .run();
    assert!(changeset_json(&sb).is_null());
}

#[test]
fn a_commit_refused_for_a_taken_name_applies_nothing_and_keeps_the_changeset() {
    let sb = TestSandbox::start();
    // Name collisions are a commit-time rule (ChangesetInvalid), as in SetOps.
    sb.cmd()
        .args(["service:create", "files", "--type", "volume"])
        .expect(0)
        .stdout(&queued("service:create map[name:files type:volume]", 1))
        .run();
    sb.cmd()
        .args(["service:create", "second", "--type", "volume"])
        .expect(0)
        .stdout(&queued("service:create map[name:second type:volume]", 2))
        .run();
    let pending = changeset_json(&sb);
    let services = sb
        .cmd()
        .args(["-o", "json", "service"])
        .expect(0)
        .any_stdout()
        .run()
        .stdout;
    // The pending changeset is shown before the refusal.
    let ran = sb
        .cmd()
        .arg("changeset:commit")
        .expect(2)
        .any_stdout()
        .stderr_has("ChangesetInvalid")
        .stderr_has("commands[0].name: taken")
        .run();
    crate::assert_request_id(&ran);
    assert!(!ran.stdout.contains("Commit successful!"), "{}", ran.stdout);
    assert_eq!(
        changeset_json(&sb),
        pending,
        "the refused changeset is kept for fixing"
    );
    assert_eq!(
        sb.cmd()
            .args(["-o", "json", "service"])
            .expect(0)
            .any_stdout()
            .run()
            .stdout,
        services,
        "nothing was applied"
    );
}

#[test]
fn read_only_without_path_is_a_usage_error_naming_both_flags() {
    let sb = TestSandbox::start();
    let before = snapshot(&sb);
    // `--read-only` only means something for a mount (`--path`); with `--env-key` it is a
    // command-line mistake the tool itself should name, before asking the platform.
    sb.cmd()
        .args([
            "--app",
            "web",
            "link:create",
            "media",
            "--env-key",
            "DATA_URL",
            "--read-only",
        ])
        .expect(2)
        .stderr_has("--read-only")
        .stderr_has("--path")
        .run();
    assert_eq!(
        snapshot(&sb),
        before,
        "a failed command changed the platform"
    );
}
