//! Following a commit until it ends: one helper for the engine's commits and `changeset:commit`.
//! It reports each new phase as a typed [`CommitProgress`]; how that looks is the caller's UI.

use std::time::{Duration, Instant};

use crate::backoff::Poller;
use crate::error::{Error, Result};
use crate::model::{Commit, CommitPhase, CommitStatus, Scope};
use crate::platform::Platform;

/// Where a commit stands, as shown: `Done` reads as the last `Applying` count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitProgress {
    pub phase: CommitPhase,
    pub applied: u32,
    pub total: u32,
}

impl CommitProgress {
    fn of(commit: &Commit) -> Self {
        let phase = match commit.phase {
            CommitPhase::Done => CommitPhase::Applying,
            phase => phase,
        };
        CommitProgress {
            phase,
            applied: commit.applied,
            total: commit.total,
        }
    }
}

/// Polls a running commit, calling `seen` once per new progress, until it succeeds (the final
/// commit) or fails (an error carrying the platform's code and request id). `limit` bounds the
/// wait; `None` follows the commit however long it takes.
pub async fn follow(
    platform: &dyn Platform,
    scope: &Scope,
    mut commit: Commit,
    limit: Option<Duration>,
    seen: &mut (dyn FnMut(CommitProgress) + Send),
) -> Result<Commit> {
    let started = Instant::now();
    // Far enough to never end the wait, near enough not to overflow an Instant.
    let deadline = started + limit.unwrap_or(Duration::from_secs(365 * 24 * 3600));
    let mut poller = Poller::start();
    let mut shown: Option<CommitProgress> = None;
    loop {
        let progress = CommitProgress::of(&commit);
        if shown != Some(progress) {
            seen(progress);
            shown = Some(progress);
        }
        match commit.status {
            CommitStatus::Succeeded => return Ok(commit),
            CommitStatus::Failed => {
                return Err(match commit.error {
                    Some(error) => Error::Platform {
                        context: format!("committing the changeset of {scope}"),
                        status: 200,
                        error: Box::new(error),
                    },
                    None => Error::CommitFailed {
                        scope: scope.clone(),
                        commit_id: commit.id,
                        next: "check `changeset:info`, then run the same command again".into(),
                    },
                });
            }
            CommitStatus::Running => {}
        }
        if let Some(limit) = limit
            && Instant::now() >= deadline
        {
            return Err(Error::CommitStillRunning {
                scope: scope.clone(),
                commit_id: commit.id,
                waited: limit,
            });
        }
        poller.sleep(deadline).await;
        commit = platform.commit_status(scope, &commit.id).await?;
    }
}
