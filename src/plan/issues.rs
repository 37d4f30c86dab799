//! What is wrong with a plan: one issue (`file:line:column`, field, rule) and the collection the
//! rules add to. Below the loader and every rule module, so they all share it without a cycle.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_saphyr::Location;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanIssue {
    pub file: PathBuf,
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// Where in the plan, e.g. `migrations[1].relink[0].env_key`; empty for the whole file.
    pub field: String,
    /// What is wrong and what to do.
    pub rule: String,
}

impl PlanIssue {
    pub(super) fn whole_file(file: &Path, rule: impl Into<String>) -> Self {
        PlanIssue {
            file: file.to_path_buf(),
            line: None,
            column: None,
            field: String::new(),
            rule: rule.into(),
        }
    }
}

/// `plans/x.yaml:7:18: migrations[1].relink[0].env_key: PORT is reserved by SetOps (...)`
impl fmt::Display for PlanIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.rule)
    }
}

/// The issues of one plan file.
pub(super) struct Issues {
    file: PathBuf,
    list: Vec<PlanIssue>,
    /// Positions reported as credentials: no other rule repeats (and so echoes) those values.
    credentials_at: HashSet<(u64, u64)>,
}

impl Issues {
    pub(super) fn new(file: &Path) -> Self {
        Issues {
            file: file.to_path_buf(),
            list: Vec::new(),
            credentials_at: HashSet::new(),
        }
    }

    pub fn at(&mut self, loc: &Location, field: impl Into<String>, rule: impl Into<String>) {
        let position = (loc.line(), loc.column());
        if self.credentials_at.contains(&position) {
            return;
        }
        let issue = PlanIssue {
            file: self.file.clone(),
            // Line 0 means serde-saphyr had no location for this value.
            line: (position.0 > 0).then_some(position.0),
            column: (position.0 > 0).then_some(position.1),
            field: one_line(&field.into()),
            rule: one_line(&rule.into()),
        };
        // A default shared by several migrations must not report the same problem once each.
        if !self.list.contains(&issue) {
            self.list.push(issue);
        }
    }

    pub(super) fn credential(&mut self, line: u64, column: u64, field: &str, rule: &str) {
        self.list.push(PlanIssue {
            file: self.file.clone(),
            line: Some(line),
            column: Some(column),
            field: one_line(field),
            rule: one_line(rule),
        });
        self.credentials_at.insert((line, column));
    }

    pub fn count(&self) -> usize {
        self.list.len()
    }

    pub(super) fn into_sorted(mut self) -> Vec<PlanIssue> {
        // Stable: issues on one line keep the order the rules found them.
        self.list
            .sort_by_key(|i| (i.line.unwrap_or(0), i.column.unwrap_or(0)));
        self.list
    }
}

/// Issues are printed one per line: a key or value with a line break must not split one.
pub(super) fn one_line(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A plan that did not load: every issue found in it, one per line, and a count.
#[derive(Debug, thiserror::Error)]
#[error(
    "{}\n{} problem(s) in {}; fix them and run again",
    lines(.issues),
    .issues.len(),
    .file.display()
)]
pub struct PlanRejected {
    pub file: PathBuf,
    pub issues: Vec<PlanIssue>,
}

fn lines(issues: &[PlanIssue]) -> String {
    issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
