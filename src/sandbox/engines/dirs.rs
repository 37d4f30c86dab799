//! `volume` and `s3` services: a directory of files (for s3, object keys are relative paths),
//! backed up as `.tar.gz` by `dirtree`. Verify reads the directory directly: the sandbox runs
//! on this machine.

use std::io::{self, Write};
use std::path::Path;

use super::{BackupSummary, Credentials, Engine, RestoreSummary, SeedData, ServiceRef, dirtree};
use crate::api::{ConnectionKind, ServiceConnection};
use crate::sandbox::{Error, Result};

pub(crate) struct DirEngine {
    /// An S3 bucket: objects only (no directories are archived) and an `s3://` env value.
    pub bucket: bool,
}

impl Engine for DirEngine {
    fn load_seed(&self, svc: &ServiceRef, seed: &SeedData) -> Result<()> {
        match seed {
            SeedData::Files(spec) => crate::sandbox::content::generate(&svc.data, spec)
                .map(|_| ())
                .map_err(|e| {
                    Error::Engine(format!("generating files in {}: {e}", svc.data.display()))
                }),
            other => Err(Error::Engine(format!(
                "{} services take `content`, not {other:?}",
                svc.service_type
            ))),
        }
    }

    fn backup(&self, svc: &ServiceRef, out: &mut dyn Write) -> io::Result<BackupSummary> {
        dirtree::backup(&svc.data, out, !self.bucket)
    }

    fn restore(&self, backup: &Path, svc: &ServiceRef) -> Result<RestoreSummary> {
        dirtree::restore(backup, &svc.data)
    }

    fn restore_is_repeatable(&self) -> bool {
        true
    }

    /// A volume is mounted (no env value); a bucket gives SetOps' `s3://` URL with the
    /// sandbox standing in for the provider endpoint.
    fn env_value(&self, svc: &ServiceRef, base_url: &str) -> Result<Option<(String, bool)>> {
        if !self.bucket {
            return Ok(None);
        }
        let Some(Credentials::S3 {
            access_key,
            secret_key,
        }) = &svc.credentials
        else {
            return Err(Error::Engine(format!(
                "s3 service {:?} has no access keys",
                svc.name
            )));
        };
        let bucket = format!("{}-{}-{}", svc.scope.project, svc.scope.stage, svc.name);
        Ok(Some((
            format!(
                "s3://{}:{}@{bucket}?region=eu-central-1&endpoint={}",
                urlencode(access_key),
                urlencode(secret_key),
                urlencode(base_url)
            ),
            true,
        )))
    }

    fn connection(&self, svc: &ServiceRef) -> Result<ServiceConnection> {
        let url = url::Url::from_directory_path(&svc.data).map_err(|()| {
            Error::Engine(format!("{} is not an absolute path", svc.data.display()))
        })?;
        Ok(ServiceConnection {
            kind: ConnectionKind::Directory,
            url: url.to_string(),
        })
    }
}

/// Percent-encodes all but RFC 3986 unreserved characters (form encoding would turn a space
/// into `+`, which means a plus in a URL's userinfo and query).
pub(crate) fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
