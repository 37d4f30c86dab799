//! After the restore: prove the target received exactly the bytes that left the source, then,
//! where both services' data can be reached from here, that the target holds the source's data
//! (tables and rows, keys and values, files). Any difference blocks the relink (exit 5).

mod files;
mod postgres;
mod redis;
mod report;

use serde::Serialize;
use serde_json::{Value, json};

use super::journal::{Fact, MigrationStep, Verified};

use crate::api::{ConnectionKind, ServiceConnection};
use crate::error::{Error, Result};
use crate::model::Backup;
use crate::plan::Migration;

use super::data::Artifact;
use super::engine::Engine;
use super::events::{Phase, Step};
use report::{Difference, Subject};

/// What the artifact check covers; always said, so nobody reads more into it.
const BACKUP_MATCHES: &str = "backup matches (size, SHA-256)";

/// One kind of data's measurement of one service, compared field by field.
trait Fingerprint: Serialize {
    fn differences(source: &Self, target: &Self) -> Vec<Difference>;
    /// What matched, e.g. `5 tables, 4,210 rows, 3 sequences, 2 extensions`.
    fn summary(&self) -> String;
}

/// `Ok(Err(reason))`: the data cannot be reached from here, which is no error by itself.
type Measured<T> = Result<std::result::Result<T, String>>;

enum DataCheck {
    Matches { summary: String, record: Value },
    Differs(Vec<Difference>),
    NotCompared(String),
}

pub async fn verify(
    engine: &Engine,
    m: &Migration,
    artifact: &Artifact,
    upload: &Backup,
) -> Result<()> {
    let k = MigrationStep::Verify.of(&m.target);
    if engine.done_fact(&k).await.is_some() {
        engine.emit(
            Some(&m.target),
            Some(Step::Verify),
            Phase::Replayed,
            "verified by an earlier run",
        );
        return Ok(());
    }
    check_artifact(m, artifact, upload)?;
    let mut record = Verified {
        size: artifact.size,
        sha256: artifact.sha256.clone(),
        checked: vec!["size".into(), "sha256".into()],
        data: None,
        data_not_compared: None,
    };
    let message = match compare_data(engine, m).await? {
        DataCheck::Matches {
            summary,
            record: data,
        } => {
            record.checked.push("data".into());
            record.data = Some(data);
            format!("data matches: {summary}; {BACKUP_MATCHES}")
        }
        DataCheck::NotCompared(reason) => message_not_compared(&mut record, reason),
        DataCheck::Differs(differences) => {
            let subject = Subject {
                scope: &engine.scope,
                source: m.source.as_deref().unwrap_or("(file)"),
                target: &m.target,
                backup_id: artifact.backup_id.as_deref(),
            };
            return Err(Error::Verification(report::failure(&subject, &differences)));
        }
    };
    engine.emit(Some(&m.target), Some(Step::Verify), Phase::Done, message);
    engine.done(&k, Fact::Verified(record)).await
}

fn message_not_compared(record: &mut Verified, reason: String) -> String {
    let message = format!("{BACKUP_MATCHES}; data not compared: {reason}");
    record.data_not_compared = Some(reason);
    message
}

/// The target's uploaded backup against the artifact, both as the platform reports them.
fn check_artifact(m: &Migration, artifact: &Artifact, upload: &Backup) -> Result<()> {
    let size_ok = upload.size == Some(artifact.size);
    let sha_ok = upload.sha256.as_deref() == Some(artifact.sha256.as_str());
    if size_ok && sha_ok {
        return Ok(());
    }
    Err(Error::Verification(format!(
        "{}: the target's backup {} ({} bytes, sha256 {}) differs from what left the source \
         ({} bytes, sha256 {}); nothing was relinked",
        m.target,
        upload.id,
        upload
            .size
            .map(|s| s.to_string())
            .unwrap_or_else(|| "?".into()),
        upload.sha256.as_deref().unwrap_or("?"),
        artifact.size,
        artifact.sha256
    )))
}

async fn compare_data(engine: &Engine, m: &Migration) -> Result<DataCheck> {
    if !engine.options.verify {
        return Ok(DataCheck::NotCompared("--no-verify was given".into()));
    }
    let Some(source) = m.source.as_deref() else {
        return Ok(DataCheck::NotCompared(
            "the data came from a local file, so there is no source service to compare with".into(),
        ));
    };
    let connections = (
        connection(engine, source, "source").await?,
        connection(engine, &m.target, "target").await?,
    );
    let (from, to) = match connections {
        (Ok(from), Ok(to)) => (from, to),
        (Err(reason), _) | (_, Err(reason)) => return Ok(DataCheck::NotCompared(reason)),
    };
    if from.kind != to.kind {
        return Ok(DataCheck::NotCompared(format!(
            "the source's data is {} and the target's {}",
            kind_name(from.kind),
            kind_name(to.kind)
        )));
    }
    engine.emit(
        Some(&m.target),
        Some(Step::Verify),
        Phase::Started,
        format!(
            "comparing {} of {source} and {}",
            match from.kind {
                ConnectionKind::Postgresql => "the PostgreSQL tables",
                ConnectionKind::Redis => "the Redis keys",
                ConnectionKind::Directory => "the files",
            },
            m.target
        ),
    );
    let (kind, s, t) = (from.kind, from.url.as_str(), to.url.as_str());
    match kind {
        ConnectionKind::Postgresql => {
            let (a, b) = tokio::join!(
                postgres::measure(s, "source"),
                postgres::measure(t, "target")
            );
            judge(kind, a, b)
        }
        ConnectionKind::Redis => {
            let (a, b) = tokio::join!(redis::measure(s, "source"), redis::measure(t, "target"));
            judge(kind, a, b)
        }
        ConnectionKind::Directory => {
            let (a, b) = tokio::join!(files::measure(s, "source"), files::measure(t, "target"));
            judge(kind, a, b)
        }
    }
}

/// The platform's connection to one side, or why there is none (said with the side and name).
async fn connection(
    engine: &Engine,
    service: &str,
    side: &str,
) -> Result<std::result::Result<ServiceConnection, String>> {
    Ok(engine
        .platform
        .service_connection(&engine.scope, service)
        .await?
        .map_err(|reason| {
            format!(
                "the platform offers no connection to the {side} {service} ({})",
                crate::redact::redact(&reason)
            )
        }))
}

fn judge<F: Fingerprint>(
    kind: ConnectionKind,
    source: Measured<F>,
    target: Measured<F>,
) -> Result<DataCheck> {
    let (source, target) = match (source?, target?) {
        (Ok(s), Ok(t)) => (s, t),
        // The platform gave a connection to both services, so both must answer: a target that
        // cannot be reached (dropped, wrong password) must never be relinked to.
        (Err(reason), _) | (_, Err(reason)) => {
            return Err(Error::Verification(format!(
                "{reason}; the platform says this data is reachable, so nothing was relinked. \
                 Check the service, then run again; pass --no-verify only to relink without \
                 comparing the data"
            )));
        }
    };
    let differences = F::differences(&source, &target);
    if !differences.is_empty() {
        return Ok(DataCheck::Differs(differences));
    }
    Ok(DataCheck::Matches {
        summary: source.summary(),
        record: json!({ "kind": kind, "source": source, "target": target }),
    })
}

fn kind_name(kind: ConnectionKind) -> &'static str {
    match kind {
        ConnectionKind::Postgresql => "PostgreSQL",
        ConnectionKind::Redis => "Redis",
        ConnectionKind::Directory => "files",
    }
}

#[cfg(all(test, feature = "sandbox"))]
mod flow_tests;
#[cfg(all(test, feature = "sandbox"))]
mod postgres_tests;
