//! The interactive wizard: asks what `run` needs, in order (project, stage, source, target, type,
//! plan, options, links, freeze, backup unless frozen, wait timeout), and writes a commented plan
//! that `run` replays.
//! As in cargo-generate, a value given as a flag is checked by the same validator as a typed
//! answer and not asked again; only missing values are asked.

mod ask;
mod ask_data;
mod ask_freeze;
mod checks;
pub mod flags;
mod line;
mod out;
pub mod prompter;
mod render;
mod suggest;
pub mod terminal;

#[cfg(all(test, feature = "sandbox"))]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::Result;
use crate::model::{Backup, Link, Scope, Service, ServiceType};
use crate::plan::{BackupChoice, FreezeApp, Plan};
use crate::platform::Platform;

pub use ask_freeze::ask_scale;
pub use flags::missing_for_unattended;
pub use line::LinePrompter;
pub use out::write_plan;
pub use prompter::{Answer, Prompter, Rejected, ScriptedPrompter, Unattended};
pub use suggest::suggest_target;
pub use terminal::DialoguerPrompter;

/// Values given on the command line; each one that is set is checked and not asked.
#[derive(Debug, Clone, Default)]
pub struct WizardArgs {
    pub project: Option<String>,
    pub stage: Option<String>,
    pub source: Option<String>,
    pub target: Option<String>,
    /// `--type`
    pub service_type: Option<String>,
    pub plan: Option<String>,
    /// `latest`, `fresh`, a backup ID or `file:<path>` (relative to the current directory).
    pub backup: Option<String>,
    pub wait_timeout: Option<String>,
    /// Where to write the plan (default `plans/<target>.yaml`).
    pub out: Option<PathBuf>,
    /// `--freeze`: the apps to freeze, separated by commas.
    pub freeze: Option<String>,
    pub no_freeze: bool,
}

/// The plan the wizard made: its text, where it goes, and the text loaded back as a plan (which
/// proves it valid). Nothing is written yet; see [`write_plan`].
#[derive(Debug, Clone)]
pub struct WizardPlan {
    pub yaml: String,
    pub path: PathBuf,
    pub plan: Plan,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BackupAnswer {
    /// `latest`; the backup it means now, for the comment.
    Latest(Backup),
    /// `fresh`; `why` when it is preselected because the source changed after its latest backup
    /// or an app that links it runs containers.
    Fresh {
        why: Option<String>,
    },
    Id(Backup),
    /// As typed: relative to the current directory.
    File(PathBuf),
    /// Fresh, made once the frozen apps stopped: the plan has no `backup:`, a freeze implies it.
    AfterFreeze,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RelinkAnswer {
    All,
    None { reason: String },
    Only(Vec<Link>),
}

/// Everything the plan is made from.
#[derive(Debug, Clone)]
pub struct Answers {
    pub scope: Scope,
    pub source: Service,
    pub target: String,
    pub service_type: ServiceType,
    pub plan: Option<String>,
    /// Changes to the source's options: `Some` sets, `None` removes.
    pub options: BTreeMap<String, Option<String>>,
    pub backup: BackupAnswer,
    pub relink: RelinkAnswer,
    /// The plan's `freeze:`; empty for none.
    pub freeze: Vec<FreezeApp>,
    pub wait_timeout: String,
}

/// Asks every question whose answer was not given in `args`, and makes the plan.
pub async fn build_plan(
    platform: &dyn Platform,
    prompter: &mut dyn Prompter,
    args: &WizardArgs,
) -> Result<WizardPlan> {
    let flags = flags::Flags::parse(args)?;
    let scope = ask::scope(platform, prompter, &flags).await?;
    let services = platform.services(&scope).await?;
    let source = ask::source(prompter, &flags, &services, &scope)?;
    let target = ask::target(prompter, &flags, &source, &services, &scope)?;
    let service_type = ask::service_type(platform, prompter, &flags, &source)?;
    let plan = ask::plan(prompter, &flags, &source, service_type)?;
    let options = ask::options(prompter, &source, service_type)?;
    let backups = platform.backups(&scope, &source.name).await?;
    let given_backup = ask_data::backup_flag(&flags, &source, service_type, &backups)?;
    let relink = ask_data::links(prompter, &source, &target, service_type)?;
    let apps = ask_freeze::linked_apps(platform, &scope, &source, &flags).await?;
    let freeze = ask_freeze::freeze(prompter, &flags, &source, &apps)?;
    // A freeze implies a fresh backup, taken once the apps stopped (flags.rs refuses any other).
    let backup = match given_backup {
        _ if !freeze.is_empty() => BackupAnswer::AfterFreeze,
        Some(given) => given,
        None => ask_data::backup(prompter, &source, service_type, &backups, &apps)?,
    };
    let wait_timeout = ask_data::wait_timeout(prompter, &flags)?;
    let path = out::choose(prompter, flags.out.as_deref(), &target)?;

    let answers = Answers {
        scope,
        source,
        target,
        service_type,
        plan,
        options,
        backup,
        relink,
        freeze,
        wait_timeout,
    };
    let yaml = render::plan_yaml(&answers, &path)?;
    let mut plan = out::load_checked(&path, &yaml)?;
    if let BackupAnswer::File(file) = &answers.backup {
        // The plan names the file from its own directory, which may not exist before the plan
        // is written; the loaded plan (used for the summary) points at the file itself.
        let file = out::absolute(file)?;
        for m in &mut plan.migrations {
            if let BackupChoice::File(resolved) = &mut m.backup {
                *resolved = file.clone();
            }
        }
    }
    Ok(WizardPlan { yaml, path, plan })
}
