//! Live apps: when switched on (`sandbox serve --live-apps`, or `live_apps: true` in the seed),
//! every app with a running container writes to the services it links, a few times a second,
//! through the values the app itself would read: rows into a table of a linked PostgreSQL (its
//! env value), keys into a linked Redis (its env value), files into a mounted volume. Links are
//! read again on every tick, so a relink moves the writes to the new service; an app scaled to
//! 0 stops writing once its containers have stopped, and starts again when scaled up.
//!
//! Each confirmed write is counted per app and service (`GET /_sandbox/live-writes`), so a test
//! can compare what was written with what arrived. A write and the check that the app's
//! container runs happen under the read side of `Sandbox::containers_running`; a task listing
//! takes the write side, so once it shows an app's containers stopped, that app writes nothing.

mod counters;
mod write;

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;

use super::Sandbox;
use super::engines::ServiceRef;
use super::state::{LinkTarget, World};
use crate::api::LiveWriteKind;
use crate::model::{LinkKind, Scope, ServiceType};
pub(crate) use counters::Counters;
use write::{Target, Writer};

/// Time between two writes of one app to one service.
const TICK: Duration = Duration::from_millis(250);

/// One app's link as the writer found it: what to compare on the second look.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Found {
    scope: Scope,
    app: String,
    service: String,
    uid: uuid::Uuid,
    service_type: ServiceType,
    link: LinkTarget,
}

/// Runs the writers until the sandbox shuts down.
pub(crate) fn start(sandbox: &Sandbox) {
    let runner = sandbox.clone();
    sandbox.spawn(async move {
        let mut writer = Writer::new();
        let mut known = HashMap::new();
        while runner.pause(TICK).await {
            tick(&runner, &mut writer, &mut known).await;
        }
    });
}

async fn tick(sandbox: &Sandbox, writer: &mut Writer, known: &mut HashMap<Found, Target>) {
    let found = {
        let world = sandbox.world().await;
        running_links(&world, sandbox)
    };
    known.retain(|f, _| found.iter().any(|(n, _)| n == f));
    // Values first, outside every lock: an engine may have to start a server.
    let mut targets = Vec::new();
    for (found, service) in found {
        if let Some(target) = known.get(&found) {
            targets.push((found, target.clone()));
            continue;
        }
        match target_of(sandbox, &found, service).await {
            Some(Ok(target)) => {
                known.insert(found.clone(), target.clone());
                targets.push((found, target));
            }
            Some(Err(error)) => sandbox.live().failed(&key(&found), kind(&found), error),
            None => {}
        }
    }
    let _running = sandbox.containers_running().await;
    // The second look: only links that still stand, of apps whose containers still run.
    let confirmed = {
        let world = sandbox.world().await;
        let now: Vec<(Found, ServiceRef)> = running_links(&world, sandbox);
        targets
            .into_iter()
            .filter(|(f, _)| now.iter().any(|(n, _)| n == f))
            .collect::<Vec<_>>()
    };
    for (found, target) in confirmed {
        let outcome = writer.write(&found.app, &target).await;
        let counters = sandbox.live();
        match outcome {
            Ok(()) => counters.wrote(&key(&found), target.kind()),
            Err(error) => {
                // The value is read again next time: the service may have moved.
                known.remove(&found);
                counters.failed(&key(&found), target.kind(), error)
            }
        }
    }
}

fn key(found: &Found) -> counters::Key {
    counters::Key {
        project: found.scope.project.clone(),
        stage: found.scope.stage.clone(),
        app: found.app.clone(),
        service: found.service.clone(),
    }
}

fn kind(found: &Found) -> LiveWriteKind {
    match found.link.path {
        Some(_) => LiveWriteKind::Files,
        None => write::kind_of(found.service_type).unwrap_or(LiveWriteKind::Rows),
    }
}

/// Every link of every app that has a container up now, to a service the writers can write to.
fn running_links(world: &World, sandbox: &Sandbox) -> Vec<(Found, ServiceRef)> {
    let now = Utc::now();
    let mut out = Vec::new();
    for (project, p) in &world.projects {
        for (stage_name, stage) in &p.stages {
            let scope = Scope {
                project: project.clone(),
                stage: stage_name.clone(),
            };
            let empty = Vec::new();
            for (app, cfg) in &stage.config.apps {
                let tasks = stage.tasks.get(app).unwrap_or(&empty);
                if !tasks.iter().any(|t| t.runs(now)) {
                    continue;
                }
                for (service, link) in &cfg.links {
                    let Some(svc) = stage.config.services.get(service) else {
                        continue;
                    };
                    if !writable(svc.service_type, link) {
                        continue;
                    }
                    let found = Found {
                        scope: scope.clone(),
                        app: app.clone(),
                        service: service.clone(),
                        uid: svc.uid,
                        service_type: svc.service_type,
                        link: link.clone(),
                    };
                    let service_ref = ServiceRef::new(sandbox.dir(), &scope, service, svc);
                    out.push((found, service_ref));
                }
            }
        }
    }
    out
}

/// PostgreSQL and Redis through their env key, volumes mounted writable; nothing else.
fn writable(service_type: ServiceType, link: &LinkTarget) -> bool {
    match service_type.link_kind() {
        LinkKind::Path => link.path.is_some() && !link.read_only,
        LinkKind::EnvKey => link.env_key.is_some() && write::kind_of(service_type).is_some(),
    }
}

/// Where one link's writes go: the env value the app reads, or the mounted directory.
async fn target_of(
    sandbox: &Sandbox,
    found: &Found,
    service: ServiceRef,
) -> Option<Result<Target, String>> {
    if found.link.path.is_some() {
        return Some(Ok(Target::Files(service.data)));
    }
    let kind = write::kind_of(service.service_type)?;
    let owner = sandbox.clone();
    let value = tokio::task::spawn_blocking(move || {
        let engine = owner.engines().get(service.service_type)?;
        engine.env_value(&service, "")
    })
    .await;
    Some(match value {
        Ok(Ok(Some((url, _)))) => Ok(Target::url(kind, url)),
        Ok(Ok(None)) => Err("the service gives no env value".to_owned()),
        Ok(Err(e)) => Err(crate::redact::redact(&e.to_string())),
        Err(e) => Err(format!("computing the env value stopped: {e}")),
    })
}
