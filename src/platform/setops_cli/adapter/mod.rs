//! The Platform trait carried out by running the `setops` CLI: the way to the real SetOps, whose
//! HTTP API is not public. `setops version` picks the dialect: CLI 1.x queues changes in a
//! changeset ([`v1`]), CLI 2.x edits a stage definition ([`v2`]). Both read the same `backup*`
//! outputs ([`backups`]). Everything the engine decides on comes from what these commands print.

mod backups;
mod failure;
mod probe;
mod runner;
mod session;
mod v1;
mod v2;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::api::DownloadTicket;
use crate::error::{Error, Result};
use crate::model::{
    App, Backup, Changeset, ChangesetCommand, Commit, CommitPhase, CommitStatus, EnvVar, ErrorType,
    Link, Project, Scope, Service, ServiceError, ServiceType, Stage, Task, User, codes,
};
use crate::platform::{FileUploads, Platform, PlatformIdentity, Reachability, Uploads};

use super::parse::{self, Generation};
use super::stage_def::{LinkSpec, StageDefinition};
pub use runner::Runner;
use session::{Session, unprinted_time};

pub struct SetopsCli {
    session: Session,
    /// For the ranged request that tells a download's size.
    transfers: reqwest::Client,
    /// Commits are run to their end; their outcome is kept for `commit_status`.
    commits: std::sync::Mutex<HashMap<Uuid, Commit>>,
    /// CLI 2.x: what this run staged, per stage, until it is applied.
    drafts: Mutex<HashMap<String, v2::Draft>>,
}

impl SetopsCli {
    /// Runs `setops version` and `setops login:info` through `bin` (with `env` added).
    pub async fn connect(
        bin: PathBuf,
        env: Vec<(OsString, OsString)>,
        transfers: reqwest::Client,
    ) -> Result<SetopsCli> {
        let session = Session::open(Runner::new(bin, env)).await?;
        Ok(SetopsCli {
            session,
            transfers,
            commits: std::sync::Mutex::new(HashMap::new()),
            drafts: Mutex::new(HashMap::new()),
        })
    }

    pub fn generation(&self) -> Generation {
        self.session.generation()
    }

    /// A commit that ran to its end (the CLI returns only then), kept for `commit_status`.
    fn finished(
        &self,
        scope: &Scope,
        commands: Vec<ChangesetCommand>,
        total: u32,
        started_at: chrono::DateTime<chrono::Utc>,
    ) -> Commit {
        let commit = Commit {
            id: Uuid::new_v4(),
            project: scope.project.clone(),
            stage: scope.stage.clone(),
            user: self.session.login.user.clone().unwrap_or_default(),
            status: CommitStatus::Succeeded,
            phase: CommitPhase::Done,
            applied: total,
            total,
            commands,
            started_at,
            finished_at: Some(chrono::Utc::now()),
            error: None,
        };
        if let Ok(mut commits) = self.commits.lock() {
            commits.insert(commit.id, commit.clone());
        }
        commit
    }

    async fn service_info(&self, scope: &Scope, name: &str) -> Result<Service> {
        match self.generation() {
            Generation::V1 => {
                let info = self
                    .session
                    .read(
                        Some(scope),
                        &["service:info", name],
                        &format!("reading service {name} in {scope}"),
                        parse::parse_service_info,
                    )
                    .await?;
                Ok(info.into_service(unprinted_time()))
            }
            Generation::V2 => {
                let def = self.dump(scope).await?;
                service_of(&def, name)?.ok_or_else(|| does_not_exist(scope, name))
            }
        }
    }
}

/// A definition that parsed but does not hold what was asked, as an error.
fn defined(e: super::stage_def::StageDefError) -> Error {
    Error::unexpected("reading the stage definition", e.to_string())
}

/// A service of a stage definition, with the links the apps make to it.
fn service_of(def: &StageDefinition, name: &str) -> Result<Option<Service>> {
    let Some(spec) = def.service(name).map_err(defined)? else {
        return Ok(None);
    };
    let links = def
        .links_to(name)
        .map_err(defined)?
        .into_iter()
        .map(|(app, link)| link_of(app, name, link))
        .collect();
    Ok(Some(Service {
        name: name.to_owned(),
        service_type: spec.v1_type(name).map_err(defined)?,
        plan: spec.plan.clone(),
        options: spec.options_as_strings(name).map_err(defined)?,
        links,
        backup_schedule: None,
        created_at: unprinted_time(),
    }))
}

fn link_of(app: String, service: &str, link: LinkSpec) -> Link {
    let (env_key, path, read_only) = match link {
        LinkSpec::EnvKey(key) => (Some(key), None, false),
        LinkSpec::Path { path, read_only } => (None, Some(path), read_only),
    };
    Link {
        app,
        service: service.to_owned(),
        env_key,
        path,
        read_only,
    }
}

/// Committing with nothing pending, as SetOps says it (`ChangesetDoesNotExist`).
fn nothing_pending(context: &str, message: &str) -> Error {
    state_error(context, codes::CHANGESET_DOES_NOT_EXIST, message)
}

fn state_error(context: &str, code: &str, message: &str) -> Error {
    Error::Platform {
        context: context.to_owned(),
        status: 0,
        error: Box::new(ServiceError {
            error_type: ErrorType::StateError,
            code: code.to_owned(),
            temporary: false,
            request_id: String::new(),
            message: Some(message.to_owned()),
            validation_errors: None,
        }),
    }
}

fn does_not_exist(scope: &Scope, name: &str) -> Error {
    state_error(
        &format!("reading service {name} in {scope}"),
        codes::SERVICE_DOES_NOT_EXIST,
        &format!("the stage definition has no service {name}"),
    )
}

#[async_trait]
impl Platform for SetopsCli {
    fn endpoint(&self) -> String {
        let dialect = match self.generation() {
            Generation::V1 => "changesets",
            Generation::V2 => "stage definitions",
        };
        format!(
            "setops CLI {} ({dialect}), organization {}",
            self.session.version.text, self.session.login.organization
        )
    }

    async fn identity(&self) -> Result<PlatformIdentity> {
        Ok(PlatformIdentity::Cli {
            organization: self.session.login.organization.clone(),
            api: self
                .session
                .login
                .api
                .clone()
                .unwrap_or_else(|| "default".into()),
        })
    }

    async fn whoami(&self) -> Result<User> {
        let login = &self.session.login;
        Ok(User {
            name: login
                .user
                .clone()
                .unwrap_or_else(|| login.organization.clone()),
            organization: Some(login.organization.clone()),
        })
    }

    async fn projects(&self) -> Result<Vec<Project>> {
        let names = self
            .session
            .read(None, &["project"], "listing projects", |out| {
                parse::parse_names("setops project", out)
            })
            .await?;
        Ok(names
            .into_iter()
            .map(|name| Project {
                name,
                created_at: unprinted_time(),
            })
            .collect())
    }

    async fn stages(&self, project: &str) -> Result<Vec<Stage>> {
        let names = self
            .session
            .read(
                None,
                &["-p", project, "stage"],
                &format!("listing the stages of project {project}"),
                |out| parse::parse_names("setops stage", out),
            )
            .await?;
        Ok(names
            .into_iter()
            .map(|name| Stage {
                project: project.to_owned(),
                name,
                created_at: unprinted_time(),
            })
            .collect())
    }

    async fn apps(&self, scope: &Scope) -> Result<Vec<App>> {
        // CLI 1.x lists names only; its scales take an `app:info` each (`app_scale`).
        let (names, def) = match self.generation() {
            Generation::V1 => {
                let names = self
                    .session
                    .read(
                        Some(scope),
                        &["app"],
                        &format!("listing the apps of {scope}"),
                        |out| parse::parse_names("setops app", out),
                    )
                    .await?;
                (names, None)
            }
            Generation::V2 => {
                let def = self.dump(scope).await?;
                (def.app_names(), Some(def))
            }
        };
        let mut apps = Vec::with_capacity(names.len());
        for name in names {
            let links = self.app_links(scope, &name).await?;
            let scale = match &def {
                Some(def) => def.scale(&name).map_err(defined)?,
                None => None,
            };
            apps.push(App { name, links, scale });
        }
        Ok(apps)
    }

    async fn app_links(&self, scope: &Scope, app: &str) -> Result<Vec<Link>> {
        match self.generation() {
            Generation::V1 => {
                self.session
                    .read(
                        Some(scope),
                        &["--app", app, "link"],
                        &format!("listing the links of app {app} in {scope}"),
                        |out| parse::parse_link_list(app, out),
                    )
                    .await
            }
            Generation::V2 => {
                let def = self.dump(scope).await?;
                let links = def.links(app).map_err(|e| {
                    Error::unexpected("reading the stage definition", e.to_string())
                })?;
                Ok(links
                    .into_iter()
                    .map(|(service, link)| link_of(app.to_owned(), &service, link))
                    .collect())
            }
        }
    }

    async fn app_scale(&self, scope: &Scope, app: &str) -> Result<Option<u8>> {
        match self.generation() {
            Generation::V1 => {
                let info = self
                    .session
                    .read(
                        Some(scope),
                        &["app:info", app],
                        &format!("reading app {app} in {scope}"),
                        parse::parse_app_info,
                    )
                    .await?;
                Ok(info.scale)
            }
            Generation::V2 => self.dump(scope).await?.scale(app).map_err(defined),
        }
    }

    async fn app_tasks(&self, scope: &Scope, app: &str) -> Result<Vec<Task>> {
        // 1.x lists an app's containers with `app:ps`; 2.x with `--app A task` (the deploy
        // action's poll, reference section 7).
        let (args, command) = match self.generation() {
            Generation::V1 => (vec!["app:ps", app], "setops app:ps"),
            Generation::V2 => (vec!["--app", app, "task"], "setops task"),
        };
        self.session
            .read(
                Some(scope),
                &args,
                &format!("listing the containers of app {app} in {scope}"),
                |out| parse::parse_tasks(command, out),
            )
            .await
    }

    async fn app_env(&self, scope: &Scope, app: &str) -> Result<Vec<EnvVar>> {
        self.session
            .read(
                Some(scope),
                &["--app", app, "env"],
                &format!("reading the env of app {app} in {scope}"),
                parse::parse_env_list,
            )
            .await
    }

    async fn services(&self, scope: &Scope) -> Result<Vec<Service>> {
        match self.generation() {
            Generation::V1 => {
                let names = self
                    .session
                    .read(
                        Some(scope),
                        &["service"],
                        &format!("listing the services of {scope}"),
                        parse::parse_service_list,
                    )
                    .await?;
                let mut services = Vec::with_capacity(names.len());
                for name in names {
                    services.push(self.service_info(scope, &name).await?);
                }
                Ok(services)
            }
            Generation::V2 => {
                let def = self.dump(scope).await?;
                let mut services = Vec::new();
                for name in def.service_names() {
                    services.extend(service_of(&def, &name)?);
                }
                Ok(services)
            }
        }
    }

    async fn service(&self, scope: &Scope, name: &str) -> Result<Service> {
        self.service_info(scope, name).await
    }

    fn staging_outlives_the_run(&self) -> bool {
        self.generation() == Generation::V1
    }

    fn refuses_type(&self, service_type: ServiceType) -> Option<String> {
        (self.generation() == Generation::V1 && service_type.cli_2_only()).then(|| {
            format!(
                "{service_type} is offered only through SetOps CLI 2.x stage definitions; this \
                 setops is {}, whose changesets create postgresql11 and postgresql13 (and redis6)",
                self.session.version.text
            )
        })
    }

    async fn changeset(&self, scope: &Scope) -> Result<Option<Changeset>> {
        match self.generation() {
            Generation::V1 => self.v1_changeset(scope).await,
            Generation::V2 => self.v2_changeset(scope).await,
        }
    }

    async fn stage_command(&self, scope: &Scope, command: &ChangesetCommand) -> Result<Changeset> {
        match self.generation() {
            Generation::V1 => self.v1_stage(scope, command).await,
            Generation::V2 => self.v2_stage(scope, command).await,
        }
    }

    async fn discard_changeset(&self, scope: &Scope) -> Result<bool> {
        match self.generation() {
            Generation::V1 => self.v1_discard(scope).await,
            Generation::V2 => self.v2_discard(scope).await,
        }
    }

    async fn commit(&self, scope: &Scope) -> Result<Commit> {
        match self.generation() {
            Generation::V1 => self.v1_commit(scope).await,
            Generation::V2 => self.v2_commit(scope).await,
        }
    }

    async fn commit_status(&self, scope: &Scope, id: &Uuid) -> Result<Commit> {
        let known = self
            .commits
            .lock()
            .ok()
            .and_then(|commits| commits.get(id).cloned());
        known.ok_or_else(|| {
            state_error(
                &format!("following commit {id} of {scope}"),
                codes::COMMIT_NOT_FOUND,
                "this run did not start that commit",
            )
        })
    }

    async fn backups(&self, scope: &Scope, service: &str) -> Result<Vec<Backup>> {
        self.list_backups(scope, service).await
    }

    async fn backup(&self, scope: &Scope, service: &str, id: &str) -> Result<Backup> {
        self.backup_info(scope, service, id).await
    }

    async fn create_backup(&self, scope: &Scope, service: &str) -> Result<Backup> {
        self.backup_create(scope, service).await
    }

    async fn restore_backup(&self, scope: &Scope, service: &str, id: &str) -> Result<Backup> {
        self.backup_restore(scope, service, id).await
    }

    async fn destroy_backup(&self, scope: &Scope, service: &str, id: &str) -> Result<Backup> {
        self.backup_destroy(scope, service, id).await
    }

    async fn download_ticket(
        &self,
        scope: &Scope,
        service: &str,
        id: &str,
    ) -> Result<DownloadTicket> {
        self.ticket(scope, service, id).await
    }

    fn uploads(&self) -> Uploads<'_> {
        Uploads::WholeFile(self)
    }

    async fn service_connection(&self, _scope: &Scope, _service: &str) -> Result<Reachability> {
        Ok(Reachability::NotOffered {
            reason: "the setops CLI offers no connection to a service's data".into(),
        })
    }
}

#[async_trait]
impl FileUploads for SetopsCli {
    async fn upload_file(&self, scope: &Scope, service: &str, file: &Path) -> Result<Backup> {
        self.upload(scope, service, file).await
    }
}
