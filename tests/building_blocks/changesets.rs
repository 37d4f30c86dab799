//! Staging commands into the caller's changeset, showing, committing and discarding it, and the
//! changeset being private to each user.

use crate::common::{Cmd, TestSandbox, queued};
use crate::{changeset_json, parse_block, parse_table};

#[test]
fn staged_commands_are_shown_committed_and_applied() {
    let sb = TestSandbox::start();
    sb.cmd()
        .args(["changeset:info"])
        .expect(0)
        .stdout("Nothing is pending in your changeset of shop/production.\n")
        .run();

    sb.cmd()
        .args(["service:create", "uploads", "--type", "s3"])
        .expect(0)
        .stdout(&queued("service:create map[name:uploads type:s3]", 1))
        .run();
    sb.cmd()
        .args([
            "--service",
            "uploads",
            "option:set",
            "blockPublicAccess",
            "false",
        ])
        .expect(0)
        .stdout(&queued(
            "service:option:set map[option:blockPublicAccess service:uploads value:false]",
            2,
        ))
        .run();
    sb.cmd()
        .args([
            "--app",
            "worker",
            "link:create",
            "uploads",
            "--env-key",
            "UPLOADS_URL",
        ])
        .expect(0)
        .stdout(&queued(
            "app:link:create map[app:worker env_key:UPLOADS_URL read_only:false service:uploads]",
            3,
        ))
        .run();
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
        .expect(0)
        .stdout(&queued(
            "app:link:create map[app:worker path:/files read_only:true service:files]",
            4,
        ))
        .run();

    let ran = sb.cmd().arg("changeset:info").expect(0).any_stdout().run();
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

    let ran = sb
        .cmd()
        .arg("changeset:commit")
        .expect(0)
        .any_stdout()
        .run();
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
        .expect(0)
        .any_stdout()
        .run()
        .json();
    assert_eq!(info["type"], "s3");
    assert_eq!(info["options"]["blockPublicAccess"], "false");
    sb.cmd()
        .args(["service:info", "uploads"])
        .expect(0)
        .stdout_has("  -- worker   (UPLOADS_URL)")
        .run();
    sb.cmd()
        .args(["service:info", "files"])
        .expect(0)
        .stdout_has("-- worker   (/files, read-only)")
        .run();
    assert!(
        changeset_json(&sb).is_null(),
        "a committed changeset is gone"
    );
    sb.cmd()
        .args(["--app", "worker", "env"])
        .expect(0)
        .stdout_has("-- UPLOADS_URL=s3://")
        .stderr("credentials are masked; pass --show-secrets to see them\n")
        .run();
}

#[test]
fn commit_with_json_output_parses() {
    let sb = TestSandbox::start();
    let staged = sb
        .cmd()
        .args(["-o", "json", "service:create", "vol2", "--type", "volume"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    assert_eq!(staged["commands"][0]["name"], "service:create");
    let commit = sb
        .cmd()
        .args(["-o", "json", "changeset:commit"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    assert_eq!(commit["status"], "SUCCEEDED", "{commit}");
    assert_eq!(
        commit["commands"][0]["arguments"]["name"], "vol2",
        "{commit}"
    );
}

#[test]
fn discard_drops_everything_pending_and_nothing_pending_exits_78() {
    let sb = TestSandbox::start();
    sb.cmd()
        .args(["--app", "web", "link:destroy", "media"])
        .expect(0)
        .stdout(&queued("app:link:destroy map[app:web service:media]", 1))
        .run();
    sb.cmd()
        .args(["--service", "media", "option:unset", "blockPublicAccess"])
        .expect(0)
        .stdout(&queued(
            "service:option:unset map[option:blockPublicAccess service:media]",
            2,
        ))
        .run();
    let table = parse_table(
        sb.cmd()
            .arg("changeset:info")
            .expect(0)
            .any_stdout()
            .run()
            .stdout
            .split_once('\n')
            .expect("parts")
            .1,
    );
    let names: Vec<&str> = table.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");

    sb.cmd()
        .arg("changeset:discard")
        .expect(0)
        .stdout("Discarded your changeset of shop/production.\n")
        .run();
    assert!(changeset_json(&sb).is_null());
    // Nothing was applied: web keeps its link, media its option.
    sb.cmd()
        .args(["service:info", "media"])
        .expect(0)
        .stdout_has("-- web   (S3_DATA_URL)")
        .run();

    // Nothing pending: SetOps' own exit 78 (reference section 2.1), nothing on stdout.
    sb.cmd()
        .arg("changeset:discard")
        .expect(78)
        .stderr(
            "error: nothing to discard: your changeset of shop/production is empty \
             (ChangesetDoesNotExist); pass --ignore-not-exist to treat that as success\n",
        )
        .run();
    sb.cmd()
        .args(["changeset:discard", "--ignore-not-exist"])
        .expect(0)
        .stdout("Nothing was pending in shop/production.\n")
        .run();
    sb.cmd()
        .args(["-o", "json", "changeset:discard", "--ignore-not-exist"])
        .expect(0)
        .stdout("{\"discarded\":false}\n")
        .run();
    sb.cmd()
        .arg("changeset:commit")
        .expect(78)
        .stderr(
            "error: nothing to commit: your changeset of shop/production is empty \
             (ChangesetDoesNotExist)\n",
        )
        .run();
    sb.cmd()
        .args(["-o", "plain", "changeset:commit"])
        .expect(78)
        .stderr_has("ChangesetDoesNotExist")
        .run();
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
        .expect(0)
        .stdout(&queued("service:create map[name:demo-only type:volume]", 1))
        .run();

    as_ci()
        .arg("changeset:info")
        .expect(0)
        .stdout("Nothing is pending in your changeset of shop/production.\n")
        .run();
    as_ci()
        .args(["-o", "json", "changeset:info"])
        .expect(0)
        .stdout("null\n")
        .run();
    as_ci()
        .arg("changeset:commit")
        .expect(78)
        .stderr_has("ChangesetDoesNotExist")
        .run();
    as_ci()
        .arg("changeset:discard")
        .expect(78)
        .stderr_has("ChangesetDoesNotExist")
        .run();

    let mine = changeset_json(&sb);
    let commands = mine["commands"].as_array().expect("commands");
    assert_eq!(commands.len(), 1, "{mine}");
    assert_eq!(commands[0]["arguments"]["name"], "demo-only");
    sb.cmd()
        .args(["-o", "plain", "service"])
        .expect(0)
        .stdout("cache\ndatabase\nfiles\nmedia\nscratch\n")
        .run();

    // ci's own staging does not show up in demo's changeset either.
    as_ci()
        .args(["service:create", "ci-only", "--type", "volume"])
        .expect(0)
        .stdout(&queued("service:create map[name:ci-only type:volume]", 1))
        .run();
    assert_eq!(changeset_json(&sb), mine);
}
