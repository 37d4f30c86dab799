//! The HTTP surface: the route table, request ids, the request log, the overload knob, and the
//! scope lookups every stage-level handler starts with.

mod backups;
mod changesets;
mod faults;
mod resources;
mod tickets;
mod transfer;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::errors::{ApiError, REQUEST_ID, new_request_id};
use super::lookup::AppState;
use crate::api::{REQUEST_ID_HEADER, TRANSFER_PREFIX};
use crate::model::codes;

pub(crate) fn router(state: AppState, log_requests: bool) -> Router {
    const STAGE: &str = "/projects/{project}/stages/{stage}";
    let r = |path: &str| format!("{STAGE}{path}");
    let api = Router::new()
        .route("/health", get(resources::health))
        .route("/me", get(resources::me))
        .route("/projects", get(resources::projects))
        .route("/projects/{project}/stages", get(resources::stages))
        .route(&r("/apps"), get(resources::apps))
        .route(&r("/apps/{app}"), get(resources::app))
        .route(&r("/apps/{app}/links"), get(resources::app_links))
        .route(&r("/apps/{app}/env"), get(resources::app_env))
        .route(&r("/apps/{app}/tasks"), get(resources::app_tasks))
        .route(&r("/services"), get(resources::services))
        .route(&r("/services/{service}"), get(resources::service))
        .route(
            &r("/services/{service}/connection"),
            get(resources::service_connection),
        )
        .route(
            &r("/changeset"),
            get(changesets::show).delete(changesets::discard),
        )
        .route(&r("/changeset/commands"), post(changesets::add_command))
        .route(&r("/changeset/commit"), post(changesets::commit))
        .route(&r("/commits/{id}"), get(changesets::commit_status))
        .route(
            &r("/services/{service}/backups"),
            get(backups::list).post(backups::create),
        )
        .route(
            &r("/services/{service}/backups/{id}"),
            get(backups::info).delete(backups::destroy),
        )
        .route(
            &r("/services/{service}/backups/{id}/restore"),
            post(backups::restore),
        )
        .route(
            &r("/services/{service}/backups/{id}/download"),
            post(tickets::download),
        )
        .route(
            &r("/services/{service}/backups/{id}/upload-url"),
            post(tickets::upload_url),
        )
        .route(
            &r("/services/{service}/uploads"),
            post(tickets::start_upload),
        )
        .layer(middleware::from_fn_with_state(state.clone(), overload));
    Router::new()
        .nest(crate::api::API_PREFIX, api)
        .route(
            &format!("{TRANSFER_PREFIX}/{{token}}"),
            get(transfer::download)
                .put(transfer::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            &crate::api::paths::sandbox_faults(),
            get(faults::show).put(faults::update),
        )
        .route(
            &crate::api::paths::sandbox_live_writes(),
            get(faults::live_writes),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            log_requests,
            request_context,
        ))
        .with_state(state)
}

/// Gives every response its `x-request-id` (also inside error bodies) and logs the request.
async fn request_context(State(log): State<bool>, req: Request, next: Next) -> Response {
    let id = new_request_id();
    let started = Instant::now();
    let method = req.method().clone();
    let path = redacted_path(req.uri());
    let mut response = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    if log {
        eprintln!(
            "{method} {path} {} {id} {}ms",
            response.status().as_u16(),
            started.elapsed().as_millis()
        );
    }
    response
}

/// The path without its query, transfer tokens replaced by `***`: logs never hold a credential.
pub(crate) fn redacted_path(uri: &Uri) -> String {
    let path = uri.path();
    match path.strip_prefix(TRANSFER_PREFIX) {
        Some(rest) if rest.starts_with('/') => format!("{TRANSFER_PREFIX}/***"),
        _ => path.to_owned(),
    }
}

/// The `overload_next` knob: answers 503 before any other work, except for health checks.
async fn overload(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().ends_with("/health") && state.sandbox.knobs().take_overload() {
        return ApiError::overload().into_response();
    }
    next.run(req).await
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(
        codes::NOT_FOUND,
        format!(
            "no such endpoint: {method} {}; see docs/openapi.yaml",
            redacted_path(&uri)
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let mut e = ApiError::not_found(
        codes::NOT_FOUND,
        format!(
            "{method} is not allowed on {}; see docs/openapi.yaml",
            redacted_path(&uri)
        ),
    );
    e.status = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    e.into_response()
}
