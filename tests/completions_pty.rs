//! The bash completion script in a real interactive bash on a pseudo-terminal, as a person uses
//! it: readline splits words at ':', so `noun:verb` commands are what this checks. Also the man
//! page names no page that is not generated.

use std::process::Command;
use std::time::Duration;

use expectrl::session::OsSession as Session;
use expectrl::{Expect, Regex};

const BIN: &str = env!("CARGO_BIN_EXE_setops-migrate");
const PROMPT: &str = "READY> ";

/// An interactive bash with no startup files, the script of `completions bash` sourced.
fn bash_with_completions(dir: &std::path::Path) -> Session {
    let script = dir.join("setops-migrate.bash");
    let out = Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{out:?}");
    std::fs::write(&script, &out.stdout).unwrap();

    let found = Command::new("bash").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "this test needs bash: install it (apt-get install bash)"
    );
    let mut command = Command::new("bash");
    command
        .args(["--norc", "--noprofile", "-i", "-o", "emacs"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("INPUTRC", "/dev/null")
        .env("TERM", "dumb")
        .env("PS1", PROMPT);
    let mut session = Session::spawn(command).expect("bash starts on a pty");
    session
        .get_process_mut()
        .set_window_size(200, 40)
        .expect("window size");
    // As on a person's terminal (the pty starts with echo off): readline shows the edited line.
    session
        .get_process_mut()
        .set_echo(true, None)
        .expect("echo on");
    session.set_expect_timeout(Some(Duration::from_secs(10)));
    session
        .send_line(format!("source {}", script.display()))
        .unwrap();
    session.send_line("echo sourced-$((40+2))").unwrap();
    session.expect("sourced-42").expect("the script is sourced");
    session.expect(PROMPT).expect("the prompt");
    session
}

/// Types `line`, presses Tab (twice when `list`, which shows the candidates of an ambiguous
/// word), then prints the edited line with `echo`; returns what the terminal showed before it
/// (the candidate list, if any) and the line as bash left it.
fn complete(session: &mut Session, line: &str, list: bool) -> (String, String) {
    // Typed once readline reads the terminal, as a person would.
    std::thread::sleep(Duration::from_millis(200));
    session.send(line).unwrap();
    session.send(if list { "\t\t" } else { "\t" }).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    // Ctrl-A, `echo "[`, Ctrl-E, `]"`, Enter: the output line is the completed line alone,
    // trailing space included.
    session.send("\x01echo \"[\x05]\"\r").unwrap();
    let found = session
        .expect(Regex(r"\n\[(setops-migrate[^\]\r\n]*)\]\r"))
        .unwrap_or_else(|e| panic!("the line {line:?} was not echoed: {e}"));
    let before = String::from_utf8_lossy(found.before()).into_owned();
    let edited = found
        .get(1)
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .unwrap_or_default();
    session.expect(PROMPT).expect("the prompt comes back");
    (before, edited)
}

#[test]
fn bash_completes_colon_commands_and_their_options() {
    let dir = tempfile::tempdir().unwrap();
    let mut bash = bash_with_completions(dir.path());

    let (_, line) = complete(&mut bash, "setops-migrate backup:do", false);
    assert_eq!(line, "setops-migrate backup:download ");

    // `changeset:` lists the verbs and keeps the line as it was: no `changeset:changeset:info`.
    let (shown, line) = complete(&mut bash, "setops-migrate changeset:", true);
    assert_eq!(line, "setops-migrate changeset:");
    for verb in ["info", "commit", "discard"] {
        assert!(shown.contains(verb), "{verb} not offered: {shown:?}");
    }
    assert!(!shown.contains("changeset:changeset"), "{shown:?}");

    let (_, line) = complete(&mut bash, "setops-migrate changeset:i", false);
    assert_eq!(line, "setops-migrate changeset:info ");

    // A command's own options, after a colon command and after global flags.
    let (_, line) = complete(
        &mut bash,
        "setops-migrate -p shop backup:download --fo",
        false,
    );
    assert_eq!(line, "setops-migrate -p shop backup:download --force ");
    let (_, line) = complete(&mut bash, "setops-migrate run --dry", false);
    assert_eq!(line, "setops-migrate run --dry-run ");
    let (_, line) = complete(&mut bash, "setops-migrate sandbox se", false);
    assert_eq!(line, "setops-migrate sandbox serve ");
}

#[test]
fn the_man_page_names_no_page_that_is_not_generated() {
    let out = Command::new(BIN)
        .arg("man")
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(!page.contains("setops\\-migrate\\-backup"), "{page}");
    assert!(!page.contains("(1)"), "{page}");
    assert!(
        page.contains(".SS \"setops-migrate backup:download\""),
        "{page}"
    );
    assert!(page.contains("\\-\\-print\\-url"), "{page}");
}
