//! The building blocks (`service`, `link`, `backup*`, `changeset:*`) through the real binary
//! against the demo world of an in-process sandbox: output shaped like the Backup & Restore
//! document, refused state transitions, validation errors, auth, data round trips, resumed
//! downloads and command-line misuse. Helpers shared by the topic modules live here.

mod common;

#[path = "building_blocks/backups.rs"]
mod backups;
#[path = "building_blocks/changesets.rs"]
mod changesets;
#[path = "building_blocks/data.rs"]
mod data;
#[path = "building_blocks/misuse.rs"]
mod misuse;
#[path = "building_blocks/refusals.rs"]
mod refusals;
#[path = "building_blocks/services.rs"]
mod services;
#[path = "building_blocks/urls.rs"]
mod urls;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use common::{Ran, TestSandbox};
use regex::Regex;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A backup as `backup -o json` reports it, with what the human output derives from it.
#[derive(Debug, Clone)]
pub struct BackupRow {
    pub id: String,
    pub status: String,
    pub created_at: String,
    pub size: Option<u64>,
    pub sha256: Option<String>,
}

impl BackupRow {
    /// `CREATED AT` as the tables and blocks show it: whole seconds, `Z`.
    pub fn created_at_shown(&self) -> String {
        let at: DateTime<Utc> = self.created_at.parse().expect("created_at is RFC 3339");
        at.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    pub fn size_shown(&self) -> String {
        human_size(self.size.expect("backup has a size"))
    }
}

/// The backups of a service, via `-o json backup`.
pub fn backups(sb: &TestSandbox, service: &str) -> Vec<BackupRow> {
    let ran = sb
        .cmd()
        .args(["--service", service, "-o", "json", "backup"])
        .expect(0)
        .any_stdout()
        .run();
    ran.json()
        .as_array()
        .expect("backup -o json is an array")
        .iter()
        .map(|b| BackupRow {
            id: b["id"].as_str().expect("id").to_owned(),
            status: b["status"].as_str().expect("status").to_owned(),
            created_at: b["created_at"].as_str().expect("created_at").to_owned(),
            size: b["size"].as_u64(),
            sha256: b["sha256"].as_str().map(str::to_owned),
        })
        .collect()
}

/// The one seeded CREATED backup of a demo service.
pub fn seeded_backup(sb: &TestSandbox, service: &str) -> BackupRow {
    let all = backups(sb, service);
    assert_eq!(
        all.len(),
        1,
        "the demo world seeds one backup of {service}: {all:?}"
    );
    assert_eq!(all[0].status, "CREATED");
    all[0].clone()
}

/// Polls `backup` (the human table, as the document says to) until `id` has left `status`.
pub fn wait_while_status(sb: &TestSandbox, service: &str, id: &str, status: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ran = sb
            .cmd()
            .args(["--service", service, "backup"])
            .expect(0)
            .any_stdout()
            .run();
        let table = parse_table(&ran.stdout);
        let row = table
            .rows
            .iter()
            .find(|r| r[0] == id)
            .unwrap_or_else(|| panic!("backup {id} is not listed:\n{}", ran.stdout));
        if row[1] != status {
            return row[1].clone();
        }
        assert!(
            Instant::now() < deadline,
            "backup {id} still {status} after 30 s"
        );
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// Decimal size with one decimal, as the document prints sizes (`150.8 kB`, `75.3 MB`): an
/// oracle written independently of the crate's formatter.
pub fn human_size(bytes: u64) -> String {
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let units = ["kB", "MB", "GB", "TB"];
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", units[unit])
}

/// `(request_id Ab3dE9xZ)` as every platform error carries it.
pub fn assert_request_id(ran: &Ran) {
    let re = Regex::new(r"\(request_id [A-Za-z0-9]{8}\)").expect("regex");
    assert!(
        re.is_match(&ran.stderr),
        "stderr lacks a request_id:\n{}",
        ran.stderr
    );
}

pub fn uuid_re() -> Regex {
    Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$").expect("regex")
}

/// A table in the SetOps CLI's ASCII style, parsed while its shape is checked: `+---+` rules
/// above the header, below it and at the end, every line equally wide, every `|` under a `+`,
/// headers centred. Cells keep their padding in `raw` so alignment can be checked.
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub raw_rows: Vec<Vec<String>>,
}

pub fn parse_table(text: &str) -> Table {
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 4, "not a table:\n{text}");
    let rule = lines[0];
    let rule_re = Regex::new(r"^\+(-+\+)+$").expect("regex");
    assert!(
        rule_re.is_match(rule),
        "first line is not a +---+ rule:\n{text}"
    );
    assert_eq!(
        lines[2], rule,
        "the header is not followed by the rule:\n{text}"
    );
    assert_eq!(
        lines[lines.len() - 1],
        rule,
        "the table does not end with the rule:\n{text}"
    );
    let joints: Vec<usize> = rule
        .char_indices()
        .filter(|(_, c)| *c == '+')
        .map(|(i, _)| i)
        .collect();
    let width = rule.chars().count();
    let split = |line: &str| -> Vec<String> {
        assert_eq!(
            line.chars().count(),
            width,
            "line width differs from the rule:\n{text}"
        );
        let bars: Vec<usize> = line
            .char_indices()
            .filter(|(_, c)| *c == '|')
            .map(|(i, _)| i)
            .collect();
        assert_eq!(bars, joints, "`|` not under `+` in {line:?}:\n{text}");
        joints
            .windows(2)
            .map(|w| line[w[0] + 1..w[1]].to_owned())
            .collect()
    };
    let raw_headers = split(lines[1]);
    for h in &raw_headers {
        let name = h.trim();
        let left = h.len() - h.trim_start().len();
        let right = h.len() - h.trim_end().len();
        assert!(
            left.abs_diff(right) <= 1 && left >= 1,
            "header {name:?} is not centred:\n{text}"
        );
    }
    let raw_rows: Vec<Vec<String>> = lines[3..lines.len() - 1].iter().map(|l| split(l)).collect();
    Table {
        headers: raw_headers.iter().map(|h| h.trim().to_owned()).collect(),
        rows: raw_rows
            .iter()
            .map(|r| r.iter().map(|c| c.trim().to_owned()).collect())
            .collect(),
        raw_rows,
    }
}

/// A `Key:   value` block: every label ends with `:`, values start three spaces after the longest
/// label's colon. Returns the fields in order.
pub fn parse_block(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let longest = lines
        .iter()
        .map(|l| l.split_once(':').expect("a `Label:` line").0.len())
        .max()
        .expect("a block has lines");
    lines
        .iter()
        .map(|l| {
            let (label, _) = l.split_once(':').expect("label");
            let value_at = longest + 1 + 3;
            assert_eq!(
                l[label.len() + 1..value_at].trim(),
                "",
                "value of {label:?} does not start at column {value_at}:\n{text}"
            );
            assert!(
                !l[value_at..].starts_with(' '),
                "value of {label:?} is padded too far:\n{text}"
            );
            (label.to_owned(), l[value_at..].to_owned())
        })
        .collect()
}

/// The block `backup:restore`, `:download` and `:destroy` print for a backup.
pub fn backup_block(b: &BackupRow, status: &str) -> String {
    format!(
        "ID:           {}\nStatus:       {status}\nCreated At:   {}\nSize:         {}",
        b.id,
        b.created_at_shown(),
        b.size_shown()
    )
}

pub fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    hex::encode(Sha256::digest(&bytes))
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Names in a directory, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every file under `root` by relative path, with its bytes (directories as `None`).
pub fn tree(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path.strip_prefix(root).expect("under root").to_path_buf();
            if path.is_dir() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(std::fs::read(&path).expect("read file")));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Differences between two trees, named, for a readable assertion message.
pub fn tree_diff(
    a: &BTreeMap<PathBuf, Option<Vec<u8>>>,
    b: &BTreeMap<PathBuf, Option<Vec<u8>>>,
) -> Vec<String> {
    let mut diff = Vec::new();
    for (path, bytes) in a {
        match b.get(path) {
            None => diff.push(format!("only in the first: {}", path.display())),
            Some(other) if other != bytes => diff.push(format!("differs: {}", path.display())),
            Some(_) => {}
        }
    }
    for path in b.keys().filter(|p| !a.contains_key(*p)) {
        diff.push(format!("only in the second: {}", path.display()));
    }
    diff
}

/// The pending changeset as JSON (`null` when nothing is pending).
pub fn changeset_json(sb: &TestSandbox) -> Value {
    sb.cmd()
        .args(["-o", "json", "changeset:info"])
        .expect(0)
        .any_stdout()
        .run()
        .json()
}

#[test]
fn the_size_oracle_matches_the_documented_examples() {
    assert_eq!(human_size(150_800), "150.8 kB");
    assert_eq!(human_size(75_300_000), "75.3 MB");
    assert_eq!(human_size(38), "38 B");
    assert_eq!(human_size(999_960), "1.0 MB");
}

#[test]
#[should_panic(expected = "not under `+`")]
fn the_table_check_refuses_a_misaligned_column() {
    parse_table("+----+------+\n| ID | SIZE |\n+----+------+\n| a   | 1 B |\n+----+------+\n");
}

#[test]
#[should_panic(expected = "does not start at column")]
fn the_block_check_refuses_a_misaligned_value() {
    parse_block("ID:       x\nStatus:  CREATING");
}
