//! One crash case, shared by the crash suites: a plan run killed at a named crash point, then run
//! again with its journal, without it, or after the sandbox restarted, through the HTTP API or
//! through the setops CLI adapter and the sandbox's front. See `tests/crash_resume.rs`.

use std::path::Path;

use setops_migrate::migrate::crash::{CRASH_EXIT, POINTS};

use super::oracle::{Before, Kind, problems, settled_footprint};
use super::{Ran, TestSandbox, plan_copy, state_dir_of};

/// How the runs reach the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The HTTP API (`SETOPS_API_URL`).
    Api,
    /// The setops CLI adapter driving the sandbox's front, answering as this CLI version.
    Cli(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// The rerun finds the journal the crashed run left.
    JournalKept,
    /// The whole state directory is deleted before the rerun.
    JournalDeleted,
    /// The sandbox is stopped and served again on another port; the journal stays.
    SandboxRestarted,
}

pub const WHENS: [&str; 2] = ["before", "after"];

/// Position of a crash in run order, to tell which crashes come after a fresh backup exists.
pub fn order(point: &str, when: &str) -> usize {
    let p = POINTS
        .iter()
        .position(|p| *p == point)
        .unwrap_or_else(|| panic!("{point} is not in crash::POINTS {POINTS:?}"));
    2 * p
        + WHENS
            .iter()
            .position(|w| *w == when)
            .expect("before or after")
}

pub fn is_destroy_point(point: &str) -> bool {
    matches!(point, "stage-destroy" | "commit-destroy")
}

/// Reached only by `run --unfreeze`, after a run that stopped with the apps frozen.
pub fn is_unfreeze_point(point: &str) -> bool {
    matches!(point, "stage-unfreeze" | "commit-unfreeze")
}

/// Reached only by a plan with `freeze:` (the PostgreSQL crash plan).
pub fn is_freeze_point(point: &str) -> bool {
    matches!(point, "stage-freeze" | "commit-freeze") || is_unfreeze_point(point)
}

/// A run whose exit code is what the case observes (cut off at a crash point, or a rerun that
/// either finishes or refuses having changed nothing), so it is run unchecked.
pub fn run(sb: &TestSandbox, via: Via, plan: &str, extra: &[&str], crash: Option<&str>) -> Ran {
    let mut cmd = match via {
        Via::Api => sb.cmd(),
        Via::Cli(version) => sb.cli_cmd(version),
    }
    .args(["run", plan, "--yes"])
    .args(extra);
    if let Some(at) = crash {
        cmd = cmd.env("SETOPS_MIGRATE_CRASH_AT", at);
    }
    cmd.run_unchecked()
}

pub fn show(runs: &[&Ran]) -> String {
    runs.iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "\n=== run {} (exit {})\n--- stdout\n{}\n--- stderr\n{}",
                i + 1,
                r.status,
                r.stdout,
                r.stderr
            )
        })
        .collect()
}

pub fn case(via: Via, kind: Kind, point: &str, when: &str, then: Then) {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/plans/run")
        .join(kind.seed());
    let mut sb = TestSandbox::start_with_seed(Some(&seed));
    sb.speed_up();
    if let Via::Cli(version) = via {
        let sources: Vec<&str> = kind.expected().iter().map(|m| m.source).collect();
        sb.fit_for_cli(version, &sources);
    }
    let before = Before::take(&sb, kind.expected());
    let (_dir, plan) = plan_copy(kind.plan());
    let plan = plan.to_str().expect("utf-8 path").to_owned();
    let state = state_dir_of(Path::new(&plan));
    let mut runs: Vec<Ran> = Vec::new();

    let mut extra: Vec<&str> = Vec::new();
    let mut journal_lost = then == Then::JournalDeleted;
    if is_destroy_point(point) {
        // A target left ambiguous: a run cut off after its upload, its journal lost.
        let setup = run(&sb, via, &plan, &[], Some("upload:after"));
        assert_eq!(setup.status, CRASH_EXIT, "{}", show(&[&setup]));
        std::fs::remove_dir_all(&state).expect("deleting the state dir");
        runs.push(setup);
        extra.push("--recreate-target");
        journal_lost = true;
    }
    let unfreezing = is_unfreeze_point(point);
    if unfreezing {
        // A run that stopped with the apps frozen, its data half moved.
        let setup = run(&sb, via, &plan, &[], Some("upload:after"));
        assert_eq!(setup.status, CRASH_EXIT, "{}", show(&[&setup]));
        runs.push(setup);
        extra.push("--unfreeze");
    }

    let at = format!("{point}:{when}");
    let crashed = run(&sb, via, &plan, &extra, Some(&at));
    let reached = crashed.status == CRASH_EXIT
        && crashed
            .stderr
            .contains(&format!("crash point {at} reached"));
    runs.push(crashed);
    assert!(
        reached,
        "the run did not stop at {at} (expected exit {CRASH_EXIT}){}",
        show(&runs.iter().collect::<Vec<_>>())
    );
    match then {
        Then::JournalKept => {}
        Then::JournalDeleted => {
            std::fs::remove_dir_all(&state).expect("deleting the state dir");
        }
        Then::SandboxRestarted => {
            let old = sb.url.clone();
            sb.restart();
            sb.speed_up();
            assert_ne!(sb.url, old, "the sandbox came back on the same port");
        }
    }

    if unfreezing {
        let unfrozen = run(&sb, via, &plan, &extra, None);
        let ok = unfrozen.status == 0;
        runs.push(unfrozen);
        assert!(
            ok,
            "`run --unfreeze` after {at} ({then:?}) did not finish{}",
            show(&runs.iter().collect::<Vec<_>>())
        );
        let now = Before::take(&sb, kind.expected());
        assert!(
            now.scales == before.scales && now.apps == before.apps,
            "after `run --unfreeze` the apps are {:?} linking {:?}, expected {:?} linking {:?}{}",
            now.scales,
            now.apps,
            before.scales,
            before.apps,
            show(&runs.iter().collect::<Vec<_>>())
        );
        extra.clear();
    }
    let footprint_before = settled_footprint(&sb);
    let resumed = run(&sb, via, &plan, &extra, None);
    let status = resumed.status;
    runs.push(resumed);
    // Counted by `cargo test --test crash_resume -- --nocapture | grep outcome:`.
    println!(
        "outcome: {via:?} {kind:?} {at} {then:?}: {}",
        if status == 0 {
            "resumed"
        } else {
            "exit 3, then --recreate-target"
        }
    );
    match status {
        0 => {}
        3 => {
            let after = settled_footprint(&sb);
            assert!(
                after == footprint_before,
                "the rerun exited 3 but changed the platform:\nbefore {footprint_before:#?}\nafter {after:#?}{}",
                show(&runs.iter().collect::<Vec<_>>())
            );
            let last = &runs[runs.len() - 1];
            assert!(
                last.stderr.contains("--recreate-target"),
                "exit 3 without naming --recreate-target{}",
                show(&[last])
            );
            let recreated = run(&sb, via, &plan, &["--recreate-target"], None);
            let ok = recreated.status == 0;
            runs.push(recreated);
            assert!(
                ok,
                "--recreate-target did not finish the plan{}",
                show(&runs.iter().collect::<Vec<_>>())
            );
        }
        _ => panic!(
            "the rerun after {at} ({then:?}) exited {status}{}",
            show(&runs.iter().collect::<Vec<_>>())
        ),
    }
    let extra_backup = journal_lost && order(point, when) >= order("backup-create", "after");
    let new_manual = if unfreezing {
        // The unfrozen apps ran again, so the next run moved a new backup.
        2..=2
    } else if extra_backup {
        1..=2
    } else {
        1..=1
    };
    let found = problems(&sb, &before, kind.expected(), new_manual);
    assert!(
        found.is_empty(),
        "after {at} ({kind:?}, {then:?}) the end state differs from an uninterrupted run's:\n  - {}{}",
        found.join("\n  - "),
        show(&runs.iter().collect::<Vec<_>>())
    );
}
