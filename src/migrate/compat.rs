//! The compatibility checks of one migration (src/compat) on the bytes it will move: a local
//! file, or the head of the source backup read through its download URL. Run before the target
//! is created (inspect, `--dry-run`), and again when a backup is chosen that was not checked
//! then (`backup: fresh`, or a newer `latest`). Reading is not a side effect: nothing is
//! journaled for it, and a rerun whose inspect step is done does not check again.

use uuid::Uuid;

use crate::compat::{self, Finding, words};
use crate::error::{Error, Result};
use crate::formats::head;
use crate::model::{Backup, BackupStatus, Scope, Service, ServiceType};
use crate::plan::{BackupChoice, Migration, Plan};
use crate::platform::Platform;
use crate::transfer::head::backup_head;

use super::engine::Engine;
use super::events::{Happening, Phase, Step};
use super::inspect::{self, Resolved, latest_created};

/// What was checked before the target exists, and what was found.
pub struct Checked {
    pub findings: Vec<Finding>,
    /// The source backup whose bytes were read, so the backup step need not read it again.
    pub backup: Option<Uuid>,
}

/// The checks of one migration before its target exists: a `file:` backup's head; the source
/// backup that `latest` or an ID names now; for `fresh` (or a backup not CREATED yet) what the
/// types alone tell.
pub async fn before_create(
    platform: &dyn Platform,
    transfers: &reqwest::Client,
    plan: &Plan,
    m: &Migration,
    resolved: &Resolved,
    services: &[Service],
) -> Result<Checked> {
    let source = source_of(m, services);
    let checked = |findings, backup| Checked { findings, backup };
    Ok(match (&m.backup, source) {
        (BackupChoice::File(_), _) => checked(file_findings(plan, m, resolved)?, None),
        (BackupChoice::Fresh, Some(s)) => checked(
            compat::assess_types(s.service_type, resolved.service_type),
            None,
        ),
        (BackupChoice::Id(id), Some(s)) => {
            let backup = platform
                .backup(&plan.scope, &s.name, &id.to_string())
                .await?;
            let findings =
                backup_findings(platform, transfers, &plan.scope, s, &backup, resolved).await?;
            let read = (backup.status == BackupStatus::Created).then_some(backup.id);
            checked(findings, read)
        }
        (BackupChoice::Latest, Some(s)) => {
            let backups = platform.backups(&plan.scope, &s.name).await?;
            match latest_created(&backups) {
                Some(b) => checked(
                    backup_findings(platform, transfers, &plan.scope, s, b, resolved).await?,
                    Some(b.id),
                ),
                // The backup step says that there is none; the types still tell something.
                None => checked(
                    compat::assess_types(s.service_type, resolved.service_type),
                    None,
                ),
            }
        }
        (_, None) => checked(Vec::new(), None),
    })
}

fn source_of<'a>(m: &Migration, services: &'a [Service]) -> Option<&'a Service> {
    m.source
        .as_deref()
        .and_then(|name| inspect::find(services, name))
}

/// A `file:` backup: the wrong format is an error (as before any check); then its head.
pub fn file_findings(plan: &Plan, m: &Migration, resolved: &Resolved) -> Result<Vec<Finding>> {
    inspect::check_file_format(plan, m, resolved)?;
    match &m.backup {
        BackupChoice::File(path) => compat::assess_file(path, resolved.service_type),
        _ => Ok(Vec::new()),
    }
}

/// A source backup: the head of a CREATED one, read through its download URL; for one still
/// being made, what the source's and the target's types tell.
pub async fn backup_findings(
    platform: &dyn Platform,
    transfers: &reqwest::Client,
    scope: &Scope,
    source: &Service,
    backup: &Backup,
    resolved: &Resolved,
) -> Result<Vec<Finding>> {
    if backup.status != BackupStatus::Created {
        return Ok(compat::assess_types(
            source.service_type,
            resolved.service_type,
        ));
    }
    head_findings(
        platform,
        transfers,
        scope,
        &source.name,
        backup.id,
        resolved.service_type,
    )
    .await
}

async fn head_findings(
    platform: &dyn Platform,
    transfers: &reqwest::Client,
    scope: &Scope,
    source: &str,
    backup: Uuid,
    target: ServiceType,
) -> Result<Vec<Finding>> {
    let head = backup_head(
        platform,
        transfers,
        scope,
        source,
        &backup.to_string(),
        head::head_limit(target),
    )
    .await?;
    Ok(compat::assess(
        &head::from_bytes(&head.bytes, head.whole_file),
        target,
    ))
}

/// Emits each finding as an event; a refusal ends the migration with exit 2, saying `after`
/// (what state things are in).
pub fn report(
    engine: &Engine,
    m: &Migration,
    step: Step,
    findings: &[Finding],
    after: &str,
) -> Result<()> {
    for finding in findings {
        let phase = if finding.refuses() {
            Phase::Failed
        } else {
            Phase::Info
        };
        engine.emit(
            Some(&m.target),
            Some(step),
            phase,
            Happening::Compat {
                finding: finding.clone(),
            },
        );
    }
    match refusal(&engine.plan, m, findings, after) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The error (exit 2) for the refusals among `findings`, if any.
pub fn refusal(plan: &Plan, m: &Migration, findings: &[Finding], after: &str) -> Option<Error> {
    let refusals = words::refusals(findings);
    (!refusals.is_empty()).then(|| {
        Error::BackupIncompatible(format!(
            "{}: migrations[{}] ({}): {}; {after}",
            plan.path.display(),
            m.index,
            m.target,
            refusals.join("; ")
        ))
    })
}

/// At the backup step: the chosen source backup, unless inspect read this very backup.
pub async fn chosen_backup(
    engine: &Engine,
    m: &Migration,
    resolved: &Resolved,
    source: &str,
    backup: &Backup,
) -> Result<()> {
    if resolved.checked_backup == Some(backup.id) {
        return Ok(());
    }
    let findings = head_findings(
        engine.platform.as_ref(),
        &engine.transfers,
        &engine.scope,
        source,
        backup.id,
        resolved.service_type,
    )
    .await?;
    report(
        engine,
        m,
        Step::Backup,
        &findings,
        &format!(
            "backup {} of {source} was not downloaded and nothing was restored; target {} \
             was created and holds nothing from this run",
            backup.id, m.target
        ),
    )
}
