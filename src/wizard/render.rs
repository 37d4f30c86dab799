//! The answers as a commented version 1 plan. Only what differs from the source is written as a
//! key (type, plan, options); what is copied is said in comments, so `run` copies the source as
//! it is when the plan runs.

use std::fmt::Write as _;
use std::path::Path;

use super::out::path_from_plan;
use super::{Answers, BackupAnswer, RelinkAnswer};
use crate::error::Result;
use crate::model::Link;

/// Comments start in this column, so a plan reads as a table.
const COMMENT_COLUMN: usize = 30;

/// A YAML scalar: plain where it is unambiguous, else double-quoted (JSON strings are valid YAML).
fn scalar(text: &str) -> String {
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '/')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c));
    // A leading digit reads as a number (`50`, `1e3`, `0x1f`) unless other text follows (`2h`).
    let number = text.parse::<f64>().is_ok() || text.starts_with("0x") || text.starts_with("0o");
    let keyword = ["null", "true", "false", "yes", "no", "on", "off", "y", "n"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(text));
    if plain && !number && !keyword {
        text.to_owned()
    } else {
        serde_json::Value::String(text.to_owned()).to_string()
    }
}

/// Always quoted: option values are strings even when they look like numbers or booleans.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

struct Writer {
    text: String,
}

impl Writer {
    fn comment(&mut self, line: &str) {
        self.comment_at("", line);
    }

    /// A comment line of its own, indented like the keys around it.
    fn comment_at(&mut self, indent: &str, line: &str) {
        self.text.push_str(indent);
        self.text.push_str("# ");
        self.text.push_str(line);
        self.text.push('\n');
    }

    /// `code`, then `# comment` in the comment column (or one space after a long `code`).
    fn line(&mut self, code: &str, comment: &str) {
        self.text.push_str(code);
        if !comment.is_empty() {
            let pad = COMMENT_COLUMN.saturating_sub(code.chars().count()).max(1);
            let _ = write!(self.text, "{:pad$}# {comment}", "");
        }
        self.text.push('\n');
    }
}

fn link_yaml(link: &Link) -> String {
    let mut text = format!("{{app: {}", scalar(&link.app));
    if let Some(path) = &link.path {
        let _ = write!(text, ", path: {}", scalar(path));
        if link.read_only {
            text.push_str(", read_only: true");
        }
    } else if let Some(key) = &link.env_key {
        let _ = write!(text, ", env_key: {}", scalar(key));
    }
    text.push('}');
    text
}

/// The plan's `freeze:` list: names alone, with the scale to restore only where the platform
/// shows none (the run reads and journals the others).
fn freeze_yaml(w: &mut Writer, a: &Answers) {
    if a.freeze.is_empty() {
        return;
    }
    w.line(
        "freeze:",
        "scaled to 0 for the cutover; the relink's commit restores their scales",
    );
    for app in &a.freeze {
        match app.scale {
            None => w.line(&format!("  - {}", scalar(&app.app)), ""),
            Some(scale) => w.line(
                &format!("  - {{app: {}, scale: {scale}}}", scalar(&app.app)),
                "the platform does not show its scale; restored to this one",
            ),
        }
    }
}

/// The migration's `backup:` value and its comment; `None` when a freeze implies it.
fn backup_key(a: &Answers, path: &Path) -> Result<Option<(String, String)>> {
    let source = &a.source;
    let key = match &a.backup {
        BackupAnswer::AfterFreeze => return Ok(None),
        BackupAnswer::Latest(b) => (
            "latest".to_owned(),
            format!(
                "newest CREATED backup of {} when the plan runs; now {} of {}",
                source.name,
                b.id,
                super::ask_data::describe(b)
            ),
        ),
        BackupAnswer::Fresh { why } => (
            "fresh".to_owned(),
            match why {
                Some(why) => format!(
                    "a new backup of {}, made when the plan runs; not latest: {why}",
                    source.name
                ),
                None => format!("a new backup of {}, made when the plan runs", source.name),
            },
        ),
        BackupAnswer::Id(b) => (
            b.id.to_string(),
            format!(
                "backup of {} from {}",
                source.name,
                super::ask_data::describe(b)
            ),
        ),
        BackupAnswer::File(file) => (
            format!("file:{}", path_from_plan(path, file)?),
            "local file, relative to this plan's directory".to_owned(),
        ),
    };
    Ok(Some(key))
}

pub fn plan_yaml(a: &Answers, path: &Path) -> Result<String> {
    let source = &a.source;
    let shown = path.display();
    let mut w = Writer {
        text: String::new(),
    };
    w.comment(&format!(
        "Made by `setops-migrate wizard`: copy {} into a new service {} in {}.",
        source.name, a.target, a.scope
    ));
    w.comment(&format!("Check it:  setops-migrate plan:validate {shown}"));
    w.comment(&format!("Preview:   setops-migrate run {shown} --dry-run"));
    w.comment(&format!(
        "Run it:    setops-migrate run {shown}   (again to resume)"
    ));
    w.line("version: 1", "");
    w.line(
        &format!("project: {}", scalar(&a.scope.project)),
        "SetOps project",
    );
    w.line(
        &format!("stage: {}", scalar(&a.scope.stage)),
        "stage of the project",
    );
    freeze_yaml(&mut w, a);
    w.line("migrations:", "");

    let copied_plan = source.plan.as_deref().unwrap_or("no plan");
    w.line(
        &format!("  - source: {}", scalar(&source.name)),
        &format!(
            "existing service ({}, {copied_plan}), never changed",
            source.service_type
        ),
    );
    w.line(
        &format!("    target: {}", scalar(&a.target)),
        "the new service this plan creates",
    );
    if a.service_type != source.service_type {
        w.line(
            &format!("    type: {}", a.service_type),
            &format!("instead of {}", source.service_type),
        );
    }
    if a.plan != source.plan
        && let Some(plan) = &a.plan
    {
        w.line(
            &format!("    plan: {}", scalar(plan)),
            &format!("instead of {copied_plan}"),
        );
    }
    if !a.options.is_empty() {
        w.line(
            "    options:",
            "over the source's options; null removes one",
        );
        for (name, value) in &a.options {
            let had = source.options.get(name);
            let comment = match (value, had) {
                (None, _) if !a.service_type.allowed_options().contains(&name.as_str()) => {
                    format!("not a {} option", a.service_type)
                }
                (_, Some(had)) => format!("{} has {}", source.name, quoted(had)),
                (_, None) => format!("{} has none", source.name),
            };
            let value = value
                .as_deref()
                .map(quoted)
                .unwrap_or_else(|| "null".to_owned());
            w.line(&format!("      {name}: {value}"), &comment);
        }
    }

    match backup_key(a, path)? {
        Some((backup, comment)) => w.line(&format!("    backup: {}", scalar(&backup)), &comment),
        None => w.comment_at(
            "    ",
            &format!(
                "no `backup:`: the freeze takes a fresh backup of {} once its apps stopped",
                source.name
            ),
        ),
    }
    w.line(
        &format!("    wait_timeout: {}", scalar(&a.wait_timeout)),
        "how long a commit or restore may take",
    );

    match &a.relink {
        RelinkAnswer::All => {
            let now: Vec<String> = source
                .links
                .iter()
                .map(|l| format!("{} ({})", l.app, l.target()))
                .collect();
            let comment = if now.is_empty() {
                format!(
                    "every app linked to {} when the plan runs; none now",
                    source.name
                )
            } else {
                format!(
                    "every app linked to {}; now {}",
                    source.name,
                    now.join(", ")
                )
            };
            w.line("    relink: all", &comment);
        }
        RelinkAnswer::None { reason } => w.line("    relink: none", reason),
        RelinkAnswer::Only(links) => {
            w.line(
                "    relink:",
                &format!("only these move; other apps keep {}", source.name),
            );
            for link in links {
                w.line(&format!("      - {}", link_yaml(link)), "");
            }
        }
    }
    Ok(w.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_plain_only_when_unambiguous() {
        assert_eq!(scalar("files2"), "files2");
        assert_eq!(scalar("/data"), "/data");
        assert_eq!(scalar("db.t3.micro"), "db.t3.micro");
        assert_eq!(scalar("null"), "\"null\"");
        assert_eq!(scalar("True"), "\"True\"");
        assert_eq!(scalar("1h 30m"), "\"1h 30m\"");
        assert_eq!(scalar("2h"), "2h");
        assert_eq!(scalar("50"), "\"50\"");
        assert_eq!(scalar("1e3"), "\"1e3\"");
        assert_eq!(scalar("0x1f"), "\"0x1f\"");
        assert_eq!(
            scalar("6a6fcd7a-7063-4cb4-a748-8f765eea39a2"),
            "6a6fcd7a-7063-4cb4-a748-8f765eea39a2"
        );
        assert_eq!(scalar("file:../a b.tar.gz"), "\"file:../a b.tar.gz\"");
        assert_eq!(quoted("50"), "\"50\"");
    }

    #[test]
    fn a_freeze_is_written_with_scales_only_where_unknown_and_loads() {
        use std::collections::BTreeMap;

        use crate::model::{Scope, Service, ServiceType};
        use crate::plan::{BackupChoice, FreezeApp};
        let answers = Answers {
            scope: Scope {
                project: "shop".into(),
                stage: "production".into(),
            },
            source: Service {
                name: "database".into(),
                service_type: ServiceType::Postgresql11,
                plan: Some("shared".into()),
                options: BTreeMap::new(),
                links: Vec::new(),
                backup_schedule: None,
                created_at: chrono::Utc::now(),
            },
            target: "database2".into(),
            service_type: ServiceType::Postgresql11,
            plan: Some("shared".into()),
            options: BTreeMap::new(),
            backup: BackupAnswer::AfterFreeze,
            relink: RelinkAnswer::All,
            freeze: vec![
                FreezeApp {
                    app: "web".into(),
                    scale: None,
                },
                FreezeApp {
                    app: "worker".into(),
                    scale: Some(2),
                },
            ],
            wait_timeout: "2h".into(),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plans/database2.yaml");
        let yaml = plan_yaml(&answers, &path).unwrap();
        assert!(
            yaml.contains(
                "\nfreeze:                       # scaled to 0 for the cutover; the relink's \
                 commit restores their scales\n  - web\n  - {app: worker, scale: 2}   # the \
                 platform does not show its scale; restored to this one\nmigrations:\n"
            ),
            "{yaml}"
        );
        assert!(!yaml.contains("backup:  "), "{yaml}");
        assert!(
            yaml.contains("    # no `backup:`: the freeze takes a fresh backup of database"),
            "{yaml}"
        );
        let plan = super::super::out::load_checked(&path, &yaml).unwrap();
        assert_eq!(plan.freeze, answers.freeze);
        assert_eq!(plan.migrations[0].backup, BackupChoice::Fresh);
    }

    #[test]
    fn comments_line_up() {
        let mut w = Writer {
            text: String::new(),
        };
        w.line("version: 1", "");
        w.line("project: shop", "SetOps project");
        w.line(&"x".repeat(40), "long");
        assert_eq!(
            w.text,
            format!(
                "version: 1\nproject: shop{}# SetOps project\n{} # long\n",
                " ".repeat(COMMENT_COLUMN - 13),
                "x".repeat(40)
            )
        );
    }
}
