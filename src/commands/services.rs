//! `service`, `service:info`, `service:create`, `service:destroy`, `option*`,
//! `backup:schedule`, `backup:unschedule`, `link*`, `env`.

use std::collections::BTreeMap;

use serde_json::json;

use crate::error::{Error, Result};
use crate::model::{ChangesetCommand, EnvVar, Link, Service};
use crate::ui::block::Item;
use crate::ui::{Align, Block, TableBuilder};

use super::args;
use super::changesets::print_staged;
use super::context::Context;

pub async fn list(ctx: &Context) -> Result<()> {
    let scope = ctx.scope()?;
    let conn = ctx.connect().await?;
    let services = conn.platform.services(&scope).await?;
    ctx.output.table(&services_table(&services), &services);
    Ok(())
}

/// The `service` table: one column, `NAME`.
pub fn services_table(services: &[Service]) -> TableBuilder {
    names_table(services.iter().map(|s| s.name.as_str()))
}

/// A list command's one-column table (`service`, `app`, `project`, `stage`).
pub fn names_table<'a>(names: impl Iterator<Item = &'a str>) -> TableBuilder {
    let mut table = TableBuilder::new(&[("NAME", Align::Left)]);
    for name in names {
        table.row(vec![name.to_owned()]);
    }
    table
}

pub async fn info(ctx: &Context, name: &str) -> Result<()> {
    let scope = ctx.scope()?;
    args::service("NAME", name)?;
    let conn = ctx.connect().await?;
    let service = conn.platform.service(&scope, name).await?;
    ctx.output.block(&service_block(&service), &service);
    Ok(())
}

pub fn service_block(service: &Service) -> Block {
    let links: Vec<Item> = service
        .links
        .iter()
        .map(|l| Item {
            name: l.app.clone(),
            shown: link_target(l),
            bare: if l.read_only {
                format!("{}\tread-only", l.target())
            } else {
                l.target().to_string()
            },
        })
        .collect();
    let schedule = match &service.backup_schedule {
        None => "none".to_owned(),
        Some(s) => {
            let hours: Vec<String> = s.hours.iter().map(|h| format!("{h:02}:00")).collect();
            let days = if s.weekdays.is_empty() {
                "every day".to_owned()
            } else {
                s.weekdays.join(", ")
            };
            format!("{} UTC, {days}", hours.join(", "))
        }
    };
    Block::new()
        .field("Name", service.name.clone())
        .field("Type", service.service_type.as_str())
        .field("Plan", service.plan.clone().unwrap_or_else(|| "-".into()))
        .field("Backup Schedule", schedule)
        .list("Links", links)
        .list("Options", option_items(&service.options))
}

/// `-- name   value` per option, as `service:info` and `option` show them.
fn option_items(options: &BTreeMap<String, String>) -> Vec<Item> {
    options
        .iter()
        .map(|(k, v)| Item {
            name: k.clone(),
            shown: v.clone(),
            bare: v.clone(),
        })
        .collect()
}

/// `(DATABASE_URL)` or `(/data)` or `(/data, read-only)`, as `service:info` shows a link.
fn link_target(link: &Link) -> String {
    if link.read_only {
        format!("({}, read-only)", link.target())
    } else {
        format!("({})", link.target())
    }
}

pub async fn create(
    ctx: &Context,
    name: &str,
    service_type: &str,
    plan: Option<&str>,
) -> Result<()> {
    args::service("NAME", name)?;
    args::plan(args::service_type(service_type)?, plan)?;
    let command = ChangesetCommand::ServiceCreate {
        name: name.to_owned(),
        service_type: service_type.to_owned(),
        plan: plan.map(str::to_owned),
    };
    stage(ctx, command).await
}

/// Stages `service:destroy`, but never for a service an app links: its apps would lose their
/// env var or mount at the commit. The apps are named so they can be unlinked first.
pub async fn destroy(ctx: &Context, name: &str) -> Result<()> {
    let scope = ctx.scope()?;
    args::service("NAME", name)?;
    let conn = ctx.connect().await?;
    let service = conn.platform.service(&scope, name).await?;
    if !service.links.is_empty() {
        let apps: Vec<String> = service
            .links
            .iter()
            .map(|l| format!("{} ({})", l.app, l.target()))
            .collect();
        return Err(Error::Usage(format!(
            "service {name} in {scope} is linked by {}; unlink it first ({}), commit, then \
             destroy it",
            apps.join(", "),
            service
                .links
                .iter()
                .map(|l| format!("`--app {} link:destroy {name}`", l.app))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let command = ChangesetCommand::ServiceDestroy {
        name: name.to_owned(),
    };
    let changeset = conn.platform.stage_command(&scope, &command).await?;
    print_staged(&ctx.output, &command, &changeset);
    Ok(())
}

/// `option`: the committed options of the service given with `--service`.
pub async fn option_list(ctx: &Context) -> Result<()> {
    let scope = ctx.scope()?;
    let service = ctx.service()?;
    let conn = ctx.connect().await?;
    let found = conn.platform.service(&scope, service).await?;
    ctx.output
        .table(&options_table(&found.options), &found.options);
    Ok(())
}

/// The `option` table: `NAME`, `VALUE`.
pub fn options_table(options: &BTreeMap<String, String>) -> TableBuilder {
    let mut table = TableBuilder::new(&[("NAME", Align::Left), ("VALUE", Align::Left)]);
    for (name, value) in options {
        table.row(vec![name.clone(), value.clone()]);
    }
    table
}

/// `backup:schedule --hour H... [--weekday D...]`: staged like any service change.
pub async fn schedule(ctx: &Context, hours: &[u8], weekdays: &[String]) -> Result<()> {
    let weekdays = weekdays
        .iter()
        .map(|d| args::weekday(d).map(str::to_owned))
        .collect::<Result<Vec<String>>>()?;
    let command = ChangesetCommand::BackupSchedule {
        service: ctx.service()?.to_owned(),
        hours: hours.to_vec(),
        weekdays,
    };
    stage(ctx, command).await
}

pub async fn unschedule(ctx: &Context) -> Result<()> {
    let command = ChangesetCommand::BackupUnschedule {
        service: ctx.service()?.to_owned(),
    };
    stage(ctx, command).await
}

pub async fn option_set(ctx: &Context, option: &str, value: &str) -> Result<()> {
    args::option(option, Some(value))?;
    let command = ChangesetCommand::OptionSet {
        service: ctx.service()?.to_owned(),
        option: option.to_owned(),
        value: value.to_owned(),
    };
    stage(ctx, command).await
}

pub async fn option_unset(ctx: &Context, option: &str) -> Result<()> {
    args::option(option, None)?;
    let command = ChangesetCommand::OptionUnset {
        service: ctx.service()?.to_owned(),
        option: option.to_owned(),
    };
    stage(ctx, command).await
}

pub async fn link_list(ctx: &Context) -> Result<()> {
    let scope = ctx.scope()?;
    let app = ctx.app()?;
    let conn = ctx.connect().await?;
    let links = conn.platform.app_links(&scope, app).await?;
    ctx.output.table(&links_table(&links), &links);
    Ok(())
}

/// The `link` table of one app: `SERVICE`, `ENV KEY`, `PATH`, `READ ONLY`.
pub fn links_table(links: &[Link]) -> TableBuilder {
    let mut table = TableBuilder::new(&[
        ("SERVICE", Align::Left),
        ("ENV KEY", Align::Left),
        ("PATH", Align::Left),
        ("READ ONLY", Align::Left),
    ]);
    for l in links {
        table.row(vec![
            l.service.clone(),
            l.env_key.clone().unwrap_or_default(),
            l.path.clone().unwrap_or_default(),
            if l.path.is_some() {
                l.read_only.to_string()
            } else {
                String::new()
            },
        ]);
    }
    table
}

pub async fn link_create(
    ctx: &Context,
    service: &str,
    env_key: Option<&str>,
    path: Option<&str>,
    read_only: bool,
) -> Result<()> {
    if read_only && path.is_none() {
        return Err(crate::error::Error::usage(
            "--read-only applies to a mounted volume: pass --path PATH with it, or drop --read-only \
             for an --env-key link",
        ));
    }
    args::service("SERVICE", service)?;
    if let Some(key) = env_key {
        args::env_key(key)?;
    }
    if let Some(path) = path {
        args::mount_path(path)?;
    }
    let command = ChangesetCommand::LinkCreate {
        app: ctx.app()?.to_owned(),
        service: service.to_owned(),
        env_key: env_key.map(str::to_owned),
        path: path.map(str::to_owned),
        read_only,
    };
    stage(ctx, command).await
}

pub async fn link_destroy(ctx: &Context, service: &str) -> Result<()> {
    args::service("SERVICE", service)?;
    let command = ChangesetCommand::LinkDestroy {
        app: ctx.app()?.to_owned(),
        service: service.to_owned(),
    };
    stage(ctx, command).await
}

/// Queues one command and shows the changeset it is now part of. What the command line names was
/// checked before (`args`); what needs the stage's state (a service's type, a name taken) is
/// the platform's: it answers 422 with the rule broken, which exits 2.
async fn stage(ctx: &Context, command: ChangesetCommand) -> Result<()> {
    let scope = ctx.scope()?;
    let conn = ctx.connect().await?;
    let changeset = conn.platform.stage_command(&scope, &command).await?;
    print_staged(&ctx.output, &command, &changeset);
    Ok(())
}

pub async fn env(ctx: &Context, show_secrets: bool) -> Result<()> {
    let scope = ctx.scope()?;
    let app = ctx.app()?;
    let conn = ctx.connect().await?;
    let vars = conn.platform.app_env(&scope, app).await?;
    let shown: Vec<EnvVar> = vars
        .into_iter()
        .map(|mut v| {
            if v.secret && !show_secrets {
                v.value = mask_credentials(&v.value);
            }
            v
        })
        .collect();
    if ctx.output.is_json() {
        let map: serde_json::Map<String, serde_json::Value> = shown
            .iter()
            .map(|v| (v.key.clone(), json!(v.value)))
            .collect();
        ctx.output.json(&map);
        return Ok(());
    }
    for v in &shown {
        ctx.output.line(&env_line(v));
    }
    if shown.iter().any(|v| v.secret) && !show_secrets {
        ctx.output
            .note("credentials are masked; pass --show-secrets to see them");
    }
    Ok(())
}

/// `-- KEY=value   (description)`, as `env` prints one variable.
pub fn env_line(v: &EnvVar) -> String {
    let description = v
        .description
        .as_deref()
        .map(|d| format!("   ({d})"))
        .unwrap_or_default();
    format!("-- {}={}{description}", v.key, v.value)
}

/// Replaces the password (or secret key) in a URL's userinfo with `***`.
pub fn mask_credentials(value: &str) -> String {
    match url::Url::parse(value) {
        Ok(mut url) if url.password().is_some() => {
            // Setting a password only fails for URLs that cannot have one, checked above.
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_credentials;

    #[test]
    fn masks_passwords_but_keeps_the_rest() {
        assert_eq!(
            mask_credentials("postgresql://app:s3cret@127.0.0.1:5432/db"),
            "postgresql://app:***@127.0.0.1:5432/db"
        );
        assert_eq!(
            mask_credentials("redis://:pw@127.0.0.1:6380"),
            "redis://:***@127.0.0.1:6380"
        );
        assert_eq!(mask_credentials("/data"), "/data");
    }
}
