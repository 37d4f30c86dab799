//! Staging commands into the user's changeset and committing them, for both stage-wide steps
//! (creating the targets, relinking the apps). Guards: never stage into a changeset holding
//! commands this run did not stage; a commit is followed to its end.

use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::{ChangesetCommand, Commit, CommitPhase, CommitStatus};

use super::crash::{self, When};
use super::engine::{Engine, field};
use super::events::{Phase, Step};
use super::poll::Backoff;

/// Stages `commands` (the whole list this step needs), resuming a partly staged list. Journal key
/// `stage_key`; crash point `crash_name`.
pub async fn stage_all(engine: &Engine, stage_key: &str, crash_name: &str, step: Step, commands: &[ChangesetCommand]) -> Result<()> {
    if engine.done_data(stage_key).await.is_some() {
        return Ok(());
    }
    let pending = engine
        .platform
        .changeset(&engine.scope)
        .await?
        .map(|c| c.commands)
        .unwrap_or_default();
    // What is pending must be a prefix of our list, staged by an earlier attempt of this step.
    let ours_so_far = pending.len() <= commands.len() && commands[..pending.len()] == pending[..];
    if !pending.is_empty() && (!ours_so_far || engine.open_intent(stage_key).await.is_none()) {
        return Err(foreign_changeset(engine, &pending));
    }
    engine
        .intent(stage_key, json!({ "commands": commands }))
        .await?;
    crash::point(crash_name, When::Before);
    for command in &commands[pending.len()..] {
        engine.platform.stage_command(&engine.scope, command).await?;
    }
    crash::point(crash_name, When::After);
    engine
        .emit(None, Some(step), Phase::Info, format!("staged {} command(s) in the changeset of {}", commands.len(), engine.scope));
    engine.done(stage_key, json!({ "commands": commands })).await
}

pub fn foreign_changeset(engine: &Engine, pending: &[ChangesetCommand]) -> Error {
    let listed: Vec<String> = pending
        .iter()
        .map(|c| format!("  {} {}", c.name(), c.arguments_display()))
        .collect();
    Error::Decision(format!(
        "your changeset of {} already holds {} command(s) this run did not stage:\n{}\n\
         They would be committed together with the migration. Nothing was staged and they were left \
         untouched: commit or discard them yourself (`changeset:info`, `changeset:discard`), then run again.",
        engine.scope,
        pending.len(),
        listed.join("\n")
    ))
}

/// Commits the changeset and follows the commit until it ends, emitting its phases. `is_applied`
/// tells, from the platform's state, whether an earlier attempt's commit already went through.
pub async fn commit(engine: &Engine, commit_key: &str, crash_name: &str, step: Step, deadline: Duration, is_applied: impl AsyncFnOnce() -> Result<bool>) -> Result<()> {
    if engine.done_data(commit_key).await.is_some() {
        return Ok(());
    }
    if let Some(open) = engine.open_intent(commit_key).await {
        if is_applied().await? {
            engine.emit(None, Some(step), Phase::Info, "the commit of an earlier attempt went through");
            return engine.done(commit_key, open.data).await;
        }
        if let Some(id) = field(&open.data, "commit_id").and_then(|s| s.parse::<Uuid>().ok()) {
            let status = engine.platform.commit_status(&engine.scope, &id).await?;
            if status.status == CommitStatus::Running {
                let done = follow(engine, status, step, deadline).await?;
                return engine.done(commit_key, json!({ "commit_id": done.id })).await;
            }
        }
    }
    engine.intent(commit_key, json!({})).await?;
    crash::point(crash_name, When::Before);
    let started = engine.platform.commit(&engine.scope).await?;
    engine
        .intent(commit_key, json!({ "commit_id": started.id }))
        .await?;
    crash::point(crash_name, When::After);
    let done = follow(engine, started, step, deadline).await?;
    engine.done(commit_key, json!({ "commit_id": done.id })).await
}

/// Polls a running commit, emitting each phase once, until it succeeds or fails.
async fn follow(engine: &Engine, mut commit: Commit, step: Step, limit: Duration) -> Result<Commit> {
    let deadline = Instant::now() + limit;
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(3));
    let mut shown = String::new();
    loop {
        let text = match commit.phase {
            CommitPhase::Applying | CommitPhase::Done => format!("Applying… ({}/{})", commit.applied, commit.total),
            phase => format!("{phase}…"),
        };
        if text != shown {
            engine.emit(None, Some(step), Phase::Progress, format!("commit {}", text));
            shown = text;
        }
        match commit.status {
            CommitStatus::Succeeded => {
                engine.emit(None, Some(step), Phase::Info, "Commit successful!");
                return Ok(commit);
            }
            CommitStatus::Failed => {
                return Err(match commit.error {
                    Some(error) => Error::Platform {
                        context: format!("committing the changeset of {}", engine.scope),
                        status: 200,
                        error,
                    },
                    None => Error::Internal(format!("commit {} of {} failed without a reason", commit.id, engine.scope)),
                });
            }
            CommitStatus::Running => {}
        }
        if Instant::now() >= deadline {
            return Err(Error::Internal(format!(
                "commit {} of {} is still running after {}; run the same command again to keep waiting",
                commit.id,
                engine.scope,
                humantime::format_duration(limit)
            )));
        }
        backoff.sleep(deadline).await;
        commit = engine.platform.commit_status(&engine.scope, &commit.id).await?;
    }
}
