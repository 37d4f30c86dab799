//! Backups through the CLI: the `backup` table and `backup:*` blocks, downloads through the URL
//! `backup:download --print-url --output plain` prints (so the project's resumable, checksummed
//! client streams them), and uploads through `backup:upload FILE`, the one documented way that
//! registers the backup.

use std::path::Path;

use crate::api::DownloadTicket;
use crate::error::{Error, Result};
use crate::model::{Backup, BackupOrigin, Scope};

use super::super::parse::{self, BackupBlock, BackupRow};
use super::SetopsCli;
use super::probe;
use super::session::unprinted_time;

fn of_row(service: &str, row: BackupRow) -> Backup {
    Backup {
        id: row.id,
        service: service.to_owned(),
        status: row.status,
        created_at: row.created_at,
        size: None,
        sha256: None,
        shown_size: row.size.map(|s| s.text),
        origin: BackupOrigin::Unknown,
        last_restore: None,
        restore_count: 0,
    }
}

fn of_block(service: &str, block: BackupBlock) -> Backup {
    Backup {
        id: block.id,
        service: service.to_owned(),
        status: block.status,
        created_at: block.created_at.unwrap_or_else(unprinted_time),
        size: None,
        sha256: None,
        shown_size: block.size.map(|s| s.text),
        origin: BackupOrigin::Unknown,
        last_restore: None,
        restore_count: 0,
    }
}

fn in_service(service: &str, scope: &Scope) -> String {
    format!("service {service} in {scope}")
}

impl SetopsCli {
    /// `setops --service S backup:VERB [ID]`, whose answer is a backup block.
    async fn backup_call(
        &self,
        scope: &Scope,
        service: &str,
        verb: &str,
        id: Option<&str>,
        doing: &str,
        parser: fn(&str) -> std::result::Result<BackupBlock, parse::ParseError>,
    ) -> Result<Backup> {
        let mut args = vec!["--service", service, verb];
        args.extend(id);
        let block = self
            .session
            .read(
                Some(scope),
                &args,
                &format!("{doing} {}", in_service(service, scope)),
                parser,
            )
            .await?;
        Ok(of_block(service, block))
    }

    pub(super) async fn list_backups(&self, scope: &Scope, service: &str) -> Result<Vec<Backup>> {
        let rows = self
            .session
            .read(
                Some(scope),
                &["--service", service, "backup"],
                &format!("listing the backups of {}", in_service(service, scope)),
                parse::parse_backup_list,
            )
            .await?;
        Ok(rows.into_iter().map(|r| of_row(service, r)).collect())
    }

    pub(super) async fn backup_info(
        &self,
        scope: &Scope,
        service: &str,
        id: &str,
    ) -> Result<Backup> {
        let doing = format!("reading backup {id} of");
        self.backup_call(
            scope,
            service,
            "backup:info",
            Some(id),
            &doing,
            parse::parse_backup_info,
        )
        .await
    }

    pub(super) async fn backup_create(&self, scope: &Scope, service: &str) -> Result<Backup> {
        let doing = "creating a backup of";
        let made = self
            .backup_call(
                scope,
                service,
                "backup:create",
                None,
                doing,
                parse::parse_backup_create,
            )
            .await?;
        // `backup:create` prints ID and status only; `backup:info` adds the creation time.
        self.backup_info(scope, service, &made.id.to_string()).await
    }

    pub(super) async fn backup_restore(
        &self,
        scope: &Scope,
        service: &str,
        id: &str,
    ) -> Result<Backup> {
        let doing = format!("restoring backup {id} into");
        self.backup_call(
            scope,
            service,
            "backup:restore",
            Some(id),
            &doing,
            parse::parse_backup_restore,
        )
        .await
    }

    pub(super) async fn backup_destroy(
        &self,
        scope: &Scope,
        service: &str,
        id: &str,
    ) -> Result<Backup> {
        let doing = format!("destroying backup {id} of");
        self.backup_call(
            scope,
            service,
            "backup:destroy",
            Some(id),
            &doing,
            parse::parse_backup_destroy,
        )
        .await
    }

    /// A fresh URL per call (its lifetime is unknown), and the file's size from the URL itself.
    pub(super) async fn ticket(
        &self,
        scope: &Scope,
        service: &str,
        id: &str,
    ) -> Result<DownloadTicket> {
        let context = format!("downloading backup {id} of {}", in_service(service, scope));
        let url = self
            .session
            .read(
                Some(scope),
                &[
                    "--service",
                    service,
                    "backup:download",
                    id,
                    "--print-url",
                    "--output",
                    "plain",
                ],
                &context,
                parse::parse_download_url,
            )
            .await?;
        let backup = self.backup_info(scope, service, id).await?;
        let size = probe::size(&self.transfers, url.as_str(), &context).await?;
        let service_type = self.service_info(scope, service).await?.service_type;
        let ext = service_type.backup_extension().unwrap_or("backup");
        Ok(DownloadTicket {
            filename: format!("{}.{ext}", backup.id),
            backup,
            url: url.to_string(),
            expires_at: None,
            size,
            sha256: None,
        })
    }

    pub(super) async fn upload(&self, scope: &Scope, service: &str, file: &Path) -> Result<Backup> {
        // An absolute path: a relative one could start with `-` and read as a flag.
        let absolute = std::path::absolute(file).map_err(|e| Error::io("resolving", file, e))?;
        let shown = absolute.to_string_lossy().into_owned();
        let line = self
            .session
            .read(
                Some(scope),
                &["--service", service, "backup:upload", &shown],
                &format!(
                    "uploading {} to {}",
                    file.display(),
                    in_service(service, scope)
                ),
                parse::parse_backup_upload,
            )
            .await?;
        let id = line.id.to_string();
        self.backup_info(scope, service, &id).await
    }
}
