//! Reading a plan file: size cap, UTF-8, YAML with exact positions, then every rule. Returns all
//! issues found, each with `file:line:column`, the field and the rule broken.

use std::path::Path;

use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use super::Plan;
use super::check::check_plan;
use super::issues::{PlanIssue, one_line};
use super::keys::unknown_keys;
use super::node::Node;
use super::raw::RawPlan;
use super::secrets;
use super::yaml_error::{parse_options, translate};

/// A plan lists migrations, not data; anything bigger is a mistake or an attack.
pub const MAX_PLAN_BYTES: u64 = 1024 * 1024;

/// Reads, parses and checks a plan; returns ALL issues found (not just the first), sorted by line.
pub fn load_plan(path: &Path) -> Result<Plan, Vec<PlanIssue>> {
    let bytes = read_capped(path).map_err(|issue| vec![issue])?;
    let text = std::str::from_utf8(&bytes).map_err(|e| vec![not_utf8(path, &bytes, &e)])?;

    // Pass 1, any shape: syntax errors and the parse budget, for the whole document.
    let tree: Spanned<Node> = serde_saphyr::from_str_with_options(text, parse_options())
        .map_err(|e| vec![yaml_issue(path, translate(&e, None, text))])?;
    if matches!(tree.value, Node::Null) {
        return Err(vec![PlanIssue::whole_file(
            path,
            "the plan is empty (no YAML content); start from one of plans/examples/*.yaml",
        )]);
    }
    if let Some(issue) = seed_not_plan(path, &tree) {
        return Err(vec![issue]);
    }
    // Every unknown key, wherever it is; the other issues are found all the same.
    let unknown = unknown_keys(path, &tree);
    // Pass 2, the plan's shape: missing keys, wrong types. A credential is reported even then:
    // it must leave the file whatever else is wrong.
    let raw: RawPlan = serde_saphyr::from_str_with_options(text, parse_options()).map_err(|e| {
        let mut issues = credential_issues(path, &tree);
        issues.push(yaml_issue(path, translate(&e, Some(&tree), text)));
        sorted(issues, &unknown)
    })?;

    let content_hash = hex::encode(Sha256::digest(&bytes));
    match check_plan(path, content_hash, raw, &tree) {
        Ok(_) if !unknown.is_empty() => Err(unknown),
        Ok(plan) => Ok(plan),
        Err(issues) => Err(sorted(issues, &unknown)),
    }
}

/// `issues` and the unknown keys together, in file order.
fn sorted(mut issues: Vec<PlanIssue>, unknown: &[PlanIssue]) -> Vec<PlanIssue> {
    issues.extend(unknown.iter().cloned());
    issues.sort_by_key(|i| (i.line.unwrap_or(0), i.column.unwrap_or(0)));
    issues
}

/// A sandbox seed (`projects:` and no `migrations:`) given where a plan belongs: one issue that
/// says what the file is, instead of one unknown key per line of the world it describes.
fn seed_not_plan(path: &Path, tree: &Spanned<Node>) -> Option<PlanIssue> {
    let Node::Map(entries) = &tree.value else {
        return None;
    };
    let key = |name: &str| {
        entries
            .iter()
            .find(|(k, _)| matches!(&k.value, Node::Scalar(t) if t == name))
    };
    if key("migrations").is_some() || key("version").is_some() {
        return None;
    }
    let (projects, _) = key("projects")?;
    Some(PlanIssue {
        file: path.to_path_buf(),
        line: Some(projects.referenced.line()),
        column: Some(projects.referenced.column()),
        field: String::new(),
        rule: "this is a sandbox seed (the world `setops-migrate sandbox serve --dir DIR --seed \
               FILE` starts a new sandbox from), not a plan; a plan has version, project, stage \
               and migrations (see plans/examples/)"
            .into(),
    })
}

fn yaml_issue(path: &Path, issue: super::yaml_error::YamlIssue) -> PlanIssue {
    PlanIssue {
        file: path.to_path_buf(),
        line: issue.position.map(|p| p.0),
        column: issue.position.map(|p| p.1),
        field: one_line(&issue.field),
        rule: one_line(&issue.rule),
    }
}

fn credential_issues(path: &Path, tree: &Spanned<Node>) -> Vec<PlanIssue> {
    secrets::scan(tree)
        .into_iter()
        .map(|finding| PlanIssue {
            file: path.to_path_buf(),
            line: Some(finding.line),
            column: Some(finding.column),
            field: one_line(&finding.field),
            rule: one_line(&finding.rule),
        })
        .collect()
}

fn read_capped(path: &Path) -> Result<Vec<u8>, PlanIssue> {
    let cannot = |e: std::io::Error| {
        PlanIssue::whole_file(path, format!("cannot read the plan: {e}; check the path"))
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.is_dir() {
        return Err(PlanIssue::whole_file(
            path,
            "is a directory; give the path of a plan file (.yaml)",
        ));
    }
    match crate::fsio::read_bounded(path, MAX_PLAN_BYTES) {
        Ok(bytes) => Ok(bytes),
        Err(e) if crate::fsio::is_too_large(&e) => {
            // A device or pipe has no size to quote; it ran past the limit.
            let size = if meta.is_file() {
                format!("is {} bytes", meta.len())
            } else {
                "holds more than that".to_owned()
            };
            Err(PlanIssue::whole_file(
                path,
                format!(
                    "plan {size}; the limit is 1 MiB ({MAX_PLAN_BYTES} bytes): a plan lists \
                     migrations, not data"
                ),
            ))
        }
        Err(e) => Err(cannot(e)),
    }
}

fn not_utf8(path: &Path, bytes: &[u8], err: &std::str::Utf8Error) -> PlanIssue {
    let valid = &bytes[..err.valid_up_to()];
    let line = valid.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&valid[line_start..])
        .chars()
        .count() as u64
        + 1;
    let byte = bytes.get(err.valid_up_to()).copied().unwrap_or_default();
    PlanIssue {
        file: path.to_path_buf(),
        line: Some(line),
        column: Some(column),
        field: String::new(),
        rule: format!("the plan is not UTF-8 text (byte 0x{byte:02x}); save it as UTF-8"),
    }
}
