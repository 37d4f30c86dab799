//! The one error every `setops` output parser returns: which command printed what on which line,
//! and what was expected there. The adapter shows it to the user as is, so it must be readable on
//! its own and must never carry a secret or a megabyte of junk from the output.

use std::sync::LazyLock;

use regex::Regex;

use super::lines::Line;

/// How many characters of an offending line an error quotes; the rest is cut, so a 10 MB line of
/// junk stays a one-line message.
const MAX_QUOTED_CHARS: usize = 120;

/// A URL's query string: pre-signed transfer URLs carry their signature there, so an error quoting
/// a line never shows one, whatever its parameter names are.
static URL_QUERY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s?#]*)\?[^\s#]*").expect("static regex compiles")
});

/// What the parser met where it expected something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// This line (redacted, control characters replaced, cut to a readable length).
    Line(String),
    /// The output ended (or was empty) before the expected text.
    EndOfOutput,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ParseError {
    command: String,
    line: usize,
    found: Found,
    expected: String,
}

impl ParseError {
    /// `line` is what stood where `expected` should have been.
    pub fn at(command: &str, line: &Line<'_>, expected: impl Into<String>) -> Self {
        ParseError::on(command, line.number, &line.text, expected)
    }

    /// Like [`ParseError::at`] for a line kept as its number and text.
    pub fn on(command: &str, number: usize, text: &str, expected: impl Into<String>) -> Self {
        ParseError {
            command: command.to_owned(),
            line: number,
            found: Found::Line(quote(text)),
            expected: expected.into(),
        }
    }

    /// The output ended without `expected`; the line named is the one after the last non-blank
    /// line (1 for an output that is empty or blank).
    pub fn at_end(command: &str, lines: &[Line<'_>], expected: impl Into<String>) -> Self {
        let last = lines.iter().rev().find(|l| !l.is_blank());
        ParseError {
            command: command.to_owned(),
            line: last.map_or(1, |l| l.number + 1),
            found: Found::EndOfOutput,
            expected: expected.into(),
        }
    }

    /// The command as the user would type it, e.g. `setops backup`.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// 1-based line of the output; one past the last line when the output ended too early.
    pub fn line(&self) -> usize {
        self.line
    }

    pub fn found(&self) -> &Found {
        &self.found
    }

    pub fn expected(&self) -> &str {
        &self.expected
    }

    fn describe(&self) -> String {
        let ended = |what: &str| {
            format!(
                "the output of `{}` {what} at line {}: expected {}",
                self.command, self.line, self.expected
            )
        };
        match &self.found {
            Found::EndOfOutput if self.line <= 1 => ended("is empty or blank"),
            Found::EndOfOutput => ended("ends"),
            Found::Line(text) => format!(
                "the output of `{}` has an unexpected line {} ({text:?}): expected {}",
                self.command, self.line, self.expected
            ),
        }
    }
}

/// A line as an error may show it: cut first (so redaction never scans megabytes), control
/// characters made visible, URL query strings and every secret `crate::redact` knows removed.
pub fn quote(text: &str) -> String {
    let mut cut: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    let visible: String = cut
        .chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect();
    let no_query = URL_QUERY.replace_all(&visible, "${1}?<redacted>");
    crate::redact::redact(&no_query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_never_show_a_query_string_or_junk() {
        let q = quote("https://bucket.s3.amazonaws.com/b/x.psqlcustom?X-Amz-Date=1&foo=bar tail");
        assert_eq!(
            q,
            "https://bucket.s3.amazonaws.com/b/x.psqlcustom?<redacted> tail"
        );
        assert_eq!(quote("a\u{0}b\u{1b}c"), "a\u{FFFD}b\u{FFFD}c");
        let long = "x".repeat(10 * 1024 * 1024);
        assert_eq!(quote(&long).chars().count(), MAX_QUOTED_CHARS + 1);
    }

    #[test]
    fn messages_name_command_line_and_expectation() {
        let lines = super::super::lines::split("one\ntwo");
        let e = ParseError::at("setops backup", &lines[1], "a table row");
        assert_eq!(e.line(), 2);
        assert_eq!(
            e.to_string(),
            "the output of `setops backup` has an unexpected line 2 (\"two\"): expected a table row"
        );
        let e = ParseError::at_end("setops backup", &lines, "the closing border");
        assert_eq!(e.line(), 3);
        assert!(e.to_string().contains("ends at line 3"));
        let e = ParseError::at_end("setops version", &[], "a line `CLI Version: X.Y.Z`");
        assert!(
            e.to_string()
                .contains("`setops version` is empty or blank at line 1")
        );
    }
}
