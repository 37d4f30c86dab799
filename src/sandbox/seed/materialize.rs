//! Writing a checked seed to disk.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use uuid::Uuid;

use super::Seeded;
use crate::error::{Error, Result};
use crate::model::{Backup, BackupOrigin, BackupStatus, Scope};
use crate::sandbox::content;
use crate::sandbox::engines::{data_dir, engine_for};
use crate::sandbox::jobs::write_backup_file;
use crate::sandbox::state::{BackupEntry, World, new_backup};

/// Writes a checked seed to disk: empty data directories for every service with an engine, the
/// generated content, and the seed backups (CREATED, origin scheduled). Leftovers of an
/// interrupted earlier seeding are cleared first.
pub(crate) fn materialize(dir: &Path, seeded: Seeded) -> Result<World> {
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
                if let Some(engine) = engine_for(svc.service_type) {
                    let data = data_dir(dir, &scope, name);
                    engine
                        .provision(&data)
                        .map_err(|e| Error::io("creating service data", &data, e))?;
                }
            }
        }
    }
    for (scope, name, spec) in &contents {
        let data = data_dir(dir, scope, name);
        content::generate(&data, spec)
            .map_err(|e| Error::io("generating seed content in", &data, e))?;
    }
    for (scope, name) in &seed_backups {
        let Some(svc) = world
            .stage(scope)
            .and_then(|s| s.config.services.get(name))
            .cloned()
        else {
            continue;
        };
        let Some(engine) = engine_for(svc.service_type) else {
            continue;
        };
        let id = Uuid::new_v4();
        let written = write_backup_file(
            engine,
            &data_dir(dir, scope, name),
            &backups_dir,
            id,
            svc.service_type,
        )
        .map_err(|e| {
            Error::Internal(format!("making the seed backup of {name} in {scope}: {e}"))
        })?;
        world.backups.insert(
            id,
            BackupEntry {
                project: scope.project.clone(),
                stage: scope.stage.clone(),
                service_uid: svc.uid,
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
