//! Changeset commands (staged, validated, committed) and commits.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::validators;
use super::{
    ServiceError, ServiceType, ValidationErrors, ValidationNode, WEEKDAYS, validate_app_name,
    validate_env_key, validate_mount_path, validate_service_name,
};

/// One queued changeset command. Names follow SetOps' internal naming (`changeset:info` shows
/// internal names that differ from CLI names, reference section 2.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", content = "arguments")]
pub enum ChangesetCommand {
    #[serde(rename = "service:create")]
    ServiceCreate {
        name: String,
        #[serde(rename = "type")]
        service_type: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<String>,
    },
    #[serde(rename = "service:destroy")]
    ServiceDestroy { name: String },
    #[serde(rename = "service:option:set")]
    OptionSet {
        service: String,
        option: String,
        value: String,
    },
    #[serde(rename = "service:option:unset")]
    OptionUnset { service: String, option: String },
    #[serde(rename = "service:backup:schedule")]
    BackupSchedule {
        service: String,
        hours: Vec<u8>,
        #[serde(default)]
        weekdays: Vec<String>,
    },
    #[serde(rename = "service:backup:unschedule")]
    BackupUnschedule { service: String },
    #[serde(rename = "app:link:create")]
    LinkCreate {
        app: String,
        service: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        env_key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        #[serde(default)]
        read_only: bool,
    },
    #[serde(rename = "app:link:destroy")]
    LinkDestroy { app: String, service: String },
    /// `--app A resource:set scale N`: how many containers the app runs (0 stops it). The
    /// internal name is not documented; this is the project's choice.
    #[serde(rename = "app:scale:set")]
    ScaleSet { app: String, scale: u8 },
}

impl ChangesetCommand {
    pub fn name(&self) -> &'static str {
        match self {
            ChangesetCommand::ServiceCreate { .. } => "service:create",
            ChangesetCommand::ServiceDestroy { .. } => "service:destroy",
            ChangesetCommand::OptionSet { .. } => "service:option:set",
            ChangesetCommand::OptionUnset { .. } => "service:option:unset",
            ChangesetCommand::BackupSchedule { .. } => "service:backup:schedule",
            ChangesetCommand::BackupUnschedule { .. } => "service:backup:unschedule",
            ChangesetCommand::LinkCreate { .. } => "app:link:create",
            ChangesetCommand::LinkDestroy { .. } => "app:link:destroy",
            ChangesetCommand::ScaleSet { .. } => "app:scale:set",
        }
    }

    /// Arguments as `changeset:info` prints them: a Go map, keys sorted (`map[name:web]`),
    /// lists as `[a b]`; absent optional arguments are left out.
    pub fn arguments_display(&self) -> String {
        let list = |items: &mut dyn Iterator<Item = String>| {
            format!("[{}]", items.collect::<Vec<_>>().join(" "))
        };
        let mut parts: Vec<(&str, String)> = match self {
            ChangesetCommand::ServiceCreate {
                name,
                service_type,
                plan,
            } => {
                let mut p = vec![("name", name.clone()), ("type", service_type.clone())];
                p.extend(plan.iter().map(|v| ("plan", v.clone())));
                p
            }
            ChangesetCommand::ServiceDestroy { name } => vec![("name", name.clone())],
            ChangesetCommand::OptionSet {
                service,
                option,
                value,
            } => vec![
                ("service", service.clone()),
                ("option", option.clone()),
                ("value", value.clone()),
            ],
            ChangesetCommand::OptionUnset { service, option } => {
                vec![("service", service.clone()), ("option", option.clone())]
            }
            ChangesetCommand::BackupSchedule {
                service,
                hours,
                weekdays,
            } => vec![
                ("service", service.clone()),
                ("hours", list(&mut hours.iter().map(u8::to_string))),
                ("weekdays", list(&mut weekdays.iter().cloned())),
            ],
            ChangesetCommand::BackupUnschedule { service } => vec![("service", service.clone())],
            ChangesetCommand::LinkCreate {
                app,
                service,
                env_key,
                path,
                read_only,
            } => {
                let mut p = vec![("app", app.clone()), ("service", service.clone())];
                p.extend(env_key.iter().map(|v| ("env_key", v.clone())));
                p.extend(path.iter().map(|v| ("path", v.clone())));
                p.push(("read_only", read_only.to_string()));
                p
            }
            ChangesetCommand::LinkDestroy { app, service } => {
                vec![("app", app.clone()), ("service", service.clone())]
            }
            ChangesetCommand::ScaleSet { app, scale } => {
                vec![("app", app.clone()), ("scale", scale.to_string())]
            }
        };
        parts.sort_by(|a, b| a.0.cmp(b.0));
        let shown: Vec<String> = parts.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        format!("map[{}]", shown.join(" "))
    }

    /// Checks what can be checked without the stage's state (names, keys, paths, types, plans,
    /// option values). The sandbox runs the same checks; stateful ones (taken, not_found) are its own.
    pub fn validate_syntax(&self) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        let mut check = |field: &str, result: Result<(), &'static str>| {
            if let Err(v) = result {
                errors.insert(field.to_owned(), ValidationNode::Leaf(vec![v.to_owned()]));
            }
        };
        match self {
            ChangesetCommand::ServiceCreate {
                name,
                service_type,
                plan,
            } => {
                check("name", validate_service_name(name));
                match service_type.parse::<ServiceType>() {
                    Ok(t) => check("plan", t.validate_plan(plan.as_deref())),
                    Err(_) => check("type", Err(validators::NOT_INCLUDED)),
                }
            }
            ChangesetCommand::ServiceDestroy { name } => check("name", validate_service_name(name)),
            ChangesetCommand::OptionSet {
                service, option, ..
            }
            | ChangesetCommand::OptionUnset { service, option } => {
                check("service", validate_service_name(service));
                if option.is_empty() {
                    check("option", Err(validators::REQUIRED));
                }
            }
            ChangesetCommand::BackupSchedule {
                service,
                hours,
                weekdays,
            } => {
                check("service", validate_service_name(service));
                if hours.is_empty() {
                    check("hours", Err(validators::REQUIRED));
                } else if hours.iter().any(|h| *h > 23) {
                    check("hours", Err(validators::LESS_THAN_OR_EQUAL_TO_THRESHOLD));
                }
                if weekdays.iter().any(|d| !WEEKDAYS.contains(&d.as_str())) {
                    check("weekdays", Err(validators::NOT_INCLUDED));
                }
            }
            ChangesetCommand::BackupUnschedule { service } => {
                check("service", validate_service_name(service))
            }
            ChangesetCommand::LinkCreate {
                app,
                service,
                env_key,
                path,
                read_only,
            } => {
                check("app", validate_app_name(app));
                check("service", validate_service_name(service));
                match (env_key, path) {
                    (Some(key), None) => {
                        check("env_key", validate_env_key(key));
                        if *read_only {
                            check("read_only", Err(validators::INVALID));
                        }
                    }
                    (None, Some(path)) => check("path", validate_mount_path(path)),
                    (Some(_), Some(_)) => check("path", Err(validators::INVALID)),
                    (None, None) => check("env_key", Err(validators::REQUIRED)),
                }
            }
            ChangesetCommand::LinkDestroy { app, service } => {
                check("app", validate_app_name(app));
                check("service", validate_service_name(service));
            }
            ChangesetCommand::ScaleSet { app, scale } => {
                check("app", validate_app_name(app));
                if *scale > super::MAX_SCALE {
                    check("scale", Err(validators::LESS_THAN_OR_EQUAL_TO_THRESHOLD));
                }
            }
        }
        errors
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changeset {
    pub project: String,
    pub stage: String,
    pub user: String,
    pub created_at: DateTime<Utc>,
    pub commands: Vec<ChangesetCommand>,
    /// Pending commands this tool does not make, as the platform shows them (`name map[…]`):
    /// someone else's work, which no run may commit along with its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unrecognized: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommitStatus {
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CommitPhase {
    Initializing,
    Planning,
    Applying,
    Done,
}

impl fmt::Display for CommitPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CommitPhase::Initializing => "Initializing",
            CommitPhase::Planning => "Planning",
            CommitPhase::Applying => "Applying",
            CommitPhase::Done => "Done",
        })
    }
}

/// An asynchronous commit. `applied`/`total` count commands during `Applying`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub id: Uuid,
    pub project: String,
    pub stage: String,
    pub user: String,
    pub status: CommitStatus,
    pub phase: CommitPhase,
    pub applied: u32,
    pub total: u32,
    pub commands: Vec<ChangesetCommand>,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ServiceError>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::flatten_validation;

    #[test]
    fn commands_serialize_with_name_and_arguments() {
        let cmd = ChangesetCommand::ServiceCreate {
            name: "files2".into(),
            service_type: "volume".into(),
            plan: None,
        };
        let json = serde_json::to_value(&cmd).expect("serializes");
        assert_eq!(json["name"], "service:create");
        assert_eq!(json["arguments"]["type"], "volume");
        assert_eq!(cmd.arguments_display(), "map[name:files2 type:volume]");
        let back: ChangesetCommand = serde_json::from_value(json).expect("parses");
        assert_eq!(back, cmd);
    }
    #[test]
    fn link_commands_are_validated_without_state() {
        let cmd = ChangesetCommand::LinkCreate {
            app: "web".into(),
            service: "files".into(),
            env_key: Some("PORT".into()),
            path: None,
            read_only: false,
        };
        let errors = cmd.validate_syntax();
        assert_eq!(
            flatten_validation(&errors),
            vec![("env_key".to_owned(), "included".to_owned())]
        );
    }
}
