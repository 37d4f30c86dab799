//! Tables in the SetOps CLI's ASCII style: `+---+` borders, centred upper-case headers, no lines
//! between rows.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};

/// comfy-table preset: borders and the header rule only (a space means "draw nothing").
const SETOPS_PRESET: &str = "||--+-++|    ++++++";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

pub struct TableBuilder {
    headers: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl TableBuilder {
    pub fn new(headers: &[(&str, Align)]) -> Self {
        TableBuilder {
            headers: headers.iter().map(|(h, a)| (h.to_string(), *a)).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) -> &mut Self {
        self.rows.push(cells);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The bordered table for humans.
    pub fn render(&self) -> String {
        let mut table = Table::new();
        // Headers are centred by hand: like the SetOps CLI, an odd leftover space goes right.
        let headers = self.headers.iter().enumerate().map(|(i, (h, _))| {
            let width = self
                .rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0);
            Cell::new(format!("{h:^width$}")).set_alignment(CellAlignment::Left)
        });
        table
            .load_preset(SETOPS_PRESET)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(headers);
        for row in &self.rows {
            table.add_row(row.iter().zip(&self.headers).map(|(value, (_, align))| {
                Cell::new(value).set_alignment(match align {
                    Align::Left => CellAlignment::Left,
                    Align::Right => CellAlignment::Right,
                })
            }));
        }
        table.to_string()
    }

    /// Tab-separated rows without header, for `--output plain`.
    pub fn render_plain(&self) -> String {
        self.rows
            .iter()
            .map(|r| r.join("\t"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_the_backup_restore_document() {
        let mut t = TableBuilder::new(&[
            ("ID", Align::Left),
            ("STATUS", Align::Left),
            ("CREATED AT", Align::Left),
            ("SIZE", Align::Right),
        ]);
        t.row(vec![
            "6a6fcd7a-7063-4cb4-a748-8f765eea39a2".into(),
            "CREATED".into(),
            "2021-04-23T12:03:10Z".into(),
            "150.8 kB".into(),
        ]);
        t.row(vec![
            "82a08f8e-3392-4211-ac55-6cd9c2884fa4".into(),
            "CREATED".into(),
            "2021-04-27T19:07:25Z".into(),
            "75.3 MB".into(),
        ]);
        let expected = "\
+--------------------------------------+---------+----------------------+----------+
|                  ID                  | STATUS  |      CREATED AT      |   SIZE   |
+--------------------------------------+---------+----------------------+----------+
| 6a6fcd7a-7063-4cb4-a748-8f765eea39a2 | CREATED | 2021-04-23T12:03:10Z | 150.8 kB |
| 82a08f8e-3392-4211-ac55-6cd9c2884fa4 | CREATED | 2021-04-27T19:07:25Z |  75.3 MB |
+--------------------------------------+---------+----------------------+----------+";
        assert_eq!(t.render(), expected);
    }
}
