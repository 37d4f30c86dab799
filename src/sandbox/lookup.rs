//! What every stage-level handler and the commit worker start with: the server's shared state,
//! and the lookups of a stage or service that answer with the 404 naming what is missing. Below
//! the routes, so handlers, auth and commits use it without importing the route table.

use std::sync::Arc;

use super::Sandbox;
use super::errors::{ApiError, ApiResult};
use super::state::{StageState, World};
use crate::model::{Scope, codes};

#[derive(Clone)]
pub(crate) struct AppState {
    pub sandbox: Sandbox,
    /// `http://<listening address>`: the base of pre-signed transfer URLs.
    pub base_url: Arc<str>,
}

pub(crate) fn scope(project: String, stage: String) -> Scope {
    Scope { project, stage }
}

/// The stage, or the 404 that names what is missing.
pub(crate) fn stage_of<'w>(world: &'w World, scope: &Scope) -> ApiResult<&'w StageState> {
    let project = world.projects.get(&scope.project).ok_or_else(|| {
        ApiError::not_found(
            codes::PROJECT_DOES_NOT_EXIST,
            format!("project {:?} does not exist", scope.project),
        )
    })?;
    project.stages.get(&scope.stage).ok_or_else(|| {
        ApiError::not_found(
            codes::STAGE_DOES_NOT_EXIST,
            format!(
                "stage {:?} does not exist in project {:?}",
                scope.stage, scope.project
            ),
        )
    })
}

pub(crate) fn stage_of_mut<'w>(
    world: &'w mut World,
    scope: &Scope,
) -> ApiResult<&'w mut StageState> {
    stage_of(world, scope)?;
    world
        .stage_mut(scope)
        .ok_or_else(|| ApiError::internal(format!("stage {scope} vanished")))
}

pub(crate) fn service_missing(service: &str, scope: &Scope) -> ApiError {
    ApiError::not_found(
        codes::SERVICE_DOES_NOT_EXIST,
        format!("service {service:?} does not exist in {scope} (commit a service:create first)"),
    )
}
