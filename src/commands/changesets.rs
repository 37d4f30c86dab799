//! `changeset:info`, `changeset:commit`, `changeset:discard`, and how staged work is shown.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::error::{Error, Result};
use crate::model::{Changeset, ChangesetCommand, Commit, CommitPhase, CommitStatus, Scope};
use crate::platform::Platform;
use crate::ui::{Align, Block, Output, TableBuilder};

use super::context::Context;

pub async fn info(ctx: &Context) -> Result<()> {
    let scope = ctx.scope()?;
    let conn = ctx.connect().await?;
    match conn.platform.changeset(&scope).await? {
        Some(changeset) => print_changeset(&ctx.output, &changeset),
        None => {
            if ctx.output.is_json() {
                ctx.output.json(&json!(null));
            } else {
                ctx.output
                    .line(&format!("Nothing is pending in your changeset of {scope}."));
            }
        }
    }
    Ok(())
}

pub fn print_changeset(output: &Output, changeset: &Changeset) {
    if output.is_json() {
        output.json(changeset);
        return;
    }
    output.line(
        &Block::new()
            .field(
                "Created At",
                changeset
                    .created_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            )
            .render(),
    );
    output.line(&commands_table(&changeset.commands).render());
}

fn commands_table(commands: &[ChangesetCommand]) -> TableBuilder {
    let mut table = TableBuilder::new(&[("NAME", Align::Left), ("ARGUMENTS", Align::Left)]);
    for c in commands {
        table.row(vec![c.name().to_owned(), c.arguments_display()]);
    }
    table
}

/// After staging: what was queued, and how to apply it.
pub fn print_staged(output: &Output, command: &ChangesetCommand, changeset: &Changeset) {
    if output.is_json() {
        output.json(changeset);
        return;
    }
    output.line(&format!(
        "Queued {} {} ({} command(s) pending).",
        command.name(),
        command.arguments_display(),
        changeset.commands.len()
    ));
    output.human("Run `changeset:commit` to apply, or `changeset:discard` to drop.");
}

pub async fn commit(ctx: &Context) -> Result<()> {
    let scope = ctx.scope()?;
    let conn = ctx.connect().await?;
    let pending = conn.platform.changeset(&scope).await?.ok_or_else(|| {
        Error::usage(format!(
            "nothing to commit: your changeset of {scope} is empty (ChangesetDoesNotExist)"
        ))
    })?;
    if !ctx.output.is_json() {
        print_changeset(&ctx.output, &pending);
    }
    let done = commit_and_wait(conn.platform.as_ref(), &scope, &ctx.output).await?;
    if ctx.output.is_json() {
        ctx.output.json(&done);
    } else {
        ctx.output.line("Commit successful!");
    }
    Ok(())
}

/// Starts the commit and follows it until it ends, showing each phase; a failed commit is an
/// error carrying the platform's code and request id.
pub async fn commit_and_wait(
    platform: &dyn Platform,
    scope: &Scope,
    output: &Output,
) -> Result<Commit> {
    let mut commit = platform.commit(scope).await?;
    let spinner = output.interactive.then(|| {
        let s = ProgressBar::new_spinner();
        s.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        s.enable_steady_tick(Duration::from_millis(120));
        s
    });
    let mut last_shown = String::new();
    let mut last_phase: Option<CommitPhase> = None;
    loop {
        // Phases come in order; one that passed between two polls is still shown, so the
        // output always reads Initializing, Planning, Applying.
        let mut texts = Vec::new();
        for phase in [CommitPhase::Initializing, CommitPhase::Planning] {
            if last_phase.is_none_or(|l| l < phase) && phase < commit.phase {
                texts.push(phase_text(&Commit {
                    phase,
                    ..commit.clone()
                }));
            }
        }
        texts.push(phase_text(&commit));
        last_phase = Some(commit.phase);
        for text in texts {
            if text != last_shown {
                match &spinner {
                    Some(s) => s.set_message(text.clone()),
                    None => output.line(&text),
                }
                last_shown = text;
            }
        }
        if commit.status != CommitStatus::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        commit = platform.commit_status(scope, &commit.id).await?;
    }
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    match commit.status {
        CommitStatus::Succeeded => Ok(commit),
        _ => Err(match commit.error.clone() {
            Some(error) => Error::Platform {
                context: format!("committing the changeset of {scope}"),
                status: 200,
                error: Box::new(error),
            },
            None => Error::Internal(format!(
                "the commit of {scope} failed without saying why (commit {}); check changeset:info and commit again",
                commit.id
            )),
        }),
    }
}

/// `◢ Initializing…`, `◤ Planning…`, `◣ Applying… (17/28)` as the SetOps CLI shows them.
fn phase_text(commit: &Commit) -> String {
    match commit.phase {
        CommitPhase::Initializing => "◢ Initializing…".to_owned(),
        CommitPhase::Planning => "◤ Planning…".to_owned(),
        CommitPhase::Applying => format!("◣ Applying… ({}/{})", commit.applied, commit.total),
        CommitPhase::Done => format!("◣ Applying… ({}/{})", commit.total, commit.total),
    }
}

pub async fn discard(ctx: &Context, ignore_not_exist: bool) -> Result<()> {
    let scope = ctx.scope()?;
    let conn = ctx.connect().await?;
    let dropped = conn.platform.discard_changeset(&scope).await?;
    if !dropped && !ignore_not_exist {
        return Err(Error::usage(format!(
            "nothing to discard: your changeset of {scope} is empty (ChangesetDoesNotExist); \
             pass --ignore-not-exist to treat that as success"
        )));
    }
    if ctx.output.is_json() {
        ctx.output.json(&json!({ "discarded": dropped }));
    } else if dropped {
        ctx.output
            .line(&format!("Discarded your changeset of {scope}."));
    } else {
        ctx.output.line(&format!("Nothing was pending in {scope}."));
    }
    Ok(())
}
