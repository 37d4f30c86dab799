//! `changeset:info`, `changeset:commit`, `changeset:discard`, and how staged work is shown.

use serde_json::json;

use crate::error::{Error, Result};
use crate::model::{Changeset, ChangesetCommand, Commit, Scope, codes};
use crate::platform::Platform;
use crate::ui::commit::CommitDisplay;
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
        Error::NoChangeset(format!(
            "nothing to commit: your changeset of {scope} is empty ({})",
            codes::CHANGESET_DOES_NOT_EXIST
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
    let started = platform.commit(scope).await?;
    let mut display = CommitDisplay::new(*output);
    crate::migrate::commit::follow(platform, scope, started, None, &mut |p| display.show(p)).await
}

pub async fn discard(ctx: &Context, ignore_not_exist: bool) -> Result<()> {
    let scope = ctx.scope()?;
    let conn = ctx.connect().await?;
    let dropped = conn.platform.discard_changeset(&scope).await?;
    if !dropped && !ignore_not_exist {
        return Err(Error::NoChangeset(format!(
            "nothing to discard: your changeset of {scope} is empty ({}); pass \
             --ignore-not-exist to treat that as success",
            codes::CHANGESET_DOES_NOT_EXIST
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
