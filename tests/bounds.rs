//! Hostile input, bounded: a gzip bomb restored into a volume and into a mongodb4 service, an
//! endless token file, arguments of 120 KB, a status of a plan that does not exist and a sandbox
//! asked to serve every interface. Each is refused with a message that names what was wrong, and
//! memory and disk stay bounded while it happens (measured on the processes themselves: the
//! background sandbox's peak RSS from /proc, the client's with GNU time).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::bomb::{gzip_bomb, tar_gz_bomb, write_bomb};
use common::{BIN, Cmd, restore_hint};
use serde_json::Value;

/// Peak RSS a background sandbox may reach while refusing a bomb. It idles at a few tens of MiB;
/// unpacking 2 GiB in memory, or buffering it, would go far past this.
const SANDBOX_RSS_LIMIT_KIB: u64 = 200 * 1024;
/// What the client may use to refuse an endless token file (it idles at about 15 MiB).
const CLIENT_RSS_LIMIT_KIB: u64 = 64 * 1024;

/// A sandbox served by a background process (`--sandbox DIR`), so its own memory can be read.
struct Background {
    dir: tempfile::TempDir,
}

impl Background {
    fn start() -> Background {
        let dir = tempfile::tempdir().expect("tempdir");
        let bg = Background { dir };
        bg.cmd()
            .arg("service")
            .expect(0)
            .any_stdout()
            .stderr_has("Started the sandbox of ")
            .run();
        bg
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self) -> Cmd {
        Cmd::new()
            .arg("--sandbox")
            .arg(self.path().to_str().expect("utf-8 dir"))
            .args(["-p", "shop", "-s", "production"])
    }

    fn server(&self) -> Value {
        let text = std::fs::read_to_string(self.path().join("server.json")).expect("server.json");
        serde_json::from_str(&text).expect("server.json is JSON")
    }

    /// VmHWM of the server process: its peak resident memory so far.
    fn peak_rss_kib(&self) -> u64 {
        let pid = self.server()["pid"].as_u64().expect("pid");
        let status =
            std::fs::read_to_string(format!("/proc/{pid}/status")).expect("server is alive");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status")
    }

    fn upload(&self, service: &str, file: &Path) -> String {
        let ran = self
            .cmd()
            .args(["--service", service, "-o", "json", "backup:upload"])
            .arg(file.to_str().expect("utf-8 path"))
            .expect(0)
            .any_stdout()
            .any_stderr()
            .run();
        ran.json()["id"].as_str().expect("id").to_owned()
    }

    /// Restores `id` into `service` and waits until the restore has an outcome.
    fn restore(&self, service: &str, id: &str) -> Value {
        self.cmd()
            .args(["--service", service, "backup:restore", id])
            .expect(0)
            .any_stdout()
            .stderr(&restore_hint(id))
            .run();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let info = self
                .cmd()
                .args(["--service", service, "-o", "json", "backup:info", id])
                .expect(0)
                .any_stdout()
                .run()
                .json();
            let outcome = &info["last_restore"]["outcome"];
            if outcome != "RUNNING" && !outcome.is_null() {
                return info["last_restore"].clone();
            }
            assert!(Instant::now() < deadline, "restore still running: {info}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn data_dir(&self, service: &str) -> PathBuf {
        self.path().join("data/shop/production").join(service)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = Cmd::new()
            .args(["sandbox", "stop", "--dir"])
            .arg(self.path().to_str().unwrap_or_default())
            .run_unchecked();
    }
}

/// Bytes of every file under `root`.
fn disk_usage(root: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

#[test]
fn a_gzip_bomb_is_refused_with_memory_and_disk_bounded() {
    let bg = Background::start();
    let work = tempfile::tempdir().expect("tempdir");
    // 2 MB that unpack to 2 GiB of zeros.
    let bomb = write_bomb(
        work.path(),
        "bomb.tar.gz",
        &tar_gz_bomb("zeros.bin", 2 << 30),
    );
    assert!(std::fs::metadata(&bomb).expect("bomb").len() < 2_200_000);
    let before = disk_usage(&bg.path().join("data"));
    let id = bg.upload("scratch", &bomb);
    let record = bg.restore("scratch", &id);
    assert_eq!(record["outcome"], "FAILED", "{record}");
    let error = record["error"].as_str().expect("error text");
    assert!(error.contains("decompression bomb"), "{error}");
    assert!(error.contains("nothing was written"), "{error}");
    // Nothing unpacked, nothing left beside the data.
    assert!(!bg.data_dir("scratch").join("zeros.bin").exists());
    let leftovers: Vec<_> = std::fs::read_dir(bg.path().join("data/shop/production"))
        .expect("stage dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    assert_eq!(disk_usage(&bg.path().join("data")), before, "data grew");
    let rss = bg.peak_rss_kib();
    assert!(
        rss < SANDBOX_RSS_LIMIT_KIB,
        "the sandbox peaked at {rss} KiB"
    );
}

#[test]
fn a_mongodump_bomb_is_refused_without_decompressing_it_all() {
    let bg = Background::start();
    bg.cmd()
        .args([
            "service:create",
            "docs",
            "--type",
            "mongodb4",
            "--plan",
            "db.t3.medium",
        ])
        .expect(0)
        .any_stdout()
        .run();
    bg.cmd()
        .args(["-o", "plain", "changeset:commit"])
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    let work = tempfile::tempdir().expect("tempdir");
    // The archive's magic number, then 1 GiB of zeros: a 1 MB file.
    let bomb = write_bomb(
        work.path(),
        "docs.archive.gz",
        &gzip_bomb(&0x8199_e26d_u32.to_le_bytes(), 1 << 30),
    );
    let id = bg.upload("docs", &bomb);
    let started = Instant::now();
    let record = bg.restore("docs", &id);
    assert_eq!(record["outcome"], "FAILED", "{record}");
    let error = record["error"].as_str().expect("error text");
    assert!(error.contains("decompression bomb"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "refusing took {:?}",
        started.elapsed()
    );
    assert!(!bg.data_dir("docs").join("dump.archive.gz").exists());
    let rss = bg.peak_rss_kib();
    assert!(
        rss < SANDBOX_RSS_LIMIT_KIB,
        "the sandbox peaked at {rss} KiB"
    );
}

/// Runs the binary under GNU time; returns (exit code, stderr, peak RSS in KiB).
fn measured(args: &[&str]) -> (i32, String, u64) {
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "this test measures memory with GNU time: apt-get install time (scripts/test does)"
    );
    let work = tempfile::tempdir().expect("tempdir");
    let report = work.path().join("rss");
    let out = Command::new(time)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", work.path())
        .stdin(Stdio::null())
        .output()
        .expect("GNU time runs");
    let rss = std::fs::read_to_string(&report)
        .expect("GNU time's report")
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("peak RSS in KiB");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        rss,
    )
}

#[test]
fn an_endless_token_file_is_refused_with_memory_bounded() {
    // Nothing listens on port 1: the token is read before any request.
    let (code, stderr, rss) = measured(&[
        "--api",
        "http://127.0.0.1:1",
        "--token-file",
        "/dev/zero",
        "-p",
        "shop",
        "-s",
        "production",
        "service",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--token-file /dev/zero"), "{stderr}");
    assert!(stderr.contains("64 KiB"), "{stderr}");
    assert!(rss < CLIENT_RSS_LIMIT_KIB, "the client peaked at {rss} KiB");
}

#[test]
fn huge_arguments_are_refused_before_any_request_with_a_short_message() {
    let huge = "a".repeat(120 * 1024);
    let id = "6a6fcd7a-7063-4cb4-a748-8f765eea39a2";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["-p", &huge, "-s", "production", "service"],
            "-p/--project",
        ),
        (vec!["-p", "shop", "-s", &huge, "service"], "-s/--stage"),
        (
            vec!["-p", "shop", "-s", "production", "service:info", &huge],
            "NAME",
        ),
        (
            vec![
                "-p",
                "shop",
                "-s",
                "production",
                "--service",
                &huge,
                "backup",
            ],
            "--service",
        ),
        (
            vec!["-p", "shop", "-s", "production", "--app", &huge, "link"],
            "--app",
        ),
        (
            vec![
                "-p",
                "shop",
                "-s",
                "production",
                "--service",
                "files",
                "backup:info",
                &huge,
            ],
            "ID",
        ),
        (
            vec![
                "-p",
                "shop",
                "-s",
                "production",
                "--app",
                "web",
                "link:create",
                "files",
                "--env-key",
                &huge,
            ],
            "--env-key",
        ),
        (
            vec![
                "-p",
                "shop",
                "-s",
                "production",
                "--service",
                "media",
                "option:set",
                "blockPublicAccess",
                &huge,
            ],
            "VALUE",
        ),
        (
            vec![
                "-p",
                "shop",
                "-s",
                "production",
                "--service",
                "files",
                "backup:restore",
                "nope",
            ],
            "ID",
        ),
        (
            vec![
                "-p",
                "shop",
                "-s",
                "production",
                "--service",
                "files",
                "backup:download",
                id,
                "-f",
            ],
            // A valid ID goes on to the request: nothing listens, so the run fails (exit 1).
            "",
        ),
    ];
    for (args, named) in cases {
        let ran = Cmd::new()
            .env("SETOPS_API_URL", "http://127.0.0.1:1")
            .env("SETOPS_TOKEN", "unused")
            .args(&args)
            .run_unchecked();
        let shown: Vec<String> = args.iter().map(|a| a.chars().take(20).collect()).collect();
        if named.is_empty() {
            assert_eq!(ran.status, 1, "{shown:?}: {}", ran.stderr);
            continue;
        }
        assert_eq!(ran.status, 2, "{shown:?}: {}", ran.stderr);
        assert!(
            ran.stderr.starts_with(&format!("error: {named}: ")),
            "{shown:?}: {}",
            ran.stderr
        );
        assert!(
            ran.stderr.contains("nothing was sent to the platform"),
            "{shown:?}: {}",
            ran.stderr
        );
        assert!(
            ran.stderr.len() < 1024,
            "{shown:?}: a {} byte message",
            ran.stderr.len()
        );
    }
}

#[test]
fn status_of_a_plan_that_is_not_there_is_a_usage_error() {
    Cmd::new()
        .args(["status", "/nonexistent/plan.yaml"])
        .expect(2)
        .stderr_has("PLAN /nonexistent/plan.yaml")
        .run();
    let dir = tempfile::tempdir().expect("tempdir");
    Cmd::new()
        .arg("status")
        .arg(dir.path().to_str().expect("utf-8"))
        .expect(2)
        .stderr_has("is not a file")
        .run();
}

#[test]
fn a_sandbox_serves_other_machines_only_with_public_and_says_what_they_see() {
    let parent = tempfile::tempdir().expect("tempdir");
    let dir = parent.path().join("sb");
    Cmd::new()
        .args(["sandbox", "serve", "--listen", "0.0.0.0:0", "--dir"])
        .arg(dir.to_str().expect("utf-8"))
        .expect(2)
        .stderr_has("--listen 0.0.0.0:0: not a loopback address")
        .stderr_has("connection endpoint")
        .stderr_has("pre-signed transfer URLs")
        .stderr_has("--public")
        .run();
    assert!(!dir.exists(), "a refused serve created its directory");

    // With --public it serves, and the first thing on stderr says what is exposed. It is
    // stopped as soon as that is read.
    let mut child = Command::new(BIN)
        .args([
            "sandbox",
            "serve",
            "--public",
            "--listen",
            "0.0.0.0:0",
            "--dir",
        ])
        .arg(&dir)
        .envs(common::sandbox_env())
        .env("HOME", parent.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut said = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("stderr line");
        said.push_str(&line);
        said.push('\n');
        if line.contains("Not exposed") {
            break;
        }
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let status = child.wait().expect("serve stops");
    assert!(
        said.contains("warning: --public: this sandbox listens on 0.0.0.0:"),
        "{said}"
    );
    for exposed in [
        "over plain HTTP",
        "database passwords",
        "pre-signed transfer URLs",
    ] {
        assert!(said.contains(exposed), "{exposed}: {said}");
    }
    assert!(said.contains("listen on 127.0.0.1 only"), "{said}");
    assert!(status.success(), "serve ended with {status} on SIGTERM");
}
