//! `backup`, `backup:info`, `backup:create`, `backup:download`, `backup:upload`,
//! `backup:restore`, `backup:destroy`, shaped like the Backup & Restore document.

use std::path::{Path, PathBuf};

use chrono::SecondsFormat;
use serde_json::json;

use crate::api::UploadRequest;
use crate::error::{Error, Result};
use crate::formats;
use crate::model::{Backup, RestoreOutcome, Scope};
use crate::platform::Uploads;
use crate::transfer;
use crate::ui::progress::transfer_progress;
use crate::ui::{Align, Block, Output, TableBuilder, format_size};

use super::args;
use super::context::{Connection, Context};

pub async fn list(ctx: &Context) -> Result<()> {
    let scope = ctx.scope()?;
    let service = ctx.service()?;
    let conn = ctx.connect().await?;
    let backups = conn.platform.backups(&scope, service).await?;
    ctx.output.table(&backups_table(&backups), &backups);
    Ok(())
}

/// The `backup` table: `ID`, `STATUS`, `CREATED AT`, `SIZE` (right-aligned).
pub fn backups_table(backups: &[Backup]) -> TableBuilder {
    let mut table = TableBuilder::new(&[
        ("ID", Align::Left),
        ("STATUS", Align::Left),
        ("CREATED AT", Align::Left),
        ("SIZE", Align::Right),
    ]);
    for b in backups {
        table.row(vec![
            b.id.to_string(),
            b.status.to_string(),
            timestamp(b),
            b.size_text().unwrap_or_default(),
        ]);
    }
    table
}

fn timestamp(backup: &Backup) -> String {
    backup.created_at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `ID / Status / Created At / Size`, the block `backup:restore`, `:download` and `:destroy` print.
pub fn backup_block(backup: &Backup) -> Block {
    Block::new()
        .field("ID", backup.id.to_string())
        .field("Status", backup.status.as_str())
        .field("Created At", timestamp(backup))
        .field("Size", backup.size_text().unwrap_or_else(|| "-".into()))
}

pub async fn info(ctx: &Context, id: &str) -> Result<()> {
    let scope = ctx.scope()?;
    let service = ctx.service()?;
    let id = &args::backup_id(id)?;
    let conn = ctx.connect().await?;
    let backup = conn.platform.backup(&scope, service, id).await?;
    ctx.output.block(&backup_info_block(&backup), &backup);
    Ok(())
}

/// `backup:info`: the backup block, its origin, checksum and last restore.
pub fn backup_info_block(backup: &Backup) -> Block {
    let mut block =
        backup_block(backup).field("Origin", format!("{:?}", backup.origin).to_lowercase());
    if let Some(sha) = &backup.sha256 {
        block = block.field("SHA-256", sha.clone());
    }
    block.field("Last Restore", describe_restore(backup))
}

fn describe_restore(backup: &Backup) -> String {
    let Some(r) = &backup.last_restore else {
        return "never restored".into();
    };
    let started = r.started_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    match r.outcome {
        RestoreOutcome::Running => format!("running since {started}"),
        RestoreOutcome::Succeeded => format!("succeeded (started {started})"),
        RestoreOutcome::Failed => format!(
            "FAILED (started {started}): {}",
            r.error.as_deref().unwrap_or("no error text recorded")
        ),
    }
}

pub async fn create(ctx: &Context) -> Result<()> {
    let scope = ctx.scope()?;
    let service = ctx.service()?;
    let conn = ctx.connect().await?;
    let backup = conn.platform.create_backup(&scope, service).await?;
    ctx.output.block(&backup_create_block(&backup), &backup);
    Ok(())
}

/// `backup:create`'s two fields: `ID:` and `Status:`.
pub fn backup_create_block(backup: &Backup) -> Block {
    Block::new()
        .field("ID", backup.id.to_string())
        .field("Status", backup.status.as_str())
}

pub async fn restore(ctx: &Context, id: &str) -> Result<()> {
    let scope = ctx.scope()?;
    let service = ctx.service()?;
    let id = &args::backup_id(id)?;
    let conn = ctx.connect().await?;
    let backup = conn.platform.restore_backup(&scope, service, id).await?;
    ctx.output.block(&backup_block(&backup), &backup);
    // Stdout holds the documented block alone; what to do next is a hint.
    ctx.output.hint(&format!(
        "The restore runs on the platform; it has finished when `backup` no longer shows {} as \
         RESTORING.",
        backup.id
    ));
    Ok(())
}

pub async fn destroy(ctx: &Context, id: &str) -> Result<()> {
    let scope = ctx.scope()?;
    let service = ctx.service()?;
    let id = &args::backup_id(id)?;
    let conn = ctx.connect().await?;
    let backup = conn.platform.destroy_backup(&scope, service, id).await?;
    ctx.output.block(&backup_block(&backup), &backup);
    Ok(())
}

pub async fn download(ctx: &Context, id: &str, force: bool, print_url: bool) -> Result<()> {
    let scope = ctx.scope()?;
    let service = ctx.service()?;
    let id = &args::backup_id(id)?;
    let conn = ctx.connect().await?;
    download_with(&conn, &ctx.output, &scope, service, id, force, print_url).await
}

/// `backup:download` on a connection already made: writes `<id>.<ext>` and its checksum
/// `<id>.<ext>.sha256` into the current directory, or prints the URL with `print_url`.
pub async fn download_with(
    conn: &Connection,
    output: &Output,
    scope: &Scope,
    service: &str,
    id: &str,
    force: bool,
    print_url: bool,
) -> Result<()> {
    let platform = conn.platform.clone();
    let ticket = platform.download_ticket(scope, service, id).await?;
    if print_url {
        // The one place a pre-signed URL is shown: the user asked for it.
        if output.is_json() {
            output.json(&json!({
                "url": ticket.url, "method": "GET", "filename": ticket.filename,
                "size": ticket.size, "sha256": ticket.sha256, "expires_at": ticket.expires_at,
            }));
        } else {
            let expiry = ticket
                .expires_at
                .map(|at| {
                    format!(
                        "expires {}; ",
                        at.to_rfc3339_opts(SecondsFormat::Secs, true)
                    )
                })
                .unwrap_or_default();
            output.hint(&format!(
                "# {expiry}the URL is a credential, do not share it"
            ));
            if output.format == crate::ui::OutputFormat::Plain {
                output.line(&ticket.url);
            } else {
                output.line(&format!(
                    "curl -fL --retry 3 -C - -o {} {}",
                    shell_quote(&ticket.filename),
                    shell_quote(&ticket.url)
                ));
            }
        }
        return Ok(());
    }
    let dest = current_dir()?.join(&ticket.filename);
    output.human(&backup_block(&ticket.backup).render());
    let progress = transfer_progress(output);
    let downloaded = transfer::download(
        &conn.transfers,
        || {
            let platform = platform.clone();
            async move { platform.download_ticket(scope, service, id).await }
        },
        &dest,
        force,
        progress.as_ref(),
    )
    .await?;
    // Lets `backup:upload` of this file skip hashing it again (checked against size and mtime).
    transfer::checksum_file::record(&downloaded.path, &downloaded.sha256).await?;
    if output.is_json() {
        output.json(&json!({
            "backup": ticket.backup, "file": downloaded.path, "size": downloaded.size,
            "sha256": downloaded.sha256, "resumed_from": downloaded.resumed_from,
        }));
    } else {
        output.human("");
        print_completed(
            output,
            "✅  ",
            &file_name(&downloaded.path),
            downloaded.size,
            &ticket.backup.id.to_string(),
        );
    }
    Ok(())
}

/// `✅ <file> completed (<size>) with ID <id>`, the line a finished transfer ends with; with
/// `--output plain` its bare values: `<file><TAB><size><TAB><id>`.
fn print_completed(output: &Output, mark: &str, file: &str, size: u64, id: &str) {
    let size = format_size(size);
    if output.format == crate::ui::OutputFormat::Plain {
        output.line(&format!("{file}\t{size}\t{id}"));
    } else {
        output.line(&format!("{mark}{file} completed ({size}) with ID {id}"));
    }
}

pub async fn upload(ctx: &Context, file: &Path, print_url: bool) -> Result<()> {
    let scope = ctx.scope()?;
    let service = ctx.service()?;
    let meta = std::fs::metadata(file)
        .map_err(|e| Error::usage(format!("cannot read backup file {}: {e}", file.display())))?;
    if !meta.is_file() {
        return Err(Error::usage(format!(
            "{} is not a file; backup:upload takes one backup file",
            file.display()
        )));
    }
    let conn = ctx.connect().await?;
    upload_with(&conn, &ctx.output, &scope, service, file, print_url).await
}

/// `backup:upload` on a connection already made (the file was checked to be a regular file).
pub async fn upload_with(
    conn: &Connection,
    output: &Output,
    scope: &Scope,
    service: &str,
    file: &Path,
    print_url: bool,
) -> Result<()> {
    let platform = conn.platform.clone();
    // Refuse a file of the wrong format before anything is allocated or sent.
    let target = platform.service(scope, service).await?;
    if let Err(what) = formats::check_for_type(file, target.service_type)? {
        return Err(Error::usage(format!("{what}; nothing was uploaded")));
    }
    // What the file's head says against the service's type: refusals stop here, warnings are
    // shown and the upload goes on.
    let findings = crate::compat::assess_file(file, target.service_type)?;
    let refusals = crate::compat::words::refusals(&findings);
    if !refusals.is_empty() {
        return Err(Error::usage(format!(
            "{}: {service} is {}: {}; nothing was uploaded",
            file.display(),
            target.service_type,
            refusals.join("; ")
        )));
    }
    for warning in findings.iter().filter(|f| !f.refuses()) {
        eprintln!("{}: {warning}", file.display());
    }
    let (size, sha256) = transfer::checksum_for_upload(file).await?;
    let filename = file_name(file);
    let request = UploadRequest {
        filename: filename.clone(),
        size,
        sha256: sha256.clone(),
    };
    let tickets = match platform.uploads() {
        Uploads::Tickets(tickets) => tickets,
        Uploads::WholeFile(uploader) => {
            if print_url {
                return Err(Error::usage(
                    "this platform takes an upload only as a whole file (setops backup:upload \
                     FILE) and prints no URL for it; run backup:upload without --print-url",
                ));
            }
            let backup = uploader.upload_file(scope, service, file).await?;
            return print_uploaded(output, &filename, size, &backup);
        }
    };
    let first = tickets.start_upload(scope, service, &request).await?;
    if print_url {
        if output.is_json() {
            output.json(&json!({
                "url": first.url, "method": first.method, "backup": first.backup,
                "sha256": sha256, "expires_at": first.expires_at,
            }));
        } else if output.format == crate::ui::OutputFormat::Plain {
            output.line(&first.url);
        } else {
            output.hint(&format!(
                "# upload allocated as backup {}; expires {}; the URL is a credential, do not share it",
                first.backup.id,
                first.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true)
            ));
            output.line(&format!(
                "curl -f -X PUT -H {} -T {} {}",
                shell_quote(&format!("{}: {sha256}", crate::api::SHA256_HEADER)),
                shell_quote(&file.display().to_string()),
                shell_quote(&first.url)
            ));
        }
        return Ok(());
    }
    let backup_id = first.backup.id.to_string();
    let mut first = Some(first);
    let progress = transfer_progress(output);
    let backup_id_ref = &backup_id;
    let backup = transfer::upload(
        &conn.transfers,
        file,
        size,
        &sha256,
        |_attempt| {
            let ready = first.take();
            async move {
                match ready {
                    Some(ticket) => Ok(ticket),
                    None => tickets.renew_upload(scope, service, backup_id_ref).await,
                }
            }
        },
        progress.as_ref(),
    )
    .await?;
    print_uploaded(output, &filename, size, &backup)
}

/// `✅ backup.psqlcustom completed (1.47 mB) with ID …`, as `setops backup:upload` prints it.
fn print_uploaded(output: &Output, filename: &str, size: u64, backup: &Backup) -> Result<()> {
    if output.is_json() {
        output.json(backup);
    } else {
        // One space after the mark here, two after a download's: as the document prints them.
        print_completed(output, "✅ ", filename, size, &backup.id.to_string());
    }
    Ok(())
}

fn current_dir() -> Result<PathBuf> {
    std::env::current_dir().map_err(|e| Error::io("reading the current directory", ".", e))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Single-quotes a word for POSIX shells.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
