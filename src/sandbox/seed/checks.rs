//! The rules a seed must follow: SetOps' naming rules, one default user, link kinds by type,
//! option values, and limits on generated content.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_saphyr::Spanned;
use uuid::Uuid;

use super::{Checker, SeedLink, SeedService, SeedStage, SeedUser, Seeded, flag};
use crate::model::{
    self, BackupSchedule, LinkKind, Scope, ServiceType, validate_app_name, validate_env_key,
    validate_mount_path, validate_service_name,
};
use crate::sandbox::content::{self, ContentSpec};
use crate::sandbox::engines::{Credentials, SeedData};
use crate::sandbox::{Error, Result};

/// Keeps a seed file from filling memory by accident.
const MAX_KEYS: u32 = 1_000_000;
use crate::sandbox::state::{AppConfig, LinkTarget, ServiceConfig, StageConfig, UserEntry};

pub(super) fn check_users(ck: &Checker<'_>, users: &[SeedUser]) -> Result<Vec<UserEntry>> {
    let mut out: Vec<UserEntry> = Vec::new();
    for user in users {
        let name = &user.name.value;
        let valid = name.len() >= 2
            && name.len() <= 32
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(ck.fail(&user.name.referenced, format!("user name {name:?} must be 2-32 chars of a-z, 0-9 and `-`, starting with a letter")));
        }
        if out.iter().any(|u| &u.name == name) {
            return Err(ck.fail(
                &user.name.referenced,
                format!("user {name:?} is listed twice"),
            ));
        }
        if let Some(default) = user.default.as_ref().filter(|d| d.value)
            && out.iter().any(|u| u.default)
        {
            return Err(ck.fail(&default.referenced, "only one user may be `default: true`"));
        }
        out.push(UserEntry {
            name: name.clone(),
            default: flag(&user.default),
        });
    }
    if out.is_empty() {
        return Err(Error::usage(format!(
            "{}: `users` is empty; list at least one user",
            ck.origin
        )));
    }
    if !out.iter().any(|u| u.default) {
        out[0].default = true;
    }
    Ok(out)
}

pub(super) fn check_stage(
    ck: &Checker<'_>,
    stage: &SeedStage,
    scope: &Scope,
    now: DateTime<Utc>,
    seeded: &mut Seeded,
) -> Result<StageConfig> {
    let mut config = StageConfig::default();
    for svc in &stage.services {
        let name = &svc.name.value;
        ck.rule(
            &svc.name,
            "service name",
            validate_service_name(name),
            "3-18 chars of a-z, 0-9 and `-`, starting with a letter",
        )?;
        if config.services.contains_key(name) {
            return Err(ck.fail(
                &svc.name.referenced,
                format!("service {name:?} is listed twice in {scope}"),
            ));
        }
        let service_type: ServiceType = svc
            .service_type
            .value
            .parse()
            .map_err(|e: String| ck.fail(&svc.service_type.referenced, e))?;
        let plan = svc.plan.as_ref().map(|p| p.value.clone());
        if let Err(v) = service_type.validate_plan(plan.as_deref()) {
            let at = svc
                .plan
                .as_ref()
                .map_or(&svc.service_type.referenced, |p| &p.referenced);
            return Err(ck.fail(
                at,
                format!(
                    "plan {:?} {} for type {service_type}",
                    plan.as_deref().unwrap_or(""),
                    model::describe_validator(v)
                ),
            ));
        }
        let mut options = BTreeMap::new();
        for (key, value) in &svc.options {
            if let Err(v) = service_type.validate_option(key, &value.value) {
                return Err(ck.fail(
                    &value.referenced,
                    format!(
                        "option {key}={:?} {} for type {service_type} (allowed options: {})",
                        value.value,
                        model::describe_validator(v),
                        service_type.allowed_options().join(", ")
                    ),
                ));
            }
            options.insert(key.clone(), value.value.clone());
        }
        // A seeded service has its type's documented defaults, as a created one does.
        let options = service_type.effective_options(&options);
        check_storage(ck, svc, &options)?;
        if let Some(schedule) = &svc.backup_schedule {
            check_schedule(ck, schedule)?;
        }
        let allows = |key: &str, types: &str, ok: bool, at: &serde_saphyr::Location| {
            if ok {
                Ok(())
            } else {
                Err(ck.fail(
                    at,
                    format!("`{key}` needs a {types} service; {name:?} is {service_type}"),
                ))
            }
        };
        let is_dir = matches!(service_type, ServiceType::Volume | ServiceType::S3);
        let is_pg = matches!(
            service_type,
            ServiceType::Postgresql11 | ServiceType::Postgresql13
        );
        if let Some(spec) = &svc.content {
            allows("content", "volume or s3", is_dir, &spec.referenced)?;
            check_content(ck, spec)?;
            seeded.contents.push((
                scope.clone(),
                name.clone(),
                SeedData::Files(spec.value.clone()),
            ));
        }
        if let Some(sql) = &svc.sql {
            allows(
                "sql",
                "postgresql11 or postgresql13",
                is_pg,
                &sql.referenced,
            )?;
            seeded.contents.push((
                scope.clone(),
                name.clone(),
                SeedData::Sql(sql.value.clone()),
            ));
        }
        if let Some(keys) = &svc.keys {
            allows(
                "keys",
                "redis6",
                service_type == ServiceType::Redis6,
                &keys.referenced,
            )?;
            if keys.value.count > MAX_KEYS {
                return Err(ck.fail(
                    &keys.referenced,
                    format!("`keys.count` is at most {MAX_KEYS}"),
                ));
            }
            seeded.contents.push((
                scope.clone(),
                name.clone(),
                SeedData::Keys(keys.value.clone()),
            ));
        }
        if let Some(seed_backup) = svc.seed_backup.as_ref().filter(|b| b.value) {
            allows(
                "seed_backup",
                "volume, s3, postgresql, redis6 or mongodb4",
                service_type != ServiceType::Elasticsearch7,
                &seed_backup.referenced,
            )?;
            seeded.seed_backups.push((scope.clone(), name.clone()));
        }
        let uid = Uuid::new_v4();
        config.services.insert(
            name.clone(),
            ServiceConfig {
                uid,
                service_type,
                plan,
                options,
                backup_schedule: svc.backup_schedule.as_ref().map(|s| s.value.clone()),
                created_at: now,
                credentials: Credentials::generate(service_type, uid),
            },
        );
    }
    for app in &stage.apps {
        ck.rule(
            &app.name,
            "app name",
            validate_app_name(&app.name.value),
            "3-16 chars of a-z, 0-9 and `-`, starting with a letter",
        )?;
        if config.apps.contains_key(&app.name.value) {
            return Err(ck.fail(
                &app.name.referenced,
                format!("app {:?} is listed twice in {scope}", app.name.value),
            ));
        }
        let mut cfg = AppConfig::default();
        if let Some(scale) = &app.scale {
            if scale.value > model::MAX_SCALE {
                return Err(ck.fail(
                    &scale.referenced,
                    format!(
                        "scale {} of app {:?} is above {} (SetOps runs 0 to {} containers per app)",
                        scale.value,
                        app.name.value,
                        model::MAX_SCALE,
                        model::MAX_SCALE
                    ),
                ));
            }
            cfg.scale = scale.value;
        }
        for link in &app.links {
            let (service, target) = check_link(ck, &config, &cfg, link)?;
            cfg.links.insert(service, target);
        }
        config.apps.insert(app.name.value.clone(), cfg);
    }
    Ok(config)
}

fn check_storage(
    ck: &Checker<'_>,
    svc: &SeedService,
    options: &BTreeMap<String, String>,
) -> Result<()> {
    let num = |k: &str| options.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    if let (Some(min), Some(max)) = (num("min_storage"), num("max_storage"))
        && max < min
    {
        let at = &svc.options["max_storage"].referenced;
        return Err(ck.fail(at, format!("max_storage {max} is below min_storage {min}")));
    }
    Ok(())
}

fn check_schedule(ck: &Checker<'_>, schedule: &Spanned<BackupSchedule>) -> Result<()> {
    let s = &schedule.value;
    if s.hours.is_empty() || s.hours.iter().any(|h| *h > 23) {
        return Err(ck.fail(
            &schedule.referenced,
            "backup_schedule.hours must list hours 0-23 (UTC)",
        ));
    }
    if let Some(d) = s
        .weekdays
        .iter()
        .find(|d| !model::WEEKDAYS.contains(&d.as_str()))
    {
        return Err(ck.fail(
            &schedule.referenced,
            format!("weekday {d:?} is not one of {}", model::WEEKDAYS.join(", ")),
        ));
    }
    Ok(())
}

fn check_content(ck: &Checker<'_>, spec: &Spanned<ContentSpec>) -> Result<()> {
    let c = &spec.value;
    if c.files > content::MAX_FILES {
        return Err(ck.fail(
            &spec.referenced,
            format!(
                "content.files {} is above the limit of {}",
                c.files,
                content::MAX_FILES
            ),
        ));
    }
    if c.max_size > content::MAX_FILE_SIZE {
        return Err(ck.fail(
            &spec.referenced,
            format!(
                "content.max_size {} is above the limit of {} bytes",
                c.max_size,
                content::MAX_FILE_SIZE
            ),
        ));
    }
    if c.depth > content::MAX_DEPTH {
        return Err(ck.fail(
            &spec.referenced,
            format!(
                "content.depth {} is above the limit of {}",
                c.depth,
                content::MAX_DEPTH
            ),
        ));
    }
    Ok(())
}

fn check_link(
    ck: &Checker<'_>,
    config: &StageConfig,
    app: &AppConfig,
    link: &SeedLink,
) -> Result<(String, LinkTarget)> {
    let service = &link.service.value;
    let Some(svc) = config.services.get(service) else {
        return Err(ck.fail(
            &link.service.referenced,
            format!("service {service:?} is not listed in this stage's `services`"),
        ));
    };
    if app.links.contains_key(service) {
        return Err(ck.fail(
            &link.service.referenced,
            format!("this app already links service {service:?}; an app links a service once"),
        ));
    }
    let target = match (svc.service_type.link_kind(), &link.env_key, &link.path) {
        (LinkKind::EnvKey, Some(key), None) => {
            ck.rule(key, "env key", validate_env_key(&key.value), "letters, digits and `_`, not starting with a digit, not APP_ENV_ID/PORT/PORTS/PROTOCOL")?;
            if let Some(read_only) = link.read_only.as_ref().filter(|r| r.value) {
                return Err(ck.fail(
                    &read_only.referenced,
                    "`read_only` applies to volume links (`path`) only",
                ));
            }
            if app
                .links
                .values()
                .any(|t| t.env_key.as_deref() == Some(&key.value))
            {
                return Err(ck.fail(
                    &key.referenced,
                    format!(
                        "env key {:?} is already used by another link of this app",
                        key.value
                    ),
                ));
            }
            LinkTarget {
                env_key: Some(key.value.clone()),
                path: None,
                read_only: false,
            }
        }
        (LinkKind::Path, None, Some(path)) => {
            ck.rule(
                path,
                "mount path",
                validate_mount_path(&path.value),
                "an absolute path such as /data",
            )?;
            if app
                .links
                .values()
                .any(|t| t.path.as_deref() == Some(&path.value))
            {
                return Err(ck.fail(
                    &path.referenced,
                    format!(
                        "path {:?} is already used by another link of this app",
                        path.value
                    ),
                ));
            }
            LinkTarget {
                env_key: None,
                path: Some(path.value.clone()),
                read_only: flag(&link.read_only),
            }
        }
        (LinkKind::Path, _, _) => {
            return Err(ck.fail(&link.service.referenced, format!("service {service:?} is a volume: link it with `path` (a mount path) and no `env_key`")));
        }
        (LinkKind::EnvKey, _, _) => {
            return Err(ck.fail(
                &link.service.referenced,
                format!(
                    "service {service:?} is {}: link it with `env_key` and no `path`",
                    svc.service_type
                ),
            ));
        }
    };
    Ok((service.clone(), target))
}
