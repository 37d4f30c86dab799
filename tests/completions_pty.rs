//! The completion scripts in a real interactive bash and zsh on a pseudo-terminal, as a person
//! uses them: readline splits words at ':' and zsh reads `name:description`, so `noun:verb`
//! commands are what this checks. Also the man page names no page that is not generated.

use std::process::Command;
use std::time::Duration;

use expectrl::session::OsSession as Session;
use expectrl::{Expect, Regex};

const BIN: &str = env!("CARGO_BIN_EXE_setops-migrate");
const PROMPT: &str = "READY> ";

/// The shells the scripts are checked in, and how each loads `completions SHELL`.
#[derive(Clone, Copy)]
enum Shell {
    Bash,
    Zsh,
}

impl Shell {
    fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
        }
    }

    /// No startup files; emacs key bindings, as a person's shell has by default.
    fn args(self) -> &'static [&'static str] {
        match self {
            Shell::Bash => &["--norc", "--noprofile", "-i", "-o", "emacs"],
            Shell::Zsh => &["-f", "-i"],
        }
    }

    /// Writes the script where the shell finds it; returns the line that loads it.
    fn load(self, dir: &std::path::Path, script: &[u8]) -> String {
        match self {
            Shell::Bash => {
                let file = dir.join("setops-migrate.bash");
                std::fs::write(&file, script).unwrap();
                format!("source {}", file.display())
            }
            Shell::Zsh => {
                let functions = dir.join("zsh-functions");
                std::fs::create_dir_all(&functions).unwrap();
                std::fs::write(functions.join("_setops-migrate"), script).unwrap();
                format!(
                    "fpath=({} $fpath); autoload -U compinit; compinit -u",
                    functions.display()
                )
            }
        }
    }
}

/// An interactive shell with no startup files and the script of `completions SHELL` loaded.
fn shell_with_completions(shell: Shell, dir: &std::path::Path) -> Session {
    let out = Command::new(BIN)
        .args(["completions", shell.name()])
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{out:?}");
    let load = shell.load(dir, &out.stdout);

    let found = Command::new(shell.name()).arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "this test needs {0}: install it (apt-get install {0}, or run scripts/test)",
        shell.name()
    );
    let mut command = Command::new(shell.name());
    command
        .args(shell.args())
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("INPUTRC", "/dev/null")
        .env("TERM", "dumb");
    let mut session = Session::spawn(command).expect("the shell starts on a pty");
    session
        .get_process_mut()
        .set_window_size(200, 40)
        .expect("window size");
    // As on a person's terminal (the pty starts with echo off): the editor shows the line.
    session
        .get_process_mut()
        .set_echo(true, None)
        .expect("echo on");
    session.set_expect_timeout(Some(Duration::from_secs(10)));
    session.send_line(format!("PS1='{PROMPT}'")).unwrap();
    session.send_line(load).unwrap();
    session.send_line("echo loaded-$((40+2))").unwrap();
    session.expect("loaded-42").expect("the script is loaded");
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
    let mut bash = shell_with_completions(Shell::Bash, dir.path());

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
fn zsh_completes_colon_commands_and_their_options() {
    let dir = tempfile::tempdir().unwrap();
    let mut zsh = shell_with_completions(Shell::Zsh, dir.path());

    // zsh takes back the space it added after a completed word when the next key edits the
    // line (Ctrl-A here), so the words are compared.
    let (_, line) = complete(&mut zsh, "setops-migrate backup:do", false);
    assert_eq!(line.trim_end(), "setops-migrate backup:download");
    // One Tab lists the candidates of an ambiguous word, with their descriptions.
    let (shown, line) = complete(&mut zsh, "setops-migrate changeset:", false);
    assert_eq!(line, "setops-migrate changeset:");
    for name in ["changeset:info", "changeset:commit", "changeset:discard"] {
        assert!(shown.contains(name), "{name} not offered: {shown:?}");
    }
    assert!(!shown.contains("changeset:changeset"), "{shown:?}");
    let (_, line) = complete(
        &mut zsh,
        "setops-migrate -p shop backup:download --fo",
        false,
    );
    assert_eq!(
        line.trim_end(),
        "setops-migrate -p shop backup:download --force"
    );
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
