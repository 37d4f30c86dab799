//! The end-state oracle of the two-migration plans of tests/plans/run/ (tests/run_plan.rs,
//! tests/crash_resume.rs): the end state checked against a snapshot taken before the run.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use serde_json::Value;

use super::cmd::Ran;
use super::files::{tree_diff, tree_hashes};
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

/// The world before a run: every service's configuration, the sources' backups and data.
pub struct Snapshot {
    pub services: BTreeMap<String, Value>,
    pub backups: BTreeMap<String, Vec<Value>>,
    pub trees: BTreeMap<String, BTreeMap<String, String>>,
    pub worker_links: Vec<Value>,
}

impl Snapshot {
    pub fn take(sb: &TestSandbox) -> Snapshot {
        let mut backups = BTreeMap::new();
        let mut trees = BTreeMap::new();
        for (source, _) in PAIRS {
            backups.insert(source.to_owned(), sb.backups(source));
            let tree = tree_hashes(&sb.data_dir(source));
            assert!(!tree.is_empty(), "the demo world's {source} holds no files");
            trees.insert(source.to_owned(), tree);
        }
        Snapshot {
            services: sb.services(),
            backups,
            trees,
            worker_links: sb.app_links("worker"),
        }
    }
}

/// What may differ between runs that all end in the state of an uninterrupted run.
pub struct Expect {
    /// New manual backups of `files`: 0 for `backup: latest`, 1 for `backup: fresh`, 1..=2 where
    /// a rerun without journal cannot know about the backup an earlier attempt made.
    pub new_manual_backups_of_files: RangeInclusive<usize>,
}

/// Every way the world differs from the end state of an uninterrupted run of the two-migration
/// plan (empty when it matches): one target per migration with the source's configuration and
/// the override, one upload per target restored exactly once, every web link moved with its key
/// or path, the sources' configuration and data untouched, identical data, an empty changeset.
pub fn end_state_problems(sb: &TestSandbox, before: &Snapshot, expect: &Expect) -> Vec<String> {
    let mut problems = Vec::new();
    let services = sb.services();
    let mut want_names: BTreeSet<&str> = before.services.keys().map(String::as_str).collect();
    want_names.extend(PAIRS.iter().map(|(_, t)| *t));
    let names: BTreeSet<&str> = services.keys().map(String::as_str).collect();
    if names != want_names {
        problems.push(format!("services are {names:?}, expected {want_names:?}"));
    }
    for (source, target) in PAIRS {
        let (Some(was), Some(now)) = (before.services.get(source), services.get(source)) else {
            problems.push(format!("source {source} is gone"));
            continue;
        };
        for field in ["type", "plan", "options", "backup_schedule", "created_at"] {
            if was[field] != now[field] {
                problems.push(format!(
                    "source {source}: {field} changed from {} to {}",
                    was[field], now[field]
                ));
            }
        }
        if !now["links"].as_array().is_some_and(Vec::is_empty) {
            problems.push(format!("source {source} still has links: {}", now["links"]));
        }
        let Some(t) = services.get(target) else {
            problems.push(format!("target {target} does not exist"));
            continue;
        };
        let mut want_options = was["options"].clone();
        if target == "media2" {
            want_options["blockPublicAccess"] = Value::from("false");
        }
        for (field, want) in [
            ("type", &was["type"]),
            ("plan", &was["plan"]),
            ("backup_schedule", &was["backup_schedule"]),
            ("options", &want_options),
        ] {
            if &t[field] != want {
                problems.push(format!(
                    "target {target}: {field} is {}, expected {want}",
                    t[field]
                ));
            }
        }
        let want_links: BTreeSet<(String, String)> =
            link_set(was["links"].as_array().expect("links"))
                .into_iter()
                .map(|(_, at)| (target.to_owned(), at))
                .collect();
        let got_links = link_set(t["links"].as_array().map(Vec::as_slice).unwrap_or_default());
        if got_links != want_links {
            problems.push(format!(
                "target {target}: links {got_links:?}, expected {want_links:?}"
            ));
        }

        // Source backups: all still there, plus the fresh ones the plan made.
        let now_backups = sb.backups(source);
        let was_backups = &before.backups[source];
        for b in was_backups {
            if !now_backups.iter().any(|n| n == b) {
                problems.push(format!(
                    "source {source}: backup {} changed or vanished",
                    b["id"]
                ));
            }
        }
        let new: Vec<&Value> = now_backups
            .iter()
            .filter(|n| !was_backups.contains(n))
            .collect();
        let new_manual = new
            .iter()
            .filter(|b| b["origin"] == "manual" && b["status"] == "CREATED")
            .count();
        let want_manual = if source == "files" {
            expect.new_manual_backups_of_files.clone()
        } else {
            0..=0
        };
        if new.len() != new_manual || !want_manual.contains(&new_manual) {
            problems.push(format!(
                "source {source}: {} new backup(s) {:?}, expected {want_manual:?} new CREATED manual backup(s)",
                new.len(),
                new.iter().map(|b| format!("{} {} {}", b["id"], b["origin"], b["status"])).collect::<Vec<_>>()
            ));
        }
        let source_shas: BTreeSet<&str> = now_backups
            .iter()
            .filter_map(|b| b["sha256"].as_str())
            .collect();

        // Target backups: exactly one upload, CREATED, of the source's bytes, restored once.
        let target_backups = sb.backups(target);
        if target_backups.len() != 1 {
            problems.push(format!(
                "target {target}: {} backups {:?}, expected exactly one upload",
                target_backups.len(),
                target_backups
                    .iter()
                    .map(|b| format!("{} {} {}", b["id"], b["origin"], b["status"]))
                    .collect::<Vec<_>>()
            ));
        }
        for b in &target_backups {
            let id = b["id"].as_str().expect("backup id");
            if b["origin"] != "upload" || b["status"] != "CREATED" {
                problems.push(format!(
                    "target {target}: backup {id} is {} {}, expected a CREATED upload",
                    b["origin"], b["status"]
                ));
            }
            if !b["sha256"]
                .as_str()
                .is_some_and(|s| source_shas.contains(s))
            {
                problems.push(format!(
                    "target {target}: backup {id} has sha256 {}, which no backup of {source} has",
                    b["sha256"]
                ));
            }
            if b["last_restore"]["outcome"] != "SUCCEEDED" {
                problems.push(format!(
                    "target {target}: backup {id} last_restore is {}, expected SUCCEEDED",
                    b["last_restore"]
                ));
            }
            let info = sb.json(&["--service", target, "backup:info", id]);
            match info.get("restore_count") {
                Some(n) if n == 1 => {}
                Some(n) => problems.push(format!("target {target}: backup {id} restore_count is {n}, expected 1")),
                None => problems.push(format!(
                    "target {target}: `backup:info {id} -o json` has no restore_count field, so a second restore \
                     cannot be ruled out (the counter is not in the Backup model / sandbox yet): {info}"
                )),
            }
        }

        // Data: the source unchanged, the target holding exactly the source's files.
        let source_tree = tree_hashes(&sb.data_dir(source));
        let diff = tree_diff(&before.trees[source], &source_tree);
        if !diff.is_empty() {
            problems.push(format!("source {source}'s data changed: {diff:?}"));
        }
        let diff = tree_diff(&source_tree, &tree_hashes(&sb.data_dir(target)));
        if !diff.is_empty() {
            problems.push(format!(
                "target {target} does not hold {source}'s data: {diff:?}"
            ));
        }
    }

    // Apps: web reaches the targets under the same keys and paths; worker is untouched.
    let was_web = link_set(
        before
            .services
            .values()
            .flat_map(|s| s["links"].as_array().cloned().unwrap_or_default())
            .filter(|l| l["app"] == "web")
            .collect::<Vec<_>>()
            .as_slice(),
    );
    let want_web: BTreeSet<(String, String)> = was_web
        .into_iter()
        .map(|(service, at)| {
            let target = PAIRS
                .iter()
                .find(|(s, _)| *s == service)
                .map(|(_, t)| (*t).to_owned())
                .unwrap_or(service);
            (target, at)
        })
        .collect();
    let web = sb.app_links("web");
    if link_set(&web) != want_web || web.len() != want_web.len() {
        problems.push(format!(
            "web links {:?}, expected exactly {want_web:?}",
            link_set(&web)
        ));
    }
    let worker = sb.app_links("worker");
    if worker != before.worker_links {
        problems.push(format!(
            "worker links changed from {:?} to {worker:?}",
            before.worker_links
        ));
    }
    let changeset = sb.json(&["changeset:info"]);
    if !changeset.is_null() {
        problems.push(format!("the changeset is not empty: {changeset}"));
    }
    problems
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
