//! `run --yes` on a pseudo-terminal against the in-process sandbox, with commits, backups and
//! restores slow enough to be watched: a commit shows as a spinner with its phase, a fresh backup
//! and a restore wait as spinners with the time spent, bars line up with the log in its units,
//! Ctrl-C leaves no spinner behind, and log lines carry no timestamps (those are for logs without
//! a terminal).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{BIN, TestSandbox};
use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession as Session;
use expectrl::{Eof, Expect, Regex as Pattern};
use regex::Regex;
use setops_migrate::api::Faults;

#[test]
fn commits_and_restore_waits_show_as_spinners_on_a_terminal() {
    let sb = TestSandbox::start();
    sb.faults(&Faults {
        commit_phase_ms: Some(100),
        restore_delay_ms: Some(1600),
        backup_delay_ms: Some(50),
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("demo.yaml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("plans/demo.yaml"),
        &plan,
    )
    .unwrap();

    let mut command = Command::new(BIN);
    command
        .args(["-p", "shop", "-s", "production", "run", "--yes"])
        .arg(&plan)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("SETOPS_API_URL", &sb.url)
        .env("SETOPS_TOKEN", &sb.token);
    let mut session = Session::spawn(command).expect("the binary starts on a pty");
    session
        .get_process_mut()
        .set_window_size(120, 40)
        .expect("window size");
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    let found = session.expect(Eof).expect("the run ends");
    let screen = String::from_utf8_lossy(found.as_bytes()).into_owned();
    let code = match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("the run did not exit normally: {other:?}"),
    };
    assert_eq!(code, 0, "exit code; the terminal showed:\n{screen}");

    // A spinner frame (braille) between the step and its text; a plain line has none.
    for (what, pattern) in [
        (
            "the create commit",
            r"plan  create    [\u2800-\u28ff] commit \w+…",
        ),
        (
            "the relink commit",
            r"plan  relink    [\u2800-\u28ff] commit \w+…",
        ),
        (
            "a restore wait",
            r"(files2|media2|database13|cache2) +wait      [\u2800-\u28ff] RESTORING for 0m0[1-9]s",
        ),
    ] {
        assert!(
            Regex::new(pattern).unwrap().is_match(&screen),
            "no spinner for {what} ({pattern}); the terminal showed:\n{screen}"
        );
    }
    let stamped = Regex::new(r"(?m)^\d{2}:\d{2}:\d{2} ").unwrap();
    assert!(
        !stamped.is_match(&screen),
        "timestamped log lines on a terminal:\n{screen}"
    );
    assert!(
        screen.contains("✓ restore finished after"),
        "no result line for the wait:\n{screen}"
    );
}

/// `run` of `plan` with `--yes` on a terminal of its own, against `sb`.
fn spawn_run(sb: &TestSandbox, plan: &Path) -> Session {
    let mut command = Command::new(BIN);
    command
        .args(["-p", "shop", "-s", "production", "run", "--yes"])
        .arg(plan)
        .current_dir(plan.parent().unwrap())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", plan.parent().unwrap())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("SETOPS_API_URL", &sb.url)
        .env("SETOPS_TOKEN", &sb.token);
    let mut session = Session::spawn(command).expect("the binary starts on a pty");
    session
        .get_process_mut()
        .set_window_size(120, 40)
        .expect("window size");
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session
}

/// Each drawn frame and line of a terminal's output, clear-line sequences taken out.
fn frames(screen: &str) -> Vec<String> {
    screen
        .replace("\x1b[2K", "")
        .split(['\r', '\n'])
        .map(|l| l.trim_end().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// A fresh backup is a spinner with the time spent CREATING; transfer bars use the log lines'
/// SI units and start in the column their text does.
#[test]
fn a_fresh_backup_spins_and_bars_line_up_with_the_log_in_si_units() {
    let sb = TestSandbox::start();
    sb.faults(&Faults {
        commit_phase_ms: Some(50),
        backup_delay_ms: Some(1600),
        restore_delay_ms: Some(200),
        ..Faults::default()
    });
    let (_dir, plan) = common::plan_copy("files-only.yaml");
    let text = std::fs::read_to_string(&plan).unwrap();
    std::fs::write(
        &plan,
        text.replace("    relink: all", "    relink: all\n    backup: fresh"),
    )
    .unwrap();
    let mut session = spawn_run(&sb, &plan);
    let found = session.expect(Eof).expect("the run ends");
    let screen = String::from_utf8_lossy(found.as_bytes()).into_owned();
    let code = match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("the run did not exit normally: {other:?}"),
    };
    assert_eq!(code, 0, "exit code; the terminal showed:\n{screen}");
    let frames = frames(&screen);
    let columns = |step: &str| format!("{:>12}  {step:<9} ", "files2");
    let spinning =
        Regex::new(r"^ +files2  backup    [\u2800-\u28ff] CREATING for 0m0[1-9]s$").unwrap();
    assert!(
        frames.iter().any(|f| spinning.is_match(f)),
        "no spinner while the fresh backup is made:\n{screen}"
    );
    assert!(
        frames.contains(&format!(
            "{}… creating a fresh backup of the source",
            columns("backup")
        )),
        "the fresh backup's start is not a log line:\n{screen}"
    );
    // `[` of a bar sits where the text of a log line starts: after the columns, a mark, a space.
    let bar = Regex::new(
        r"^ +files2  (download|upload)  [\u2800-\u28ff] \[[=> ]{28}\] \d+(\.\d)? (B|kB|MB)/\d+\.\d (kB|MB) \d+(\.\d)? (B|kB|MB)/s ETA",
    )
    .unwrap();
    let bars: Vec<&String> = frames.iter().filter(|f| f.contains("] ")).collect();
    assert!(
        bars.iter().any(|f| bar.is_match(f)),
        "no transfer bar in the log's columns and units:\n{bars:#?}"
    );
    // The column where a log line's text starts: after who, step, the mark and a space.
    let done = format!("{}✓ downloaded ", columns("download"));
    assert!(
        frames.iter().any(|f| f.starts_with(&done)),
        "no download result line:\n{screen}"
    );
    let text_at = done.chars().count() - "downloaded ".len();
    for b in bars.iter().filter(|f| bar.is_match(f)) {
        assert_eq!(b.chars().position(|c| c == '['), Some(text_at), "{b}");
    }
    assert!(
        !screen.contains("MiB") && !screen.contains("KiB"),
        "{screen}"
    );
}

/// Ctrl-C during a wait: the spinner is cleared before the error is printed, and nothing is
/// drawn after it.
#[test]
fn ctrl_c_clears_the_spinners_before_the_error() {
    let sb = TestSandbox::start();
    sb.faults(&Faults {
        commit_phase_ms: Some(50),
        backup_delay_ms: Some(50),
        restore_delay_ms: Some(60_000),
        ..Faults::default()
    });
    let (_dir, plan) = common::plan_copy("files-only.yaml");
    let mut session = spawn_run(&sb, &plan);
    session
        .expect(Pattern(r"RESTORING for 0m0[1-9]s"))
        .expect("the wait's spinner");
    session.send("\x03").expect("Ctrl-C");
    let found = session.expect(Eof).expect("the run ends");
    let screen = String::from_utf8_lossy(found.as_bytes()).into_owned();
    let code = match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("the run did not exit normally: {other:?}"),
    };
    assert_eq!(code, 4, "exit code; the terminal showed:\n{screen}");
    let error_at = screen
        .find("error: interrupted")
        .unwrap_or_else(|| panic!("no error line:\n{screen:?}"));
    let (before, after) = screen.split_at(error_at);
    let spinner = Regex::new(r"[\u2800-\u28ff]").unwrap();
    assert!(!spinner.is_match(after), "drawn after the error: {after:?}");
    // The last spinner frame drawn before the error is cleared, not left frozen.
    let last_frame = spinner.find_iter(before).last().map_or(0, |m| m.end());
    assert!(
        before[last_frame..].contains("\x1b[2K"),
        "the spinner stays on screen: {:?}",
        &before[last_frame..]
    );
}

/// In a terminal, a target the run cannot account for is not a dead end: the run names what it
/// found, offers to destroy and recreate it, and on "y" reaches the end state. (With `--yes`
/// alone it never destroys: tests/crash_resume.rs.)
#[test]
fn an_ambiguous_target_is_offered_for_recreation_in_a_terminal() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let (_dir, plan) = common::plan_copy("files-only.yaml");
    // An attempt cut off after its upload, its journal lost: files2 holds an upload nothing
    // explains.
    sb.cmd()
        .env("SETOPS_MIGRATE_CRASH_AT", "upload:after")
        .args(["run", plan.to_str().unwrap(), "--yes"])
        .expect(setops_migrate::migrate::crash::CRASH_EXIT)
        .any_stdout()
        .stderr_has("crash point upload:after reached")
        .run();
    std::fs::remove_dir_all(common::state_dir_of(&plan)).unwrap();

    let mut command = Command::new(BIN);
    command
        .args(["-p", "shop", "-s", "production", "run"])
        .arg(&plan)
        .current_dir(plan.parent().unwrap())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", plan.parent().unwrap())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("SETOPS_API_URL", &sb.url)
        .env("SETOPS_TOKEN", &sb.token);
    let mut session = Session::spawn(command).expect("the binary starts on a pty");
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session.expect("[y/N]").expect("asks to run");
    session.send_line("y").unwrap();
    session
        .expect("cannot tell whether target files2")
        .expect("names the ambiguous target");
    session
        .expect("Destroy and recreate files2 now, then redo its migration? [y/N]")
        .expect("offers to recreate");
    session.send_line("y").unwrap();
    let found = session.expect(Eof).expect("the run ends");
    let screen = String::from_utf8_lossy(found.as_bytes()).into_owned();
    let code = match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("the run did not exit normally: {other:?}"),
    };
    assert_eq!(code, 0, "exit code; the terminal showed:\n{screen}");
    assert!(screen.contains("destroyed files2"), "{screen}");
    let backups = sb.backups("files2");
    assert_eq!(
        backups.len(),
        1,
        "one upload on the new files2: {backups:?}"
    );
    assert_eq!(backups[0]["restore_count"], 1, "{backups:?}");
}
