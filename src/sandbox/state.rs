//! The sandbox's whole world as one serializable value, and its atomic persistence in
//! `DIR/state.json`. Handlers mutate a `World` under one lock and save it after every change, so a
//! restart (or a crash) finds exactly the last answered state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::credentials::Credentials;
use crate::model::{
    App, Backup, BackupOrigin, BackupSchedule, BackupStatus, Commit, Link, Scope, Service,
    ServiceType,
};
use crate::sandbox::{Error, Result};

/// Bumped when the layout of `state.json` changes incompatibly.
pub(crate) const STATE_FORMAT: u32 = 1;

pub(crate) fn state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct World {
    pub format: u32,
    pub users: Vec<UserEntry>,
    pub projects: BTreeMap<String, ProjectState>,
    pub commits: BTreeMap<Uuid, Commit>,
    pub backups: BTreeMap<Uuid, BackupEntry>,
    /// Keyed by the SHA-256 of the URL token: the token itself is a credential and is never stored.
    pub transfers: BTreeMap<String, Transfer>,
    /// The seed's `live_apps`: apps with running containers write to their services.
    #[serde(default)]
    pub live_apps: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserEntry {
    pub name: String,
    /// The user whose token is also written to `DIR/token`.
    pub default: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectState {
    pub created_at: DateTime<Utc>,
    pub stages: BTreeMap<String, StageState>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StageState {
    pub created_at: DateTime<Utc>,
    /// The committed configuration: the only thing read endpoints show.
    pub config: StageConfig,
    /// One pending changeset per user.
    pub changesets: BTreeMap<String, PendingChangeset>,
    /// Each app's containers, running or recently stopped (see `tasks`): what the platform
    /// runs, not configuration, so commits never validate it.
    #[serde(default)]
    pub tasks: BTreeMap<String, Vec<super::tasks::TaskEntry>>,
}

/// Apps and services of a stage. Commits validate against a clone of it (the working copy) and
/// replace it in one step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StageConfig {
    pub apps: BTreeMap<String, AppConfig>,
    pub services: BTreeMap<String, ServiceConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppConfig {
    /// Keyed by service name: an app links a service at most once.
    pub links: BTreeMap<String, LinkTarget>,
    /// How many containers the app runs (0-16).
    #[serde(default = "default_scale")]
    pub scale: u8,
}

/// An app's scale when nothing set one: one container.
pub(crate) const fn default_scale() -> u8 {
    1
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            links: BTreeMap::new(),
            scale: default_scale(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinkTarget {
    pub env_key: Option<String>,
    pub path: Option<String>,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceConfig {
    /// Identifies this incarnation of the service: a service destroyed and created again under
    /// the same name is a different service with other backups.
    pub uid: Uuid,
    pub service_type: ServiceType,
    pub plan: Option<String>,
    pub options: BTreeMap<String, String>,
    pub backup_schedule: Option<BackupSchedule>,
    pub created_at: DateTime<Utc>,
    /// Generated at creation for types whose env value carries credentials.
    pub credentials: Option<Credentials>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PendingChangeset {
    pub created_at: DateTime<Utc>,
    pub commands: Vec<crate::model::ChangesetCommand>,
    /// Set while a commit of this changeset runs: the changeset is frozen until it ends.
    pub commit: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BackupEntry {
    pub project: String,
    pub stage: String,
    pub service_uid: Uuid,
    pub backup: Backup,
    /// File name inside `DIR/backups` once the bytes exist.
    pub file: Option<String>,
    pub upload: Option<UploadState>,
}

/// A new backup record, made now, without size or checksum yet: the one place the sandbox
/// builds a `model::Backup`.
pub(crate) fn new_backup(
    id: Uuid,
    service: &str,
    status: BackupStatus,
    origin: BackupOrigin,
) -> Backup {
    Backup {
        id,
        service: service.to_owned(),
        status,
        created_at: Utc::now(),
        size: None,
        sha256: None,
        shown_size: None,
        origin,
        last_restore: None,
        restore_count: 0,
    }
}

impl BackupEntry {
    pub fn scope(&self) -> Scope {
        Scope {
            project: self.project.clone(),
            stage: self.stage.clone(),
        }
    }
}

/// What an upload announced, checked against the bytes that arrive.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadState {
    pub filename: String,
    pub size: u64,
    pub sha256: String,
    /// Expiry of the newest upload URL; an upload abandoned for an hour after that is removed.
    pub url_expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TransferMethod {
    Download,
    Upload,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Transfer {
    pub backup_id: Uuid,
    pub method: TransferMethod,
    pub expires_at: DateTime<Utc>,
}

impl World {
    pub fn stage(&self, scope: &Scope) -> Option<&StageState> {
        self.projects.get(&scope.project)?.stages.get(&scope.stage)
    }

    pub fn stage_mut(&mut self, scope: &Scope) -> Option<&mut StageState> {
        self.projects
            .get_mut(&scope.project)?
            .stages
            .get_mut(&scope.stage)
    }

    /// Backups of one service incarnation, oldest first.
    pub fn service_backups(&self, service_uid: Uuid) -> Vec<&BackupEntry> {
        let mut list: Vec<&BackupEntry> = self
            .backups
            .values()
            .filter(|b| b.service_uid == service_uid)
            .collect();
        list.sort_by_key(|b| (b.backup.created_at, b.backup.id));
        list
    }

    /// Drops expired transfer URLs and uploads abandoned for an hour past their last URL.
    /// Returns the backup files that are no longer referenced, so the caller can delete them,
    /// and whether anything changed.
    pub fn sweep_expired(&mut self, now: DateTime<Utc>) -> (Vec<String>, bool) {
        let before = self.transfers.len() + self.backups.len();
        self.transfers.retain(|_, t| t.expires_at > now);
        let mut files = Vec::new();
        self.backups.retain(|_, b| {
            let abandoned = b.backup.status == crate::model::BackupStatus::Uploading
                && b.upload
                    .as_ref()
                    .is_some_and(|u| u.url_expires_at + chrono::Duration::hours(1) < now);
            if abandoned {
                files.extend(b.file.clone());
            }
            !abandoned
        });
        let backups = &self.backups;
        self.transfers
            .retain(|_, t| backups.contains_key(&t.backup_id));
        let changed = before != self.transfers.len() + self.backups.len();
        (files, changed)
    }
}

impl StageConfig {
    /// Every link of every app that points at `service`, as `model::Link`s.
    pub fn links_to(&self, service: &str) -> Vec<Link> {
        self.apps
            .iter()
            .filter_map(|(app, cfg)| cfg.links.get(service).map(|t| t.to_link(app, service)))
            .collect()
    }

    pub fn app_model(&self, name: &str) -> Option<App> {
        let cfg = self.apps.get(name)?;
        Some(App {
            name: name.to_owned(),
            links: cfg
                .links
                .iter()
                .map(|(service, t)| t.to_link(name, service))
                .collect(),
            scale: Some(cfg.scale),
        })
    }

    pub fn service_model(&self, name: &str) -> Option<Service> {
        let cfg = self.services.get(name)?;
        Some(Service {
            name: name.to_owned(),
            service_type: cfg.service_type,
            plan: cfg.plan.clone(),
            options: cfg.options.clone(),
            links: self.links_to(name),
            backup_schedule: cfg.backup_schedule.clone(),
            created_at: cfg.created_at,
        })
    }
}

impl LinkTarget {
    pub fn to_link(&self, app: &str, service: &str) -> Link {
        Link {
            app: app.to_owned(),
            service: service.to_owned(),
            env_key: self.env_key.clone(),
            path: self.path.clone(),
            read_only: self.read_only,
        }
    }
}

/// Far above any world a sandbox holds (a few KiB per service and backup): a larger file is not
/// one the sandbox wrote.
const MAX_STATE_BYTES: u64 = 256 * 1024 * 1024;

/// Reads `DIR/state.json`. A damaged file is the user's to decide about, so the error says where
/// it is and how to start over.
pub(crate) fn load(dir: &Path) -> Result<World> {
    let path = state_path(dir);
    let text = crate::fsio::read_text_bounded(&path, MAX_STATE_BYTES)
        .map_err(|e| Error::io("reading", &path, e))?;
    let world: World = serde_json::from_str(&text).map_err(|e| {
        Error::usage(format!(
            "{}: the sandbox state is damaged ({e}); move the directory away to start a fresh sandbox",
            path.display()
        ))
    })?;
    if world.format != STATE_FORMAT {
        return Err(Error::usage(format!(
            "{}: state format {} is not supported by this version (expected {STATE_FORMAT}); \
             use a new sandbox directory",
            path.display(),
            world.format
        )));
    }
    Ok(world)
}

/// Replaces `DIR/state.json` atomically: temp file in DIR, fsync, rename, fsync DIR.
pub(crate) fn save(dir: &Path, world: &World) -> Result<()> {
    let json = serde_json::to_vec_pretty(world)
        .map_err(|e| Error::Internal(format!("serializing the sandbox state: {e}")))?;
    let path = state_path(dir);
    crate::fsio::write_atomic(&path, &json).map_err(|e| Error::io("writing", &path, e))
}
