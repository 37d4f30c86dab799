//! `backup` (the table) and the blocks of `backup:info`, `backup:create`, `backup:restore`,
//! `backup:destroy` (and the block `backup:download` prints before its file line).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::model::BackupStatus;

use super::block::{Block, Field};
use super::error::ParseError;
use super::lines::{Line, split};
use super::table::find_table;
use super::values::{PrintedSize, parse_size, parse_timestamp, parse_uuid};

/// Every status the model knows, for reading it back from text.
const STATUSES: [BackupStatus; 4] = [
    BackupStatus::Created,
    BackupStatus::Creating,
    BackupStatus::Restoring,
    BackupStatus::Uploading,
];

/// One row of `backup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRow {
    pub id: Uuid,
    pub status: BackupStatus,
    pub created_at: DateTime<Utc>,
    /// `None` where the cell is empty or `-` (our sandbox front prints no size while a backup is
    /// being made or uploaded).
    pub size: Option<PrintedSize>,
}

/// The `ID / Status / Created At / Size` block. `backup:create` prints only ID and Status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupBlock {
    pub id: Uuid,
    pub status: BackupStatus,
    pub created_at: Option<DateTime<Utc>>,
    pub size: Option<PrintedSize>,
}

/// `BackupStatus` from its text; an unknown status is an error naming it, never a guess.
pub fn parse_status(text: &str) -> Result<BackupStatus, String> {
    let t = text.trim();
    STATUSES
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(t))
        .ok_or_else(|| {
            format!(
                "a backup status (CREATED, CREATING, RESTORING, UPLOADING), not the unknown status {:?}",
                super::error::quote(t)
            )
        })
}

/// `None` for the "no size" spellings, else a printed size.
fn optional_size(text: &str) -> Result<Option<PrintedSize>, String> {
    match text.trim() {
        "" | "-" => Ok(None),
        t => parse_size(t).map(Some),
    }
}

/// `setops backup`: the table's rows, zero for a header-only table. Lines around the table (a
/// schedule line, a note) are skipped; an output without a table is an error.
pub fn parse_backup_list(output: &str) -> Result<Vec<BackupRow>, ParseError> {
    const COMMAND: &str = "setops backup";
    let lines = split(output);
    let table = find_table(COMMAND, &lines)?.ok_or_else(|| {
        ParseError::at_end(
            COMMAND,
            &lines,
            "a table with columns ID, STATUS, CREATED AT, SIZE",
        )
    })?;
    let id = table.require_column(COMMAND, "ID")?;
    let status = table.require_column(COMMAND, "STATUS")?;
    let created = table.require_column(COMMAND, "CREATED AT")?;
    let size = table.column("SIZE");
    table
        .rows
        .iter()
        .map(|row| {
            let fail = |what: String| ParseError::on(COMMAND, row.line, &row.text, what);
            Ok(BackupRow {
                id: parse_uuid(table.cell(row, id)).map_err(fail)?,
                status: parse_status(table.cell(row, status)).map_err(fail)?,
                created_at: parse_timestamp(table.cell(row, created)).map_err(fail)?,
                size: match size {
                    Some(c) => optional_size(table.cell(row, c)).map_err(fail)?,
                    None => None,
                },
            })
        })
        .collect()
}

/// `setops backup:create`: ID and Status.
pub fn parse_backup_create(output: &str) -> Result<BackupBlock, ParseError> {
    backup_block("setops backup:create", &split(output), false)
}

/// `setops backup:info ID`.
pub fn parse_backup_info(output: &str) -> Result<BackupBlock, ParseError> {
    backup_block("setops backup:info", &split(output), true)
}

/// `setops backup:restore ID`.
pub fn parse_backup_restore(output: &str) -> Result<BackupBlock, ParseError> {
    backup_block("setops backup:restore", &split(output), true)
}

/// `setops backup:destroy ID`.
pub fn parse_backup_destroy(output: &str) -> Result<BackupBlock, ParseError> {
    backup_block("setops backup:destroy", &split(output), true)
}

/// Reads the backup block of `lines`. With `full`, `Created At` and `Size` are required too.
pub(super) fn backup_block(
    command: &str,
    lines: &[Line<'_>],
    full: bool,
) -> Result<BackupBlock, ParseError> {
    let block = Block::parse(lines);
    let required = |label: &str| required(command, lines, &block, label);
    let optional = |label: &str| -> Result<Option<&Field>, ParseError> {
        if full {
            required(label).map(Some)
        } else {
            Ok(block.get(label))
        }
    };
    let id = read(command, required("ID")?, parse_uuid)?;
    let status = read(command, required("Status")?, parse_status)?;
    let created_at = match optional("Created At")? {
        Some(f) => Some(read(command, f, parse_timestamp)?),
        None => None,
    };
    let size = match optional("Size")? {
        Some(f) => read(command, f, optional_size)?,
        None => None,
    };
    Ok(BackupBlock {
        id,
        status,
        created_at,
        size,
    })
}

/// The field `label`, with a value: a missing field is an error at the end of the output, an
/// empty value (a cut line; the CLI prints `-` for "none") one at its line.
pub(super) fn required<'b>(
    command: &str,
    lines: &[Line<'_>],
    block: &'b Block,
    label: &str,
) -> Result<&'b Field, ParseError> {
    match block.get(label) {
        Some(field) if !field.value.is_empty() => Ok(field),
        Some(field) => Err(ParseError::on(
            command,
            field.line,
            &field.text,
            format!("a value after `{label}:`"),
        )),
        None => Err(ParseError::at_end(
            command,
            lines,
            format!("a line `{label}:   …`"),
        )),
    }
}

/// A field's value through `parse`, an error naming the field's line when it does not parse.
pub(super) fn read<T>(
    command: &str,
    field: &Field,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, ParseError> {
    parse(&field.value).map_err(|what| ParseError::on(command, field.line, &field.text, what))
}
