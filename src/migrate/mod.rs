//! The engine: carries out a plan's migrations step by step (design.md section 5), journaling
//! every side effect so that running the same command again resumes without doing anything twice.

mod changeset;
pub mod commit;
mod compat;
pub mod crash;
mod create;
mod data;
pub mod engine;
pub mod events;
mod freeze;
mod guards;
pub mod inspect;
pub mod journal;
mod preview;
pub mod reconcile;
mod recreate;
mod relink;
mod restore;
pub mod status;
mod summary;
mod upload;
pub mod verify;

use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::plan::{Migration, Plan};
use crate::platform::Platform;

use engine::Engine;
pub use engine::{Invocation, RunOptions};
use events::{EventSink, Happening, Phase, Step};
use guards::Decision;
use inspect::Resolved;
use journal::{Fact, Journal, MigrationStep};
pub use preview::{BackupPreview, Preview, PreviewItem, preview};
pub use summary::{Summary, SummaryRow};

pub async fn run(
    plan: Plan,
    mut journal: Journal,
    platform: Arc<dyn Platform>,
    transfers: reqwest::Client,
    sink: Arc<dyn EventSink>,
    options: RunOptions,
) -> Result<Summary> {
    let already_done = journal.finished();
    let notes = journal.take_notes();
    let engine = engine(plan, journal, platform, transfers, sink, options);
    for note in notes {
        engine.emit(
            None,
            None,
            Phase::Info,
            Happening::JournalNote { text: note },
        );
    }
    if already_done {
        engine.emit(None, None, Phase::Replayed, Happening::AlreadyFinished);
        return finish(&engine, true).await;
    }
    let failed = match steps(&engine).await {
        Ok(()) => return finish(&engine, false).await,
        Err(Failure::Reported(e)) => e,
        Err(Failure::Unreported(step, e)) => {
            engine.emit_error(None, Some(step), &e);
            e
        }
    };
    if freeze::left_frozen(&engine).await {
        let run = &engine.options.invocation.run;
        engine.emit(
            None,
            Some(Step::Freeze),
            Phase::Info,
            Happening::StillFrozen {
                apps: engine.plan.freeze.iter().map(|f| f.app.clone()).collect(),
                resume: run.clone(),
                unfreeze: format!("{run} --unfreeze"),
            },
        );
    }
    Err(failed)
}

/// `run --unfreeze`: the plan's frozen apps back at their recorded scales, nothing relinked.
/// Returns the scales restored (empty when no app was frozen).
pub async fn unfreeze(
    plan: Plan,
    journal: Journal,
    platform: Arc<dyn Platform>,
    transfers: reqwest::Client,
    sink: Arc<dyn EventSink>,
    options: RunOptions,
) -> Result<std::collections::BTreeMap<String, u8>> {
    let engine = engine(plan, journal, platform, transfers, sink, options);
    let result = freeze::unfreeze(&engine).await;
    if let Err(e) = &result {
        engine.emit_error(None, Some(Step::Freeze), e);
    }
    result
}

fn engine(
    plan: Plan,
    journal: Journal,
    platform: Arc<dyn Platform>,
    transfers: reqwest::Client,
    sink: Arc<dyn EventSink>,
    options: RunOptions,
) -> Engine {
    Engine {
        platform,
        transfers,
        scope: plan.scope.clone(),
        run_id: journal.data().run_id.clone(),
        artifacts: journal.artifacts_dir(),
        plan,
        journal: Mutex::new(journal),
        sink,
        started: Instant::now(),
        options,
    }
}

/// The guards a run applies before it changes anything, for `run --dry-run` after its preview:
/// every existing target assessed against the journal and the platform, then the user's
/// changeset, on a journal that is read but never written (`Journal::peek`). Ends with the error
/// the run would stop with (and so its exit code); what a run would do about a target (adopt it,
/// find its data moved earlier) goes to `sink`. Returns the targets the run would destroy and
/// create again (`--recreate-target`).
pub async fn check_guards(
    plan: Plan,
    journal: Journal,
    platform: Arc<dyn Platform>,
    transfers: reqwest::Client,
    sink: Arc<dyn EventSink>,
    options: RunOptions,
    preview: &Preview,
) -> Result<Vec<String>> {
    if journal.finished() {
        return Ok(Vec::new());
    }
    let engine = engine(plan, journal, platform, transfers, sink, options);
    // As the run resolves them: from the journal's inspect records where it has them.
    let mut resolved = Vec::new();
    for (m, item) in engine.plan.migrations.iter().zip(&preview.migrations) {
        match engine
            .done_fact(&MigrationStep::Inspect.of(&m.target))
            .await
        {
            Some(Fact::Resolved(r)) => resolved.push(*r),
            _ => resolved.push(item.resolved.clone()),
        }
    }
    let services = engine.platform.services(&engine.scope).await?;
    let decisions = guards::assess_targets(&engine, &resolved, &services).await?;
    let doomed: Vec<String> = resolved
        .iter()
        .zip(&decisions)
        .filter(|(_, d)| **d == Decision::Recreate)
        .map(|(r, _)| r.target.clone())
        .collect();
    let existing: Vec<crate::model::Service> = services
        .into_iter()
        .filter(|s| !doomed.contains(&s.name))
        .collect();
    guards::check_changeset(&engine, &resolved, &existing).await?;
    Ok(doomed)
}

/// An error, and whether a `failed` event already told the event stream about it; if not, the
/// step it stopped (the event's `step`).
enum Failure {
    Reported(Error),
    Unreported(Step, Error),
}

/// Tags an error with the step it stopped.
fn at<E: Into<Error>>(step: Step) -> impl FnOnce(E) -> Failure {
    move |e| Failure::Unreported(step, e.into())
}

/// An error of one migration and the step it stopped.
struct StepFailure {
    step: Step,
    error: Error,
}

fn failed_at<E: Into<Error>>(step: Step) -> impl FnOnce(E) -> StepFailure {
    move |e| StepFailure {
        step,
        error: e.into(),
    }
}

async fn steps(engine: &Engine) -> std::result::Result<(), Failure> {
    engine.emit(
        None,
        None,
        Phase::Started,
        Happening::RunStarted {
            plan: engine.plan.path.clone(),
            migrations: engine.plan.migrations.len(),
        },
    );
    let (resolved, services) = preflight_and_inspect(engine).await?;
    // The guards are preflight's (README: the targets, the user's changeset).
    let decisions = guards::assess_targets(engine, &resolved, &services)
        .await
        .map_err(at(Step::Preflight))?;
    let doomed: Vec<&str> = resolved
        .iter()
        .zip(&decisions)
        .filter(|(_, d)| **d == Decision::Recreate)
        .map(|(r, _)| r.target.as_str())
        .collect();
    // The scales to restore are known (or asked for) before anything is changed.
    let data_to_move = decisions.iter().any(|d| *d != Decision::Finished);
    freeze::know_scales(engine, data_to_move)
        .await
        .map_err(at(Step::Preflight))?;
    recreate::recreate(engine, &doomed)
        .await
        .map_err(at(Step::Create))?;
    crate::fsio::create_private_dir(&engine.artifacts)
        .map_err(|e| Error::io("creating the artifact directory", &engine.artifacts, e))
        .map_err(at(Step::Download))?;
    let existing = engine
        .platform
        .services(&engine.scope)
        .await
        .map_err(at(Step::Preflight))?;
    guards::check_changeset(engine, &resolved, &existing)
        .await
        .map_err(at(Step::Preflight))?;
    create::create_targets(engine, &resolved, &existing)
        .await
        .map_err(at(Step::Create))?;

    let work = engine
        .plan
        .migrations
        .iter()
        .zip(&resolved)
        .zip(&decisions)
        .filter_map(|((m, r), d)| match d {
            Decision::Proceed { adopted } => Some((m, r, adopted.as_slice())),
            Decision::Recreate => Some((m, r, &[][..])),
            Decision::Finished => None,
        });
    freeze::freeze(engine, data_to_move)
        .await
        .map_err(at(Step::Freeze))?;
    let results: Vec<Result<()>> = futures_util::stream::iter(work)
        .map(|(m, r, adopted)| async move {
            move_data(engine, m, r, adopted).await.map_err(|f| {
                engine.emit_error(Some(&m.target), Some(f.step), &f.error);
                f.error
            })
        })
        .buffer_unordered(engine.options.concurrency.max(1))
        .collect()
        .await;
    if let Some(first) = results.into_iter().find_map(|r| r.err()) {
        return Err(Failure::Reported(first));
    }
    relink::relink(engine, &resolved)
        .await
        .map_err(at(Step::Relink))?;
    let _ = std::fs::remove_dir(&engine.artifacts);
    engine
        .journal
        .lock()
        .await
        .set_finished(true)
        .map_err(at(Step::Relink))?;
    Ok(())
}

/// The summary, also as the last event (so `--output json` carries it in the event stream).
async fn finish(engine: &Engine, already_done: bool) -> Result<Summary> {
    let summary = summary::summary(engine, already_done).await?;
    engine.emit(
        None,
        None,
        Phase::Done,
        Happening::RunFinished {
            already_done,
            summary: Box::new(summary.clone()),
        },
    );
    Ok(summary)
}

/// Preflight, then each migration resolved and checked for compatibility once, and recorded: a
/// rerun uses the recorded source snapshot (its links are gone from the source after the
/// relink) and is not checked again. Also returns the stage's services as preflight read them.
async fn preflight_and_inspect(
    engine: &Engine,
) -> std::result::Result<(Vec<Resolved>, Vec<crate::model::Service>), Failure> {
    engine.emit(
        None,
        Some(Step::Preflight),
        Phase::Started,
        Happening::PreflightStarted {
            scope: engine.scope.clone(),
        },
    );
    let stage = inspect::preflight(engine.platform.as_ref(), &engine.plan)
        .await
        .map_err(at(Step::Preflight))?;
    engine.emit(
        None,
        Some(Step::Preflight),
        Phase::Done,
        Happening::PreflightDone,
    );
    let mut out = Vec::new();
    for m in &engine.plan.migrations {
        let k = MigrationStep::Inspect.of(&m.target);
        if let Some(Fact::Resolved(r)) = engine.done_fact(&k).await {
            out.push(*r);
            continue;
        }
        let mut r =
            inspect::resolve(&engine.plan, m, &stage.services).map_err(at(Step::Inspect))?;
        let checked = compat::before_create(
            engine.platform.as_ref(),
            &engine.transfers,
            &engine.plan,
            m,
            &r,
            &stage.services,
        )
        .await
        .map_err(at(Step::Inspect))?;
        compat::report(
            engine,
            m,
            Step::Inspect,
            &checked.findings,
            "nothing was created",
        )
        .map_err(Failure::Reported)?;
        r.checked_backup = checked.backup;
        engine.emit(
            Some(&m.target),
            Some(Step::Inspect),
            Phase::Done,
            Happening::Inspected {
                source: m.source.clone(),
                target: m.target.clone(),
                service_type: r.service_type,
            },
        );
        engine
            .done(&k, Fact::Resolved(Box::new(r.clone())))
            .await
            .map_err(at(Step::Inspect))?;
        out.push(r);
    }
    Ok((out, stage.services))
}

/// Backup, download, upload, restore, wait, verify for one migration.
async fn move_data(
    engine: &Engine,
    m: &Migration,
    r: &Resolved,
    adopted: &[uuid::Uuid],
) -> std::result::Result<(), StepFailure> {
    let artifact = data::select_backup(engine, m, r)
        .await
        .map_err(failed_at(Step::Backup))?;
    let file = data::download(engine, m, &artifact)
        .await
        .map_err(failed_at(Step::Download))?;
    let upload = upload::upload(engine, m, &artifact.file, &file)
        .await
        .map_err(failed_at(Step::Upload))?;
    restore::restore(engine, m, upload.id, adopted)
        .await
        .map_err(failed_at(Step::Restore))?;
    restore::wait(engine, m, upload.id)
        .await
        .map_err(failed_at(Step::Wait))?;
    verify::verify(engine, m, artifact.backup_id.as_deref(), &file, &upload)
        .await
        .map_err(failed_at(Step::Verify))?;
    data::discard_artifact(engine, &artifact).map_err(failed_at(Step::Verify))
}
