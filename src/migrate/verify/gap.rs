//! The write gap (design.md section 5): writes that reached a live source after its backup. The
//! source's activity is measured just before the backup (the baseline, journaled) and again at
//! verify; differences that only those writes explain are a gap (exit 3 with the count and the
//! ways on), never mistaken for corruption (exit 5).

use std::time::Duration;

use crate::error::{Error, Result};
use crate::plan::Migration;
use crate::verdict::Difference;
use crate::verdict::words::gap_text;

use super::activity::{self, GapUnit, WriteGap};
use super::{Reach, connection};
use crate::migrate::engine::Engine;
use crate::migrate::journal::{Fact, MigrationStep};

/// Pauses before measuring again: PostgreSQL shows a committed write in its statistics within
/// a second, or up to ten for a session that then sits idle (15 and later).
const STATS_LAG: [Duration; 3] = [
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(6),
];

/// Records the source's activity before its backup is chosen or made, once per migration. Not
/// measured when verify will not compare data, or the platform offers no connection to it.
pub async fn record_baseline(engine: &Engine, m: &Migration) -> Result<()> {
    let k = MigrationStep::Activity.of(&m.target);
    if !engine.options.verify || engine.done_fact(&k).await.is_some() {
        return Ok(());
    }
    let Some(source) = m.source.as_deref() else {
        return Ok(());
    };
    let Reach::Reached(conn) = connection(engine, source, "source").await? else {
        return Ok(());
    };
    if let Some(baseline) = activity::measure(&conn, "source").await? {
        engine.done(&k, Fact::Activity(baseline)).await?;
    }
    Ok(())
}

/// The writes since the baseline when they explain every difference; `None` when there is no
/// baseline, no write, or a difference no write explains (then it is corruption). Measured
/// again a few times before that verdict: a write may reach the statistics after it commits.
pub async fn explained(
    engine: &Engine,
    m: &Migration,
    differences: &[Difference],
) -> Result<Option<WriteGap>> {
    let (Some(source), Some(Fact::Activity(baseline))) = (
        m.source.as_deref(),
        engine
            .done_fact(&MigrationStep::Activity.of(&m.target))
            .await,
    ) else {
        return Ok(None);
    };
    let Reach::Reached(conn) = connection(engine, source, "source").await? else {
        return Ok(None);
    };
    for pause in std::iter::once(Duration::ZERO).chain(STATS_LAG) {
        tokio::time::sleep(pause).await;
        let Some(gap) = activity::since(&baseline, &conn, "source").await? else {
            return Ok(None);
        };
        if !gap.is_empty() && differences.iter().all(|d| gap.explains(d)) {
            return Ok(Some(gap));
        }
    }
    Ok(None)
}

/// Parts listed in the message; the count covers the rest.
const SHOWN_PARTS: usize = 10;

/// Exit 3: the gap counted, nothing relinked, and the two ways on.
pub async fn stop(engine: &Engine, m: &Migration, gap: &WriteGap) -> Error {
    let source = m.source.as_deref().unwrap_or("the source");
    let mut lines: Vec<String> = gap
        .parts
        .iter()
        .take(SHOWN_PARTS)
        .map(|(part, writes)| match gap.unit {
            GapUnit::Rows => format!("  {part}: {writes} row(s)"),
            GapUnit::Keys => format!("  {part}: {writes} change(s)"),
            GapUnit::Files => format!("  {part}"),
        })
        .collect();
    let listed: u64 = match gap.unit {
        GapUnit::Files => lines.len() as u64,
        _ => gap.parts.iter().take(SHOWN_PARTS).map(|(_, w)| w).sum(),
    };
    if listed < gap.writes && gap.unit == GapUnit::Files {
        lines.push(format!("  … and {} more", gap.writes - listed));
    } else if gap.parts.len() > SHOWN_PARTS {
        lines.push(format!("  … and {} more", gap.parts.len() - SHOWN_PARTS));
    }
    let run = &engine.options.invocation.run;
    let freeze_way = if engine.plan.freeze.is_empty() {
        let apps = linking_apps(engine, m).await;
        let example = if apps.is_empty() {
            "freeze: [APP, ...]".to_owned()
        } else {
            format!("freeze: [{}]", apps.join(", "))
        };
        format!(
            "freeze the apps that write to {source} for the cutover: add `{example}` to {}, \
             and migrate again from a clean target:",
            engine.plan.path.display()
        )
    } else {
        format!(
            "an app that is not in the plan's `freeze:` still writes to {source}: add it, and \
             migrate again from a clean target:"
        )
    };
    Error::Refused {
        code: "WriteGap",
        message: format!(
            "{} were written to {source} after its backup; they are not in {}:\n{}\n\
             Nothing was relinked: the apps still use {source}. Either\n  - {freeze_way}\n      \
             {run} --recreate-target\n  - or relink anyway and leave those writes behind in \
             {source} (recorded in the journal):\n      {run} --accept-write-gap",
            gap_text(gap),
            m.target,
            lines.join("\n"),
        ),
    }
}

/// The apps that linked the source when the run inspected it.
async fn linking_apps(engine: &Engine, m: &Migration) -> Vec<String> {
    let mut apps: Vec<String> = match engine
        .done_fact(&MigrationStep::Inspect.of(&m.target))
        .await
    {
        Some(Fact::Resolved(r)) => r.links.iter().map(|l| l.app.clone()).collect(),
        _ => Vec::new(),
    };
    apps.sort();
    apps.dedup();
    apps
}
