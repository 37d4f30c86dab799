//! `service` (a one-column NAME table) and `service:info NAME` (a block with `Links:` and
//! `Options:` lists, and the `Backup Schedule:` line our sandbox front prints).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::model::{BackupSchedule, Link, Service, ServiceType, WEEKDAYS};

use super::backups::{read, required};
use super::block::{Block, Field, Item};
use super::error::ParseError;
use super::lines::split;
use super::table::find_table;

/// `setops service:info NAME`, everything but what the CLI does not print (`created_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    pub name: String,
    pub service_type: ServiceType,
    pub plan: Option<String>,
    pub links: Vec<Link>,
    pub options: BTreeMap<String, String>,
    pub schedule: PrintedSchedule,
}

/// The backup schedule line; the real CLI's format is undocumented, so what is not understood is
/// kept for the adapter to decide on, rather than read as "no schedule".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintedSchedule {
    /// No schedule line at all.
    NotShown,
    /// `Backup Schedule:   none`
    Unscheduled,
    /// `Backup Schedule:   03:00, 15:00 UTC, Mon, Thu` or `03:00 UTC, every day`
    Scheduled(BackupSchedule),
    /// Any other text, as an error would quote it (cut, control characters replaced).
    Unrecognized(String),
}

impl ServiceInfo {
    /// The model's service; `service:info` does not print when the service was created.
    pub fn into_service(self, created_at: DateTime<Utc>) -> Service {
        Service {
            name: self.name,
            service_type: self.service_type,
            plan: self.plan,
            options: self.options,
            links: self.links,
            backup_schedule: match self.schedule {
                PrintedSchedule::Scheduled(s) => Some(s),
                _ => None,
            },
            created_at,
        }
    }
}

/// `setops service`: the names in the NAME column; none for a header-only table.
pub fn parse_service_list(output: &str) -> Result<Vec<String>, ParseError> {
    parse_names("setops service", output)
}

/// Any list command whose table has a NAME column (`service`, `app`, `project`, `stage`).
pub fn parse_names(command: &str, output: &str) -> Result<Vec<String>, ParseError> {
    let lines = split(output);
    let table = find_table(command, &lines)?
        .ok_or_else(|| ParseError::at_end(command, &lines, "a table with a column NAME"))?;
    let name = table.require_column(command, "NAME")?;
    table
        .rows
        .iter()
        .map(|row| match table.cell(row, name) {
            "" => Err(ParseError::on(command, row.line, &row.text, "a name")),
            n => Ok(n.to_owned()),
        })
        .collect()
}

/// `setops service:info NAME`.
pub fn parse_service_info(output: &str) -> Result<ServiceInfo, ParseError> {
    const COMMAND: &str = "setops service:info";
    let lines = split(output);
    let block = Block::parse(&lines);
    let required = |label: &str| required(COMMAND, &lines, &block, label);
    let name = required("Name")?.value.clone();
    let service_type = read(COMMAND, required("Type")?, |t| {
        t.parse::<ServiceType>().map_err(|_| {
            let known: Vec<&str> = ServiceType::ALL.iter().map(|t| t.as_str()).collect();
            format!("a service type setops-migrate knows ({})", known.join(", "))
        })
    })?;
    let plan = block
        .get("Plan")
        .map(|f| f.value.clone())
        .filter(|p| !p.is_empty() && p != "-");
    let links = items(&block, "Links")
        .map(|item| {
            let (app, target) = item.pair();
            let (env_key, path, read_only) = link_target(target)
                .map_err(|what| ParseError::on(COMMAND, item.line, &item.text, what))?;
            Ok(Link {
                app: app.to_owned(),
                service: name.clone(),
                env_key,
                path,
                read_only,
            })
        })
        .collect::<Result<Vec<_>, ParseError>>()?;
    let options = items(&block, "Options")
        .map(|item| {
            let (key, value) = item.pair();
            (key.to_owned(), value.to_owned())
        })
        .collect();
    let schedule = match block.get("Backup Schedule") {
        None => PrintedSchedule::NotShown,
        Some(field) => schedule(field),
    };
    Ok(ServiceInfo {
        name,
        service_type,
        plan,
        links,
        options,
        schedule,
    })
}

fn items<'b>(block: &'b Block, label: &str) -> impl Iterator<Item = &'b Item> {
    block.get(label).into_iter().flat_map(|f| f.items.iter())
}

/// `(DATABASE_URL)`, `(/data)`, `(/data, read-only)`, also without parentheses: an env key, or a
/// mount path when it starts with `/`, then flags.
pub(super) fn link_target(text: &str) -> Result<(Option<String>, Option<String>, bool), String> {
    const EXPECTED: &str =
        "a link target such as `(DATABASE_URL)`, `(/data)` or `(/data, read-only)`";
    let t = text.trim();
    let inner = t
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(t);
    let mut parts = inner.split(',').map(str::trim);
    let target = parts.next().unwrap_or_default();
    let mut read_only = false;
    for flag in parts {
        let squeezed: String = flag
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        match squeezed.as_str() {
            "readonly" | "ro" => read_only = true,
            "readwrite" | "rw" => read_only = false,
            _ => return Err(EXPECTED.to_owned()),
        }
    }
    if target.starts_with('/') && !target.contains(char::is_whitespace) {
        return Ok((None, Some(target.to_owned()), read_only));
    }
    let env_key = !target.is_empty()
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !target.starts_with(|c: char| c.is_ascii_digit());
    if env_key && !read_only {
        Ok((Some(target.to_owned()), None, false))
    } else {
        Err(EXPECTED.to_owned())
    }
}

/// Our sandbox front's schedule line: `none`, or hours `HH:00` then `UTC`, then weekdays or
/// `every day`.
fn schedule(field: &Field) -> PrintedSchedule {
    let text = field.value.trim();
    if text.eq_ignore_ascii_case("none") || text == "-" {
        return PrintedSchedule::Unscheduled;
    }
    let unrecognized = || PrintedSchedule::Unrecognized(super::error::quote(text));
    let Some((hours, days)) = text.split_once(" UTC") else {
        return unrecognized();
    };
    let hours: Option<Vec<u8>> = hours
        .split(',')
        .map(|h| {
            let h = h.trim();
            let hour = h.strip_suffix(":00").unwrap_or(h);
            hour.parse::<u8>().ok().filter(|h| *h < 24)
        })
        .collect();
    let days = days.trim().trim_start_matches(',').trim();
    let weekdays: Option<Vec<String>> = if days.eq_ignore_ascii_case("every day") {
        Some(Vec::new())
    } else {
        days.split(',')
            .map(|d| {
                let d = d.trim();
                WEEKDAYS
                    .iter()
                    .find(|w| w.eq_ignore_ascii_case(d))
                    .map(|w| (*w).to_owned())
            })
            .collect()
    };
    match (hours, weekdays) {
        (Some(hours), Some(weekdays)) if !hours.is_empty() => {
            PrintedSchedule::Scheduled(BackupSchedule { hours, weekdays })
        }
        _ => unrecognized(),
    }
}
