//! `app:info NAME` (a block; its `Scale:` line) and an app's containers: `app:ps NAME` (CLI 1.x)
//! or `--app A task` (CLI 2.x), a `Tasks` table with the columns ID, RELEASE (IMAGE TAG in 2.x),
//! LAST STATUS, HEALTH STATUS, STARTED AT, STOPPED AT. Neither layout is shown in full by the
//! SetOps documentation; our sandbox front prints them as its other blocks and tables.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::{MAX_SCALE, Task};

use super::backups::{read, required};
use super::block::Block;
use super::error::ParseError;
use super::lines::split;
use super::table::{Row, Table, find_table};
use super::values::parse_timestamp;

/// `setops app:info NAME`, as far as a migration reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    pub name: String,
    /// `None` when the block has no `Scale:` line: the scale is then unknown, never assumed.
    pub scale: Option<u8>,
}

/// `setops app:info NAME`: `Name:` is required; `Scale:`, when printed, must be 0 to 16.
pub fn parse_app_info(output: &str) -> Result<AppInfo, ParseError> {
    const COMMAND: &str = "setops app:info";
    let lines = split(output);
    let block = Block::parse(&lines);
    let name = required(COMMAND, &lines, &block, "Name")?.value.clone();
    let scale = match block.get("Scale") {
        None => None,
        Some(field) => Some(read(COMMAND, field, parse_scale)?),
    };
    Ok(AppInfo { name, scale })
}

/// An app's scale as printed (`Scale:   2`): a whole number from 0 to 16.
pub fn parse_scale(text: &str) -> Result<u8, String> {
    let t = text.trim();
    t.parse::<u8>()
        .ok()
        .filter(|n| *n <= MAX_SCALE)
        .ok_or_else(|| {
            format!(
                "a scale from 0 to {MAX_SCALE}, not {:?}",
                super::error::quote(t)
            )
        })
}

static NO_TASKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:no\s+(?:running\s+)?(?:tasks|containers)\b.*|\(none\)|none)\s*$")
        .expect("static regex compiles")
});

/// The app's containers as `command` (`setops app:ps` or `setops task`) lists them: a table
/// with an ID and a LAST STATUS column, or a "no tasks" message. A line that is neither is an
/// error: a container that goes unseen could still be writing.
pub fn parse_tasks(command: &str, output: &str) -> Result<Vec<Task>, ParseError> {
    let lines = split(output);
    let expected = "a Tasks table (ID, LAST STATUS, ...) or a \"no tasks\" message";
    let Some(table) = find_table(command, &lines)? else {
        let mut understood = false;
        for line in lines.iter().filter(|l| !l.is_blank()) {
            let t = line.trimmed();
            if NO_TASKS.is_match(t) || t.eq_ignore_ascii_case("Tasks:") {
                understood = true;
            } else {
                return Err(ParseError::at(command, line, expected));
            }
        }
        return if understood {
            Ok(Vec::new())
        } else {
            Err(ParseError::at_end(command, &lines, expected))
        };
    };
    let columns = Columns::of(command, &table)?;
    table
        .rows
        .iter()
        .map(|row| columns.task(command, &table, row))
        .collect()
}

struct Columns {
    id: usize,
    status: usize,
    release: Option<usize>,
    health: Option<usize>,
    started: Option<usize>,
    stopped: Option<usize>,
}

impl Columns {
    fn of(command: &str, table: &Table) -> Result<Columns, ParseError> {
        Ok(Columns {
            id: table.require_column(command, "ID")?,
            status: table.require_column(command, "LAST STATUS")?,
            release: table
                .column("RELEASE")
                .or_else(|| table.column("IMAGE TAG")),
            health: table.column("HEALTH STATUS"),
            started: table.column("STARTED AT"),
            stopped: table.column("STOPPED AT"),
        })
    }

    fn task(&self, command: &str, table: &Table, row: &Row) -> Result<Task, ParseError> {
        let fail = |what: String| ParseError::on(command, row.line, &row.text, what);
        let cell = |column: Option<usize>| {
            column
                .map(|c| table.cell(row, c))
                .filter(|t| !t.is_empty() && *t != "-")
        };
        let id = table.cell(row, self.id);
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(fail("a task ID in the ID column".to_owned()));
        }
        let status = table.cell(row, self.status);
        if status.is_empty() || status.chars().any(char::is_whitespace) {
            return Err(fail(
                "a status such as RUNNING in the LAST STATUS column".to_owned(),
            ));
        }
        let time = |column| cell(column).map(parse_timestamp).transpose().map_err(fail);
        Ok(Task {
            id: id.to_owned(),
            release: cell(self.release).map(str::to_owned),
            last_status: status.to_ascii_uppercase(),
            health_status: cell(self.health).unwrap_or("UNKNOWN").to_ascii_uppercase(),
            started_at: time(self.started)?,
            stopped_at: time(self.stopped)?,
        })
    }
}
