//! The wizard through the real binary on a pseudo-terminal, against a sandbox the binary starts
//! itself (`--sandbox DIR`): a whole wizard that ends in a completed migration, a replay of the
//! written plan that has nothing left to do, Ctrl-C and Esc, and the no-terminal rules.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{BIN, Cmd};
use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession as Session;
use expectrl::{Eof, Expect};

const PROMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// A working directory with a sandbox state directory in it; the background sandbox the binary
/// starts there is stopped when this is dropped, whatever the test's outcome.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn sandbox(&self) -> PathBuf {
        self.path().join(".sandbox")
    }

    /// `setops-migrate --sandbox DIR <args>` on a terminal of its own.
    fn spawn(&self, args: &[&str]) -> Session {
        let mut command = Command::new(BIN);
        command
            .arg("--sandbox")
            .arg(self.sandbox())
            .args(args)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("NO_COLOR", "1")
            .env("TERM", "xterm")
            .envs(common::sandbox_env());
        let mut session = Session::spawn(command).expect("the binary starts on a pty");
        session
            .get_process_mut()
            .set_window_size(120, 40)
            .expect("window size");
        session.set_expect_timeout(Some(PROMPT_TIMEOUT));
        session
    }

    fn cmd(&self) -> Cmd {
        Cmd::new()
            .current_dir(self.path())
            .arg("--sandbox")
            .arg(self.sandbox().to_str().expect("utf-8 path"))
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if self.sandbox().exists() {
            let _ = Command::new(BIN)
                .args(["sandbox", "stop", "--dir"])
                .arg(self.sandbox())
                .output();
        }
    }
}

/// Waits for `text`, lets the prompt switch the terminal to raw mode, then types `keys`.
fn answer(session: &mut Session, text: &str, keys: &str) {
    session
        .expect(text)
        .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}"));
    std::thread::sleep(Duration::from_millis(300));
    session
        .send(keys)
        .unwrap_or_else(|e| panic!("answering {text:?}: {e}"));
}

fn exit_code(session: &mut Session) -> i32 {
    ended(session).0
}

/// The exit code and what the terminal showed since the last expected text.
fn ended(session: &mut Session) -> (i32, String) {
    let found = session.expect(Eof).expect("the program ends");
    let screen = String::from_utf8_lossy(found.as_bytes()).into_owned();
    match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => (code, screen),
        other => panic!("the program did not exit normally: {other:?}\n{screen}"),
    }
}

/// What an interrupted wizard says when it wrote nothing: no resume advice, since there is
/// nothing to resume.
fn assert_nothing_written_said(code: i32, screen: &str) {
    assert_eq!(code, 4, "{screen}");
    assert!(
        screen.contains(
            "interrupted; no plan was written and nothing was changed: run the same command \
             again to start over"
        ),
        "{screen}"
    );
    assert!(!screen.contains("resume"), "{screen}");
}

#[test]
fn a_whole_wizard_ends_in_a_completed_migration_and_a_replay_is_a_no_op() {
    let ws = Workspace::new();
    let mut s = ws.spawn(&["wizard"]);
    const ENTER: &str = "\r";
    const DOWN: &str = "\x1b[B";

    answer(&mut s, "Project", ENTER);
    answer(&mut s, "Stage", ENTER);
    // cache (redis6) and database (postgresql11) come first: two down to files (volume).
    answer(
        &mut s,
        "Service to migrate from",
        &format!("{DOWN}{DOWN}{ENTER}"),
    );
    // A bad name is refused with the reason and asked again.
    answer(&mut s, "Name of the new service [files2]", "Files2\r");
    answer(&mut s, "does not start with a lowercase letter", "");
    answer(&mut s, "Name of the new service [files2]", ENTER);
    answer(&mut s, "Type of the new service", ENTER);
    answer(&mut s, "Apps to relink from files to files2", ENTER);
    // web links files and runs a container: its freeze is preselected, with what it does.
    s.expect(
        "Apps to freeze: scaled to 0 before a fresh backup of files, back at their scales in the \
         relink's commit (downtime: the move)",
    )
    .expect("the freeze is asked");
    answer(&mut s, "web  (scale 1, 1 running)", ENTER);
    // A freeze takes a fresh backup: no backup question.
    answer(&mut s, "How long may a commit or restore take", "30m\r");
    // The same summary as `run --dry-run`, then the offer to run it.
    s.expect("freeze: web scaled to 0 before the fresh backups")
        .expect("the summary names the freeze");
    s.expect("files -> files2")
        .expect("the summary names the migration");
    answer(&mut s, "Run this plan now?", "y");
    // The migration itself: commit, freeze, backup, transfer, restore, relink and unfreeze.
    s.set_expect_timeout(Some(PROMPT_TIMEOUT * 6));
    s.expect("Done. The sources were not changed.")
        .expect("the migration completes");
    s.expect("Cutover freeze of web: downtime")
        .expect("the downtime is shown");
    assert_eq!(exit_code(&mut s), 0);

    let plan = ws.path().join("plans/files2.yaml");
    let text = std::fs::read_to_string(&plan).expect("the plan was written");
    assert!(text.contains("target: files2"), "{text}");
    assert!(text.contains("\nfreeze: "), "{text}");
    assert!(text.contains("\n  - web\n"), "{text}");
    assert!(!text.contains("    backup:"), "{text}");
    assert!(text.contains("wait_timeout: 30m"), "{text}");
    assert!(text.contains("relink: all"), "{text}");
    let mode = std::fs::metadata(&plan).expect("plan").permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);

    ws.cmd()
        .args(["run", "plans/files2.yaml", "--yes"])
        .expect(0)
        .stdout_has("Already done")
        .stderr_has("already done")
        .run();
    ws.cmd()
        .args(["-p", "shop", "-s", "production", "--app", "web", "link"])
        .expect(0)
        .stdout_has("files2")
        .run();
}

#[test]
fn ctrl_c_and_esc_exit_4_and_write_nothing() {
    let ws = Workspace::new();

    let mut s = ws.spawn(&["wizard"]);
    answer(&mut s, "Project", "\x03");
    let (code, screen) = ended(&mut s);
    assert_nothing_written_said(code, &screen);

    let mut s = ws.spawn(&["-p", "shop", "-s", "production", "wizard"]);
    answer(&mut s, "Service to migrate from", "\r");
    answer(&mut s, "Name of the new service", "\x1b");
    let (code, screen) = ended(&mut s);
    assert_nothing_written_said(code, &screen);

    let mut s = ws.spawn(&[
        "-p",
        "shop",
        "-s",
        "production",
        "wizard",
        "--source",
        "files",
    ]);
    answer(&mut s, "Name of the new service", "\r");
    answer(&mut s, "Type of the new service", "\r");
    answer(&mut s, "Apps to relink", "\r");
    answer(&mut s, "Apps to freeze", "\r");
    answer(&mut s, "How long may a commit or restore take", "\r");
    answer(&mut s, "Run this plan now?", "\x03");
    let (code, screen) = ended(&mut s);
    assert_nothing_written_said(code, &screen);

    assert!(!ws.path().join("plans").exists(), "nothing may be written");
}

/// A PostgreSQL source is offered only the PostgreSQL majors that restore its dump; `--type`
/// with another is refused naming those; a source changed after its latest backup defaults to
/// `fresh`, saying why.
#[test]
fn the_types_offered_fit_the_source_and_a_changed_source_defaults_to_fresh() {
    let ws = Workspace::new();
    let mut s = ws.spawn(&[
        "-p",
        "shop",
        "-s",
        "production",
        "wizard",
        "--source",
        "database",
        "--target",
        "database13",
    ]);
    s.expect("Type of the new service")
        .expect("the type is asked");
    // The whole list is drawn once the question is; then stop.
    answer(&mut s, "postgresql16", "\x03");
    let (code, screen) = ended(&mut s);
    assert_eq!(code, 4, "{screen}");
    for other in ["volume", "redis", "s3", "mongodb"] {
        assert!(
            !screen.contains(other),
            "{other} offered for database:\n{screen}"
        );
    }

    ws.cmd()
        .args([
            "-p",
            "shop",
            "-s",
            "production",
            "wizard",
            "--source",
            "database",
            "--target",
            "database13",
            "--type",
            "volume",
        ])
        .expect(2)
        .stderr_has(
            "--type: volume: the backups of a postgresql11 service are PostgreSQL custom \
             archives, which a volume service cannot restore; for database choose postgresql11, \
             postgresql13",
        )
        .run();

    // The latest backup of files restored into files: files may no longer match it.
    let backups = ws
        .cmd()
        .args([
            "-p",
            "shop",
            "-s",
            "production",
            "--service",
            "files",
            "-o",
            "json",
            "backup",
        ])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let id = backups[0]["id"]
        .as_str()
        .expect("a seeded backup")
        .to_owned();
    ws.cmd()
        .args([
            "-p",
            "shop",
            "-s",
            "production",
            "--service",
            "files",
            "backup:restore",
            &id,
        ])
        .expect(0)
        .any_stdout()
        .stderr(&common::restore_hint(&id))
        .run();
    let deadline = std::time::Instant::now() + PROMPT_TIMEOUT;
    while ws
        .cmd()
        .args([
            "-p",
            "shop",
            "-s",
            "production",
            "--service",
            "files",
            "-o",
            "plain",
            "backup",
        ])
        .expect(0)
        .any_stdout()
        .run()
        .stdout
        .contains("RESTORING")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the restore never ended"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut s = ws.spawn(&[
        "-p",
        "shop",
        "-s",
        "production",
        "wizard",
        "--source",
        "files",
        "--target",
        "files2",
    ]);
    answer(&mut s, "Type of the new service", "\r");
    answer(&mut s, "Apps to relink", "\r");
    // Space takes web out of the freeze: the backup is asked then.
    answer(&mut s, "web  (scale 1, 1 running)", " \r");
    s.expect("Backup of files to move")
        .expect("the backup is asked");
    let why = format!("preselected: backup {id} was restored into files at ");
    answer(&mut s, &why, "\r");
    answer(&mut s, "How long may a commit or restore take", "\r");
    s.expect("files -> files2").expect("the summary");
    s.expect("backup: a fresh backup of files")
        .expect("the summary names the fresh backup");
    answer(&mut s, "Run this plan now?", "n");
    assert_eq!(exit_code(&mut s), 0);
    let plan = std::fs::read_to_string(ws.path().join("plans/files2.yaml")).expect("the plan");
    assert!(plan.contains("    backup: fresh"), "{plan}");
    assert!(
        plan.contains(&format!("not latest: backup {id} was restored into files")),
        "{plan}"
    );
    assert!(
        plan.contains("; web runs 1 container(s) that may write to files after the latest backup"),
        "{plan}"
    );
    assert!(!plan.contains("freeze:"), "{plan}");
}

#[test]
fn without_a_terminal_the_missing_flags_are_named() {
    let ws = Workspace::new();
    ws.cmd()
        .args(["-p", "shop", "wizard", "--target", "files2"])
        .expect(3)
        .stderr_has("the wizard needs a terminal to ask for -s/--stage, --source")
        .stderr_has("run PLAN --yes")
        .run();
    assert!(
        !ws.sandbox().exists(),
        "no sandbox is started for a refusal"
    );

    // A freeze and a backup taken before it contradict each other: refused before anything runs.
    ws.cmd()
        .args([
            "-p",
            "shop",
            "-s",
            "production",
            "wizard",
            "--source",
            "media",
            "--target",
            "media2",
            "--freeze",
            "web",
            "--backup",
            "latest",
        ])
        .expect(2)
        .stderr_has(
            "--freeze: a freeze takes a fresh backup once the apps stopped, and --backup latest \
             was taken before",
        )
        .run();
    assert!(
        !ws.sandbox().exists(),
        "no sandbox is started for a refusal"
    );

    // With every value that has no default given, it runs unattended: writes the plan, runs nothing.
    ws.cmd()
        .args([
            "-p",
            "shop",
            "-s",
            "production",
            "wizard",
            "--source",
            "media",
            "--target",
            "media2",
        ])
        .expect(0)
        .stdout_has("media -> media2")
        .stderr_has("Wrote plans/media2.yaml")
        .stderr_has("run plans/media2.yaml --yes")
        .run();
    ws.cmd()
        .args(["plan:validate", "plans/media2.yaml"])
        .expect(0)
        .stdout("plans/media2.yaml: valid (1 migration(s))\n")
        .run();
    // web links media and runs: the default freezes it, and a freeze writes no backup.
    let plan = std::fs::read_to_string(ws.path().join("plans/media2.yaml")).expect("the plan");
    assert!(
        plan.contains("\nfreeze: ") && plan.contains("\n  - web\n"),
        "{plan}"
    );
    assert!(!plan.contains("    backup:"), "{plan}");

    // --no-freeze: web keeps writing, so the backup is a fresh one, and the plan says why.
    ws.cmd()
        .args([
            "-p",
            "shop",
            "-s",
            "production",
            "wizard",
            "--source",
            "media",
            "--target",
            "media3",
            "--no-freeze",
        ])
        .expect(0)
        .stderr_has("Wrote plans/media3.yaml")
        .any_stdout()
        .run();
    let plan = std::fs::read_to_string(ws.path().join("plans/media3.yaml")).expect("the plan");
    assert!(!plan.contains("freeze:"), "{plan}");
    assert!(
        plan.contains(
            "not latest: web runs 1 container(s) that may write to media after the latest backup"
        ),
        "{plan}"
    );
    // --freeze names the apps; one that does not link the source is refused, naming those that do.
    ws.cmd()
        .args([
            "-p",
            "shop",
            "-s",
            "production",
            "wizard",
            "--source",
            "database",
            "--target",
            "database2",
            "--freeze",
            "web,wrker",
        ])
        .expect(2)
        .stderr_has(
            "--freeze: \"wrker\" is not an app that links database; the apps that do are web, \
             worker",
        )
        .run();
    ws.cmd()
        .args([
            "-p",
            "shop",
            "-s",
            "production",
            "wizard",
            "--source",
            "database",
            "--target",
            "database2",
            "--freeze",
            "worker",
        ])
        .expect(0)
        .stderr_has("Wrote plans/database2.yaml")
        .any_stdout()
        .run();
    ws.cmd()
        .args(["plan:validate", "plans/database2.yaml"])
        .expect(0)
        .stdout("plans/database2.yaml: valid (1 migration(s))\n")
        .run();
    let plan = std::fs::read_to_string(ws.path().join("plans/database2.yaml")).expect("plan");
    assert!(
        plan.contains("\nfreeze: ") && plan.contains("\n  - worker\nmigrations:"),
        "{plan}"
    );
    // Nothing was run: no media2.
    ws.cmd()
        .args(["-p", "shop", "-s", "production", "-o", "plain", "service"])
        .expect(0)
        .stdout("cache\ndatabase\nfiles\nmedia\nscratch\n")
        .run();

    ws.cmd()
        .args([
            "-p",
            "shop",
            "-s",
            "production",
            "wizard",
            "--source",
            "media",
            "--target",
            "Media2",
        ])
        .expect(2)
        .stderr_has("--target: service name \"Media2\" does not start with a lowercase letter")
        .run();
}
