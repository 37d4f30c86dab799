//! One function per command; this file only routes the parsed command line to them.

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
pub use backups::{
    backup_block, backup_create_block, backup_info_block, backups_table, download_with, upload_with,
};
pub use changesets::commit_and_wait;
pub use changesets::{print_changeset, print_staged};
pub use context::{Connection, Context};
pub use services::{
    env_line, links_table, mask_credentials, names_table, service_block, services_table,
};

#[cfg(feature = "sandbox")]
use crate::cli::SandboxCommand;
use crate::cli::{Cli, Command};
use crate::error::Result;

pub async fn run(cli: Cli) -> Result<()> {
    let ctx = Context::new(cli.global);
    match cli.command {
        Command::Service => services::list(&ctx).await,
        Command::ServiceInfo { name } => services::info(&ctx, &name).await,
        Command::ServiceCreate {
            name,
            service_type,
            plan,
        } => services::create(&ctx, &name, &service_type, plan.as_deref()).await,
        Command::ServiceDestroy { name } => services::destroy(&ctx, &name).await,
        Command::OptionSet { name, value } => services::option_set(&ctx, &name, &value).await,
        Command::OptionUnset { name } => services::option_unset(&ctx, &name).await,
        Command::Link => services::link_list(&ctx).await,
        Command::LinkCreate {
            service,
            env_key,
            path,
            read_only,
        } => {
            services::link_create(
                &ctx,
                &service,
                env_key.as_deref(),
                path.as_deref(),
                read_only,
            )
            .await
        }
        Command::LinkDestroy { service } => services::link_destroy(&ctx, &service).await,
        Command::Env { show_secrets } => services::env(&ctx, show_secrets).await,
        Command::ChangesetInfo => changesets::info(&ctx).await,
        Command::ChangesetCommit => changesets::commit(&ctx).await,
        Command::ChangesetDiscard { ignore_not_exist } => {
            changesets::discard(&ctx, ignore_not_exist).await
        }
        Command::Backup => backups::list(&ctx).await,
        Command::BackupInfo { id } => backups::info(&ctx, &id).await,
        Command::BackupCreate => backups::create(&ctx).await,
        Command::BackupDownload {
            id,
            force,
            print_url,
        } => backups::download(&ctx, &id, force, print_url).await,
        Command::BackupUpload { file, print_url } => backups::upload(&ctx, &file, print_url).await,
        Command::BackupRestore { id } => backups::restore(&ctx, &id).await,
        Command::BackupDestroy { id } => backups::destroy(&ctx, &id).await,
        Command::PlanValidate { plans: paths } => plans::validate(&ctx, &paths),
        Command::Run(args) => plans::run(&ctx, &args).await,
        Command::Status { plan, state_dir } => {
            plans::show_status(&ctx, &plan, state_dir.as_deref())
        }
        #[cfg(feature = "sandbox")]
        Command::Demo { dir } => demo::demo(&ctx, dir.as_deref(), &ctx.engine_config()).await,
        #[cfg(feature = "sandbox")]
        Command::Sandbox(SandboxCommand::Serve {
            dir,
            listen,
            public,
            seed,
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
            )
            .await
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(SandboxCommand::Stop { dir }) => sandbox::stop(&ctx.output, &dir).await,
        Command::Wizard(args) => wizard::wizard(&ctx, &args).await,
        Command::Completions { shell } => meta::completions(shell),
        Command::Man => meta::man(),
    }
}
