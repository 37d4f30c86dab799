//! How a comparison reads: one row per difference in the failure message, and the one-line
//! summaries of what matched.

use crate::model::Scope;
use crate::ui::table::{Align, TableBuilder};

/// A table this long already says what is wrong; the rest is counted, not listed.
const MAX_ROWS: usize = 40;

/// One thing that differs between the source's data and the target's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub what: String,
    pub source: String,
    pub target: String,
}

impl Difference {
    pub fn new(what: impl Into<String>, source: impl ToString, target: impl ToString) -> Self {
        Difference {
            what: what.into(),
            source: source.to_string(),
            target: target.to_string(),
        }
    }
}

/// Which migration failed, and the backup whose bytes both sides should hold.
pub struct Subject<'a> {
    pub scope: &'a Scope,
    pub source: &'a str,
    pub target: &'a str,
    pub backup_id: Option<&'a str>,
}

/// The text of the verification error: the migration, the differences, why a live source shows
/// up here, and what to do next.
pub fn failure(subject: &Subject<'_>, differences: &[Difference]) -> String {
    let mut table = TableBuilder::new(&[
        ("WHAT", Align::Left),
        ("SOURCE", Align::Right),
        ("TARGET", Align::Right),
    ]);
    for d in differences.iter().take(MAX_ROWS) {
        table.row(vec![d.what.clone(), d.source.clone(), d.target.clone()]);
    }
    let mut text = format!(
        "verification of {} -> {} failed: the target's data differs from the source's in {} place(s)\n{}",
        subject.source,
        subject.target,
        count(differences.len() as u64),
        table.render()
    );
    if differences.len() > MAX_ROWS {
        text.push_str(&format!(
            "\n… and {} more difference(s)",
            count((differences.len() - MAX_ROWS) as u64)
        ));
    }
    let backup = subject
        .backup_id
        .map(|id| format!("backup {id}"))
        .unwrap_or_else(|| "the backup".into());
    text.push_str(&format!(
        "\nThe target's uploaded backup matched the source's bytes (size, SHA-256), so the restore \
         changed or lost data, or the source is live: writes to {} after {backup} was made also \
         show up as differences.\nThe target was not relinked: apps still use {}. Inspect the target \
         (`setops-migrate -p {} -s {} service:info {}`; `setops-migrate -p {} -s {} --app APP env` \
         shows what an app receives), fix the cause and run the same command again, or pass \
         --no-verify to relink without this check.",
        subject.source,
        subject.source,
        subject.scope.project,
        subject.scope.stage,
        subject.target,
        subject.scope.project,
        subject.scope.stage,
    ));
    text
}

pub use crate::ui::format_count as count;

/// `1 table`, `5 tables`: the count with its noun in the right number.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// The first characters of a digest: enough to tell two apart in a table.
pub fn short(digest: &str) -> String {
    digest.chars().take(16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(scope: &Scope) -> Subject<'_> {
        Subject {
            scope,
            source: "database",
            target: "database13",
            backup_id: Some("4be3f3b5"),
        }
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(4210), "4,210");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(counted(1, "table", "tables"), "1 table");
        assert_eq!(counted(1200, "row", "rows"), "1,200 rows");
    }

    #[test]
    fn the_failure_names_the_migration_lists_each_difference_and_says_what_to_do() {
        let scope = Scope {
            project: "shop".into(),
            stage: "production".into(),
        };
        let text = failure(
            &subject(&scope),
            &[
                Difference::new("table public.orders rows", 1200, 1199),
                Difference::new("extension citext", "installed", "missing"),
            ],
        );
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
            text.contains("setops-migrate -p shop -s production service:info database13"),
            "{text}"
        );
        assert!(text.contains("--no-verify"), "{text}");
    }

    #[test]
    fn a_long_list_is_cut_and_the_rest_counted() {
        let scope = Scope {
            project: "shop".into(),
            stage: "production".into(),
        };
        let many: Vec<Difference> = (0..(MAX_ROWS + 5))
            .map(|i| Difference::new(format!("table public.t{i} rows"), 1, 0))
            .collect();
        let text = failure(&subject(&scope), &many);
        assert!(text.contains("in 45 place(s)"), "{text}");
        assert!(text.contains("… and 5 more difference(s)"), "{text}");
        assert!(
            text.contains(&format!("public.t{} ", MAX_ROWS - 1)),
            "{text}"
        );
        assert!(!text.contains(&format!("public.t{} ", MAX_ROWS)), "{text}");
    }
}
