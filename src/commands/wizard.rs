//! `wizard`: asks for one migration on a terminal, shows what `run --dry-run` would show, writes
//! the plan and offers to run it. Without a terminal it runs only when the flags answer every
//! question that has no default; otherwise it says which flags (or plan keys) are missing.

use std::io::IsTerminal;

use crate::cli::{self, RunArgs};
use crate::error::{Error, Result};
use crate::migrate;
use crate::wizard::{
    DialoguerPrompter, Prompter, Unattended, WizardArgs, WizardPlan, build_plan,
    missing_for_unattended, write_plan,
};

use super::context::Context;
use super::plans::{invocation, print_preview, run};
use super::until_interrupted;

fn wizard_args(ctx: &Context, flags: &cli::WizardArgs) -> WizardArgs {
    WizardArgs {
        project: ctx.global.project.clone(),
        stage: ctx.global.stage.clone(),
        source: flags.source.clone(),
        target: flags.target.clone(),
        service_type: flags.service_type.clone(),
        plan: flags.plan.clone(),
        backup: flags.backup.clone(),
        wait_timeout: flags.wait_timeout.clone(),
        out: flags.out.clone(),
        freeze: flags.freeze.clone(),
        no_freeze: flags.no_freeze,
    }
}

fn no_terminal(missing: &[(&str, &str)]) -> Error {
    let flags: Vec<&str> = missing.iter().map(|(flag, _)| *flag).collect();
    let keys: Vec<&str> = missing.iter().map(|(_, key)| *key).collect();
    Error::Decision(format!(
        "the wizard needs a terminal to ask for {}; in CI write a plan (see plans/examples/; \
         keys {}) and use `run PLAN --yes`, or pass {} so the other questions take their defaults",
        flags.join(", "),
        keys.join(", "),
        flags.join(", ")
    ))
}

/// What Ctrl-C or Esc means before the plan is written: nothing was left behind.
fn nothing_written(e: Error) -> Error {
    match e {
        Error::Interrupted => Error::Cancelled(
            "interrupted; no plan was written and nothing was changed: run the same command \
             again to start over"
                .into(),
        ),
        e => e,
    }
}

pub async fn wizard(ctx: &Context, flags: &cli::WizardArgs) -> Result<()> {
    let args = wizard_args(ctx, flags);
    // A typo fails before a platform is reached (or a sandbox started).
    crate::wizard::flags::Flags::parse(&args)?;
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !terminal {
        let missing = missing_for_unattended(&args);
        if !missing.is_empty() {
            return Err(no_terminal(&missing));
        }
    }
    // Ctrl-C inside a prompt raises SIGINT; with tokio's handler in place it cannot kill the
    // process before the prompt returns Interrupted (exit 4, nothing written).
    let _sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| Error::Internal(format!("installing the Ctrl-C handler: {e}")))?;

    let (made, run_now) = until_interrupted(ask(ctx, &args, terminal))
        .await
        .map_err(nothing_written)?;
    write_plan(&made.path, &made.yaml)?;
    ctx.output.note(&format!("Wrote {}", made.path.display()));
    let run_args = RunArgs {
        plan: made.path.clone(),
        dry_run: false,
        yes: true,
        concurrency: 2,
        state_dir: None,
        restart: false,
        recreate_target: false,
        adopt_target: false,
        no_verify: false,
        accept_write_gap: false,
        unfreeze: false,
    };
    let again = invocation(ctx, &run_args, &made.plan).run;
    if !run_now {
        ctx.output.note(&format!("Run it when ready: {again}"));
        return Ok(());
    }
    until_interrupted(run(ctx, &run_args))
        .await
        .map_err(|e| match e {
            Error::Interrupted => Error::Cancelled(format!(
                "interrupted; {} is written and its journal kept, nothing half-done is lost: \
                 resume with {again}",
                made.path.display()
            )),
            e => e,
        })
}

/// The questions, the summary `run --dry-run` would show, and whether to run the plan now.
async fn ask(ctx: &Context, args: &WizardArgs, terminal: bool) -> Result<(WizardPlan, bool)> {
    let conn = ctx.connect().await?;
    let platform = conn.platform.as_ref();
    let mut dialoguer;
    let mut unattended = Unattended;
    let prompter: &mut dyn Prompter = if terminal {
        dialoguer = DialoguerPrompter::new();
        &mut dialoguer
    } else {
        &mut unattended
    };
    let made = build_plan(platform, prompter, args).await?;
    let preview = migrate::preview(platform, &conn.transfers, &made.plan).await?;
    print_preview(&ctx.output, &made.plan, &preview, false);
    // Asked before the plan is written, so Ctrl-C here still leaves nothing behind.
    let run_now = terminal && prompter.confirm("Run this plan now?", false)?;
    Ok((made, run_now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_terminal_the_missing_flags_and_keys_are_named() {
        let missing = missing_for_unattended(&WizardArgs {
            project: Some("shop".into()),
            stage: Some("production".into()),
            ..WizardArgs::default()
        });
        let err = no_terminal(&missing);
        assert_eq!(err.exit_code(), crate::error::exit::DECISION_NEEDED);
        let text = err.to_string();
        assert!(
            text.contains("needs a terminal to ask for --source, --target"),
            "{text}"
        );
        assert!(
            text.contains("migrations[].source, migrations[].target"),
            "{text}"
        );
        assert!(text.contains("run PLAN --yes"), "{text}");
    }
}
