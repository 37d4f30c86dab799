//! CLI 2.x: `stage:dump` prints the stage as a v2 stage definition; `stage:apply -f FILE`
//! brings the stage to what FILE says, in one commit of the front's own changeset. The YAML
//! model and the v1 <-> v2 type mapping are the `setops` CLI adapter's
//! (`crate::platform::setops_cli::stage_def`).

mod diff;
mod shape;

use std::collections::BTreeMap;

use super::call::Call;
use super::failure::Failure;
use super::session;
use crate::model::{App, ChangesetCommand, Scope, Service, flatten_validation};
use crate::platform::Platform;
use crate::platform::setops_cli::stage_def::{
    LinkSpec, ServiceSpec, StageDefError, StageDefinition, Yaml,
};
use diff::{ServiceState, StageState, Target};
use shape::Spans;

/// The schema version `stage:dump` writes.
const SCHEMA_VERSION: &str = "1";

pub(crate) async fn dump(call: &Call<'_>) -> Result<(), Failure> {
    let scope = call.scope()?;
    let front = session::connect().await?;
    let services = front.platform().services(&scope).await?;
    let apps = front.platform().apps(&scope).await?;
    let text = serde_saphyr::to_string(&definition(&scope, &services, &apps))
        .map_err(|e| Failure::new(format!("writing the stage definition: {e}")))?;
    call.print(text.trim_end());
    Ok(())
}

fn text(value: &str) -> Yaml {
    Yaml::Str(value.to_owned())
}

/// The stage as a v2 definition: `schema_version`, `project`, `stage`, each app with its
/// `resources.scale` and its links, the services with v2 types, `notifications: {}`.
fn definition(scope: &Scope, services: &[Service], apps: &[App]) -> Yaml {
    let apps = apps
        .iter()
        .map(|app| {
            let links: Vec<(Yaml, Yaml)> = app
                .links
                .iter()
                .map(|l| {
                    let link = match (&l.env_key, &l.path) {
                        (Some(key), _) => vec![(text("env_key"), text(key))],
                        (None, path) => vec![
                            (text("path"), text(path.as_deref().unwrap_or_default())),
                            (text("read_only"), Yaml::Bool(l.read_only)),
                        ],
                    };
                    (text(&l.service), Yaml::Map(link))
                })
                .collect();
            let mut entries = Vec::new();
            if let Some(scale) = app.scale {
                let resources = vec![(text("scale"), Yaml::Int(i64::from(scale)))];
                entries.push((text("resources"), Yaml::Map(resources)));
            }
            if !links.is_empty() {
                entries.push((text("links"), Yaml::Map(links)));
            }
            (text(&app.name), Yaml::Map(entries))
        })
        .collect();
    let services = services
        .iter()
        .map(|s| {
            let spec = ServiceSpec::for_v1(s.service_type, s.plan.as_deref(), &s.options);
            (text(&s.name), spec.to_yaml())
        })
        .collect();
    Yaml::Map(vec![
        (text("schema_version"), text(SCHEMA_VERSION)),
        (text("project"), text(&scope.project)),
        (text("stage"), text(&scope.stage)),
        (text("apps"), Yaml::Map(apps)),
        (text("services"), Yaml::Map(services)),
        (text("notifications"), Yaml::Map(Vec::new())),
    ])
}

pub(crate) async fn apply(call: &Call<'_>) -> Result<(), Failure> {
    let scope = call.scope()?;
    let Some(file) = call.parsed.value("file") else {
        return Err(Failure::new(
            "\"stage:apply\" needs -f/--file FILE: the stage definition to apply (see stage:dump)",
        ));
    };
    // A stage definition lists apps and services; 4 MiB is far beyond any real one.
    let source = crate::fsio::read_text_bounded(std::path::Path::new(file), 4 * 1024 * 1024)
        .map_err(|e| Failure::new(format!("cannot read stage definition {file}: {e}")))?;
    let spans = Spans::check(&source, file)?;
    let wanted = read_definition(&source, file, &spans, &scope)?;

    let front = session::connect().await?;
    let platform = front.platform();
    let current = StageState::of_platform(
        &platform.services(&scope).await?,
        &platform.apps(&scope).await?,
    );
    let changes = diff::changes(&current, &wanted).map_err(|r| spans.fail(&r.path, r.what))?;
    if changes.is_empty() {
        call.print(&format!("No changes: {scope} already matches {file}."));
        return Ok(());
    }
    let commands = diff::commands(&changes);
    for command in &commands {
        let errors = command.validate_syntax();
        if let Some((field, validator)) = flatten_validation(&errors).into_iter().next() {
            return Err(spans.fail(
                &path_of(command),
                format!(
                    "{} {field}: {validator} ({})",
                    command.name(),
                    crate::model::describe_validator(&validator)
                ),
            ));
        }
    }
    call.print(&format!("Changes to {scope} from {file}:"));
    for change in &changes {
        call.print(&format!("  {change}"));
    }
    if !call.parsed.switch("auto-approve") {
        return Err(Failure::new(
            "stage:apply asks before it applies, and there is no terminal to answer on; run it \
             again with --auto-approve to apply these changes. Nothing was applied.",
        ));
    }
    if let Some(pending) = platform.changeset(&scope).await?
        && !pending.commands.is_empty()
    {
        return Err(Failure::new(format!(
            "{} command(s) of {} wait in a changeset of {scope} (queued through CLI 1.x or \
             setops-migrate); commit or discard them there first. Nothing was applied.",
            pending.commands.len(),
            pending.user
        )));
    }
    apply_commands(platform, &scope, &commands).await?;
    call.print(&format!(
        "Apply successful! {} change(s) applied to {scope}.",
        changes.len()
    ));
    Ok(())
}

/// Stages every command and commits them in one go, following the commit to its end. On any
/// failure the changeset is dropped again, so the stage is either all changed or not at all.
async fn apply_commands(
    platform: &dyn Platform,
    scope: &Scope,
    commands: &[ChangesetCommand],
) -> Result<(), Failure> {
    let applied = async {
        for command in commands {
            platform.stage_command(scope, command).await?;
        }
        let started = platform.commit(scope).await?;
        crate::migrate::commit::follow(platform, scope, started, None, &mut |_| {}).await
    }
    .await;
    if let Err(error) = applied {
        let _ = platform.discard_changeset(scope).await;
        return Err(error.into());
    }
    Ok(())
}

/// Where in the definition a command comes from, for messages.
fn path_of(command: &ChangesetCommand) -> String {
    match command {
        ChangesetCommand::ServiceCreate { name, .. }
        | ChangesetCommand::ServiceDestroy { name } => {
            format!("services.{name}")
        }
        ChangesetCommand::OptionSet { service, .. }
        | ChangesetCommand::OptionUnset { service, .. }
        | ChangesetCommand::BackupSchedule { service, .. }
        | ChangesetCommand::BackupUnschedule { service } => format!("services.{service}"),
        ChangesetCommand::LinkCreate { app, service, .. }
        | ChangesetCommand::LinkDestroy { app, service } => format!("apps.{app}.links.{service}"),
        ChangesetCommand::ScaleSet { app, .. } => format!("apps.{app}.resources.scale"),
    }
}

/// The definition in `source` as the stage it asks for; every error names the file and line.
fn read_definition(
    source: &str,
    file: &str,
    spans: &Spans,
    scope: &Scope,
) -> Result<StageState, Failure> {
    let failure = |e: StageDefError| model_failure(e, file, spans);
    let definition = StageDefinition::parse(source).map_err(failure)?;
    for (key, value, wanted) in [
        ("project", definition.project(), &scope.project),
        ("stage", definition.stage(), &scope.stage),
    ] {
        if let Some(value) = value
            && value != wanted
        {
            return Err(spans.fail(
                key,
                format!("the definition is for {key} {value}, not {wanted} (-p/-s)"),
            ));
        }
    }
    let mut wanted = StageState::default();
    for (name, spec) in definition.services().map_err(failure)? {
        let service_type = spec.v1_type(&name).map_err(failure)?;
        let options = spec.options_as_strings(&name).map_err(failure)?;
        wanted.services.insert(
            name,
            ServiceState {
                service_type,
                plan: spec.plan.clone(),
                options,
            },
        );
    }
    for app in definition.app_names() {
        let links: BTreeMap<String, Target> = definition
            .links(&app)
            .map_err(failure)?
            .into_iter()
            .map(|(service, link)| {
                let target = match link {
                    LinkSpec::EnvKey(key) => Target::EnvKey(key),
                    LinkSpec::Path { path, read_only } => Target::Path { path, read_only },
                };
                (service, target)
            })
            .collect();
        if let Some(scale) = definition.scale(&app).map_err(failure)? {
            wanted.scales.insert(app.clone(), scale);
        }
        wanted.apps.insert(app, links);
    }
    Ok(wanted)
}

/// The model's complaint, placed on the file's line.
fn model_failure(error: StageDefError, file: &str, spans: &Spans) -> Failure {
    match error {
        StageDefError::Yaml {
            line: Some(line),
            column,
            message,
        } => Failure::new(format!("{file}:{line}:{}: {message}", column.unwrap_or(1))),
        StageDefError::Shape {
            path,
            expected,
            found,
        } => spans.fail(&path, format!("`{path}` is {found}; expected {expected}")),
        StageDefError::UnsupportedService { ref name, .. } => {
            spans.fail(&format!("services.{name}"), &error)
        }
        StageDefError::NoSuchApp(ref app) => spans.fail(&format!("apps.{app}"), &error),
        other => spans.fail("", other),
    }
}
