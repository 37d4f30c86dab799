//! The checks behind every answer, shared by typed answers and flags: the same model validators
//! the plan loader applies (names, plans, options, durations, backup files), with text that says
//! what SetOps accepts.

use std::path::Path;
use std::time::Duration;

use crate::compat::rdb_reads;
use crate::formats::check_for_type;
use crate::model::{
    ServiceType, describe_validator, validate_project_name, validate_service_name,
    validate_stage_name, validators,
};

pub type Check = std::result::Result<(), String>;

/// The plan loader's bounds for `wait_timeout` (plan::migration): a commit or restore takes
/// at least a minute, and a week-long wait is a stuck run.
const MIN_WAIT: Duration = Duration::from_secs(60);
const MAX_WAIT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A name for a message, quoted, and cut short when long: a 100 KB flag value is not echoed.
fn shown(name: &str) -> String {
    const MAX: usize = 40;
    if name.chars().count() <= MAX {
        format!("{name:?}")
    } else {
        let head: String = name.chars().take(MAX).collect();
        format!("{head:?}...")
    }
}

pub fn project_name(name: &str) -> Check {
    validate_project_name(name).map_err(|v| {
        format!(
            "project name {} {}; SetOps project names match ^[a-z][a-z0-9]{{2,19}}$",
            shown(name),
            describe_validator(v)
        )
    })
}

pub fn stage_name(name: &str) -> Check {
    validate_stage_name(name).map_err(|v| {
        format!(
            "stage name {} {}; SetOps stage names match ^[a-z][a-z0-9]{{2,11}}$",
            shown(name),
            describe_validator(v)
        )
    })
}

pub fn service_name(name: &str) -> Check {
    validate_service_name(name).map_err(|v| {
        let count = name.chars().count();
        let problem = match v {
            validators::TOO_LONG => format!("is too long ({count} characters)"),
            validators::TOO_SHORT => format!("is too short ({count} characters)"),
            _ if !name.starts_with(|c: char| c.is_ascii_lowercase()) => {
                "does not start with a lowercase letter".to_owned()
            }
            _ => "has a character SetOps does not allow".to_owned(),
        };
        format!(
            "service name {} {problem}; SetOps service names are 3 to 18 characters: \
             lowercase letters, digits and `-`, starting with a letter",
            shown(name)
        )
    })
}

/// A new service's name: valid, not the source, not an existing service of the stage.
pub fn target_name(name: &str, source: &str, existing: &[String], scope: &str) -> Check {
    service_name(name)?;
    if name == source {
        return Err(format!(
            "{name:?} is the source itself; a migration restores into a new, empty service, so \
             choose a new name"
        ));
    }
    if existing.iter().any(|s| s == name) {
        return Err(format!(
            "service {name:?} already exists in {scope}; choose a name that is not taken"
        ));
    }
    Ok(())
}

/// Types a plan may name: every type with a backup format.
pub fn migratable_types() -> Vec<ServiceType> {
    ServiceType::ALL
        .into_iter()
        .filter(|t| t.backup_extension().is_some())
        .collect()
}

pub fn service_type(text: &str) -> std::result::Result<ServiceType, String> {
    let names = || {
        migratable_types()
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let parsed: ServiceType = text
        .parse()
        .map_err(|_| format!("unknown service type {text:?}; choose one of {}", names()))?;
    if parsed.backup_extension().is_none() {
        return Err(format!(
            "{parsed} has no backup format (SetOps: not implemented), so it cannot be migrated; \
             choose one of {}",
            names()
        ));
    }
    Ok(parsed)
}

/// Whether a new `target` service can restore the backups of a `source` service: the same
/// format, and a server no older than the one that wrote them (a PostgreSQL dump never goes into
/// an older major; an RDB file never into a Redis that reads only older RDB versions).
pub fn takes_backups_of(source: ServiceType, target: ServiceType) -> Check {
    if source.backup_extension() != target.backup_extension() {
        return Err(format!(
            "the backups of a {source} service are {}s, which a {target} service cannot restore",
            source.backup_format_name()
        ));
    }
    if let Some(refusal) = crate::compat::assess_types(source, target)
        .into_iter()
        .find(|f| f.refuses())
    {
        return Err(refusal.to_string());
    }
    if let (Some(written), Some(reads)) = (rdb_reads(source), rdb_reads(target))
        && reads < written
    {
        return Err(format!(
            "a {source} service writes RDB version {written} files, and {target} reads only up \
             to version {reads}"
        ));
    }
    Ok(())
}

pub fn plan(service_type: ServiceType, plan: &str) -> Check {
    service_type.validate_plan(Some(plan)).map_err(|v| {
        format!(
            "plan {plan:?} {} for {service_type}; {service_type} takes {}",
            describe_validator(v),
            service_type.plan_hint()
        )
    })
}

/// One option value; `min_storage` is the value the target will have, for `max_storage`.
pub fn option(
    service_type: ServiceType,
    name: &str,
    value: &str,
    min_storage: Option<&str>,
) -> Check {
    service_type.validate_option(name, value).map_err(|v| {
        format!(
            "{name} = {value:?} {}; {name} takes {}",
            describe_validator(v),
            ServiceType::option_hint(name)
        )
    })?;
    let number = |s: &str| s.trim().parse::<u64>().ok();
    if name == "max_storage"
        && let (Some(max), Some(min)) = (number(value), min_storage.and_then(number))
        && max < min
    {
        return Err(format!(
            "max_storage ({max}) is below min_storage ({min}); max_storage must be at least \
             min_storage"
        ));
    }
    Ok(())
}

pub fn wait_timeout(text: &str) -> std::result::Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|_| format!("{text:?} is not a duration; write it like 2h, 90m or 1h30m"))?;
    if duration < MIN_WAIT {
        Err(format!(
            "{text:?} is below the minimum of 1m; commits and restores take longer"
        ))
    } else if duration > MAX_WAIT {
        Err(format!(
            "{text:?} is above the maximum of 7 days; a wait that long is a stuck run"
        ))
    } else {
        Ok(duration)
    }
}

/// A local backup file: a readable regular file in the target type's backup format.
pub fn backup_file(path: &Path, service_type: ServiceType) -> Check {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "{} does not exist (a relative path is read from the current directory)",
                path.display()
            )
        } else {
            format!("cannot read {}: {e}", path.display())
        }
    })?;
    if !meta.is_file() {
        return Err(format!(
            "{} is not a regular file; give the backup file itself (for a volume or bucket: a \
             .tar.gz archive made with tar czf FILE -C DIR .)",
            path.display()
        ));
    }
    match check_for_type(path, service_type) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(mismatch)) => Err(mismatch),
        Err(e) => Err(format!("cannot read the backup file: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_explain_the_rule() {
        assert!(service_name("files2").is_ok());
        let err = service_name("Files2").unwrap_err();
        assert!(
            err.contains("does not start with a lowercase letter"),
            "{err}"
        );
        let err = service_name(&"a".repeat(19)).unwrap_err();
        assert!(err.contains("is too long (19 characters)"), "{err}");
        let err = service_name(&"a".repeat(120 * 1024)).unwrap_err();
        assert!(
            err.len() < 300,
            "a huge name is cut short: {} bytes",
            err.len()
        );
        assert!(project_name("my-shop").is_err());
        assert!(stage_name("production").is_ok());
    }

    #[test]
    fn targets_must_be_new() {
        let existing = vec!["files".to_owned(), "media".to_owned()];
        assert!(target_name("files2", "files", &existing, "shop/production").is_ok());
        let err = target_name("media", "files", &existing, "shop/production").unwrap_err();
        assert!(err.contains("already exists in shop/production"), "{err}");
        let err = target_name("files", "files", &existing, "shop/production").unwrap_err();
        assert!(err.contains("the source itself"), "{err}");
    }

    #[test]
    fn elasticsearch_is_not_a_target_type() {
        assert_eq!(service_type("volume"), Ok(ServiceType::Volume));
        let err = service_type("elasticsearch7").unwrap_err();
        assert!(err.contains("no backup format"), "{err}");
        let err = service_type("mysql").unwrap_err();
        assert!(
            err.contains(
                "postgresql11, postgresql13, postgresql14, postgresql15, postgresql16, s3, redis6, redis7, volume, mongodb4"
            ),
            "{err}"
        );
    }

    #[test]
    fn plans_and_options_follow_the_type() {
        assert!(plan(ServiceType::Postgresql13, "db.t3.micro").is_ok());
        let err = plan(ServiceType::Postgresql13, "shared").unwrap_err();
        assert!(err.contains("RDS node type"), "{err}");
        assert!(option(ServiceType::Postgresql13, "min_storage", "50", None).is_ok());
        let err = option(ServiceType::Postgresql13, "min_storage", "5", None).unwrap_err();
        assert!(err.contains("is below the minimum"), "{err}");
        let err = option(ServiceType::Postgresql13, "max_storage", "30", Some("50")).unwrap_err();
        assert!(err.contains("below min_storage (50)"), "{err}");
        assert!(option(ServiceType::Postgresql13, "max_storage", "80", Some("50")).is_ok());
    }

    #[test]
    fn timeouts_use_humantime_within_the_plan_bounds() {
        assert_eq!(wait_timeout("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(wait_timeout("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(wait_timeout("soon").unwrap_err().contains("not a duration"));
        assert!(wait_timeout("10s").unwrap_err().contains("minimum of 1m"));
        assert!(
            wait_timeout("8days")
                .unwrap_err()
                .contains("maximum of 7 days")
        );
    }

    #[test]
    fn backup_files_are_sniffed_against_the_type() {
        let dir = tempfile::tempdir().unwrap();
        let sql = dir.path().join("dump.sql");
        std::fs::write(&sql, "-- dump\nCREATE TABLE t (id int);\n").unwrap();
        let err = backup_file(&sql, ServiceType::Volume).unwrap_err();
        assert!(err.contains("plain SQL text"), "{err}");
        let err = backup_file(dir.path(), ServiceType::Volume).unwrap_err();
        assert!(err.contains("not a regular file"), "{err}");
        let err = backup_file(&dir.path().join("nope"), ServiceType::Volume).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
    }
}
