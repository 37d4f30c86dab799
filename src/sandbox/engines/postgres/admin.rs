//! Statements run as the superuser with psql: a service's role and database, and its
//! extensions. Scripts go to psql's stdin, so the passwords they carry are not in argv.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use super::conn::{Endpoint, Login, Superuser, quote_ident, quote_literal};
use crate::sandbox::{Error, Result};

/// Error texts shown to users are cut here (a failing script can print a lot).
pub(crate) const MAX_ERROR: usize = 4096;

/// Creates an empty database owned by a new login role, both named `name`, after dropping
/// leftovers of that name.
pub(crate) fn provision(psql: &Path, su: &Superuser, name: &str, password: &str) -> Result<()> {
    // A server reached through --postgres-url may log DDL (log_statement = ddl): this
    // session's statements, which carry the password, are kept out of its log.
    let mut sql = "SET log_statement = 'none';\n".to_owned();
    sql.push_str(&drop_statements(name));
    sql.push_str(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD {password};\nCREATE DATABASE {role} OWNER {role};\n",
        role = quote_ident(name),
        password = quote_literal(password),
    ));
    run_sql(psql, &su.endpoint, su.login(), &sql, &[])
        .map_err(|e| Error::Engine(format!("creating the database {name:?}: {e}")))
}

/// Ends the sessions of database `name`, drops it and its role. Nothing there is fine.
pub(crate) fn remove(psql: &Path, su: &Superuser, name: &str) -> Result<()> {
    run_sql(psql, &su.endpoint, su.login(), &drop_statements(name), &[])
        .map_err(|e| Error::Engine(format!("dropping the database {name:?}: {e}")))
}

fn drop_statements(name: &str) -> String {
    // Statements of a failing script go to the server log; CREATE ROLE carries a password.
    // DROP DATABASE waits a few seconds for terminated sessions to go.
    format!(
        "SET log_min_error_statement = panic;\n\
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = {lit} AND pid <> pg_backend_pid();\n\
         DROP DATABASE IF EXISTS {role};\n\
         DROP ROLE IF EXISTS {role};\n",
        lit = quote_literal(name),
        role = quote_ident(name),
    )
}

/// Creates each extension of a comma-separated list in database `name`, as role `name` where
/// PostgreSQL lets it (trusted extensions, PG 13+), so the role owns them and a later restore
/// of a dump holding `COMMENT ON EXTENSION` works; as the superuser otherwise. Fails with
/// PostgreSQL's text for an extension the server does not have.
pub(crate) fn create_extensions(psql: &Path, su: &Superuser, name: &str, list: &str) -> Result<()> {
    let mut sql = String::new();
    let mut seen = Vec::new();
    for ext in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if seen.contains(&ext) {
            continue;
        }
        seen.push(ext);
        // SET LOCAL ROLE ends with the block's subtransaction, so the fallback runs as the
        // superuser.
        let body = format!(
            "BEGIN\n  SET LOCAL ROLE {role};\n  CREATE EXTENSION IF NOT EXISTS {ext};\n\
             EXCEPTION WHEN insufficient_privilege THEN\n  CREATE EXTENSION IF NOT EXISTS {ext};\nEND",
            role = quote_ident(name),
            ext = quote_ident(ext),
        );
        let tag = dollar_tag(&body);
        sql.push_str(&format!("DO {tag}\n{body}\n{tag};\n"));
    }
    if sql.is_empty() {
        return Ok(());
    }
    run_sql(
        psql,
        &su.endpoint,
        su.login_to(name),
        &sql,
        &["-v", "VERBOSITY=terse"],
    )
    .map_err(|e| {
        Error::Engine(format!(
            "creating the extensions {list:?} in the database {name:?}: {e}"
        ))
    })
}

/// A dollar-quote tag that does not occur in `body`.
fn dollar_tag(body: &str) -> String {
    (0u32..)
        .map(|n| format!("$sbx{n}$"))
        .find(|tag| !body.contains(tag.as_str()))
        .unwrap_or_else(|| "$sbx$".to_owned())
}

/// Runs `sql` with psql (stopping at the first error); Err is what psql printed, trimmed and
/// cut to `MAX_ERROR`.
pub(crate) fn run_sql(
    psql: &Path,
    endpoint: &Endpoint,
    login: Login<'_>,
    sql: &str,
    extra: &[&str],
) -> Result<()> {
    let mut cmd = endpoint.command(psql, login);
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"])
        .args(extra);
    run_with_input(cmd, sql.as_bytes())
}

/// Feeds `input` to the program's stdin while a thread drains its stderr (so neither side can
/// block on a full pipe), and waits for it.
fn run_with_input(mut cmd: Command, input: &[u8]) -> Result<()> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Engine(format!("could not start {program}: {e}")))?;
    let stderr = child.stderr.take().map(read_capped);
    let write_result = child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(input))
        .transpose();
    let status = child
        .wait()
        .map_err(|e| Error::Engine(format!("waiting for {program}: {e}")))?;
    let text = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    let text = text.trim();
    match (text.is_empty(), write_result) {
        (true, Err(e)) => Err(Error::Engine(format!(
            "{program} failed ({status}); writing its input: {e}"
        ))),
        (true, Ok(_)) => Err(Error::Engine(format!("{program} failed ({status})"))),
        (false, _) => Err(Error::engine(text)),
    }
}

/// Reads a pipe to its end on a thread, keeping the first `MAX_ERROR` bytes.
pub(crate) fn read_capped<R: Read + Send + 'static>(
    mut pipe: R,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        let mut cut = false;
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = MAX_ERROR.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                    cut |= n > room;
                }
            }
        }
        let mut text = String::from_utf8_lossy(&kept).into_owned();
        if cut {
            text.push_str(" [...]");
        }
        text
    })
}
