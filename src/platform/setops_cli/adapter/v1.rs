//! CLI 1.x: changesets. Each staged command is the `setops` command that queues it, the
//! changeset is `changeset:info`, and a commit is `changeset:commit` run to its end.

use chrono::Utc;

use crate::error::{Error, Result};
use crate::model::{Changeset, ChangesetCommand, Commit, Scope};

use super::super::parse::{self, PendingCommand};
use super::SetopsCli;
use super::session::unprinted_time;

/// The command line that queues `command`.
pub fn arguments(command: &ChangesetCommand) -> Vec<String> {
    let s = |v: &str| v.to_owned();
    match command {
        ChangesetCommand::ServiceCreate {
            name,
            service_type,
            plan,
        } => {
            let mut a = vec![
                s("service:create"),
                name.clone(),
                s("--type"),
                service_type.clone(),
            ];
            if let Some(plan) = plan {
                a.extend([s("--plan"), plan.clone()]);
            }
            a
        }
        ChangesetCommand::ServiceDestroy { name } => vec![s("service:destroy"), name.clone()],
        ChangesetCommand::OptionSet {
            service,
            option,
            value,
        } => vec![
            s("--service"),
            service.clone(),
            s("option:set"),
            option.clone(),
            value.clone(),
        ],
        ChangesetCommand::OptionUnset { service, option } => vec![
            s("--service"),
            service.clone(),
            s("option:unset"),
            option.clone(),
        ],
        ChangesetCommand::BackupSchedule {
            service,
            hours,
            weekdays,
        } => {
            let mut a = vec![s("--service"), service.clone(), s("backup:schedule")];
            for h in hours {
                a.extend([s("--hour"), h.to_string()]);
            }
            for d in weekdays {
                a.extend([s("--weekday"), d.clone()]);
            }
            a
        }
        ChangesetCommand::BackupUnschedule { service } => {
            vec![s("--service"), service.clone(), s("backup:unschedule")]
        }
        ChangesetCommand::LinkCreate {
            app,
            service,
            env_key,
            path,
            read_only,
        } => {
            let mut a = vec![s("--app"), app.clone(), s("link:create"), service.clone()];
            if let Some(key) = env_key {
                a.extend([s("--env-key"), key.clone()]);
            }
            if let Some(path) = path {
                a.extend([s("--path"), path.clone()]);
            }
            if *read_only {
                a.push(s("--read-only"));
            }
            a
        }
        ChangesetCommand::LinkDestroy { app, service } => {
            vec![s("--app"), app.clone(), s("link:destroy"), service.clone()]
        }
        ChangesetCommand::ScaleSet { app, scale } => vec![
            s("--app"),
            app.clone(),
            s("resource:set"),
            s("scale"),
            scale.to_string(),
        ],
    }
}

impl SetopsCli {
    pub(super) async fn v1_changeset(&self, scope: &Scope) -> Result<Option<Changeset>> {
        let pending = self
            .session
            .read(
                Some(scope),
                &["changeset:info"],
                &format!("reading your changeset of {scope}"),
                parse::parse_changeset_info,
            )
            .await?;
        Ok(pending.map(|p| {
            let (mut commands, mut unrecognized) = (Vec::new(), Vec::new());
            for c in p.commands {
                match c {
                    PendingCommand::Known(command) => commands.push(command),
                    PendingCommand::Other { name, arguments } => {
                        unrecognized.push(format!("{name} {arguments}"))
                    }
                }
            }
            Changeset {
                project: scope.project.clone(),
                stage: scope.stage.clone(),
                user: self.session.login.user.clone().unwrap_or_default(),
                created_at: p.created_at.unwrap_or_else(unprinted_time),
                commands,
                unrecognized,
            }
        }))
    }

    pub(super) async fn v1_stage(
        &self,
        scope: &Scope,
        command: &ChangesetCommand,
    ) -> Result<Changeset> {
        let args = arguments(command);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.session
            .call(
                Some(scope),
                &args,
                &format!("queuing {} in your changeset of {scope}", command.name()),
            )
            .await?;
        self.v1_changeset(scope).await?.ok_or_else(|| {
            Error::unexpected(
                format!("queuing {} in your changeset of {scope}", command.name()),
                "the CLI accepted the command but `changeset:info` shows nothing pending; run \
                 the same command again",
            )
        })
    }

    pub(super) async fn v1_discard(&self, scope: &Scope) -> Result<bool> {
        Ok(self
            .session
            .call_unless_nothing_pending(
                scope,
                &["changeset:discard"],
                &format!("discarding your changeset of {scope}"),
            )
            .await?
            .is_some())
    }

    /// `changeset:commit` returns when the commit has ended, so the commit handed back is final.
    pub(super) async fn v1_commit(&self, scope: &Scope) -> Result<Commit> {
        let context = format!("committing your changeset of {scope}");
        let commands = self
            .v1_changeset(scope)
            .await?
            .map(|c| c.commands)
            .unwrap_or_default();
        let started_at = Utc::now();
        let ran = self
            .session
            .call_unless_nothing_pending(
                scope,
                &["--output", "plain", "changeset:commit"],
                &context,
            )
            .await?
            .ok_or_else(|| {
                super::nothing_pending(
                    &context,
                    "`setops changeset:commit` exited 78: nothing is pending",
                )
            })?;
        let report = parse::parse_changeset_commit(&ran.stdout)
            .map_err(|e| super::failure::unreadable(&ran, e))?;
        if !report.successful {
            return Err(super::failure::failed(&ran, &context));
        }
        let total = report
            .progress
            .map(|(_, m)| m)
            .unwrap_or(commands.len() as u32);
        Ok(self.finished(scope, commands, total, started_at))
    }
}
