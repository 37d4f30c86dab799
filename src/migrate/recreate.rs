//! `--recreate-target`: destroy targets this plan made that hold data the run cannot account for
//! (never a source, never a linked service), commit, and forget their target-side records so the
//! migration starts again from a clean target. The source-side records (which backup, the
//! downloaded file) stay: the same backup is moved again.

use crate::error::{Error, Result};
use crate::model::ChangesetCommand;

use super::changeset::{commit, stage_all};
use super::engine::Engine;
use super::events::{Happening, Phase, Step};
use super::inspect::find;
use super::journal::{MigrationStep, PlanStep};

pub async fn recreate(engine: &Engine, targets: &[&str]) -> Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    let sources: Vec<&str> = engine
        .plan
        .migrations
        .iter()
        .filter_map(|m| m.source.as_deref())
        .collect();
    if let Some(t) = targets.iter().find(|t| sources.contains(t)) {
        // The plan loader refuses this already; a source is never destroyed, whatever happens.
        return Err(Error::Internal(format!(
            "refusing to destroy {t}: it is a source of this plan"
        )));
    }
    engine.emit(
        None,
        Some(Step::Create),
        Phase::Started,
        Happening::DestroyingTargets {
            targets: owned(targets),
        },
    );
    let commands: Vec<ChangesetCommand> = targets
        .iter()
        .map(|t| ChangesetCommand::ServiceDestroy {
            name: (*t).to_owned(),
        })
        .collect();
    let destroyed = async || {
        let services = engine.platform.services(&engine.scope).await?;
        Ok(targets.iter().all(|t| find(&services, t).is_none()))
    };
    stage_all(
        engine,
        &PlanStep::StageDestroy.key(),
        "stage-destroy",
        Step::Create,
        &commands,
        &destroyed,
    )
    .await?;
    // A relink commit of an earlier attempt may still be running when this run starts (the
    // CLI shows no running commit): should a target become linked meanwhile, it is no longer
    // disposable, and the staged destroy (our only pending command) is dropped.
    let gone = async || {
        let services = engine.platform.services(&engine.scope).await?;
        if let Some(linked) = targets
            .iter()
            .filter_map(|t| find(&services, t))
            .find(|s| !s.links.is_empty())
        {
            engine.platform.discard_changeset(&engine.scope).await?;
            engine.forget(&[PlanStep::StageDestroy.key()]).await?;
            return Err(Error::Decision(format!(
                "{} in {} became linked while it was to be destroyed (a relink of an earlier \
                 attempt went through); it was not destroyed and the staged destroy was \
                 discarded. Run the same command again without --recreate-target",
                linked.name, engine.scope
            )));
        }
        Ok(targets.iter().all(|t| find(&services, t).is_none()))
    };
    commit(
        engine,
        &PlanStep::CommitDestroy.key(),
        "commit-destroy",
        Step::Create,
        engine.longest_wait(),
        &gone,
    )
    .await?;
    let mut forget = vec![
        PlanStep::StageDestroy.key(),
        PlanStep::CommitDestroy.key(),
        PlanStep::StageTargets.key(),
        PlanStep::CommitTargets.key(),
    ];
    for t in targets {
        for step in [
            MigrationStep::Upload,
            MigrationStep::Restore,
            MigrationStep::Wait,
            MigrationStep::Verify,
        ] {
            forget.push(step.of(t));
        }
    }
    engine.forget(&forget).await?;
    engine.emit(
        None,
        Some(Step::Create),
        Phase::Done,
        Happening::DestroyedTargets {
            targets: owned(targets),
        },
    );
    Ok(())
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}
