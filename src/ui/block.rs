//! `Key:   value` blocks as the SetOps CLI prints them: values start three spaces after the
//! longest label's colon.

#[derive(Default)]
pub struct Block {
    fields: Vec<(String, String)>,
    lists: Vec<(String, Vec<Item>)>,
}

/// One `-- name   value` line of a list: its name, the value as people read it, and the bare
/// value(s) `--output plain` prints (tab-separated).
pub struct Item {
    pub name: String,
    pub shown: String,
    pub bare: String,
}

impl Block {
    pub fn new() -> Self {
        Block::default()
    }

    pub fn field(mut self, label: &str, value: impl Into<String>) -> Self {
        self.fields.push((label.to_owned(), value.into()));
        self
    }

    /// A label followed by `-- name   value` lines, values aligned (`Links:`, `Options:`).
    pub fn list(mut self, label: &str, items: Vec<Item>) -> Self {
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
            let pairs: Vec<(String, String)> = items
                .iter()
                .map(|i| (i.name.clone(), i.shown.clone()))
                .collect();
            for line in aligned_pairs(&pairs) {
                out.push(format!("  -- {line}"));
            }
        }
        out.join("\n")
    }

    /// Bare values for `--output plain`: the fields' values on one tab-separated line (like a
    /// table row), then one `Label<TAB>name<TAB>value` line per list item.
    pub fn render_plain(&self) -> String {
        let mut out = vec![
            self.fields
                .iter()
                .map(|(_, value)| value.as_str())
                .collect::<Vec<_>>()
                .join("\t"),
        ];
        for (label, items) in &self.lists {
            for item in items {
                out.push(format!("{label}\t{}\t{}", item.name, item.bare));
            }
        }
        out.join("\n")
    }
}

/// Aligns `name   value` pairs of a list on one column (`-- extensions   uuid-ossp`).
fn aligned_pairs(pairs: &[(String, String)]) -> Vec<String> {
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
    fn plain_is_bare_values() {
        let b = Block::new()
            .field("ID", "badbbc84-911b-4eb0-89be-bfc3cea5c6ff")
            .field("Status", "CREATING");
        assert_eq!(
            b.render_plain(),
            "badbbc84-911b-4eb0-89be-bfc3cea5c6ff\tCREATING"
        );
        let s = Block::new().field("Name", "media").list(
            "Links",
            vec![Item {
                name: "web".into(),
                shown: "(S3_DATA_URL)".into(),
                bare: "S3_DATA_URL".into(),
            }],
        );
        assert_eq!(
            s.render(),
            "Name:   media\nLinks:\n  -- web   (S3_DATA_URL)"
        );
        assert_eq!(s.render_plain(), "media\nLinks\tweb\tS3_DATA_URL");
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
