//! The stateful changeset rules: commands are checked in order against a working copy of the
//! committed stage, each valid command changing the copy, so later commands see earlier ones
//! (destroy a link, then create one with the same key: valid). The result is either the new
//! stage configuration or the validation tree of every failing command.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::credentials::Credentials;
use super::state::{LinkTarget, ServiceConfig, StageConfig};
use crate::model::{
    BackupSchedule, ChangesetCommand, LinkKind, ServiceType, ValidationErrors, ValidationNode,
    validators,
};

/// Checks `commands` against `committed`. `busy` holds services whose backups are being created
/// or restored: destroying them now would pull their data from under the running work.
pub(crate) fn check(
    committed: &StageConfig,
    commands: &[ChangesetCommand],
    busy: &BTreeSet<Uuid>,
    now: DateTime<Utc>,
) -> Result<StageConfig, ValidationErrors> {
    let mut work = committed.clone();
    let mut failures: BTreeMap<usize, ValidationErrors> = BTreeMap::new();
    for (i, command) in commands.iter().enumerate() {
        let errors = check_one(&mut work, command, busy, now);
        if !errors.is_empty() {
            failures.insert(i, errors);
        }
    }
    check_storage_order(&work, commands, &mut failures);
    if failures.is_empty() {
        return Ok(work);
    }
    let per_command = failures
        .into_iter()
        .map(|(i, e)| (format!("commands[{i}]"), ValidationNode::Nested(e)))
        .collect();
    let mut tree = ValidationErrors::new();
    tree.insert("changeset".to_owned(), ValidationNode::Nested(per_command));
    Err(tree)
}

struct Errors(ValidationErrors);

impl Errors {
    fn add(&mut self, field: &str, validator: &str) {
        if let ValidationNode::Leaf(list) = self
            .0
            .entry(field.to_owned())
            .or_insert_with(|| ValidationNode::Leaf(Vec::new()))
        {
            list.push(validator.to_owned());
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Checks one command and, when it is valid, applies it to the working copy.
fn check_one(
    work: &mut StageConfig,
    command: &ChangesetCommand,
    busy: &BTreeSet<Uuid>,
    now: DateTime<Utc>,
) -> ValidationErrors {
    let syntax = command.validate_syntax();
    if !syntax.is_empty() {
        return syntax;
    }
    let mut e = Errors(ValidationErrors::new());
    use validators::*;
    match command {
        ChangesetCommand::ServiceCreate {
            name,
            service_type,
            plan,
        } => {
            if work.services.contains_key(name) {
                e.add("name", TAKEN);
            }
            match service_type.parse::<ServiceType>() {
                Ok(t) if e.is_empty() => {
                    let uid = Uuid::new_v4();
                    work.services.insert(
                        name.clone(),
                        ServiceConfig {
                            uid,
                            service_type: t,
                            plan: plan.clone(),
                            // A new service starts with its type's documented defaults.
                            options: t.effective_options(&BTreeMap::new()),
                            backup_schedule: None,
                            created_at: now,
                            credentials: Credentials::generate(t, uid),
                        },
                    );
                }
                Ok(_) => {}
                Err(_) => e.add("type", NOT_INCLUDED),
            }
        }
        ChangesetCommand::ServiceDestroy { name } => match work.services.get(name) {
            None => e.add("name", NOT_FOUND),
            Some(svc) => {
                let linked = work.apps.values().any(|a| a.links.contains_key(name));
                if linked || busy.contains(&svc.uid) {
                    e.add("name", INVALID);
                } else {
                    work.services.remove(name);
                }
            }
        },
        ChangesetCommand::OptionSet {
            service,
            option,
            value,
        } => match work.services.get_mut(service) {
            None => e.add("service", NOT_FOUND),
            Some(svc) => {
                if !svc
                    .service_type
                    .allowed_options()
                    .contains(&option.as_str())
                {
                    e.add("option", NOT_INCLUDED);
                } else if let Err(v) = svc.service_type.validate_option(option, value) {
                    e.add("value", v);
                } else {
                    svc.options.insert(option.clone(), value.clone());
                }
            }
        },
        ChangesetCommand::OptionUnset { service, option } => match work.services.get_mut(service) {
            None => e.add("service", NOT_FOUND),
            Some(svc) => {
                if svc
                    .service_type
                    .allowed_options()
                    .contains(&option.as_str())
                {
                    svc.options.remove(option);
                    // An option with a documented default falls back to it.
                    svc.options = svc.service_type.effective_options(&svc.options);
                } else {
                    e.add("option", NOT_INCLUDED);
                }
            }
        },
        ChangesetCommand::BackupSchedule {
            service,
            hours,
            weekdays,
        } => match work.services.get_mut(service) {
            None => e.add("service", NOT_FOUND),
            Some(svc) => {
                let hours: BTreeSet<u8> = hours.iter().copied().collect();
                svc.backup_schedule = Some(BackupSchedule {
                    hours: hours.into_iter().collect(),
                    weekdays: weekdays.clone(),
                });
            }
        },
        ChangesetCommand::BackupUnschedule { service } => match work.services.get_mut(service) {
            None => e.add("service", NOT_FOUND),
            Some(svc) => svc.backup_schedule = None,
        },
        ChangesetCommand::LinkCreate {
            app,
            service,
            env_key,
            path,
            read_only,
        } => {
            if !work.apps.contains_key(app) {
                e.add("app", NOT_FOUND);
            }
            let kind = work
                .services
                .get(service)
                .map(|s| s.service_type.link_kind());
            if kind.is_none() {
                e.add("service", NOT_FOUND);
            }
            if let (Some(app_cfg), Some(kind)) = (work.apps.get(app), kind) {
                match kind {
                    LinkKind::Path if env_key.is_some() => e.add("env_key", INVALID),
                    LinkKind::EnvKey if path.is_some() => e.add("path", INVALID),
                    _ => {}
                }
                if app_cfg.links.contains_key(service) {
                    e.add("service", TAKEN);
                }
                let others = app_cfg.links.iter().filter(|(s, _)| *s != service);
                for (_, target) in others {
                    if env_key.is_some() && target.env_key == *env_key {
                        e.add("env_key", TAKEN);
                    }
                    if path.is_some() && target.path == *path {
                        e.add("path", TAKEN);
                    }
                }
            }
            if e.is_empty()
                && let Some(app_cfg) = work.apps.get_mut(app)
            {
                app_cfg.links.insert(
                    service.clone(),
                    LinkTarget {
                        env_key: env_key.clone(),
                        path: path.clone(),
                        read_only: *read_only,
                    },
                );
            }
        }
        ChangesetCommand::LinkDestroy { app, service } => match work.apps.get_mut(app) {
            None => e.add("app", NOT_FOUND),
            Some(app_cfg) => {
                if app_cfg.links.remove(service).is_none() {
                    e.add("service", NOT_FOUND);
                }
            }
        },
        ChangesetCommand::ScaleSet { app, scale } => match work.apps.get_mut(app) {
            None => e.add("app", NOT_FOUND),
            Some(app_cfg) => app_cfg.scale = *scale,
        },
    }
    e.0
}

/// `max_storage` must not be below `min_storage` (default 20) once the whole changeset applies;
/// the last command that set either one is the one reported.
fn check_storage_order(
    work: &StageConfig,
    commands: &[ChangesetCommand],
    failures: &mut BTreeMap<usize, ValidationErrors>,
) {
    let mut last_set: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, command) in commands.iter().enumerate() {
        if let ChangesetCommand::OptionSet {
            service, option, ..
        } = command
            && (option == "min_storage" || option == "max_storage")
            && !failures.contains_key(&i)
        {
            last_set.insert(service.as_str(), i);
        }
    }
    for (service, index) in last_set {
        let Some(svc) = work.services.get(service) else {
            continue;
        };
        let num = |k: &str| {
            svc.options
                .get(k)
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        let min = num("min_storage").unwrap_or(20);
        if num("max_storage").is_some_and(|max| max < min) {
            failures.entry(index).or_default().insert(
                "value".to_owned(),
                ValidationNode::Leaf(vec![
                    validators::GREATER_THAN_OR_EQUAL_TO_DEPENDENT_VALUE.to_owned(),
                ]),
            );
        }
    }
}

#[cfg(test)]
mod tests;
