//! `plan:validate`, `run`, `status`: plans in, migrations out.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::RunArgs;
use crate::error::{Error, Result};
use crate::migrate::events::{EventSink, Silent};
use crate::migrate::journal::error::JournalError;
use crate::migrate::journal::{self, Journal, OpenRequest};
use crate::migrate::{self, BackupPreview, Invocation, Preview, RunOptions, Summary, status};
use crate::plan::{BackupChoice, Plan, PlanRejected, load_plan};
use crate::ui::events::RunDisplay;
use crate::ui::{Align, Output, TableBuilder, format_size};
use crate::wizard::{LinePrompter, Prompter, ask_scale};

use super::context::Context;

pub fn validate(ctx: &Context, paths: &[PathBuf]) -> Result<()> {
    let mut problems = 0;
    let mut bad_plans = 0;
    for path in paths {
        match load_plan(path) {
            Ok(plan) => {
                ctx.output.line(&format!(
                    "{}: valid ({} migration(s))",
                    path.display(),
                    plan.migrations.len()
                ));
                print_file_warnings(&plan)?;
            }
            Err(issues) => {
                bad_plans += 1;
                problems += issues.len();
                for issue in issues {
                    eprintln!("{issue}");
                }
            }
        }
    }
    if problems > 0 {
        return Err(Error::Usage(format!(
            "{problems} problem(s) in {bad_plans} plan(s); fix them and validate again"
        )));
    }
    Ok(())
}

/// The compatibility warnings of the plan's `file:` backups whose target type the plan names
/// (the loader refused what a check refuses). Offline: backups on the platform, and files whose
/// type comes from the source, are checked by `run --dry-run`.
fn print_file_warnings(plan: &Plan) -> Result<()> {
    for m in &plan.migrations {
        if let (BackupChoice::File(file), Some(service_type)) = (&m.backup, m.service_type) {
            for finding in crate::compat::assess_file(file, service_type)? {
                eprintln!(
                    "{}: migrations[{}] ({}): {finding}",
                    plan.path.display(),
                    m.index,
                    m.target
                );
            }
        }
    }
    Ok(())
}

/// Loads a plan, turning its issues into one usage error that lists them all.
pub fn load(path: &Path) -> Result<Plan> {
    load_plan(path).map_err(|issues| {
        PlanRejected {
            file: path.to_path_buf(),
            issues,
        }
        .into()
    })
}

pub fn default_state_dir(plan: &Path) -> PathBuf {
    plan.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(".setops-migrate")
}

pub async fn run(ctx: &Context, args: &RunArgs) -> Result<()> {
    let plan = load(&args.plan)?;
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| default_state_dir(&args.plan));
    let conn = ctx.connect().await?;
    if args.dry_run {
        return dry_run(ctx, args, &plan, &state_dir, &conn).await;
    }
    let identity = identity(conn.platform.as_ref(), &plan, &state_dir).await?;
    let finished = !args.restart && journal::finished(&state_dir, &plan, &identity);
    if !finished && !args.unfreeze {
        let preview = migrate::preview(conn.platform.as_ref(), &conn.transfers, &plan).await?;
        // In JSON mode a run's stdout is events only; the preview is a document of a dry run.
        if !ctx.output.is_json() {
            print_preview(&ctx.output, &plan, &preview, false);
        }
        // A refusal stops here, before the question and before anything is created.
        if let Some(refused) = preview.refusal(&plan) {
            return Err(refused);
        }
        confirm(args, &plan, &mut LinePrompter::default())?;
    }
    let invocation = invocation(ctx, args, &plan);
    // A second run of this plan on this platform (however its URL is spelled) stops here.
    let journal = Journal::open(OpenRequest {
        state_dir: &state_dir,
        plan: &plan,
        platform: identity,
        endpoint: conn.platform.endpoint(),
        restart: args.restart,
    })
    .map_err(|e| restart_way_on(e, &invocation))?;
    let run_display = Arc::new(RunDisplay::new(ctx.output));
    let display: Arc<dyn EventSink> = run_display.clone();
    let mut options = run_options(args, invocation);
    let mut journal = Some(journal);
    loop {
        let journal = match journal.take() {
            Some(j) => j,
            None => open_journal(conn.platform.as_ref(), &plan, &state_dir, false).await?,
        };
        let (platform, transfers) = (conn.platform.clone(), conn.transfers.clone());
        let outcome = if args.unfreeze {
            migrate::unfreeze(
                plan.clone(),
                journal,
                platform,
                transfers,
                display.clone(),
                options.clone(),
            )
            .await
            .map(|scales| print_unfrozen(&ctx.output, &plan, &scales))
        } else {
            migrate::run(
                plan.clone(),
                journal,
                platform,
                transfers,
                display.clone(),
                options.clone(),
            )
            .await
            .map(|summary| print_summary(&ctx.output, &summary))
        };
        match outcome {
            Ok(()) => return Ok(()),
            // Asked, never guessed: the scale a frozen app goes back to.
            Err(Error::ScaleUnknown { message, apps }) if std::io::stdin().is_terminal() => {
                eprintln!("{message}");
                let mut prompter = LinePrompter::default();
                for app in apps {
                    let scale = ask_scale(&mut prompter, &app)?;
                    options.scales.insert(app, scale);
                }
            }
            // In a terminal the way on is offered; `--yes` alone never destroys anything.
            Err(Error::TargetNeedsRecreate { message, targets })
                if !options.recreate_target && !args.yes && std::io::stdin().is_terminal() =>
            {
                eprintln!("{message}");
                if !ask_recreate(&mut LinePrompter::default(), &targets)? {
                    return Err(Error::Decision(
                        "not recreated; nothing was uploaded or restored".into(),
                    ));
                }
                options.recreate_target = true;
            }
            Err(e) if run_display.logged(&e) => return Err(Error::Logged(Box::new(e))),
            Err(e) => return Err(e),
        }
    }
}

/// `run --dry-run`: the preview, then every guard the run applies before it changes anything
/// (the journal's lock and plan, each existing target, the user's changeset), so that it exits
/// with the code the run would. Nothing is created or written, on the platform or here.
async fn dry_run(
    ctx: &Context,
    args: &RunArgs,
    plan: &Plan,
    state_dir: &Path,
    conn: &super::context::Connection,
) -> Result<()> {
    let preview = migrate::preview(conn.platform.as_ref(), &conn.transfers, plan).await?;
    print_preview(&ctx.output, plan, &preview, true);
    if let Some(refused) = preview.refusal(plan) {
        return Err(refused);
    }
    let invocation = invocation(ctx, args, plan);
    let journal = Journal::peek(OpenRequest {
        state_dir,
        plan,
        platform: identity(conn.platform.as_ref(), plan, state_dir).await?,
        endpoint: conn.platform.endpoint(),
        restart: args.restart,
    })
    .map_err(|e| restart_way_on(e, &invocation))?;
    let sink: Arc<dyn EventSink> = if ctx.output.is_json() {
        Arc::new(Silent)
    } else {
        Arc::new(RunDisplay::new(ctx.output))
    };
    let options = run_options(args, invocation);
    let doomed = migrate::check_guards(
        plan.clone(),
        journal,
        conn.platform.clone(),
        conn.transfers.clone(),
        sink,
        options,
        &preview,
    )
    .await?;
    if !ctx.output.is_json() {
        for target in doomed {
            ctx.output.line(&format!(
                "{target} would be destroyed and created again, then migrated from the start \
                 (--recreate-target)"
            ));
        }
    }
    Ok(())
}

/// The platform's stable identity; when it cannot be reached, that of a finished run of this
/// very plan last reached at the same URL (so a finished plan says so without the platform).
async fn identity(
    platform: &dyn crate::platform::Platform,
    plan: &Plan,
    state_dir: &Path,
) -> Result<crate::platform::PlatformIdentity> {
    match platform.identity().await {
        Ok(id) => Ok(id),
        Err(e @ Error::Transport { .. }) => {
            journal::finished_identity(state_dir, plan, &platform.endpoint()).ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// Locks and opens the plan's journal on this platform (keyed by its stable identity).
pub async fn open_journal(
    platform: &dyn crate::platform::Platform,
    plan: &Plan,
    state_dir: &Path,
    restart: bool,
) -> Result<Journal> {
    let identity = platform.identity().await?;
    Ok(Journal::open(OpenRequest {
        state_dir,
        plan,
        platform: identity,
        endpoint: platform.endpoint(),
        restart,
    })?)
}

/// A journal that `--restart` moves aside, with the command that does it, as it can be pasted.
fn restart_way_on(e: JournalError, invocation: &Invocation) -> Error {
    let code = match e {
        JournalError::PlanChanged { .. } => "PlanChanged",
        JournalError::Unusable { .. } | JournalError::UnexpectedRecord { .. } => "JournalUnusable",
        e => return e.into(),
    };
    Error::refused(
        code,
        format!(
            "{e}\nTo move it aside and start from what the platform shows:\n  {} --restart",
            invocation.run
        ),
    )
}

/// The command lines a message may suggest, with the connection flags this run was given (the
/// token never: it comes from the environment or `--token-file`).
pub(super) fn invocation(ctx: &Context, args: &RunArgs, plan: &Plan) -> Invocation {
    let g = &ctx.global;
    let mut connection = vec!["setops-migrate".to_owned()];
    #[cfg(feature = "sandbox")]
    if let Some(dir) = &g.sandbox {
        connection.push(format!(
            "--sandbox {}",
            shell_word(&dir.display().to_string())
        ));
    }
    if let Some(api) = &g.api {
        connection.push(format!("--api {}", shell_word(api)));
    }
    if let Some(file) = &g.token_file {
        connection.push(format!(
            "--token-file {}",
            shell_word(&file.display().to_string())
        ));
    }
    match g.platform {
        Some(crate::cli::PlatformKind::Cli) => connection.push("--platform cli".into()),
        Some(crate::cli::PlatformKind::Api) => connection.push("--platform api".into()),
        None => {}
    }
    let connection = connection.join(" ");
    let mut run = format!(
        "{connection} run {}",
        shell_word(&args.plan.display().to_string())
    );
    if let Some(dir) = &args.state_dir {
        run.push_str(&format!(
            " --state-dir {}",
            shell_word(&dir.display().to_string())
        ));
    }
    if args.yes {
        run.push_str(" --yes");
    }
    Invocation {
        run,
        scoped: format!(
            "{connection} -p {} -s {}",
            plan.scope.project, plan.scope.stage
        ),
    }
}

/// `text` as one shell word: as it is when it is plain, else single-quoted.
pub(super) fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn run_options(args: &RunArgs, invocation: Invocation) -> RunOptions {
    RunOptions {
        concurrency: args.concurrency as usize,
        adopt_target: args.adopt_target,
        recreate_target: args.recreate_target,
        verify: !args.no_verify,
        accept_write_gap: args.accept_write_gap,
        scales: Default::default(),
        invocation,
    }
}

/// What `run --unfreeze` did.
fn print_unfrozen(output: &Output, plan: &Plan, scales: &std::collections::BTreeMap<String, u8>) {
    if output.is_json() {
        return; // the `unfrozen` event says it
    }
    if scales.is_empty() {
        output.line("No app of the plan is frozen; nothing was changed.");
    } else {
        output.line(&format!(
            "Unfrozen; nothing was relinked. The next `run {}` freezes the apps again and moves a \
             new backup.",
            plan.path.display()
        ));
    }
}

/// Asks through the prompter; the run itself decided that a terminal is there.
fn ask_recreate(prompter: &mut dyn Prompter, targets: &[String]) -> Result<bool> {
    prompter.confirm(
        &format!(
            "Destroy and recreate {} now, then redo its migration?",
            targets.join(", ")
        ),
        false,
    )
}

fn confirm(args: &RunArgs, plan: &Plan, prompter: &mut dyn Prompter) -> Result<()> {
    if args.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Decision(
            "no terminal to confirm the run on; pass --yes to run without asking (as in CI)".into(),
        ));
    }
    let question = format!(
        "Run {} migration(s) in {}?",
        plan.migrations.len(),
        plan.scope
    );
    if prompter.confirm(&question, false)? {
        Ok(())
    } else {
        Err(Error::Decision("not confirmed; nothing was changed".into()))
    }
}

pub fn print_preview(output: &Output, plan: &Plan, preview: &Preview, dry_run: bool) {
    if output.is_json() {
        output.json(
            &serde_json::json!({ "dry_run": dry_run, "plan": plan.path, "preview": preview }),
        );
        return;
    }
    output.line(&format!(
        "Plan {} for {} ({} migration(s)){}",
        plan.path.display(),
        plan.scope,
        preview.migrations.len(),
        if dry_run {
            " — dry run, nothing will be changed"
        } else {
            ""
        }
    ));
    if !plan.freeze.is_empty() {
        let apps: Vec<&str> = plan.freeze.iter().map(|f| f.app.as_str()).collect();
        output.line(&format!(
            "freeze: {} scaled to 0 before the fresh backups, back at their scales in the \
             relink's commit",
            apps.join(", ")
        ));
    }
    for item in &preview.migrations {
        let r = &item.resolved;
        output.line("");
        output.line(&format!(
            "{} -> {}{}",
            r.source.as_deref().unwrap_or("(local file)"),
            r.target,
            if item.target_exists {
                "  (target exists)"
            } else {
                ""
            }
        ));
        let mut table = TableBuilder::new(&[
            ("ITEM", Align::Left),
            ("VALUE", Align::Left),
            ("FROM", Align::Left),
        ]);
        for line in &r.manifest {
            table.row(vec![
                line.item.clone(),
                line.value.clone(),
                format!("{:?}", line.origin)
                    .to_lowercase()
                    .replace("notcopied", "not copied"),
            ]);
        }
        output.line(&table.render());
        output.line(&format!("backup: {}", backup_text(&item.backup)));
        for finding in &item.findings {
            output.line(&finding.to_string());
        }
        output.line(
            "steps: create target + commit, backup, download, upload, restore, wait, verify, relink (one commit for all apps)",
        );
    }
}

/// The preview's backup line, e.g. `latest backup <id> of files (2026-01-01T00:00:00Z, 4.6 MB)`.
fn backup_text(b: &BackupPreview) -> String {
    let size = |exact: &Option<u64>, shown: &Option<String>| {
        exact
            .map(format_size)
            .or_else(|| shown.clone())
            .unwrap_or_else(|| "size unknown".into())
    };
    match b {
        BackupPreview::LocalFile { path } => format!("local file {}", path.display()),
        BackupPreview::FreshAtRunTime { source } => {
            format!("a fresh backup of {source}, made at run time")
        }
        BackupPreview::Named {
            source,
            id,
            status,
            size: s,
            shown_size,
        } => format!(
            "backup {id} of {source} ({status}, {})",
            size(s, shown_size)
        ),
        BackupPreview::Latest {
            source,
            id,
            created_at,
            size: s,
            shown_size,
        } => format!(
            "latest backup {id} of {source} ({}, {})",
            created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            size(s, shown_size)
        ),
        BackupPreview::NoneCreated { source } => {
            format!("none: {source} has no CREATED backup (use backup: fresh)")
        }
        BackupPreview::Nothing => "none".into(),
    }
}

pub fn print_summary(output: &Output, summary: &Summary) {
    if output.is_json() {
        return; // the run's last event carries the summary
    }
    let mut table = TableBuilder::new(&[
        ("SOURCE", Align::Left),
        ("TARGET", Align::Left),
        ("TYPE", Align::Left),
        ("MOVED", Align::Left),
        ("SIZE", Align::Right),
        ("LINKS", Align::Left),
    ]);
    for row in &summary.rows {
        table.row(vec![
            row.source.clone().unwrap_or_else(|| "(file)".into()),
            row.target.clone(),
            row.service_type.to_string(),
            row.moved.clone(),
            format_size(row.size),
            if row.links.is_empty() {
                "-".into()
            } else {
                row.links.join(", ")
            },
        ]);
    }
    output.line("");
    output.line(&table.render());
    output.line(&if summary.already_done {
        format!(
            "Already done: this plan finished in an earlier run (journal {}). Nothing was changed.",
            summary.journal.display()
        )
    } else {
        format!(
            "Done. The sources were not changed. Journal: {}",
            summary.journal.display()
        )
    });
    if summary.already_done {
        return;
    }
    if let Some(ms) = summary.downtime_ms {
        output.line(&format!(
            "Cutover freeze of {}: downtime {} (freeze to unfreeze).",
            summary.frozen.join(", "),
            crate::ui::happening::downtime_text(ms)
        ));
    }
    let measured: Vec<u64> = summary.rows.iter().filter_map(|r| r.writes_lost).collect();
    let lost: u64 = measured.iter().sum();
    // Without a freeze, a write between verify and the relink would escape the count.
    if !measured.is_empty() && (!summary.frozen.is_empty() || lost > 0) {
        output.line(&format!(
            "{lost} writes lost{}",
            if lost == 0 {
                format!(
                    ": {} of {} target(s) hold exactly their source's data",
                    measured.len(),
                    summary.rows.len()
                )
            } else {
                " (written to the sources after their backups; accepted with \
                 --accept-write-gap)"
                    .to_owned()
            }
        ));
    }
}

pub fn show_status(ctx: &Context, plan: &Path, state_dir: Option<&Path>) -> Result<()> {
    // A journal is found by its plan: a path that names no plan file is a typo, not a plan that
    // never ran.
    match std::fs::metadata(plan) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => {
            return Err(Error::usage(format!(
                "PLAN {} is not a file; give the plan file the run was given",
                plan.display()
            )));
        }
        Err(e) => {
            return Err(Error::usage(format!(
                "PLAN {}: {e}; give the path of the plan file the run was given (its journal is \
                 found beside it)",
                plan.display()
            )));
        }
    }
    let dir = state_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_state_dir(plan));
    let reports = status::read(&dir, plan)?;
    if ctx.output.is_json() {
        ctx.output.json(&reports);
        return Ok(());
    }
    if reports.is_empty() {
        ctx.output.line(&format!(
            "No journal for {} in {}: the plan has not run from here yet.",
            plan.display(),
            dir.display()
        ));
        return Ok(());
    }
    for report in &reports {
        ctx.output.line(&format!(
            "{} ({}/{} on {}, last reached at {}): {}, updated {}",
            report.journal,
            report.project,
            report.stage,
            report.platform,
            report.endpoint,
            if report.finished {
                "finished"
            } else {
                "not finished"
            },
            report.updated_at
        ));
        let mut table = TableBuilder::new(&[
            ("TARGET", Align::Left),
            ("STEP", Align::Left),
            ("STATE", Align::Left),
            ("DETAIL", Align::Left),
        ]);
        for m in &report.migrations {
            for s in &m.steps {
                table.row(vec![
                    m.target.clone(),
                    s.step.as_str().to_owned(),
                    s.state.to_owned(),
                    s.detail.clone(),
                ]);
            }
        }
        ctx.output.line(&table.render());
    }
    Ok(())
}
