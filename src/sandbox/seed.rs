//! The seed file (plans/demo-sandbox.yaml or `--seed FILE`): users, projects, stages, apps,
//! services with content generators, and links. Parsed strictly (unknown keys are errors), checked
//! with SetOps' own rules, every error naming `file:line:column`.

use std::collections::BTreeMap;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};
use uuid::Uuid;

use super::content::{self, ContentSpec};
use super::engines::{data_dir, engine_for};
use super::jobs::write_backup_file;
use super::state::{
    AppConfig, BackupEntry, LinkTarget, ProjectState, STATE_FORMAT, ServiceConfig, StageConfig, StageState,
    UserEntry, World,
};
use crate::error::{Error, Result};
use crate::model::{
    self, Backup, BackupOrigin, BackupSchedule, BackupStatus, LinkKind, Scope, ServiceType, validate_app_name, validate_env_key,
    validate_mount_path, validate_project_name, validate_service_name, validate_stage_name,
};

/// The demo world, compiled in so a new sandbox needs no file next to the binary.
pub(crate) const DEMO_SEED: &str = include_str!("../../plans/demo-sandbox.yaml");
pub(crate) const DEMO_SEED_NAME: &str = "plans/demo-sandbox.yaml (built in)";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    users: Vec<SeedUser>,
    #[serde(default)]
    projects: Vec<SeedProject>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedUser {
    name: Spanned<String>,
    default: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedProject {
    name: Spanned<String>,
    #[serde(default)]
    stages: Vec<SeedStage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedStage {
    name: Spanned<String>,
    #[serde(default)]
    apps: Vec<SeedApp>,
    #[serde(default)]
    services: Vec<SeedService>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedApp {
    name: Spanned<String>,
    #[serde(default)]
    links: Vec<SeedLink>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedLink {
    service: Spanned<String>,
    env_key: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    read_only: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedService {
    name: Spanned<String>,
    #[serde(rename = "type")]
    service_type: Spanned<String>,
    plan: Option<Spanned<String>>,
    #[serde(default)]
    options: BTreeMap<String, Spanned<String>>,
    backup_schedule: Option<Spanned<BackupSchedule>>,
    content: Option<Spanned<ContentSpec>>,
    seed_backup: Option<Spanned<bool>>,
}

/// A checked seed: the world to start from, plus the data to write into it.
pub(crate) struct Seeded {
    pub world: World,
    pub contents: Vec<(Scope, String, ContentSpec)>,
    pub seed_backups: Vec<(Scope, String)>,
}

fn flag(value: &Option<Spanned<bool>>) -> bool {
    value.as_ref().is_some_and(|v| v.value)
}

struct Checker<'a> {
    origin: &'a str,
}

impl Checker<'_> {
    fn fail(&self, at: &Location, what: impl std::fmt::Display) -> Error {
        Error::usage(format!("{}:{}:{}: {what}", self.origin, at.line(), at.column()))
    }

    fn rule(
        &self,
        field: &Spanned<String>,
        thing: &str,
        result: std::result::Result<(), &'static str>,
        rule: &str,
    ) -> Result<()> {
        result.map_err(|v| {
            self.fail(
                &field.referenced,
                format!(
                    "{thing} {:?} {} ({rule})",
                    field.value,
                    model::describe_validator(v)
                ),
            )
        })
    }
}

/// Reads a seed file from disk (`origin` in messages is its path).
pub(crate) fn read(path: &Path) -> Result<(String, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading seed file", path, e))?;
    Ok((text, path.display().to_string()))
}

pub(crate) fn build(text: &str, origin: &str, now: DateTime<Utc>) -> Result<Seeded> {
    let file: SeedFile = serde_saphyr::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!("{}:{}", l.line(), l.column()))
            .unwrap_or_else(|| "1:1".to_owned());
        Error::usage(format!(
            "{origin}:{at}: {}; see plans/demo-sandbox.yaml for the format",
            e.without_snippet()
        ))
    })?;
    let ck = Checker { origin };
    let users = check_users(&ck, &file.users)?;
    let mut seeded = Seeded {
        world: World {
            format: STATE_FORMAT,
            users,
            projects: BTreeMap::new(),
            commits: BTreeMap::new(),
            backups: BTreeMap::new(),
            transfers: BTreeMap::new(),
        },
        contents: Vec::new(),
        seed_backups: Vec::new(),
    };
    for project in &file.projects {
        ck.rule(&project.name, "project name", validate_project_name(&project.name.value), "3-20 chars of a-z and 0-9, starting with a letter")?;
        if seeded.world.projects.contains_key(&project.name.value) {
            return Err(ck.fail(&project.name.referenced, format!("project {:?} is listed twice", project.name.value)));
        }
        let mut stages = BTreeMap::new();
        for stage in &project.stages {
            ck.rule(&stage.name, "stage name", validate_stage_name(&stage.name.value), "3-12 chars of a-z and 0-9, starting with a letter")?;
            if stages.contains_key(&stage.name.value) {
                return Err(ck.fail(&stage.name.referenced, format!("stage {:?} is listed twice in project {:?}", stage.name.value, project.name.value)));
            }
            let scope = Scope {
                project: project.name.value.clone(),
                stage: stage.name.value.clone(),
            };
            let config = check_stage(&ck, stage, &scope, now, &mut seeded)?;
            stages.insert(
                stage.name.value.clone(),
                StageState {
                    created_at: now,
                    config,
                    changesets: BTreeMap::new(),
                },
            );
        }
        seeded.world.projects.insert(
            project.name.value.clone(),
            ProjectState {
                created_at: now,
                stages,
            },
        );
    }
    Ok(seeded)
}

fn check_users(ck: &Checker<'_>, users: &[SeedUser]) -> Result<Vec<UserEntry>> {
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
            return Err(ck.fail(&user.name.referenced, format!("user {name:?} is listed twice")));
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
        return Err(Error::usage(format!("{}: `users` is empty; list at least one user", ck.origin)));
    }
    if !out.iter().any(|u| u.default) {
        out[0].default = true;
    }
    Ok(out)
}

fn check_stage(
    ck: &Checker<'_>,
    stage: &SeedStage,
    scope: &Scope,
    now: DateTime<Utc>,
    seeded: &mut Seeded,
) -> Result<StageConfig> {
    let mut config = StageConfig::default();
    for svc in &stage.services {
        let name = &svc.name.value;
        ck.rule(&svc.name, "service name", validate_service_name(name), "3-18 chars of a-z, 0-9 and `-`, starting with a letter")?;
        if config.services.contains_key(name) {
            return Err(ck.fail(&svc.name.referenced, format!("service {name:?} is listed twice in {scope}")));
        }
        let service_type: ServiceType = svc
            .service_type
            .value
            .parse()
            .map_err(|e: String| ck.fail(&svc.service_type.referenced, e))?;
        let plan = svc.plan.as_ref().map(|p| p.value.clone());
        if let Err(v) = service_type.validate_plan(plan.as_deref()) {
            let at = svc.plan.as_ref().map_or(&svc.service_type.referenced, |p| &p.referenced);
            return Err(ck.fail(at, format!("plan {:?} {} for type {service_type}", plan.as_deref().unwrap_or(""), model::describe_validator(v))));
        }
        let mut options = BTreeMap::new();
        for (key, value) in &svc.options {
            if let Err(v) = service_type.validate_option(key, &value.value) {
                return Err(ck.fail(&value.referenced, format!("option {key}={:?} {} for type {service_type} (allowed options: {})", value.value, model::describe_validator(v), service_type.allowed_options().join(", "))));
            }
            options.insert(key.clone(), value.value.clone());
        }
        check_storage(ck, svc, &options)?;
        if let Some(schedule) = &svc.backup_schedule {
            check_schedule(ck, schedule)?;
        }
        let engine = engine_for(service_type);
        if let Some(spec) = &svc.content {
            if engine.is_none() {
                return Err(ck.fail(&spec.referenced, format!("`content` needs a volume or s3 service; {}", super::engines::unsupported_reason(service_type))));
            }
            check_content(ck, spec)?;
            seeded.contents.push((scope.clone(), name.clone(), spec.value.clone()));
        }
        if let Some(seed_backup) = svc.seed_backup.as_ref().filter(|b| b.value) {
            if engine.is_none() {
                return Err(ck.fail(&seed_backup.referenced, format!("`seed_backup` needs a volume or s3 service; {}", super::engines::unsupported_reason(service_type))));
            }
            seeded.seed_backups.push((scope.clone(), name.clone()));
        }
        config.services.insert(
            name.clone(),
            ServiceConfig {
                uid: Uuid::new_v4(),
                service_type,
                plan,
                options,
                backup_schedule: svc.backup_schedule.as_ref().map(|s| s.value.clone()),
                created_at: now,
                credentials: engine.and_then(|e| e.new_credentials()),
            },
        );
    }
    for app in &stage.apps {
        ck.rule(&app.name, "app name", validate_app_name(&app.name.value), "3-16 chars of a-z, 0-9 and `-`, starting with a letter")?;
        if config.apps.contains_key(&app.name.value) {
            return Err(ck.fail(&app.name.referenced, format!("app {:?} is listed twice in {scope}", app.name.value)));
        }
        let mut cfg = AppConfig::default();
        for link in &app.links {
            let (service, target) = check_link(ck, &config, &cfg, link)?;
            cfg.links.insert(service, target);
        }
        config.apps.insert(app.name.value.clone(), cfg);
    }
    Ok(config)
}

fn check_storage(ck: &Checker<'_>, svc: &SeedService, options: &BTreeMap<String, String>) -> Result<()> {
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
        return Err(ck.fail(&schedule.referenced, "backup_schedule.hours must list hours 0-23 (UTC)"));
    }
    if let Some(d) = s.weekdays.iter().find(|d| !model::WEEKDAYS.contains(&d.as_str())) {
        return Err(ck.fail(&schedule.referenced, format!("weekday {d:?} is not one of {}", model::WEEKDAYS.join(", "))));
    }
    Ok(())
}

fn check_content(ck: &Checker<'_>, spec: &Spanned<ContentSpec>) -> Result<()> {
    let c = &spec.value;
    if c.files > content::MAX_FILES {
        return Err(ck.fail(&spec.referenced, format!("content.files {} is above the limit of {}", c.files, content::MAX_FILES)));
    }
    if c.max_size > content::MAX_FILE_SIZE {
        return Err(ck.fail(&spec.referenced, format!("content.max_size {} is above the limit of {} bytes", c.max_size, content::MAX_FILE_SIZE)));
    }
    if c.depth > content::MAX_DEPTH {
        return Err(ck.fail(&spec.referenced, format!("content.depth {} is above the limit of {}", c.depth, content::MAX_DEPTH)));
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
        return Err(ck.fail(&link.service.referenced, format!("service {service:?} is not listed in this stage's `services`")));
    };
    if app.links.contains_key(service) {
        return Err(ck.fail(&link.service.referenced, format!("this app already links service {service:?}; an app links a service once")));
    }
    let target = match (svc.service_type.link_kind(), &link.env_key, &link.path) {
        (LinkKind::EnvKey, Some(key), None) => {
            ck.rule(key, "env key", validate_env_key(&key.value), "letters, digits and `_`, not starting with a digit, not APP_ENV_ID/PORT/PORTS/PROTOCOL")?;
            if let Some(read_only) = link.read_only.as_ref().filter(|r| r.value) {
                return Err(ck.fail(&read_only.referenced, "`read_only` applies to volume links (`path`) only"));
            }
            if app.links.values().any(|t| t.env_key.as_deref() == Some(&key.value)) {
                return Err(ck.fail(&key.referenced, format!("env key {:?} is already used by another link of this app", key.value)));
            }
            LinkTarget { env_key: Some(key.value.clone()), path: None, read_only: false }
        }
        (LinkKind::Path, None, Some(path)) => {
            ck.rule(path, "mount path", validate_mount_path(&path.value), "an absolute path such as /data")?;
            if app.links.values().any(|t| t.path.as_deref() == Some(&path.value)) {
                return Err(ck.fail(&path.referenced, format!("path {:?} is already used by another link of this app", path.value)));
            }
            LinkTarget { env_key: None, path: Some(path.value.clone()), read_only: flag(&link.read_only) }
        }
        (LinkKind::Path, _, _) => {
            return Err(ck.fail(&link.service.referenced, format!("service {service:?} is a volume: link it with `path` (a mount path) and no `env_key`")));
        }
        (LinkKind::EnvKey, _, _) => {
            return Err(ck.fail(&link.service.referenced, format!("service {service:?} is {}: link it with `env_key` and no `path`", svc.service_type)));
        }
    };
    Ok((service.clone(), target))
}

/// Writes a checked seed to disk: empty data directories for every service with an engine, the
/// generated content, and the seed backups (CREATED, origin scheduled). Leftovers of an
/// interrupted earlier seeding are cleared first.
pub(crate) fn materialize(dir: &Path, seeded: Seeded) -> Result<World> {
    let Seeded {
        mut world,
        contents,
        seed_backups,
    } = seeded;
    for sub in ["data", "backups"] {
        let path = dir.join(sub);
        match std::fs::remove_dir_all(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io("clearing", &path, e));
            }
            _ => {}
        }
    }
    let backups_dir = dir.join("backups");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&backups_dir)
        .map_err(|e| Error::io("creating", &backups_dir, e))?;
    for (project, p) in &world.projects {
        for (stage, s) in &p.stages {
            let scope = Scope { project: project.clone(), stage: stage.clone() };
            for (name, svc) in &s.config.services {
                if let Some(engine) = engine_for(svc.service_type) {
                    let data = data_dir(dir, &scope, name);
                    engine.provision(&data).map_err(|e| Error::io("creating service data", &data, e))?;
                }
            }
        }
    }
    for (scope, name, spec) in &contents {
        let data = data_dir(dir, scope, name);
        content::generate(&data, spec).map_err(|e| Error::io("generating seed content in", &data, e))?;
    }
    for (scope, name) in &seed_backups {
        let Some(svc) = world.stage(scope).and_then(|s| s.config.services.get(name)).cloned() else {
            continue;
        };
        let Some(engine) = engine_for(svc.service_type) else {
            continue;
        };
        let id = Uuid::new_v4();
        let written = write_backup_file(
            engine,
            &data_dir(dir, scope, name),
            &backups_dir,
            id,
            svc.service_type,
        )
        .map_err(|e| Error::Internal(format!("making the seed backup of {name} in {scope}: {e}")))?;
        world.backups.insert(
            id,
            BackupEntry {
                project: scope.project.clone(),
                stage: scope.stage.clone(),
                service_uid: svc.uid,
                backup: Backup {
                    id,
                    service: name.clone(),
                    status: BackupStatus::Created,
                    created_at: Utc::now(),
                    size: Some(written.size),
                    sha256: Some(written.sha256),
                    origin: BackupOrigin::Scheduled,
                    last_restore: None,
                },
                file: Some(written.file),
                upload: None,
            },
        );
    }
    Ok(world)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match build(text, "seed.yaml", Utc::now()) {
            Ok(_) => panic!("seed accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_demo_world_is_valid() {
        let seeded = build(DEMO_SEED, DEMO_SEED_NAME, Utc::now()).expect("demo seed");
        let w = &seeded.world;
        let default: Vec<&str> = w.users.iter().filter(|u| u.default).map(|u| u.name.as_str()).collect();
        assert_eq!(default, ["demo"]);
        assert!(w.users.iter().any(|u| u.name == "ci"));
        let scope = Scope { project: "shop".into(), stage: "production".into() };
        let stage = w.stage(&scope).expect("shop/production");
        let names: Vec<&String> = stage.config.services.keys().collect();
        assert_eq!(names, ["files", "media", "scratch"]);
        assert_eq!(stage.config.apps["web"].links["files"].path.as_deref(), Some("/data"));
        assert_eq!(stage.config.apps["web"].links["media"].env_key.as_deref(), Some("S3_DATA_URL"));
        assert!(stage.config.apps["worker"].links.is_empty());
        assert!(stage.config.services["media"].credentials.is_some());
        assert_eq!(seeded.seed_backups.len(), 3);
        assert_eq!(seeded.contents.len(), 2);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let text = "users:\n  - name: demo\nprojects:\n  - name: Shop\n";
        assert!(err(text).starts_with("seed.yaml:4:11: project name \"Shop\""), "{}", err(text));
        let text = "users:\n  - name: demo\n    colour: red\n";
        assert!(err(text).starts_with("seed.yaml:3:"), "{}", err(text));
        assert!(err(text).contains("colour"), "{}", err(text));
    }

    #[test]
    fn links_follow_the_type_rules() {
        let base = "users: [{name: demo}]\nprojects:\n  - name: shop\n    stages:\n      - name: prod\n        services:\n          - {name: files, type: volume}\n          - {name: database, type: postgresql11}\n        apps:\n          - name: web\n            links:\n";
        let e = err(&format!("{base}              - {{service: files, env_key: DATA}}\n"));
        assert!(e.contains("link it with `path`"), "{e}");
        let e = err(&format!("{base}              - {{service: database, path: /db}}\n"));
        assert!(e.contains("link it with `env_key`"), "{e}");
        let e = err(&format!("{base}              - {{service: nope, path: /x}}\n"));
        assert!(e.starts_with("seed.yaml:12:"), "{e}");
        let e = err(&format!("{base}              - {{service: database, env_key: PORT}}\n"));
        assert!(e.contains("reserved"), "{e}");
    }

    #[test]
    fn content_needs_an_engine_and_options_are_checked() {
        let text = "users: [{name: demo}]\nprojects:\n  - name: shop\n    stages:\n      - name: prod\n        services:\n          - name: database\n            type: postgresql11\n            content: {seed: 1, files: 1, max_size: 1}\n";
        assert!(err(text).contains("issue 4"), "{}", err(text));
        let text = "users: [{name: demo}]\nprojects:\n  - name: shop\n    stages:\n      - name: prod\n        services:\n          - name: database\n            type: postgresql13\n            plan: db.t3.micro\n            options: {min_storage: \"50\", max_storage: \"30\"}\n";
        assert!(err(text).contains("below min_storage"), "{}", err(text));
    }
}
