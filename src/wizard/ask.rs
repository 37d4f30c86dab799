//! The questions up to the backup, in the wizard's order: project, stage, source, target, type,
//! plan and options. A value given as a flag is checked like a typed answer and not asked again.

use std::collections::BTreeMap;

use super::checks;
use super::flags::{self, Flags, refused};
use super::prompter::Prompter;
use super::suggest::suggest_target;
use crate::error::{Error, Result};
use crate::model::{Scope, Service, ServiceType};
use crate::platform::Platform;

/// Pads the first column of `(name, detail)` rows so the details line up: `files  (volume)`.
pub fn columns(rows: &[(String, String)]) -> Vec<String> {
    let width = rows
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(name, detail)| {
            if detail.is_empty() {
                name.clone()
            } else {
                format!("{name:<width$}  {detail}")
            }
        })
        .collect()
}

/// A name from a list: the flag's value if it is one of them, else the chosen item.
fn pick_name(
    prompter: &mut dyn Prompter,
    prompt: &str,
    names: &[String],
    details: &[String],
    flag: Option<(&str, &str)>,
    what: &str,
) -> Result<String> {
    if let Some((flag, value)) = flag {
        return if names.iter().any(|n| n == value) {
            Ok(value.to_owned())
        } else {
            Err(refused(
                flag,
                format!("{value:?} {what}; choose one of {}", names.join(", ")),
            ))
        };
    }
    if names.is_empty() {
        return Err(Error::Usage(format!(
            "nothing to choose for {prompt:?}: {what}"
        )));
    }
    let rows: Vec<(String, String)> = names.iter().cloned().zip(details.iter().cloned()).collect();
    let index = prompter.select(prompt, &columns(&rows), 0)?;
    names
        .get(index)
        .cloned()
        .ok_or_else(|| Error::Internal(format!("answer {index} is not an item of {prompt:?}")))
}

pub async fn scope(
    platform: &dyn Platform,
    prompter: &mut dyn Prompter,
    flags: &Flags,
) -> Result<Scope> {
    let projects: Vec<String> = platform
        .projects()
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    if projects.is_empty() {
        return Err(Error::Usage(
            "this token sees no project; check the token or the platform URL".into(),
        ));
    }
    let project = pick_name(
        prompter,
        "Project",
        &projects,
        &vec![String::new(); projects.len()],
        flags.project.as_deref().map(|p| (flags::PROJECT, p)),
        "is not a project this token sees",
    )?;
    let stages: Vec<String> = platform
        .stages(&project)
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    if stages.is_empty() {
        return Err(Error::Usage(format!("project {project:?} has no stage")));
    }
    let stage = pick_name(
        prompter,
        "Stage",
        &stages,
        &vec![String::new(); stages.len()],
        flags.stage.as_deref().map(|s| (flags::STAGE, s)),
        &format!("is not a stage of project {project:?}"),
    )?;
    Ok(Scope { project, stage })
}

/// The service to copy; only services with a backup format can be.
pub fn source(
    prompter: &mut dyn Prompter,
    flags: &Flags,
    services: &[Service],
    scope: &Scope,
) -> Result<Service> {
    if let Some(name) = &flags.source
        && let Some(found) = services.iter().find(|s| &s.name == name)
        && found.service_type.backup_extension().is_none()
    {
        return Err(refused(
            flags::SOURCE,
            format!(
                "{name:?} is {}, which has no backup format (SetOps: not implemented); it cannot \
                 be migrated",
                found.service_type
            ),
        ));
    }
    let candidates: Vec<&Service> = services
        .iter()
        .filter(|s| s.service_type.backup_extension().is_some())
        .collect();
    if candidates.is_empty() && flags.source.is_none() {
        return Err(Error::Usage(format!(
            "{scope} has no service with a backup format to migrate from"
        )));
    }
    let names: Vec<String> = candidates.iter().map(|s| s.name.clone()).collect();
    let details: Vec<String> = candidates
        .iter()
        .map(|s| match &s.plan {
            Some(plan) => format!("({}, {plan})", s.service_type),
            None => format!("({})", s.service_type),
        })
        .collect();
    let name = pick_name(
        prompter,
        "Service to migrate from",
        &names,
        &details,
        flags.source.as_deref().map(|s| (flags::SOURCE, s)),
        &format!("is not a service of {scope}"),
    )?;
    candidates
        .into_iter()
        .find(|s| s.name == name)
        .cloned()
        .ok_or_else(|| Error::Internal(format!("service {name:?} vanished from the list")))
}

pub fn target(
    prompter: &mut dyn Prompter,
    flags: &Flags,
    source: &Service,
    services: &[Service],
    scope: &Scope,
) -> Result<String> {
    let existing: Vec<String> = services.iter().map(|s| s.name.clone()).collect();
    let scope_text = scope.to_string();
    let check = |name: &str| checks::target_name(name, &source.name, &existing, &scope_text);
    if let Some(name) = &flags.target {
        check(name).map_err(|reason| refused(flags::TARGET, reason))?;
        return Ok(name.clone());
    }
    let suggestion = suggest_target(
        &source.name,
        source.service_type,
        flags.service_type,
        &existing,
    );
    prompter.input("Name of the new service", suggestion.as_deref(), &check)
}

/// The new service's type: one that can restore the source's backups (the same format, the
/// same or a newer server) and that this platform can create.
pub fn service_type(
    platform: &dyn Platform,
    prompter: &mut dyn Prompter,
    flags: &Flags,
    source: &Service,
) -> Result<ServiceType> {
    let types: Vec<ServiceType> = checks::migratable_types()
        .into_iter()
        .filter(|t| platform.refuses_type(*t).is_none())
        .filter(|t| checks::takes_backups_of(source.service_type, *t).is_ok())
        .collect();
    if types.is_empty() {
        return Err(Error::Usage(format!(
            "no service type this platform can create restores the backups of {} ({})",
            source.name, source.service_type
        )));
    }
    if let Some(t) = flags.service_type {
        if let Some(why) = platform.refuses_type(t) {
            return Err(refused(flags::TYPE, format!("{t}: {why}")));
        }
        if let Err(why) = checks::takes_backups_of(source.service_type, t) {
            return Err(refused(
                flags::TYPE,
                format!("{t}: {why}; for {} choose {}", source.name, names(&types)),
            ));
        }
        return Ok(t);
    }
    let rows: Vec<(String, String)> = types
        .iter()
        .map(|t| {
            let mut detail = format!("(backups: {}", t.backup_format_name());
            if *t == source.service_type {
                detail.push_str("; the source's type");
            }
            detail.push(')');
            (t.as_str().to_owned(), detail)
        })
        .collect();
    let default = types
        .iter()
        .position(|t| *t == source.service_type)
        .unwrap_or(0);
    let index = prompter.select(
        "Type of the new service (an upgrade picks a newer type)",
        &columns(&rows),
        default,
    )?;
    types
        .get(index)
        .copied()
        .ok_or_else(|| Error::Internal(format!("answer {index} is not a service type")))
}

fn names(types: &[ServiceType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The plan a new service of `service_type` gets unless told otherwise: the source's when it is
/// valid for the type, else the smallest documented one.
fn default_plan(source: &Service, service_type: ServiceType) -> Option<String> {
    if service_type.validate_plan(source.plan.as_deref()).is_ok() {
        return source.plan.clone();
    }
    let fallback = match service_type {
        ServiceType::Postgresql11 => "shared",
        ServiceType::Postgresql13
        | ServiceType::Postgresql14
        | ServiceType::Postgresql15
        | ServiceType::Postgresql16 => "db.t3.micro",
        ServiceType::Redis6 | ServiceType::Redis7 => "cache.t3.micro",
        ServiceType::Mongodb4 => "db.t3.medium",
        ServiceType::Elasticsearch7 => "t3.small.elasticsearch",
        // Written out so a plan never silently copies a source plan the type refuses.
        ServiceType::S3 | ServiceType::Volume => "default",
    };
    Some(fallback.to_owned())
}

/// Types whose plan is a real choice (a node size); the others have one plan or none.
fn plan_is_a_choice(service_type: ServiceType) -> bool {
    matches!(
        service_type,
        ServiceType::Postgresql13
            | ServiceType::Postgresql14
            | ServiceType::Postgresql15
            | ServiceType::Postgresql16
            | ServiceType::Redis6
            | ServiceType::Redis7
            | ServiceType::Mongodb4
    )
}

pub fn plan(
    prompter: &mut dyn Prompter,
    flags: &Flags,
    source: &Service,
    service_type: ServiceType,
) -> Result<Option<String>> {
    if let Some(plan) = &flags.plan {
        checks::plan(service_type, plan).map_err(|reason| refused(flags::PLAN, reason))?;
        return Ok(Some(plan.clone()));
    }
    let default = default_plan(source, service_type);
    if !plan_is_a_choice(service_type) {
        return Ok(default);
    }
    let prompt = format!("Plan ({})", service_type.plan_hint());
    let answer = prompter.input(&prompt, default.as_deref(), &|p: &str| {
        checks::plan(service_type, p)
    })?;
    Ok(Some(answer))
}

/// Option changes against the source: `Some(value)` sets, `None` removes. Asks each option of
/// the target's type with the source's value as the default; options the type does not take are
/// removed without asking.
pub fn options(
    prompter: &mut dyn Prompter,
    source: &Service,
    service_type: ServiceType,
) -> Result<BTreeMap<String, Option<String>>> {
    let allowed = service_type.allowed_options();
    let mut changes: BTreeMap<String, Option<String>> = BTreeMap::new();
    for name in source.options.keys() {
        if !allowed.contains(&name.as_str()) {
            changes.insert(name.clone(), None);
        }
    }
    for name in allowed {
        let current = source.options.get(*name).map(String::as_str);
        let min_storage = match changes.get("min_storage") {
            Some(set) => set.clone(),
            None => source.options.get("min_storage").cloned(),
        };
        let prompt = match current {
            Some(value) => format!(
                "Option {name} ({} has {value}; Enter keeps it, - removes it)",
                source.name
            ),
            None => format!(
                "Option {name} ({}; Enter leaves it unset)",
                ServiceType::option_hint(name)
            ),
        };
        let check = |answer: &str| {
            match answer {
            "" => Ok(()),
            "-" if current.is_some() => Ok(()),
            "-" => Err(format!("{} has no {name} to remove; press Enter to leave it unset", source.name)),
            value => checks::option(service_type, name, value, min_storage.as_deref()).map_err(|reason| {
                if Some(value) == current {
                    format!("{}'s value does not fit {service_type}: {reason}; enter a new value or - to remove it", source.name)
                } else {
                    reason
                }
            }),
        }
        };
        let answer = prompter.input(&prompt, current, &check)?;
        match (answer.as_str(), current) {
            ("", _) => {}
            ("-", _) => {
                changes.insert((*name).to_owned(), None);
            }
            (value, Some(current)) if value == current => {}
            (value, _) => {
                changes.insert((*name).to_owned(), Some(value.to_owned()));
            }
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let rows = vec![
            ("files".to_owned(), "(volume)".to_owned()),
            ("scratch".to_owned(), "(volume)".to_owned()),
        ];
        assert_eq!(
            columns(&rows),
            vec!["files    (volume)", "scratch  (volume)"]
        );
    }

    fn service(service_type: ServiceType, plan: Option<&str>) -> Service {
        Service {
            name: "db".into(),
            service_type,
            plan: plan.map(str::to_owned),
            options: BTreeMap::new(),
            links: Vec::new(),
            backup_schedule: None,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn default_plans_keep_a_valid_source_plan() {
        let pg11 = service(ServiceType::Postgresql11, Some("shared"));
        assert_eq!(
            default_plan(&pg11, ServiceType::Postgresql11).as_deref(),
            Some("shared")
        );
        assert_eq!(
            default_plan(&pg11, ServiceType::Postgresql13).as_deref(),
            Some("db.t3.micro")
        );
        let pg13 = service(ServiceType::Postgresql13, Some("db.m5.large"));
        assert_eq!(
            default_plan(&pg13, ServiceType::Postgresql13).as_deref(),
            Some("db.m5.large")
        );
        let volume = service(ServiceType::Volume, None);
        assert_eq!(default_plan(&volume, ServiceType::Volume), None);
        assert_eq!(
            default_plan(&pg13, ServiceType::Volume).as_deref(),
            Some("default")
        );
    }
}
