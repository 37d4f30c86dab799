//! The sandbox's `setops`-compatible front, through the real binary called as `setops` (a
//! symlink): every documented command of CLI 1.4.1 and 2.3.4, outputs compared with the shapes
//! the Backup & Restore document prints (IDs, timestamps and sizes masked), exit 78 for an empty
//! changeset, a download/upload round trip, sessions, and no token in any output.

mod common;

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use regex::Regex;

const V1: &str = "1.4.1";
const V2: &str = "2.3.4";
const SCOPE: [&str; 4] = ["-p", "shop", "-s", "production"];

/// A sandbox served in-process (it writes `DIR/server.json`, so the front connects to it as
/// `--sandbox DIR` would); a `setops` symlink;
/// and a working directory that is also HOME (where a login keeps its session).
struct Front {
    sb: TestSandbox,
    bin: tempfile::TempDir,
    work: tempfile::TempDir,
}

impl Front {
    fn start() -> Front {
        let sb = TestSandbox::start();
        let bin = tempfile::tempdir().expect("temp dir");
        std::os::unix::fs::symlink(BIN, bin.path().join("setops")).expect("setops symlink");
        let front = Front {
            sb,
            bin,
            work: tempfile::tempdir().expect("temp dir"),
        };
        front.publish();
        front
    }

    /// Speeds the sandbox's jobs up (the server wrote `DIR/server.json` itself when it started).
    fn publish(&self) {
        self.sb.speed_up();
    }

    /// The sandbox restarted on another port, as a restarted platform would be.
    fn restart(&mut self) {
        self.sb.restart();
        self.publish();
    }

    fn work(&self) -> &Path {
        self.work.path()
    }

    /// `setops` of `generation` in the working directory, with no scope flags.
    fn bare(&self, generation: &str) -> Cmd {
        Cmd::new()
            .program(self.bin.path().join("setops"))
            .env(
                "SETOPS_SANDBOX_DIR",
                self.sb.dir.path().display().to_string(),
            )
            .env("SETOPS_SANDBOX_CLI_VERSION", generation)
            .current_dir(self.work())
    }

    /// `setops -p shop -s production ARGS` of `generation`.
    fn cmd(&self, generation: &str, args: &[&str]) -> Cmd {
        self.bare(generation).args(SCOPE).args(args)
    }

    /// Runs and checks that no user token, and no pre-signed URL unless asked for, was printed.
    fn run(&self, expectation: Expectation, print_url: bool) -> Ran {
        let ran = expectation.run();
        self.assert_no_secret(&ran, print_url);
        ran
    }

    fn ok(&self, generation: &str, args: &[&str]) -> Ran {
        self.run(self.cmd(generation, args).expect(0).any_stdout(), false)
    }

    fn fails(&self, generation: &str, args: &[&str], status: i32) -> Ran {
        self.run(
            self.cmd(generation, args).expect(status).any_stderr(),
            false,
        )
    }

    fn assert_no_secret(&self, ran: &Ran, print_url: bool) {
        for user in ["demo", "ci"] {
            let token = self.sb.user_token(user);
            for (name, text) in [("stdout", &ran.stdout), ("stderr", &ran.stderr)] {
                assert!(
                    !text.contains(&token),
                    "{name} shows {user}'s token:\n{text}"
                );
            }
        }
        if !print_url {
            assert!(
                !ran.stdout.contains("/transfer/") && !ran.stderr.contains("/transfer/"),
                "a pre-signed URL was printed:\n{}\n{}",
                ran.stdout,
                ran.stderr
            );
        }
    }

    fn instance(&self) -> String {
        let health: serde_json::Value =
            reqwest::blocking::get(format!("{}/api/v1/health", self.sb.url))
                .expect("health")
                .json()
                .expect("health JSON");
        health["instance"].as_str().expect("instance").to_owned()
    }

    /// Rows of `backup` for a service: (id, status).
    fn backups(&self, service: &str) -> Vec<(String, String)> {
        let out = self.ok(V2, &["--service", service, "backup"]).stdout;
        out.lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                (cells.len() == 6 && uuid_re().is_match(cells[1]))
                    .then(|| (cells[1].to_owned(), cells[2].to_owned()))
            })
            .collect()
    }

    /// The ID of a CREATED backup of `service`.
    fn created_backup(&self, service: &str) -> String {
        self.backups(service)
            .into_iter()
            .find(|(_, status)| status == "CREATED")
            .unwrap_or_else(|| panic!("{service} has a CREATED backup"))
            .0
    }

    fn wait_until_not(&self, service: &str, id: &str, status: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self
            .backups(service)
            .iter()
            .any(|(b, s)| b == id && s == status)
        {
            assert!(Instant::now() < deadline, "{id} stays {status}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Checks on a run's output, after its exit code was checked by [`Cmd::expect`].
trait Shows: Sized {
    fn stdout_has(self, needle: &str) -> Self;
    fn stderr_has(self, needle: &str) -> Self;
    fn stdout_is(self, expected: &str) -> Self;
}

impl Shows for Ran {
    #[track_caller]
    fn stdout_has(self, needle: &str) -> Ran {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    fn stderr_has(self, needle: &str) -> Ran {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    fn stdout_is(self, expected: &str) -> Ran {
        assert_eq!(self.stdout, expected, "stdout\n--- stderr\n{}", self.stderr);
        self
    }
}

fn uuid_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap()
    })
}

/// The shape of an output: IDs, timestamps, sizes and backup file extensions masked, runs of
/// spaces and dashes shortened (their widths depend on the masked values; [`assert_aligned`]
/// checks them).
fn shape(text: &str) -> String {
    static MASKS: OnceLock<Vec<(Regex, &str)>> = OnceLock::new();
    let masks = MASKS.get_or_init(|| {
        vec![
            (uuid_re().clone(), "<id>"),
            (
                Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap(),
                "<ts>",
            ),
            (Regex::new(r"\d+(\.\d+)? [kMG]?B\b").unwrap(), "<size>"),
            (
                Regex::new(r"\.(psqlcustom|tar\.gz|rdb)\b").unwrap(),
                ".<ext>",
            ),
            (Regex::new(r"-{2,}").unwrap(), "-"),
            (Regex::new(r" {2,}").unwrap(), " "),
        ]
    });
    let mut text = text.to_owned();
    for (re, with) in masks {
        text = re.replace_all(&text, *with).into_owned();
    }
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Tables: every line as wide as the border. Blocks: every value in one column.
fn assert_aligned(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    let width = |l: &str| l.chars().count();
    let table: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with('+') || l.starts_with('|'))
        .collect();
    if let Some(first) = table.first() {
        assert!(
            table.iter().all(|l| width(l) == width(first)),
            "table lines differ in width:\n{text}"
        );
    }
    let field = Regex::new(r"^([A-Za-z][A-Za-z -]*:)( +)\S").unwrap();
    let columns: Vec<usize> = lines
        .iter()
        .filter_map(|l| field.captures(l))
        .map(|c| c[1].len() + c[2].len())
        .collect();
    assert!(
        columns.windows(2).all(|w| w[0] == w[1]),
        "block values are not in one column:\n{text}"
    );
}

/// `output` has the documented shape `doc` (verbatim from the Backup & Restore document).
fn assert_documented(output: &str, doc: &str) {
    assert_aligned(output);
    assert_eq!(shape(output), shape(doc), "output:\n{output}");
}

const DOC_BACKUP_LIST: &str = "\
+--------------------------------------+---------+----------------------+----------+
|                  ID                  | STATUS  |      CREATED AT      |   SIZE   |
+--------------------------------------+---------+----------------------+----------+
| e3e7ccb5-26ff-4946-ad5f-9c97118d77a3 | CREATED | 2021-07-15T16:01:53Z | 139.3 kB |
+--------------------------------------+---------+----------------------+----------+
";

const DOC_BACKUP_CREATE: &str = "\
ID:       badbbc84-911b-4eb0-89be-bfc3cea5c6ff
Status:   CREATING
";

const DOC_BACKUP_RESTORE: &str = "\
ID:           e3e7ccb5-26ff-4946-ad5f-9c97118d77a3
Status:       RESTORING
Created At:   2021-04-03T09:41:38Z
Size:         150.8 kB
";

const DOC_BACKUP_DOWNLOAD: &str = "\
ID:           0b10bc93-5ae7-40ef-ba40-e5110ad2d467
Status:       CREATED
Created At:   2021-04-03T10:55:53Z
Size:         150.8 kB

✅  0b10bc93-5ae7-40ef-ba40-e5110ad2d467.psqlcustom completed (150.8 kB) with ID 0b10bc93-5ae7-40ef-ba40-e5110ad2d467
";

const DOC_BACKUP_DESTROY: &str = "\
ID:           0b10bc93-5ae7-40ef-ba40-e5110ad2d467
Status:       CREATED
Created At:   2021-04-02T10:21:00Z
Size:         150.8 kB
";

/// `Error: <what> (code: <Code>, request_id: <8 chars>)`.
fn assert_platform_error(ran: &Ran, code: &str) {
    let re = Regex::new(&format!(
        r"^Error: .+ \(code: {code}, request_id: [A-Za-z0-9]{{8}}\)\n"
    ))
    .unwrap();
    assert!(re.is_match(&ran.stderr), "stderr:\n{}", ran.stderr);
    assert!(ran.stdout.is_empty(), "stdout:\n{}", ran.stdout);
}

#[test]
fn version_login_and_sessions() {
    let mut front = Front::start();
    for generation in [V1, V2] {
        let ran = front.run(
            front.bare(generation).arg("version").expect(0).any_stdout(),
            false,
        );
        assert!(
            ran.stdout
                .lines()
                .any(|l| l == format!("CLI Version:      {generation}")),
            "{}",
            ran.stdout
        );
        assert_aligned(&ran.stdout);
    }
    // The newest generation unless told otherwise; anything else names the accepted values.
    let ran = front.run(
        Cmd::new()
            .program(front.bin.path().join("setops"))
            .arg("version")
            .expect(0)
            .any_stdout(),
        false,
    );
    assert!(ran.stdout.starts_with("CLI Version:      2.3.4\n"));
    front
        .run(
            front.bare("3.0.0").arg("version").expect(1).any_stderr(),
            false,
        )
        .stderr_has("SETOPS_SANDBOX_CLI_VERSION")
        .stderr_has("1.4.1")
        .stderr_has("2.3.4");
    front
        .run(
            Cmd::new()
                .program(front.bin.path().join("setops"))
                .args(SCOPE)
                .arg("service")
                .expect(1)
                .any_stderr(),
            false,
        )
        .stderr_has("SETOPS_SANDBOX_DIR");

    // Without a login the front is the sandbox's default user.
    let api = format!("sandbox:{}", front.instance());
    let info = front.run(
        front.bare(V2).arg("login:info").expect(0).any_stdout(),
        false,
    );
    assert_eq!(
        info.stdout,
        format!("Organization:   sandbox\nUser:           demo\nAPI:            {api}\n")
    );

    // `login --service-user`: organization, user, password (the user's token) on stdin.
    let ci_token = front.sb.user_token("ci");
    front
        .run(
            front
                .bare(V1)
                .args(["login", "--service-user"])
                .stdin(format!("sandbox\nci\n{ci_token}\n"))
                .expect(0)
                .any_stdout(),
            false,
        )
        .stdout_is("✅ logged in as \"ci\"\n");
    for wrong in [
        format!("sandbox\ndemo\n{ci_token}\n"),
        format!("other\nci\n{ci_token}\n"),
        "sandbox\nci\nnot-the-password\n".to_owned(),
        "sandbox\nci\n".to_owned(),
    ] {
        front
            .run(
                front
                    .bare(V1)
                    .args(["login", "--service-user"])
                    .stdin(wrong)
                    .expect(1)
                    .any_stderr(),
                false,
            )
            .stdout_is("");
    }
    front
        .run(
            front
                .bare(V1)
                .args(["login", "--service-user"])
                .stdin("sandbox\nci\nwrong\n")
                .expect(1)
                .any_stderr(),
            false,
        )
        .stderr_has("code: CredentialsInvalid");
    front
        .run(front.bare(V2).arg("login").expect(1).any_stderr(), false)
        .stderr_has("--service-user");

    // The session holds: `ci` is the user now, on a restarted sandbox too (new port), and the
    // API identity stays the same.
    let old_url = front.sb.url.clone();
    front.restart();
    assert_ne!(front.sb.url, old_url);
    let info = front.run(
        front.bare(V1).arg("login:info").expect(0).any_stdout(),
        false,
    );
    assert_eq!(
        info.stdout,
        format!("Organization:   sandbox\nUser:           ci\nAPI:            {api}\n")
    );

    // A session the sandbox no longer accepts: every command says so and how to get out.
    let sessions = front.work().join(".setops-sandbox");
    let session_file = std::fs::read_dir(&sessions)
        .expect("session dir")
        .next()
        .expect("a session")
        .expect("entry")
        .path();
    let text = std::fs::read_to_string(&session_file).expect("session");
    std::fs::write(&session_file, text.replace(&ci_token, &"0".repeat(64))).expect("expire");
    for args in [vec!["service"], vec!["login:info"]] {
        let ran = front.fails(V2, &args, 1);
        assert_platform_error(&ran, "SessionInvalid");
        assert!(ran.stderr.contains("setops login"), "{}", ran.stderr);
    }
}

#[test]
fn reads_and_backups_have_the_documented_shapes() {
    let front = Front::start();
    let unmasked = Regex::new(r":[A-Za-z0-9]{20,}@").unwrap();
    for generation in [V1, V2] {
        let services = front.ok(generation, &["service"]).stdout;
        assert_aligned(&services);
        assert_eq!(
            shape(&services),
            shape(
                "+----------+\n|   NAME   |\n+----------+\n| cache    |\n| database |\n\
                 | files    |\n| media    |\n| scratch  |\n+----------+"
            )
        );
        let info = front.ok(generation, &["service:info", "database"]).stdout;
        assert_aligned(&info);
        assert_eq!(
            info,
            "Name:              database\n\
             Type:              postgresql11\n\
             Plan:              shared\n\
             Backup Schedule:   none\n\
             Links:\n  -- web      (DATABASE_URL)\n  -- worker   (DATABASE_URL)\n\
             Options:\n  -- extensions   citext\n"
        );
        let links = front.ok(generation, &["--app", "web", "link"]).stdout;
        assert_aligned(&links);
        assert!(
            links.contains("| files    |              | /data | false     |"),
            "{links}"
        );
        let env = front.ok(generation, &["--app", "web", "env"]).stdout;
        assert!(
            env.lines()
                .any(|l| l.starts_with("-- DATABASE_URL=postgresql://") && l.contains(":***@")),
            "{env}"
        );
        // Service credentials stay masked.
        assert!(!unmasked.is_match(&env), "{env}");

        let list = front
            .ok(generation, &["--service", "files", "backup"])
            .stdout;
        assert_documented(&list, DOC_BACKUP_LIST);
        let id = front.created_backup("files");
        let info = front
            .ok(generation, &["--service", "files", "backup:info", &id])
            .stdout;
        assert_aligned(&info);
        assert!(
            shape(&info).starts_with(&shape(DOC_BACKUP_DESTROY)),
            "{info}"
        );

        // Errors name what failed, the platform's code and request id.
        let ran = front.fails(generation, &["service:info", "database13"], 1);
        assert_platform_error(&ran, "ServiceDoesNotExist");
        assert!(ran.stderr.contains("database13"), "{}", ran.stderr);
        let ran = front.fails(
            generation,
            &[
                "--service",
                "files",
                "backup:info",
                "6a6fcd7a-7063-4cb4-a748-8f765eea39a2",
            ],
            1,
        );
        assert_platform_error(&ran, "CodeBackupNotFound");
        front
            .fails(generation, &["frobnicate"], 1)
            .stderr_has("unknown command \"frobnicate\"");
        front
            .fails(generation, &["backup"], 1)
            .stderr_has("--service");
        front
            .fails(generation, &["service:info"], 1)
            .stderr_has("takes 1 argument");
    }
    for generation in [V1, V2] {
        let created = front
            .ok(generation, &["--service", "scratch", "backup:create"])
            .stdout;
        assert_documented(&created, DOC_BACKUP_CREATE);
    }
}

#[test]
fn download_upload_restore_destroy_round_trip() {
    let front = Front::start();
    let source = front.created_backup("files");
    let download = ["--service", "files", "backup:download", source.as_str()];
    let ran = front.ok(V2, &download);
    let downloaded = ran.stdout.clone();
    assert_documented(&ran.stdout, DOC_BACKUP_DOWNLOAD);
    let file = format!("{source}.tar.gz");
    let done = Regex::new(&format!(
        r"\n\n✅  {file} completed \(\d+(\.\d)? [kM]?B\) with ID {source}\n$"
    ))
    .unwrap();
    assert!(done.is_match(&ran.stdout), "{}", ran.stdout);
    let bytes = std::fs::read(front.work().join(&file)).expect("downloaded file");

    // No overwrite without -f; -f overwrites.
    // (The backup's block is shown before the file is looked at, as the download starts.)
    let block = &downloaded[..downloaded.find("\n\n").expect("a blank line") + 1];
    let ran = front.run(
        front
            .cmd(V2, &download)
            .expect(1)
            .stdout(block)
            .stderr_has("-f/--force"),
        false,
    );
    assert!(ran.stderr.starts_with("Error: "), "{}", ran.stderr);
    front.ok(V1, &[&download[..], &["-f"]].concat());
    assert_eq!(std::fs::read(front.work().join(&file)).unwrap(), bytes);

    // --print-url --output plain: the URL alone, serving the same bytes.
    let ran = front.run(
        front
            .cmd(
                V2,
                &[&download[..], &["--print-url", "--output", "plain"]].concat(),
            )
            .expect(0)
            .any_stdout(),
        true,
    );
    let url = ran.stdout.trim();
    assert_eq!(ran.stdout.lines().count(), 1, "{}", ran.stdout);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let fetched = reqwest::blocking::get(url)
        .expect("GET")
        .bytes()
        .expect("body");
    assert_eq!(fetched.as_ref(), bytes.as_slice());

    // Each generation: upload into the empty volume (exactly the documented line, one space
    // after the emoji), download it back byte for byte, restore it, destroy it.
    let line = Regex::new(&format!(
        r"^✅ {} completed \(\d+(\.\d)? [kM]?B\) with ID ({})\n$",
        regex::escape(&file),
        uuid_re().as_str()
    ))
    .unwrap();
    for generation in [V1, V2] {
        let upload = front
            .ok(
                generation,
                &["--service", "scratch", "backup:upload", &file],
            )
            .stdout;
        let uploaded = line
            .captures(&upload)
            .unwrap_or_else(|| panic!("upload line: {upload:?}"))[2]
            .to_owned();
        assert!(
            front
                .backups("scratch")
                .contains(&(uploaded.clone(), "CREATED".to_owned()))
        );

        let back = tempfile::tempdir().unwrap();
        front.run(
            front
                .cmd(
                    generation,
                    &["--service", "scratch", "backup:download", &uploaded],
                )
                .current_dir(back.path())
                .expect(0)
                .any_stdout(),
            false,
        );
        let round = std::fs::read(back.path().join(format!("{uploaded}.tar.gz"))).unwrap();
        assert_eq!(round, bytes, "the round trip changed the bytes");

        let restored = front
            .ok(
                generation,
                &["--service", "scratch", "backup:restore", &uploaded],
            )
            .stdout;
        assert_documented(&restored, DOC_BACKUP_RESTORE);
        front.wait_until_not("scratch", &uploaded, "RESTORING");
        let destroyed = front
            .ok(
                generation,
                &["--service", "scratch", "backup:destroy", &uploaded],
            )
            .stdout;
        assert_documented(&destroyed, DOC_BACKUP_DESTROY);
        assert!(
            !front
                .backups("scratch")
                .iter()
                .any(|(id, _)| *id == uploaded)
        );
    }

    // --print-url without plain: a command for an external uploader (the warning that the URL
    // is a credential goes to stderr).
    let ran = front.run(
        front
            .cmd(
                V2,
                &[
                    "--service",
                    "scratch",
                    "backup:upload",
                    &file,
                    "--print-url",
                ],
            )
            .expect(0)
            .any_stdout()
            .stderr_has("the URL is a credential, do not share it"),
        true,
    );
    assert!(ran.stdout.starts_with("curl "), "{}", ran.stdout);
    assert_eq!(ran.stdout.lines().count(), 1, "{}", ran.stdout);
    let ran = front.run(
        front
            .cmd(
                V2,
                &[
                    "--service",
                    "scratch",
                    "backup:upload",
                    &file,
                    "--print-url",
                    "-o",
                    "plain",
                ],
            )
            .expect(0)
            .any_stdout(),
        true,
    );
    assert_eq!(ran.stdout.lines().count(), 1, "{}", ran.stdout);
    assert!(
        ran.stdout.starts_with("http://127.0.0.1:"),
        "{}",
        ran.stdout
    );

    front
        .fails(
            V2,
            &["--service", "scratch", "backup:upload", "missing.tar.gz"],
            1,
        )
        .stderr_has("missing.tar.gz");
}

#[test]
fn changeset_commands_of_cli_1() {
    let front = Front::start();
    // Nothing pending: commit and discard exit 78, unless discard may ignore it.
    for command in ["changeset:commit", "changeset:discard"] {
        front
            .fails(V1, &[command], 78)
            .stderr_has("ChangesetDoesNotExist");
    }
    front.ok(V1, &["changeset:discard", "--ignore-not-exist"]);
    front
        .ok(V1, &["changeset:info"])
        .stdout_has("No changeset is pending");

    front.ok(
        V1,
        &[
            "service:create",
            "database13",
            "--type",
            "postgresql13",
            "--plan",
            "db.t3.micro",
        ],
    );
    front.ok(
        V1,
        &["--service", "database13", "option:set", "min_storage", "50"],
    );
    front.ok(
        V1,
        &[
            "--service",
            "database13",
            "option:set",
            "extensions",
            "citext",
        ],
    );
    front.ok(
        V1,
        &["--service", "database13", "option:unset", "extensions"],
    );
    front.ok(
        V1,
        &[
            "--service",
            "database13",
            "backup:schedule",
            "--hour",
            "3",
            "--hour",
            "15",
            "--weekday",
            "mon",
        ],
    );
    front.ok(V1, &["--app", "web", "link:destroy", "database"]);
    front.ok(
        V1,
        &[
            "--app",
            "web",
            "link:create",
            "database13",
            "--env-key",
            "DATABASE_URL",
        ],
    );
    front.ok(
        V1,
        &[
            "--app",
            "worker",
            "link:create",
            "scratch",
            "--path",
            "/scratch",
            "--read-only",
        ],
    );
    let info = front.ok(V1, &["changeset:info"]).stdout;
    assert_aligned(&info);
    assert_eq!(
        shape(&info),
        shape(
            "Created At:   2021-04-23T12:03:10Z
+-------------------------+------------------------------------------------------------------+
|          NAME           |                            ARGUMENTS                             |
+-------------------------+------------------------------------------------------------------+
| service:create          | map[name:database13 plan:db.t3.micro type:postgresql13]          |
| service:option:set      | map[option:min_storage service:database13 value:50]              |
| service:option:set      | map[option:extensions service:database13 value:citext]           |
| service:option:unset    | map[option:extensions service:database13]                        |
| service:backup:schedule | map[hours:[3 15] service:database13 weekdays:[Mon]]              |
| app:link:destroy        | map[app:web service:database]                                    |
| app:link:create         | map[app:web env_key:DATABASE_URL read_only:false service:database13] |
| app:link:create         | map[app:worker path:/scratch read_only:true service:scratch]     |
+-------------------------+------------------------------------------------------------------+"
        )
    );
    // `--output plain changeset:commit` as CI runs it: the block, plain phase lines, success.
    let commit = front
        .run(
            front
                .bare(V1)
                .args(["--output", "plain"])
                .args(SCOPE)
                .arg("changeset:commit")
                .expect(0)
                .any_stdout(),
            false,
        )
        .stdout;
    assert!(commit.starts_with(&info), "{commit}");
    let phases: Vec<&str> = commit[info.len()..].lines().collect();
    assert_eq!(phases.first(), Some(&"◢ Initializing…"), "{commit}");
    assert_eq!(phases.get(1), Some(&"◤ Planning…"), "{commit}");
    assert!(phases.contains(&"◣ Applying… (8/8)"), "{commit}");
    assert_eq!(phases.last(), Some(&"Commit successful!"), "{commit}");
    assert_eq!(
        front.ok(V1, &["service:info", "database13"]).stdout,
        "Name:              database13\n\
         Type:              postgresql13\n\
         Plan:              db.t3.micro\n\
         Backup Schedule:   03:00, 15:00 UTC, Mon\n\
         Links:\n  -- web   (DATABASE_URL)\n\
         Options:\n  -- min_storage   50\n"
    );
    front
        .fails(V1, &["changeset:commit"], 78)
        .stderr_has("ChangesetDoesNotExist");

    // A commit the platform refuses: exit 1 with its code, the changeset kept for a look.
    front.ok(V1, &["--service", "database13", "backup:unschedule"]);
    front.ok(V1, &["service:destroy", "cache"]);
    let ran = front.run(
        front
            .cmd(V1, &["changeset:commit"])
            .expect(1)
            .stdout_has("| service:destroy           | map[name:cache]         |")
            .any_stderr(),
        false,
    );
    assert!(
        ran.stderr.contains("(code: ChangesetInvalid, request_id: "),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("commands[1]"), "{}", ran.stderr);
    front
        .ok(V1, &["changeset:info"])
        .stdout_has("service:backup:unschedule");
    front.ok(V1, &["changeset:discard"]).stdout_has("Discarded");
    front.fails(V1, &["changeset:discard"], 78);

    // Flags the command does not know, and a link without key or path.
    front
        .fails(V1, &["service:create", "x-y-z", "--bogus"], 1)
        .stderr_has("unknown flag: --bogus");
    front
        .fails(V1, &["--app", "web", "link:create", "database13"], 1)
        .stderr_has("--env-key");
    front
        .fails(
            V1,
            &["--service", "database13", "backup:schedule", "--hour", "25"],
            1,
        )
        .stderr_has("less_than_or_equal_to_threshold");
}

/// What the front answers beyond the round trip: `option` (both generations), `-o plain` bare
/// values for `backup:create` and `backup:upload`, a new s3 service's documented default,
/// `service:destroy` taking effect at the commit, and an upload allocated with `--print-url`
/// left out of `backup` until its bytes arrive.
#[test]
fn options_defaults_plain_values_and_allocated_uploads() {
    let front = Front::start();
    for generation in [V1, V2] {
        let table = front
            .ok(generation, &["--service", "database", "option"])
            .stdout;
        assert_documented(
            &table,
            "+------------+--------+\n|    NAME    | VALUE  |\n+------------+--------+\n\
             | extensions | citext |\n+------------+--------+\n",
        );
        let created = front.run(
            front
                .cmd(
                    generation,
                    &["--service", "scratch", "-o", "plain", "backup:create"],
                )
                .expect(0)
                .any_stdout(),
            false,
        );
        assert!(
            Regex::new(&format!(r"^{}\tCREATING\n$", uuid_re().as_str()))
                .unwrap()
                .is_match(&created.stdout),
            "{:?}",
            created.stdout
        );
    }

    // A new s3 service through CLI 1.x: blockPublicAccess true without any option:set.
    front.ok(V1, &["service:create", "uploads", "--type", "s3"]);
    front.run(
        front
            .cmd(V1, &["-o", "plain", "changeset:commit"])
            .expect(0)
            .stdout_has("Commit successful!"),
        false,
    );
    front
        .ok(V1, &["service:info", "uploads"])
        .stdout_has("Options:\n  -- blockPublicAccess   true\n");
    // CLI 2.x dumps it; a definition that leaves the default out means that default.
    let dump = front.ok(V2, &["stage:dump"]).stdout;
    assert!(
        dump.contains(
            "  uploads:\n    type: s3\n    options:\n      blockPublicAccess: \"true\"\n"
        ),
        "{dump}"
    );
    // Every s3 service's `options:` holds only the default: leave both lines out.
    let without = dump.replace("    options:\n      blockPublicAccess: \"true\"\n", "");
    std::fs::write(front.work().join("stage.setops.yaml"), &without).unwrap();
    front
        .ok(
            V2,
            &["stage:apply", "-f", "stage.setops.yaml", "--auto-approve"],
        )
        .stdout_has("No changes");
    // service:destroy: staged, and the service is gone at the commit.
    front
        .ok(V1, &["service:destroy", "uploads"])
        .stdout_has("Queued service:destroy map[name:uploads]");
    front.ok(V1, &["service"]).stdout_has("| uploads  |");
    front.run(
        front
            .cmd(V1, &["-o", "plain", "changeset:commit"])
            .expect(0)
            .stdout_has("Commit successful!"),
        false,
    );
    assert!(!front.ok(V2, &["service"]).stdout.contains("uploads"));

    // Upload with plain output: FILE, SIZE, ID.
    let source = front.created_backup("files");
    front.ok(V2, &["--service", "files", "backup:download", &source]);
    let file = format!("{source}.tar.gz");
    let ran = front.ok(
        V1,
        &[
            "--service",
            "scratch",
            "-o",
            "plain",
            "backup:upload",
            &file,
        ],
    );
    let line = Regex::new(&format!(
        r"^{}\t\d+(\.\d)? [kM]?B\t({})\n$",
        regex::escape(&file),
        uuid_re().as_str()
    ))
    .unwrap();
    let uploaded = line
        .captures(&ran.stdout)
        .unwrap_or_else(|| panic!("upload: {:?}", ran.stdout))[2]
        .to_owned();
    assert!(
        front
            .backups("scratch")
            .contains(&(uploaded, "CREATED".to_owned()))
    );

    // An allocation is not a backup yet: `backup` lists the same rows before and after.
    let before = front.backups("scratch");
    front.run(
        front
            .cmd(
                V2,
                &[
                    "--service",
                    "scratch",
                    "backup:upload",
                    &file,
                    "--print-url",
                    "-o",
                    "plain",
                ],
            )
            .expect(0)
            .any_stdout(),
        true,
    );
    assert_eq!(front.backups("scratch"), before);
    assert!(
        !front
            .ok(V1, &["--service", "scratch", "backup"])
            .stdout
            .contains("UPLOADING")
    );
}

#[test]
fn each_generation_refuses_the_others_commands() {
    // Refused before any sandbox is contacted: no directory is needed.
    let bin = tempfile::tempdir().unwrap();
    let setops = bin.path().join("setops");
    std::os::unix::fs::symlink(BIN, &setops).unwrap();
    let cmd = |generation: &str, args: &[&str]| {
        Cmd::new()
            .program(&setops)
            .env("SETOPS_SANDBOX_CLI_VERSION", generation)
            .args(SCOPE)
            .args(args)
    };
    for args in [
        vec!["changeset:commit"],
        vec!["changeset:info"],
        vec!["changeset:discard", "--ignore-not-exist"],
        vec!["service:create", "db", "--type", "volume"],
        vec!["--app", "web", "link:create", "db", "--env-key", "DB"],
        vec!["--app", "web", "resource:set", "scale", "0"],
    ] {
        cmd(V2, &args)
            .expect(1)
            .stderr_has("unknown command")
            .stderr_has("stage definitions")
            .run();
    }
    for args in [
        vec!["stage:dump"],
        vec!["stage:apply", "-f", "x.yaml"],
        vec!["--app", "web", "task"],
    ] {
        cmd(V1, &args)
            .expect(1)
            .stderr_has("unknown command")
            .stderr_has("1.4.1")
            .run();
    }
    let help = cmd(V2, &["--help"]).expect(0).any_stdout().run().stdout;
    assert!(
        help.contains("stage:apply") && !help.contains("changeset:commit"),
        "{help}"
    );
}

/// `stage:dump` of the demo world, as CLI 2.x prints it.
const DEMO_DUMP: &str = r#"schema_version: "1"
project: shop
stage: production
apps:
  web:
    resources:
      scale: 1
    links:
      database:
        env_key: DATABASE_URL
      files:
        path: /data
        read_only: false
      media:
        env_key: S3_DATA_URL
  worker:
    resources:
      scale: 1
    links:
      cache:
        env_key: REDIS_URL
      database:
        env_key: DATABASE_URL
services:
  cache:
    type: redis
    version: 6.x
    plan: cache.t3.micro
  database:
    type: postgresql
    plan: shared
    options:
      extensions: citext
  files:
    type: volume
  media:
    type: s3
    options:
      blockPublicAccess: "true"
  scratch:
    type: volume
notifications: {}
"#;

#[test]
fn stage_definitions_of_cli_2() {
    let front = Front::start();
    let dump = front.ok(V2, &["stage:dump"]).stdout;
    assert_eq!(dump, DEMO_DUMP);

    // Add a PostgreSQL 13 service and move web's DATABASE_URL link to it.
    let edited = dump
        .replace(
            "  files:\n    type: volume\n",
            "  database13:\n    type: postgresql\n    version: \"13\"\n    plan: db.t3.micro\n    \
             options:\n      min_storage: 50\n  files:\n    type: volume\n",
        )
        .replacen(
            "      database:\n        env_key: DATABASE_URL\n      files:",
            "      database13:\n        env_key: DATABASE_URL\n      files:",
            1,
        );
    let file = "stage.setops.yaml";
    std::fs::write(front.work().join(file), &edited).unwrap();
    let plan = "Changes to shop/production from stage.setops.yaml:\n  \
                + service database13 (postgresql 13, plan db.t3.micro)\n  \
                ~ service database13: option min_storage = 50\n  \
                ~ app web: link database -> database13 (env_key DATABASE_URL)\n";

    // No terminal to confirm on: refused without --auto-approve, nothing applied.
    front.run(
        front
            .cmd(V2, &["stage:apply", "-f", file])
            .expect(1)
            .stdout(plan)
            .stderr_has("--auto-approve"),
        false,
    );
    assert_eq!(front.ok(V2, &["stage:dump"]).stdout, DEMO_DUMP);

    front
        .ok(V2, &["stage:apply", "--file", file, "--auto-approve"])
        .stdout_is(&format!(
            "{plan}Apply successful! 3 change(s) applied to shop/production.\n"
        ));
    assert_eq!(front.ok(V2, &["stage:dump"]).stdout, edited);
    front
        .ok(V1, &["service:info", "database13"])
        .stdout_has("-- web   (DATABASE_URL)");
    front
        .ok(V2, &["stage:apply", "-f", file, "--auto-approve"])
        .stdout_is("No changes: shop/production already matches stage.setops.yaml.\n");

    // Removing a service from the definition destroys it.
    let smaller = edited.replace("  scratch:\n    type: volume\n", "");
    std::fs::write(front.work().join("smaller.yaml"), &smaller).unwrap();
    front
        .ok(V2, &["stage:apply", "-f", "smaller.yaml", "--auto-approve"])
        .stdout_has("  - service scratch\n");
    assert_eq!(front.ok(V2, &["stage:dump"]).stdout, smaller);

    // A definition that does not parse, names an unknown key, or asks for what the sandbox
    // cannot do: an error naming the file and line, and nothing applied.
    for (name, text, at) in [
        (
            "typo.yaml",
            smaller.replacen("env_key: DATABASE_URL", "env_kee: DATABASE_URL", 1),
            "typo.yaml:10:9: ",
        ),
        (
            "extra.yaml",
            smaller.replace("    plan: shared\n", "    plan: shared\n    size: 5\n"),
            "extra.yaml:32:5: ",
        ),
        ("broken.yaml", "apps: [\n".to_owned(), "broken.yaml:1:"),
        (
            "redis7.yaml",
            smaller.replace("version: 6.x", "version: 7.x"),
            "redis7.yaml:25:3: ",
        ),
        (
            "plan.yaml",
            smaller.replace("plan: db.t3.micro", "plan: db.t3.large"),
            "plan.yaml:34:3: ",
        ),
    ] {
        std::fs::write(front.work().join(name), text).unwrap();
        let ran = front.fails(V2, &["stage:apply", "-f", name, "--auto-approve"], 1);
        assert!(
            ran.stderr.starts_with(&format!("Error: {at}")),
            "{name}: {}",
            ran.stderr
        );
        assert!(ran.stdout.is_empty(), "{}", ran.stdout);
    }
    assert_eq!(front.ok(V2, &["stage:dump"]).stdout, smaller);
    front
        .fails(V2, &["stage:apply", "-f", "missing.yaml"], 1)
        .stderr_has("missing.yaml");

    // A commit the platform refuses (volumes take no options): exit 1 with its code, and the
    // stage as it was, with no half-applied changeset left behind.
    let refused = smaller.replace(
        "  files:\n    type: volume\n",
        "  files:\n    type: volume\n    options:\n      size: 5\n",
    );
    std::fs::write(front.work().join("refused.yaml"), &refused).unwrap();
    let refused_plan =
        "Changes to shop/production from refused.yaml:\n  ~ service files: option size = 5\n";
    let ran = front.run(
        front
            .cmd(V2, &["stage:apply", "-f", "refused.yaml", "--auto-approve"])
            .expect(1)
            .stdout(refused_plan)
            .any_stderr(),
        false,
    );
    assert!(
        ran.stderr.contains("(code: ChangesetInvalid, request_id: "),
        "{}",
        ran.stderr
    );
    assert_eq!(front.ok(V2, &["stage:dump"]).stdout, smaller);
    front
        .ok(V1, &["changeset:info"])
        .stdout_has("No changeset is pending");

    // Work queued through CLI 1.x is never committed along: the apply stops first.
    front.ok(V1, &["service:create", "extra", "--type", "volume"]);
    front.run(
        front
            .cmd(V2, &["stage:apply", "-f", "refused.yaml", "--auto-approve"])
            .expect(1)
            .stdout(refused_plan)
            .stderr_has("1 command(s) of demo wait in a changeset"),
        false,
    );
    front.ok(V1, &["changeset:discard"]);
}

/// The shape of a `Tasks` table: task IDs masked too.
fn tasks_shape(text: &str) -> String {
    let ids = Regex::new(r"\b[0-9a-f]{32}\b").unwrap();
    shape(&ids.replace_all(text, "<task>"))
}

/// Waits until `app:ps APP` of `generation` has the shape `want`.
fn wait_for_tasks(front: &Front, args: &[&str], want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = front.ok(V1, args).stdout;
        assert_aligned(&out);
        if tasks_shape(&out) == shape(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "app:ps stays\n{out}\nwanted\n{want}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn app_scale_and_containers_in_both_generations() {
    let front = Front::start();
    // Long enough to see a container stopping, short enough to wait for.
    front.sb.faults(&setops_migrate::api::Faults {
        task_delay_ms: Some(1500),
        ..Default::default()
    });
    let info = front.ok(V1, &["app:info", "web"]).stdout;
    assert_aligned(&info);
    assert!(
        info.starts_with("Name:    web\nScale:   1\nENVs:\n  -- DATABASE_URL   postgresql://"),
        "{info}"
    );
    assert!(info.contains(":***@"), "credentials are masked:\n{info}");
    assert_eq!(front.ok(V1, &["--app", "web", "app:info"]).stdout, info);
    let running = "+-+-+-+-+-+-+\n\
                   | ID | RELEASE | LAST STATUS | HEALTH STATUS | STARTED AT | STOPPED AT |\n\
                   +-+-+-+-+-+-+\n\
                   | <task> | - | RUNNING | UNKNOWN | <ts> | - |\n\
                   +-+-+-+-+-+-+";
    wait_for_tasks(&front, &["app:ps", "web"], running);
    wait_for_tasks(&front, &["--app", "web", "app:ps"], running);

    // 1.x: staged like every change, shown in the changeset, applied by the commit; the
    // container stops only after the delay.
    front
        .ok(V1, &["--app", "web", "resource:set", "scale", "0"])
        .stdout_is(&format!(
            "Scale:   0\n{}",
            queued("app:scale:set map[app:web scale:0]", 1)
        ));
    front
        .ok(V1, &["changeset:info"])
        .stdout_has("| app:scale:set | map[app:web scale:0] |");
    wait_for_tasks(&front, &["app:ps", "web"], running);
    front.ok(V1, &["changeset:commit"]);
    front
        .ok(V1, &["app:info", "web"])
        .stdout_has("Scale:   0\n");
    wait_for_tasks(
        &front,
        &["app:ps", "web"],
        &running.replace("| RUNNING |", "| STOPPING |"),
    );
    wait_for_tasks(
        &front,
        &["app:ps", "web"],
        &running.replace(
            "| RUNNING | UNKNOWN | <ts> | - |",
            "| STOPPED | UNKNOWN | <ts> | <ts> |",
        ),
    );
    // Out of range, or a resource the sandbox does not model: refused, nothing staged.
    front
        .fails(V1, &["--app", "web", "resource:set", "scale", "17"], 1)
        .stderr_has("less_than_or_equal_to_threshold");
    front
        .fails(V1, &["--app", "web", "resource:set", "scale", "many"], 1)
        .stderr_has("0 to 16");
    front
        .fails(V1, &["--app", "web", "resource:set", "cpu", "256"], 1)
        .stderr_has("scale only");
    front
        .fails(V1, &["app:ps"], 1)
        .stderr_has("NAME, or --app NAME");
    front
        .ok(V1, &["changeset:info"])
        .stdout_has("No changeset is pending");

    // 2.x: the scale is `apps.<app>.resources.scale` of the stage definition.
    let dump = front.ok(V2, &["stage:dump"]).stdout;
    let web = "  web:\n    resources:\n      scale: ";
    assert!(dump.contains(&format!("{web}0\n")), "{dump}");
    std::fs::write(
        front.work().join("up.yaml"),
        dump.replace(&format!("{web}0\n"), &format!("{web}2\n")),
    )
    .unwrap();
    front
        .ok(V2, &["stage:apply", "-f", "up.yaml", "--auto-approve"])
        .stdout_is(
            "Changes to shop/production from up.yaml:\n  ~ app web: scale 0 -> 2\n\
             Apply successful! 1 change(s) applied to shop/production.\n",
        );
    let tasks = front.ok(V2, &["--app", "web", "task"]).stdout;
    assert_eq!(tasks.matches("| PENDING ").count(), 2, "{tasks}");
    // A definition without a scale leaves it; a bad one is refused with its line.
    std::fs::write(
        front.work().join("none.yaml"),
        dump.replace(&format!("{web}0\n"), "  web:\n"),
    )
    .unwrap();
    front
        .ok(V2, &["stage:apply", "-f", "none.yaml", "--auto-approve"])
        .stdout_is("No changes: shop/production already matches none.yaml.\n");
    std::fs::write(
        front.work().join("bad.yaml"),
        dump.replace(&format!("{web}0\n"), &format!("{web}99\n")),
    )
    .unwrap();
    let ran = front.fails(V2, &["stage:apply", "-f", "bad.yaml", "--auto-approve"], 1);
    assert!(
        ran.stderr.starts_with("Error: bad.yaml:5:3: "),
        "{}",
        ran.stderr
    );
    assert!(
        front
            .ok(V2, &["stage:dump"])
            .stdout
            .contains(&format!("{web}2\n")),
        "the scale stays 2"
    );
}

/// The `setops` CLI adapter's parsers (`platform::setops_cli`) read every output of the front:
/// the front exists so that adapter can be tested without the real platform.
#[test]
fn the_adapters_parsers_read_every_output() {
    use setops_migrate::model::{BackupStatus, ServiceType};
    use setops_migrate::platform::setops_cli::parse::{self, Generation};
    use setops_migrate::platform::setops_cli::stage_def::StageDefinition;

    let front = Front::start();
    for (generation, dialect) in [(V1, Generation::V1), (V2, Generation::V2)] {
        let out = front.run(
            front.bare(generation).arg("version").expect(0).any_stdout(),
            false,
        );
        let version = parse::parse_version(&out.stdout).expect("version");
        assert_eq!(
            (version.text.as_str(), version.generation),
            (generation, dialect)
        );
    }
    let login = parse::parse_login_info(&front.ok(V2, &["login:info"]).stdout).expect("login:info");
    assert_eq!(login.organization, "sandbox");
    assert_eq!(login.api, Some(format!("sandbox:{}", front.instance())));
    let env =
        parse::parse_env_list(&front.ok(V1, &["--app", "worker", "env"]).stdout).expect("env");
    assert_eq!(env.len(), 2, "{env:?}");
    let names = parse::parse_service_list(&front.ok(V1, &["service"]).stdout).expect("service");
    assert!(names.contains(&"database".to_owned()), "{names:?}");
    let info = parse::parse_service_info(&front.ok(V1, &["service:info", "database"]).stdout)
        .expect("service:info");
    assert_eq!(info.service_type, ServiceType::Postgresql11);
    assert_eq!(info.links.len(), 2);
    let links = parse::parse_link_list("web", &front.ok(V2, &["--app", "web", "link"]).stdout)
        .expect("link");
    assert_eq!(links.len(), 3);

    let rows = parse::parse_backup_list(&front.ok(V2, &["--service", "files", "backup"]).stdout)
        .expect("backup");
    let id = rows[0].id.to_string();
    parse::parse_backup_info(
        &front
            .ok(V2, &["--service", "files", "backup:info", &id])
            .stdout,
    )
    .expect("backup:info");
    let created = parse::parse_backup_create(
        &front
            .ok(V1, &["--service", "scratch", "backup:create"])
            .stdout,
    )
    .expect("backup:create");
    assert_eq!(created.status, BackupStatus::Creating);
    let download = parse::parse_backup_download(
        &front
            .ok(V2, &["--service", "files", "backup:download", &id])
            .stdout,
    )
    .expect("backup:download");
    assert_eq!(download.file.id.to_string(), id);
    let url = front.run(
        front
            .cmd(
                V2,
                &[
                    "--service",
                    "files",
                    "backup:download",
                    &id,
                    "--print-url",
                    "-o",
                    "plain",
                ],
            )
            .expect(0)
            .any_stdout(),
        true,
    );
    parse::parse_download_url(&url.stdout).expect("download URL");
    let uploaded = parse::parse_backup_upload(
        &front
            .ok(
                V1,
                &["--service", "scratch", "backup:upload", &download.file.file],
            )
            .stdout,
    )
    .expect("backup:upload");
    let uploaded = uploaded.id.to_string();
    let restored = parse::parse_backup_restore(
        &front
            .ok(V2, &["--service", "scratch", "backup:restore", &uploaded])
            .stdout,
    )
    .expect("backup:restore");
    assert_eq!(restored.status, BackupStatus::Restoring);
    front.wait_until_not("scratch", &uploaded, "RESTORING");
    parse::parse_backup_destroy(
        &front
            .ok(V1, &["--service", "scratch", "backup:destroy", &uploaded])
            .stdout,
    )
    .expect("backup:destroy");

    assert_eq!(
        parse::parse_changeset_info(&front.ok(V1, &["changeset:info"]).stdout).expect("none"),
        None
    );
    front.ok(V1, &["service:create", "files2", "--type", "volume"]);
    front.ok(
        V1,
        &[
            "--app",
            "worker",
            "link:create",
            "files2",
            "--path",
            "/files2",
        ],
    );
    let pending = parse::parse_changeset_info(&front.ok(V1, &["changeset:info"]).stdout)
        .expect("changeset:info")
        .expect("pending");
    assert_eq!(pending.commands.len(), 2);
    let commit = front.run(
        front
            .bare(V1)
            .args(SCOPE)
            .args(["-o", "plain", "changeset:commit"])
            .expect(0)
            .any_stdout(),
        false,
    );
    let report = parse::parse_changeset_commit(&commit.stdout).expect("changeset:commit");
    assert!(report.successful);
    assert_eq!(report.progress, Some((2, 2)));

    let dump = StageDefinition::parse(&front.ok(V2, &["stage:dump"]).stdout).expect("stage:dump");
    let files2 = dump.service("files2").expect("read").expect("files2");
    assert_eq!(files2.v1_type("files2"), Ok(ServiceType::Volume));
    assert_eq!(dump.links_to("files2").expect("links").len(), 1);
}
