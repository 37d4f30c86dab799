//! The rules of one migration: type, plan, options, backup and wait timeout (relink has its own
//! module). A value is checked against its type only where the plan states the type.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_saphyr::Spanned;

use super::backup::{ParsedBackup, check_file, parse_backup};
use super::check::required;
use super::issues::Issues;
use super::raw::{Entries, RawMigration};
use super::relink::check_relink;
use super::rules::{migratable_types, option_names, plan_hint, quote};
use super::secrets::{CREDENTIALS_RULE, is_credential_option};
use super::{BackupChoice, DEFAULT_WAIT_TIMEOUT, Migration};
use crate::model::{ServiceType, describe_validator};

const MIN_WAIT: Duration = Duration::from_secs(60);
const MAX_WAIT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// `defaults:` after its own checks; `None` inside means given but invalid (already reported).
#[derive(Default)]
pub(super) struct Defaults<'a> {
    pub backup: Option<(&'a Spanned<String>, Option<ParsedBackup>)>,
    pub wait_timeout: Option<Option<Duration>>,
    /// The plan freezes apps: every migration with a source takes a fresh backup.
    pub freeze: bool,
}

pub(super) fn parse_wait_timeout(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim()).map_err(|_| {
        format!(
            "wait_timeout {} is not a duration; write it like 2h, 90m or 1h30m",
            quote(text)
        )
    })?;
    if duration < MIN_WAIT {
        Err(format!(
            "wait_timeout {} is below the minimum of 1m; commits and restores take longer",
            quote(text)
        ))
    } else if duration > MAX_WAIT {
        Err(format!(
            "wait_timeout {} is above the maximum of 7 days; a wait that long is a stuck run",
            quote(text)
        ))
    } else {
        Ok(duration)
    }
}

/// Checks migration `i`; returns it only when it broke no rule.
pub(super) fn check_migration(
    i: usize,
    raw: &Spanned<RawMigration>,
    defaults: &Defaults<'_>,
    plan_dir: &Path,
    issues: &mut Issues,
) -> Option<Migration> {
    let before = issues.count();
    let m = &raw.value;
    let field = |name: &str| format!("migrations[{i}].{name}");
    let target = required(m.target.as_ref(), &raw.referenced, &field("target"), issues);
    let has_source = m.source.is_some();

    let service_type = check_type(i, raw, issues);
    // The target's type where the plan states it; otherwise it is the source's, known later.
    let known_type = service_type.filter(|t| *t != ServiceType::Elasticsearch7);

    if let Some(t) = known_type {
        match &m.plan {
            Some(plan) if t.validate_plan(Some(&plan.value)).is_err() => {
                issues.at(
                    &plan.referenced,
                    field("plan"),
                    format!(
                        "plan {} is not a {t} plan; {}",
                        quote(&plan.value),
                        plan_hint(t)
                    ),
                );
            }
            // With a source, the source's plan is copied; an import has nothing to copy.
            None if !has_source && t.validate_plan(None).is_err() => {
                issues.at(
                    &raw.referenced,
                    field("plan"),
                    format!("an import into {t} needs `plan`; {}", plan_hint(t)),
                );
            }
            _ => {}
        }
    }

    let options = m
        .options
        .as_ref()
        .map(|o| check_options(i, &o.value, known_type, issues))
        .unwrap_or_default();
    let backup = check_backup(i, raw, defaults, known_type, plan_dir, issues);
    let wait_timeout = match &m.wait_timeout {
        Some(w) => parse_wait_timeout(&w.value)
            .map_err(|rule| issues.at(&w.referenced, field("wait_timeout"), rule))
            .ok(),
        None => defaults.wait_timeout.unwrap_or(Some(DEFAULT_WAIT_TIMEOUT)),
    };
    let relink = check_relink(i, raw, known_type, issues);

    if issues.count() > before {
        return None;
    }
    Some(Migration {
        index: i,
        source: m.source.as_ref().map(|s| s.value.clone()),
        target: target?.value.clone(),
        service_type,
        plan: m.plan.as_ref().map(|p| p.value.clone()),
        options,
        backup: backup?,
        wait_timeout: wait_timeout?,
        relink: relink?,
    })
}

fn check_type(i: usize, raw: &Spanned<RawMigration>, issues: &mut Issues) -> Option<ServiceType> {
    let field = format!("migrations[{i}].type");
    let Some(written) = &raw.value.service_type else {
        if raw.value.source.is_none() {
            issues.at(
                &raw.referenced,
                field,
                format!(
                    "an import (no source) needs `type`, one of {}",
                    migratable_types()
                ),
            );
        }
        return None;
    };
    let Ok(t) = written.value.parse::<ServiceType>() else {
        issues.at(
            &written.referenced,
            field,
            format!(
                "unknown service type {}; write one of {}",
                quote(&written.value),
                migratable_types()
            ),
        );
        return None;
    };
    if t == ServiceType::Elasticsearch7 {
        issues.at(
            &written.referenced,
            field,
            "elasticsearch7 has no backup format (SetOps: not implemented), so it cannot be \
             migrated; choose another type",
        );
    }
    Some(t)
}

fn check_options(
    i: usize,
    entries: &Entries<Spanned<Option<String>>>,
    known_type: Option<ServiceType>,
    issues: &mut Issues,
) -> BTreeMap<String, Option<String>> {
    let mut options = BTreeMap::new();
    for (name, value) in &entries.0 {
        let field = format!("migrations[{i}].options.{}", name.value);
        let text = value.value.as_deref();
        if is_credential_option(&name.value) && text.is_some_and(|v| !v.is_empty()) {
            issues.at(
                &name.referenced,
                field,
                format!("{CREDENTIALS_RULE} (option `{}` holds a value)", name.value),
            );
            continue;
        }
        // The option's rules are the same for every type that has it.
        let rules_from = known_type.or_else(|| {
            ServiceType::ALL
                .into_iter()
                .find(|t| t.allowed_options().contains(&name.value.as_str()))
        });
        let Some(t) = rules_from.filter(|t| t.allowed_options().contains(&name.value.as_str()))
        else {
            let rule = match known_type {
                Some(t) => format!(
                    "option {} is not a {t} option; {}",
                    quote(&name.value),
                    option_names(t)
                ),
                None => format!(
                    "option {} is not an option of any SetOps service type",
                    quote(&name.value)
                ),
            };
            issues.at(&name.referenced, field, rule);
            continue;
        };
        if let Some(text) = text
            && let Err(v) = t.validate_option(&name.value, text)
        {
            issues.at(
                &value.referenced,
                field,
                format!(
                    "option {} = {} {}; expected {}",
                    name.value,
                    quote(text),
                    describe_validator(v),
                    ServiceType::option_hint(&name.value)
                ),
            );
            continue;
        }
        options.insert(name.value.clone(), text.map(str::to_owned));
    }
    check_storage_range(i, entries, issues);
    options
}

/// `max_storage` > `min_storage` enables autoscaling; below it is a mistake.
fn check_storage_range(i: usize, entries: &Entries<Spanned<Option<String>>>, issues: &mut Issues) {
    let number = |name: &str| {
        entries
            .0
            .iter()
            .find(|(k, _)| k.value == name)
            .and_then(|(_, v)| {
                let n = v.value.as_deref()?.trim().parse::<u64>().ok()?;
                Some((n, v))
            })
    };
    if let (Some((min, _)), Some((max, max_value))) = (number("min_storage"), number("max_storage"))
        && max < min
    {
        issues.at(
            &max_value.referenced,
            format!("migrations[{i}].options.max_storage"),
            format!(
                "max_storage ({max}) is below min_storage ({min}); max_storage must be at least \
                 min_storage"
            ),
        );
    }
}

fn check_backup(
    i: usize,
    raw: &Spanned<RawMigration>,
    defaults: &Defaults<'_>,
    known_type: Option<ServiceType>,
    plan_dir: &Path,
    issues: &mut Issues,
) -> Option<BackupChoice> {
    let m = &raw.value;
    let field = format!("migrations[{i}].backup");
    let has_source = m.source.is_some();
    let (written, parsed, inherited) = match (&m.backup, &defaults.backup) {
        (Some(own), _) => {
            let parsed = parse_backup(&own.value, plan_dir)
                .map_err(|rule| issues.at(&own.referenced, field.clone(), rule))
                .ok()?;
            (own, parsed, false)
        }
        (None, Some((default, parsed))) => (*default, parsed.clone()?, true),
        (None, None) if has_source && defaults.freeze => return Some(BackupChoice::Fresh),
        (None, None) if has_source => return Some(BackupChoice::Latest),
        (None, None) => {
            issues.at(
                &raw.referenced,
                field,
                "an import (no source) needs `backup: file:<path>`, the dump or archive to load",
            );
            return None;
        }
    };
    if !has_source && let Some(keyword) = parsed.needs_source() {
        let rule = format!(
            "{keyword} needs a source service to take the backup from; an import (no source) \
             takes `backup: file:<path>`"
        );
        if inherited {
            issues.at(
                &raw.referenced,
                field,
                format!("{rule} (this migration inherits defaults.backup; give it its own)"),
            );
        } else {
            issues.at(&written.referenced, field, rule);
        }
        return None;
    }
    if has_source && defaults.freeze && parsed != ParsedBackup::Fresh {
        let rule = format!(
            "backup {} was taken before the freeze stops the apps, so writes made since would be \
             lost; a freeze takes a fresh backup: write `backup: fresh` or remove the key",
            quote(&written.value)
        );
        let field = if inherited {
            "defaults.backup".to_owned()
        } else {
            field
        };
        issues.at(&written.referenced, field, rule);
        return None;
    }
    if let ParsedBackup::File {
        written: path_text,
        resolved,
    } = &parsed
        && let Err(rules) = check_file(path_text, resolved, known_type)
    {
        let field = if inherited {
            "defaults.backup".to_owned()
        } else {
            field
        };
        for rule in rules {
            issues.at(&written.referenced, field.clone(), rule);
        }
        return None;
    }
    Some(parsed.choice())
}
