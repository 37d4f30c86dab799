//! The file lines of `backup:download` and `backup:upload`
//! (`✅ backup.psqlcustom completed (1.47 mB) with ID b3263ac2-…`) and the bare URL that
//! `--print-url --output plain` prints. A pre-signed URL is a credential: errors built here quote
//! lines through [`super::error::quote`], which drops query strings.

use std::sync::LazyLock;

use regex::Regex;
use url::Url;
use uuid::Uuid;

use super::backups::{BackupBlock, backup_block};
use super::error::ParseError;
use super::lines::{Line, split};
use super::values::{PrintedSize, parse_size, parse_uuid};

/// Anchored at both ends; the emoji (with or without its variation selector) is followed by one
/// space (upload) or two (download), or is missing (`--output plain`). The file name is greedy:
/// it may hold spaces, and the suffix is matched from the end.
static FILE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(?:✅\x{FE0F}?[ \t]{1,2})?(?P<file>.+) completed \((?P<size>[^()]*)\) with ID (?P<id>\S+)\s*$",
    )
    .expect("static regex compiles")
});

const FILE_LINE_EXPECTED: &str = "a line `✅ FILE completed (SIZE) with ID UUID`";

/// What a finished transfer reports: the local file's name, its size as printed, the backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferLine {
    pub file: String,
    pub size: PrintedSize,
    pub id: Uuid,
}

/// `backup:download ID`: the backup's block, then the file line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupDownload {
    pub backup: BackupBlock,
    pub file: TransferLine,
}

/// `setops backup:upload FILE`: its one file line. The ID is what the checkpoint records, so
/// anything unclear (no line, two lines, a cut ID) is an error.
pub fn parse_backup_upload(output: &str) -> Result<TransferLine, ParseError> {
    let lines = split(output);
    let (_, file) = file_line("setops backup:upload", &lines)?;
    Ok(file)
}

/// `setops backup:download ID`: the block (ID, Status, Created At, Size) and the file line, whose
/// ID must be the block's.
pub fn parse_backup_download(output: &str) -> Result<BackupDownload, ParseError> {
    const COMMAND: &str = "setops backup:download";
    let lines = split(output);
    let (index, file) = file_line(COMMAND, &lines)?;
    let before = lines.get(..index).unwrap_or_default();
    let backup = backup_block(COMMAND, before, true)?;
    if backup.id != file.id {
        let line = &lines[index];
        return Err(ParseError::at(
            COMMAND,
            line,
            format!("the file line of backup {} shown above", backup.id),
        ));
    }
    Ok(BackupDownload { backup, file })
}

/// The one file line of `lines`, and its index.
fn file_line(command: &str, lines: &[Line<'_>]) -> Result<(usize, TransferLine), ParseError> {
    let mut found: Option<(usize, TransferLine)> = None;
    for (index, line) in lines.iter().enumerate() {
        if !line.text.contains(" completed ") {
            continue;
        }
        let caps = FILE_LINE
            .captures(&line.text)
            .ok_or_else(|| ParseError::at(command, line, FILE_LINE_EXPECTED))?;
        let fail = |what: String| ParseError::at(command, line, what);
        let part = |name: &str| caps.name(name).map_or("", |m| m.as_str());
        let parsed = TransferLine {
            file: part("file").trim().to_owned(),
            size: parse_size(part("size")).map_err(fail)?,
            id: parse_uuid(part("id")).map_err(fail)?,
        };
        if found.is_some() {
            return Err(ParseError::at(
                command,
                line,
                "exactly one completed transfer",
            ));
        }
        found = Some((index, parsed));
    }
    found.ok_or_else(|| ParseError::at_end(command, lines, FILE_LINE_EXPECTED))
}

/// `setops backup:download ID --print-url --output plain`.
pub fn parse_download_url(output: &str) -> Result<Url, ParseError> {
    print_url("setops backup:download --print-url --output plain", output)
}

/// `setops backup:upload FILE --print-url --output plain`.
pub fn parse_upload_url(output: &str) -> Result<Url, ParseError> {
    print_url("setops backup:upload --print-url --output plain", output)
}

/// Exactly one non-blank line, and it is one absolute http(s) URL with a host.
fn print_url(command: &str, output: &str) -> Result<Url, ParseError> {
    const EXPECTED: &str = "exactly one http(s) URL on its own line";
    let lines = split(output);
    let mut shown = lines.iter().filter(|l| !l.is_blank());
    let line = shown
        .next()
        .ok_or_else(|| ParseError::at_end(command, &lines, EXPECTED))?;
    if let Some(extra) = shown.next() {
        return Err(ParseError::at(command, extra, EXPECTED));
    }
    let text = line.trimmed();
    let url = Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .filter(|_| !text.contains(char::is_whitespace));
    url.ok_or_else(|| ParseError::at(command, line, EXPECTED))
}
