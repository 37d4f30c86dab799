//! Preflight and inspect: read everything the run needs from the platform, check it, and resolve
//! each migration into the exact target configuration and links. Read-only: `--dry-run` stops here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::formats;
use crate::model::{
    Backup, BackupOrigin, BackupSchedule, BackupStatus, Link, Service, ServiceType,
};
use crate::plan::{BackupChoice, Migration, Plan, Relink};
use crate::platform::Platform;

/// One migration resolved against the platform: what the target will be and which links move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    pub target: String,
    pub source: Option<String>,
    pub service_type: ServiceType,
    pub plan: Option<String>,
    pub options: BTreeMap<String, String>,
    pub schedule: Option<BackupSchedule>,
    /// Links to point at the target, as seen on the source at inspect time (or given by the plan).
    pub links: Vec<Link>,
    pub manifest: Vec<ManifestLine>,
    /// The source backup whose head the compatibility checks read before the target was
    /// created (src/migrate/compat.rs): the backup step does not read it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_backup: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Copied,
    Override,
    Unset,
    Plan,
    NotCopied,
}

/// One line of the copy manifest: what the target gets and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestLine {
    pub item: String,
    pub value: String,
    pub origin: Origin,
}

/// What preflight learned about the stage, shared by the later steps.
pub struct Stage {
    pub services: Vec<Service>,
}

/// Token valid, project and stage exist, every source exists and has a backup format.
pub async fn preflight(platform: &dyn Platform, plan: &Plan) -> Result<Stage> {
    platform.whoami().await?;
    let scope = &plan.scope;
    let stages = platform.stages(&scope.project).await?;
    if !stages.iter().any(|s| s.name == scope.stage) {
        return Err(Error::Usage(format!(
            "{}: stage {:?} does not exist in project {:?} (stages: {}); fix `stage:` in the plan",
            plan.path.display(),
            scope.stage,
            scope.project,
            stages
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let services = platform.services(scope).await?;
    for m in &plan.migrations {
        if let Some(why) = m.service_type.and_then(|t| platform.refuses_type(t)) {
            return Err(Error::Usage(format!(
                "{}: migrations[{}] ({}): {why}; choose a type this platform offers in `type:`, \
                 or run with a setops CLI 2.x",
                plan.path.display(),
                m.index,
                m.target
            )));
        }
        if let Some(source) = &m.source {
            let Some(service) = services.iter().find(|s| &s.name == source) else {
                return Err(Error::Usage(format!(
                    "{}: migrations[{}]: source service {source:?} does not exist in {scope}; \
                     see `service` for the list",
                    plan.path.display(),
                    m.index
                )));
            };
            if service.service_type.backup_extension().is_none() {
                return Err(Error::Usage(format!(
                    "{}: migrations[{}]: source {source:?} is {}, which has no backup format \
                     (SetOps: not implemented); it cannot be migrated with backups",
                    plan.path.display(),
                    m.index,
                    service.service_type
                )));
            }
        }
    }
    Ok(Stage { services })
}

/// Resolves one migration against the source as it is now.
pub fn resolve(plan: &Plan, m: &Migration, services: &[Service]) -> Result<Resolved> {
    let source = m
        .source
        .as_ref()
        .and_then(|name| services.iter().find(|s| &s.name == name));
    let at = |what: &str| {
        format!(
            "{}: migrations[{}] ({}): {what}",
            plan.path.display(),
            m.index,
            m.target
        )
    };
    let mut manifest = Vec::new();

    let service_type = match (m.service_type, source) {
        (Some(t), Some(s)) if t != s.service_type => {
            manifest.push(line("type", t.as_str(), Origin::Override));
            t
        }
        (Some(t), None) => {
            manifest.push(line("type", t.as_str(), Origin::Plan));
            t
        }
        (_, Some(s)) => {
            manifest.push(line("type", s.service_type.as_str(), Origin::Copied));
            s.service_type
        }
        (None, None) => return Err(Error::Usage(at("an import needs `type:`"))),
    };
    if service_type.backup_extension().is_none() {
        return Err(Error::Usage(at(&format!(
            "{service_type} has no backup format; it cannot be a target"
        ))));
    }

    let plan_name = match (&m.plan, source) {
        (Some(p), _) => {
            manifest.push(line(
                "plan",
                p,
                if source.is_some() {
                    Origin::Override
                } else {
                    Origin::Plan
                },
            ));
            Some(p.clone())
        }
        (None, Some(s)) => {
            let copied = s.plan.clone();
            if let Some(p) = &copied {
                manifest.push(line("plan", p, Origin::Copied));
            }
            copied
        }
        (None, None) => service_type.default_plan().map(str::to_owned),
    };
    let plan_name = plan_name.or_else(|| service_type.default_plan().map(str::to_owned));
    if let Err(v) = service_type.validate_plan(plan_name.as_deref()) {
        return Err(Error::Usage(at(&format!(
            "plan {:?} is not valid for {service_type} ({v}); set `plan:` in the plan{}",
            plan_name.as_deref().unwrap_or("(none)"),
            if service_type == ServiceType::Postgresql13 {
                " (for example db.t3.micro)"
            } else {
                ""
            }
        ))));
    }

    let mut options = BTreeMap::new();
    if let Some(s) = source {
        for (k, v) in &s.options {
            options.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in &m.options {
        match v {
            Some(v) => {
                options.insert(k.clone(), v.clone());
            }
            None => {
                options.remove(k);
                manifest.push(line(&format!("option {k}"), "(unset)", Origin::Unset));
            }
        }
    }
    for (k, v) in &options {
        let origin = match m.options.get(k) {
            Some(Some(_)) if source.is_some() => Origin::Override,
            Some(Some(_)) => Origin::Plan,
            _ => Origin::Copied,
        };
        manifest.push(line(&format!("option {k}"), v, origin));
        if let Err(rule) = service_type.validate_option(k, v) {
            return Err(Error::Usage(at(&format!(
                "option {k}={v:?} is not valid for {service_type} ({rule}); override it in `options:` or unset it with `{k}: null`"
            ))));
        }
    }

    let schedule = source.and_then(|s| s.backup_schedule.clone());
    if let Some(sch) = &schedule {
        let hours: Vec<String> = sch.hours.iter().map(|h| format!("{h:02}:00")).collect();
        manifest.push(line(
            "backup schedule",
            &format!("{} UTC", hours.join(", ")),
            Origin::Copied,
        ));
    }

    let mut links = planned_links(m, source, service_type).map_err(|e| Error::Usage(at(&e)))?;
    // After a relink the source has no links left; the moved ones now point at the target. A
    // rerun without its journal must count them as this plan's, not as someone else's.
    if m.relink == Relink::All
        && let Some(existing) = find(services, &m.target)
    {
        for l in &existing.links {
            if !links.iter().any(|p| p.app == l.app) {
                links.push(l.clone());
            }
        }
    }
    let moved: Vec<String> = links
        .iter()
        .map(|l| format!("{} ({})", l.app, l.target()))
        .collect();
    manifest.push(line(
        "links",
        &if moved.is_empty() {
            "none".to_owned()
        } else {
            format!("moved at relink: {}", moved.join(", "))
        },
        Origin::NotCopied,
    ));
    manifest.push(line(
        "data",
        &match &m.backup {
            BackupChoice::File(p) => format!("restored from {}", p.display()),
            _ => "restored from the backup below".to_owned(),
        },
        Origin::NotCopied,
    ));

    Ok(Resolved {
        target: m.target.clone(),
        source: m.source.clone(),
        service_type,
        plan: plan_name,
        options,
        schedule,
        links,
        manifest,
        checked_backup: None,
    })
}

fn line(item: &str, value: &str, origin: Origin) -> ManifestLine {
    ManifestLine {
        item: item.to_owned(),
        value: value.to_owned(),
        origin,
    }
}

fn planned_links(
    m: &Migration,
    source: Option<&Service>,
    target_type: ServiceType,
) -> std::result::Result<Vec<Link>, String> {
    let links: Vec<Link> = match &m.relink {
        Relink::None => Vec::new(),
        Relink::All => source
            .map(|s| {
                s.links
                    .iter()
                    .map(|l| Link {
                        service: m.target.clone(),
                        ..l.clone()
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Relink::Only(specs) => specs
            .iter()
            .map(|s| Link {
                app: s.app.clone(),
                service: m.target.clone(),
                env_key: s.env_key.clone(),
                path: s.path.clone(),
                read_only: s.read_only,
            })
            .collect(),
    };
    for l in &links {
        let wants_path = target_type == ServiceType::Volume;
        if wants_path && l.path.is_none() {
            return Err(format!(
                "app {} links the source by env key {}, but a volume target is linked by mount path",
                l.app,
                l.target()
            ));
        }
        if !wants_path && l.path.is_some() {
            return Err(format!(
                "app {} links the source at path {}, but a {target_type} target is linked by env key",
                l.app,
                l.target()
            ));
        }
    }
    Ok(links)
}

/// The newest CREATED backup, for `backup: latest`.
pub fn latest_created(backups: &[Backup]) -> Option<&Backup> {
    backups
        .iter()
        .filter(|b| b.status == BackupStatus::Created && b.origin != BackupOrigin::Upload)
        .max_by_key(|b| b.created_at)
}

/// Checks a `file:` backup against the resolved target type (the plan loader checks it when the
/// type is written in the plan; here the type may come from the source).
pub fn check_file_format(plan: &Plan, m: &Migration, resolved: &Resolved) -> Result<()> {
    if let BackupChoice::File(path) = &m.backup
        && let Err(what) = formats::check_for_type(path, resolved.service_type)?
    {
        return Err(Error::Usage(format!(
            "{}: migrations[{}] ({}): {what}",
            plan.path.display(),
            m.index,
            m.target
        )));
    }
    Ok(())
}

/// The scope's services by name, for quick lookups.
pub fn find<'a>(services: &'a [Service], name: &str) -> Option<&'a Service> {
    services.iter().find(|s| s.name == name)
}
