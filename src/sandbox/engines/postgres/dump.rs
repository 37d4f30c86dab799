//! A service's data in and out, as its own role: `pg_dump -Fc` streamed to the backup file,
//! `pg_restore` on top in one transaction, and seed scripts through psql.

use std::io::{self, Write};
use std::path::Path;
use std::process::Stdio;

use super::admin::{read_capped, run_sql};
use super::conn::{Endpoint, Login};
use crate::sandbox::{Error, Result};

/// Streams `pg_dump -Fc` of the login's database into `out`; memory does not grow with the
/// database. A failing pg_dump is an error carrying what it printed.
pub(crate) fn backup(
    pg_dump: &Path,
    endpoint: &Endpoint,
    login: Login<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut cmd = endpoint.command(pg_dump, login);
    // A lock held by an app must not keep the backup CREATING forever.
    cmd.args(["-Fc", "--lock-wait-timeout=120s"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| io::Error::other(format!("could not start {}: {e}", pg_dump.display())))?;
    let stderr = child.stderr.take().map(read_capped);
    let copied = match child.stdout.take() {
        Some(mut stdout) => io::copy(&mut stdout, out).map(|_| ()),
        None => Err(io::Error::other("pg_dump's output was not captured")),
    };
    if copied.is_err() {
        // Our side failed (disk full, say): pg_dump would block on a full pipe forever.
        let _ = child.kill();
    }
    let status = child.wait()?;
    let text = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    copied.map_err(|e| io::Error::new(e.kind(), format!("writing the dump: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "pg_dump failed ({status}): {}",
            text.trim()
        )))
    }
}

/// Restores a custom-format archive into the login's database on top of what is there, in one
/// transaction: a failure changes nothing. Err is what pg_restore printed.
pub(crate) fn restore(
    pg_restore: &Path,
    endpoint: &Endpoint,
    login: Login<'_>,
    archive: &Path,
) -> Result<()> {
    let list = comment_free_list(pg_restore, archive)?;
    let mut cmd = endpoint.command(pg_restore, login);
    // Roles and grants of the source do not exist here; the service role owns what it restores.
    cmd.args(["--single-transaction", "--no-owner", "--no-acl"]);
    if let Some(list) = &list {
        cmd.arg("-L").arg(list.path());
    }
    cmd.arg(archive)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::Engine(format!("could not start {}: {e}", pg_restore.display())))?;
    let stderr = child.stderr.take().map(read_capped);
    let status = child
        .wait()
        .map_err(|e| Error::Engine(format!("waiting for pg_restore: {e}")))?;
    let text = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    match text.trim() {
        "" => Err(Error::Engine(format!(
            "pg_restore failed ({status}) without saying why"
        ))),
        text => Err(Error::engine(text)),
    }
}

/// The archive's table of contents without `COMMENT ON EXTENSION` entries, when it has any:
/// only an extension's owner may comment on it, and an extension only a superuser can create
/// (dblink, pg_stat_statements) is not owned by the service role, so the comment alone would
/// roll the whole restore back. `None` restores everything.
fn comment_free_list(pg_restore: &Path, archive: &Path) -> Result<Option<tempfile::NamedTempFile>> {
    let output = std::process::Command::new(pg_restore)
        .arg("-l")
        .arg(archive)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Engine(format!("could not start {}: {e}", pg_restore.display())))?;
    if !output.status.success() {
        let text = String::from_utf8_lossy(&output.stderr);
        return Err(Error::Engine(match text.trim() {
            "" => format!("pg_restore -l failed ({})", output.status),
            text => text.to_owned(),
        }));
    }
    let toc = String::from_utf8_lossy(&output.stdout);
    if !toc.lines().any(|l| l.contains(" COMMENT - EXTENSION ")) {
        return Ok(None);
    }
    // NamedTempFile is created 0600.
    let mut file = tempfile::NamedTempFile::new()
        .map_err(|e| Error::Engine(format!("writing the restore list: {e}")))?;
    for line in toc.lines().filter(|l| !l.contains(" COMMENT - EXTENSION ")) {
        writeln!(file, "{line}")
            .map_err(|e| Error::Engine(format!("writing the restore list: {e}")))?;
    }
    file.flush()
        .map_err(|e| Error::Engine(format!("writing the restore list: {e}")))?;
    Ok(Some(file))
}

/// Runs a seed script as the login, stopping at its first error.
pub(crate) fn run_script(
    psql: &Path,
    endpoint: &Endpoint,
    login: Login<'_>,
    script: &str,
) -> Result<()> {
    run_sql(psql, endpoint, login, script, &[])
}
