//! The SetOps-style HTTP contract (docs/openapi.yaml) as code: paths and the request/response
//! bodies the HTTP adapter sends and the sandbox serves. Both sides build paths with these
//! functions, so a route cannot change on one side only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::{Backup, Scope};

/// Every API route lives under this prefix; transfer URLs live under [`TRANSFER_PREFIX`].
pub const API_PREFIX: &str = "/api/v1";
/// Pre-signed transfer URLs: `GET` (download, Range-capable) or `PUT` (upload) on
/// `/transfer/{token}`. They carry no bearer token; the path token is the credential.
pub const TRANSFER_PREFIX: &str = "/transfer";
/// Request header carrying the uploader's SHA-256 of the body; the server refuses a mismatch.
pub const SHA256_HEADER: &str = "x-setops-sha256";
/// Response header carrying the request id on every API response.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What a path segment keeps as is: letters, digits and `*-._` (the form-encoding set, which the
/// paths have always used); everything else, space included, becomes `%XX`.
const SEGMENT_KEEPS: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// Path segment encoding: names are validated, but a user may type anything on the command line,
/// and the request must still reach the server intact to be refused properly.
fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT_KEEPS).to_string()
}

pub mod paths {
    use super::*;

    pub fn health() -> String {
        format!("{API_PREFIX}/health")
    }
    pub fn me() -> String {
        format!("{API_PREFIX}/me")
    }
    pub fn projects() -> String {
        format!("{API_PREFIX}/projects")
    }
    pub fn stages(project: &str) -> String {
        format!("{API_PREFIX}/projects/{}/stages", seg(project))
    }
    fn stage(scope: &Scope) -> String {
        format!(
            "{API_PREFIX}/projects/{}/stages/{}",
            seg(&scope.project),
            seg(&scope.stage)
        )
    }
    pub fn apps(scope: &Scope) -> String {
        format!("{}/apps", stage(scope))
    }
    pub fn app(scope: &Scope, app: &str) -> String {
        format!("{}/apps/{}", stage(scope), seg(app))
    }
    pub fn app_links(scope: &Scope, app: &str) -> String {
        format!("{}/links", self::app(scope, app))
    }
    /// GET: the app's containers (`app:ps`).
    pub fn app_tasks(scope: &Scope, app: &str) -> String {
        format!("{}/tasks", self::app(scope, app))
    }
    pub fn app_env(scope: &Scope, app: &str) -> String {
        format!("{}/env", self::app(scope, app))
    }
    pub fn services(scope: &Scope) -> String {
        format!("{}/services", stage(scope))
    }
    pub fn service(scope: &Scope, name: &str) -> String {
        format!("{}/services/{}", stage(scope), seg(name))
    }
    /// GET: the caller's pending changeset (404 ChangesetDoesNotExist when none); DELETE: discard.
    pub fn changeset(scope: &Scope) -> String {
        format!("{}/changeset", stage(scope))
    }
    /// POST a [`crate::model::ChangesetCommand`].
    pub fn changeset_commands(scope: &Scope) -> String {
        format!("{}/changeset/commands", stage(scope))
    }
    /// POST: validate and start committing the caller's changeset; answers 202 with a Commit.
    pub fn changeset_commit(scope: &Scope) -> String {
        format!("{}/changeset/commit", stage(scope))
    }
    pub fn commit(scope: &Scope, id: &Uuid) -> String {
        format!("{}/commits/{id}", stage(scope))
    }
    /// GET: list; POST: `backup:create`.
    pub fn backups(scope: &Scope, service: &str) -> String {
        format!("{}/backups", self::service(scope, service))
    }
    /// GET: info; DELETE: destroy.
    pub fn backup(scope: &Scope, service: &str, id: &str) -> String {
        format!("{}/{}", backups(scope, service), seg(id))
    }
    /// POST: restore on top of the service's data; answers 202 with the RESTORING backup.
    pub fn backup_restore(scope: &Scope, service: &str, id: &str) -> String {
        format!("{}/restore", backup(scope, service, id))
    }
    /// POST: a fresh download URL ([`DownloadTicket`]).
    pub fn backup_download(scope: &Scope, service: &str, id: &str) -> String {
        format!("{}/download", backup(scope, service, id))
    }
    /// POST [`UploadRequest`]: allocate a backup ID in UPLOADING and an upload URL.
    pub fn uploads(scope: &Scope, service: &str) -> String {
        format!("{}/uploads", self::service(scope, service))
    }
    /// POST: a fresh upload URL for an allocated upload that has not received its bytes yet.
    pub fn upload_url(scope: &Scope, service: &str, id: &str) -> String {
        format!("{}/upload-url", backup(scope, service, id))
    }
    pub fn transfer(token: &str) -> String {
        format!("{TRANSFER_PREFIX}/{token}")
    }
    /// GET [`ServiceConnection`] (sandbox extension): how to reach a service's data.
    pub fn service_connection(scope: &Scope, name: &str) -> String {
        format!("{}/connection", service(scope, name))
    }
    /// PUT [`Faults`] (sandbox only): fault knobs for tests and rehearsals.
    pub fn sandbox_faults() -> String {
        "/_sandbox/faults".to_owned()
    }
    /// GET [`LiveWrites`] (sandbox only): what the live apps wrote.
    pub fn sandbox_live_writes() -> String {
        "/_sandbox/live-writes".to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    /// A sandbox's instance ID, created once in its directory: the same after a restart on
    /// another port. A platform without one is known by its origin and organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// Body of `POST .../uploads`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRequest {
    /// The local file's name, for display only.
    pub filename: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the whole file; the server refuses bytes that do not match.
    pub sha256: String,
}

/// A pre-signed upload: `PUT` the bytes to `url` before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadTicket {
    pub backup: Backup,
    pub url: String,
    pub method: String,
    pub expires_at: DateTime<Utc>,
}

/// A pre-signed download: `GET` `url` (Range supported) before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadTicket {
    pub backup: Backup,
    pub url: String,
    /// `None` where the platform does not say (the `setops` CLI prints only the URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// `<id>.<ext>`, the name `backup:download` writes.
    pub filename: String,
    pub size: u64,
    /// The file's SHA-256 where the platform knows it; without one (the `setops` CLI prints
    /// none) the download is checked by its size and its own checksum is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// Sandbox fault knobs. Each field left out keeps its current value; `Faults::default()` is
/// "no faults". Counters (`*_next`) apply to that many requests and then run out by themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// The next N API requests answer 503 `Overload` with `temporary: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overload_next: Option<u32>,
    /// The next N downloads close the connection after this many body bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_download_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_download_next: Option<u32>,
    /// Downloads ignore `Range` and always answer 200 with the whole body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_range: Option<bool>,
    /// Every download response carries a new ETag, as if the object changed between requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_etag: Option<bool>,
    /// The next N downloads flip one byte in the body (same length, wrong content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt_download_next: Option<u32>,
    /// The next N downloads send only the first half of the body, with a matching Content-Length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_download_next: Option<u32>,
    /// Extra time a `backup:create` stays CREATING.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_delay_ms: Option<u64>,
    /// Extra time a restore stays RESTORING.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_delay_ms: Option<u64>,
    /// Time each commit phase takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_phase_ms: Option<u64>,
    /// Time an app's containers take to start or stop after a commit changed its scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_delay_ms: Option<u64>,
}

/// What the sandbox's live apps wrote since this server started (`GET /_sandbox/live-writes`):
/// each writer counts the writes its service confirmed, so a test can check that none was lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveWrites {
    /// Whether live apps are switched on (`sandbox serve --live-apps`, or the seed's `live_apps`).
    pub enabled: bool,
    pub writers: Vec<LiveWriter>,
}

/// One app writing to one linked service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveWriter {
    pub project: String,
    pub stage: String,
    pub app: String,
    pub service: String,
    /// What each write adds: `rows` (PostgreSQL table `live_writes`), `keys` (Redis keys
    /// `live:<app>:<n>`) or `files` (volume directory `live-writes/`).
    pub kind: LiveWriteKind,
    /// Writes the service confirmed (a committed row, an `OK`, a written file).
    pub writes: u64,
    /// The last write's failure, until a write succeeds again (never holds a password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LiveWriteKind {
    Rows,
    Keys,
    Files,
}

/// What a running sandbox server records in its directory (`server.json`), so `--sandbox DIR`
/// can find it and `sandbox stop` can end it. Holds no secret: the token lives in its own file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub url: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
}

/// How to reach a service's data from this machine, for `run`'s verify step
/// (`GET .../services/{service}/connection`). A sandbox extension of the contract: SetOps itself
/// hands connection values only to linked apps, so a platform without this endpoint answers 404
/// and verify falls back to comparing backup artifacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceConnection {
    pub kind: ConnectionKind,
    /// `postgresql://…`, `redis://…` or `file:///…` (a directory holding a volume's files or a
    /// bucket's objects). Holds a password: never print, log or journal it.
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionKind {
    Postgresql,
    Redis,
    Directory,
}
