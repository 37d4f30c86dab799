//! `Key:   value` blocks as the SetOps CLI prints them: values start three spaces after the
//! longest label's colon.

#[derive(Default)]
pub struct Block {
    fields: Vec<(String, String)>,
    lists: Vec<(String, Vec<String>)>,
}

impl Block {
    pub fn new() -> Self {
        Block::default()
    }

    pub fn field(mut self, label: &str, value: impl Into<String>) -> Self {
        self.fields.push((label.to_owned(), value.into()));
        self
    }

    /// A label followed by `-- item` lines (`Links:`, `Options:`).
    pub fn list(mut self, label: &str, items: Vec<String>) -> Self {
        self.lists.push((label.to_owned(), items));
        self
    }

    pub fn render(&self) -> String {
        let width = self
            .fields
            .iter()
            .map(|(label, _)| label.len() + 1)
            .max()
            .unwrap_or(0)
            + 3;
        let mut out = Vec::new();
        for (label, value) in &self.fields {
            out.push(format!("{:<width$}{value}", format!("{label}:")));
        }
        for (label, items) in &self.lists {
            out.push(format!("{label}:"));
            if items.is_empty() {
                out.push("  (none)".to_owned());
            }
            for item in items {
                out.push(format!("  -- {item}"));
            }
        }
        out.join("\n")
    }

    /// `label: value` lines without padding, for `--output plain`.
    pub fn render_plain(&self) -> String {
        let mut out: Vec<String> = self
            .fields
            .iter()
            .map(|(label, value)| format!("{label}: {value}"))
            .collect();
        for (label, items) in &self.lists {
            for item in items {
                out.push(format!("{label}: {item}"));
            }
        }
        out.join("\n")
    }
}

/// Aligns `name   value` pairs of a list on one column (`-- extensions   uuid-ossp`).
pub fn aligned_pairs(pairs: &[(String, String)]) -> Vec<String> {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 3;
    pairs
        .iter()
        .map(|(k, v)| format!("{k:<width$}{v}").trim_end().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_like_backup_create() {
        let b = Block::new()
            .field("ID", "badbbc84-911b-4eb0-89be-bfc3cea5c6ff")
            .field("Status", "CREATING");
        assert_eq!(
            b.render(),
            "ID:       badbbc84-911b-4eb0-89be-bfc3cea5c6ff\nStatus:   CREATING"
        );
    }

    #[test]
    fn aligns_like_backup_restore() {
        let b = Block::new()
            .field("ID", "e3e7ccb5-26ff-4946-ad5f-9c97118d77a3")
            .field("Status", "RESTORING")
            .field("Created At", "2021-04-03T09:41:38Z")
            .field("Size", "150.8 kB");
        assert_eq!(
            b.render(),
            "ID:           e3e7ccb5-26ff-4946-ad5f-9c97118d77a3\n\
             Status:       RESTORING\n\
             Created At:   2021-04-03T09:41:38Z\n\
             Size:         150.8 kB"
        );
    }
}
