//! Splits a command's output into numbered lines the way a terminal would have shown them, so
//! every parser sees the same text and error line numbers match what the user sees.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// Terminal escape sequences (colours, cursor moves, window titles): an interactive CLI may
/// colour its output even when we read it through a pipe.
static ANSI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
        .expect("static regex compiles")
});

/// One line of output: its 1-based number in the raw output and its visible text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    pub number: usize,
    pub text: Cow<'a, str>,
}

impl Line<'_> {
    pub fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }

    pub fn trimmed(&self) -> &str {
        self.text.trim()
    }
}

/// Splits on `\n`. A `\r` inside a line is a spinner or progress bar redrawing itself: only what
/// follows the last one stayed on screen. A final newline does not start another line.
pub fn split(output: &str) -> Vec<Line<'_>> {
    let body = output.strip_suffix('\n').unwrap_or(output);
    if body.is_empty() {
        return Vec::new();
    }
    body.split('\n')
        .enumerate()
        .map(|(i, raw)| {
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let shown = raw.rsplit('\r').next().unwrap_or(raw);
            let text = if shown.contains('\x1b') {
                Cow::Owned(ANSI.replace_all(shown, "").into_owned())
            } else {
                Cow::Borrowed(shown)
            };
            Line {
                number: i + 1,
                text,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_numbers_and_what_the_terminal_showed() {
        let lines = split("a\r\n\u{1b}[32mgreen\u{1b}[0m\n◢ Init…\r◤ Plan…\n");
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_ref()).collect();
        assert_eq!(texts, ["a", "green", "◤ Plan…"]);
        assert_eq!(lines[2].number, 3);
        assert!(split("").is_empty());
        assert!(split("\n").is_empty());
        assert_eq!(split("\n\n").len(), 2);
    }
}
