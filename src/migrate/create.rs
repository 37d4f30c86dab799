//! Create the targets: stage `service:create`, `option:set` and `backup:schedule` for every target
//! that does not exist yet, then commit them in one commit.

use crate::error::{Error, Result};
use crate::migrate::verify::VerifyError;
use crate::model::{ChangesetCommand, Service};

use super::changeset::{commit, stage_all};
use super::engine::Engine;
use super::events::{Happening, Phase, Step};
use super::inspect::{Resolved, find};
use super::journal::{Fact, PlanStep};

pub async fn create_targets(
    engine: &Engine,
    resolved: &[Resolved],
    existing: &[Service],
) -> Result<()> {
    let commit_key = PlanStep::CommitTargets.key();
    if engine.done_fact(&commit_key).await.is_some() {
        engine.emit(
            None,
            Some(Step::Create),
            Phase::Replayed,
            Happening::TargetsCreatedEarlier,
        );
        return Ok(());
    }
    let missing: Vec<&Resolved> = resolved
        .iter()
        .filter(|r| find(existing, &r.target).is_none())
        .collect();
    if missing.is_empty() {
        engine.emit(
            None,
            Some(Step::Create),
            Phase::Done,
            Happening::TargetsExist,
        );
        return engine.done(&commit_key, Fact::TargetsExisted).await;
    }
    let names: Vec<String> = missing.iter().map(|r| r.target.clone()).collect();
    engine.emit(
        None,
        Some(Step::Create),
        Phase::Started,
        Happening::CreatingTargets {
            targets: names.clone(),
        },
    );
    let commands = commands_for_missing(resolved, existing);
    let applied = async || {
        let services = engine.platform.services(&engine.scope).await?;
        Ok(missing.iter().all(|r| find(&services, &r.target).is_some()))
    };
    stage_all(
        engine,
        &PlanStep::StageTargets.key(),
        "stage-targets",
        Step::Create,
        &commands,
        &applied,
    )
    .await?;
    let deadline = engine.longest_wait();
    commit(
        engine,
        &commit_key,
        "commit-targets",
        Step::Create,
        deadline,
        &applied,
    )
    .await?;
    // Read back: the committed targets must carry the planned configuration.
    let services = engine.platform.services(&engine.scope).await?;
    for r in &missing {
        let Some(s) = find(&services, &r.target) else {
            return Err(Error::unexpected(
                format!("creating {}", r.target),
                format!(
                    "the commit succeeded but {} is not listed in {}; check `service` and run again",
                    r.target, engine.scope
                ),
            ));
        };
        // Options compared with documented defaults filled in: a platform may show a default
        // (s3's blockPublicAccess) that the plan leaves out.
        if s.service_type != r.service_type
            || s.plan != r.plan
            || s.service_type.effective_options(&s.options)
                != r.service_type.effective_options(&r.options)
        {
            return Err(VerifyError::CreatedDiffers {
                target: r.target.clone(),
                got_type: s.service_type.to_string(),
                got_plan: s.plan.clone(),
                got_options: s.options.clone(),
                want_type: r.service_type.to_string(),
                want_plan: r.plan.clone(),
                want_options: r.options.clone(),
            }
            .into());
        }
    }
    engine.emit(
        None,
        Some(Step::Create),
        Phase::Done,
        Happening::CreatedTargets { targets: names },
    );
    Ok(())
}

/// The changeset commands that make every target that does not exist yet, in plan order.
pub fn commands_for_missing(resolved: &[Resolved], existing: &[Service]) -> Vec<ChangesetCommand> {
    resolved
        .iter()
        .filter(|r| find(existing, &r.target).is_none())
        .flat_map(commands_for)
        .collect()
}

/// The changeset commands that make one target.
fn commands_for(r: &Resolved) -> Vec<ChangesetCommand> {
    let mut out = vec![ChangesetCommand::ServiceCreate {
        name: r.target.clone(),
        service_type: r.service_type.as_str().to_owned(),
        plan: r.plan.clone(),
    }];
    for (option, value) in &r.options {
        out.push(ChangesetCommand::OptionSet {
            service: r.target.clone(),
            option: option.clone(),
            value: value.clone(),
        });
    }
    if let Some(s) = &r.schedule {
        out.push(ChangesetCommand::BackupSchedule {
            service: r.target.clone(),
            hours: s.hours.clone(),
            weekdays: s.weekdays.clone(),
        });
    }
    out
}
