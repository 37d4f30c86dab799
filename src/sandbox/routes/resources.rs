//! Read endpoints: they show COMMITTED state only, like SetOps' `service`, `service:info`,
//! `link` and `env`.

use axum::Json;
use axum::extract::State;

use crate::api::{Health, ServiceConnection};
use crate::model::{
    App, EnvVar, Link, Project, Scope, Service, ServiceType, Stage, Task, User, codes,
};
use crate::sandbox::auth::AuthUser;
use crate::sandbox::engines::ServiceRef;
use crate::sandbox::errors::{ApiError, ApiResult};
use crate::sandbox::extract::ApiPath;
use crate::sandbox::lookup::{AppState, scope, service_missing, stage_of};
use crate::sandbox::state::StageConfig;

pub(super) async fn health(State(st): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        instance: Some(st.sandbox.instance().to_owned()),
    })
}

pub(super) async fn me(AuthUser(user): AuthUser) -> Json<User> {
    Json(User {
        name: user,
        organization: Some(SANDBOX_ORGANIZATION.to_owned()),
    })
}

/// Every sandbox user belongs to this one organization.
const SANDBOX_ORGANIZATION: &str = "sandbox";

pub(super) async fn projects(State(st): State<AppState>, _: AuthUser) -> Json<Vec<Project>> {
    let world = st.sandbox.world().await;
    Json(
        world
            .projects
            .iter()
            .map(|(name, p)| Project {
                name: name.clone(),
                created_at: p.created_at,
            })
            .collect(),
    )
}

pub(super) async fn stages(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath(project): ApiPath<String>,
) -> ApiResult<Json<Vec<Stage>>> {
    let world = st.sandbox.world().await;
    let p = world.projects.get(&project).ok_or_else(|| {
        ApiError::not_found(
            codes::PROJECT_DOES_NOT_EXIST,
            format!("project {project:?} does not exist"),
        )
    })?;
    Ok(Json(
        p.stages
            .iter()
            .map(|(name, s)| Stage {
                project: project.clone(),
                name: name.clone(),
                created_at: s.created_at,
            })
            .collect(),
    ))
}

fn app_missing(app: &str, scope: &Scope) -> ApiError {
    ApiError::not_found(
        codes::APP_DOES_NOT_EXIST,
        format!("app {app:?} does not exist in {scope}"),
    )
}

pub(super) async fn apps(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage)): ApiPath<(String, String)>,
) -> ApiResult<Json<Vec<App>>> {
    let scope = scope(project, stage);
    let world = st.sandbox.world().await;
    let config = &stage_of(&world, &scope)?.config;
    Ok(Json(
        config
            .apps
            .keys()
            .filter_map(|name| config.app_model(name))
            .collect(),
    ))
}

fn find_app(config: &StageConfig, app: &str, scope: &Scope) -> ApiResult<App> {
    config.app_model(app).ok_or_else(|| app_missing(app, scope))
}

pub(super) async fn app(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, app)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<App>> {
    let scope = scope(project, stage);
    let world = st.sandbox.world().await;
    find_app(&stage_of(&world, &scope)?.config, &app, &scope).map(Json)
}

pub(super) async fn app_links(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, app)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<Vec<Link>>> {
    let scope = scope(project, stage);
    let world = st.sandbox.world().await;
    find_app(&stage_of(&world, &scope)?.config, &app, &scope).map(|a| Json(a.links))
}

/// The app's containers now: running, starting, stopping and recently stopped ones. Waits for
/// live writes in flight, so a container shown as stopped writes nothing after this answer.
pub(super) async fn app_tasks(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, app)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<Vec<Task>>> {
    let scope = scope(project, stage);
    let _settled = st.sandbox.containers_settled().await;
    let world = st.sandbox.world().await;
    let stage = stage_of(&world, &scope)?;
    find_app(&stage.config, &app, &scope)?;
    let now = chrono::Utc::now();
    Ok(Json(
        stage
            .tasks
            .get(&app)
            .into_iter()
            .flatten()
            .map(|t| t.to_model(now))
            .collect(),
    ))
}

/// What the app receives from its env-key links; mounted volumes give no env var.
pub(super) async fn app_env(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, app)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<Vec<EnvVar>>> {
    let scope = scope(project, stage);
    // Read the links under the lock; compute the values without it, since an engine may have
    // to start a server first (a Redis service after a sandbox restart).
    let linked: Vec<(String, ServiceRef)> = {
        let world = st.sandbox.world().await;
        let config = &stage_of(&world, &scope)?.config;
        let app_model = find_app(config, &app, &scope)?;
        app_model
            .links
            .into_iter()
            .filter_map(|link| {
                let key = link.env_key?;
                let svc = config.services.get(&link.service)?;
                Some((
                    key,
                    ServiceRef::new(st.sandbox.dir(), &scope, &link.service, svc),
                ))
            })
            .collect()
    };
    let sandbox = st.sandbox.clone();
    let base_url = st.base_url.clone();
    let vars = tokio::task::spawn_blocking(move || {
        linked
            .into_iter()
            .map(|(key, service)| env_var(&sandbox, &base_url, key, &service))
            .collect::<ApiResult<Vec<Option<EnvVar>>>>()
    })
    .await
    .map_err(|e| ApiError::internal(format!("computing env values: {e}")))??;
    Ok(Json(vars.into_iter().flatten().collect()))
}

/// The variable one env-key link gives; `None` for types that give none.
fn env_var(
    sandbox: &crate::sandbox::Sandbox,
    base_url: &str,
    key: String,
    service: &ServiceRef,
) -> ApiResult<Option<EnvVar>> {
    let mut description = format!("{} service {}", service.service_type, service.name);
    if service.service_type == ServiceType::Mongodb4 {
        description.push_str(": no value, no MongoDB server runs in the sandbox");
    }
    let engine = match sandbox.engines().get(service.service_type) {
        Ok(engine) => engine,
        Err(reason) => {
            return Ok(Some(EnvVar {
                key,
                value: String::new(),
                description: Some(format!("{description}: no value, {reason}")),
                secret: false,
            }));
        }
    };
    let value = engine.env_value(service, base_url).map_err(|e| {
        ApiError::internal(format!("the env value of service {:?}: {e}", service.name))
    })?;
    Ok(value.map(|(value, secret)| EnvVar {
        key,
        value,
        description: Some(description),
        secret,
    }))
}

pub(super) async fn services(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage)): ApiPath<(String, String)>,
) -> ApiResult<Json<Vec<Service>>> {
    let scope = scope(project, stage);
    let world = st.sandbox.world().await;
    let config = &stage_of(&world, &scope)?.config;
    Ok(Json(
        config
            .services
            .keys()
            .filter_map(|name| config.service_model(name))
            .collect(),
    ))
}

pub(super) async fn service(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, service)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<Service>> {
    let scope = scope(project, stage);
    let world = st.sandbox.world().await;
    stage_of(&world, &scope)?
        .config
        .service_model(&service)
        .map(Json)
        .ok_or_else(|| service_missing(&service, &scope))
}

/// How this machine reaches a service's data (a sandbox extension, see `api::ServiceConnection`).
pub(super) async fn service_connection(
    State(st): State<AppState>,
    _: AuthUser,
    ApiPath((project, stage, service)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<ServiceConnection>> {
    let scope = scope(project, stage);
    let service_ref = {
        let world = st.sandbox.world().await;
        let svc = stage_of(&world, &scope)?
            .config
            .services
            .get(&service)
            .ok_or_else(|| service_missing(&service, &scope))?;
        ServiceRef::new(st.sandbox.dir(), &scope, &service, svc)
    };
    let sandbox = st.sandbox.clone();
    // Off the async workers: the engine may start a server first.
    tokio::task::spawn_blocking(move || {
        let engine = sandbox
            .engines()
            .get(service_ref.service_type)
            .and_then(|engine| {
                if service_ref.service_type == ServiceType::Mongodb4 {
                    Err(crate::sandbox::Error::engine(
                        "no MongoDB server runs in the sandbox; only the archive is kept",
                    ))
                } else {
                    Ok(engine)
                }
            })
            .map_err(|reason| {
                ApiError::unprocessable(
                    codes::CURRENTLY_NOT_SUPPORTED,
                    format!("service {service:?} holds no data here: {reason}"),
                )
            })?;
        // A failure of an engine that has data (a server that does not start) is the
        // sandbox's fault, not "unreachable by design": verify must not skip over it.
        engine
            .connection(&service_ref)
            .map(Json)
            .map_err(|e| ApiError::internal(format!("service {service:?} cannot be reached: {e}")))
    })
    .await
    .map_err(|e| ApiError::internal(format!("looking up the connection: {e}")))?
}
