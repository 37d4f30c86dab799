//! `demo`: an embedded sandbox seeded with the demo world, the demo plan run against it, and a
//! check that every target holds exactly its source's data.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::PlatformKind;
use crate::error::{Error, Result};
use crate::migrate::events::EventSink;
use crate::migrate::verify::VerifyError;
use crate::migrate::{self, Invocation, RunOptions};
use crate::model::{Scope, ServiceType};
use crate::platform::Platform;
use crate::platform::http::HttpPlatform;
use crate::platform::setops_cli::SetopsCli;
use crate::sandbox::{self, EngineConfig, Running, Sandbox, SpawnConfig};
use crate::tree;
use crate::ui::events::RunDisplay;
use crate::ui::{Align, TableBuilder, format_size};

use super::context::{Context, FRONT_DIR_ENV, front_bin};
use super::plans::{load, open_journal, print_preview, print_summary};

const DEMO_PLAN: &str = include_str!("../../plans/demo.yaml");

pub async fn demo(ctx: &Context, dir: Option<&Path>, config: &EngineConfig) -> Result<()> {
    let temp;
    let dir: PathBuf = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("setops-migrate-demo-")
                .tempdir()
                .map_err(|e| {
                    Error::io("creating a temporary directory", std::env::temp_dir(), e)
                })?;
            temp.path().to_path_buf()
        }
    };
    ctx.output.note(&format!(
        "Starting an embedded sandbox in {}",
        dir.display()
    ));
    for line in super::sandbox::server_lines(&sandbox::emulated_servers(&dir, config)) {
        ctx.output.note(&line);
    }
    // The apps write to their services all the time, as in production: the plan's freeze
    // stops them for the cutover, and the end check shows nothing they wrote was lost.
    let running = sandbox::spawn(SpawnConfig {
        engine_config: config.clone(),
        live_apps: true,
        ..SpawnConfig::new(&dir)
    })
    .await?;
    let result = run_demo(ctx, &dir, &running).await;
    // The demo's own outcome is what counts; a server that fails while stopping changes nothing.
    let _ = running.stop().await;
    result
}

async fn run_demo(ctx: &Context, dir: &Path, running: &Running) -> Result<()> {
    let sandbox = running.sandbox();
    let through_cli = ctx.global.platform == Some(PlatformKind::Cli);
    // The end checks read the sandbox straight (the CLI front masks credentials, as logs want).
    let http = HttpPlatform::new(&running.url, running.token.clone())?;
    let direct_transfers = http.http_client().clone();
    let direct: Arc<dyn Platform> = Arc::new(http);
    let (platform, transfers): (Arc<dyn Platform>, reqwest::Client) = if through_cli {
        // The whole plan through the setops CLI adapter, talking to the sandbox's front.
        let transfers = crate::platform::http::client()?;
        let dir_abs = std::path::absolute(dir).map_err(|e| Error::io("resolving", dir, e))?;
        let env = vec![(FRONT_DIR_ENV.into(), dir_abs.into_os_string())];
        let cli = SetopsCli::connect(front_bin(dir)?, env, transfers.clone()).await?;
        ctx.output
            .note(&format!("Driving it through {}", cli.endpoint()));
        (Arc::new(cli), transfers)
    } else {
        (direct.clone(), direct_transfers)
    };
    let connection = if through_cli { " --platform cli" } else { "" };

    let plan_dir = dir.join("plans");
    std::fs::create_dir_all(&plan_dir).map_err(|e| Error::io("creating", &plan_dir, e))?;
    let plan_path = plan_dir.join("demo.yaml");
    std::fs::write(&plan_path, DEMO_PLAN).map_err(|e| Error::io("writing", &plan_path, e))?;
    let mut plan = load(&plan_path)?;
    let scope = plan.scope.clone();
    leave_out_unavailable(ctx, sandbox, platform.as_ref(), &mut plan).await?;

    let preview = migrate::preview(platform.as_ref(), &transfers, &plan).await?;
    print_preview(&ctx.output, &plan, &preview, false);
    let display: Arc<dyn EventSink> = Arc::new(RunDisplay::new(ctx.output));
    let options = RunOptions {
        concurrency: 2,
        adopt_target: false,
        recreate_target: false,
        verify: true,
        accept_write_gap: false,
        scales: Default::default(),
        invocation: Invocation {
            run: format!(
                "setops-migrate --sandbox {}{connection} run {}",
                dir.display(),
                plan_path.display()
            ),
            scoped: format!(
                "setops-migrate --sandbox {}{connection} -p shop -s production",
                dir.display()
            ),
        },
    };
    let journal = open_journal(platform.as_ref(), &plan, &dir.join("state"), false).await?;
    let pairs: Vec<(String, String)> = plan
        .migrations
        .iter()
        .filter_map(|m| m.source.clone().map(|s| (s, m.target.clone())))
        .collect();
    let targets: Vec<String> = plan.migrations.iter().map(|m| m.target.clone()).collect();
    let summary =
        migrate::run(plan, journal, platform.clone(), transfers, display, options).await?;
    print_summary(&ctx.output, &summary);
    check_data(ctx, sandbox, &scope, &pairs).await?;
    for app in ["web", "worker"] {
        let links = platform.app_links(&scope, app).await?;
        ctx.output.line(&format!(
            "{app} now links: {}",
            links
                .iter()
                .map(|l| format!("{} ({})", l.service, l.target()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    super::demo_reach::show(ctx, direct.as_ref(), &scope, &targets).await
}

/// Drops the migrations whose source or target type has no engine in this sandbox (PostgreSQL
/// or Redis not installed), saying which and why: the rest of the demo still runs.
async fn leave_out_unavailable(
    ctx: &Context,
    sandbox: &Sandbox,
    platform: &dyn Platform,
    plan: &mut crate::plan::Plan,
) -> Result<()> {
    let services = platform.services(&plan.scope).await?;
    let mut kept = Vec::new();
    for m in std::mem::take(&mut plan.migrations) {
        let source_type = m
            .source
            .as_ref()
            .and_then(|s| services.iter().find(|svc| &svc.name == s))
            .map(|svc| svc.service_type);
        let reason = [source_type, m.service_type]
            .into_iter()
            .flatten()
            .find_map(|t| sandbox.engine_unavailable(t))
            .or_else(|| {
                let source_type = source_type?;
                stand_in_too_new(sandbox, source_type, m.service_type.unwrap_or(source_type))
            });
        match reason {
            Some(reason) => ctx.output.note(&format!(
                "Left out {} -> {}: {reason}",
                m.source.as_deref().unwrap_or("(file)"),
                m.target
            )),
            None => kept.push(m),
        }
    }
    if kept.is_empty() {
        return Err(Error::Internal(
            "every demo migration was left out; see the notes above".to_owned(),
        ));
    }
    plan.migrations = kept;
    Ok(())
}

/// Why a migration cannot run here when the source's type runs on a stand-in server newer than
/// the target's type (PostgreSQL 15 standing in for 11 makes dumps that no postgresql13 takes):
/// the preflight would rightly refuse it.
fn stand_in_too_new(sandbox: &Sandbox, source: ServiceType, target: ServiceType) -> Option<String> {
    let wanted = |t: ServiceType| t.postgresql_major().or(t.redis_major());
    let (source_wanted, target_wanted) = (wanted(source)?, wanted(target)?);
    let runs_on = sandbox.server_major(source)?;
    (runs_on != source_wanted && runs_on > target_wanted).then(|| {
        format!(
            "{source} runs on a stand-in server of version {runs_on} here (version \
             {source_wanted} is not installed), and its backups do not restore into {target}; \
             scripts/install-servers installs the emulated versions"
        )
    })
}

/// Shows, straight from the sandbox's disk, that each target holds every file of its source with
/// the same bytes; files the apps wrote to the target after the cutover are counted apart.
async fn check_data(
    ctx: &Context,
    sandbox: &Sandbox,
    scope: &Scope,
    pairs: &[(String, String)],
) -> Result<()> {
    let mut table = TableBuilder::new(&[
        ("SOURCE", Align::Left),
        ("TARGET", Align::Left),
        ("FILES", Align::Right),
        ("BYTES", Align::Right),
        ("TREE SHA-256", Align::Left),
        ("CHECK", Align::Left),
    ]);
    let mut mismatches = Vec::new();
    for (source, target) in pairs {
        // Databases and caches were compared row by row and key by key by the run's verify
        // step, against the frozen sources; files are compared here once more.
        let (Some(a), Some(b)) = (
            sandbox.service_data_dir(scope, source).await,
            sandbox.service_data_dir(scope, target).await,
        ) else {
            continue;
        };
        let (digest, held) = tokio::task::spawn_blocking(move || {
            Ok::<_, Error>((tree::digest(&a)?, tree::contained(&a, &b)?))
        })
        .await
        .map_err(|e| Error::task_stopped("the data check", e))??;
        let check = if held.held != held.files {
            mismatches.push(format!("{source} -> {target}"));
            format!(
                "DIFFERENT: {} of {} files missing or changed ({})",
                held.files - held.held,
                held.files,
                held.missing
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else if held.extra > 0 {
            format!("all held, + {} written since the cutover", held.extra)
        } else {
            "identical".to_owned()
        };
        table.row(vec![
            source.clone(),
            target.clone(),
            digest.files.to_string(),
            format_size(digest.bytes),
            digest.sha256[..16].to_owned(),
            check,
        ]);
    }
    ctx.output.line("");
    ctx.output.line(&table.render());
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(VerifyError::DemoMismatch { mismatches }.into())
    }
}
