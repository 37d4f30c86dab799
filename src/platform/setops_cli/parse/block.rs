//! `Label:   value` blocks as the `setops` CLI prints them (`ID:`, `Status:`, `Created At:`), with
//! lists under a label (`Links:`, `Options:`) whose items are `-- <a>   <b>` lines. A label ends
//! at the first `:` that is followed by a space or the end of the line, so values keep their own
//! colons (timestamps, URLs). Blank lines, unknown labels and other lines are skipped: the typed
//! parsers decide which labels they require.

use std::sync::LazyLock;

use regex::Regex;

use super::lines::Line;

/// A label: a word, then words, digits and a little punctuation, at most 40 characters, so prose
/// and table lines never read as labels.
static LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*([A-Za-z][A-Za-z0-9 ._/()\-]{0,39}?)\s*:(?:[ \t]+(.*?))?[ \t]*$")
        .expect("static regex compiles")
});

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Block {
    pub fields: Vec<Field>,
}

/// One `Label: value` line and the `-- item` lines under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    /// Trimmed; empty for a list label such as `Links:`.
    pub value: String,
    pub line: usize,
    pub text: String,
    pub items: Vec<Item>,
}

/// One `-- text` line under a list label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub line: usize,
    /// The text after `--`, trimmed.
    pub text: String,
}

impl Item {
    /// `extensions   uuid-ossp` → (`extensions`, `uuid-ossp`): the first word, then the rest with
    /// its own inner spaces kept.
    pub fn pair(&self) -> (&str, &str) {
        match self.text.split_once(char::is_whitespace) {
            Some((key, rest)) => (key, rest.trim()),
            None => (self.text.as_str(), ""),
        }
    }
}

impl Block {
    /// Reads every label line of `lines` (in order); lines that are neither labels nor items are
    /// skipped.
    pub fn parse(lines: &[Line<'_>]) -> Block {
        let mut fields: Vec<Field> = Vec::new();
        for line in lines {
            let t = line.trimmed();
            if let Some(rest) = t.strip_prefix("--") {
                if let Some(field) = fields.last_mut() {
                    field.items.push(Item {
                        line: line.number,
                        text: rest.trim().to_owned(),
                    });
                }
                continue;
            }
            if let Some(caps) = LABEL.captures(&line.text) {
                let label = caps.get(1).map_or("", |m| m.as_str()).trim();
                let value = caps.get(2).map_or("", |m| m.as_str()).trim();
                fields.push(Field {
                    label: label.to_owned(),
                    value: value.to_owned(),
                    line: line.number,
                    text: line.text.to_string(),
                    items: Vec::new(),
                });
            }
        }
        Block { fields }
    }

    /// The first field with this label, compared case-insensitively.
    pub fn get(&self, label: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.label.eq_ignore_ascii_case(label))
    }
}

#[cfg(test)]
mod tests {
    use super::super::lines::split;
    use super::*;

    #[test]
    fn values_keep_their_colons_and_lists_their_items() {
        let lines = split(
            "Name:   db\nCreated At:   2021-04-03T09:41:38Z\nURL: https://x:1/y\n\
             weird line\nLinks:\n-- web   (DATABASE_URL)\n  -- worker   (DB)\nOptions:\n  (none)\nPlan:",
        );
        let b = Block::parse(&lines);
        assert_eq!(b.get("created at").unwrap().value, "2021-04-03T09:41:38Z");
        assert_eq!(b.get("URL").unwrap().value, "https://x:1/y");
        let links = &b.get("Links").unwrap().items;
        assert_eq!(links.len(), 2);
        assert_eq!(links[1].pair(), ("worker", "(DB)"));
        assert!(b.get("Options").unwrap().items.is_empty());
        assert_eq!(b.get("Plan").unwrap().value, "");
        assert!(b.get("https").is_none());
    }
}
