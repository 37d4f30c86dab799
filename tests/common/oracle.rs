//! The end-state oracle of the crash suites (tests/crash_resume.rs, tests/chaos.rs): given what a
//! plan's migrations must produce, every way the world differs from the end state of an
//! uninterrupted run. It may read everything the sandbox offers (restore counts included): it
//! judges the tool, it is not the tool.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{TestSandbox, link_set, tree_diff, tree_hashes};

/// One migration of a crash plan and what its target must look like.
#[derive(Debug, Clone, Copy)]
pub struct Expected {
    pub source: &'static str,
    pub target: &'static str,
    /// Type and plan of the target when the plan overrides them (an upgrade).
    pub type_plan: Option<(&'static str, &'static str)>,
    /// Options the plan sets on the target over the source's.
    pub options: &'static [(&'static str, &'static str)],
    /// The data is a directory compared file by file (volume, s3); PostgreSQL and Redis data is
    /// compared by the run's own verify step before it relinks.
    pub files: bool,
    /// `backup: fresh`: the run makes manual backups of the source.
    pub fresh: bool,
}

/// tests/plans/run/crash.yaml: `files` (volume, fresh backup) -> `files2`, and `media` (s3, latest
/// backup) -> `media2` with `blockPublicAccess: "false"`.
pub const VOLUME: &[Expected] = &[
    Expected {
        source: "files",
        target: "files2",
        type_plan: None,
        options: &[],
        files: true,
        fresh: true,
    },
    Expected {
        source: "media",
        target: "media2",
        type_plan: None,
        options: &[("blockPublicAccess", "false")],
        files: true,
        fresh: false,
    },
];

/// tests/plans/run/crash-postgres.yaml: an upgrade of `database` to PostgreSQL 13.
pub const POSTGRES: &[Expected] = &[Expected {
    source: "database",
    target: "database13",
    type_plan: Some(("postgresql13", "db.t3.micro")),
    options: &[],
    files: false,
    fresh: true,
}];

/// tests/plans/run/crash-redis.yaml: a copy of `cache`.
pub const REDIS: &[Expected] = &[Expected {
    source: "cache",
    target: "cache2",
    type_plan: None,
    options: &[],
    files: false,
    fresh: true,
}];

/// The world before a run.
pub struct Before {
    pub services: BTreeMap<String, Value>,
    pub backups: BTreeMap<String, Vec<Value>>,
    pub trees: BTreeMap<String, BTreeMap<String, String>>,
    pub apps: BTreeMap<String, Vec<Value>>,
    pub scales: BTreeMap<String, u64>,
}

/// The crash plans, each with the sandbox world it runs in and what it must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Volume,
    Postgres,
    Redis,
}

pub const KINDS: [Kind; 3] = [Kind::Volume, Kind::Postgres, Kind::Redis];

impl Kind {
    /// The seed file under tests/plans/run/.
    pub fn seed(self) -> &'static str {
        match self {
            Kind::Volume => "crash-world.yaml",
            Kind::Postgres | Kind::Redis => "crash-world-data.yaml",
        }
    }

    /// The plan file under tests/plans/run/.
    pub fn plan(self) -> &'static str {
        match self {
            Kind::Volume => "crash.yaml",
            Kind::Postgres => "crash-postgres.yaml",
            Kind::Redis => "crash-redis.yaml",
        }
    }

    pub fn expected(self) -> &'static [Expected] {
        match self {
            Kind::Volume => VOLUME,
            Kind::Postgres => POSTGRES,
            Kind::Redis => REDIS,
        }
    }
}

pub const APPS: [&str; 2] = ["web", "worker"];

impl Before {
    pub fn take(sb: &TestSandbox, plan: &[Expected]) -> Before {
        let mut backups = BTreeMap::new();
        let mut trees = BTreeMap::new();
        for m in plan {
            backups.insert(m.source.to_owned(), sb.backups(m.source));
            if m.files {
                let tree = tree_hashes(&sb.data_dir(m.source));
                assert!(!tree.is_empty(), "the world's {} holds no files", m.source);
                trees.insert(m.source.to_owned(), tree);
            }
        }
        Before {
            services: sb.services(),
            backups,
            trees,
            apps: APPS
                .iter()
                .map(|a| (a.to_string(), sb.app_links(a)))
                .collect(),
            scales: APPS
                .iter()
                .map(|a| (a.to_string(), sb.app_scale(a)))
                .collect(),
        }
    }
}

/// What the platform holds, as far as "changed nothing" is concerned: services and their
/// links, the backup IDs of every service, the changeset. (Statuses may still move on: a restore
/// started before may finish.)
pub fn footprint(sb: &TestSandbox) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, s) in sb.services() {
        // A destroy commit may take the service away between the two listings: the listing
        // may fail, so its exit code is not fixed.
        let listed = sb
            .cmd()
            .args(["--service", &name, "backup", "-o", "json"])
            .run_unchecked();
        let ids: BTreeSet<String> = serde_json::from_str::<Value>(listed.stdout.trim())
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|b| b["id"].as_str().map(str::to_owned))
            .collect();
        out.insert(
            format!("service {name}"),
            format!("links {} backups {ids:?}", s["links"]),
        );
    }
    out.insert("changeset".into(), sb.json(&["changeset:info"]).to_string());
    out
}

/// The footprint once work the platform finishes on its own (a commit, a restore) has settled,
/// so a footprint taken now is not moved by it later.
pub fn settled_footprint(sb: &TestSandbox) -> BTreeMap<String, String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = footprint(sb);
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let now = footprint(sb);
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

/// Every way the world differs from the end state of an uninterrupted run of `plan`, empty when
/// it matches. `new_manual`: how many new CREATED manual backups a fresh source may have.
pub fn problems(
    sb: &TestSandbox,
    before: &Before,
    plan: &[Expected],
    new_manual: RangeInclusive<usize>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let services = sb.services();
    let mut want_names: BTreeSet<&str> = before.services.keys().map(String::as_str).collect();
    want_names.extend(plan.iter().map(|m| m.target));
    let names: BTreeSet<&str> = services.keys().map(String::as_str).collect();
    if names != want_names {
        problems.push(format!("services are {names:?}, expected {want_names:?}"));
    }
    for m in plan {
        check_migration(sb, before, &services, m, &new_manual, &mut problems);
    }
    // Apps: each link to a source now points at its target under the same key or path.
    for app in APPS {
        let was = &before.apps[app];
        let want: BTreeSet<(String, String)> = link_set(was)
            .into_iter()
            .map(|(service, at)| {
                let moved = plan
                    .iter()
                    .find(|m| m.source == service)
                    .map(|m| m.target.to_owned());
                (moved.unwrap_or(service), at)
            })
            .collect();
        let now = sb.app_links(app);
        if link_set(&now) != want || now.len() != was.len() {
            problems.push(format!(
                "{app} links {:?}, expected exactly {want:?}",
                link_set(&now)
            ));
        }
        // A finished run never leaves an app frozen.
        let scale = sb.app_scale(app);
        if scale != before.scales[app] {
            problems.push(format!(
                "{app} is at scale {scale}, expected {}",
                before.scales[app]
            ));
        }
    }
    let changeset = sb.json(&["changeset:info"]);
    if !changeset.is_null() {
        problems.push(format!("the changeset is not empty: {changeset}"));
    }
    problems
}

fn check_migration(
    sb: &TestSandbox,
    before: &Before,
    services: &BTreeMap<String, Value>,
    m: &Expected,
    new_manual: &RangeInclusive<usize>,
    problems: &mut Vec<String>,
) {
    let (source, target) = (m.source, m.target);
    let (Some(was), Some(now)) = (before.services.get(source), services.get(source)) else {
        problems.push(format!("source {source} is gone"));
        return;
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
        return;
    };
    let mut want = was.clone();
    if let Some((ty, plan)) = m.type_plan {
        want["type"] = Value::from(ty);
        want["plan"] = Value::from(plan);
    }
    for (k, v) in m.options {
        want["options"][*k] = Value::from(*v);
    }
    for field in ["type", "plan", "backup_schedule", "options"] {
        if t[field] != want[field] {
            problems.push(format!(
                "target {target}: {field} is {}, expected {}",
                t[field], want[field]
            ));
        }
    }
    let want_links: BTreeSet<(String, String)> = link_set(
        was["links"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default(),
    )
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
        if !now_backups.iter().any(|n| n["id"] == b["id"]) {
            problems.push(format!("source {source}: backup {} vanished", b["id"]));
        }
    }
    let new: Vec<&Value> = now_backups
        .iter()
        .filter(|n| !was_backups.iter().any(|b| b["id"] == n["id"]))
        .collect();
    let manual = new
        .iter()
        .filter(|b| b["origin"] == "manual" && b["status"] == "CREATED")
        .count();
    let want_manual = if m.fresh { new_manual.clone() } else { 0..=0 };
    if new.len() != manual || !want_manual.contains(&manual) {
        problems.push(format!(
            "source {source}: {} new backup(s) {:?}, expected {want_manual:?} new CREATED manual backup(s)",
            new.len(),
            new.iter()
                .map(|b| format!("{} {} {}", b["id"], b["origin"], b["status"]))
                .collect::<Vec<_>>()
        ));
    }
    let source_shas: BTreeSet<&str> = now_backups
        .iter()
        .filter_map(|b| b["sha256"].as_str())
        .collect();

    // Target backups: exactly one upload, CREATED, of the source's bytes, restored exactly once.
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
        let id = b["id"].as_str().unwrap_or("?");
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
        if info["restore_count"] != 1 {
            problems.push(format!(
                "target {target}: backup {id} restore_count is {}, expected 1",
                info["restore_count"]
            ));
        }
    }

    if m.files {
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
}
