//! The seed file (plans/sandbox/demo-world.yaml or `--seed FILE`): users, projects, stages, apps,
//! services with content generators, and links. Parsed strictly (unknown keys are errors), checked
//! with SetOps' own rules, every error naming `file:line:column`.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use crate::model::{self, BackupSchedule, Scope, validate_project_name, validate_stage_name};
use crate::sandbox::content::ContentSpec;
use crate::sandbox::engines::{KeySpec, SeedData};
use crate::sandbox::state::{ProjectState, STATE_FORMAT, StageState, World};
use crate::sandbox::{Error, Result};

/// The demo world, compiled in so a new sandbox needs no file next to the binary.
pub(crate) const DEMO_SEED: &str = include_str!("../../../plans/sandbox/demo-world.yaml");
pub(crate) const DEMO_SEED_NAME: &str = "plans/sandbox/demo-world.yaml (built in)";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    users: Vec<SeedUser>,
    #[serde(default)]
    projects: Vec<SeedProject>,
    /// Apps with running containers write to the services they link (off unless set).
    #[serde(default)]
    live_apps: bool,
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
    /// How many containers the app runs (0-16, default 1).
    scale: Option<Spanned<u8>>,
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
    /// A SQL script run as the service's role (postgresql types).
    sql: Option<Spanned<String>>,
    /// Generated keys (redis6).
    keys: Option<Spanned<KeySpec>>,
    seed_backup: Option<Spanned<bool>>,
}

/// A checked seed: the world to start from, plus the data to write into it.
pub(crate) struct Seeded {
    pub world: World,
    pub contents: Vec<(Scope, String, SeedData)>,
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
        Error::usage(format!(
            "{}:{}:{}: {what}",
            self.origin,
            at.line(),
            at.column()
        ))
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

/// A seed describes a world (projects, services, generated content), not data: the demo world's
/// is a few KiB.
const MAX_SEED_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a seed file from disk (`origin` in messages is its path).
pub(crate) fn read(path: &Path) -> Result<(String, String)> {
    let text = crate::fsio::read_text_bounded(path, MAX_SEED_BYTES)
        .map_err(|e| Error::io("reading seed file", path, e))?;
    Ok((text, path.display().to_string()))
}

pub(crate) fn build(text: &str, origin: &str, now: DateTime<Utc>) -> Result<Seeded> {
    let file: SeedFile = serde_saphyr::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!("{}:{}", l.line(), l.column()))
            .unwrap_or_else(|| "1:1".to_owned());
        // The position leads the message already; drop the parser's own copy of it.
        let text = e.without_snippet().to_string();
        let text = match text.rfind(" at line ") {
            Some(i) => &text[..i],
            None => &text,
        };
        Error::usage(format!(
            "{origin}:{at}: {text}; see plans/sandbox/demo-world.yaml for the format"
        ))
    })?;
    let ck = Checker { origin };
    let users = checks::check_users(&ck, &file.users)?;
    let mut seeded = Seeded {
        world: World {
            format: STATE_FORMAT,
            users,
            projects: BTreeMap::new(),
            commits: BTreeMap::new(),
            backups: BTreeMap::new(),
            transfers: BTreeMap::new(),
            live_apps: file.live_apps,
        },
        contents: Vec::new(),
        seed_backups: Vec::new(),
    };
    for project in &file.projects {
        ck.rule(
            &project.name,
            "project name",
            validate_project_name(&project.name.value),
            "3-20 chars of a-z and 0-9, starting with a letter",
        )?;
        if seeded.world.projects.contains_key(&project.name.value) {
            return Err(ck.fail(
                &project.name.referenced,
                format!("project {:?} is listed twice", project.name.value),
            ));
        }
        let mut stages = BTreeMap::new();
        for stage in &project.stages {
            ck.rule(
                &stage.name,
                "stage name",
                validate_stage_name(&stage.name.value),
                "3-12 chars of a-z and 0-9, starting with a letter",
            )?;
            if stages.contains_key(&stage.name.value) {
                return Err(ck.fail(
                    &stage.name.referenced,
                    format!(
                        "stage {:?} is listed twice in project {:?}",
                        stage.name.value, project.name.value
                    ),
                ));
            }
            let scope = Scope {
                project: project.name.value.clone(),
                stage: stage.name.value.clone(),
            };
            let config = checks::check_stage(&ck, stage, &scope, now, &mut seeded)?;
            let mut state = StageState {
                created_at: now,
                config,
                changesets: BTreeMap::new(),
                tasks: BTreeMap::new(),
            };
            // Seeded apps are already running.
            crate::sandbox::tasks::converge_stage(&mut state, now, std::time::Duration::ZERO);
            stages.insert(stage.name.value.clone(), state);
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

mod checks;
mod materialize;

pub(crate) use materialize::materialize;

#[cfg(test)]
mod tests;
