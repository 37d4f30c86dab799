//! Writing a checked seed to disk.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use uuid::Uuid;

use super::Seeded;
use crate::model::{Backup, BackupOrigin, BackupStatus, Scope};
use crate::sandbox::engines::{Engine, Engines, ServiceRef};
use crate::sandbox::jobs::write_backup_file;
use crate::sandbox::state::{BackupEntry, World, new_backup};
use crate::sandbox::{Error, Result};

/// Writes a checked seed to disk: empty data directories for every service with an engine, the
/// generated content, and the seed backups (CREATED, origin scheduled). Leftovers of an
/// interrupted earlier seeding are cleared first.
pub(crate) fn materialize(dir: &Path, seeded: Seeded, engines: &Engines) -> Result<World> {
    let Seeded {
        mut world,
        contents,
        seed_backups,
    } = seeded;
    for sub in ["data", "backups"] {
        let path = dir.join(sub);
        match std::fs::remove_dir_all(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io("clearing", &path, e));
            }
            _ => {}
        }
    }
    let backups_dir = dir.join("backups");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&backups_dir)
        .map_err(|e| Error::io("creating", &backups_dir, e))?;
    for (project, p) in &world.projects {
        for (stage, s) in &p.stages {
            let scope = Scope {
                project: project.clone(),
                stage: stage.clone(),
            };
            for (name, svc) in &s.config.services {
                // A type whose engine is unavailable here (PostgreSQL not installed, say) is
                // still created; it holds no data, and its backups are refused with the reason.
                let Ok(engine) = engines.get(svc.service_type) else {
                    continue;
                };
                let service = ServiceRef::new(dir, &scope, name, svc);
                engine
                    .provision(&service)
                    .and_then(|()| engine.apply_options(&service))
                    .map_err(|e| {
                        Error::Internal(format!("creating service {name} in {scope}: {e}"))
                    })?;
            }
        }
    }
    for (scope, name, data) in &contents {
        let Some((engine, service)) = lookup(dir, &world, engines, scope, name) else {
            continue;
        };
        engine
            .load_seed(&service, data)
            .map_err(|e| Error::Internal(format!("seeding the data of {name} in {scope}: {e}")))?;
    }
    for (scope, name) in &seed_backups {
        let Some((engine, service)) = lookup(dir, &world, engines, scope, name) else {
            continue;
        };
        let id = Uuid::new_v4();
        let written = write_backup_file(engine, &service, &backups_dir, id).map_err(|e| {
            Error::Internal(format!("making the seed backup of {name} in {scope}: {e}"))
        })?;
        let uid = service.uid;
        world.backups.insert(
            id,
            BackupEntry {
                project: scope.project.clone(),
                stage: scope.stage.clone(),
                service_uid: uid,
                backup: Backup {
                    size: Some(written.size),
                    sha256: Some(written.sha256),
                    ..new_backup(id, name, BackupStatus::Created, BackupOrigin::Scheduled)
                },
                file: Some(written.file),
                upload: None,
            },
        );
    }
    Ok(world)
}

/// A seeded service with an available engine; `None` skips its data (see above).
fn lookup<'e>(
    dir: &Path,
    world: &World,
    engines: &'e Engines,
    scope: &Scope,
    name: &str,
) -> Option<(&'e dyn Engine, ServiceRef)> {
    let svc = world.stage(scope)?.config.services.get(name)?;
    let engine = engines.get(svc.service_type).ok()?;
    Some((engine, ServiceRef::new(dir, scope, name, svc)))
}
