//! The run's summary: one row per migration, read from the journal.

use crate::error::Result;
use crate::model::ServiceType;

pub use super::events::{Summary, SummaryRow};

use super::engine::Engine;
use super::journal::{Fact, MigrationStep, PlanStep};

pub async fn summary(engine: &Engine, already_done: bool) -> Result<Summary> {
    let journal = engine.journal.lock().await;
    let fact = |step: MigrationStep, target: &str| journal.get(&step.of(target)).map(|r| &r.fact);
    let mut rows = Vec::new();
    for m in &engine.plan.migrations {
        let resolved = match fact(MigrationStep::Inspect, &m.target) {
            Some(Fact::Resolved(r)) => Some(r),
            _ => None,
        };
        let artifact = match fact(MigrationStep::Backup, &m.target) {
            Some(Fact::Artifact(a)) => Some(a),
            _ => None,
        };
        rows.push(SummaryRow {
            source: m.source.clone(),
            target: m.target.clone(),
            service_type: resolved
                .map(|r| r.service_type)
                .or(m.service_type)
                .unwrap_or(ServiceType::Volume),
            moved: artifact
                .map(|a| {
                    a.backup_id
                        .clone()
                        .unwrap_or_else(|| a.file.display().to_string())
                })
                .unwrap_or_default(),
            // The downloaded file's size where the platform gave no exact one beforehand.
            size: match fact(MigrationStep::Download, &m.target) {
                Some(Fact::Downloaded { size, .. }) => *size,
                _ => artifact.and_then(|a| a.size).unwrap_or(0),
            },
            upload_id: fact(MigrationStep::Upload, &m.target)
                .and_then(Fact::upload_id)
                .map(|id| id.to_string())
                .unwrap_or_default(),
            writes_lost: match fact(MigrationStep::Verify, &m.target) {
                Some(Fact::Verified(v)) if v.write_gap.is_some() => {
                    v.write_gap.as_ref().map(|g| g.writes)
                }
                Some(Fact::Verified(v)) if v.data.is_some() => Some(0),
                _ => None,
            },
            links: resolved
                .map(|r| {
                    r.links
                        .iter()
                        .map(|l| format!("{} ({})", l.app, l.target()))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    let plan_fact = |step: PlanStep| journal.get(&step.key()).map(|r| &r.fact);
    let downtime_ms = match (plan_fact(PlanStep::Frozen), plan_fact(PlanStep::Relink)) {
        (
            Some(Fact::Frozen { at_ms }),
            Some(Fact::Relinked {
                unfrozen_at_ms: Some(until),
                ..
            }),
        ) => Some(until.saturating_sub(*at_ms)),
        _ => None,
    };
    Ok(Summary {
        run_id: engine.run_id.clone(),
        journal: journal.path().to_path_buf(),
        already_done,
        rows,
        frozen: engine.plan.freeze.iter().map(|f| f.app.clone()).collect(),
        downtime_ms,
    })
}
