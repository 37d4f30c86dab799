//! The two-migration plans of tests/plans/run/ (tests/run_plan.rs) as the generic end-state
//! oracle (tests/common/oracle.rs) sees them.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use serde_json::Value;

use super::cmd::Ran;
use super::oracle::{Before, Expected, VOLUME, problems};
use super::sandbox::TestSandbox;

/// `(service, env_key or path)` of each link, as a set: link order carries no meaning.
pub fn link_set(links: &[Value]) -> BTreeSet<(String, String)> {
    links
        .iter()
        .map(|l| {
            let at = l["env_key"].as_str().or(l["path"].as_str()).unwrap_or("?");
            (
                l["service"].as_str().unwrap_or("?").to_owned(),
                at.to_owned(),
            )
        })
        .collect()
}

/// The two migrations of tests/plans/run/two-migrations.yaml and crash.yaml: `files` (volume,
/// linked to web at /data) -> `files2`, and `media` (s3, web's S3_DATA_URL) -> `media2` with
/// `blockPublicAccess: "false"`.
pub const PAIRS: [(&str, &str); 2] = [("files", "files2"), ("media", "media2")];

/// The world before a run of a two-migration plan (the generic snapshot, taken for `files` and
/// `media`).
pub struct Snapshot(pub Before);

impl std::ops::Deref for Snapshot {
    type Target = Before;

    fn deref(&self) -> &Before {
        &self.0
    }
}

impl Snapshot {
    pub fn take(sb: &TestSandbox) -> Snapshot {
        Snapshot(Before::take(sb, VOLUME))
    }
}

/// What may differ between runs that all end in the state of an uninterrupted run.
pub struct Expect {
    /// New manual backups of `files`: 0 for `backup: latest`, 1 for `backup: fresh`, 1..=2 where
    /// a rerun without journal cannot know about the backup an earlier attempt made.
    pub new_manual_backups_of_files: RangeInclusive<usize>,
}

/// Every way the world differs from the end state of an uninterrupted run of the two-migration
/// plan (empty when it matches): the generic oracle (src: tests/common/oracle.rs) on `files`
/// (fresh or latest, as `expect` says) and `media`.
pub fn end_state_problems(sb: &TestSandbox, before: &Snapshot, expect: &Expect) -> Vec<String> {
    let range = expect.new_manual_backups_of_files.clone();
    let plan: Vec<Expected> = VOLUME
        .iter()
        .map(|m| Expected {
            fresh: m.fresh && *range.end() > 0,
            ..*m
        })
        .collect();
    problems(sb, before, &plan, range)
}

/// Panics with every problem and the output of the runs that led there.
pub fn assert_end_state(sb: &TestSandbox, before: &Snapshot, expect: &Expect, runs: &[&Ran]) {
    let problems = end_state_problems(sb, before, expect);
    if problems.is_empty() {
        return;
    }
    let mut text = format!(
        "the end state differs from an uninterrupted run's:\n  - {}\n",
        problems.join("\n  - ")
    );
    for (i, ran) in runs.iter().enumerate() {
        text.push_str(&format!(
            "\n=== run {} (exit {})\n--- stdout\n{}\n--- stderr\n{}",
            i + 1,
            ran.status,
            ran.stdout,
            ran.stderr
        ));
    }
    panic!("{text}");
}
