//! Staging commands into the caller's changeset, showing, committing and discarding it, and the
//! changeset being private to each user.

use crate::common::{Cmd, TestSandbox};
use crate::{changeset_json, parse_block, parse_table};

#[test]
fn staged_commands_are_shown_committed_and_applied() {
    let sb = TestSandbox::start();
    sb.cmd()
        .args(["changeset:info"])
        .run()
        .ok()
        .stdout_has("Nothing is pending");

    sb.cmd()
        .args(["service:create", "uploads", "--type", "s3"])
        .run()
        .ok()
        .stdout_has("service:create")
        .stdout_has("(1 command(s) pending)");
    sb.cmd()
        .args([
            "--service",
            "uploads",
            "option:set",
            "blockPublicAccess",
            "false",
        ])
        .run()
        .ok();
    sb.cmd()
        .args([
            "--app",
            "worker",
            "link:create",
            "uploads",
            "--env-key",
            "UPLOADS_URL",
        ])
        .run()
        .ok();
    sb.cmd()
        .args([
            "--app",
            "worker",
            "link:create",
            "files",
            "--path",
            "/files",
            "--read-only",
        ])
        .run()
        .ok()
        .stdout_has("(4 command(s) pending)");

    let ran = sb.cmd().arg("changeset:info").run().ok().stderr_empty();
    let (head, table) = ran.stdout.split_once('\n').expect("two parts");
    let created = parse_block(head);
    assert_eq!(created[0].0, "Created At");
    let table = parse_table(table);
    assert_eq!(table.headers, ["NAME", "ARGUMENTS"]);
    assert_eq!(table.rows.len(), 4, "{}", ran.stdout);
    assert_eq!(table.rows[0][0], "service:create");
    assert!(table.rows[0][1].contains("name:uploads"), "{}", ran.stdout);
    assert!(
        table.rows[2][1].contains("env_key:UPLOADS_URL"),
        "{}",
        ran.stdout
    );

    let json = changeset_json(&sb);
    assert_eq!(json["commands"].as_array().expect("commands").len(), 4);

    let ran = sb.cmd().arg("changeset:commit").run().ok();
    let lines: Vec<&str> = ran.stdout.lines().collect();
    for phase in ["◢ Initializing…", "◤ Planning…"] {
        assert!(lines.contains(&phase), "no {phase:?}:\n{}", ran.stdout);
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("◣ Applying… (") && l.ends_with(')')),
        "{}",
        ran.stdout
    );
    assert_eq!(lines.last(), Some(&"Commit successful!"), "{}", ran.stdout);

    sb.cmd()
        .args(["-o", "plain", "service"])
        .expect(0)
        .stdout("cache\ndatabase\nfiles\nmedia\nscratch\nuploads\n")
        .run();
    let info = sb
        .cmd()
        .args(["-o", "json", "service:info", "uploads"])
        .run()
        .ok()
        .json();
    assert_eq!(info["type"], "s3");
    assert_eq!(info["options"]["blockPublicAccess"], "false");
    sb.cmd()
        .args(["service:info", "uploads"])
        .run()
        .ok()
        .stdout_has("  -- worker   (UPLOADS_URL)");
    sb.cmd()
        .args(["service:info", "files"])
        .run()
        .ok()
        .stdout_has("-- worker   (/files, read-only)");
    assert!(
        changeset_json(&sb).is_null(),
        "a committed changeset is gone"
    );
    sb.cmd()
        .args(["--app", "worker", "env"])
        .run()
        .ok()
        .stdout_has("-- UPLOADS_URL=s3://");
}

#[test]
fn commit_with_json_output_parses() {
    let sb = TestSandbox::start();
    let staged = sb
        .cmd()
        .args(["-o", "json", "service:create", "vol2", "--type", "volume"])
        .run()
        .ok()
        .json();
    assert_eq!(staged["commands"][0]["name"], "service:create");
    let commit = sb
        .cmd()
        .args(["-o", "json", "changeset:commit"])
        .run()
        .ok()
        .json();
    assert_eq!(commit["status"], "SUCCEEDED", "{commit}");
    assert_eq!(
        commit["commands"][0]["arguments"]["name"], "vol2",
        "{commit}"
    );
}

#[test]
fn discard_drops_everything_pending() {
    let sb = TestSandbox::start();
    sb.cmd()
        .args(["--app", "web", "link:destroy", "media"])
        .run()
        .ok();
    sb.cmd()
        .args(["--service", "media", "option:unset", "blockPublicAccess"])
        .run()
        .ok();
    let table = parse_table(
        sb.cmd()
            .arg("changeset:info")
            .run()
            .ok()
            .stdout
            .split_once('\n')
            .expect("parts")
            .1,
    );
    let names: Vec<&str> = table.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");

    sb.cmd()
        .arg("changeset:discard")
        .run()
        .ok()
        .stdout_has("Discarded");
    assert!(changeset_json(&sb).is_null());
    // Nothing was applied: web keeps its link, media its option.
    sb.cmd()
        .args(["service:info", "media"])
        .run()
        .ok()
        .stdout_has("-- web   (S3_DATA_URL)");

    sb.cmd()
        .arg("changeset:discard")
        .run()
        .status(2)
        .stderr_has("--ignore-not-exist");
    sb.cmd()
        .args(["changeset:discard", "--ignore-not-exist"])
        .run()
        .ok();
    sb.cmd()
        .args(["-o", "json", "changeset:discard", "--ignore-not-exist"])
        .expect(0)
        .stdout("{\"discarded\":false}\n")
        .run();
    sb.cmd()
        .arg("changeset:commit")
        .run()
        .status(2)
        .stderr_has("ChangesetDoesNotExist");
}

#[test]
fn a_users_changeset_is_invisible_to_another_user() {
    let sb = TestSandbox::start();
    let as_ci = || {
        Cmd::new()
            .env("SETOPS_API_URL", &sb.url)
            .env("SETOPS_TOKEN", sb.user_token("ci"))
            .args(["-p", "shop", "-s", "production"])
    };
    sb.cmd()
        .args(["service:create", "demo-only", "--type", "volume"])
        .run()
        .ok();

    as_ci()
        .arg("changeset:info")
        .run()
        .ok()
        .stdout_has("Nothing is pending");
    assert!(
        as_ci()
            .args(["-o", "json", "changeset:info"])
            .run()
            .ok()
            .json()
            .is_null()
    );
    as_ci()
        .arg("changeset:commit")
        .run()
        .status(2)
        .stderr_has("ChangesetDoesNotExist");
    as_ci().arg("changeset:discard").run().status(2);

    let mine = changeset_json(&sb);
    let commands = mine["commands"].as_array().expect("commands");
    assert_eq!(commands.len(), 1, "{mine}");
    assert_eq!(commands[0]["arguments"]["name"], "demo-only");
    sb.cmd()
        .args(["-o", "plain", "service"])
        .run()
        .ok()
        .stdout_is("cache\ndatabase\nfiles\nmedia\nscratch\n");

    // ci's own staging does not show up in demo's changeset either.
    as_ci()
        .args(["service:create", "ci-only", "--type", "volume"])
        .run()
        .ok();
    assert_eq!(changeset_json(&sb), mine);
}
