//! `changeset:info`: nothing pending, or when the changeset was made and its commands (a NAME /
//! ARGUMENTS table whose arguments are Go maps), read back into the model's commands where they
//! are ours, kept opaque where they are not.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use crate::model::ChangesetCommand;

use super::backups::read;
use super::block::Block;
use super::error::ParseError;
use super::gomap::{GoMap, GoValue};
use super::lines::{Line, split};
use super::table::find_table;
use super::values::parse_timestamp;

const COMMAND: &str = "setops changeset:info";

/// A line a successful answer never starts with.
static FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:error|fatal|panic)\b").expect("static regex compiles")
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChangeset {
    /// `Created At:` above the table; `None` if a CLI version does not print it.
    pub created_at: Option<DateTime<Utc>>,
    pub commands: Vec<PendingCommand>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingCommand {
    /// One of the commands setops-migrate queues, exactly as it would have queued it.
    Known(ChangesetCommand),
    /// Anything else (someone else's command, or ours in a shape we would not print): the engine
    /// must see that something foreign is pending.
    Other { name: String, arguments: String },
}

/// `None` when nothing is pending: our sandbox front's "Nothing is pending in your changeset of
/// …", or any other answer without a table. An answer that starts like a changeset (`Created
/// At:`, a `map[`) but has no table is a cut output, and an error; so is an empty one.
pub fn parse_changeset_info(output: &str) -> Result<Option<PendingChangeset>, ParseError> {
    const EXPECTED: &str = "a changeset (`Created At:` and a NAME / ARGUMENTS table) or a message that nothing is pending";
    let lines = split(output);
    let Some(table) = find_table(COMMAND, &lines)? else {
        return match lines.iter().find(|l| !l.is_blank()) {
            None => Err(ParseError::at_end(COMMAND, &lines, EXPECTED)),
            Some(_) => match lines.iter().find(|l| starts_like_changeset(l)) {
                Some(_) => Err(ParseError::at_end(
                    COMMAND,
                    &lines,
                    "the table of pending commands",
                )),
                None => match lines.iter().find(|l| FAILURE.is_match(&l.text)) {
                    Some(line) => Err(ParseError::at(COMMAND, line, EXPECTED)),
                    None => Ok(None),
                },
            },
        };
    };
    let name = table.require_column(COMMAND, "NAME")?;
    let arguments = table.require_column(COMMAND, "ARGUMENTS")?;
    let above = Block::parse(lines.get(..table.start).unwrap_or_default());
    let created_at = match above.get("Created At") {
        Some(field) => Some(read(COMMAND, field, parse_timestamp)?),
        None => None,
    };
    let commands = table
        .rows
        .iter()
        .map(|row| {
            let name = table.cell(row, name);
            if name.is_empty() {
                return Err(ParseError::on(
                    COMMAND,
                    row.line,
                    &row.text,
                    "a command name",
                ));
            }
            let arguments = table.cell(row, arguments);
            let known = GoMap::parse(arguments)
                .ok()
                .and_then(|args| to_command(name, &args));
            Ok(match known {
                Some(command) => PendingCommand::Known(command),
                None => PendingCommand::Other {
                    name: name.to_owned(),
                    arguments: arguments.to_owned(),
                },
            })
        })
        .collect::<Result<Vec<_>, ParseError>>()?;
    Ok(Some(PendingChangeset {
        created_at,
        commands,
    }))
}

fn starts_like_changeset(line: &Line<'_>) -> bool {
    let t = line.trimmed().to_ascii_lowercase();
    !t.is_empty()
        && ("created at:".starts_with(&t) || t.starts_with("created") || t.contains("map["))
}

/// The model's command for a name and its arguments, exactly inverse to
/// [`ChangesetCommand::name`] and [`ChangesetCommand::arguments_display`]: `None` unless printing
/// the result gives back the same name and the same map (no key more, none less, same values).
pub fn to_command(name: &str, args: &GoMap) -> Option<ChangesetCommand> {
    let text = |key: &str| args.get(key).map(GoValue::as_text);
    let list = |key: &str| match args.get(key) {
        Some(GoValue::List(items)) => Some(items.clone()),
        _ => None,
    };
    use ChangesetCommand as C;
    let command = match name {
        "service:create" => C::ServiceCreate {
            name: text("name")?,
            service_type: text("type")?,
            plan: text("plan"),
        },
        "service:destroy" => C::ServiceDestroy {
            name: text("name")?,
        },
        "service:option:set" => C::OptionSet {
            service: text("service")?,
            option: text("option")?,
            value: text("value")?,
        },
        "service:option:unset" => C::OptionUnset {
            service: text("service")?,
            option: text("option")?,
        },
        "service:backup:schedule" => C::BackupSchedule {
            service: text("service")?,
            hours: list("hours")?
                .iter()
                .map(|h| h.parse().ok())
                .collect::<Option<Vec<u8>>>()?,
            weekdays: list("weekdays")?,
        },
        "service:backup:unschedule" => C::BackupUnschedule {
            service: text("service")?,
        },
        "app:link:create" => C::LinkCreate {
            app: text("app")?,
            service: text("service")?,
            env_key: text("env_key"),
            path: text("path"),
            read_only: text("read_only")?.parse().ok()?,
        },
        "app:link:destroy" => C::LinkDestroy {
            app: text("app")?,
            service: text("service")?,
        },
        "app:scale:set" => C::ScaleSet {
            app: text("app")?,
            scale: text("scale")?.parse().ok()?,
        },
        _ => return None,
    };
    let printed = GoMap::parse(&command.arguments_display()).ok()?;
    (command.name() == name && printed == *args).then_some(command)
}
