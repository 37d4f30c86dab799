//! What the platform refuses, as the user sees it: forbidden state transitions, unknown names,
//! bad tokens and invalid names, each with its ServiceError code and request_id.

use setops_migrate::api::Faults;

use crate::common::{Cmd, TestSandbox, queued, restore_hint};
use crate::{assert_request_id, backups, changeset_json, entries, seeded_backup};

/// A backup of `service` that stays CREATING for a few seconds.
fn creating_backup(sb: &TestSandbox, service: &str) -> String {
    sb.faults(&Faults {
        backup_delay_ms: Some(3000),
        ..Faults::default()
    });
    let ran = sb
        .cmd()
        .args(["--service", service, "-o", "json", "backup:create"])
        .expect(0)
        .any_stdout()
        .run();
    let id = ran.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(ran.json()["status"], "CREATING");
    id
}

#[test]
fn a_creating_backup_cannot_be_restored_destroyed_or_downloaded() {
    let sb = TestSandbox::start();
    let id = creating_backup(&sb, "media");
    let cwd = tempfile::tempdir().expect("tempdir");
    for verb in ["backup:restore", "backup:destroy", "backup:download"] {
        let ran = sb
            .cmd()
            .current_dir(cwd.path())
            .args(["--service", "media", verb, &id])
            // No result printed.
            .expect(1)
            .stderr_has("BackupStateInvalid")
            .stderr_has("CREATING")
            .stderr_has(&id)
            .run();
        assert_request_id(&ran);
    }
    assert!(
        entries(cwd.path()).is_empty(),
        "a refused download leaves no file"
    );
    let still = backups(&sb, "media")
        .into_iter()
        .find(|b| b.id == id)
        .expect("still listed");
    assert_eq!(
        still.status, "CREATING",
        "a refused call changed the backup"
    );
}

#[test]
fn a_restoring_backup_cannot_be_destroyed_or_restored_again() {
    let sb = TestSandbox::start();
    let b = seeded_backup(&sb, "files");
    sb.faults(&Faults {
        restore_delay_ms: Some(3000),
        ..Faults::default()
    });
    sb.cmd()
        .args(["--service", "files", "backup:restore", &b.id])
        .expect(0)
        .stdout_has("RESTORING")
        .stderr(&restore_hint(&b.id))
        .run();
    for verb in ["backup:destroy", "backup:restore"] {
        let ran = sb
            .cmd()
            .args(["--service", "files", verb, &b.id])
            .expect(1)
            .stderr_has("BackupStateInvalid")
            .stderr_has("RESTORING")
            .run();
        assert_request_id(&ran);
    }
    let still = backups(&sb, "files")
        .into_iter()
        .find(|x| x.id == b.id)
        .expect("still listed");
    assert_eq!(still.status, "RESTORING");
}

#[test]
fn unknown_service_and_unknown_backup_name_the_code_and_request_id() {
    let sb = TestSandbox::start();
    let ran = sb
        .cmd()
        .args(["service:info", "nope"])
        .expect(1)
        .stderr_has("ServiceDoesNotExist")
        .stderr_has("\"nope\"")
        .run();
    assert_request_id(&ran);
    let ran = sb
        .cmd()
        .args(["--service", "nope", "backup"])
        .expect(1)
        .stderr_has("ServiceDoesNotExist")
        .run();
    assert_request_id(&ran);

    let missing = "00000000-0000-4000-8000-000000000000";
    for verb in ["backup:info", "backup:restore", "backup:destroy"] {
        let ran = sb
            .cmd()
            .args(["--service", "files", verb, missing])
            .expect(1)
            .stderr_has("CodeBackupNotFound")
            .stderr_has(missing)
            .run();
        assert_request_id(&ran);
    }
}

#[test]
fn a_missing_token_is_a_usage_error_naming_where_to_put_it() {
    // Nothing listens on port 1: the token is checked before any request is made.
    Cmd::new()
        .env("SETOPS_API_URL", "http://127.0.0.1:1")
        .args(["-p", "shop", "-s", "production", "service"])
        .expect(2)
        .stderr_has("SETOPS_TOKEN")
        .stderr_has("--token-file")
        .run();
}

#[test]
fn a_wrong_token_is_refused_with_session_invalid_and_never_echoed() {
    let sb = TestSandbox::start();
    let wrong = "wrong-token-0123456789abcdef";
    let ran = Cmd::new()
        .env("SETOPS_API_URL", &sb.url)
        .env("SETOPS_TOKEN", wrong)
        .args(["-p", "shop", "-s", "production", "service"])
        .expect(1)
        .stderr_has("SessionInvalid")
        .run();
    assert_request_id(&ran);
    assert!(
        !ran.stderr.contains(wrong),
        "the token was printed:\n{}",
        ran.stderr
    );
}

#[test]
fn a_token_file_is_read_instead_of_the_environment() {
    let sb = TestSandbox::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ci.token");
    std::fs::write(&file, format!("{}\n", sb.user_token("ci"))).expect("write");
    Cmd::new()
        .env("SETOPS_API_URL", &sb.url)
        .args(["-p", "shop", "-s", "production", "--token-file"])
        .arg(file.to_str().expect("utf-8"))
        .arg("service")
        .expect(0)
        .stdout_has("files")
        .run();
}

#[test]
fn invalid_names_and_env_keys_are_refused_before_any_request_naming_the_argument() {
    let sb = TestSandbox::start();
    // Something valid is pending first: a refused command must leave it exactly as it was.
    sb.cmd()
        .args(["service:create", "keep-me", "--type", "volume"])
        .expect(0)
        .stdout(&queued("service:create map[name:keep-me type:volume]", 1))
        .run();
    let pending = changeset_json(&sb);
    assert_eq!(pending["commands"].as_array().expect("commands").len(), 1);

    // Checked against SetOps' rules here, so the request is never made: the message names the
    // argument and the rule, and has no request_id.
    let cases: [(&[&str], &[&str]); 5] = [
        (
            &["service:create", "Bad_Name", "--type", "volume"],
            &["NAME: service name `Bad_Name`", "^[a-z][a-z0-9-]{2,17}$"],
        ),
        (
            &["--app", "web", "link:create", "media", "--env-key", "PORT"],
            &["--env-key: PORT is reserved by SetOps"],
        ),
        (
            &["--app", "web", "link:create", "media", "--env-key", "9X"],
            &["--env-key: env key `9X` is invalid"],
        ),
        (
            &["--service", "media", "option:set", "size", "10"],
            &["NAME: option `size` is not a SetOps service option"],
        ),
        (
            &["--service", "files", "backup:restore", "not-a-backup-id"],
            &["ID: backup ID `not-a-backup-id` is not a backup ID"],
        ),
    ];
    for (args, needles) in cases {
        let ran = needles
            .iter()
            .fold(sb.cmd().args(args).expect(2), |e, n| e.stderr_has(*n))
            .stderr_has("nothing was sent to the platform")
            .run();
        assert!(!ran.stderr.contains("request_id"), "{}", ran.stderr);
        assert_eq!(
            changeset_json(&sb),
            pending,
            "{args:?} changed the changeset"
        );
    }
}
