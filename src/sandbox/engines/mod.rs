//! Engines hold a service's data for real. One implementation per service type; `volume` and `s3`
//! are directories under `DIR/data/<project>/<stage>/<service>/` (for s3, object keys are relative
//! paths). Types without an engine can be created and linked, but have no data and no backups yet.

pub(crate) mod dirtree;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rand::Rng;
use rand::distributions::Alphanumeric;

use super::state::Credentials;
use crate::model::{Scope, ServiceType};

pub(crate) use dirtree::RestoreSummary;

pub(crate) trait Engine: Send + Sync {
    /// Creates the service's empty data store. Leftovers of an earlier service of the same name
    /// are removed first: a new service starts empty.
    fn provision(&self, data: &Path) -> io::Result<()> {
        remove_dir_if_present(data)?;
        fs::create_dir_all(data)
    }

    /// Removes the data of a destroyed service.
    fn remove(&self, data: &Path) -> io::Result<()> {
        remove_dir_if_present(data)
    }

    /// Credentials the service hands to linked apps, generated once at creation.
    fn new_credentials(&self) -> Option<Credentials> {
        None
    }

    /// Writes a backup of the data in this type's backup format.
    fn backup(&self, data: &Path, out: &mut dyn Write) -> io::Result<dirtree::BackupSummary>;

    /// Checks the first bytes of an uploaded backup (at least 512 bytes, or the whole file).
    fn check_upload(&self, head: &[u8]) -> Result<(), String>;

    /// Restores a backup on top of the data (nothing is purged).
    fn restore(&self, backup: &Path, data: &Path) -> Result<RestoreSummary, String>;

    /// Whether running the same restore twice gives the same result as running it once, so a
    /// restore interrupted by a restart may simply run again.
    fn restore_is_repeatable(&self) -> bool;

    /// The env value a linked app receives, with whether it holds a secret; `None` for types
    /// that are mounted instead.
    fn env_value(&self, ctx: &EnvContext<'_>) -> Option<(String, bool)>;
}

pub(crate) struct EnvContext<'a> {
    pub scope: &'a Scope,
    pub service: &'a str,
    pub credentials: Option<&'a Credentials>,
    /// The sandbox's own URL, which stands in for the provider endpoint.
    pub base_url: &'a str,
}

/// The engine for a type, or `None` where this sandbox has none yet.
pub(crate) fn engine_for(service_type: ServiceType) -> Option<&'static dyn Engine> {
    match service_type {
        ServiceType::Volume => Some(&VolumeEngine),
        ServiceType::S3 => Some(&S3Engine),
        ServiceType::Postgresql11
        | ServiceType::Postgresql13
        | ServiceType::Redis6
        | ServiceType::Mongodb4
        | ServiceType::Elasticsearch7 => None,
    }
}

/// Why a type has no backups here, for `CodeCurrentlyNotSupported` answers.
pub(crate) fn unsupported_reason(service_type: ServiceType) -> String {
    match service_type {
        ServiceType::Elasticsearch7 => {
            "elasticsearch7 services have no backup format (SetOps: \"Not implemented yet\")"
                .to_owned()
        }
        other => format!(
            "the sandbox has no {other} engine yet (issue 4 adds postgresql, redis and mongodb \
             engines); backups work for volume and s3 services"
        ),
    }
}

pub(crate) fn data_dir(root: &Path, scope: &Scope, service: &str) -> PathBuf {
    root.join("data")
        .join(&scope.project)
        .join(&scope.stage)
        .join(service)
}

fn remove_dir_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

struct VolumeEngine;

impl Engine for VolumeEngine {
    fn backup(&self, data: &Path, out: &mut dyn Write) -> io::Result<dirtree::BackupSummary> {
        dirtree::backup(data, out, true)
    }

    fn check_upload(&self, head: &[u8]) -> Result<(), String> {
        dirtree::check_gzip_head(head)
    }

    fn restore(&self, backup: &Path, data: &Path) -> Result<RestoreSummary, String> {
        dirtree::restore(backup, data)
    }

    fn restore_is_repeatable(&self) -> bool {
        true
    }

    fn env_value(&self, _ctx: &EnvContext<'_>) -> Option<(String, bool)> {
        None
    }
}

struct S3Engine;

fn random_alnum(len: usize, upper: bool) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(|b| {
            let c = char::from(b);
            if upper { c.to_ascii_uppercase() } else { c }
        })
        .collect()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Engine for S3Engine {
    fn new_credentials(&self) -> Option<Credentials> {
        Some(Credentials {
            access_key: format!("SBX{}", random_alnum(17, true)),
            secret_key: random_alnum(40, false),
        })
    }

    /// Objects only: S3 has no directories, so none are archived.
    fn backup(&self, data: &Path, out: &mut dyn Write) -> io::Result<dirtree::BackupSummary> {
        dirtree::backup(data, out, false)
    }

    fn check_upload(&self, head: &[u8]) -> Result<(), String> {
        dirtree::check_gzip_head(head)
    }

    fn restore(&self, backup: &Path, data: &Path) -> Result<RestoreSummary, String> {
        dirtree::restore(backup, data)
    }

    fn restore_is_repeatable(&self) -> bool {
        true
    }

    fn env_value(&self, ctx: &EnvContext<'_>) -> Option<(String, bool)> {
        let creds = ctx.credentials?;
        let bucket = format!("{}-{}-{}", ctx.scope.project, ctx.scope.stage, ctx.service);
        Some((
            format!(
                "s3://{}:{}@{bucket}?region=eu-central-1&endpoint={}",
                urlencode(&creds.access_key),
                urlencode(&creds.secret_key),
                urlencode(ctx.base_url)
            ),
            true,
        ))
    }
}
