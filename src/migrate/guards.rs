//! Before anything is staged: every existing target is assessed against the platform and the
//! journal (src/migrate/reconcile.rs), and the user's changeset must hold nothing this plan
//! would not stage itself.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::{ChangesetCommand, Service};

use super::changeset::{self, is_prefix};
use super::create;
use super::engine::Engine;
use super::events::{Happening, Phase, Step};
use super::inspect::{Resolved, find};
use super::journal::{Fact, MigrationStep, PlanStep, RecordState};
use super::reconcile::{
    Assessment, BackupRow, JournalView, RelinkEvidence, RestoreRecord, assess, confirm,
};
use super::relink;

/// What the run does with one migration's target.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Create it (if missing) and move the data. `adopted`: backups an adopted target held
    /// already (`--adopt-target`), which the restore lands on top of knowingly.
    Proceed { adopted: Vec<Uuid> },
    /// Its data steps finished in an earlier run; only the relink may remain.
    Finished,
    /// Destroy it and redo the migration from a clean target (`--recreate-target`).
    Recreate,
}

/// Assesses every migration's target; stops with exit 3 (naming each ambiguous target and the
/// ways on) unless the run may recreate them.
pub async fn assess_targets(
    engine: &Engine,
    resolved: &[Resolved],
    services: &[Service],
) -> Result<Vec<Decision>> {
    let pending = engine
        .platform
        .changeset(&engine.scope)
        .await?
        .map(|c| c.commands)
        .unwrap_or_default();
    let pending = without_scales(engine, &pending).unwrap_or(pending);
    let relink_staged = !pending.is_empty()
        && is_prefix(&pending, &relink::planned_commands(engine, resolved).await?);
    let mut decisions = Vec::new();
    let mut ambiguous = Vec::new();
    let mut unclaimed = Vec::new();
    for r in resolved {
        let Some(target) = find(services, &r.target) else {
            forget_stale_records(engine, &r.target).await?;
            decisions.push(Decision::Proceed {
                adopted: Vec::new(),
            });
            continue;
        };
        let view = journal_view(engine, &r.target).await;
        let backups = engine.platform.backups(&engine.scope, &r.target).await?;
        let rows: Vec<BackupRow> = backups.iter().map(BackupRow::of).collect();
        let evidence = RelinkEvidence {
            links_in_place: !r.links.is_empty()
                && r.links.iter().all(|l| {
                    target
                        .links
                        .iter()
                        .any(|t| t.app == l.app && t.target() == l.target())
                }),
            staged: relink_staged,
        };
        let assessment = confirm(assess(r, target, &rows, &view, evidence), &backups, &view);
        let decision = match assessment {
            Assessment::Proceed => {
                record_restore_seen(engine, &r.target, &view, &rows).await?;
                Decision::Proceed {
                    adopted: Vec::new(),
                }
            }
            Assessment::Finished { evidence } => {
                record_finished(engine, &r.target, &evidence).await?;
                Decision::Finished
            }
            Assessment::Foreign { why } if engine.options.adopt_target => {
                engine.emit(
                    Some(&r.target),
                    Some(Step::Inspect),
                    Phase::Info,
                    Happening::TargetAdopted { why: why.clone() },
                );
                Decision::Proceed {
                    adopted: rows.iter().map(|b| b.id).collect(),
                }
            }
            Assessment::Foreign { why } => {
                return Err(Error::refused(
                    "TargetNotCreatedByPlan",
                    format!(
                        "target {} exists in {} and was not created by this plan ({why}). Choose \
                         another target name in {}, or restore into it as it is (its configuration \
                         stays as it is, and the data lands on top of what it holds):\n  {} \
                         --adopt-target",
                        r.target,
                        engine.scope,
                        engine.plan.path.display(),
                        engine.options.invocation.run
                    ),
                ));
            }
            Assessment::Unclaimed if engine.options.adopt_target => {
                engine.emit(
                    Some(&r.target),
                    Some(Step::Inspect),
                    Phase::Info,
                    Happening::TargetAdopted {
                        why: "nothing shows that this plan created it".into(),
                    },
                );
                Decision::Proceed {
                    adopted: Vec::new(),
                }
            }
            Assessment::Unclaimed if engine.options.recreate_target => {
                refuse_linked(engine, target)?;
                Decision::Recreate
            }
            Assessment::Unclaimed => {
                unclaimed.push(unclaimed_text(engine, &r.target, !target.links.is_empty()));
                Decision::Proceed {
                    adopted: Vec::new(),
                }
            }
            Assessment::Ambiguous { found } => {
                if engine.options.recreate_target {
                    refuse_linked(engine, target)?;
                    Decision::Recreate
                } else {
                    ambiguous.push((r, target, found, rows, view.clone()));
                    Decision::Proceed {
                        adopted: Vec::new(),
                    }
                }
            }
        };
        decisions.push(decision);
    }
    if ambiguous.is_empty() && unclaimed.is_empty() {
        return Ok(decisions);
    }
    let mut text = Vec::new();
    let mut targets = Vec::new();
    for (r, target, found, rows, view) in ambiguous {
        targets.push(r.target.clone());
        text.push(ambiguous_text(
            engine,
            &r.target,
            !target.links.is_empty(),
            &view,
            &found,
            &rows,
        ));
    }
    if !unclaimed.is_empty() {
        // Nothing shows these were made for this plan: the user decides, never a prompt that
        // offers to destroy them.
        text.extend(unclaimed);
        return Err(Error::refused(
            "TargetUnclaimed",
            format!("{}\nNothing was changed.", text.join("\n\n")),
        ));
    }
    Err(Error::TargetNeedsRecreate {
        message: format!("{}\nNothing was uploaded or restored.", text.join("\n\n")),
        targets,
    })
}

/// Why a target with this plan's configuration that nothing shows this plan made is not used,
/// and the ways on.
fn unclaimed_text(engine: &Engine, target: &str, linked: bool) -> String {
    let run = &engine.options.invocation.run;
    let mut ways = vec![format!(
        "  - it was made for this plan (by hand, or by an earlier run of it) and holds nothing \
         else: use it as it is\n      {run} --adopt-target"
    )];
    if !linked {
        ways.push(format!(
            "  - destroy it and start this migration from a new, empty {target} (no app links \
             it):\n      {run} --recreate-target"
        ));
    }
    ways.push(format!(
        "  - or leave it alone and name another target in {}",
        engine.plan.path.display()
    ));
    format!(
        "target {target} exists in {} with this plan's configuration, but nothing shows that this \
         plan created it: this run's journal has no record of it (it was made by hand, or by an \
         earlier run whose journal is gone). A restore lands on top of whatever it holds. Ways \
         on:\n{}",
        engine.scope,
        ways.join("\n")
    )
}

/// The exit-3 error for one target found ambiguous after the run started.
pub async fn ambiguous(engine: &Engine, target: &str, found: String) -> Error {
    let service = engine.platform.service(&engine.scope, target).await;
    let rows: Vec<BackupRow> = match engine.platform.backups(&engine.scope, target).await {
        Ok(b) => b.iter().map(BackupRow::of).collect(),
        Err(_) => Vec::new(),
    };
    let linked = service.map(|s| !s.links.is_empty()).unwrap_or(false);
    let view = journal_view(engine, target).await;
    Error::TargetNeedsRecreate {
        message: format!(
            "{}\nNothing was restored.",
            ambiguous_text(engine, target, linked, &view, &found, &rows)
        ),
        targets: vec![target.to_owned()],
    }
}

fn ambiguous_text(
    engine: &Engine,
    target: &str,
    linked: bool,
    view: &JournalView,
    found: &str,
    rows: &[BackupRow],
) -> String {
    let invocation = &engine.options.invocation;
    let mut ways = vec![format!(
        "  - destroy {t} and redo this migration from a clean target ({t} was made for this plan \
         and no app links it{}):\n      {} --recreate-target",
        if !linked {
            ""
        } else {
            " — not so: apps link it, so it cannot be recreated"
        },
        invocation.run,
        t = target,
    )];
    if !rows.is_empty() {
        let destroys: Vec<String> = rows
            .iter()
            .map(|b| {
                format!(
                    "      {} --service {} backup:destroy {}",
                    invocation.scoped, target, b.id
                )
            })
            .collect();
        // The journal's own upload and restore records would stop the rerun again: it goes.
        let rerun = if view.upload.is_some() || view.restore != RestoreRecord::NotRequested {
            format!("      {} --restart", invocation.run)
        } else {
            format!("      {}", invocation.run)
        };
        ways.push(format!(
            "  - or, if you know that none of its backups was ever restored (check its data), \
             delete them and run again:\n{}\n{rerun}",
            destroys.join("\n")
        ));
    }
    format!(
        "cannot tell whether target {} in {} already holds data: {found}.\nRestoring now could \
         put the data in twice. Ways on:\n{}",
        target,
        engine.scope,
        ways.join("\n")
    )
}

fn refuse_linked(engine: &Engine, target: &Service) -> Result<()> {
    if target.links.is_empty() {
        return Ok(());
    }
    let apps: BTreeSet<&str> = target.links.iter().map(|l| l.app.as_str()).collect();
    let scoped = &engine.options.invocation.scoped;
    let unlinks: Vec<String> = apps
        .iter()
        .map(|app| format!("  {scoped} --app {app} link:destroy {}", target.name))
        .collect();
    Err(Error::refused(
        "TargetLinked",
        format!(
            "--recreate-target: {} in {} is linked by {}; a linked service is never destroyed. \
             If it really is disposable, unlink it first and commit:\n{}\n  {scoped} \
             changeset:commit",
            target.name,
            engine.scope,
            apps.iter().copied().collect::<Vec<_>>().join(", "),
            unlinks.join("\n")
        ),
    ))
}

/// An open restore intent whose backup is RESTORING now: the evidence that the restore started
/// is recorded at once, before the restore can finish and the evidence with it.
async fn record_restore_seen(
    engine: &Engine,
    target: &str,
    view: &JournalView,
    rows: &[BackupRow],
) -> Result<()> {
    if let RestoreRecord::Requested(id) = view.restore
        && rows
            .iter()
            .any(|b| b.id == id && b.status == crate::model::BackupStatus::Restoring)
    {
        engine
            .done(
                &MigrationStep::Restore.of(target),
                Fact::Restore { upload_id: id },
            )
            .await?;
    }
    Ok(())
}

/// What the journal says about one target, for the rules.
pub async fn journal_view(engine: &Engine, target: &str) -> JournalView {
    let journal = engine.journal.lock().await;
    let upload_record = journal.get(&MigrationStep::Upload.of(target));
    let upload = upload_record.and_then(|r| r.fact.upload_id());
    let known_before_upload = upload_record.and_then(|r| match &r.fact {
        Fact::Upload { known_before, .. } => known_before.clone(),
        _ => None,
    });
    let restore = match (
        journal.get(&MigrationStep::Wait.of(target)),
        journal.get(&MigrationStep::Restore.of(target)),
    ) {
        (Some(w), _) if matches!(w.fact, Fact::RestoreFailed { .. }) => match &w.fact {
            Fact::RestoreFailed { upload_id, error } => RestoreRecord::Failed {
                upload: *upload_id,
                error: error.clone(),
            },
            _ => RestoreRecord::NotRequested,
        },
        (_, Some(r)) => match (r.state, r.fact.upload_id()) {
            (RecordState::Intent, Some(id)) => RestoreRecord::Requested(id),
            (RecordState::Done, Some(id)) => RestoreRecord::Started(id),
            _ => RestoreRecord::NotRequested,
        },
        _ => RestoreRecord::NotRequested,
    };
    JournalView {
        created_by_plan: journal.get(&PlanStep::StageTargets.key()).is_some()
            && journal
                .get(&PlanStep::StageTargets.key())
                .is_some_and(|r| stages_create_of(&r.fact, target)),
        upload,
        known_before_upload,
        restore,
    }
}

fn stages_create_of(fact: &Fact, target: &str) -> bool {
    matches!(fact, Fact::Commands { commands } if commands.iter().any(|c| matches!(c, ChangesetCommand::ServiceCreate { name, .. } if name == target)))
}

/// The data steps of a migration found finished on the platform: recorded as observed so the
/// summary and later runs know, without calling anything again.
async fn record_finished(engine: &Engine, target: &str, evidence: &str) -> Result<()> {
    engine.emit(
        Some(target),
        Some(Step::Restore),
        Phase::Replayed,
        Happening::DataMovedEarlier {
            evidence: evidence.to_owned(),
        },
    );
    for step in [
        MigrationStep::Upload,
        MigrationStep::Restore,
        MigrationStep::Wait,
        MigrationStep::Verify,
    ] {
        let key = step.of(target);
        if engine.done_fact(&key).await.is_none() {
            engine
                .done(
                    &key,
                    Fact::Observed {
                        evidence: evidence.to_owned(),
                    },
                )
                .await?;
        }
    }
    Ok(())
}

/// A target that is gone although the journal recorded work on it (destroyed by a recreate
/// whose bookkeeping a crash cut short, or by hand): its target-side records no longer hold,
/// and a done creation commit must not stop it from being created again.
async fn forget_stale_records(engine: &Engine, target: &str) -> Result<()> {
    let mut stale: Vec<_> = [
        MigrationStep::Upload,
        MigrationStep::Restore,
        MigrationStep::Wait,
        MigrationStep::Verify,
    ]
    .iter()
    .map(|s| s.of(target))
    .collect();
    let journal = engine.journal.lock().await;
    let has_target_records = stale.iter().any(|k| journal.get(k).is_some());
    let creation_done = journal
        .get(&PlanStep::CommitTargets.key())
        .is_some_and(|r| r.state == RecordState::Done);
    drop(journal);
    if !has_target_records && !creation_done {
        return Ok(());
    }
    if creation_done {
        stale.extend([PlanStep::StageTargets.key(), PlanStep::CommitTargets.key()]);
    }
    stale.extend([PlanStep::StageDestroy.key(), PlanStep::CommitDestroy.key()]);
    engine.forget(&stale).await
}

/// Stops before anything is staged when the user's changeset holds commands this plan would not
/// stage itself (a prefix of its own commands is an earlier attempt's, journal or not).
pub async fn check_changeset(
    engine: &Engine,
    resolved: &[Resolved],
    existing: &[Service],
) -> Result<()> {
    let Some(pending) = engine.platform.changeset(&engine.scope).await? else {
        return Ok(());
    };
    let ours = [
        create::commands_for_missing(resolved, existing),
        relink::planned_commands(engine, resolved).await?,
    ];
    // A freeze, unfreeze or relink stages its scale commands last.
    let commands = without_scales(engine, &pending.commands);
    if pending.unrecognized.is_empty()
        && let Some(commands) = commands
        && ours.iter().any(|c| is_prefix(&commands, c))
    {
        return Ok(());
    }
    Err(changeset::foreign_changeset(engine, &pending))
}

/// `commands` without the scale commands of the plan's frozen apps at their end; `None` when a
/// scale command of another app, or one followed by other commands, shows they are not ours.
fn without_scales(engine: &Engine, commands: &[ChangesetCommand]) -> Option<Vec<ChangesetCommand>> {
    let ours = |c: &ChangesetCommand| {
        matches!(c, ChangesetCommand::ScaleSet { app, .. }
            if engine.plan.freeze.iter().any(|f| &f.app == app))
    };
    let first = commands.iter().position(ours).unwrap_or(commands.len());
    commands[first..]
        .iter()
        .all(ours)
        .then(|| commands[..first].to_vec())
}
