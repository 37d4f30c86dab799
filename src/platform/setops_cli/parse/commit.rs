//! `changeset:commit`: it prints the changeset, then progress (`◢ Initializing…`, `◤ Planning…`,
//! `◣ Applying… (17/28)`), and `Commit successful!` when the commit went through. Only that line
//! means success; everything else is reported as the last phase and count seen.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::CommitPhase;

use super::error::ParseError;
use super::lines::split;

const COMMAND: &str = "setops changeset:commit";

static PHASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(Initializing|Planning|Applying)\b(?:…|\.\.\.)?(?:\s*\((\d+)\s*/\s*(\d+)\))?")
        .expect("static regex compiles")
});

/// The success line, with an optional symbol in front (`✅ Commit successful!`).
static SUCCESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:\S+\s+)?Commit successful!\s*$").expect("static regex compiles")
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitReport {
    /// A `Commit successful!` line was printed.
    pub successful: bool,
    /// The last phase shown.
    pub phase: Option<CommitPhase>,
    /// The last `(applied/total)` shown.
    pub progress: Option<(u32, u32)>,
}

/// Reads the commit's output. An output with neither progress nor the success line is not a
/// commit's output at all: an error naming its last line (where the CLI puts its reason).
pub fn parse_changeset_commit(output: &str) -> Result<CommitReport, ParseError> {
    let lines = split(output);
    let mut report = CommitReport {
        successful: false,
        phase: None,
        progress: None,
    };
    for line in &lines {
        if SUCCESS.is_match(&line.text) {
            report.successful = true;
        }
        for caps in PHASE.captures_iter(&line.text) {
            report.phase = match caps.get(1).map(|m| m.as_str()) {
                Some("Initializing") => Some(CommitPhase::Initializing),
                Some("Planning") => Some(CommitPhase::Planning),
                _ => Some(CommitPhase::Applying),
            };
            let count = |i: usize| caps.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
            if let (Some(applied), Some(total)) = (count(2), count(3)) {
                report.progress = Some((applied, total));
            }
        }
    }
    if report.successful || report.phase.is_some() {
        return Ok(report);
    }
    const EXPECTED: &str = "commit progress (`Initializing…`, `Planning…`, `Applying… (n/m)`) \
                            or `Commit successful!`";
    match lines.iter().rev().find(|l| !l.is_blank()) {
        Some(last) => Err(ParseError::at(COMMAND, last, EXPECTED)),
        None => Err(ParseError::at_end(COMMAND, &lines, EXPECTED)),
    }
}
