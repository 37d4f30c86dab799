//! Every platform operation the tool needs, behind one trait, so the engine and the building
//! blocks do not know whether they talk to the sandbox, the SetOps HTTP API or the `setops` CLI.

pub mod http;
mod identity;
pub mod setops_cli;

pub use identity::{PlatformIdentity, normalized_origin};

use std::path::Path;

use async_trait::async_trait;
use uuid::Uuid;

use crate::api::{DownloadTicket, ServiceConnection, UploadRequest, UploadTicket};
use crate::error::Result;
use crate::model::{
    App, Backup, Changeset, ChangesetCommand, Commit, EnvVar, Link, Project, Scope, Service,
    ServiceType, Stage, Task, User,
};

#[async_trait]
pub trait Platform: Send + Sync {
    /// Where this platform lives, for display (never holds a credential).
    fn endpoint(&self) -> String;
    /// What journals and locks are keyed by: stable across URL spellings and restarts.
    async fn identity(&self) -> Result<PlatformIdentity>;

    async fn whoami(&self) -> Result<User>;
    async fn projects(&self) -> Result<Vec<Project>>;
    async fn stages(&self, project: &str) -> Result<Vec<Stage>>;
    async fn apps(&self, scope: &Scope) -> Result<Vec<App>>;
    async fn app_links(&self, scope: &Scope, app: &str) -> Result<Vec<Link>>;
    async fn app_env(&self, scope: &Scope, app: &str) -> Result<Vec<EnvVar>>;
    /// How many containers `app` is set to run (0-16), as committed. `None` when this platform
    /// does not show it (a CLI output or stage definition without one): the caller asks, never
    /// guesses. A change is staged as [`ChangesetCommand::ScaleSet`], so it commits in one go
    /// with whatever else is staged (relinks, say).
    async fn app_scale(&self, scope: &Scope, app: &str) -> Result<Option<u8>>;
    /// The app's containers as the platform lists them (`app:ps`), stopped ones included.
    async fn app_tasks(&self, scope: &Scope, app: &str) -> Result<Vec<Task>>;
    /// How many of the app's containers may still run ([`Task::may_run`]): 0 means none writes.
    async fn running_containers(&self, scope: &Scope, app: &str) -> Result<usize> {
        let tasks = self.app_tasks(scope, app).await?;
        Ok(tasks.iter().filter(|t| t.may_run()).count())
    }
    async fn services(&self, scope: &Scope) -> Result<Vec<Service>>;
    async fn service(&self, scope: &Scope, name: &str) -> Result<Service>;

    /// Whether staged commands wait on the platform until committed or discarded (a changeset),
    /// rather than only inside this process until it applies them (a CLI 2.x stage-definition
    /// draft): a run that stops between staging and committing then leaves nothing staged.
    fn staging_outlives_the_run(&self) -> bool {
        true
    }

    /// Why this platform cannot create a service of `service_type` (a type its CLI generation
    /// does not offer), `None` when it can; asked before anything is created.
    fn refuses_type(&self, _service_type: ServiceType) -> Option<String> {
        None
    }

    /// The caller's pending changeset, `None` when nothing is pending.
    async fn changeset(&self, scope: &Scope) -> Result<Option<Changeset>>;
    async fn stage_command(&self, scope: &Scope, command: &ChangesetCommand) -> Result<Changeset>;
    /// Drops the caller's pending changeset; `false` when there was none.
    async fn discard_changeset(&self, scope: &Scope) -> Result<bool>;
    /// Validates and starts the commit; poll [`Platform::commit_status`] until it finishes.
    async fn commit(&self, scope: &Scope) -> Result<Commit>;
    async fn commit_status(&self, scope: &Scope, id: &Uuid) -> Result<Commit>;

    async fn backups(&self, scope: &Scope, service: &str) -> Result<Vec<Backup>>;
    async fn backup(&self, scope: &Scope, service: &str, id: &str) -> Result<Backup>;
    async fn create_backup(&self, scope: &Scope, service: &str) -> Result<Backup>;
    async fn restore_backup(&self, scope: &Scope, service: &str, id: &str) -> Result<Backup>;
    async fn destroy_backup(&self, scope: &Scope, service: &str, id: &str) -> Result<Backup>;
    async fn download_ticket(
        &self,
        scope: &Scope,
        service: &str,
        id: &str,
    ) -> Result<DownloadTicket>;
    /// How this platform takes an uploaded backup.
    fn uploads(&self) -> Uploads<'_>;

    /// How this machine reaches a service's data, for `run`'s verify step. `NotOffered` when
    /// the platform offers none (no such endpoint, or the service's data is not reachable from
    /// here); `Err` for every other failure, a missing service included.
    async fn service_connection(&self, scope: &Scope, service: &str) -> Result<Reachability>;
}

/// How a platform takes an uploaded backup.
pub enum Uploads<'a> {
    /// It hands out upload URLs and the client streams the file itself: the upload's ID exists
    /// before any byte is sent, and a broken upload is resumed under the same ID.
    Tickets(&'a dyn TicketUploads),
    /// It takes the whole file in one call (`setops backup:upload FILE`): the ID is known only
    /// once the call returns.
    WholeFile(&'a dyn FileUploads),
}

#[async_trait]
pub trait TicketUploads: Send + Sync {
    /// Allocates the upload (its backup ID) and returns the first URL to send the file to.
    async fn start_upload(
        &self,
        scope: &Scope,
        service: &str,
        request: &UploadRequest,
    ) -> Result<UploadTicket>;
    /// A fresh URL for the same upload, for the next attempt.
    async fn renew_upload(&self, scope: &Scope, service: &str, id: &str) -> Result<UploadTicket>;
}

#[async_trait]
pub trait FileUploads: Send + Sync {
    /// Sends `file` to `service` as a new backup and returns it as the platform lists it.
    async fn upload_file(&self, scope: &Scope, service: &str, file: &Path) -> Result<Backup>;
}

/// Whether the platform offers a way to a service's data from this machine.
#[derive(Debug, Clone)]
pub enum Reachability {
    Reachable(ServiceConnection),
    /// No connection is offered; `reason` is the platform's word for why (redact before showing).
    NotOffered {
        reason: String,
    },
}
