//! CLI 2.x: stage definitions instead of changesets. Staging edits a draft of the definition
//! `stage:dump` printed; committing applies it with `stage:apply -f FILE --auto-approve`, after
//! checking that nobody applied anything since the draft was read. The draft lives in this
//! process only: a run that stops before it applies left nothing on the platform, and its rerun
//! stages again.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::{Changeset, ChangesetCommand, Commit, Scope, ServiceType};

use super::super::stage_def::{LinkSpec, ServiceSpec, StageDefError, StageDefinition, Yaml};
use super::SetopsCli;

/// What this run staged on top of the definition it read.
pub struct Draft {
    base: StageDefinition,
    edited: StageDefinition,
    commands: Vec<ChangesetCommand>,
    created_at: DateTime<Utc>,
}

fn refused(command: &ChangesetCommand, e: StageDefError) -> Error {
    Error::usage(format!(
        "{} {} cannot be applied to the stage definition: {e}",
        command.name(),
        command.arguments_display()
    ))
}

/// `command` applied to the draft definition.
fn apply(def: &mut StageDefinition, command: &ChangesetCommand) -> Result<()> {
    let r =
        |result: std::result::Result<(), StageDefError>| result.map_err(|e| refused(command, e));
    match command {
        ChangesetCommand::ServiceCreate {
            name,
            service_type,
            plan,
        } => {
            let t: ServiceType = service_type.parse().map_err(|_| {
                Error::usage(format!("unknown service type {service_type:?} for {name}"))
            })?;
            r(def.add_service(
                name,
                &ServiceSpec::for_v1(t, plan.as_deref(), &BTreeMap::new()),
            ))
        }
        ChangesetCommand::ServiceDestroy { name } => r(def.remove_service(name).map(|_| ())),
        ChangesetCommand::OptionSet {
            service,
            option,
            value,
        } => edit_options(def, command, service, |options| {
            let value = value
                .parse::<i64>()
                .map_or_else(|_| Yaml::Str(value.clone()), Yaml::Int);
            match options.iter_mut().find(|(k, _)| k == option) {
                Some((_, v)) => *v = value,
                None => options.push((option.clone(), value)),
            }
        }),
        ChangesetCommand::OptionUnset { service, option } => {
            edit_options(def, command, service, |options| {
                options.retain(|(k, _)| k != option)
            })
        }
        ChangesetCommand::BackupSchedule { service, .. }
        | ChangesetCommand::BackupUnschedule { service } => Err(Error::usage(format!(
            "{service}: CLI 2.x stage definitions have no backup schedule (only \
             backup_retention_days); leave the schedule out, or use a CLI 1.x installation"
        ))),
        ChangesetCommand::LinkCreate {
            app,
            service,
            env_key,
            path,
            read_only,
        } => {
            let link = match (env_key, path) {
                (Some(key), _) => LinkSpec::EnvKey(key.clone()),
                (None, Some(path)) => LinkSpec::Path {
                    path: path.clone(),
                    read_only: *read_only,
                },
                (None, None) => {
                    return Err(Error::usage(format!(
                        "a link of {app} to {service} needs an env key or a path"
                    )));
                }
            };
            r(def.add_link(app, service, &link))
        }
        ChangesetCommand::LinkDestroy { app, service } => {
            r(def.remove_link(app, service).map(|_| ()))
        }
        ChangesetCommand::ScaleSet { app, scale } => r(def.set_scale(app, *scale)),
    }
}

fn edit_options(
    def: &mut StageDefinition,
    command: &ChangesetCommand,
    service: &str,
    change: impl FnOnce(&mut Vec<(String, Yaml)>),
) -> Result<()> {
    let mut spec = def
        .service(service)
        .map_err(|e| refused(command, e))?
        .ok_or_else(|| refused(command, StageDefError::NoSuchService(service.to_owned())))?;
    change(&mut spec.options);
    def.replace_service(service, &spec)
        .map_err(|e| refused(command, e))
}

impl SetopsCli {
    /// The stage definition as the platform holds it now.
    pub(super) async fn dump(&self, scope: &Scope) -> Result<StageDefinition> {
        let ran = self
            .session
            .call(
                Some(scope),
                &["stage:dump"],
                &format!("reading the stage definition of {scope}"),
            )
            .await?;
        StageDefinition::parse(&ran.stdout).map_err(|e| {
            Error::unexpected(
                format!("reading what `{}` printed", ran.shown),
                format!("{e}; nothing was changed by reading it"),
            )
        })
    }

    fn changeset_of(&self, scope: &Scope, draft: &Draft) -> Changeset {
        Changeset {
            project: scope.project.clone(),
            stage: scope.stage.clone(),
            user: self.session.login.user.clone().unwrap_or_default(),
            created_at: draft.created_at,
            commands: draft.commands.clone(),
            unrecognized: Vec::new(),
        }
    }

    pub(super) async fn v2_changeset(&self, scope: &Scope) -> Result<Option<Changeset>> {
        let drafts = self.drafts.lock().await;
        Ok(drafts
            .get(&scope.to_string())
            .map(|d| self.changeset_of(scope, d)))
    }

    pub(super) async fn v2_stage(
        &self,
        scope: &Scope,
        command: &ChangesetCommand,
    ) -> Result<Changeset> {
        let mut drafts = self.drafts.lock().await;
        let key = scope.to_string();
        if !drafts.contains_key(&key) {
            let base = self.dump(scope).await?;
            drafts.insert(
                key.clone(),
                Draft {
                    edited: base.clone(),
                    base,
                    commands: Vec::new(),
                    created_at: Utc::now(),
                },
            );
        }
        let Some(draft) = drafts.get_mut(&key) else {
            return Err(Error::unexpected("staging", "the draft vanished"));
        };
        // On a copy: a command that does not apply leaves the draft as it was.
        let mut edited = draft.edited.clone();
        apply(&mut edited, command)?;
        draft.edited = edited;
        draft.commands.push(command.clone());
        Ok(self.changeset_of(scope, draft))
    }

    pub(super) async fn v2_discard(&self, scope: &Scope) -> Result<bool> {
        Ok(self
            .drafts
            .lock()
            .await
            .remove(&scope.to_string())
            .is_some())
    }

    pub(super) async fn v2_commit(&self, scope: &Scope) -> Result<Commit> {
        let context = format!("applying the stage definition of {scope}");
        let Some(draft) = self.drafts.lock().await.remove(&scope.to_string()) else {
            return Err(super::nothing_pending(
                &context,
                "nothing is staged for this stage",
            ));
        };
        let now = self.dump(scope).await?;
        if now != draft.base {
            return Err(Error::Decision(format!(
                "the stage definition of {scope} changed since this run read it (someone else \
                 applied: {}); nothing was applied, so nobody's change is lost. Run the same \
                 command again: it starts from the definition as it is now",
                now.differences(&draft.base).join(", ")
            )));
        }
        let yaml = draft.edited.to_yaml().map_err(|e| {
            Error::unexpected(
                &context,
                format!("the edited definition cannot be written: {e}"),
            )
        })?;
        // tempfile creates the file 0600 and removes it when dropped.
        let mut file = tempfile::Builder::new()
            .prefix("setops-migrate-stage-")
            .suffix(".setops.yaml")
            .tempfile()
            .map_err(|e| {
                Error::io(
                    "creating a temporary stage definition in",
                    std::env::temp_dir(),
                    e,
                )
            })?;
        file.write_all(yaml.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| Error::io("writing", file.path(), e))?;
        let path = file.path().to_string_lossy().into_owned();
        let started_at = Utc::now();
        self.session
            .call(
                Some(scope),
                &["stage:apply", "-f", &path, "--auto-approve"],
                &context,
            )
            .await?;
        let total = draft.commands.len() as u32;
        Ok(self.finished(scope, draft.commands, total, started_at))
    }
}
