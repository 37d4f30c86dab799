//! After the restore: prove the target received exactly the bytes that left the source, then,
//! where both services' data can be reached from here, that the target holds the source's data
//! (tables and rows, keys and values, files). Any difference blocks the relink (exit 5).

pub mod activity;
pub mod error;
mod files;
pub mod gap;
mod postgres;
mod redis;

pub use error::VerifyError;

use serde::Serialize;
use serde_json::Value;

use super::journal::{Fact, MigrationStep, Verified};

use crate::api::{ConnectionKind, ServiceConnection};
use crate::error::{Error, Result};
use crate::model::Backup;
use crate::plan::Migration;
use crate::platform::Reachability;

use super::data::FileFacts;
use super::engine::Engine;
use super::events::{Happening, Phase, Step, VerifyOutcome};
pub use crate::verdict::{Cell, DataDiffers, Difference, MatchSummary, ServerVersions, WaysOn};

/// One kind of data's measurement of one service, compared field by field.
trait Fingerprint: Serialize {
    fn differences(source: &Self, target: &Self) -> Vec<Difference>;
    /// What matched (tables and rows, keys, files).
    fn summary(&self) -> MatchSummary;
    /// The version the server reports (`11.22`), for kinds of data a server holds.
    fn server_version(&self) -> Option<&str> {
        None
    }
}

/// One side's data, or why it cannot be reached from here (which is no error by itself).
enum Reach<T> {
    Reached(T),
    Unreachable(String),
}

type Measured<T> = Result<Reach<T>>;

#[cfg(test)]
impl<T> Reach<T> {
    fn reached(self) -> T {
        match self {
            Reach::Reached(t) => t,
            Reach::Unreachable(reason) => panic!("unreachable: {reason}"),
        }
    }

    fn unreachable(self) -> String {
        match self {
            Reach::Reached(_) => panic!("reached, expected unreachable"),
            Reach::Unreachable(reason) => reason,
        }
    }
}

enum DataCheck {
    Matches {
        summary: MatchSummary,
        record: Value,
    },
    Differs(Vec<Difference>),
    NotCompared(String),
}

pub async fn verify(
    engine: &Engine,
    m: &Migration,
    backup_id: Option<&str>,
    file: &FileFacts,
    upload: &Backup,
) -> Result<()> {
    let k = MigrationStep::Verify.of(&m.target);
    if engine.done_fact(&k).await.is_some() {
        engine.emit(
            Some(&m.target),
            Some(Step::Verify),
            Phase::Replayed,
            Happening::VerifiedEarlier,
        );
        return Ok(());
    }
    let checked = check_upload(m, file, upload)?;
    let checksum = checked.iter().any(|c| c == "sha256");
    let mut record = Verified {
        size: file.size,
        sha256: file.sha256.clone(),
        checked,
        data: None,
        data_not_compared: None,
        write_gap: None,
    };
    let outcome = match compare_data(engine, m).await? {
        DataCheck::Matches {
            summary,
            record: data,
        } => {
            record.checked.push("data".into());
            record.data = Some(data);
            VerifyOutcome::DataMatches(summary)
        }
        DataCheck::NotCompared(reason) => {
            record.data_not_compared = Some(reason.clone());
            VerifyOutcome::NotCompared { reason }
        }
        DataCheck::Differs(differences) => match gap::explained(engine, m, &differences).await? {
            Some(gap) if engine.options.accept_write_gap => {
                let source = m.source.clone().unwrap_or_default();
                engine.emit(
                    Some(&m.target),
                    Some(Step::Verify),
                    Phase::Info,
                    Happening::WriteGapAccepted {
                        source: source.clone(),
                        gap: gap.clone(),
                    },
                );
                let reason = format!(
                    "{source} was written to after its backup, and those writes were left \
                     behind (--accept-write-gap)"
                );
                record.write_gap = Some(gap);
                record.data_not_compared = Some(reason.clone());
                VerifyOutcome::NotCompared { reason }
            }
            Some(gap) => return Err(gap::stop(engine, m, &gap).await),
            None => {
                return Err(Error::DataDiffers(Box::new(DataDiffers {
                    scope: engine.scope.clone(),
                    source: m.source.clone().unwrap_or_else(|| "(file)".into()),
                    target: m.target.clone(),
                    backup_id: backup_id.map(str::to_owned),
                    differences,
                    commands: WaysOn {
                        plan: engine.plan.path.clone(),
                        fresh: m.backup == crate::plan::BackupChoice::Fresh,
                        run: engine.options.invocation.run.clone(),
                        scoped: engine.options.invocation.scoped.clone(),
                    },
                })));
            }
        },
    };
    engine.emit(
        Some(&m.target),
        Some(Step::Verify),
        Phase::Done,
        Happening::Verified { outcome, checksum },
    );
    engine.done(&k, Fact::Verified(record)).await
}

/// The target's uploaded backup against the moved file, with what the platform shows of it: an
/// exact size (else the printed one) and a SHA-256 where it reports one. Says what was checked.
fn check_upload(m: &Migration, file: &FileFacts, upload: &Backup) -> Result<Vec<String>> {
    let size_ok = match (upload.size, &upload.shown_size) {
        (Some(size), _) => size == file.size,
        (None, Some(shown)) => crate::units::size_fits(shown, file.size),
        (None, None) => false,
    };
    let sha_ok = upload
        .sha256
        .as_deref()
        .is_none_or(|sha| sha == file.sha256);
    if size_ok && sha_ok {
        let mut checked = vec!["size".to_owned()];
        checked.extend(upload.sha256.is_some().then(|| "sha256".to_owned()));
        return Ok(checked);
    }
    Err(VerifyError::UploadDiffers {
        target: m.target.clone(),
        backup_id: upload.id,
        uploaded_size: upload.size,
        uploaded_sha256: upload.sha256.clone(),
        size: file.size,
        sha256: file.sha256.clone(),
    }
    .into())
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
        (Reach::Reached(from), Reach::Reached(to)) => (from, to),
        (Reach::Unreachable(reason), _) | (_, Reach::Unreachable(reason)) => {
            return Ok(DataCheck::NotCompared(reason));
        }
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
        Happening::Comparing {
            kind: from.kind,
            source: source.to_owned(),
            target: m.target.clone(),
        },
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
async fn connection(engine: &Engine, service: &str, side: &str) -> Measured<ServiceConnection> {
    Ok(
        match engine
            .platform
            .service_connection(&engine.scope, service)
            .await?
        {
            Reachability::Reachable(connection) => Reach::Reached(connection),
            Reachability::NotOffered { reason } => Reach::Unreachable(format!(
                "the platform offers no connection to the {side} {service} ({})",
                crate::redact::redact(&reason)
            )),
        },
    )
}

fn judge<F: Fingerprint>(
    kind: ConnectionKind,
    source: Measured<F>,
    target: Measured<F>,
) -> Result<DataCheck> {
    let (source, target) = match (source?, target?) {
        (Reach::Reached(s), Reach::Reached(t)) => (s, t),
        // The platform gave a connection to both services, so both must answer.
        (Reach::Unreachable(reason), _) | (_, Reach::Unreachable(reason)) => {
            return Err(VerifyError::Unreachable { reason }.into());
        }
    };
    let differences = F::differences(&source, &target);
    if !differences.is_empty() {
        return Ok(DataCheck::Differs(differences));
    }
    let summary = match (source.server_version(), target.server_version()) {
        (Some(s), Some(t)) => source.summary().with_servers(ServerVersions {
            source: s.to_owned(),
            target: t.to_owned(),
        }),
        _ => source.summary(),
    };
    Ok(DataCheck::Matches {
        summary,
        record: record(kind, &source, &target)?,
    })
}

/// What the journal keeps of a match: both measurements, for a later look.
fn record<F: Fingerprint>(kind: ConnectionKind, source: &F, target: &F) -> Result<Value> {
    #[derive(Serialize)]
    struct Record<'a, F> {
        kind: ConnectionKind,
        source: &'a F,
        target: &'a F,
    }
    serde_json::to_value(Record {
        kind,
        source,
        target,
    })
    .map_err(|e| Error::encoding("the verification record", e))
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
