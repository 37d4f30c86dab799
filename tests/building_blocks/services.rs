//! `service`, `service:info`, `link` and `env` against the demo world.

use crate::common::{TestSandbox, queued};
use crate::{parse_block, parse_table};

#[test]
fn service_lists_the_demo_services_in_a_name_table() {
    let sb = TestSandbox::start();
    let ran = sb.cmd().arg("service").expect(0).any_stdout().run();
    let table = parse_table(&ran.stdout);
    assert_eq!(table.headers, ["NAME"]);
    let names: Vec<&str> = table.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["cache", "database", "files", "media", "scratch"]);

    sb.cmd()
        .args(["-o", "plain", "service"])
        .expect(0)
        .stdout("cache\ndatabase\nfiles\nmedia\nscratch\n")
        .run();

    let json = sb
        .cmd()
        .args(["-o", "json", "service"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let names: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["cache", "database", "files", "media", "scratch"]);
}

/// A restarted sandbox serves the state it kept in its directory, with the same token.
#[test]
fn a_restarted_sandbox_serves_the_same_services_with_the_same_token() {
    let mut sb = TestSandbox::start();
    let before = sb
        .cmd()
        .args(["-o", "plain", "service"])
        .expect(0)
        .any_stdout()
        .run()
        .stdout;
    let (url, token) = (sb.url.clone(), sb.token.clone());
    sb.restart();
    assert_eq!(sb.token, token);
    assert!(sb.url.starts_with("http://127.0.0.1:"), "{}", sb.url);
    let ran = sb
        .cmd()
        .args(["-o", "plain", "service"])
        .expect(0)
        .any_stdout()
        .run();
    assert_eq!(ran.stdout, before, "served from {url} before the restart");
}

/// `Label:   value` fields in order.
type Fields = Vec<(String, String)>;
/// `Heading:` followed by its `-- item` lines.
type Lists = Vec<(String, Vec<String>)>;

/// The `Name/Type/Plan` fields of a `service:info` block, and its `-- ` list lines by heading.
fn service_info(stdout: &str) -> (Fields, Lists) {
    let lines: Vec<&str> = stdout.lines().collect();
    let first_list = lines
        .iter()
        .position(|l| l.ends_with(':') && !l.starts_with(' '))
        .expect("a list heading such as `Links:`");
    let fields = parse_block(&lines[..first_list].join("\n"));
    let mut lists: Lists = Vec::new();
    for line in &lines[first_list..] {
        if let Some(heading) = line.strip_suffix(':').filter(|_| !line.starts_with(' ')) {
            lists.push((heading.to_owned(), Vec::new()));
        } else if let Some(item) = line.trim_start().strip_prefix("-- ") {
            lists.last_mut().expect("a heading").1.push(item.to_owned());
        }
    }
    (fields, lists)
}

fn field<'a>(fields: &'a [(String, String)], label: &str) -> &'a str {
    &fields
        .iter()
        .find(|(l, _)| l == label)
        .unwrap_or_else(|| panic!("no {label:?} field"))
        .1
}

fn list<'a>(lists: &'a [(String, Vec<String>)], heading: &str) -> &'a [String] {
    &lists
        .iter()
        .find(|(h, _)| h == heading)
        .unwrap_or_else(|| panic!("no {heading:?} list"))
        .1
}

#[test]
fn service_info_shows_name_type_plan_links_and_options() {
    let sb = TestSandbox::start();
    let ran = sb
        .cmd()
        .args(["service:info", "files"])
        .expect(0)
        .any_stdout()
        .run();
    let (fields, lists) = service_info(&ran.stdout);
    let labels: Vec<&str> = fields.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(&labels[..3], ["Name", "Type", "Plan"], "{}", ran.stdout);
    assert_eq!(field(&fields, "Name"), "files");
    assert_eq!(field(&fields, "Type"), "volume");
    assert_eq!(list(&lists, "Links"), ["web   (/data)"], "{}", ran.stdout);
    assert!(list(&lists, "Options").is_empty(), "{}", ran.stdout);
    assert!(
        field(&fields, "Backup Schedule").contains("03:00"),
        "{}",
        ran.stdout
    );

    let ran = sb
        .cmd()
        .args(["service:info", "media"])
        .expect(0)
        .any_stdout()
        .run();
    let (fields, lists) = service_info(&ran.stdout);
    assert_eq!(field(&fields, "Type"), "s3");
    assert_eq!(
        list(&lists, "Links"),
        ["web   (S3_DATA_URL)"],
        "{}",
        ran.stdout
    );
    assert_eq!(
        list(&lists, "Options"),
        ["blockPublicAccess   true"],
        "{}",
        ran.stdout
    );

    let json = sb
        .cmd()
        .args(["-o", "json", "service:info", "media"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    assert_eq!(json["name"], "media");
    assert_eq!(json["type"], "s3");
    assert_eq!(json["options"]["blockPublicAccess"], "true");
    assert_eq!(json["links"][0]["app"], "web");
    assert_eq!(json["links"][0]["env_key"], "S3_DATA_URL");
}

#[test]
fn link_lists_the_services_an_app_is_linked_to() {
    let sb = TestSandbox::start();
    let ran = sb
        .cmd()
        .args(["--app", "web", "link"])
        .expect(0)
        .any_stdout()
        .run();
    let table = parse_table(&ran.stdout);
    assert_eq!(table.headers[0], "SERVICE");
    let files = table
        .rows
        .iter()
        .find(|r| r[0] == "files")
        .expect("files row");
    assert!(files.contains(&"/data".to_owned()), "{}", ran.stdout);
    let media = table
        .rows
        .iter()
        .find(|r| r[0] == "media")
        .expect("media row");
    assert!(media.contains(&"S3_DATA_URL".to_owned()), "{}", ran.stdout);
    let database = table
        .rows
        .iter()
        .find(|r| r[0] == "database")
        .expect("database row");
    assert!(
        database.contains(&"DATABASE_URL".to_owned()),
        "{}",
        ran.stdout
    );
    assert_eq!(table.rows.len(), 3, "{}", ran.stdout);

    let json = sb
        .cmd()
        .args(["--app", "web", "-o", "json", "link"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let links = json.as_array().expect("array");
    assert_eq!(links.len(), 3);
    assert!(
        links
            .iter()
            .any(|l| l["service"] == "files" && l["path"] == "/data")
    );
    assert!(
        links
            .iter()
            .any(|l| l["service"] == "media" && l["env_key"] == "S3_DATA_URL")
    );

    let json = sb
        .cmd()
        .args(["--app", "worker", "-o", "json", "link"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let mut worker: Vec<(String, String)> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|l| {
            (
                l["service"].as_str().unwrap_or("").to_owned(),
                l["env_key"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    worker.sort();
    assert_eq!(
        worker,
        [
            ("cache".to_owned(), "REDIS_URL".to_owned()),
            ("database".to_owned(), "DATABASE_URL".to_owned())
        ]
    );
}

#[test]
fn env_shows_what_an_app_receives_with_credentials_masked() {
    let sb = TestSandbox::start();
    let ran = sb
        .cmd()
        .args(["--app", "web", "env"])
        .expect(0)
        .any_stdout()
        .stderr("credentials are masked; pass --show-secrets to see them\n")
        .run();
    let line = ran
        .stdout
        .lines()
        .find(|l| l.starts_with("-- S3_DATA_URL=s3://"))
        .unwrap_or_else(|| panic!("no S3_DATA_URL line:\n{}", ran.stdout));
    assert!(
        line.contains(":***@"),
        "the secret key is not masked: {line}"
    );

    let json = sb
        .cmd()
        .args(["--app", "web", "-o", "json", "env"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let url = json["S3_DATA_URL"].as_str().expect("S3_DATA_URL");
    assert!(url.starts_with("s3://") && url.contains(":***@"), "{url}");
}

/// `service:destroy` is staged like every stage change and takes effect at the commit; a service
/// any app links is refused before anything is staged, with the apps named.
#[test]
fn service_destroy_is_staged_committed_and_refused_for_a_linked_service() {
    let sb = TestSandbox::start();
    sb.speed_up();
    sb.cmd()
        .args(["service:destroy", "files"])
        .expect(2)
        .stderr_has("service files in shop/production is linked by web (/data)")
        .run();
    assert!(sb.json(&["changeset:info"]).is_null(), "nothing was staged");

    sb.cmd()
        .args(["service:destroy", "scratch"])
        .expect(0)
        .stdout_has("Queued service:destroy")
        .run();
    assert!(
        sb.services().contains_key("scratch"),
        "not gone before the commit"
    );
    sb.cmd()
        .args(["changeset:commit"])
        .expect(0)
        .stdout_has("Commit successful!")
        .run();
    assert!(
        !sb.services().contains_key("scratch"),
        "gone after the commit"
    );

    sb.cmd()
        .args(["service:destroy", "nosuch"])
        .expect(1)
        .stderr_has("ServiceDoesNotExist")
        .run();
}

/// `backup:schedule --hour H... [--weekday D...]` and `backup:unschedule` (reference section
/// 2.2) are staged like every stage change and show in `service:info` after the commit.
#[test]
fn backup_schedule_and_unschedule_are_staged_and_committed() {
    let sb = TestSandbox::start();
    sb.speed_up();
    sb.cmd()
        .args([
            "--service",
            "scratch",
            "backup:schedule",
            "--hour",
            "3",
            "--hour",
            "15",
            "--weekday",
            "monday",
            "--day",
            "FRI",
        ])
        .expect(0)
        .stdout(&queued(
            "service:backup:schedule map[hours:[3 15] service:scratch weekdays:[Mon Fri]]",
            1,
        ))
        .run();
    let schedule = |sb: &TestSandbox| {
        let ran = sb
            .cmd()
            .args(["service:info", "scratch"])
            .expect(0)
            .any_stdout()
            .run();
        field(&service_info(&ran.stdout).0, "Backup Schedule").to_owned()
    };
    assert_eq!(schedule(&sb), "none", "not before the commit");
    sb.cmd()
        .arg("changeset:commit")
        .expect(0)
        .stdout_has("Commit successful!")
        .run();
    assert_eq!(schedule(&sb), "03:00, 15:00 UTC, Mon, Fri");
    sb.cmd()
        .args(["-o", "plain", "service:info", "scratch"])
        .expect(0)
        .stdout("scratch\tvolume\t-\t03:00, 15:00 UTC, Mon, Fri\n")
        .run();

    sb.cmd()
        .args(["--service", "scratch", "backup:unschedule"])
        .expect(0)
        .stdout(&queued("service:backup:unschedule map[service:scratch]", 1))
        .run();
    sb.cmd()
        .arg("changeset:commit")
        .expect(0)
        .stdout_has("Commit successful!")
        .run();
    assert_eq!(schedule(&sb), "none");

    // Refused before anything is staged, naming the flag.
    sb.cmd()
        .args(["--service", "scratch", "backup:schedule", "--hour", "24"])
        .expect(2)
        .stderr_has("--hour")
        .stderr_has("0..=23")
        .run();
    sb.cmd()
        .args(["--service", "scratch", "backup:schedule"])
        .expect(2)
        .stderr_has("--hour <H>")
        .run();
    sb.cmd()
        .args([
            "--service",
            "scratch",
            "backup:schedule",
            "--hour",
            "3",
            "--weekday",
            "funday",
        ])
        .expect(2)
        .stderr(
            "error: --weekday: `funday` is not a weekday; use one of Mon, Tue, Wed, Thu, Fri, \
             Sat, Sun (or the full name); nothing was sent to the platform\n",
        )
        .run();
    assert!(sb.json(&["changeset:info"]).is_null(), "nothing was staged");
}

/// `--service NAME option` (reference section 2.2) lists the committed options.
#[test]
fn option_lists_the_options_of_a_service() {
    let sb = TestSandbox::start();
    let ran = sb
        .cmd()
        .args(["--service", "database", "option"])
        .expect(0)
        .any_stdout()
        .run();
    let table = parse_table(&ran.stdout);
    assert_eq!(table.headers, ["NAME", "VALUE"]);
    assert_eq!(table.rows, [["extensions", "citext"]]);
    sb.cmd()
        .args(["--service", "media", "-o", "plain", "option"])
        .expect(0)
        .stdout("blockPublicAccess\ttrue\n")
        .run();
    sb.cmd()
        .args(["--service", "media", "-o", "json", "option"])
        .expect(0)
        .stdout("{\"blockPublicAccess\":\"true\"}\n")
        .run();
    sb.cmd()
        .args(["--service", "files", "-o", "plain", "option"])
        .expect(0)
        .run();
    sb.cmd()
        .arg("option")
        .expect(2)
        .stderr_has("missing --service NAME")
        .run();
}

/// A new s3 service has the documented default `blockPublicAccess: true` (reference section 4);
/// unsetting the option returns it to that default.
#[test]
fn a_new_s3_service_blocks_public_access_by_default() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let options = |sb: &TestSandbox| {
        sb.cmd()
            .args(["--service", "uploads", "-o", "plain", "option"])
            .expect(0)
            .any_stdout()
            .run()
            .stdout
    };
    let commit = |sb: &TestSandbox| {
        sb.cmd()
            .arg("changeset:commit")
            .expect(0)
            .stdout_has("Commit successful!")
            .run();
    };
    sb.cmd()
        .args(["service:create", "uploads", "--type", "s3"])
        .expect(0)
        .stdout(&queued("service:create map[name:uploads type:s3]", 1))
        .run();
    commit(&sb);
    assert_eq!(options(&sb), "blockPublicAccess\ttrue\n");
    let ran = sb
        .cmd()
        .args(["service:info", "uploads"])
        .expect(0)
        .any_stdout()
        .run();
    assert_eq!(
        list(&service_info(&ran.stdout).1, "Options"),
        ["blockPublicAccess   true"]
    );

    sb.cmd()
        .args([
            "--service",
            "uploads",
            "option:set",
            "blockPublicAccess",
            "false",
        ])
        .expect(0)
        .any_stdout()
        .run();
    commit(&sb);
    assert_eq!(options(&sb), "blockPublicAccess\tfalse\n");
    sb.cmd()
        .args(["--service", "uploads", "option:unset", "blockPublicAccess"])
        .expect(0)
        .any_stdout()
        .run();
    commit(&sb);
    assert_eq!(
        options(&sb),
        "blockPublicAccess\ttrue\n",
        "back to the default"
    );
}
