//! Changesets, one per (project, stage, user): show, stage a command, discard, commit, and the
//! status of a commit. Another user's changeset is invisible.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::{Changeset, ChangesetCommand, Commit, Scope, codes};
use crate::sandbox::auth::AuthUser;
use crate::sandbox::commit;
use crate::sandbox::errors::{ApiError, ApiResult};
use crate::sandbox::extract::{ApiJson, ApiPath, parse_json};
use crate::sandbox::lookup::{AppState, scope, stage_of, stage_of_mut};
use crate::sandbox::state::{PendingChangeset, StageState};

/// A command as sent, before its arguments are read. Serialized again it puts `name` first, so
/// the arguments are parsed knowing their command and a bad field is named by its full path
/// (`arguments.name`), whatever order the client sent the keys in.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCommand {
    name: String,
    arguments: serde_json::Value,
}

impl RawCommand {
    fn parse(&self) -> ApiResult<ChangesetCommand> {
        let ordered = serde_json::to_vec(self).map_err(ApiError::internal)?;
        parse_json(&ordered)
    }
}

fn no_changeset(user: &str, scope: &Scope) -> ApiError {
    ApiError::not_found(
        codes::CHANGESET_DOES_NOT_EXIST,
        format!("user {user:?} has no pending changeset in {scope}"),
    )
}

fn running(id: Uuid) -> ApiError {
    ApiError::conflict_temporary(
        codes::COMMIT_ALREADY_RUNNING,
        format!("commit {id} of this changeset is running; wait until it finishes"),
    )
}

fn model(scope: &Scope, user: &str, cs: &PendingChangeset) -> Changeset {
    Changeset {
        project: scope.project.clone(),
        stage: scope.stage.clone(),
        user: user.to_owned(),
        created_at: cs.created_at,
        commands: cs.commands.clone(),
        unrecognized: Vec::new(),
    }
}

fn pending<'s>(stage: &'s StageState, user: &str) -> Option<&'s PendingChangeset> {
    stage
        .changesets
        .get(user)
        .filter(|cs| !cs.commands.is_empty())
}

pub(super) async fn show(
    State(st): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((project, stage)): ApiPath<(String, String)>,
) -> ApiResult<Json<Changeset>> {
    let scope = scope(project, stage);
    let world = st.sandbox.world().await;
    let cs =
        pending(stage_of(&world, &scope)?, &user).ok_or_else(|| no_changeset(&user, &scope))?;
    Ok(Json(model(&scope, &user, cs)))
}

pub(super) async fn add_command(
    State(st): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((project, stage)): ApiPath<(String, String)>,
    ApiJson(raw): ApiJson<RawCommand>,
) -> ApiResult<Json<Changeset>> {
    let command = raw.parse()?;
    let scope = scope(project, stage);
    let mut world = st.sandbox.world().await;
    let stage = stage_of_mut(&mut world, &scope)?;
    let errors = command.validate_syntax();
    if !errors.is_empty() {
        let fields: Vec<String> = crate::model::flatten_validation(&errors)
            .into_iter()
            .map(|(f, v)| format!("{f}: {v}"))
            .collect();
        return Err(ApiError::validation(
            codes::VALIDATION_FAILED,
            format!("{} command refused ({})", command.name(), fields.join("; ")),
            errors,
        ));
    }
    let cs = stage
        .changesets
        .entry(user.clone())
        .or_insert_with(|| PendingChangeset {
            created_at: Utc::now(),
            commands: Vec::new(),
            commit: None,
        });
    if let Some(id) = cs.commit {
        return Err(running(id));
    }
    if cs.commands.is_empty() {
        cs.created_at = Utc::now();
    }
    cs.commands.push(command);
    let answer = model(&scope, &user, cs);
    st.sandbox.persist(&world)?;
    Ok(Json(answer))
}

pub(super) async fn discard(
    State(st): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((project, stage)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let scope = scope(project, stage);
    let mut world = st.sandbox.world().await;
    let stage = stage_of_mut(&mut world, &scope)?;
    let cs = pending(stage, &user).ok_or_else(|| no_changeset(&user, &scope))?;
    if let Some(id) = cs.commit {
        return Err(running(id));
    }
    stage.changesets.remove(&user);
    st.sandbox.persist(&world)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn commit(
    State(st): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((project, stage)): ApiPath<(String, String)>,
) -> ApiResult<(StatusCode, Json<Commit>)> {
    let scope = scope(project, stage);
    let commit = commit::start(&st.sandbox, &scope, &user).await?;
    Ok((StatusCode::ACCEPTED, Json(commit)))
}

pub(super) async fn commit_status(
    State(st): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((project, stage, id)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<Commit>> {
    let scope = scope(project, stage);
    let world = st.sandbox.world().await;
    stage_of(&world, &scope)?;
    let not_found = || {
        ApiError::not_found(
            codes::COMMIT_NOT_FOUND,
            format!("commit {id:?} does not exist in {scope} for user {user:?}"),
        )
    };
    let uuid: Uuid = id.parse().map_err(|_| not_found())?;
    world
        .commits
        .get(&uuid)
        .filter(|c| c.project == scope.project && c.stage == scope.stage && c.user == user)
        .cloned()
        .map(Json)
        .ok_or_else(not_found)
}
