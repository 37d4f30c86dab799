//! ASCII tables as the `setops` CLI (Go's tablewriter style) and our building blocks print them:
//! `+---+` borders, `|`-separated cells, centred upper-case headers, padded or right-aligned
//! cells, and rows that wrap onto further `|` lines whose first cell is blank. Lines before and
//! after the table are left to the caller; a table that starts but does not end is an error, so a
//! cut output never reads as a shorter list.

use super::error::ParseError;
use super::lines::Line;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Header texts, trimmed, in column order.
    pub headers: Vec<String>,
    pub header_line: usize,
    pub header_text: String,
    pub rows: Vec<Row>,
    /// Index (into the lines given) of the top border.
    pub start: usize,
    /// Index of the first line after the closing border.
    pub end: usize,
}

/// One logical row: the cells of its first line, each extended by its continuation lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub text: String,
    pub cells: Vec<String>,
}

impl Table {
    /// The column with this header, compared case-insensitively and ignoring spacing.
    pub fn column(&self, header: &str) -> Option<usize> {
        let want = normalize(header);
        self.headers.iter().position(|h| normalize(h) == want)
    }

    /// Like [`Table::column`], an error naming the header line when the column is missing.
    pub fn require_column(&self, command: &str, header: &str) -> Result<usize, ParseError> {
        self.column(header).ok_or_else(|| {
            ParseError::on(
                command,
                self.header_line,
                &self.header_text,
                format!(
                    "a column {header} (the table has {})",
                    self.headers.join(", ")
                ),
            )
        })
    }

    /// The cell of `row` in column `column`; empty when the row is short (never panics).
    pub fn cell<'r>(&self, row: &'r Row, column: usize) -> &'r str {
        row.cells.get(column).map_or("", String::as_str)
    }
}

fn normalize(header: &str) -> String {
    header
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// Finds the first table in `lines`; `Ok(None)` when nothing in the output looks like one.
pub fn find_table(command: &str, lines: &[Line<'_>]) -> Result<Option<Table>, ParseError> {
    let Some(start) = lines.iter().position(|l| starts_table(l.trimmed())) else {
        return Ok(None);
    };
    let top = &lines[start];
    if !is_border(top.trimmed()) {
        return Err(ParseError::at(
            command,
            top,
            "a `+---+` border above the table",
        ));
    }
    let columns = top.trimmed().matches('+').count().saturating_sub(1);
    let edges: Vec<usize> = top
        .text
        .chars()
        .enumerate()
        .filter_map(|(i, c)| (c == '+').then_some(i))
        .collect();
    let border = |line: &Line<'_>| -> Result<(), ParseError> {
        let found = line.trimmed().matches('+').count().saturating_sub(1);
        if found == columns {
            Ok(())
        } else {
            Err(ParseError::at(
                command,
                line,
                format!("a border of {columns} columns"),
            ))
        }
    };
    let row_of = |line: &Line<'_>| {
        split_row(&line.text, columns, &edges).ok_or_else(|| {
            ParseError::at(
                command,
                line,
                format!("a row of {columns} cells between `|` characters"),
            )
        })
    };

    let mut i = start + 1;
    let mut header: Option<Row> = None;
    loop {
        let Some(line) = lines.get(i) else {
            return Err(ParseError::at_end(command, lines, "the table's header row"));
        };
        i += 1;
        let t = line.trimmed();
        if is_border(t) && header.is_some() {
            border(line)?;
            break;
        }
        if !t.starts_with('|') {
            return Err(ParseError::at(command, line, "the table's header row"));
        }
        let cells = row_of(line)?;
        match header.as_mut() {
            Some(h) => extend(h, cells),
            None => header = Some(new_row(line, cells)),
        }
    }
    let header = header.unwrap_or_else(|| Row {
        line: 0,
        text: String::new(),
        cells: Vec::new(),
    });

    let mut rows: Vec<Row> = Vec::new();
    loop {
        let Some(line) = lines.get(i) else {
            return Err(ParseError::at_end(
                command,
                lines,
                "more rows or the table's closing `+---+` border",
            ));
        };
        i += 1;
        let t = line.trimmed();
        if is_border(t) {
            border(line)?;
            // A rule between rows (tablewriter's row lines): the table goes on.
            if lines
                .get(i)
                .is_some_and(|next| next.trimmed().starts_with('|'))
            {
                continue;
            }
            return Ok(Some(Table {
                headers: header.cells,
                header_line: header.line,
                header_text: header.text,
                rows,
                start,
                end: i,
            }));
        }
        if !t.starts_with('|') {
            return Err(ParseError::at(
                command,
                line,
                "a table row or the table's closing `+---+` border",
            ));
        }
        let cells = row_of(line)?;
        let continues = cells.first().is_some_and(String::is_empty);
        match rows.last_mut() {
            Some(previous) if continues => extend(previous, cells),
            _ => rows.push(new_row(line, cells)),
        }
    }
}

fn new_row(line: &Line<'_>, cells: Vec<String>) -> Row {
    Row {
        line: line.number,
        text: line.text.to_string(),
        cells,
    }
}

/// A wrapped cell goes on in the same column of the next line; the CLI wraps at spaces, so the
/// pieces are joined with one.
fn extend(row: &mut Row, more: Vec<String>) {
    for (cell, piece) in row.cells.iter_mut().zip(more) {
        if piece.is_empty() {
            continue;
        }
        if !cell.is_empty() {
            cell.push(' ');
        }
        cell.push_str(&piece);
    }
}

/// A line that begins a table, or would if it were not cut or broken.
fn starts_table(t: &str) -> bool {
    t.starts_with('|') || t.starts_with("+-") || t.starts_with("+=")
}

fn is_border(t: &str) -> bool {
    t.len() >= 3
        && t.starts_with('+')
        && t.ends_with('+')
        && t.chars().all(|c| matches!(c, '+' | '-' | '='))
        && !t.contains("++")
}

/// Cells between `|`s, trimmed. When a cell holds a `|` itself, the count is off: then the cells
/// are cut where the top border has its `+` (same character columns as the border).
fn split_row(text: &str, columns: usize, edges: &[usize]) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('|')?.strip_suffix('|')?;
    let parts: Vec<&str> = inner.split('|').collect();
    if parts.len() == columns {
        return Some(parts.iter().map(|p| p.trim().to_owned()).collect());
    }
    let chars: Vec<char> = text.chars().collect();
    if edges.len() != columns + 1 || !edges.iter().all(|&e| chars.get(e) == Some(&'|')) {
        return None;
    }
    edges
        .windows(2)
        .map(|w| {
            let cell = chars.get(w.first()? + 1..*w.get(1)?)?;
            Some(cell.iter().collect::<String>().trim().to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::lines::split;
    use super::*;

    #[test]
    fn wrapped_cells_and_row_rules_join_into_rows() {
        let text = "note before\n\
            +------+--------------+\n\
            | NAME |  ARGUMENTS   |\n\
            +------+--------------+\n\
            | a    | map[name:web |\n\
            |      | plan:shared] |\n\
            +------+--------------+\n\
            | b    | x | y        |\n\
            +------+--------------+\n\
            after";
        let lines = split(text);
        let t = find_table("setops x", &lines).unwrap().unwrap();
        assert_eq!(t.headers, ["NAME", "ARGUMENTS"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells[1], "map[name:web plan:shared]");
        assert_eq!(t.rows[1].cells[1], "x | y");
        assert_eq!(t.column("arguments"), Some(1));
        assert_eq!(lines[t.end].text, "after");
    }

    #[test]
    fn a_table_without_top_border_or_end_is_an_error() {
        let no_top = split("| NAME |\n+------+\n| a    |\n+------+");
        let e = find_table("setops service", &no_top).unwrap_err();
        assert_eq!(e.line(), 1);
        let cut = split("+------+\n| NAME |\n+------+\n| a    |");
        let e = find_table("setops service", &cut).unwrap_err();
        assert_eq!(e.line(), 5);
        assert!(
            find_table("setops service", &split("no table"))
                .unwrap()
                .is_none()
        );
    }
}
