//! The commands both generations share, and the changeset commands of CLI 1.x. Every output is
//! the building blocks' rendering (`crate::commands`): the documented tables, padded blocks and
//! sizes, never a second renderer.

use std::path::Path;

pub(crate) use super::call::Call;
use super::failure::Failure;
use super::session;
use crate::commands::{
    app_info_block, backup_block, backup_create_block, backup_info_block, backups_table,
    commit_and_wait, download_with, env_line, links_table, mask_credentials, names_table,
    options_table, print_changeset, print_staged, scale_block, service_block, services_table,
    tasks_table, upload_with,
};
use crate::model::{App, ChangesetCommand, Scope, codes};
use crate::ui::Block;

pub(crate) async fn run(call: &Call<'_>) -> Result<(), Failure> {
    match call.spec.name {
        "version" => version(call),
        "login" => {
            let user = session::login(call.parsed.switch("service-user")).await?;
            call.print(&format!("✅ logged in as {user:?}"));
            Ok(())
        }
        "login:info" => login_info(call).await,
        "project" => {
            let front = session::connect().await?;
            let projects = front.platform().projects().await?;
            call.print(&names_table(projects.iter().map(|p| p.name.as_str())).render());
            Ok(())
        }
        "stage" => {
            let front = session::connect().await?;
            let stages = front.platform().stages(call.project()?).await?;
            call.print(&names_table(stages.iter().map(|s| s.name.as_str())).render());
            Ok(())
        }
        "app" => {
            let front = session::connect().await?;
            let apps = front.platform().apps(&call.scope()?).await?;
            call.print(&names_table(apps.iter().map(|a| a.name.as_str())).render());
            Ok(())
        }
        "service" => {
            let front = session::connect().await?;
            let services = front.platform().services(&call.scope()?).await?;
            call.print(&services_table(&services).render());
            Ok(())
        }
        "service:info" => {
            let front = session::connect().await?;
            let service = front
                .platform()
                .service(&call.scope()?, call.parsed.arg(0))
                .await?;
            call.print(&service_block(&service).render());
            Ok(())
        }
        "option" => {
            let front = session::connect().await?;
            let service = front
                .platform()
                .service(&call.scope()?, call.service()?)
                .await?;
            call.print(&options_table(&service.options).render());
            Ok(())
        }
        "backup" => {
            let front = session::connect().await?;
            let backups = front
                .platform()
                .backups(&call.scope()?, call.service()?)
                .await?;
            call.print(&backups_table(&backups).render());
            Ok(())
        }
        "backup:info" => {
            let front = session::connect().await?;
            let backup = front
                .platform()
                .backup(&call.scope()?, call.service()?, call.parsed.arg(0))
                .await?;
            call.print(&backup_info_block(&backup).render());
            Ok(())
        }
        "backup:create" => {
            let front = session::connect().await?;
            let backup = front
                .platform()
                .create_backup(&call.scope()?, call.service()?)
                .await?;
            // `-o plain`: the block's bare values, as the building block prints them.
            call.output.block(&backup_create_block(&backup), &backup);
            Ok(())
        }
        "backup:restore" => {
            let front = session::connect().await?;
            let backup = front
                .platform()
                .restore_backup(&call.scope()?, call.service()?, call.parsed.arg(0))
                .await?;
            call.print(&backup_block(&backup).render());
            Ok(())
        }
        "backup:destroy" => {
            let front = session::connect().await?;
            let backup = front
                .platform()
                .destroy_backup(&call.scope()?, call.service()?, call.parsed.arg(0))
                .await?;
            call.print(&backup_block(&backup).render());
            Ok(())
        }
        "backup:download" => {
            let front = session::connect().await?;
            download_with(
                &front.connection,
                &call.output,
                &call.scope()?,
                call.service()?,
                call.parsed.arg(0),
                call.parsed.switch("force"),
                call.parsed.switch("print-url"),
            )
            .await?;
            Ok(())
        }
        "backup:upload" => upload(call).await,
        "app:info" => app_info(call).await,
        "app:ps" | "task" => {
            let app = app_named(call)?;
            let front = session::connect().await?;
            let tasks = front.platform().app_tasks(&call.scope()?, app).await?;
            call.print(&tasks_table(&tasks).render());
            Ok(())
        }
        "resource:set" => resource_set(call).await,
        "link" => {
            let front = session::connect().await?;
            let links = front
                .platform()
                .app_links(&call.scope()?, call.app()?)
                .await?;
            call.print(&links_table(&links).render());
            Ok(())
        }
        "env" => {
            let front = session::connect().await?;
            let vars = front
                .platform()
                .app_env(&call.scope()?, call.app()?)
                .await?;
            for mut v in vars {
                // Service credentials stay masked: this output lands in logs and test files.
                if v.secret {
                    v.value = mask_credentials(&v.value);
                }
                call.print(&env_line(&v));
            }
            Ok(())
        }
        "service:create" => {
            let Some(service_type) = call.parsed.value("type") else {
                return Err(Failure::new(
                    "\"service:create\" needs --type TYPE (for example --type postgresql13)",
                ));
            };
            // 1.x changesets know only the 1.x types; 2.x creates the others from its stage
            // definitions (the sandbox's API takes both, for the 2.x front).
            if service_type
                .parse::<crate::model::ServiceType>()
                .is_ok_and(|t| t.cli_2_only())
            {
                return Err(Failure::new(format!(
                    "service type {service_type:?} is not available; choose one of postgresql11, \
                     postgresql13, redis6, s3, volume, elasticsearch7, mongodb4"
                )));
            }
            stage(
                call,
                ChangesetCommand::ServiceCreate {
                    name: call.parsed.arg(0).to_owned(),
                    service_type: service_type.to_owned(),
                    plan: call.parsed.value("plan").map(str::to_owned),
                },
            )
            .await
        }
        "service:destroy" => {
            let name = call.parsed.arg(0).to_owned();
            stage(call, ChangesetCommand::ServiceDestroy { name }).await
        }
        "option:set" => {
            let command = ChangesetCommand::OptionSet {
                service: call.service()?.to_owned(),
                option: call.parsed.arg(0).to_owned(),
                value: call.parsed.arg(1).to_owned(),
            };
            stage(call, command).await
        }
        "option:unset" => {
            let command = ChangesetCommand::OptionUnset {
                service: call.service()?.to_owned(),
                option: call.parsed.arg(0).to_owned(),
            };
            stage(call, command).await
        }
        "backup:schedule" => schedule(call).await,
        "backup:unschedule" => {
            let service = call.service()?.to_owned();
            stage(call, ChangesetCommand::BackupUnschedule { service }).await
        }
        "link:create" => link_create(call).await,
        "link:destroy" => {
            let command = ChangesetCommand::LinkDestroy {
                app: call.app()?.to_owned(),
                service: call.parsed.arg(0).to_owned(),
            };
            stage(call, command).await
        }
        "changeset:info" => {
            let scope = call.scope()?;
            let front = session::connect().await?;
            match front.platform().changeset(&scope).await? {
                Some(changeset) => print_changeset(&call.output, &changeset),
                None => call.print(&format!("No changeset is pending in {scope}.")),
            }
            Ok(())
        }
        "changeset:commit" => commit(call).await,
        "changeset:discard" => {
            let scope = call.scope()?;
            let front = session::connect().await?;
            if front.platform().discard_changeset(&scope).await? {
                call.print(&format!("Discarded your changeset of {scope}."));
            } else if call.parsed.switch("ignore-not-exist") {
                call.print(&format!("No changeset is pending in {scope}."));
            } else {
                return Err(no_changeset(&scope, "discard"));
            }
            Ok(())
        }
        "stage:dump" => super::stage::dump(call).await,
        "stage:apply" => super::stage::apply(call).await,
        other => Err(Failure::new(format!(
            "the command table names {other:?} but nothing runs it"
        ))),
    }
}

fn version(call: &Call<'_>) -> Result<(), Failure> {
    let block = Block::new()
        .field("CLI Version", call.generation.version())
        .field("CLI Build Date", call.generation.build_date())
        .field(
            "API Version",
            format!("{} (setops-migrate sandbox)", env!("CARGO_PKG_VERSION")),
        );
    call.print(&block.render());
    Ok(())
}

async fn login_info(call: &Call<'_>) -> Result<(), Failure> {
    let front = session::connect().await?;
    let me = front.platform().whoami().await?;
    let block = Block::new()
        .field(
            "Organization",
            me.organization.unwrap_or_else(|| "-".to_owned()),
        )
        .field("User", me.name)
        .field("API", front.api.clone());
    call.print(&block.render());
    Ok(())
}

/// The app a command names: its NAME argument, else `--app`.
fn app_named<'c>(call: &'c Call<'_>) -> Result<&'c str, Failure> {
    match call.parsed.args.first() {
        Some(name) => Ok(name),
        None => call.app().map_err(|_| {
            Failure::new(format!(
                "\"{}\" needs the app: NAME, or --app NAME",
                call.spec.name
            ))
        }),
    }
}

/// `app:info NAME`: the committed app, its scale and what it receives from its links.
async fn app_info(call: &Call<'_>) -> Result<(), Failure> {
    let scope = call.scope()?;
    let name = app_named(call)?;
    let front = session::connect().await?;
    let platform = front.platform();
    let app = App {
        name: name.to_owned(),
        links: Vec::new(),
        scale: platform.app_scale(&scope, name).await?,
    };
    let envs = platform.app_env(&scope, name).await?;
    call.print(&app_info_block(&app, &envs).render());
    Ok(())
}

/// `--app A resource:set scale N`: staged like every app change; prints `Scale:   N`.
async fn resource_set(call: &Call<'_>) -> Result<(), Failure> {
    let resource = call.parsed.arg(0);
    if !resource.eq_ignore_ascii_case("scale") {
        return Err(Failure::new(format!(
            "resource {resource:?} is not emulated: the sandbox models an app's scale only \
             (resource:set scale N, 0 to {})",
            crate::model::MAX_SCALE
        )));
    }
    let value = call.parsed.arg(1);
    let scale = value.trim().parse::<u8>().map_err(|_| {
        Failure::new(format!(
            "invalid argument {value:?} for scale: a whole number of containers, 0 to {}",
            crate::model::MAX_SCALE
        ))
    })?;
    let command = ChangesetCommand::ScaleSet {
        app: call.app()?.to_owned(),
        scale,
    };
    let scope = call.scope()?;
    let front = session::connect().await?;
    let changeset = front.platform().stage_command(&scope, &command).await?;
    call.print(&scale_block(scale).render());
    print_staged(&call.output, &command, &changeset);
    Ok(())
}

async fn upload(call: &Call<'_>) -> Result<(), Failure> {
    let scope = call.scope()?;
    let service = call.service()?;
    let file = Path::new(call.parsed.arg(0));
    let meta = std::fs::metadata(file)
        .map_err(|e| Failure::new(format!("cannot read backup file {}: {e}", file.display())))?;
    if !meta.is_file() {
        return Err(Failure::new(format!(
            "{} is not a file; backup:upload takes one backup file",
            file.display()
        )));
    }
    let front = session::connect().await?;
    upload_with(
        &front.connection,
        &call.output,
        &scope,
        service,
        file,
        call.parsed.switch("print-url"),
    )
    .await?;
    Ok(())
}

async fn schedule(call: &Call<'_>) -> Result<(), Failure> {
    let hours = call
        .parsed
        .values("hour")
        .iter()
        .map(|h| {
            h.trim().parse::<u8>().map_err(|_| {
                Failure::new(format!(
                    "invalid argument {h:?} for \"--hour\" flag: an hour of the day, 0 to 23 (UTC)"
                ))
            })
        })
        .collect::<Result<Vec<u8>, Failure>>()?;
    if hours.is_empty() {
        return Err(Failure::new(
            "\"backup:schedule\" needs at least one --hour H (0 to 23, UTC)",
        ));
    }
    let weekdays = call
        .parsed
        .values("weekday")
        .iter()
        .map(|d| weekday(d))
        .collect();
    let command = ChangesetCommand::BackupSchedule {
        service: call.service()?.to_owned(),
        hours,
        weekdays,
    };
    stage(call, command).await
}

/// `mon`, `Monday`, `MON` -> `Mon`; anything else is passed on for the platform to refuse.
fn weekday(text: &str) -> String {
    crate::model::weekday(text).map_or_else(|| text.to_owned(), str::to_owned)
}

async fn link_create(call: &Call<'_>) -> Result<(), Failure> {
    let env_key = call.parsed.value("env-key");
    let path = call.parsed.value("path");
    let read_only = call.parsed.switch("read-only");
    match (env_key, path) {
        (None, None) => {
            return Err(Failure::new(
                "\"link:create\" needs --env-key KEY, or --path PATH for a volume",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(Failure::new(
                "\"link:create\" takes either --env-key or --path, not both",
            ));
        }
        (Some(_), None) if read_only => {
            return Err(Failure::new(
                "--read-only applies to a mounted volume: pass it with --path",
            ));
        }
        _ => {}
    }
    let command = ChangesetCommand::LinkCreate {
        app: call.app()?.to_owned(),
        service: call.parsed.arg(0).to_owned(),
        env_key: env_key.map(str::to_owned),
        path: path.map(str::to_owned),
        read_only,
    };
    stage(call, command).await
}

/// Queues one command in the user's changeset and shows what is pending now.
async fn stage(call: &Call<'_>, command: ChangesetCommand) -> Result<(), Failure> {
    let scope = call.scope()?;
    let front = session::connect().await?;
    let changeset = front.platform().stage_command(&scope, &command).await?;
    print_staged(&call.output, &command, &changeset);
    Ok(())
}

fn no_changeset(scope: &Scope, what: &str) -> Failure {
    Failure::no_changeset(format!(
        "changeset does not exist: nothing to {what} in {scope} (code: {})",
        codes::CHANGESET_DOES_NOT_EXIST
    ))
}

/// `changeset:commit`: the changeset block, the phases, `Commit successful!`.
async fn commit(call: &Call<'_>) -> Result<(), Failure> {
    let scope = call.scope()?;
    let front = session::connect().await?;
    let Some(pending) = front.platform().changeset(&scope).await? else {
        return Err(no_changeset(&scope, "commit"));
    };
    print_changeset(&call.output, &pending);
    commit_and_wait(front.platform(), &scope, &call.output).await?;
    call.print("Commit successful!");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::weekday;

    #[test]
    fn weekdays_are_read_leniently() {
        assert_eq!(weekday("mon"), "Mon");
        assert_eq!(weekday("Monday"), "Mon");
        assert_eq!(weekday("SUN"), "Sun");
        assert_eq!(weekday("Tue"), "Tue");
        assert_eq!(weekday("mondays"), "mondays");
        assert_eq!(weekday("xyz"), "xyz");
    }
}
