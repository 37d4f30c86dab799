//! How a data comparison reads: the one-line summary of what matched, and the table of
//! differences in the verification error (exit 5).

#[cfg(test)]
use super::WaysOn;
use super::{Cell, DataDiffers, Difference, MatchSummary, ServerVersions};
use crate::migrate::verify::activity::{GapUnit, WriteGap};
use crate::table::{Align, TableBuilder};
use crate::units::{format_count, format_size};

/// A table this long already says what is wrong; the rest is counted, not listed.
const MAX_ROWS: usize = 40;

/// `1 table`, `5 tables`: the count with its noun in the right number.
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", format_count(n), if n == 1 { one } else { many })
}

/// `12 rows in 3 tables`, `40 key changes`, `2 files`: what a write gap holds.
pub fn gap_text(gap: &WriteGap) -> String {
    match gap.unit {
        GapUnit::Rows => format!(
            "{} in {}",
            counted(gap.writes, "row", "rows"),
            counted(gap.parts.len() as u64, "table", "tables")
        ),
        GapUnit::Keys => counted(gap.writes, "key change", "key changes"),
        GapUnit::Files => counted(gap.writes, "file", "files"),
    }
}

/// `5 tables, 4,210 rows, 3 sequences, 2 extensions`, `12 keys in 2 databases`, `9 files, 3.0 kB`;
/// led by the servers when known: `postgresql 11.22 -> 13.23: 5 tables, …`.
pub fn summary_text(summary: &MatchSummary) -> String {
    let servers = |product: &str, servers: &Option<ServerVersions>| {
        servers
            .as_ref()
            .map(|v| format!("{product} {} -> {}: ", v.source, v.target))
            .unwrap_or_default()
    };
    match summary {
        MatchSummary::Tables {
            tables,
            rows,
            sequences,
            extensions,
            large_objects,
            servers: versions,
        } => {
            let mut text = format!(
                "{}{}, {}, {}, {}",
                servers("postgresql", versions),
                counted(*tables, "table", "tables"),
                counted(*rows, "row", "rows"),
                counted(*sequences, "sequence", "sequences"),
                counted(*extensions, "extension", "extensions"),
            );
            if *large_objects > 0 {
                text.push_str(&format!(
                    ", {}",
                    counted(*large_objects, "large object", "large objects")
                ));
            }
            text
        }
        MatchSummary::Keys {
            keys,
            databases,
            servers: versions,
        } => format!(
            "{}{} in {}",
            servers("redis", versions),
            counted(*keys, "key", "keys"),
            counted(*databases, "database", "databases")
        ),
        MatchSummary::Files { files, bytes } => {
            format!(
                "{}, {}",
                counted(*files, "file", "files"),
                format_size(*bytes)
            )
        }
    }
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Number(n) => format_count(*n),
        Cell::Rows(n) => counted(*n, "row", "rows"),
        // The first characters of a digest: enough to tell two apart in a table.
        Cell::Digest(d) => d.chars().take(16).collect(),
        Cell::Text(t) => t.clone(),
    }
}

/// Each difference as the table shows it: what, source, target.
pub fn rows(differences: &[Difference]) -> Vec<[String; 3]> {
    differences
        .iter()
        .map(|d| [d.what.clone(), cell(&d.source), cell(&d.target)])
        .collect()
}

/// The text of the verification error: the migration, the differences, why a live source shows
/// up here, and what to do next.
pub fn failure(d: &DataDiffers) -> String {
    let mut table = TableBuilder::new(&[
        ("WHAT", Align::Left),
        ("SOURCE", Align::Right),
        ("TARGET", Align::Right),
    ]);
    let shown = &d.differences[..d.differences.len().min(MAX_ROWS)];
    for row in rows(shown) {
        table.row(row.to_vec());
    }
    let mut text = format!(
        "verification of {} -> {} failed: the target's data differs from the source's in {} place(s)\n{}",
        d.source,
        d.target,
        format_count(d.differences.len() as u64),
        table.render()
    );
    if d.differences.len() > MAX_ROWS {
        text.push_str(&format!(
            "\n… and {} more difference(s)",
            format_count((d.differences.len() - MAX_ROWS) as u64)
        ));
    }
    let backup = d
        .backup_id
        .as_deref()
        .map(|id| format!("backup {id}"))
        .unwrap_or_else(|| "the backup".into());
    let ways = &d.commands;
    let fresh = if ways.fresh {
        String::new()
    } else {
        format!(
            " (set `backup: fresh` for this migration in {} first)",
            ways.plan.display()
        )
    };
    text.push_str(&format!(
        "\nThe target's uploaded backup matched the source's bytes (size, SHA-256), so the restore \
         changed or lost data, or the source is live: writes to {source} after {backup} was made \
         also show up as differences.\nThe target was not relinked: apps still use {source}. Ways \
         on:\n  - the source is live: stop what writes to it, then move a fresh backup into a new, \
         empty {target}{fresh}:\n      {run} --restart --recreate-target\n  - look at the \
         target first (what an app would receive from it: {scoped} --app APP env):\n      \
         {scoped} service:info {target}\n  - the differences are expected: relink without this \
         check\n      {run} --no-verify",
        source = d.source,
        target = d.target,
        run = ways.run,
        scoped = ways.scoped,
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::verify::Difference;
    use crate::model::Scope;

    fn differs(differences: Vec<Difference>) -> DataDiffers {
        DataDiffers {
            scope: Scope {
                project: "shop".into(),
                stage: "production".into(),
            },
            source: "database".into(),
            target: "database13".into(),
            backup_id: Some("4be3f3b5".into()),
            differences,
            commands: WaysOn {
                plan: "plans/upgrade.yaml".into(),
                fresh: false,
                run: "setops-migrate --sandbox .sandbox run plans/upgrade.yaml --yes".into(),
                scoped: "setops-migrate --sandbox .sandbox -p shop -s production".into(),
            },
        }
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(4210), "4,210");
        assert_eq!(format_count(1_234_567), "1,234,567");
        assert_eq!(counted(1, "table", "tables"), "1 table");
        assert_eq!(counted(1200, "row", "rows"), "1,200 rows");
    }

    #[test]
    fn the_failure_names_the_migration_lists_each_difference_and_says_what_to_do() {
        let text = failure(&differs(vec![
            Difference::new(
                "table public.orders rows",
                Cell::Text("1200".into()),
                Cell::Text("1199".into()),
            ),
            Difference::new("extension citext", "installed", "missing"),
        ]));
        assert!(
            text.starts_with("verification of database -> database13 failed"),
            "{text}"
        );
        let row = text
            .lines()
            .find(|l| l.contains("table public.orders rows"))
            .expect("a row per difference");
        assert!(row.contains("1200") && row.contains("1199"), "{row}");
        assert!(text.contains("| extension citext"), "{text}");
        assert!(
            text.contains("writes to database after backup 4be3f3b5"),
            "{text}"
        );
        assert!(text.contains("was not relinked"), "{text}");
        assert!(
            text.contains(
                "      setops-migrate --sandbox .sandbox -p shop -s production service:info database13\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("set `backup: fresh` for this migration in plans/upgrade.yaml"),
            "{text}"
        );
        assert!(
            text.contains(
                "      setops-migrate --sandbox .sandbox run plans/upgrade.yaml --yes --restart --recreate-target\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                "      setops-migrate --sandbox .sandbox run plans/upgrade.yaml --yes --no-verify"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_long_list_is_cut_and_the_rest_counted() {
        let many: Vec<Difference> = (0..(MAX_ROWS + 5))
            .map(|i| {
                Difference::new(
                    format!("table public.t{i} rows"),
                    Cell::Number(1),
                    Cell::Number(0),
                )
            })
            .collect();
        let text = failure(&differs(many));
        assert!(text.contains("in 45 place(s)"), "{text}");
        assert!(text.contains("… and 5 more difference(s)"), "{text}");
        assert!(
            text.contains(&format!("public.t{} ", MAX_ROWS - 1)),
            "{text}"
        );
        assert!(!text.contains(&format!("public.t{} ", MAX_ROWS)), "{text}");
    }
}
