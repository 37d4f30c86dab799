//! What the command line names, checked against SetOps' rules (setops-reference.md section 1)
//! before any request: a malformed name, key, path, option or backup ID is a usage error (exit 2)
//! that names the argument, instead of a request the platform refuses (or, worse, echoes back
//! whole). Values are quoted cut short, so a 100 KB argument never becomes a 100 KB message.

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::{
    ServiceType, describe_validator, validate_app_name, validate_env_key, validate_mount_path,
    validate_project_name, validate_service_name, validate_stage_name,
};
use crate::plan::rules::{NameKind, env_key_rule, mount_path_rule, name_rule, quote};

/// Longest option name and value sent: SetOps' option values are short (a number, `true`, a list
/// of extension names); the cap keeps a runaway value out of requests and messages.
const MAX_OPTION_NAME: usize = 64;
const MAX_OPTION_VALUE: usize = 1024;

fn refused(arg: &str, rule: String) -> Error {
    Error::usage(format!("{arg}: {rule}; nothing was sent to the platform"))
}

fn name(
    arg: &str,
    value: &str,
    kind: NameKind,
    check: fn(&str) -> Result<(), &'static str>,
) -> Result<()> {
    check(value).map_err(|v| refused(arg, name_rule(kind, value, v)))
}

pub fn project(value: &str) -> Result<()> {
    name(
        "-p/--project",
        value,
        NameKind::Project,
        validate_project_name,
    )
}

pub fn stage(value: &str) -> Result<()> {
    name("-s/--stage", value, NameKind::Stage, validate_stage_name)
}

/// A service name given as `arg` (`--service`, or a positional such as `NAME`).
pub fn service(arg: &str, value: &str) -> Result<()> {
    name(arg, value, NameKind::Service, validate_service_name)
}

pub fn app(arg: &str, value: &str) -> Result<()> {
    name(arg, value, NameKind::App, validate_app_name)
}

pub fn env_key(value: &str) -> Result<()> {
    validate_env_key(value).map_err(|v| refused("--env-key", env_key_rule(value, v)))
}

pub fn mount_path(value: &str) -> Result<()> {
    validate_mount_path(value).map_err(|v| refused("--path", mount_path_rule(value, v)))
}

/// `--type`: one of SetOps' service types.
pub fn service_type(value: &str) -> Result<ServiceType> {
    value.parse::<ServiceType>().map_err(|_| {
        let all: Vec<&str> = ServiceType::ALL.iter().map(|t| t.as_str()).collect();
        refused(
            "--type",
            format!(
                "unknown service type {}; expected one of {}",
                quote(value),
                all.join(", ")
            ),
        )
    })
}

/// `--plan` for a service of `service_type`.
pub fn plan(service_type: ServiceType, value: Option<&str>) -> Result<()> {
    service_type.validate_plan(value).map_err(|v| {
        let problem = match value {
            None => format!("{service_type} needs a plan"),
            Some(p) => format!(
                "plan {} {} for {service_type}",
                quote(p),
                describe_validator(v)
            ),
        };
        refused(
            "--plan",
            format!(
                "{problem}; {service_type} takes {}",
                service_type.plan_hint()
            ),
        )
    })
}

/// An option name (and value, for `option:set`): an option some service type has, with a value
/// of its documented form. Which type the service has is the platform's to say; a name no type
/// knows, or a value no type accepts, is refused here.
pub fn option(option: &str, value: Option<&str>) -> Result<()> {
    if option.is_empty() || option.chars().count() > MAX_OPTION_NAME {
        return Err(refused(
            "NAME",
            format!(
                "option name {} must be 1 to {MAX_OPTION_NAME} characters",
                quote(option)
            ),
        ));
    }
    let owners: Vec<ServiceType> = ServiceType::ALL
        .into_iter()
        .filter(|t| t.allowed_options().contains(&option))
        .collect();
    let Some(first) = owners.first() else {
        let mut known: Vec<&str> = ServiceType::ALL
            .iter()
            .flat_map(|t| t.allowed_options().iter().copied())
            .collect();
        known.sort_unstable();
        known.dedup();
        return Err(refused(
            "NAME",
            format!(
                "option {} is not a SetOps service option; options are {}",
                quote(option),
                known.join(", ")
            ),
        ));
    };
    let Some(value) = value else {
        return Ok(());
    };
    if value.chars().count() > MAX_OPTION_VALUE {
        return Err(refused(
            "VALUE",
            format!(
                "the value of {option} is {} characters; option values are at most \
                 {MAX_OPTION_VALUE}",
                value.chars().count()
            ),
        ));
    }
    first.validate_option(option, value).map_err(|v| {
        refused(
            "VALUE",
            format!(
                "{option} = {} {}; {option} takes {}",
                quote(value),
                describe_validator(v),
                ServiceType::option_hint(option)
            ),
        )
    })
}

/// `--weekday`: a weekday as people type it, returned as SetOps schedules name it (`Mon`).
pub fn weekday(value: &str) -> Result<&'static str> {
    crate::model::weekday(value).ok_or_else(|| {
        refused(
            "--weekday",
            format!(
                "{} is not a weekday; use one of {} (or the full name)",
                quote(value),
                crate::model::WEEKDAYS.join(", ")
            ),
        )
    })
}

/// A backup ID as `backup` lists it: a UUID (any case). Returned in SetOps' lowercase form.
pub fn backup_id(value: &str) -> Result<String> {
    match Uuid::try_parse(value) {
        Ok(id) if value.len() == 36 => Ok(id.to_string()),
        _ => Err(refused(
            "ID",
            format!(
                "backup ID {} is not a backup ID; backup IDs are UUIDs such as \
                 6a6fcd7a-7063-4cb4-a748-8f765eea39a2, as `backup` lists them",
                quote(value)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(r: Result<impl std::fmt::Debug>) -> String {
        r.expect_err("refused").to_string()
    }

    #[test]
    fn names_are_refused_naming_the_argument_and_the_rule() {
        assert!(project("shop").is_ok());
        let t = text(project("my-shop"));
        assert!(t.starts_with("-p/--project: project name `my-shop`"), "{t}");
        let t = text(stage(&"x".repeat(120 * 1024)));
        assert!(t.starts_with("-s/--stage: stage name `xxx"), "{t}");
        assert!(
            t.len() < 400,
            "a huge value is cut short: {} bytes",
            t.len()
        );
        let t = text(service("--service", "Files"));
        assert!(t.contains("--service: service name `Files`"), "{t}");
        assert!(text(app("--app", "w")).contains("is too short"));
    }

    #[test]
    fn keys_paths_types_and_plans() {
        assert!(env_key("DATABASE_URL").is_ok());
        assert!(text(env_key("PORT")).contains("reserved"));
        assert!(text(mount_path("data")).starts_with("--path:"));
        assert_eq!(service_type("volume").ok(), Some(ServiceType::Volume));
        assert!(text(service_type("nosuchtype")).starts_with("--type: unknown service type"));
        assert!(plan(ServiceType::Postgresql13, Some("db.t3.micro")).is_ok());
        assert!(text(plan(ServiceType::Postgresql13, None)).contains("postgresql13 needs a plan"));
    }

    #[test]
    fn options_are_checked_by_name_and_value() {
        assert!(option("extensions", Some("citext,uuid-ossp")).is_ok());
        assert!(option("min_storage", None).is_ok());
        assert!(text(option("size", Some("1"))).contains("not a SetOps service option"));
        assert!(text(option("scale", Some("99"))).starts_with("VALUE: scale = `99`"));
        let t = text(option("extensions", Some(&"a".repeat(5000))));
        assert!(t.contains("5000 characters"), "{t}");
    }

    #[test]
    fn weekdays_are_read_leniently_and_checked() {
        assert_eq!(weekday("monday").ok(), Some("Mon"));
        assert_eq!(weekday("SUN").ok(), Some("Sun"));
        assert!(text(weekday("mo")).starts_with("--weekday: `mo` is not a weekday"));
        assert!(text(weekday("funday")).contains("Mon, Tue"));
    }

    #[test]
    fn backup_ids_are_uuids() {
        let id = "6A6FCD7A-7063-4CB4-A748-8F765EEA39A2";
        assert_eq!(
            backup_id(id).ok().as_deref(),
            Some("6a6fcd7a-7063-4cb4-a748-8f765eea39a2")
        );
        for bad in [
            "latest",
            "6a6fcd7a70634cb4a7488f765eea39a2",
            "../../etc",
            "",
        ] {
            assert!(text(backup_id(bad)).starts_with("ID: backup ID"), "{bad}");
        }
    }
}
