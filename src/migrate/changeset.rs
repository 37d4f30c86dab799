//! Staging commands into the user's changeset and committing them, for both stage-wide steps
//! (creating the targets, relinking the apps). Guards: never stage into a changeset holding
//! commands this run did not stage; a commit is followed to its end.

use std::time::{Duration, Instant};

use crate::backoff::Poller;
use crate::error::{Error, Result};
use crate::model::{Changeset, ChangesetCommand, Commit, CommitStatus, codes};

use super::crash::{self, When};
use super::engine::Engine;
use super::events::{Happening, Phase, Step};
use super::journal::{Fact, StepKey};

/// Stages `commands` (the whole list this step needs), resuming a partly staged list. Journal key
/// `stage_key`; crash point `crash_name`. `is_applied` tells whether the commit that follows
/// already went through.
pub async fn stage_all(
    engine: &Engine,
    stage_key: &StepKey,
    crash_name: &str,
    step: Step,
    commands: &[ChangesetCommand],
    is_applied: &impl AsyncFn() -> Result<bool>,
) -> Result<()> {
    if engine.done_fact(stage_key).await.is_some() {
        // Staged work that lived only in an earlier run's process went with it: stage it
        // again, unless its commit went through before that run stopped.
        if engine.platform.staging_outlives_the_run()
            || engine.platform.changeset(&engine.scope).await?.is_some()
            || is_applied().await?
        {
            return Ok(());
        }
    }
    let mut pending = engine.platform.changeset(&engine.scope).await?;
    // An earlier attempt's freeze, staged but never committed, goes: it is staged again when
    // the freeze comes, and nothing of anyone else's is in it.
    if let Some(p) = &pending
        && p.unrecognized.is_empty()
        && !is_prefix(&p.commands, commands)
        && super::freeze::only_freeze_commands(engine, &p.commands)
    {
        engine.platform.discard_changeset(&engine.scope).await?;
        pending = None;
    }
    // What is pending must be a prefix of our list: staged by an earlier attempt of this step
    // (whose journal may be gone, on a fresh CI runner). Anything else is someone else's.
    if let Some(pending) = &pending
        && !(pending.unrecognized.is_empty() && is_prefix(&pending.commands, commands))
    {
        return Err(foreign_changeset(engine, pending));
    }
    let pending = pending.map(|c| c.commands).unwrap_or_default();
    let fact = Fact::Commands {
        commands: commands.to_vec(),
    };
    engine.intent(stage_key, fact.clone()).await?;
    crash::point(crash_name, When::Before);
    for command in &commands[pending.len()..] {
        engine
            .platform
            .stage_command(&engine.scope, command)
            .await?;
    }
    crash::point(crash_name, When::After);
    engine.emit(
        None,
        Some(step),
        Phase::Info,
        Happening::Staged {
            commands: commands.len(),
            scope: engine.scope.clone(),
        },
    );
    engine.done(stage_key, fact).await
}

/// Whether `pending` is the start of `ours` (the empty changeset is).
pub fn is_prefix(pending: &[ChangesetCommand], ours: &[ChangesetCommand]) -> bool {
    pending.len() <= ours.len() && ours[..pending.len()] == pending[..]
}

pub fn foreign_changeset(engine: &Engine, pending: &Changeset) -> Error {
    let listed: Vec<String> = pending
        .commands
        .iter()
        .map(|c| format!("  {} {}", c.name(), c.arguments_display()))
        .chain(pending.unrecognized.iter().map(|c| format!("  {c}")))
        .collect();
    let scoped = &engine.options.invocation.scoped;
    Error::refused(
        "ForeignChangeset",
        format!(
            "your changeset of {} already holds {} command(s) this run did not stage:\n{}\n\
             They would be committed together with the migration. Nothing was staged and they \
             were left untouched. Look at them:\n      {scoped} changeset:info\nthen commit \
             them, or drop them:\n      {scoped} changeset:commit\n      {scoped} \
             changeset:discard\nand run again:\n      {}",
            engine.scope,
            listed.len(),
            listed.join("\n"),
            engine.options.invocation.run
        ),
    )
}

/// Commits the changeset and follows the commit until it ends, emitting its phases. `is_applied`
/// tells, from the platform's state, whether an earlier attempt's commit already went through.
pub async fn commit(
    engine: &Engine,
    commit_key: &StepKey,
    crash_name: &str,
    step: Step,
    deadline: Duration,
    is_applied: &impl AsyncFn() -> Result<bool>,
) -> Result<()> {
    if engine.done_fact(commit_key).await.is_some() {
        return Ok(());
    }
    if let Some(open) = engine.open_intent(commit_key).await {
        if is_applied().await? {
            engine.emit(
                None,
                Some(step),
                Phase::Info,
                Happening::EarlierCommitApplied,
            );
            return engine.done(commit_key, open.fact).await;
        }
        if let Fact::Commit {
            commit_id: Some(id),
        } = open.fact
        {
            let status = engine.platform.commit_status(&engine.scope, &id).await?;
            if status.status == CommitStatus::Running {
                let done = follow(engine, status, step, deadline).await?;
                return engine
                    .done(
                        commit_key,
                        Fact::Commit {
                            commit_id: Some(done.id),
                        },
                    )
                    .await;
            }
        }
    }
    engine
        .intent(commit_key, Fact::Commit { commit_id: None })
        .await?;
    crash::point(crash_name, When::Before);
    let started = match engine.platform.commit(&engine.scope).await {
        Ok(started) => started,
        // An earlier attempt's commit is running or went through while we were away.
        Err(e)
            if matches!(
                e.code(),
                Some(codes::COMMIT_ALREADY_RUNNING | codes::CHANGESET_DOES_NOT_EXIST)
            ) =>
        {
            wait_applied(engine, step, deadline, is_applied, e).await?;
            return engine
                .done(commit_key, Fact::Commit { commit_id: None })
                .await;
        }
        Err(e) => return Err(e),
    };
    engine
        .intent(
            commit_key,
            Fact::Commit {
                commit_id: Some(started.id),
            },
        )
        .await?;
    crash::point(crash_name, When::After);
    let done = follow(engine, started, step, deadline).await?;
    engine
        .done(
            commit_key,
            Fact::Commit {
                commit_id: Some(done.id),
            },
        )
        .await
}

/// Waits until the platform's state shows an earlier attempt's commit applied.
async fn wait_applied(
    engine: &Engine,
    step: Step,
    limit: Duration,
    is_applied: &impl AsyncFn() -> Result<bool>,
    cause: Error,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    let mut poller = Poller::start();
    engine.emit(
        None,
        Some(step),
        Phase::Info,
        Happening::EarlierCommitRunning,
    );
    loop {
        if is_applied().await? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(cause);
        }
        poller.sleep(deadline).await;
    }
}

/// Follows a running commit, emitting each phase once, until it succeeds or fails.
async fn follow(engine: &Engine, commit: Commit, step: Step, limit: Duration) -> Result<Commit> {
    let done = super::commit::follow(
        engine.platform.as_ref(),
        &engine.scope,
        commit,
        Some(limit),
        &mut |p| {
            engine.emit(
                None,
                Some(step),
                Phase::Progress,
                Happening::CommitPhase {
                    phase: p.phase,
                    applied: p.applied,
                    total: p.total,
                },
            )
        },
    )
    .await
    .map_err(|e| match e {
        Error::CommitFailed {
            scope, commit_id, ..
        } => Error::CommitFailed {
            scope,
            commit_id,
            next: format!(
                "check what it holds:\n  {} changeset:info\nthen run the same command again:\n  {}",
                engine.options.invocation.scoped, engine.options.invocation.run
            ),
        },
        e => e,
    })?;
    engine.emit(None, Some(step), Phase::Info, Happening::CommitSucceeded);
    Ok(done)
}
