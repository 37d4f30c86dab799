//! The sandbox as a process, through the real binary: the global `--sandbox DIR` flag starting a
//! background server and reusing it, state kept across `sandbox stop`, a restore in flight at stop
//! time, and `sandbox serve` in the foreground ending on SIGTERM and on Ctrl-C. Every server a test starts is
//! stopped when the test ends, pass or fail.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{BIN, Cmd, Expectation, queued, restore_hint};
use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession as Session;
use expectrl::{Eof, Expect};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use setops_migrate::api::{Faults, ServerInfo, paths};

/// A sandbox directory (not created yet: the first command seeds it). Dropping it runs
/// `sandbox stop --dir DIR`, so no background server outlives its test.
struct SandboxDir {
    root: tempfile::TempDir,
    dir: PathBuf,
}

impl SandboxDir {
    fn new() -> SandboxDir {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("sandbox");
        SandboxDir { root, dir }
    }

    fn dir_arg(&self) -> &str {
        self.dir.to_str().expect("utf-8 path")
    }

    /// A command using this sandbox, scoped to shop/production, with no platform in the env.
    fn cmd(&self) -> Cmd {
        Cmd::new().current_dir(self.root.path()).args([
            "--sandbox",
            self.dir_arg(),
            "-p",
            "shop",
            "-s",
            "production",
        ])
    }

    /// `sandbox stop --dir DIR`, which succeeds whether or not a server runs.
    fn stop(&self) -> Expectation {
        Cmd::new()
            .args(["sandbox", "stop", "--dir", self.dir_arg()])
            .expect(0)
    }

    /// What `sandbox stop` says when it stopped the server `pid`.
    fn stopped(&self, pid: u32) -> String {
        format!("Stopped the sandbox of {} (pid {pid}).\n", self.dir_arg())
    }

    /// The start of what a `--sandbox DIR` command says on stderr when it started the server.
    fn started(&self) -> String {
        format!(
            "Started the sandbox of {} in the background at ",
            self.dir_arg()
        )
    }

    /// What `sandbox stop` says when no server runs.
    fn none_running(&self) -> String {
        format!("No sandbox is running for {}.\n", self.dir_arg())
    }

    fn server_json(&self) -> PathBuf {
        self.dir.join("server.json")
    }

    fn info(&self) -> ServerInfo {
        let text = std::fs::read_to_string(self.server_json()).expect("server.json exists");
        serde_json::from_str(&text).expect("server.json parses")
    }

    fn token(&self) -> String {
        std::fs::read_to_string(self.dir.join("token"))
            .expect("token file")
            .trim()
            .to_owned()
    }

    /// Sets fault knobs on the running server, found through `server.json` and `DIR/token`.
    fn faults(&self, faults: &Faults) {
        let resp = reqwest::blocking::Client::new()
            .put(format!("{}{}", self.info().url, paths::sandbox_faults()))
            .bearer_auth(self.token())
            .json(faults)
            .send()
            .expect("faults request");
        assert!(resp.status().is_success(), "faults: {}", resp.status());
    }
}

impl Drop for SandboxDir {
    fn drop(&mut self) {
        let _ = Command::new(BIN)
            .args(["sandbox", "stop", "--dir"])
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A process is gone when /proc no longer lists it or lists it as a zombie (nobody may reap
/// an orphaned server inside a container).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

fn healthy(url: &str) -> bool {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client")
        .get(format!("{url}{}", paths::health()))
        .send()
        .is_ok_and(|r| r.status().is_success())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn status_of(sb: &SandboxDir, service: &str, id: &str) -> String {
    let json = sb
        .cmd()
        .args(["--service", service, "-o", "json", "backup"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let backup = json
        .as_array()
        .expect("array")
        .iter()
        .find(|b| b["id"] == id)
        .unwrap_or_else(|| panic!("backup {id} not listed: {json}"))
        .clone();
    backup["status"].as_str().expect("status").to_owned()
}

#[test]
fn the_sandbox_flag_starts_a_background_server_and_the_next_command_reuses_it() {
    let sb = SandboxDir::new();
    assert!(!sb.dir.exists());
    let ran = sb
        .cmd()
        .args(["-o", "plain", "service"])
        .expect(0)
        .stdout("cache\ndatabase\nfiles\nmedia\nscratch\n")
        .stderr_has(sb.started())
        .run();

    let first = sb.info();
    // One line, saying where it runs and how to stop it; the next command says nothing.
    assert_eq!(
        ran.stderr,
        format!(
            "{}{}; it keeps running (stop it with `setops-migrate sandbox stop --dir {}`)\n",
            sb.started(),
            first.url,
            sb.dir_arg()
        )
    );
    assert!(!gone(first.pid), "the server runs after the command exited");
    assert!(healthy(&first.url), "{} does not answer", first.url);
    assert_eq!(
        mode(&sb.dir.join("token")),
        0o600,
        "the token file is private"
    );
    assert!(first.url.starts_with("http://127.0.0.1:"), "{}", first.url);

    sb.cmd()
        .args(["--service", "files", "backup"])
        .expect(0)
        .stdout_has("CREATED")
        .run();
    let second = sb.info();
    assert_eq!(
        second.pid, first.pid,
        "the second command started another server"
    );
    assert_eq!(second.url, first.url);

    // "Stopped", naming the pid.
    sb.stop().stdout(&sb.stopped(first.pid)).run();
    assert!(
        !sb.server_json().exists(),
        "server.json outlived its server"
    );
    assert!(
        gone(first.pid),
        "the server still runs after `sandbox stop`"
    );
}

#[test]
fn state_persists_across_stop_and_the_next_sandbox_command() {
    let sb = SandboxDir::new();
    sb.cmd()
        .args(["service:create", "committed", "--type", "volume"])
        .expect(0)
        .stdout(&queued("service:create map[name:committed type:volume]", 1))
        .stderr_has(sb.started())
        .run();
    sb.cmd()
        .arg("changeset:commit")
        .expect(0)
        .stdout_has("Commit successful!")
        .run();
    sb.cmd()
        .args(["service:create", "staged", "--type", "volume"])
        .expect(0)
        .stdout(&queued("service:create map[name:staged type:volume]", 1))
        .run();
    let backup = sb
        .cmd()
        .args(["--service", "files", "-o", "plain", "backup"])
        .expect(0)
        .any_stdout()
        .run()
        .stdout;
    let before = sb.info().pid;

    sb.stop().stdout(&sb.stopped(before)).run();
    assert!(gone(before));

    sb.cmd()
        .args(["-o", "plain", "service"])
        .expect(0)
        .stdout("cache\ncommitted\ndatabase\nfiles\nmedia\nscratch\n")
        .stderr_has(sb.started())
        .run();
    assert_ne!(sb.info().pid, before, "a new server serves the old state");
    let pending = sb
        .cmd()
        .args(["-o", "json", "changeset:info"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let commands = pending["commands"]
        .as_array()
        .expect("the staged command survived");
    assert_eq!(commands.len(), 1, "{pending}");
    assert_eq!(commands[0]["arguments"]["name"], "staged");
    sb.cmd()
        .args(["--service", "files", "-o", "plain", "backup"])
        .expect(0)
        .stdout(&backup)
        .run();
}

#[test]
fn sandbox_stop_says_so_when_nothing_runs() {
    let sb = SandboxDir::new();
    sb.stop().stdout(&sb.none_running()).run();
    assert!(!sb.server_json().exists());

    // A server.json left by a server that died is cleaned up, and nothing is signalled.
    std::fs::create_dir_all(&sb.dir).expect("mkdir");
    let mut dead = Command::new("true").spawn().expect("spawn true");
    let pid = dead.id();
    dead.wait().expect("wait");
    let stale = ServerInfo {
        url: "http://127.0.0.1:1".into(),
        pid,
        started_at: chrono::Utc::now(),
    };
    std::fs::write(sb.server_json(), serde_json::to_vec(&stale).expect("json")).expect("write");
    sb.stop().stdout(&sb.none_running()).run();
    assert!(!sb.server_json().exists(), "the stale server.json was kept");

    // After a real stop, a second stop says so too.
    sb.cmd()
        .arg("service")
        .expect(0)
        .any_stdout()
        .stderr_has(sb.started())
        .run();
    let pid = sb.info().pid;
    sb.stop().stdout(&sb.stopped(pid)).run();
    sb.stop().stdout(&sb.none_running()).run();
}

#[test]
fn a_restore_in_flight_at_stop_is_finished_or_visibly_failed_after_restart() {
    let sb = SandboxDir::new();
    let listed = sb
        .cmd()
        .args(["--service", "files", "-o", "json", "backup"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let id = listed[0]["id"].as_str().expect("seeded backup").to_owned();
    sb.faults(&Faults {
        restore_delay_ms: Some(5000),
        ..Faults::default()
    });
    sb.cmd()
        .args(["--service", "files", "backup:restore", &id])
        .expect(0)
        .stdout_has("RESTORING")
        .stderr(&restore_hint(&id))
        .run();
    assert_eq!(status_of(&sb, "files", &id), "RESTORING");

    let pid = sb.info().pid;
    sb.stop().stdout(&sb.stopped(pid)).run();

    let deadline = Instant::now() + Duration::from_secs(20);
    while status_of(&sb, "files", &id) == "RESTORING" {
        assert!(
            Instant::now() < deadline,
            "backup {id} stayed RESTORING for 20 s after the restart"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(status_of(&sb, "files", &id), "CREATED");
    let ran = sb
        .cmd()
        .args(["--service", "files", "backup:info", &id])
        .expect(0)
        .any_stdout()
        .run();
    let outcome = ran
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Last Restore:"))
        .unwrap_or_else(|| panic!("no restore outcome:\n{}", ran.stdout))
        .trim();
    assert!(
        outcome.starts_with("succeeded") || outcome.starts_with("FAILED"),
        "the restore neither finished nor failed visibly: {outcome}"
    );
    let json = sb
        .cmd()
        .args(["--service", "files", "-o", "json", "backup:info", &id])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let recorded = json["last_restore"]["outcome"].as_str().expect("outcome");
    assert!(["SUCCEEDED", "FAILED"].contains(&recorded), "{json}");
}

/// A foreground server child, killed if the test ends while it still runs.
struct Foreground(Child);

impl Drop for Foreground {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn sandbox_serve_prints_its_url_and_token_file_and_ends_on_sigterm() {
    let sb = SandboxDir::new();
    let log = std::fs::File::create(sb.root.path().join("serve.stderr")).expect("log");
    let child = Command::new(BIN)
        .args(["sandbox", "serve", "--dir", sb.dir_arg()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", sb.root.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn sandbox serve");
    let mut server = Foreground(child);
    let stdout = server.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut url = None;
    let mut token_file = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    while url.is_none() || token_file.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("sandbox serve printed its URL and token file in time");
        if let Some(u) = line.strip_prefix("Sandbox listening on ") {
            url = Some(u.trim().to_owned());
        } else if let Some(t) = line.strip_prefix("Token file: ") {
            token_file = Some(PathBuf::from(t.trim()));
        }
    }
    let url = url.expect("url");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(token_file.expect("token file"), sb.dir.join("token"));
    assert!(healthy(&url));
    let info = sb.info();
    assert_eq!(info.pid, server.0.id());
    assert_eq!(info.url, url);

    // `--sandbox DIR` uses the foreground server rather than starting another.
    sb.cmd()
        .args(["-o", "plain", "service"])
        .expect(0)
        .stdout("cache\ndatabase\nfiles\nmedia\nscratch\n")
        .run();
    assert_eq!(sb.info().pid, server.0.id());
    // A second server on the same directory is refused, naming the first.
    Cmd::new()
        .args(["sandbox", "serve", "--dir", sb.dir_arg()])
        .expect(2)
        .stderr_has(format!("pid {}", server.0.id()))
        .run();

    let pid = Pid::from_raw(i32::try_from(server.0.id()).expect("pid"));
    kill(pid, Signal::SIGTERM).expect("SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "sandbox serve ignored SIGTERM for 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "sandbox serve exited with {status}");
    assert!(
        !sb.server_json().exists(),
        "server.json outlived the foreground server"
    );
    assert!(!healthy(&url));
}

/// Ctrl-C is how `sandbox serve` is documented to stop: on a terminal it is a normal end (exit
/// 0, no error), and the server is gone.
#[test]
fn sandbox_serve_stops_on_ctrl_c_with_exit_0() {
    let sb = SandboxDir::new();
    let mut command = Command::new(BIN);
    command
        .args(["sandbox", "serve", "--dir", sb.dir_arg()])
        .current_dir(sb.root.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", sb.root.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .envs(common::sandbox_env());
    let mut session = Session::spawn(command).expect("sandbox serve starts on a pty");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    session
        .expect("Stop with Ctrl-C.")
        .expect("sandbox serve is ready");
    let url = sb.info().url;
    assert!(healthy(&url));
    session.send("\x03").expect("Ctrl-C");
    let found = session.expect(Eof).expect("sandbox serve ends");
    let screen = String::from_utf8_lossy(found.as_bytes()).into_owned();
    let code = match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("sandbox serve did not exit normally: {other:?}\n{screen}"),
    };
    assert_eq!(code, 0, "exit code; the terminal showed:\n{screen}");
    assert!(
        screen.contains(&format!("Stopped the sandbox of {}.", sb.dir_arg())),
        "{screen}"
    );
    assert!(!screen.contains("error"), "{screen}");
    assert!(!screen.contains("resume"), "{screen}");
    assert!(
        !sb.server_json().exists(),
        "server.json outlived the server"
    );
    assert!(!healthy(&url));
}

/// One platform, one journal and one lock, however it is reached: a run through `--sandbox DIR`
/// holds the lock, and the same plan through `--api` at `localhost` or at `127.0.0.1` (the same
/// server) is refused with exit 3 naming the holder, before it changes anything.
#[test]
fn one_plan_through_sandbox_dir_and_api_urls_shares_one_lock() {
    let sb = SandboxDir::new();
    sb.cmd()
        .arg("service")
        .expect(0)
        .any_stdout()
        .stderr_has(sb.started())
        .run();
    sb.faults(&Faults {
        commit_phase_ms: Some(20),
        backup_delay_ms: Some(50),
        restore_delay_ms: Some(4000),
        ..Faults::default()
    });
    let plan = sb.root.path().join("two-migrations.yaml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans/run/two-migrations.yaml"),
        &plan,
    )
    .expect("copy the plan");
    let plan = plan.to_str().expect("utf-8 path").to_owned();
    let first = sb.cmd().args(["run", &plan, "--yes"]).spawn();

    let state = sb.root.path().join(".setops-migrate");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_dir(&state).ok().is_some_and(|entries| {
        entries.flatten().any(|e| {
            e.path().extension().is_some_and(|x| x == "lock")
                && e.metadata().is_ok_and(|m| m.len() > 0)
        })
    }) {
        assert!(
            Instant::now() < deadline,
            "the first run never took its lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let port = sb.info().url.rsplit(':').next().expect("a port").to_owned();
    for host in ["localhost", "127.0.0.1"] {
        // Refused, naming the lock holder.
        Cmd::new()
            .current_dir(sb.root.path())
            .env("SETOPS_TOKEN", sb.token())
            .args(["--api", &format!("http://{host}:{port}/")])
            .args(["-p", "shop", "-s", "production", "run", &plan, "--yes"])
            .expect(3)
            .any_stdout()
            .stderr_has("another run of this plan holds the journal lock")
            .stderr_has("pid ")
            .run();
    }
    let journals: Vec<_> = std::fs::read_dir(&state)
        .expect("state dir")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(journals.len(), 1, "one journal for every spelling");
    let out = first.wait_with_output().expect("first run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "the first run\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `sandbox serve --live-apps`: said at start, and an app with a running container writes into
/// the volume it mounts (a world without database servers, to stay quick).
#[test]
fn sandbox_serve_live_apps_makes_a_running_app_write_to_its_volume() {
    let sb = SandboxDir::new();
    let seed = sb.root.path().join("seed.yaml");
    std::fs::write(
        &seed,
        "users: [{name: demo, default: true}]\nprojects:\n  - name: shop\n    stages:\n      \
         - name: prod\n        services:\n          - {name: files, type: volume}\n        \
         apps:\n          - name: web\n            links: [{service: files, path: /data}]\n          \
         - {name: idle, scale: 0, links: [{service: files, path: /data}]}\n",
    )
    .expect("seed");
    let log = std::fs::File::create(sb.root.path().join("serve.stderr")).expect("log");
    let child = Command::new(BIN)
        .args([
            "sandbox",
            "serve",
            "--live-apps",
            "--dir",
            sb.dir_arg(),
            "--seed",
        ])
        .arg(&seed)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", sb.root.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn sandbox serve");
    let mut server = Foreground(child);
    let stdout = server.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("sandbox serve says live apps are on");
        if line.starts_with("Live apps: ") {
            break;
        }
    }
    let url = sb.info().url;
    let writes = || -> setops_migrate::api::LiveWrites {
        reqwest::blocking::Client::new()
            .get(format!("{url}{}", paths::sandbox_live_writes()))
            .bearer_auth(sb.token())
            .send()
            .expect("live-writes")
            .json()
            .expect("live-writes JSON")
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = writes();
        assert!(now.enabled);
        let web = now.writers.iter().find(|w| w.app == "web");
        if web.is_some_and(|w| w.writes >= 2) {
            assert!(now.writers.iter().all(|w| w.app != "idle"), "{now:?}");
            break;
        }
        assert!(Instant::now() < deadline, "web does not write: {now:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let written = std::fs::read_dir(sb.dir.join("data/shop/prod/files/live-writes"))
        .expect("the volume holds the live writes")
        .count();
    assert!(written >= 2, "{written} file(s)");
    let pid = Pid::from_raw(i32::try_from(server.0.id()).expect("pid"));
    kill(pid, Signal::SIGTERM).expect("SIGTERM");
    let status = server.0.wait().expect("wait");
    assert!(status.success(), "sandbox serve exited with {status}");
}
