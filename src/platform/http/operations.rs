//! Every [`Platform`] operation as one API call: its method, path, body and the context its
//! errors carry (`reading service "files" in shop/production`).

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use uuid::Uuid;

use super::HttpPlatform;
use crate::api::{DownloadTicket, Health, UploadRequest, UploadTicket, paths};
use crate::error::{Error, Result};
use crate::model::{
    App, Backup, Changeset, ChangesetCommand, Commit, EnvVar, Link, Project, Scope, Service, Stage,
    Task, User, codes,
};
use crate::platform::{
    Platform, PlatformIdentity, Reachability, TicketUploads, Uploads, normalized_origin,
};

fn is_code(error: &Error, status: StatusCode, code: &str) -> bool {
    matches!(error, Error::Platform { status: s, error, .. } if *s == status.as_u16() && error.code == code)
}

/// A 404 that names a missing project, stage or service is an error; any other 404 of the
/// connection route means the platform has no such endpoint (real SetOps has none).
fn is_missing_resource(error: &Error) -> bool {
    [
        codes::PROJECT_DOES_NOT_EXIST,
        codes::STAGE_DOES_NOT_EXIST,
        codes::SERVICE_DOES_NOT_EXIST,
    ]
    .iter()
    .any(|code| is_code(error, StatusCode::NOT_FOUND, code))
}

fn in_service(service: &str, scope: &Scope) -> String {
    format!("service {service:?} in {scope}")
}

fn of_backup(id: &str, service: &str, scope: &Scope) -> String {
    format!("backup {id} of {}", in_service(service, scope))
}

#[async_trait]
impl Platform for HttpPlatform {
    fn endpoint(&self) -> String {
        self.base.clone()
    }

    async fn identity(&self) -> Result<PlatformIdentity> {
        let context = format!("asking {} who it is", self.base);
        let health: Health = self.get(&paths::health(), &context).await?;
        if let Some(instance) = health.instance.filter(|i| !i.trim().is_empty()) {
            return Ok(PlatformIdentity::Sandbox { instance });
        }
        let user = self.whoami().await?;
        let origin = normalized_origin(&self.base).ok_or_else(|| {
            Error::Usage(format!("the API URL {} has no usable origin", self.base))
        })?;
        Ok(PlatformIdentity::Api {
            origin,
            // A platform that names no organization has one: the token's.
            organization: user.organization.unwrap_or_else(|| "default".to_owned()),
        })
    }

    async fn whoami(&self) -> Result<User> {
        let context = format!("checking the API token at {}", self.base);
        self.get(&paths::me(), &context).await
    }

    async fn projects(&self) -> Result<Vec<Project>> {
        self.get(&paths::projects(), "listing projects").await
    }

    async fn stages(&self, project: &str) -> Result<Vec<Stage>> {
        let context = format!("listing stages of project {project:?}");
        self.get(&paths::stages(project), &context).await
    }

    async fn apps(&self, scope: &Scope) -> Result<Vec<App>> {
        let context = format!("listing apps in {scope}");
        self.get(&paths::apps(scope), &context).await
    }

    async fn app_links(&self, scope: &Scope, app: &str) -> Result<Vec<Link>> {
        let context = format!("listing links of app {app:?} in {scope}");
        self.get(&paths::app_links(scope, app), &context).await
    }

    async fn app_env(&self, scope: &Scope, app: &str) -> Result<Vec<EnvVar>> {
        let context = format!("reading the environment of app {app:?} in {scope}");
        self.get(&paths::app_env(scope, app), &context).await
    }

    async fn app_scale(&self, scope: &Scope, app: &str) -> Result<Option<u8>> {
        let context = format!("reading the scale of app {app:?} in {scope}");
        let app: App = self.get(&paths::app(scope, app), &context).await?;
        Ok(app.scale)
    }

    async fn app_tasks(&self, scope: &Scope, app: &str) -> Result<Vec<Task>> {
        let context = format!("listing the containers of app {app:?} in {scope}");
        self.get(&paths::app_tasks(scope, app), &context).await
    }

    async fn services(&self, scope: &Scope) -> Result<Vec<Service>> {
        let context = format!("listing services in {scope}");
        self.get(&paths::services(scope), &context).await
    }

    async fn service(&self, scope: &Scope, name: &str) -> Result<Service> {
        let context = format!("reading {}", in_service(name, scope));
        self.get(&paths::service(scope, name), &context).await
    }

    async fn changeset(&self, scope: &Scope) -> Result<Option<Changeset>> {
        let context = format!("reading the pending changeset in {scope}");
        match self.get(&paths::changeset(scope), &context).await {
            Ok(changeset) => Ok(Some(changeset)),
            Err(e) if is_code(&e, StatusCode::NOT_FOUND, codes::CHANGESET_DOES_NOT_EXIST) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn stage_command(&self, scope: &Scope, command: &ChangesetCommand) -> Result<Changeset> {
        let context = format!(
            "staging {} {} in {scope}",
            command.name(),
            command.arguments_display()
        );
        self.post(&paths::changeset_commands(scope), Some(command), &context)
            .await
    }

    async fn discard_changeset(&self, scope: &Scope) -> Result<bool> {
        let context = format!("discarding the pending changeset in {scope}");
        match self
            .send(Method::DELETE, &paths::changeset(scope), None, &context)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_code(&e, StatusCode::NOT_FOUND, codes::CHANGESET_DOES_NOT_EXIST) => {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    async fn commit(&self, scope: &Scope) -> Result<Commit> {
        let context = format!("committing the pending changeset in {scope}");
        self.post(&paths::changeset_commit(scope), None::<&()>, &context)
            .await
    }

    async fn commit_status(&self, scope: &Scope, id: &Uuid) -> Result<Commit> {
        let context = format!("reading commit {id} in {scope}");
        self.get(&paths::commit(scope, id), &context).await
    }

    async fn backups(&self, scope: &Scope, service: &str) -> Result<Vec<Backup>> {
        let context = format!("listing backups of {}", in_service(service, scope));
        self.get(&paths::backups(scope, service), &context).await
    }

    async fn backup(&self, scope: &Scope, service: &str, id: &str) -> Result<Backup> {
        let context = format!("reading {}", of_backup(id, service, scope));
        self.get(&paths::backup(scope, service, id), &context).await
    }

    async fn create_backup(&self, scope: &Scope, service: &str) -> Result<Backup> {
        let context = format!("creating a backup of {}", in_service(service, scope));
        self.post(&paths::backups(scope, service), None::<&()>, &context)
            .await
    }

    async fn restore_backup(&self, scope: &Scope, service: &str, id: &str) -> Result<Backup> {
        let context = format!("restoring {}", of_backup(id, service, scope));
        self.post(
            &paths::backup_restore(scope, service, id),
            None::<&()>,
            &context,
        )
        .await
    }

    async fn destroy_backup(&self, scope: &Scope, service: &str, id: &str) -> Result<Backup> {
        let context = format!("destroying {}", of_backup(id, service, scope));
        self.call(
            Method::DELETE,
            &paths::backup(scope, service, id),
            None,
            &context,
        )
        .await
    }

    async fn download_ticket(
        &self,
        scope: &Scope,
        service: &str,
        id: &str,
    ) -> Result<DownloadTicket> {
        let context = format!(
            "requesting a download URL for {}",
            of_backup(id, service, scope)
        );
        self.post(
            &paths::backup_download(scope, service, id),
            None::<&()>,
            &context,
        )
        .await
    }

    fn uploads(&self) -> Uploads<'_> {
        Uploads::Tickets(self)
    }

    async fn service_connection(&self, scope: &Scope, service: &str) -> Result<Reachability> {
        let context = format!("reading the connection of {}", in_service(service, scope));
        match self
            .get(&paths::service_connection(scope, service), &context)
            .await
        {
            Ok(connection) => Ok(Reachability::Reachable(connection)),
            Err(e @ Error::Platform { status: 404, .. }) if !is_missing_resource(&e) => {
                Ok(Reachability::NotOffered {
                    reason: "the platform has no connection endpoint (HTTP 404)".to_owned(),
                })
            }
            Err(Error::Platform {
                status: 422, error, ..
            }) if error.code == codes::CURRENTLY_NOT_SUPPORTED => Ok(Reachability::NotOffered {
                reason: error.message.unwrap_or_else(|| error.code.clone()),
            }),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl TicketUploads for HttpPlatform {
    async fn start_upload(
        &self,
        scope: &Scope,
        service: &str,
        request: &UploadRequest,
    ) -> Result<UploadTicket> {
        let context = format!(
            "starting the upload of {:?} to {}",
            request.filename,
            in_service(service, scope)
        );
        self.post(&paths::uploads(scope, service), Some(request), &context)
            .await
    }

    async fn renew_upload(&self, scope: &Scope, service: &str, id: &str) -> Result<UploadTicket> {
        let context = format!(
            "renewing the upload URL of {}",
            of_backup(id, service, scope)
        );
        self.post(
            &paths::upload_url(scope, service, id),
            None::<&()>,
            &context,
        )
        .await
    }
}
