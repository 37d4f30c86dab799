//! The engine: carries out a plan's migrations step by step (design.md section 5), journaling
//! every side effect so that running the same command again resumes without doing anything twice.

mod changeset;
pub mod crash;
mod create;
mod data;
pub mod engine;
pub mod events;
pub mod inspect;
pub mod journal;
mod poll;
mod relink;
mod restore;
pub mod status;
mod verify;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::model::ServiceType;
use crate::plan::{BackupChoice, Migration, Plan};
use crate::platform::Platform;

pub use engine::RunOptions;
use engine::{Engine, field, key};
use events::{EventSink, Phase, Step};
use inspect::Resolved;
use journal::{Journal, JournalData, JournalKey, journal_path};

/// One finished migration, for the summary table.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    pub source: Option<String>,
    pub target: String,
    pub service_type: ServiceType,
    /// The source backup ID or the local file that was moved.
    pub moved: String,
    pub size: u64,
    pub upload_id: String,
    pub links: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run_id: String,
    pub journal: PathBuf,
    /// True when the journal said the plan had finished before: nothing was done this time.
    pub already_done: bool,
    pub rows: Vec<SummaryRow>,
}

/// What `--dry-run` shows: every migration resolved against the platform, nothing touched.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub migrations: Vec<PreviewItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewItem {
    pub resolved: Resolved,
    pub backup: String,
    pub target_exists: bool,
}

pub async fn preview(platform: &dyn Platform, plan: &Plan) -> Result<Preview> {
    let stage = inspect::preflight(platform, plan).await?;
    let mut items = Vec::new();
    for m in &plan.migrations {
        let resolved = inspect::resolve(plan, m, &stage.services)?;
        inspect::check_file_format(plan, m, &resolved)?;
        let backup = match (&m.backup, &m.source) {
            (BackupChoice::File(p), _) => format!("local file {}", p.display()),
            (BackupChoice::Fresh, Some(s)) => format!("a fresh backup of {s}, made at run time"),
            (BackupChoice::Id(id), Some(s)) => {
                let b = platform.backup(&plan.scope, s, &id.to_string()).await?;
                format!(
                    "backup {} of {s} ({}, {})",
                    b.id,
                    b.status,
                    size_text(b.size)
                )
            }
            (_, Some(s)) => {
                let backups = platform.backups(&plan.scope, s).await?;
                match inspect::latest_created(&backups) {
                    Some(b) => format!(
                        "latest backup {} of {s} ({}, {})",
                        b.id,
                        b.created_at
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        size_text(b.size)
                    ),
                    None => format!("none: {s} has no CREATED backup (use backup: fresh)"),
                }
            }
            (_, None) => "none".into(),
        };
        items.push(PreviewItem {
            target_exists: inspect::find(&stage.services, &m.target).is_some(),
            resolved,
            backup,
        });
    }
    Ok(Preview { migrations: items })
}

fn size_text(size: Option<u64>) -> String {
    size.map(crate::ui::format_size)
        .unwrap_or_else(|| "size unknown".into())
}

pub async fn run(
    plan: Plan,
    platform: Arc<dyn Platform>,
    transfers: reqwest::Client,
    sink: Arc<dyn EventSink>,
    options: RunOptions,
) -> Result<Summary> {
    let key_ = JournalKey {
        endpoint: platform.endpoint(),
        project: plan.scope.project.clone(),
        stage: plan.scope.stage.clone(),
    };
    let path = journal_path(&options.state_dir, &plan.path, &key_);
    let (lock, existing) = Journal::lock(&path)?;
    let plan_json = serde_json::to_value(&plan).unwrap_or_default();
    let data = match existing {
        Some(d) if d.plan_hash == plan.content_hash && d.key == key_ => d,
        Some(d) if options.restart => {
            let aside = path.with_extension(format!(
                "replaced-{}.json",
                Utc::now().format("%Y%m%dT%H%M%S")
            ));
            std::fs::rename(&path, &aside)
                .map_err(|e| Error::io("moving the old journal aside", &path, e))?;
            let _ = d;
            fresh_journal(&plan, key_, plan_json)
        }
        Some(d) => {
            let mut changes = diff_values("", &d.plan, &plan_json);
            changes.retain(|c| !c.starts_with("content_hash"));
            return Err(Error::Decision(format!(
                "{} changed since the run recorded in {}:\n{}\nRun with --restart to start over with the \
                 new plan (the old journal is moved aside), or put the old plan back to resume.",
                plan.path.display(),
                path.display(),
                changes
                    .iter()
                    .map(|c| format!("  {c}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )));
        }
        None => fresh_journal(&plan, key_, plan_json),
    };
    let run_id = data.run_id.clone();
    let already_done = data.finished;
    let journal = Journal::new(path.clone(), lock, data)?;
    let artifacts = options.state_dir.join(format!(
        "{}-artifacts",
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let engine = Engine {
        platform,
        transfers,
        scope: plan.scope.clone(),
        plan,
        journal: Mutex::new(journal),
        sink,
        run_id,
        started: Instant::now(),
        artifacts,
        options,
    };
    if already_done {
        engine.emit(
            None,
            None,
            Phase::Replayed,
            "this plan finished in an earlier run; nothing to do",
        );
        return finish(&engine, true).await;
    }
    match steps(&engine).await {
        Ok(()) => finish(&engine, false).await,
        Err(Failure::Reported(e)) => Err(e),
        Err(Failure::Unreported(e)) => {
            engine.emit_error(None, None, &e);
            Err(e)
        }
    }
}

/// An error, and whether a `failed` event already told the event stream about it.
enum Failure {
    Reported(Error),
    Unreported(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Unreported(e)
    }
}

async fn steps(engine: &Engine) -> std::result::Result<(), Failure> {
    engine.emit(
        None,
        None,
        Phase::Started,
        format!(
            "running {} ({} migration(s))",
            engine.plan.path.display(),
            engine.plan.migrations.len()
        ),
    );
    let resolved = preflight_and_inspect(engine).await?;
    journal::create_private_dir(&engine.artifacts)?;
    let existing = engine.platform.services(&engine.scope).await?;
    check_changeset(engine, &resolved, &existing).await?;
    create::create_targets(engine, &resolved, &existing).await?;

    let results: Vec<Result<()>> =
        futures_util::stream::iter(engine.plan.migrations.iter().zip(&resolved))
            .map(|(m, r)| async move {
                let outcome = move_data(engine, m, r).await;
                if let Err(e) = &outcome {
                    engine.emit_error(Some(&m.target), None, e);
                }
                outcome
            })
            .buffer_unordered(engine.options.concurrency.max(1))
            .collect()
            .await;
    if let Some(first) = results.into_iter().find_map(|r| r.err()) {
        return Err(Failure::Reported(first));
    }
    relink::relink(engine, &resolved).await?;
    let _ = std::fs::remove_dir(&engine.artifacts);
    engine.journal.lock().await.set_finished(true)?;
    Ok(())
}

/// The summary, also as the last event (so `--output json` carries it in the event stream).
async fn finish(engine: &Engine, already_done: bool) -> Result<Summary> {
    let summary = summary(engine, already_done).await?;
    let mut event = engine.event(
        None,
        None,
        Phase::Done,
        if already_done {
            "already done"
        } else {
            "all migrations finished"
        },
    );
    event.data = serde_json::to_value(&summary).ok();
    engine.sink.emit(event);
    Ok(summary)
}

fn fresh_journal(plan: &Plan, key: JournalKey, plan_json: Value) -> JournalData {
    JournalData {
        format: journal::FORMAT,
        key,
        plan_path: plan.path.display().to_string(),
        plan_hash: plan.content_hash.clone(),
        plan: plan_json,
        run_id: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
        finished: false,
        steps: Default::default(),
    }
}

/// Preflight, then each migration resolved once and recorded: a rerun uses the recorded source
/// snapshot (its links are gone from the source after the relink).
async fn preflight_and_inspect(engine: &Engine) -> Result<Vec<Resolved>> {
    engine.emit(
        None,
        Some(Step::Preflight),
        Phase::Started,
        format!("checking {}", engine.scope),
    );
    let stage = inspect::preflight(engine.platform.as_ref(), &engine.plan).await?;
    engine.emit(
        None,
        Some(Step::Preflight),
        Phase::Done,
        "token, project, stage and sources checked",
    );
    let mut out = Vec::new();
    for m in &engine.plan.migrations {
        let k = key("inspect", &m.target);
        if let Some(data) = engine.done_data(&k).await {
            let r: Resolved = serde_json::from_value(data).map_err(|e| {
                Error::Internal(format!(
                    "the journal's inspect record of {} is unreadable ({e}); run with --restart",
                    m.target
                ))
            })?;
            out.push(r);
            continue;
        }
        let r = inspect::resolve(&engine.plan, m, &stage.services)?;
        inspect::check_file_format(&engine.plan, m, &r)?;
        check_target(engine, m, &r, &stage.services).await?;
        engine.emit(
            Some(&m.target),
            Some(Step::Inspect),
            Phase::Done,
            format!(
                "{} -> {} ({})",
                m.source.as_deref().unwrap_or("(file)"),
                m.target,
                r.service_type
            ),
        );
        engine
            .done(&k, serde_json::to_value(&r).unwrap_or_default())
            .await?;
        out.push(r);
    }
    Ok(out)
}

/// Stops before anything is staged when the user's changeset holds commands this plan would not
/// stage itself (a prefix of its own commands is an earlier attempt's, journal or not).
async fn check_changeset(
    engine: &Engine,
    resolved: &[Resolved],
    existing: &[crate::model::Service],
) -> Result<()> {
    let Some(pending) = engine.platform.changeset(&engine.scope).await? else {
        return Ok(());
    };
    if changeset::is_prefix(
        &pending.commands,
        &create::commands_for_missing(resolved, existing),
    ) {
        return Ok(());
    }
    if changeset::is_prefix(
        &pending.commands,
        &relink::planned_commands(engine, resolved).await?,
    ) {
        return Ok(());
    }
    Err(changeset::foreign_changeset(engine, &pending.commands))
}

/// A target that exists already must be this plan's own work, unless --adopt-target.
async fn check_target(
    engine: &Engine,
    m: &Migration,
    r: &Resolved,
    services: &[crate::model::Service],
) -> Result<()> {
    let Some(existing) = inspect::find(services, &m.target) else {
        return Ok(());
    };
    if engine.record("stage-targets").await.is_some() {
        return Ok(()); // our own staging created it
    }
    let target_backups = engine.platform.backups(&engine.scope, &m.target).await?;
    let candidates: Vec<String> = match (&m.backup, &m.source) {
        (BackupChoice::File(p), _) => vec![crate::transfer::sha256_file(p).await?.1],
        (_, Some(source)) => engine
            .platform
            .backups(&engine.scope, source)
            .await?
            .into_iter()
            .filter_map(|b| b.sha256)
            .collect(),
        (_, None) => Vec::new(),
    };
    match inspect::target_is_ours(existing, r, &target_backups, &candidates) {
        Ok(()) => {
            engine.emit(
                Some(&m.target),
                Some(Step::Inspect),
                Phase::Info,
                "target exists and matches this plan; continuing an earlier run",
            );
            Ok(())
        }
        Err(_) if engine.options.adopt_target => {
            engine.emit(
                Some(&m.target),
                Some(Step::Inspect),
                Phase::Info,
                "target exists; adopted as asked (--adopt-target)",
            );
            Ok(())
        }
        Err(why) => Err(Error::Decision(format!(
            "target {} exists in {} and was not created by this plan ({why}). Choose another target \
             name, or pass --adopt-target to restore into it anyway (data lands on top of what it holds).",
            m.target, engine.scope
        ))),
    }
}

/// Backup, download, upload, restore, wait, verify for one migration.
async fn move_data(engine: &Engine, m: &Migration, r: &Resolved) -> Result<()> {
    let artifact = data::select_backup(engine, m, r).await?;
    data::download(engine, m, &artifact).await?;
    let upload = data::upload(engine, m, &artifact).await?;
    let upload_id = upload.id.to_string();
    restore::restore(engine, m, &upload_id).await?;
    restore::wait(engine, m, &upload_id).await?;
    verify::verify(engine, m, &artifact, &upload).await?;
    data::discard_artifact(engine, &artifact)
}

async fn summary(engine: &Engine, already_done: bool) -> Result<Summary> {
    let journal = engine.journal.lock().await;
    let mut rows = Vec::new();
    for m in &engine.plan.migrations {
        let resolved: Option<Resolved> = journal
            .get(&key("inspect", &m.target))
            .and_then(|r| serde_json::from_value(r.data.clone()).ok());
        let artifact = journal
            .get(&key("backup", &m.target))
            .and_then(|r| data::decode(&r.data).ok());
        let upload_id = journal
            .get(&key("upload", &m.target))
            .and_then(|r| field(&r.data, "upload_id").map(str::to_owned))
            .unwrap_or_default();
        rows.push(SummaryRow {
            source: m.source.clone(),
            target: m.target.clone(),
            service_type: resolved
                .as_ref()
                .map(|r| r.service_type)
                .or(m.service_type)
                .unwrap_or(ServiceType::Volume),
            moved: artifact
                .as_ref()
                .map(|a| {
                    a.backup_id
                        .clone()
                        .unwrap_or_else(|| a.file.display().to_string())
                })
                .unwrap_or_default(),
            size: artifact.as_ref().map(|a| a.size).unwrap_or(0),
            upload_id,
            links: resolved
                .map(|r| {
                    r.links
                        .iter()
                        .map(|l| format!("{} ({})", l.app, l.target()))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    Ok(Summary {
        run_id: engine.run_id.clone(),
        journal: journal.path().to_path_buf(),
        already_done,
        rows,
    })
}

/// Paths where two JSON values differ, for "the plan changed" messages.
fn diff_values(path: &str, old: &Value, new: &Value) -> Vec<String> {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    diff_values(
                        &p,
                        a.get(k).unwrap_or(&Value::Null),
                        b.get(k).unwrap_or(&Value::Null),
                    )
                })
                .collect()
        }
        (Value::Array(a), Value::Array(b)) => (0..a.len().max(b.len()))
            .flat_map(|i| {
                diff_values(
                    &format!("{path}[{i}]"),
                    a.get(i).unwrap_or(&Value::Null),
                    b.get(i).unwrap_or(&Value::Null),
                )
            })
            .collect(),
        (a, b) if a == b => Vec::new(),
        (a, b) => vec![format!("{path}: {} -> {}", short(a), short(b))],
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(60).map(|(i, _)| i).unwrap_or(s.len())]
        )
    } else {
        s
    }
}
