//! Command-line definitions only (clap). Names and scope flags follow the `setops` CLI so its users
//! feel at home: `-p/-s` scope, `--service`/`--app`, `noun:verb` commands.

#[cfg(feature = "sandbox")]
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::ui::OutputFormat;

/// The end of `--help`. The connection line names `--sandbox` only in builds that have it.
macro_rules! exit_codes_help {
    () => {
        "Exit codes: 0 done, 1 a step failed, 2 usage or invalid input, 3 a decision is needed, \
         4 interrupted, 5 verification failed, 78 nothing pending for changeset:commit or \
         changeset:discard (as setops)."
    };
}
#[cfg(feature = "sandbox")]
const AFTER_HELP: &str = concat!(
    "Connection: --sandbox DIR, or --api URL (env SETOPS_API_URL) with a token from env \
     SETOPS_TOKEN or --token-file FILE.\n",
    exit_codes_help!()
);
#[cfg(not(feature = "sandbox"))]
const AFTER_HELP: &str = concat!(
    "Connection: --api URL (env SETOPS_API_URL) with a token from env SETOPS_TOKEN or \
     --token-file FILE.\n",
    exit_codes_help!()
);

/// Headings of the global options in every `--help`: below each command's own options, so
/// those come first.
const SCOPE: &str = "Scope options (any command)";
const CONNECTION: &str = "Connection options (any command)";
const OUTPUT: &str = "Output options (any command)";

#[derive(Debug, Parser)]
#[command(
    name = "setops-migrate",
    version,
    about = "Move data into new SetOps services: restore-to-new-service, end to end, resumable",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Project name
    #[arg(
        short = 'p',
        long,
        global = true,
        value_name = "PROJECT",
        help_heading = SCOPE
    )]
    pub project: Option<String>,
    /// Stage name
    #[arg(short = 's', long, global = true, value_name = "STAGE", help_heading = SCOPE)]
    pub stage: Option<String>,
    /// Service the command acts on (backup and option commands)
    #[arg(long, global = true, value_name = "NAME", help_heading = SCOPE)]
    pub service: Option<String>,
    /// App the command acts on (link and env commands)
    #[arg(long, global = true, value_name = "NAME", help_heading = SCOPE)]
    pub app: Option<String>,
    /// SetOps-style API base URL [env: SETOPS_API_URL]
    #[arg(long, global = true, value_name = "URL", help_heading = CONNECTION)]
    pub api: Option<String>,
    /// How to reach SetOps: `cli` runs the setops CLI (SETOPS_BIN, else setops on PATH; the
    /// default when setops is on PATH and neither --api nor --sandbox is given), `api` speaks
    /// HTTP to --api or a sandbox
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "KIND",
        help_heading = CONNECTION
    )]
    pub platform: Option<PlatformKind>,
    /// File holding the API token (else env SETOPS_TOKEN)
    #[arg(long, global = true, value_name = "FILE", help_heading = CONNECTION)]
    pub token_file: Option<PathBuf>,
    /// Use the sandbox whose state lives in DIR, starting it in the background when none runs
    #[cfg(feature = "sandbox")]
    #[arg(long, global = true, value_name = "DIR", help_heading = CONNECTION)]
    pub sandbox: Option<PathBuf>,
    /// PostgreSQL superuser URL a sandbox keeps its databases in, instead of running its own
    /// clusters; `11=URL 13=URL` gives each version its own (used when a sandbox starts;
    /// remembered in its directory)
    #[cfg(feature = "sandbox")]
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "SETOPS_SANDBOX_POSTGRES_URL",
        hide_env_values = true,
        help_heading = CONNECTION
    )]
    pub postgres_url: Option<String>,
    /// Output format
    #[arg(
        short = 'o',
        long,
        global = true,
        value_enum,
        default_value_t = OutputFormat::Human,
        help_heading = OUTPUT
    )]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlatformKind {
    /// The SetOps-style HTTP API (--api URL, or the sandbox's own server)
    Api,
    /// The setops CLI (with --sandbox: the sandbox's setops-compatible front)
    Cli,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the services of a stage
    #[command(name = "service")]
    Service,
    /// Show a service: type, plan, links, options, backup schedule
    #[command(name = "service:info")]
    ServiceInfo {
        /// Service name
        name: String,
    },
    /// Queue the creation of a service in your changeset
    #[command(name = "service:create")]
    ServiceCreate {
        /// Name of the new service
        name: String,
        /// Service type (postgresql11, postgresql13, s3, redis6, volume, elasticsearch7, mongodb4;
        /// CLI 2.x also postgresql14, postgresql15, postgresql16, redis7)
        #[arg(long = "type", value_name = "TYPE")]
        service_type: String,
        /// Plan (for example shared, db.t3.micro, cache.t3.micro)
        #[arg(long)]
        plan: Option<String>,
    },
    /// Queue the destruction of a service in your changeset (its data is gone once committed);
    /// refused while any app links it
    #[command(name = "service:destroy")]
    ServiceDestroy {
        /// Name of the service to destroy
        name: String,
    },
    /// List the options of the service given with --service (committed state)
    #[command(name = "option")]
    OptionList,
    /// Queue setting an option of the service given with --service
    #[command(name = "option:set")]
    OptionSet {
        /// Option name
        name: String,
        /// Option value
        value: String,
    },
    /// Queue removing an option of the service given with --service
    #[command(name = "option:unset")]
    OptionUnset {
        /// Option name
        name: String,
    },
    /// Queue a backup schedule for the service given with --service: a backup every day (or on
    /// the given weekdays) at each given hour, UTC, at a random minute inside the hour
    #[command(name = "backup:schedule")]
    BackupSchedule {
        /// Hour of the day, 0 to 23 (UTC); repeat for more than one
        #[arg(
            long = "hour",
            value_name = "H",
            required = true,
            value_parser = clap::value_parser!(u8).range(0..=23)
        )]
        hours: Vec<u8>,
        /// Weekday (Mon to Sun, or its full name); repeat for more; every day when left out
        #[arg(long = "weekday", visible_alias = "day", value_name = "DAY")]
        weekdays: Vec<String>,
    },
    /// Queue removing the backup schedule of the service given with --service
    #[command(name = "backup:unschedule")]
    BackupUnschedule,
    /// List the service links of the app given with --app
    #[command(name = "link")]
    Link,
    /// Queue a link from the app given with --app to a service
    #[command(name = "link:create")]
    LinkCreate {
        /// Service to link
        service: String,
        /// Environment variable that receives the service's URL
        #[arg(
            long,
            value_name = "KEY",
            required_unless_present = "path",
            conflicts_with = "path"
        )]
        env_key: Option<String>,
        /// Mount path (volumes only)
        #[arg(long, value_name = "PATH")]
        path: Option<String>,
        /// Mount read-only (with --path)
        #[arg(long)]
        read_only: bool,
    },
    /// Queue removing the link from the app given with --app to a service
    #[command(name = "link:destroy")]
    LinkDestroy {
        /// Linked service
        service: String,
    },
    /// Show what the app given with --app receives from its links
    #[command(name = "env")]
    Env {
        /// Show credentials in URLs instead of masking them
        #[arg(long)]
        show_secrets: bool,
    },
    /// Show your pending changeset
    #[command(name = "changeset:info")]
    ChangesetInfo,
    /// Commit your pending changeset and wait until it is applied (exit 78 when nothing is
    /// pending, as setops)
    #[command(name = "changeset:commit")]
    ChangesetCommit,
    /// Drop every command of your pending changeset (exit 78 when nothing is pending, as setops)
    #[command(name = "changeset:discard")]
    ChangesetDiscard {
        /// Succeed when nothing is pending
        #[arg(long)]
        ignore_not_exist: bool,
    },
    /// List the backups of the service given with --service
    #[command(name = "backup")]
    Backup,
    /// Show one backup
    #[command(name = "backup:info")]
    BackupInfo {
        /// Backup ID
        id: String,
    },
    /// Create a backup of the service given with --service
    #[command(name = "backup:create")]
    BackupCreate,
    /// Download a backup into the current directory as <ID>.<ext>
    #[command(name = "backup:download")]
    BackupDownload {
        /// Backup ID
        id: String,
        /// Overwrite an existing file
        #[arg(short = 'f', long)]
        force: bool,
        /// Print a command for an external downloader instead (with -o plain: only the URL)
        #[arg(long)]
        print_url: bool,
    },
    /// Upload a backup file to the service given with --service
    #[command(name = "backup:upload")]
    BackupUpload {
        /// Backup file (format of the service's type); one the service cannot restore is
        /// refused before anything is sent (exit 2)
        file: PathBuf,
        /// Print a command for an external uploader instead (with -o plain: only the URL)
        #[arg(long)]
        print_url: bool,
    },
    /// Restore a backup on top of the service's data; it has finished when `backup` no longer
    /// shows it RESTORING
    #[command(name = "backup:restore")]
    BackupRestore {
        /// Backup ID
        id: String,
    },
    /// Delete a backup
    #[command(name = "backup:destroy")]
    BackupDestroy {
        /// Backup ID
        id: String,
    },
    /// Check plan files and list every problem of each at once (exit 2 if any)
    ///
    /// Offline: reads the plans and the local files they name, nothing else. A `file:` backup is
    /// checked against the plan's `type:` (its format, archive version, the server it was dumped
    /// from, extensions, RDB version): what the target cannot restore is a problem, warnings are
    /// printed on stderr. Backups on the platform, and files whose type comes from the source,
    /// are checked by `run --dry-run`.
    #[command(name = "plan:validate")]
    PlanValidate {
        /// Plan files
        #[arg(required = true, value_name = "PLAN")]
        plans: Vec<PathBuf>,
    },
    /// Carry out a plan: create targets, move the data, restore, relink; resumable
    Run(RunArgs),
    /// Show what the journal says about each migration and step of a plan
    Status {
        /// Plan file
        #[arg(value_name = "PLAN")]
        plan: PathBuf,
        /// Where journals live (default: .setops-migrate/ beside the plan)
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Run the demo migrations on an embedded sandbox and check the result
    #[cfg(feature = "sandbox")]
    Demo {
        /// Keep the sandbox's state in DIR instead of a temporary directory
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Run or stop a local SetOps sandbox
    #[cfg(feature = "sandbox")]
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Ask for a migration step by step, write it as a plan, and offer to run it
    Wizard(WizardArgs),
    /// Print a shell completion script (e.g. `completions bash > ~/.local/share/bash-completion/completions/setops-migrate`)
    Completions {
        /// Shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout
    Man,
}

/// Values given here are checked like typed answers and not asked; -p/-s give project and stage.
#[derive(Debug, Args)]
pub struct WizardArgs {
    /// Where to write the plan [default: plans/<target>.yaml]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Service to migrate from
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Name of the new service
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// Type of the new service (default: the source's)
    #[arg(long = "type", value_name = "TYPE")]
    pub service_type: Option<String>,
    /// Plan of the new service (default: the source's, where valid)
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<String>,
    /// latest, fresh, a backup ID, or file:PATH (relative to the current directory)
    #[arg(long, value_name = "BACKUP")]
    pub backup: Option<String>,
    /// How long a commit or restore may take, e.g. 2h or 90m [default: 2h]
    #[arg(long, value_name = "DURATION")]
    pub wait_timeout: Option<String>,
    /// Apps to scale to 0 for the cutover, e.g. web,worker: a fresh backup once they stopped,
    /// back at their scales in the relink's commit [default: the apps linking the source, when
    /// one of them runs]
    #[arg(long, value_name = "APPS")]
    pub freeze: Option<String>,
    /// Freeze no app: the apps keep running (and writing) while the data moves
    #[arg(long)]
    pub no_freeze: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Plan file
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Show every step, the copy manifest and the resolved backup, apply every guard the run
    /// applies first, and exit with the code the run would; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (needed without a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Migrations transferred, restored and waited for at the same time
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub concurrency: u16,
    /// Where journals and downloads live (default: .setops-migrate/ beside the plan)
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Move the journal aside and start from what the platform shows (for a changed plan or an
    /// unreadable journal); the old journal is kept beside it
    #[arg(long)]
    pub restart: bool,
    /// Destroy and recreate a target this plan made that may already hold data (an upload or
    /// restore no record explains, or nothing shows who made it), then redo its migration; never
    /// a source or a linked service
    #[arg(long)]
    pub recreate_target: bool,
    /// Restore into a target that exists but was not created by this plan (made by hand, or by
    /// a run whose journal is gone), keeping its configuration
    #[arg(long)]
    pub adopt_target: bool,
    /// Skip comparing each target's data with its source's (rows, keys, files) before relinking;
    /// the backup's size and SHA-256 are still checked
    #[arg(long)]
    pub no_verify: bool,
    /// Relink even though the source was written to after its backup and the target lacks those
    /// writes (the run stops with exit 3 and counts them first); recorded in the journal
    #[arg(long)]
    pub accept_write_gap: bool,
    /// Restore the plan's frozen apps to their recorded scales without relinking (after a run
    /// that stopped with the apps frozen); a later run freezes again and takes a new backup
    #[arg(long, conflicts_with_all = ["dry_run", "restart", "recreate_target", "adopt_target", "no_verify", "accept_write_gap"])]
    pub unfreeze: bool,
}

#[derive(Debug, Subcommand)]
#[cfg(feature = "sandbox")]
pub enum SandboxCommand {
    /// Serve a sandbox in the foreground until interrupted
    Serve {
        /// Directory holding the sandbox's state (created and seeded when new)
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Address to listen on; a loopback address unless --public
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Allow a --listen address other machines can reach; the API, the services'
        /// connection endpoint (passwords) and pre-signed transfer URLs are then served to them
        #[arg(long)]
        public: bool,
        /// World to seed a new directory with (default: the demo world)
        #[arg(long, value_name = "FILE")]
        seed: Option<PathBuf>,
        /// Make the world live: each app with a running container writes to the services it
        /// links (rows, keys, files) a few times a second, while this server runs
        #[arg(long)]
        live_apps: bool,
    },
    /// Stop the background sandbox of a directory
    Stop {
        /// Directory holding the sandbox's state
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
}
