//! Named crash points, so tests can kill a run at every side-effect boundary:
//! `SETOPS_MIGRATE_CRASH_AT=<point>:<before|after>` ends the process at once, as a power cut
//! would, without unwinding or flushing anything that is not already on disk.

/// Every side effect the engine performs, in run order; `stage-freeze` and `commit-freeze` only
/// with a plan's `freeze:`, the unfreeze pair only in `run --unfreeze`, the destroy pair only with
/// `--recreate-target` (they come before the others in such a run).
pub const POINTS: [&str; 15] = [
    "stage-targets",
    "commit-targets",
    "stage-freeze",
    "commit-freeze",
    "backup-create",
    "download",
    "upload-allocate",
    "upload",
    "restore",
    "stage-relink",
    "commit-relink",
    "stage-destroy",
    "commit-destroy",
    "stage-unfreeze",
    "commit-unfreeze",
];

/// The exit code of a run killed at a crash point.
pub const CRASH_EXIT: i32 = 99;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Before,
    After,
}

pub fn point(name: &str, when: When) {
    let Ok(wanted) = std::env::var("SETOPS_MIGRATE_CRASH_AT") else {
        return;
    };
    let when = match when {
        When::Before => "before",
        When::After => "after",
    };
    if wanted == format!("{name}:{when}") {
        eprintln!("crash point {name}:{when} reached (SETOPS_MIGRATE_CRASH_AT); exiting now");
        std::process::exit(CRASH_EXIT);
    }
}
