//! The resources of a stage as the platform shows them: projects, stages, apps, services, links.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ServiceType;

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
    /// How many containers the app is set to run (0-16, committed). `None` where the listing
    /// does not show it (CLI 1.x `app` prints names only); `Platform::app_scale` reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u8>,
}

/// The most containers an app may run (reference section 1: app scale 0-16).
pub const MAX_SCALE: u8 = 16;

/// One container of an app, as `app:ps` lists it: running, starting, stopping, or recently
/// stopped. Statuses are the platform's words (ECS task statuses such as `PENDING`, `RUNNING`,
/// `STOPPING`, `STOPPED`), kept as text so a status this tool does not know still counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// 32 hex characters.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    pub last_status: String,
    /// `HEALTHY`, `UNHEALTHY`, or `UNKNOWN` when the app has no container health check.
    pub health_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<DateTime<Utc>>,
}

impl Task {
    /// Whether a container may still be running (and writing): every status but `STOPPED`, an
    /// unknown one included, so waiting for "no container runs" never ends too early.
    pub fn may_run(&self) -> bool {
        !self.last_status.trim().eq_ignore_ascii_case("STOPPED")
    }
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

/// A weekday as people type it (`mon`, `Monday`, `MON`, at least three letters) as SetOps
/// schedules name it (`Mon`); `None` for anything else. The document leaves the format open.
pub fn weekday(text: &str) -> Option<&'static str> {
    const FULL: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let lower = text.trim().to_ascii_lowercase();
    if lower.len() < 3 {
        return None;
    }
    FULL.iter()
        .position(|f| f.starts_with(&lower))
        .map(|i| WEEKDAYS[i])
}

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
