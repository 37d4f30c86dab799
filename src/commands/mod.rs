//! One function per command; this file only routes the parsed command line to them.

mod apps;
mod args;
mod backups;
mod changesets;
mod completions;
mod context;
#[cfg(feature = "sandbox")]
mod demo;
#[cfg(feature = "sandbox")]
mod demo_reach;
mod man;
mod meta;
mod plans;
#[cfg(feature = "sandbox")]
mod sandbox;
mod services;
mod wizard;

/// The building blocks' SetOps-shaped renderings and transfers, for the sandbox's `setops` front.
pub use apps::{app_info_block, scale_block, tasks_table};
pub use backups::{
    backup_block, backup_create_block, backup_info_block, backups_table, download_with, upload_with,
};
pub use changesets::commit_and_wait;
pub use changesets::{print_changeset, print_staged};
pub use context::{Connection, Context};
pub use services::{
    env_line, links_table, mask_credentials, names_table, options_table, service_block,
    services_table,
};

#[cfg(feature = "sandbox")]
use crate::cli::SandboxCommand;
use crate::cli::{Cli, Command};
use crate::error::{Error, Result};

/// Runs the command until it ends or Ctrl-C arrives. Most commands are dropped mid-way on Ctrl-C
/// (their bars and spinners cleared) and exit 4; `sandbox serve` stops on it as its way to end
/// (exit 0), and the wizard says itself what an interruption leaves behind.
pub async fn run(cli: Cli) -> Result<()> {
    let ctx = Context::new(cli.global);
    if handles_ctrl_c(&cli.command) {
        return dispatch(&ctx, cli.command).await;
    }
    #[cfg(feature = "sandbox")]
    let temporary_demo = matches!(cli.command, Command::Demo { dir: None });
    #[cfg(not(feature = "sandbox"))]
    let temporary_demo = false;
    match until_interrupted(dispatch(&ctx, cli.command)).await {
        // Nothing of a demo in a temporary directory is left to resume.
        Err(Error::Interrupted) if temporary_demo => Err(Error::Cancelled(
            "interrupted; the demo's temporary sandbox is removed: run the same command again \
             to start over"
                .into(),
        )),
        result => result,
    }
}

fn handles_ctrl_c(command: &Command) -> bool {
    #[cfg(feature = "sandbox")]
    if matches!(command, Command::Sandbox(SandboxCommand::Serve { .. })) {
        return true;
    }
    matches!(command, Command::Wizard(_))
}

/// `work`, or `Error::Interrupted` as soon as Ctrl-C arrives (`work` is dropped first).
pub async fn until_interrupted<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        result = work => result,
        _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
    }
}

async fn dispatch(ctx: &Context, command: Command) -> Result<()> {
    match command {
        Command::Service => services::list(ctx).await,
        Command::ServiceInfo { name } => services::info(ctx, &name).await,
        Command::ServiceCreate {
            name,
            service_type,
            plan,
        } => services::create(ctx, &name, &service_type, plan.as_deref()).await,
        Command::ServiceDestroy { name } => services::destroy(ctx, &name).await,
        Command::OptionList => services::option_list(ctx).await,
        Command::BackupSchedule { hours, weekdays } => {
            services::schedule(ctx, &hours, &weekdays).await
        }
        Command::BackupUnschedule => services::unschedule(ctx).await,
        Command::OptionSet { name, value } => services::option_set(ctx, &name, &value).await,
        Command::OptionUnset { name } => services::option_unset(ctx, &name).await,
        Command::Link => services::link_list(ctx).await,
        Command::LinkCreate {
            service,
            env_key,
            path,
            read_only,
        } => {
            services::link_create(
                ctx,
                &service,
                env_key.as_deref(),
                path.as_deref(),
                read_only,
            )
            .await
        }
        Command::LinkDestroy { service } => services::link_destroy(ctx, &service).await,
        Command::Env { show_secrets } => services::env(ctx, show_secrets).await,
        Command::ChangesetInfo => changesets::info(ctx).await,
        Command::ChangesetCommit => changesets::commit(ctx).await,
        Command::ChangesetDiscard { ignore_not_exist } => {
            changesets::discard(ctx, ignore_not_exist).await
        }
        Command::Backup => backups::list(ctx).await,
        Command::BackupInfo { id } => backups::info(ctx, &id).await,
        Command::BackupCreate => backups::create(ctx).await,
        Command::BackupDownload {
            id,
            force,
            print_url,
        } => backups::download(ctx, &id, force, print_url).await,
        Command::BackupUpload { file, print_url } => backups::upload(ctx, &file, print_url).await,
        Command::BackupRestore { id } => backups::restore(ctx, &id).await,
        Command::BackupDestroy { id } => backups::destroy(ctx, &id).await,
        Command::PlanValidate { plans: paths } => plans::validate(ctx, &paths),
        Command::Run(args) => plans::run(ctx, &args).await,
        Command::Status { plan, state_dir } => plans::show_status(ctx, &plan, state_dir.as_deref()),
        #[cfg(feature = "sandbox")]
        Command::Demo { dir } => demo::demo(ctx, dir.as_deref(), &ctx.engine_config()).await,
        #[cfg(feature = "sandbox")]
        Command::Sandbox(SandboxCommand::Serve {
            dir,
            listen,
            public,
            seed,
            live_apps,
        }) => {
            sandbox::serve(
                &ctx.output,
                &dir,
                sandbox::Listen {
                    addr: listen,
                    public,
                },
                seed.as_deref(),
                &ctx.engine_config(),
                live_apps,
            )
            .await
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(SandboxCommand::Stop { dir }) => sandbox::stop(&ctx.output, &dir).await,
        Command::Wizard(args) => wizard::wizard(ctx, &args).await,
        Command::Completions { shell } => meta::completions(shell),
        Command::Man => meta::man(),
    }
}
