//! Commits: validate the caller's changeset, freeze it, and run it asynchronously through
//! Initializing -> Planning -> Applying (n/total) before the working copy replaces the committed
//! stage in one step (provisioning created services, removing destroyed ones' data).

use std::collections::BTreeSet;
use std::fs;

use chrono::Utc;
use uuid::Uuid;

use super::Sandbox;
use super::engines::ServiceRef;
use super::errors::{ApiError, ApiResult};
use super::lookup::stage_of;
use super::rules;
use super::state::{StageConfig, World};
use crate::model::{
    BackupStatus, ChangesetCommand, Commit, CommitPhase, CommitStatus, ErrorType, Scope,
    ServiceError, codes, flatten_validation,
};

/// Services of the stage whose backups are being created or restored.
fn busy_services(world: &World, scope: &Scope) -> BTreeSet<Uuid> {
    world
        .backups
        .values()
        .filter(|b| b.project == scope.project && b.stage == scope.stage)
        .filter(|b| {
            matches!(
                b.backup.status,
                BackupStatus::Creating | BackupStatus::Restoring
            )
        })
        .map(|b| b.service_uid)
        .collect()
}

/// `commands[2].env_key: taken; commands[5].name: invalid`
fn summarize(tree: &crate::model::ValidationErrors) -> String {
    flatten_validation(tree)
        .into_iter()
        .map(|(path, v)| format!("{}: {v}", path.trim_start_matches("changeset.")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Validates and starts the commit of `user`'s changeset (202 with the RUNNING commit).
pub(crate) async fn start(sandbox: &Sandbox, scope: &Scope, user: &str) -> ApiResult<Commit> {
    let mut world = sandbox.world().await;
    let stage = stage_of(&world, scope)?;
    let Some(changeset) = stage
        .changesets
        .get(user)
        .filter(|c| !c.commands.is_empty())
    else {
        return Err(ApiError::not_found(
            codes::CHANGESET_DOES_NOT_EXIST,
            format!("user {user:?} has no pending changeset in {scope}; stage commands first"),
        ));
    };
    if let Some(id) = changeset.commit {
        return Err(ApiError::conflict_temporary(
            codes::COMMIT_ALREADY_RUNNING,
            format!("commit {id} of this changeset is running; wait until it finishes"),
        ));
    }
    if let Some((other, cs)) = stage
        .changesets
        .iter()
        .find(|(u, cs)| u.as_str() != user && cs.commit.is_some())
    {
        return Err(ApiError::conflict_temporary(
            codes::CHANGESET_LOCKED,
            format!(
                "user {other:?} is committing to {scope} (commit {}); retry when it finished",
                cs.commit.map(|c| c.to_string()).unwrap_or_default()
            ),
        ));
    }
    let commands = changeset.commands.clone();
    let now = Utc::now();
    if let Err(tree) = rules::check(&stage.config, &commands, &busy_services(&world, scope), now) {
        return Err(ApiError::validation(
            codes::CHANGESET_INVALID,
            format!(
                "the changeset cannot be committed to {scope}: {}; nothing was applied",
                summarize(&tree)
            ),
            tree,
        ));
    }
    let commit = Commit {
        id: Uuid::new_v4(),
        project: scope.project.clone(),
        stage: scope.stage.clone(),
        user: user.to_owned(),
        status: CommitStatus::Running,
        phase: CommitPhase::Initializing,
        applied: 0,
        total: commands.len() as u32,
        commands,
        started_at: now,
        finished_at: None,
        error: None,
    };
    if let Some(cs) = world
        .stage_mut(scope)
        .and_then(|s| s.changesets.get_mut(user))
    {
        cs.commit = Some(commit.id);
    }
    world.commits.insert(commit.id, commit.clone());
    sandbox.persist(&world)?;
    drop(world);
    let runner = sandbox.clone();
    let id = commit.id;
    sandbox.spawn(async move { run(runner, id).await });
    Ok(commit)
}

/// Moves the commit through its phases; a shutdown leaves it RUNNING on disk, and the next open
/// marks it failed with the changeset kept.
async fn run(sandbox: Sandbox, id: Uuid) {
    let total = {
        let world = sandbox.world().await;
        match world.commits.get(&id) {
            Some(c) => c.total,
            None => return,
        }
    };
    // Each phase and each applied command lasts one `commit_phase_ms`.
    let mut steps = vec![(CommitPhase::Planning, 0)];
    steps.extend((1..=total).map(|n| (CommitPhase::Applying, n)));
    for (phase, applied) in steps {
        if !sandbox.pause(sandbox.knobs().commit_phase()).await {
            return;
        }
        let mut world = sandbox.world().await;
        let Some(commit) = world.commits.get_mut(&id) else {
            return;
        };
        commit.phase = phase;
        commit.applied = applied;
        let _ = sandbox.persist(&world);
    }
    if !sandbox.pause(sandbox.knobs().commit_phase()).await {
        return;
    }
    let mut world = sandbox.world().await;
    finish(&sandbox, &mut world, id);
    let _ = sandbox.persist(&world);
}

fn finish(sandbox: &Sandbox, world: &mut World, id: Uuid) {
    let Some(commit) = world.commits.get(&id).cloned() else {
        return;
    };
    let scope = Scope {
        project: commit.project.clone(),
        stage: commit.stage.clone(),
    };
    let outcome = apply(sandbox, world, &scope, &commit.commands);
    let now = Utc::now();
    let keep_changeset = outcome.is_err();
    if let Some(c) = world.commits.get_mut(&id) {
        c.finished_at = Some(now);
        match outcome {
            Ok(()) => {
                c.status = CommitStatus::Succeeded;
                c.phase = CommitPhase::Done;
                c.applied = c.total;
            }
            Err(error) => {
                c.status = CommitStatus::Failed;
                c.error = Some(error);
            }
        }
    }
    if let Some(stage) = world.stage_mut(&scope) {
        if keep_changeset {
            if let Some(cs) = stage.changesets.get_mut(&commit.user) {
                cs.commit = None;
            }
        } else {
            stage.changesets.remove(&commit.user);
        }
    }
}

fn commit_failed(message: String, tree: Option<crate::model::ValidationErrors>) -> ServiceError {
    ServiceError {
        error_type: ErrorType::StateError,
        code: codes::COMMIT_FAILED.to_owned(),
        temporary: false,
        request_id: String::new(),
        message: Some(message),
        validation_errors: tree,
    }
}

/// Re-checks the commands against the committed stage (backups may have started meanwhile),
/// provisions created services, swaps the configuration, and removes destroyed services' data.
fn apply(
    sandbox: &Sandbox,
    world: &mut World,
    scope: &Scope,
    commands: &[ChangesetCommand],
) -> Result<(), ServiceError> {
    let busy = busy_services(world, scope);
    let Some(stage) = world.stage_mut(scope) else {
        return Err(commit_failed(
            format!("stage {scope} no longer exists"),
            None,
        ));
    };
    let new = rules::check(&stage.config, commands, &busy, Utc::now()).map_err(|tree| {
        commit_failed(
            format!(
                "the stage changed while committing: {}; the changeset is kept, fix it and commit again",
                summarize(&tree)
            ),
            Some(tree),
        )
    })?;
    let old: StageConfig = std::mem::take(&mut stage.config);
    let old_uids: BTreeSet<Uuid> = old.services.values().map(|s| s.uid).collect();
    let new_uids: BTreeSet<Uuid> = new.services.values().map(|s| s.uid).collect();
    let root = sandbox.dir();
    let engines = sandbox.engines();
    for (name, svc) in &new.services {
        let created = !old_uids.contains(&svc.uid);
        let options_changed = old
            .services
            .get(name)
            .is_some_and(|o| o.uid == svc.uid && o.options != svc.options);
        if !(created || options_changed) {
            continue;
        }
        // A type whose engine is unavailable here is created without data (see `engines`).
        let Ok(engine) = engines.get(svc.service_type) else {
            continue;
        };
        let service = ServiceRef::new(root, scope, name, svc);
        let result = if created {
            engine
                .provision(&service)
                .and_then(|()| engine.apply_options(&service))
        } else {
            engine.apply_options(&service)
        };
        if let Err(e) = result {
            stage.config = old;
            let what = if created {
                "creating the data of"
            } else {
                "applying the options of"
            };
            return Err(commit_failed(
                format!(
                    "{what} service {name:?} failed: {e}; the changeset is kept, commit it again"
                ),
                None,
            ));
        }
    }
    let destroyed: Vec<ServiceRef> = old
        .services
        .iter()
        .filter(|(_, s)| !new_uids.contains(&s.uid))
        .map(|(name, s)| ServiceRef::new(root, scope, name, s))
        .collect();
    stage.config = new;
    // Scale changes start or stop containers once the commit is through, as a redeploy would.
    super::tasks::converge_stage(stage, Utc::now(), sandbox.knobs().task_delay());
    let recreated: BTreeSet<String> = stage.config.services.keys().cloned().collect();
    for service in destroyed {
        let (name, uid) = (&service.name, service.uid);
        // A service created again under the same name was given a fresh, empty store above
        // (which stopped anything still using the directory); engines keyed by uid
        // (PostgreSQL: a database per uid) remove the old one all the same.
        if let Ok(engine) = engines.get(service.service_type)
            && (!recreated.contains(name) || engine.keyed_by_uid())
            && let Err(e) = engine.remove(&service)
        {
            eprintln!("sandbox: removing the data of destroyed service {name:?}: {e}");
        }
        let gone: Vec<Uuid> = world
            .backups
            .iter()
            .filter(|(_, b)| b.service_uid == uid)
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            if let Some(file) = world.backups.remove(&id).and_then(|b| b.file) {
                let _ = fs::remove_file(sandbox.backups_dir().join(file));
            }
        }
        let backups = &world.backups;
        world
            .transfers
            .retain(|_, t| backups.contains_key(&t.backup_id));
    }
    Ok(())
}
