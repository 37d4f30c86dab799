//! Snapshots of what a person reads: `--help` of the binary and of every subcommand, the
//! `run --dry-run` summary and the final summary of `run --yes` against the in-process sandbox.
//! Values that change from run to run (IDs, times, temp paths) are redacted first.
//!
//! Update after an intended change: `INSTA_UPDATE=always cargo test --test snapshots_cli`, then
//! review `git diff tests/snapshots/`. With CI=true a missing or changed snapshot fails.

mod common;

use std::path::Path;

use clap::CommandFactory;
use regex::Regex;
use setops_migrate::cli::Cli;

use common::{Cmd, Ran, TestSandbox};

/// Help text at a fixed width, whatever the terminal running the tests.
fn help(path: &[&str]) -> Ran {
    Cmd::new()
        .args(path)
        .arg("--help")
        .env("COLUMNS", "100")
        .expect(0)
        .any_stdout()
        .run()
}

/// Every subcommand path below `cmd`, depth first, in declaration order.
fn subcommand_paths(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
    for sub in cmd.get_subcommands() {
        let mut path = prefix.to_vec();
        path.push(sub.get_name().to_owned());
        out.push(path.clone());
        subcommand_paths(sub, &path, out);
    }
}

/// A snapshot name from a command path: `backup:info` becomes `help_backup-info`.
fn snapshot_name(path: &[String]) -> String {
    let parts: Vec<String> = path.iter().map(|p| p.replace(':', "-")).collect();
    format!("help_{}", parts.join("_"))
}

#[test]
fn help_of_the_binary() {
    insta::assert_snapshot!("help", help(&[]).stdout);
}

#[test]
fn help_of_every_subcommand() {
    let mut paths = Vec::new();
    subcommand_paths(&Cli::command(), &[], &mut paths);
    assert!(
        paths.len() > 20,
        "expected every command of the CLI contract, found {paths:?}"
    );
    for path in &paths {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let ran = help(&args);
        insta::assert_snapshot!(snapshot_name(path), ran.stdout, &path.join(" "));
    }
}

/// Replaces what differs between runs: temp dirs by a name; IDs, times, sizes and hashes by a
/// placeholder of the same width, so table columns keep their alignment.
struct Redactor {
    dirs: Vec<(String, &'static str)>,
    /// A pattern and its placeholder; where the pattern has a group `v`, only that is replaced.
    values: Vec<(Regex, &'static str)>,
}

impl Redactor {
    fn new(dirs: &[(&Path, &'static str)]) -> Redactor {
        let mut named = Vec::new();
        for (dir, name) in dirs {
            named.push((dir.to_string_lossy().into_owned(), *name));
            if let Ok(real) = dir.canonicalize() {
                named.push((real.to_string_lossy().into_owned(), *name));
            }
        }
        // /private/tmp/x before /tmp/x, where the temp dir is a symlink (macOS).
        named.sort_by_key(|(dir, _)| std::cmp::Reverse(dir.len()));
        let values = [
            (
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                "[uuid]",
            ),
            (
                r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| UTC)?",
                "[time]",
            ),
            // The demo's s3 archive differs by a few bytes from run to run; keep the unit.
            (r"\b(?<v>\d+(\.\d+)?) (B|kB|MB|GB)\b", "[n]"),
            // Journal names hash the endpoint, whose port is random.
            (r"-(?<v>[0-9a-f]{10})\.json\b", "[hash]"),
        ]
        .into_iter()
        .map(|(pattern, with)| (Regex::new(pattern).unwrap(), with))
        .collect();
        Redactor {
            dirs: named,
            values,
        }
    }

    fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (dir, name) in &self.dirs {
            out = out.replace(dir.as_str(), name);
        }
        for (re, with) in &self.values {
            out = re
                .replace_all(&out, |c: &regex::Captures| {
                    let all = c.get(0).unwrap();
                    let v = c.name("v").unwrap_or(all);
                    let width = v.as_str().chars().count();
                    format!(
                        "{}{with:-<width$}{}",
                        &all.as_str()[..v.start() - all.start()],
                        &all.as_str()[v.end() - all.start()..]
                    )
                })
                .into_owned();
        }
        // A cutover's downtime varies in width too ("3s 700ms", "11s 500ms").
        let downtime = Regex::new(r"downtime \d+(?:ms|h|m|s)(?: \d+(?:ms|h|m|s))*").unwrap();
        downtime
            .replace_all(&out, "downtime [duration]")
            .into_owned()
    }
}

/// The demo plan, copied out of the source tree so the journal lands in a temp dir.
fn demo_plan() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("demo.yaml");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("plans/demo.yaml");
    std::fs::copy(&source, &plan).unwrap();
    (dir, plan)
}

#[test]
fn redaction_keeps_widths_and_units() {
    let r = Redactor::new(&[(Path::new("/tmp/.tmpAbC"), "[DIR]")]);
    assert_eq!(
        r.apply("/tmp/.tmpAbC/x-0123456789.json 899.0 kB | 4.6 MB 2026-11-24T18:30:00Z"),
        "[DIR]/x-[hash]----.json [n]-- kB | [n] MB [time]--------------"
    );
    assert_eq!(
        r.apply("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
        format!("{:-<36}", "[uuid]")
    );
}

#[test]
fn dry_run_summary_of_the_demo_plan() {
    let sb = TestSandbox::start();
    let (dir, plan) = demo_plan();
    let ran = sb
        .cmd()
        .current_dir(dir.path())
        .args(["run", "--dry-run", plan.to_str().unwrap()])
        .env("COLUMNS", "100")
        .expect(0)
        .any_stdout()
        .run();
    let redact = Redactor::new(&[(dir.path(), "[PLAN_DIR]"), (sb.dir.path(), "[SANDBOX]")]);
    insta::assert_snapshot!("run_dry_run", redact.apply(&ran.stdout));
}

#[test]
fn final_summary_of_a_demo_run() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let (dir, plan) = demo_plan();
    let ran = sb
        .cmd()
        .current_dir(dir.path())
        .args(["run", "--yes", plan.to_str().unwrap()])
        .env("COLUMNS", "100")
        .expect(0)
        .any_stdout()
        .any_stderr()
        .run();
    let redact = Redactor::new(&[(dir.path(), "[PLAN_DIR]"), (sb.dir.path(), "[SANDBOX]")]);
    insta::assert_snapshot!("run_yes_summary", redact.apply(&ran.stdout));
}

/// The JSON event stream of a demo run, one line per event: migration, step, phase, kind and
/// message, with IDs, sizes, times and paths redacted. Progress events are left out (how many a
/// poll sees depends on timing), and events are grouped by migration (the run-wide ones first)
/// because migrations run concurrently; within a group the order is the run's.
#[test]
fn json_event_stream_of_a_demo_run() {
    let sb = TestSandbox::start();
    sb.speed_up();
    let (dir, plan) = demo_plan();
    let ran = sb
        .cmd()
        .current_dir(dir.path())
        .args(["run", "--yes", "-o", "json", plan.to_str().unwrap()])
        .expect(0)
        .any_stdout()
        .run();
    let redact = Redactor::new(&[(dir.path(), "[PLAN_DIR]"), (sb.dir.path(), "[SANDBOX]")]);
    let after = Regex::new(r"after (\d+[a-z]+ ?)+").unwrap();
    // Widths vary with the sizes (an archive differs by a few bytes from run to run): one token.
    let size = Regex::new(r"\[n\]-* (B|kB|MB|GB)").unwrap();
    let uuid = Regex::new(r"\[uuid\]-*").unwrap();
    let mut events: Vec<(String, String)> = Vec::new();
    for line in ran.stdout.lines() {
        let event: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        for field in ["run_id", "phase", "elapsed_ms", "message"] {
            assert!(event.get(field).is_some(), "no {field}: {line}");
        }
        if event["phase"] == "progress" {
            continue;
        }
        let migration = event["migration"].as_str().unwrap_or("").to_owned();
        let message = redact.apply(event["message"].as_str().unwrap_or_default());
        let message = after.replace_all(&message, "after [duration]");
        let message = size.replace_all(&message, "[size]");
        let message = uuid.replace_all(&message, "[uuid]");
        events.push((
            migration.clone(),
            format!(
                "{:<10} {:<9} {:<8} {:<24} {message}",
                if migration.is_empty() {
                    "-"
                } else {
                    &migration
                },
                event["step"].as_str().unwrap_or("-"),
                event["phase"].as_str().unwrap_or("-"),
                event["kind"].as_str().unwrap_or("-"),
            ),
        ));
    }
    // Stable: each migration's events keep their order.
    events.sort_by(|a, b| a.0.cmp(&b.0));
    let text: Vec<String> = events.into_iter().map(|(_, line)| line).collect();
    insta::assert_snapshot!("run_json_events", text.join("\n"));
}
