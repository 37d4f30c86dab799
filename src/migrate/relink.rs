//! Relink: point every planned app link at its target with the same env key or mount path, for
//! all migrations in ONE changeset and ONE commit, so each app redeploys once. The same commit
//! gives the frozen apps their recorded scales back (src/migrate/freeze.rs).

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::migrate::verify::VerifyError;
use crate::model::{ChangesetCommand, Link};

use super::changeset::{commit, stage_all};
use super::engine::Engine;
use super::events::{Happening, Phase, Step};
use super::freeze;
use super::inspect::Resolved;
use super::journal::{Fact, PlanStep};

pub async fn relink(engine: &Engine, resolved: &[Resolved]) -> Result<usize> {
    let done_key = PlanStep::Relink.key();
    let stage_key = PlanStep::StageRelink.key();
    if let Some(fact) = engine.done_fact(&done_key).await {
        engine.emit(
            None,
            Some(Step::Relink),
            Phase::Replayed,
            Happening::RelinkedEarlier,
        );
        return Ok(match fact {
            Fact::Relinked { moved, .. } => moved,
            _ => 0,
        });
    }
    let planned = planned(resolved);
    let scales = if engine.plan.freeze.is_empty() {
        BTreeMap::new()
    } else {
        freeze::recorded_scales(engine).await?
    };
    // An earlier attempt decided the commands; keep them so the changeset prefix matches.
    let commands = match engine.record(&stage_key).await.map(|r| r.fact) {
        Some(Fact::Commands { commands }) => commands,
        Some(other) => return Err(super::data::unexpected(&stage_key, &other)),
        None => {
            let mut commands = commands_needed(engine, &planned).await?;
            commands.extend(freeze::scale_commands(engine, &scales).await?);
            commands
        }
    };
    if commands.is_empty() {
        engine.emit(
            None,
            Some(Step::Relink),
            Phase::Done,
            Happening::LinksInPlace,
        );
        let fact = Fact::Relinked {
            moved: 0,
            unfrozen_at_ms: None,
        };
        engine.done(&done_key, fact).await?;
        return Ok(0);
    }
    engine.emit(
        None,
        Some(Step::Relink),
        Phase::Started,
        Happening::Relinking {
            links: planned.len(),
        },
    );
    let applied = async || {
        Ok(missing_links(engine, &planned).await?.is_empty()
            && freeze::at_scales(engine, &scales).await?)
    };
    stage_all(
        engine,
        &stage_key,
        "stage-relink",
        Step::Relink,
        &commands,
        &applied,
    )
    .await?;
    let deadline = engine.longest_wait();
    commit(
        engine,
        &PlanStep::CommitRelink.key(),
        "commit-relink",
        Step::Relink,
        deadline,
        &applied,
    )
    .await?;
    let missing = missing_links(engine, &planned).await?;
    if !missing.is_empty() {
        return Err(VerifyError::LinksMissing { links: missing }.into());
    }
    for (r, l) in &planned {
        engine.emit(
            Some(&r.target),
            Some(Step::Relink),
            Phase::Done,
            Happening::Relinked {
                app: l.app.clone(),
                target: r.target.clone(),
                at: l.target().to_string(),
            },
        );
    }
    let unfrozen_at_ms = (!scales.is_empty()).then(freeze::now_ms);
    if let Some(at) = unfrozen_at_ms {
        engine.emit(
            None,
            Some(Step::Relink),
            Phase::Done,
            Happening::Unfrozen {
                scales,
                downtime_ms: freeze::downtime_until(engine, at).await,
            },
        );
    }
    engine
        .done(
            &done_key,
            Fact::Relinked {
                moved: planned.len(),
                unfrozen_at_ms,
            },
        )
        .await?;
    Ok(planned.len())
}

fn planned(resolved: &[Resolved]) -> Vec<(&Resolved, &Link)> {
    resolved
        .iter()
        .flat_map(|r| r.links.iter().map(move |l| (r, l)))
        .collect()
}

/// The relink commands this plan needs now (for telling its own staged commands from others').
pub async fn planned_commands(
    engine: &Engine,
    resolved: &[Resolved],
) -> Result<Vec<ChangesetCommand>> {
    commands_needed(engine, &planned(resolved)).await
}

/// The commands that move each planned link: destroy the app's link to the source (if any) and
/// create the link to the target with the same key or path. Links in place already are skipped.
async fn commands_needed(
    engine: &Engine,
    planned: &[(&Resolved, &Link)],
) -> Result<Vec<ChangesetCommand>> {
    let mut by_app: BTreeMap<&str, Vec<Link>> = BTreeMap::new();
    for (_, l) in planned {
        if !by_app.contains_key(l.app.as_str()) {
            let links = engine.platform.app_links(&engine.scope, &l.app).await?;
            by_app.insert(&l.app, links);
        }
    }
    let mut destroys = Vec::new();
    let mut creates = Vec::new();
    for (r, l) in planned {
        let current = &by_app[l.app.as_str()];
        if current
            .iter()
            .any(|c| c.service == r.target && c.target() == l.target())
        {
            continue;
        }
        if let Some(other) = current.iter().find(|c| c.service == r.target) {
            return Err(Error::refused(
                "LinkConflict",
                format!(
                    "app {} already links {} at {}, the plan wants {}; change the link yourself \
                     or the plan",
                    l.app,
                    r.target,
                    other.target(),
                    l.target()
                ),
            ));
        }
        if let Some(source) = &r.source
            && current.iter().any(|c| &c.service == source)
        {
            destroys.push(ChangesetCommand::LinkDestroy {
                app: l.app.clone(),
                service: source.clone(),
            });
        }
        creates.push(ChangesetCommand::LinkCreate {
            app: l.app.clone(),
            service: r.target.clone(),
            env_key: l.env_key.clone(),
            path: l.path.clone(),
            read_only: l.read_only,
        });
    }
    // Every destroy first, so a key or path freed by one link is free when its successor is created.
    destroys.extend(creates);
    Ok(destroys)
}

async fn missing_links(engine: &Engine, planned: &[(&Resolved, &Link)]) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    let mut by_app: BTreeMap<&str, Vec<Link>> = BTreeMap::new();
    for (r, l) in planned {
        if !by_app.contains_key(l.app.as_str()) {
            by_app.insert(
                &l.app,
                engine.platform.app_links(&engine.scope, &l.app).await?,
            );
        }
        let ok = by_app[l.app.as_str()]
            .iter()
            .any(|c| c.service == r.target && c.target() == l.target());
        if !ok {
            missing.push(format!("{} -> {} ({})", l.app, r.target, l.target()));
        }
    }
    Ok(missing)
}
