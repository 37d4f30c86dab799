//! Plan files, version 1 (design.md section 4): loading with exact `file:line:column` errors,
//! validation against SetOps' rules, and the checked [`Plan`] the engine runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use crate::model::{Scope, ServiceType};

mod backup;
mod check;
mod file_path;
mod freeze;
mod issues;
mod keys;
mod load;
mod migration;
mod node;
mod raw;
mod relink;
pub(crate) mod rules;
mod secrets;
mod yaml_error;

pub use issues::{PlanIssue, PlanRejected};
pub use load::{MAX_PLAN_BYTES, load_plan};

/// A checked plan: every value valid, every `file:` backup present and of the target's format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The plan file as given on the command line.
    pub path: PathBuf,
    /// Lowercase hex SHA-256 of the plan file's bytes; the journal is keyed by it.
    pub content_hash: String,
    pub scope: Scope,
    pub migrations: Vec<Migration>,
    /// The apps scaled to 0 for the cutover (design.md section 5); empty for no freeze.
    pub freeze: Vec<FreezeApp>,
}

/// An app of the cutover freeze.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreezeApp {
    pub app: String,
    /// The scale to restore, from the plan: used only when neither the journal nor the platform
    /// can tell it (a rerun without the journal finds the app at 0).
    pub scale: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Migration {
    /// Position in the plan's `migrations` list, from 0.
    pub index: usize,
    /// Existing service whose type, plan and options are copied; `None` for an import.
    pub source: Option<String>,
    pub target: String,
    /// Override of the type (an upgrade); required when there is no source.
    pub service_type: Option<ServiceType>,
    /// Override of the plan.
    pub plan: Option<String>,
    /// Merged over the source's options; `None` unsets the option.
    pub options: BTreeMap<String, Option<String>>,
    pub backup: BackupChoice,
    #[serde(with = "duration_secs")]
    pub wait_timeout: Duration,
    pub relink: Relink,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum BackupChoice {
    /// The newest CREATED backup of the source.
    Latest,
    /// A new backup of the source, waited for until CREATED.
    Fresh,
    /// One given backup of the source.
    Id(Uuid),
    /// A local file; the path is resolved against the plan's directory.
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "links")]
pub enum Relink {
    /// Every link of the source found at inspect time.
    All,
    None,
    /// Exactly these links (for imports, or a subset of the source's).
    Only(Vec<LinkSpec>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkSpec {
    pub app: String,
    pub env_key: Option<String>,
    pub path: Option<String>,
    pub read_only: bool,
}

pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);

mod duration_secs {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}

#[cfg(test)]
mod tests;
