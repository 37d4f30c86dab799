//! Domain types shared by every platform adapter and by the sandbox, so the client and the
//! emulator cannot drift apart: services, backups, links, changeset commands, the ServiceError
//! body with its validation tree, and SetOps' naming rules.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Error codes as SetOps documents them (setops-reference.md section 5); codes are opaque strings
/// on the wire so unknown ones from a newer platform still parse.
pub mod codes {
    pub const SERVER_FAILURE: &str = "ServerFailure";
    pub const SESSION_INVALID: &str = "SessionInvalid";
    pub const CREDENTIALS_INVALID: &str = "CredentialsInvalid";
    pub const VALIDATION_FAILED: &str = "ValidationFailed";
    pub const PROJECT_DOES_NOT_EXIST: &str = "ProjectDoesNotExist";
    pub const STAGE_DOES_NOT_EXIST: &str = "StageDoesNotExist";
    pub const APP_DOES_NOT_EXIST: &str = "AppDoesNotExist";
    pub const SERVICE_DOES_NOT_EXIST: &str = "ServiceDoesNotExist";
    pub const SERVICE_ALREADY_EXISTS: &str = "ServiceAlreadyExists";
    pub const CHANGESET_DOES_NOT_EXIST: &str = "ChangesetDoesNotExist";
    pub const CHANGESET_INVALID: &str = "ChangesetInvalid";
    pub const COMMIT_FAILED: &str = "CommitFailed";
    pub const COMMIT_ALREADY_RUNNING: &str = "CommitAlreadyRunning";
    pub const CHANGESET_LOCKED: &str = "ChangesetLocked";
    pub const COMMIT_NOT_FOUND: &str = "CommitNotFound";
    pub const CURRENTLY_NOT_SUPPORTED: &str = "CodeCurrentlyNotSupported";
    pub const BACKUP_NOT_FOUND: &str = "CodeBackupNotFound";
    /// Not in SetOps' list: the state table forbids the action but no code is documented for it
    /// (reference section 5, last bullet), so the sandbox names the state explicitly.
    pub const BACKUP_STATE_INVALID: &str = "BackupStateInvalid";
    pub const UPLOAD_INVALID: &str = "UploadInvalid";
    pub const TRANSFER_URL_INVALID: &str = "TransferUrlInvalid";
    pub const OVERLOAD: &str = "Overload";
    pub const NOT_FOUND: &str = "NotFound";
}

/// Validator names as SetOps documents them.
pub mod validators {
    pub const INVALID: &str = "invalid";
    pub const INVALID_FORMAT: &str = "invalid_format";
    pub const REQUIRED: &str = "required";
    pub const TOO_SHORT: &str = "too_short";
    pub const TOO_LONG: &str = "too_long";
    pub const NOT_AN_INTEGER: &str = "not_an_integer";
    pub const INCLUDED: &str = "included";
    pub const NOT_INCLUDED: &str = "not_included";
    pub const TAKEN: &str = "taken";
    pub const NOT_FOUND: &str = "not_found";
    pub const GREATER_THAN_OR_EQUAL_TO_THRESHOLD: &str = "greater_than_or_equal_to_threshold";
    pub const LESS_THAN_OR_EQUAL_TO_THRESHOLD: &str = "less_than_or_equal_to_threshold";
    pub const GREATER_THAN_OR_EQUAL_TO_DEPENDENT_VALUE: &str =
        "greater_than_or_equal_to_dependent_value";
}

// ------------------------------------------------------------------------------------------------
// Service types

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    Postgresql11,
    Postgresql13,
    S3,
    Redis6,
    Volume,
    Elasticsearch7,
    Mongodb4,
}

/// How an app receives a service: an environment variable or a mounted directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    EnvKey,
    Path,
}

impl ServiceType {
    pub const ALL: [ServiceType; 7] = [
        ServiceType::Postgresql11,
        ServiceType::Postgresql13,
        ServiceType::S3,
        ServiceType::Redis6,
        ServiceType::Volume,
        ServiceType::Elasticsearch7,
        ServiceType::Mongodb4,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Postgresql11 => "postgresql11",
            ServiceType::Postgresql13 => "postgresql13",
            ServiceType::S3 => "s3",
            ServiceType::Redis6 => "redis6",
            ServiceType::Volume => "volume",
            ServiceType::Elasticsearch7 => "elasticsearch7",
            ServiceType::Mongodb4 => "mongodb4",
        }
    }

    /// File extension of this type's backup format; `None` where SetOps has no backup format.
    pub fn backup_extension(self) -> Option<&'static str> {
        match self {
            ServiceType::Postgresql11 | ServiceType::Postgresql13 => Some("psqlcustom"),
            ServiceType::S3 | ServiceType::Volume => Some("tar.gz"),
            ServiceType::Redis6 => Some("rdb"),
            ServiceType::Mongodb4 => Some("mongodump.gz"),
            ServiceType::Elasticsearch7 => None,
        }
    }

    /// The backup format as the Backup & Restore document names it.
    pub fn backup_format_name(self) -> &'static str {
        match self {
            ServiceType::Postgresql11 | ServiceType::Postgresql13 => "PostgreSQL custom archive",
            ServiceType::S3 | ServiceType::Volume => ".tar.gz archive",
            ServiceType::Redis6 => "Redis RDB file",
            ServiceType::Mongodb4 => "mongodump --gzip archive",
            ServiceType::Elasticsearch7 => "none (not implemented by SetOps)",
        }
    }

    pub fn link_kind(self) -> LinkKind {
        match self {
            ServiceType::Volume => LinkKind::Path,
            _ => LinkKind::EnvKey,
        }
    }

    /// Option names this type accepts.
    pub fn allowed_options(self) -> &'static [&'static str] {
        match self {
            ServiceType::Postgresql11 => &["extensions"],
            ServiceType::Postgresql13 => &["extensions", "min_storage", "max_storage"],
            ServiceType::S3 => &["blockPublicAccess"],
            ServiceType::Redis6 | ServiceType::Volume => &[],
            ServiceType::Elasticsearch7 => &["storage"],
            ServiceType::Mongodb4 => &["scale"],
        }
    }

    /// The plan used when none is given, where the type has one that needs no choice.
    pub fn default_plan(self) -> Option<&'static str> {
        match self {
            ServiceType::Postgresql11 => Some("shared"),
            _ => None,
        }
    }

    /// Checks a plan against the type's documented plans; `Err` carries the validator name.
    pub fn validate_plan(self, plan: Option<&str>) -> Result<(), &'static str> {
        use validators::*;
        let Some(plan) = plan else {
            return match self {
                ServiceType::S3 | ServiceType::Volume | ServiceType::Postgresql11 => Ok(()),
                _ => Err(REQUIRED),
            };
        };
        let ok = match self {
            ServiceType::Postgresql11 => plan == "shared",
            ServiceType::Postgresql13 => node_type(plan, "db", &[".ha"]),
            ServiceType::Redis6 => node_type(plan, "cache", &[]),
            ServiceType::S3 | ServiceType::Volume => plan == "default",
            ServiceType::Elasticsearch7 => {
                let base = plan
                    .strip_suffix(".ha")
                    .or_else(|| plan.strip_suffix(".sharded"))
                    .unwrap_or(plan);
                base.strip_suffix(".elasticsearch").is_some_and(two_part)
            }
            ServiceType::Mongodb4 => [
                "db.t3.medium",
                "db.r5.large",
                "db.r5.xlarge",
                "db.r5.2xlarge",
            ]
            .contains(&plan),
        };
        if ok { Ok(()) } else { Err(NOT_INCLUDED) }
    }

    /// Checks one option value; `Err` carries the validator name.
    pub fn validate_option(self, name: &str, value: &str) -> Result<(), &'static str> {
        use validators::*;
        if !self.allowed_options().contains(&name) {
            return Err(NOT_INCLUDED);
        }
        let int_in = |min: i64, max: i64| -> Result<(), &'static str> {
            let n: i64 = value.trim().parse().map_err(|_| NOT_AN_INTEGER)?;
            if n < min {
                Err(GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
            } else if n > max {
                Err(LESS_THAN_OR_EQUAL_TO_THRESHOLD)
            } else {
                Ok(())
            }
        };
        match name {
            "min_storage" | "max_storage" => int_in(20, 65536),
            "storage" => int_in(1, 1024),
            "scale" => int_in(0, 14),
            "blockPublicAccess" => match value {
                "true" | "false" => Ok(()),
                _ => Err(NOT_INCLUDED),
            },
            "extensions" => {
                let valid = value.split(',').all(|e| {
                    let e = e.trim();
                    !e.is_empty()
                        && e.len() <= 63
                        && e.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c)
                        })
                });
                if valid { Ok(()) } else { Err(INVALID_FORMAT) }
            }
            _ => Err(NOT_INCLUDED),
        }
    }

    /// What a valid value of option `name` looks like, for messages and prompts; it says in
    /// words what [`ServiceType::validate_option`] checks.
    pub fn option_hint(name: &str) -> &'static str {
        match name {
            "min_storage" | "max_storage" => "a whole number of GB from 20 to 65536",
            "storage" => "a whole number of GB from 1 to 1024",
            "scale" => "a whole number from 0 to 14",
            "blockPublicAccess" => "true or false",
            "extensions" => "a comma-separated list of extension names such as uuid-ossp,postgis",
            _ => "a value SetOps documents for this option",
        }
    }
}

/// `<prefix>.<family>.<size>` with optional suffixes, e.g. `db.t3.micro.ha`.
fn node_type(plan: &str, prefix: &str, suffixes: &[&str]) -> bool {
    let base = suffixes
        .iter()
        .find_map(|s| plan.strip_suffix(s))
        .unwrap_or(plan);
    base.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(two_part)
}

fn two_part(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ServiceType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServiceType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = ServiceType::ALL.iter().map(|t| t.as_str()).collect();
                format!(
                    "unknown service type {s:?}; expected one of {}",
                    all.join(", ")
                )
            })
    }
}

// ------------------------------------------------------------------------------------------------
// Resources

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    /// The organization the token's session is bound to (one per login, reference section 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub project: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// Project and stage: every stage-level call is scoped by both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub project: String,
    pub stage: String,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.project, self.stage)
    }
}

/// One app's link to one service: an env key or a mount path (volumes), never both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub app: String,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default)]
    pub read_only: bool,
}

impl Link {
    /// The env key or mount path, as `service:info` shows it in parentheses.
    pub fn target(&self) -> &str {
        self.env_key
            .as_deref()
            .or(self.path.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    pub name: String,
    #[serde(default)]
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSchedule {
    /// Hours of the day, UTC.
    pub hours: Vec<u8>,
    /// Three-letter English weekday names (`Mon` .. `Sun`); empty means every day.
    #[serde(default)]
    pub weekdays: Vec<String>,
}

pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    #[serde(rename = "type")]
    pub service_type: ServiceType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_schedule: Option<BackupSchedule>,
    pub created_at: DateTime<Utc>,
}

/// A service's env var as an app receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub key: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// True where the value holds a credential and should be masked by default.
    #[serde(default)]
    pub secret: bool,
}

// ------------------------------------------------------------------------------------------------
// Backups

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BackupStatus {
    Created,
    Creating,
    Restoring,
    /// An upload whose ID was allocated but whose bytes have not arrived yet. Not in the document's
    /// state table; it exists so an upload ID can be recorded before any byte is sent.
    Uploading,
}

impl BackupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::Created => "CREATED",
            BackupStatus::Creating => "CREATING",
            BackupStatus::Restoring => "RESTORING",
            BackupStatus::Uploading => "UPLOADING",
        }
    }
}

impl fmt::Display for BackupStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupOrigin {
    /// `backup:create`
    Manual,
    /// made by a backup schedule
    Scheduled,
    /// `backup:upload`
    Upload,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RestoreOutcome {
    Running,
    Succeeded,
    Failed,
}

/// The last restore of a backup, so a client can tell a finished restore from one that never ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRecord {
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: RestoreOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    pub id: Uuid,
    pub service: String,
    pub status: BackupStatus,
    pub created_at: DateTime<Utc>,
    /// Bytes of the backup file; unknown while CREATING or UPLOADING.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Lowercase hex SHA-256 of the backup file, once it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub origin: BackupOrigin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restore: Option<RestoreRecord>,
    /// How many restores of this backup were started; a restore resumed after a platform
    /// restart is not counted again.
    #[serde(default)]
    pub restore_count: u32,
}

// ------------------------------------------------------------------------------------------------
// Changesets and commits

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
        }
    }

    /// Arguments as `changeset:info` prints them: a Go map, keys sorted (`map[name:web]`).
    pub fn arguments_display(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or_default();
        let mut parts = Vec::new();
        if let Some(args) = value.get("arguments").and_then(|a| a.as_object()) {
            let mut keys: Vec<&String> = args.keys().collect();
            keys.sort();
            for k in keys {
                let v = &args[k];
                let shown = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Array(items) => format!(
                        "[{}]",
                        items
                            .iter()
                            .map(|i| i.as_str().map(str::to_owned).unwrap_or(i.to_string()))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    other => other.to_string(),
                };
                parts.push(format!("{k}:{shown}"));
            }
        }
        format!("map[{}]", parts.join(" "))
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

// ------------------------------------------------------------------------------------------------
// Errors on the wire

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorType {
    Fault,
    AuthenticationError,
    ValidationError,
    StateError,
    /// Any type a newer platform may send.
    #[serde(other)]
    Unknown,
}

/// SetOps' error body for every 4xx/5xx response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceError {
    #[serde(rename = "type")]
    pub error_type: ErrorType,
    pub code: String,
    #[serde(default)]
    pub temporary: bool,
    #[serde(default)]
    pub request_id: String,
    /// Human-readable detail. Not in SetOps' documented schema; optional so real bodies still parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_errors: Option<ValidationErrors>,
}

/// `validation_errors`: field name -> validator names, or a nested object for sub-structures
/// (`{"changeset": {"commands[0]": {"name": ["taken"]}}}`).
pub type ValidationErrors = BTreeMap<String, ValidationNode>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ValidationNode {
    Leaf(Vec<String>),
    Nested(BTreeMap<String, ValidationNode>),
}

/// Flattens a validation tree into `path: validator` pairs (`changeset.commands[0].name: taken`).
pub fn flatten_validation(errors: &ValidationErrors) -> Vec<(String, String)> {
    fn walk(prefix: &str, node: &ValidationNode, out: &mut Vec<(String, String)>) {
        match node {
            ValidationNode::Leaf(validators) => {
                for v in validators {
                    out.push((prefix.to_owned(), v.clone()));
                }
            }
            ValidationNode::Nested(map) => {
                for (k, child) in map {
                    walk(&join_path(prefix, k), child, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (k, node) in errors {
        walk(k, node, &mut out);
    }
    out
}

fn join_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

// ------------------------------------------------------------------------------------------------
// Name rules (setops-reference.md section 1)

const RESERVED_ENV_KEYS: [&str; 4] = ["APP_ENV_ID", "PORT", "PORTS", "PROTOCOL"];

fn check_name(s: &str, min: usize, max: usize, allow_dash: bool) -> Result<(), &'static str> {
    use validators::*;
    if s.len() < min {
        return Err(TOO_SHORT);
    }
    if s.len() > max {
        return Err(TOO_LONG);
    }
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || (allow_dash && c == '-'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(INVALID_FORMAT)
    }
}

/// `^[a-z][a-z0-9-]{2,17}$`
pub fn validate_service_name(s: &str) -> Result<(), &'static str> {
    check_name(s, 3, 18, true)
}

/// `^[a-z][a-z0-9-]{2,15}$`
pub fn validate_app_name(s: &str) -> Result<(), &'static str> {
    check_name(s, 3, 16, true)
}

/// `^[a-z][a-z0-9]{2,19}$`
pub fn validate_project_name(s: &str) -> Result<(), &'static str> {
    check_name(s, 3, 20, false)
}

/// `^[a-z][a-z0-9]{2,11}$`
pub fn validate_stage_name(s: &str) -> Result<(), &'static str> {
    check_name(s, 3, 12, false)
}

/// `^[A-Za-z_][A-Za-z0-9_]{0,255}$` and not a reserved word. Reserved words are matched
/// case-insensitively: SetOps does not say, and refusing `port` is the safe reading.
pub fn validate_env_key(s: &str) -> Result<(), &'static str> {
    use validators::*;
    if s.is_empty() {
        return Err(REQUIRED);
    }
    if s.len() > 256 {
        return Err(TOO_LONG);
    }
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(INVALID_FORMAT);
    }
    if RESERVED_ENV_KEYS.iter().any(|r| r.eq_ignore_ascii_case(s)) {
        return Err(INCLUDED);
    }
    Ok(())
}

/// An absolute, normalized mount path (`/data`), without `.`/`..` segments or empty segments.
pub fn validate_mount_path(s: &str) -> Result<(), &'static str> {
    use validators::*;
    if s.is_empty() {
        return Err(REQUIRED);
    }
    if s.len() > 255 {
        return Err(TOO_LONG);
    }
    let Some(rest) = s.strip_prefix('/') else {
        return Err(INVALID_FORMAT);
    };
    if rest.is_empty() {
        return Err(INVALID);
    }
    let ok = rest.split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    });
    if ok { Ok(()) } else { Err(INVALID_FORMAT) }
}

/// The human reading of a validator name, for error text.
pub fn describe_validator(validator: &str) -> &'static str {
    match validator {
        "invalid" => "is invalid",
        "invalid_format" => "has an invalid format",
        "required" => "is required",
        "too_short" => "is too short",
        "too_long" => "is too long",
        "included" => "is a reserved value",
        "not_included" => "is not an allowed value",
        "not_an_integer" => "is not an integer",
        "taken" => "is already taken",
        "not_found" => "does not exist",
        "greater_than_or_equal_to_threshold" => "is below the minimum",
        "less_than_or_equal_to_threshold" => "is above the maximum",
        "greater_than_or_equal_to_dependent_value" => "is below the value it depends on",
        _ => "failed validation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_follow_the_documented_rule() {
        assert_eq!(validate_service_name("database13"), Ok(()));
        assert_eq!(validate_service_name("a-b"), Ok(()));
        assert_eq!(validate_service_name("ab"), Err("too_short"));
        assert_eq!(validate_service_name("a23456789012345678"), Ok(()));
        assert_eq!(
            validate_service_name("a234567890123456789"),
            Err("too_long")
        );
        assert_eq!(validate_service_name("1abc"), Err("invalid_format"));
        assert_eq!(validate_service_name("Abc"), Err("invalid_format"));
        assert_eq!(validate_service_name("ab_c"), Err("invalid_format"));
    }

    #[test]
    fn project_and_stage_names_have_no_dash() {
        assert_eq!(validate_project_name("shop"), Ok(()));
        assert_eq!(validate_project_name("sh-op"), Err("invalid_format"));
        assert_eq!(validate_stage_name("production"), Ok(()));
        assert_eq!(validate_stage_name("productionxyz"), Err("too_long"));
    }

    #[test]
    fn env_keys_refuse_reserved_words_in_any_case() {
        assert_eq!(validate_env_key("DATABASE_URL"), Ok(()));
        assert_eq!(validate_env_key("_x"), Ok(()));
        assert_eq!(validate_env_key("PORT"), Err("included"));
        assert_eq!(validate_env_key("port"), Err("included"));
        assert_eq!(validate_env_key("9X"), Err("invalid_format"));
        assert_eq!(validate_env_key("A-B"), Err("invalid_format"));
        assert_eq!(validate_env_key(""), Err("required"));
        assert_eq!(validate_env_key(&"A".repeat(257)), Err("too_long"));
    }

    #[test]
    fn mount_paths_are_absolute_and_normalized() {
        assert_eq!(validate_mount_path("/data"), Ok(()));
        assert_eq!(validate_mount_path("/var/lib/app"), Ok(()));
        assert_eq!(validate_mount_path("data"), Err("invalid_format"));
        assert_eq!(validate_mount_path("/"), Err("invalid"));
        assert_eq!(validate_mount_path("/a/../b"), Err("invalid_format"));
        assert_eq!(validate_mount_path("/a//b"), Err("invalid_format"));
    }

    #[test]
    fn plans_follow_each_type() {
        use ServiceType::*;
        assert_eq!(Postgresql11.validate_plan(Some("shared")), Ok(()));
        assert_eq!(
            Postgresql11.validate_plan(Some("db.t3.micro")),
            Err("not_included")
        );
        assert_eq!(Postgresql13.validate_plan(Some("db.t3.micro")), Ok(()));
        assert_eq!(Postgresql13.validate_plan(Some("db.t3.micro.ha")), Ok(()));
        assert_eq!(
            Postgresql13.validate_plan(Some("shared")),
            Err("not_included")
        );
        assert_eq!(Postgresql13.validate_plan(None), Err("required"));
        assert_eq!(Redis6.validate_plan(Some("cache.t3.micro")), Ok(()));
        assert_eq!(Volume.validate_plan(None), Ok(()));
        assert_eq!(S3.validate_plan(Some("default")), Ok(()));
        assert_eq!(
            Elasticsearch7.validate_plan(Some("t3.medium.elasticsearch.ha")),
            Ok(())
        );
        assert_eq!(Mongodb4.validate_plan(Some("db.r5.large")), Ok(()));
    }

    #[test]
    fn options_are_checked_per_type() {
        use ServiceType::*;
        assert_eq!(Postgresql13.validate_option("min_storage", "50"), Ok(()));
        assert_eq!(
            Postgresql13.validate_option("min_storage", "10"),
            Err("greater_than_or_equal_to_threshold")
        );
        assert_eq!(
            Postgresql13.validate_option("min_storage", "x"),
            Err("not_an_integer")
        );
        assert_eq!(
            Postgresql11.validate_option("min_storage", "50"),
            Err("not_included")
        );
        assert_eq!(S3.validate_option("blockPublicAccess", "false"), Ok(()));
        assert_eq!(
            S3.validate_option("blockPublicAccess", "no"),
            Err("not_included")
        );
        assert_eq!(
            Postgresql11.validate_option("extensions", "uuid-ossp,postgis"),
            Ok(())
        );
        assert_eq!(Volume.validate_option("size", "1"), Err("not_included"));
    }

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

    #[test]
    fn validation_trees_parse_nested_and_flatten() {
        let body = r#"{"type":"ValidationError","code":"ChangesetInvalid","temporary":false,
            "request_id":"sGH28YBJ","validation_errors":{"changeset":{"commands[0]":{"name":["taken"]}}}}"#;
        let err: ServiceError = serde_json::from_str(body).expect("parses");
        let flat = flatten_validation(err.validation_errors.as_ref().expect("present"));
        assert_eq!(
            flat,
            vec![("changeset.commands[0].name".to_owned(), "taken".to_owned())]
        );
    }

    #[test]
    fn unknown_error_types_still_parse() {
        let body = r#"{"type":"SomethingNew","code":"X","temporary":true,"request_id":"r"}"#;
        let err: ServiceError = serde_json::from_str(body).expect("parses");
        assert_eq!(err.error_type, ErrorType::Unknown);
        assert!(err.temporary);
    }
}
