//! Unknown keys, all of them at once: the plan's generic tree is walked against the keys each
//! mapping of the plan's shape accepts, so a plan with three misspelt keys is told about all
//! three (and about every other rule) in one `plan:validate`, not one per attempt. The accepted
//! keys are read from the shape's structs themselves (src/plan/raw.rs), so they cannot drift.

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, Visitor};
use serde_saphyr::Spanned;

use super::issues::{PlanIssue, one_line};
use super::node::{Node, join};
use super::raw::{RawDefaults, RawFreezeApp, RawLink, RawMigration, RawPlan};

/// Every key of the plan that its shape does not accept, in file order.
pub(super) fn unknown_keys(file: &Path, root: &Spanned<Node>) -> Vec<PlanIssue> {
    let mut found = Vec::new();
    let plan = keys_of::<RawPlan>();
    let Node::Map(entries) = &root.value else {
        return found;
    };
    check(file, "", entries, plan, &mut found);
    for (key, value) in entries {
        match (key_text(key), &value.value) {
            (Some("defaults"), Node::Map(defaults)) => check(
                file,
                "defaults",
                defaults,
                keys_of::<RawDefaults>(),
                &mut found,
            ),
            (Some("freeze"), Node::Seq(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Node::Map(app) = &item.value {
                        let at = format!("freeze[{i}]");
                        check(file, &at, app, keys_of::<RawFreezeApp>(), &mut found);
                    }
                }
            }
            (Some("migrations"), Node::Seq(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Node::Map(migration) = &item.value {
                        check_migration(file, &format!("migrations[{i}]"), migration, &mut found);
                    }
                }
            }
            _ => {}
        }
    }
    found
}

type Entries = Vec<(Spanned<Node>, Spanned<Node>)>;

fn check_migration(file: &Path, path: &str, entries: &Entries, found: &mut Vec<PlanIssue>) {
    check(file, path, entries, keys_of::<RawMigration>(), found);
    for (key, value) in entries {
        if let (Some("relink"), Node::Seq(links)) = (key_text(key), &value.value) {
            for (i, link) in links.iter().enumerate() {
                if let Node::Map(link) = &link.value {
                    let at = format!("{}[{i}]", join(path, "relink"));
                    check(file, &at, link, keys_of::<RawLink>(), found);
                }
            }
        }
    }
}

fn check(file: &Path, path: &str, entries: &Entries, allowed: &[&str], found: &mut Vec<PlanIssue>) {
    for (key, _) in entries {
        let name = key_text(key).unwrap_or("?");
        if allowed.contains(&name) {
            continue;
        }
        let hint = match closest(name, allowed) {
            Some(near) => format!("did you mean `{near}`? The keys allowed here are"),
            None => "the keys allowed here are".to_owned(),
        };
        let loc = &key.referenced;
        found.push(PlanIssue {
            file: file.to_path_buf(),
            line: (loc.line() > 0).then_some(loc.line()),
            column: (loc.line() > 0).then_some(loc.column()),
            field: one_line(&join(path, name)),
            rule: one_line(&format!(
                "unknown key `{name}`; {hint} {} (check the spelling)",
                allowed.join(", ")
            )),
        });
    }
}

fn key_text(key: &Spanned<Node>) -> Option<&str> {
    match &key.value {
        Node::Scalar(text) => Some(text),
        _ => None,
    }
}

/// The allowed key a typo most likely meant: at most two edits away (and not the whole word).
fn closest<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (edits(name, a), *a))
        .filter(|(d, a)| *d <= 2 && *d < a.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// Levenshtein distance, on characters.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The keys a struct of the plan's shape accepts, as its `Deserialize` derive names them (renames
/// included): asked of the derive itself through a deserializer that only listens for them.
fn keys_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The listener always answers with an error once it has heard the names.
    let _ = T::deserialize(KeyListener {
        fields: &mut fields,
    });
    fields
}

struct KeyListener<'a> {
    fields: &'a mut &'static [&'static str],
}

#[derive(Debug)]
struct Listened;

impl fmt::Display for Listened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("only the field names were asked for")
    }
}

impl std::error::Error for Listened {}

impl serde::de::Error for Listened {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Listened
    }
}

impl<'de> Deserializer<'de> for KeyListener<'_> {
    type Error = Listened;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Listened> {
        Err(Listened)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Listened> {
        *self.fields = fields;
        Err(Listened)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accepted_keys_come_from_the_shape() {
        assert_eq!(
            keys_of::<RawPlan>(),
            [
                "version",
                "project",
                "stage",
                "defaults",
                "migrations",
                "freeze"
            ]
        );
        assert_eq!(keys_of::<RawFreezeApp>(), ["app", "scale"]);
        assert_eq!(keys_of::<RawDefaults>(), ["backup", "wait_timeout"]);
        assert_eq!(
            keys_of::<RawMigration>(),
            [
                "source",
                "target",
                "type",
                "plan",
                "options",
                "backup",
                "wait_timeout",
                "relink"
            ]
        );
        assert_eq!(
            keys_of::<RawLink>(),
            ["app", "env_key", "path", "read_only"]
        );
    }

    #[test]
    fn a_typo_is_matched_to_the_key_it_meant() {
        let allowed = keys_of::<RawMigration>();
        assert_eq!(closest("bakup", allowed), Some("backup"));
        assert_eq!(closest("sorce", allowed), Some("source"));
        assert_eq!(closest("optoins", allowed), Some("options"));
        assert_eq!(closest("colour", allowed), None);
        assert_eq!(edits("", "abc"), 3);
        assert_eq!(edits("kitten", "sitting"), 3);
    }
}
