//! The cutover freeze (design.md section 5): the plan's apps are scaled to 0 before a fresh
//! backup, so nothing writes to the sources while their data moves; the relink's one commit
//! restores their scales (src/migrate/relink.rs), and `run --unfreeze` restores them alone.
//! Each scale is journaled before anything is staged; without a journal it is read from the
//! platform, else taken from the plan or the user's answer, never guessed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::backoff::Poller;
use crate::error::{Error, Result};
use crate::model::ChangesetCommand;

use super::changeset::{commit, stage_all};
use super::engine::Engine;
use super::events::{Happening, Phase, Step};
use super::journal::{Fact, MigrationStep, PlanStep, StepKey};

/// Records the scales to restore where a freeze is still to come, before anything is changed:
/// an unknown one stops the run (exit 3) with nothing created.
pub async fn know_scales(engine: &Engine, data_to_move: bool) -> Result<()> {
    if engine.plan.freeze.is_empty()
        || !data_to_move
        || engine.done_fact(&PlanStep::Relink.key()).await.is_some()
    {
        return Ok(());
    }
    recorded_scales(engine).await.map(|_| ())
}

/// Freezes the plan's apps unless there is no freeze, no data left to move, or an earlier run
/// froze them already. Returns once no container of theirs runs.
pub async fn freeze(engine: &Engine, data_to_move: bool) -> Result<()> {
    if engine.plan.freeze.is_empty() || engine.done_fact(&PlanStep::Relink.key()).await.is_some() {
        return Ok(());
    }
    if engine.done_fact(&PlanStep::Frozen.key()).await.is_some() {
        engine.emit(
            None,
            Some(Step::Freeze),
            Phase::Replayed,
            Happening::FrozenEarlier,
        );
        return Ok(());
    }
    if !data_to_move {
        return Ok(());
    }
    let scales = recorded_scales(engine).await?;
    engine.emit(
        None,
        Some(Step::Freeze),
        Phase::Started,
        Happening::Freezing {
            scales: scales.clone(),
        },
    );
    set_scales(
        engine,
        [PlanStep::StageFreeze, PlanStep::CommitFreeze],
        ["stage-freeze", "commit-freeze"],
        &zeros(engine),
    )
    .await?;
    // The downtime starts when the apps stop taking work: at the commit, not the last exit.
    let stopping_at = now_ms();
    wait_stopped(engine).await?;
    engine
        .done(&PlanStep::Frozen.key(), Fact::Frozen { at_ms: stopping_at })
        .await?;
    engine.emit(
        None,
        Some(Step::Freeze),
        Phase::Done,
        Happening::Frozen {
            apps: scales.keys().cloned().collect(),
        },
    );
    Ok(())
}

/// The scale each frozen app goes back to: the journal's record, else what the platform shows
/// (an app above 0 is not frozen yet), else the plan's `scale`, else the user's answer. Recorded
/// before the first command is staged, so no crash can lose it.
pub async fn recorded_scales(engine: &Engine) -> Result<BTreeMap<String, u8>> {
    let key = PlanStep::Scales.key();
    match engine.done_fact(&key).await {
        Some(Fact::Scales { scales }) => return Ok(scales),
        Some(other) => return Err(super::data::unexpected(&key, &other)),
        None => {}
    }
    let mut scales = BTreeMap::new();
    let mut unknown = Vec::new();
    for f in &engine.plan.freeze {
        let shown = engine.platform.app_scale(&engine.scope, &f.app).await?;
        let given = f
            .scale
            .or_else(|| engine.options.scales.get(&f.app).copied());
        match (shown, given) {
            (Some(n), _) if n > 0 => {
                scales.insert(f.app.clone(), n);
            }
            (_, Some(n)) => {
                scales.insert(f.app.clone(), n);
            }
            (shown, None) => unknown.push((f.app.clone(), shown)),
        }
    }
    if !unknown.is_empty() {
        return Err(scale_unknown(engine, &unknown));
    }
    engine
        .done(
            &key,
            Fact::Scales {
                scales: scales.clone(),
            },
        )
        .await?;
    Ok(scales)
}

fn scale_unknown(engine: &Engine, unknown: &[(String, Option<u8>)]) -> Error {
    let lines: Vec<String> = unknown
        .iter()
        .map(|(app, shown)| match shown {
            Some(_) => format!("  {app}: the platform shows scale 0"),
            None => format!("  {app}: the platform does not show its scale"),
        })
        .collect();
    let example: Vec<String> = unknown
        .iter()
        .map(|(app, _)| format!("  - {{app: {app}, scale: N}}"))
        .collect();
    Error::ScaleUnknown {
        message: format!(
            "the scale to restore after the freeze is not known for:\n{}\nNo journal of this \
             plan recorded it (a run records each app's scale before it freezes the app), and \
             it is never guessed. Give each app's usual scale (1-16) in the plan {}:\nfreeze:\n{}\n\
             then run again:\n      {}",
            lines.join("\n"),
            engine.plan.path.display(),
            example.join("\n"),
            engine.options.invocation.run
        ),
        apps: unknown.iter().map(|(app, _)| app.clone()).collect(),
    }
}

/// Stages the scale commands that bring the apps to `wanted` (the journaled list of an earlier
/// attempt, else what the platform shows is needed) and commits them; crash points `names`.
/// Returns the commands, empty when every app was at its scale already.
async fn set_scales(
    engine: &Engine,
    [stage, commit_step]: [PlanStep; 2],
    [stage_name, commit_name]: [&str; 2],
    wanted: &BTreeMap<String, u8>,
) -> Result<Vec<ChangesetCommand>> {
    let stage_key = stage.key();
    let commands = match engine.record(&stage_key).await.map(|r| r.fact) {
        Some(Fact::Commands { commands }) => commands,
        Some(other) => return Err(super::data::unexpected(&stage_key, &other)),
        None => scale_commands(engine, wanted).await?,
    };
    if commands.is_empty() {
        return Ok(commands);
    }
    let applied = async || at_scales(engine, wanted).await;
    stage_all(
        engine,
        &stage_key,
        stage_name,
        Step::Freeze,
        &commands,
        &applied,
    )
    .await?;
    commit(
        engine,
        &commit_step.key(),
        commit_name,
        Step::Freeze,
        engine.longest_wait(),
        &applied,
    )
    .await?;
    Ok(commands)
}

/// Whether `commands` are all this plan's freeze (a frozen app set to 0), and there is one.
pub fn only_freeze_commands(engine: &Engine, commands: &[ChangesetCommand]) -> bool {
    !commands.is_empty()
        && commands.iter().all(|c| {
            matches!(c, ChangesetCommand::ScaleSet { app, scale: 0 }
                if engine.plan.freeze.iter().any(|f| &f.app == app))
        })
}

fn zeros(engine: &Engine) -> BTreeMap<String, u8> {
    engine
        .plan
        .freeze
        .iter()
        .map(|f| (f.app.clone(), 0))
        .collect()
}

/// `scale` commands for the apps not at their wanted scale now.
pub async fn scale_commands(
    engine: &Engine,
    wanted: &BTreeMap<String, u8>,
) -> Result<Vec<ChangesetCommand>> {
    let mut commands = Vec::new();
    for (app, scale) in wanted {
        if engine.platform.app_scale(&engine.scope, app).await? != Some(*scale) {
            commands.push(ChangesetCommand::ScaleSet {
                app: app.clone(),
                scale: *scale,
            });
        }
    }
    Ok(commands)
}

/// Whether every app is at its wanted scale; where the platform does not show a scale, 0 is
/// proven by no container running, and any other scale cannot be proven.
pub async fn at_scales(engine: &Engine, wanted: &BTreeMap<String, u8>) -> Result<bool> {
    for (app, scale) in wanted {
        let ok = match engine.platform.app_scale(&engine.scope, app).await? {
            Some(shown) => shown == *scale,
            None if *scale == 0 => {
                engine
                    .platform
                    .running_containers(&engine.scope, app)
                    .await?
                    == 0
            }
            None => false,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Waits until no container of a frozen app runs (a container stops after its scale is 0).
async fn wait_stopped(engine: &Engine) -> Result<()> {
    let limit = engine.longest_wait();
    let deadline = Instant::now() + limit;
    let mut poller = Poller::start();
    let mut shown = None;
    loop {
        let mut running = 0;
        for f in &engine.plan.freeze {
            running += engine
                .platform
                .running_containers(&engine.scope, &f.app)
                .await?;
        }
        if running == 0 {
            return Ok(());
        }
        if shown != Some(running) {
            shown = Some(running);
            engine.emit(
                None,
                Some(Step::Freeze),
                Phase::Progress,
                Happening::WaitingForApps { running },
            );
        }
        if Instant::now() >= deadline {
            return Err(Error::Unexpected {
                context: format!("stopping {} in {}", app_list(engine), engine.scope),
                detail: format!(
                    "{running} container(s) still run {} after their scale was set to 0; look \
                     at them with `{} --app APP app:ps`, then run the same command again:\n      {}",
                    humantime::format_duration(Duration::from_secs(limit.as_secs())),
                    engine.options.invocation.scoped,
                    engine.options.invocation.run
                ),
            });
        }
        poller.sleep(deadline).await;
    }
}

fn app_list(engine: &Engine) -> String {
    engine
        .plan
        .freeze
        .iter()
        .map(|f| f.app.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Freeze to now, from the journal's record of the freeze.
pub async fn downtime_until(engine: &Engine, until_ms: u64) -> Option<u64> {
    match engine.done_fact(&PlanStep::Frozen.key()).await {
        Some(Fact::Frozen { at_ms }) => Some(until_ms.saturating_sub(at_ms)),
        _ => None,
    }
}

/// Whether a run that stops now leaves apps frozen: the journal shows a freeze staged or found
/// in place, and no relink that restored the scales (an unfreeze forgets the freeze).
pub async fn left_frozen(engine: &Engine) -> bool {
    !engine.plan.freeze.is_empty()
        && (engine.record(&PlanStep::StageFreeze.key()).await.is_some()
            || engine.record(&PlanStep::Frozen.key()).await.is_some())
        && engine.done_fact(&PlanStep::Relink.key()).await.is_none()
}

/// `run --unfreeze`: the recorded scales restored in one commit, without relinking. Then the
/// freeze and the data moved under it are forgotten: the apps ran again, so the next run
/// freezes anew and moves a new backup. Returns the scales restored (empty when none needed).
pub async fn unfreeze(engine: &Engine) -> Result<BTreeMap<String, u8>> {
    if engine.plan.freeze.is_empty() {
        return Err(Error::usage(format!(
            "{} freezes no app (it has no `freeze:` key), so there is nothing to unfreeze",
            engine.plan.path.display()
        )));
    }
    if engine.done_fact(&PlanStep::Relink.key()).await.is_some() {
        return Ok(BTreeMap::new());
    }
    let scales = recorded_scales(engine).await?;
    let commands = set_scales(
        engine,
        [PlanStep::StageUnfreeze, PlanStep::CommitUnfreeze],
        ["stage-unfreeze", "commit-unfreeze"],
        &scales,
    )
    .await?;
    if !commands.is_empty() {
        let downtime_ms = downtime_until(engine, now_ms()).await;
        engine.emit(
            None,
            Some(Step::Freeze),
            Phase::Done,
            Happening::Unfrozen {
                scales: scales.clone(),
                downtime_ms,
            },
        );
    }
    forget_freeze(engine).await?;
    Ok(if commands.is_empty() {
        BTreeMap::new()
    } else {
        scales
    })
}

/// The freeze's records and every migration's data steps after inspect; the downloaded files go
/// too (they hold the source as it was before the apps ran again).
async fn forget_freeze(engine: &Engine) -> Result<()> {
    let mut keys: Vec<StepKey> = [
        PlanStep::Scales,
        PlanStep::StageFreeze,
        PlanStep::CommitFreeze,
        PlanStep::Frozen,
        PlanStep::StageUnfreeze,
        PlanStep::CommitUnfreeze,
    ]
    .iter()
    .map(|p| p.key())
    .collect();
    for m in &engine.plan.migrations {
        for step in MigrationStep::ALL {
            if step != MigrationStep::Inspect {
                keys.push(step.of(&m.target));
            }
        }
    }
    engine.forget(&keys).await?;
    match std::fs::remove_dir_all(&engine.artifacts) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(
            "removing the downloads of the unfrozen run",
            &engine.artifacts,
            e,
        )),
    }
}
