//! Turns a serde-saphyr error into a plan issue: the position in front, the field path where the
//! document could be read as YAML, and a rule that says what to write instead.

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Error, MessageFormatter, Spanned, UserMessageFormatter};

use super::node::{Node, join, path_at};
use crate::redact::redact;

/// Limits of the parse budget, also quoted in the messages.
pub(super) const MAX_DEPTH: usize = 32;
pub(super) const MAX_ALIASES: usize = 64;
pub(super) const MAX_ANCHORS: usize = 64;
pub(super) const MAX_NODES: usize = 50_000;

/// Options for both passes: no source snippets in messages (the issue carries the position),
/// and a budget far above any real plan but far below what hurts.
pub(super) fn parse_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        // YAML 1.1 reads `y`, `no`, `on` as booleans; a plan means the text.
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_aliases: MAX_ALIASES,
            max_anchors: MAX_ANCHORS,
            max_nodes: MAX_NODES,
            max_events: 4 * MAX_NODES,
            max_documents: 1,
            max_total_scalar_bytes: 4 * 1024 * 1024,
            max_recorded_anchor_events: MAX_NODES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_NODES,
        },
    }
}

/// One translated error: 1-based position (when known), field path (may be empty) and rule.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct YamlIssue {
    pub position: Option<(u64, u64)>,
    pub field: String,
    pub rule: String,
}

/// Translates an error of either pass. `tree` is the generic parse (present for type errors, absent
/// for syntax errors); `text` is the plan, used to point at a tab used for indentation.
pub(super) fn translate(err: &Error, tree: Option<&Spanned<Node>>, text: &str) -> YamlIssue {
    let position = err
        .location()
        .filter(|loc| loc.line() > 0)
        .map(|loc| (loc.line(), loc.column()));
    let inner = original(err);

    if tree.is_none()
        && let Some((line, column)) = indentation_tab(text, position.map_or(u64::MAX, |p| p.0))
    {
        return YamlIssue {
            position: Some((line, column)),
            field: String::new(),
            rule: "a tab is used for indentation; YAML indents with spaces only, so replace \
                   the tab with spaces"
                .to_owned(),
        };
    }

    let field_at = |mapping_only: bool| {
        let (line, column) = position?;
        path_at(tree?, line, column, mapping_only)
    };
    let (field, rule) = match inner {
        Error::SerdeMissingField { field, .. } => (
            field_at(true).map_or_else(|| (*field).to_owned(), |parent| join(&parent, field)),
            format!("required key `{field}` is missing; add it"),
        ),
        Error::InvalidScalar { ty, .. } => (
            field_at(false).unwrap_or_default(),
            format!("expected {}", describe_expected(ty)),
        ),
        Error::Unexpected { expected, .. } => (
            field_at(false).unwrap_or_default(),
            format!("expected {}", describe_expected(expected)),
        ),
        Error::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => (
            field_at(false).unwrap_or_default(),
            format!(
                "expected {}, found {unexpected}",
                describe_expected(expected)
            ),
        ),
        Error::NullIntoString { .. } => (
            field_at(false).unwrap_or_default(),
            "a value is required here, found nothing (null)".to_owned(),
        ),
        Error::DuplicateMappingKey { key, .. } => (
            String::new(),
            match key {
                Some(key) => format!("key `{key}` appears twice in the same mapping; keep one"),
                None => "a key appears twice in the same mapping; keep one".to_owned(),
            },
        ),
        Error::Eof { .. } => (
            String::new(),
            "the plan holds no YAML document; start from one of plans/examples/*.yaml".to_owned(),
        ),
        Error::MultipleDocuments { .. } => (
            String::new(),
            "the file holds more than one YAML document (`---`); a plan is one document".to_owned(),
        ),
        Error::Budget { breach, .. } => (String::new(), describe_breach(breach)),
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. } => (
            String::new(),
            format!(
                "aliases (*name) expand to more than {MAX_NODES} values; a plan needs few or no \
                 aliases, write the values out"
            ),
        ),
        other => (
            field_at(false).unwrap_or_default(),
            format!(
                "{}; the plan is not valid YAML",
                UserMessageFormatter.format_message(other)
            ),
        ),
    };
    YamlIssue {
        position,
        field,
        // Type errors quote the value they could not use; it must not carry a credential.
        rule: redact(&rule),
    }
}

fn original(mut err: &Error) -> &Error {
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = err {
        err = error;
    }
    err
}

fn describe_expected(what: &str) -> String {
    match what {
        "u32" | "u64" | "i64" | "u8" | "u16" | "i32" | "usize" => {
            "a whole number (for example `version: 1`)".to_owned()
        }
        "bool" | "a boolean" => "true or false".to_owned(),
        "mapping start"
        | "a map"
        | "struct RawPlan"
        | "struct RawMigration"
        | "struct RawDefaults"
        | "struct RawLink" => "a mapping (`key: value` entries)".to_owned(),
        "sequence start" | "a sequence" => "a list (`- item` entries)".to_owned(),
        "string scalar" | "a string" => "a single text value".to_owned(),
        other => other.to_owned(),
    }
}

fn describe_breach(breach: &BudgetBreach) -> String {
    match breach {
        BudgetBreach::Depth { .. } => format!(
            "the plan nests deeper than {MAX_DEPTH} levels; a plan needs at most 5, so remove \
             the extra nesting"
        ),
        BudgetBreach::Aliases { .. } => format!(
            "the plan uses more than {MAX_ALIASES} aliases (*name); write the values out instead"
        ),
        BudgetBreach::Anchors { .. } => format!(
            "the plan defines more than {MAX_ANCHORS} anchors (&name); write the values out instead"
        ),
        BudgetBreach::AliasAnchorRatio { .. } => {
            "the plan repeats a few anchors through very many aliases; write the values out"
                .to_owned()
        }
        BudgetBreach::Documents { .. } => {
            "the file holds more than one YAML document (`---`); a plan is one document".to_owned()
        }
        _ => format!(
            "the plan expands to more than {MAX_NODES} values (an alias bomb?); a plan needs a \
             few hundred at most"
        ),
    }
}

/// The first tab in the indentation of a line at or before `up_to_line` (+1, because the parser
/// often notices one line late), as a 1-based (line, column).
fn indentation_tab(text: &str, up_to_line: u64) -> Option<(u64, u64)> {
    text.lines()
        .zip(1u64..)
        .take_while(|(_, n)| *n <= up_to_line.saturating_add(1))
        .find_map(|(line, n)| {
            let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
            line[..indent].find('\t').map(|col| (n, col as u64 + 1))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::raw::RawPlan;

    fn syntax(text: &str) -> YamlIssue {
        let err = serde_saphyr::from_str_with_options::<Spanned<Node>>(text, parse_options())
            .unwrap_err();
        translate(&err, None, text)
    }

    fn typed(text: &str) -> YamlIssue {
        let tree: Spanned<Node> =
            serde_saphyr::from_str_with_options(text, parse_options()).unwrap();
        let err =
            serde_saphyr::from_str_with_options::<RawPlan>(text, parse_options()).unwrap_err();
        translate(&err, Some(&tree), text)
    }

    const HEAD: &str = "version: 1\nproject: shop\nstage: production\n";

    #[test]
    fn missing_keys_name_the_mapping_they_belong_to() {
        let issue = typed(&format!(
            "{HEAD}migrations:\n  - target: abc\n    relink:\n      - env_key: X\n"
        ));
        assert_eq!(issue.position, Some((7, 9)));
        assert_eq!(issue.field, "migrations[0].relink[0].app");
        assert_eq!(issue.rule, "required key `app` is missing; add it");
    }

    #[test]
    fn wrong_types_say_what_was_expected() {
        let issue = typed("version: one\nproject: shop\nstage: prod\nmigrations: []\n");
        assert_eq!(issue.position, Some((1, 10)));
        assert_eq!(issue.field, "version");
        assert!(issue.rule.contains("a whole number"), "{}", issue.rule);

        let issue = typed(&format!(
            "{HEAD}migrations:\n  - target: abc\n    options: [a]\n"
        ));
        assert_eq!(issue.field, "migrations[0].options");
        assert!(issue.rule.contains("a mapping"), "{}", issue.rule);
    }

    #[test]
    fn a_tab_in_the_indentation_is_pointed_at() {
        let issue = syntax("version: 1\nmigrations:\n  - target: a\n\t  type: volume\n");
        assert_eq!(issue.position, Some((4, 1)));
        assert!(issue.rule.contains("tab"), "{}", issue.rule);
    }

    #[test]
    fn budget_breaches_are_explained() {
        let deep = format!("a: {}1{}\n", "[".repeat(40), "]".repeat(40));
        let issue = syntax(&deep);
        assert!(issue.rule.contains("deeper than 32"), "{}", issue.rule);

        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (name, prev) in [("b", "a"), ("c", "b"), ("d", "c"), ("e", "d"), ("f", "e")] {
            let refs = vec![format!("*{prev}"); 9].join(", ");
            bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let issue = syntax(&bomb);
        assert!(issue.rule.contains("more than"), "{}", issue.rule);
    }

    #[test]
    fn messages_never_carry_credentials() {
        let issue = typed("version: postgresql://app:hunter2@db/x\nproject: a\n");
        assert!(!issue.rule.contains("hunter2"), "{}", issue.rule);
    }

    #[test]
    fn a_document_that_is_not_a_mapping_is_explained() {
        let issue = typed("- a\n- b\n");
        assert_eq!(issue.position, Some((1, 1)));
        assert!(issue.rule.contains("expected a mapping"), "{}", issue.rule);
    }
}
