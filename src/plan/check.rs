//! The rules of a plan as a whole: version, scope names, defaults, and what migrations may not
//! share. Every issue is collected; the plan is built only when there is none.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde_saphyr::{Location, Spanned};

use super::backup::parse_backup;
use super::issues::{Issues, PlanIssue};
use super::migration::{Defaults, check_migration, parse_wait_timeout};
use super::node::Node;
use super::raw::{RawDefaults, RawMigration, RawPlan};
use super::rules::{NameKind, name_rule, quote};
use super::secrets;
use super::{Migration, Plan};
use crate::model::{Scope, validate_project_name, validate_service_name, validate_stage_name};

pub(super) fn check_plan(
    path: &Path,
    content_hash: String,
    raw: RawPlan,
    tree: &Spanned<Node>,
) -> Result<Plan, Vec<PlanIssue>> {
    let mut issues = Issues::new(path);
    for finding in secrets::scan(tree) {
        issues.credential(finding.line, finding.column, &finding.field, &finding.rule);
    }

    let root = &tree.referenced;
    let version = required(raw.version.as_ref(), root, "version", &mut issues);
    let project = required(raw.project.as_ref(), root, "project", &mut issues);
    let stage = required(raw.stage.as_ref(), root, "stage", &mut issues);
    let no_migrations = Vec::new();
    let raw_migrations = required(raw.migrations.as_ref(), root, "migrations", &mut issues)
        .map(|m| &m.value)
        .unwrap_or(&no_migrations);

    if let Some(version) = version
        && version.value != 1
    {
        issues.at(
            &version.referenced,
            "version",
            format!(
                "plan version {} is not supported; this tool reads version 1 plans (`version: 1`)",
                version.value
            ),
        );
    }
    if let Some(project) = project
        && let Err(v) = validate_project_name(&project.value)
    {
        let rule = name_rule(NameKind::Project, &project.value, v);
        issues.at(&project.referenced, "project", rule);
    }
    if let Some(stage) = stage
        && let Err(v) = validate_stage_name(&stage.value)
    {
        let rule = name_rule(NameKind::Stage, &stage.value, v);
        issues.at(&stage.referenced, "stage", rule);
    }

    // `x.yaml` has the empty parent, which joins as the current directory.
    let plan_dir = path.parent().unwrap_or(Path::new(""));
    let freeze = super::freeze::check_freeze(raw.freeze.as_ref(), &mut issues);
    let mut defaults = check_defaults(raw.defaults.as_ref(), plan_dir, &mut issues);
    defaults.freeze = raw.freeze.is_some();

    if let Some(migrations) = &raw.migrations
        && migrations.value.is_empty()
    {
        issues.at(
            &migrations.referenced,
            "migrations",
            "the plan has no migrations; add at least one (see plans/examples/)",
        );
    }
    check_names_across(raw_migrations, &mut issues);

    let migrations: Vec<Option<Migration>> = raw_migrations
        .iter()
        .enumerate()
        .map(|(i, m)| check_migration(i, m, &defaults, plan_dir, &mut issues))
        .collect();

    let (Some(project), Some(stage)) = (project, stage) else {
        return Err(issues.into_sorted());
    };
    if issues.count() > 0 {
        return Err(issues.into_sorted());
    }
    let migrations = migrations
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            // Every rule that refuses a migration also records an issue; this is the net under it.
            vec![PlanIssue::whole_file(
                path,
                "a migration was refused without a reason; please report this",
            )]
        })?;
    Ok(Plan {
        path: path.to_path_buf(),
        content_hash,
        scope: Scope {
            project: project.value.clone(),
            stage: stage.value.clone(),
        },
        migrations,
        freeze,
    })
}

/// A required key's value; a missing one is an issue at the mapping that lacks it.
pub(super) fn required<'a, T>(
    value: Option<&'a Spanned<T>>,
    mapping: &Location,
    field: &str,
    issues: &mut Issues,
) -> Option<&'a Spanned<T>> {
    if value.is_none() {
        let key = field.rsplit('.').next().unwrap_or(field);
        issues.at(
            mapping,
            field,
            format!("required key `{key}` is missing; add it"),
        );
    }
    value
}

fn check_defaults<'a>(
    raw: Option<&'a Spanned<RawDefaults>>,
    plan_dir: &Path,
    issues: &mut Issues,
) -> Defaults<'a> {
    let Some(raw) = raw else {
        return Defaults::default();
    };
    let backup = raw.value.backup.as_ref().map(|b| {
        let parsed = match parse_backup(&b.value, plan_dir) {
            Ok(parsed) => Some(parsed),
            Err(rule) => {
                issues.at(&b.referenced, "defaults.backup", rule);
                None
            }
        };
        (b, parsed)
    });
    let wait_timeout: Option<Option<Duration>> = raw.value.wait_timeout.as_ref().map(|w| {
        parse_wait_timeout(&w.value)
            .map_err(|rule| issues.at(&w.referenced, "defaults.wait_timeout", rule))
            .ok()
    });
    Defaults {
        backup,
        wait_timeout,
        freeze: false,
    }
}

/// Names and the rules between migrations: each target once, no target read by another
/// migration, each source once, source and target differ.
fn check_names_across(migrations: &[Spanned<RawMigration>], issues: &mut Issues) {
    let mut targets: HashMap<&str, (usize, &Location)> = HashMap::new();
    let mut sources: HashMap<&str, (usize, &Location)> = HashMap::new();
    for (i, m) in migrations.iter().enumerate() {
        // A missing target is reported by check_migration.
        let Some(target) = &m.value.target else {
            continue;
        };
        if let Err(v) = validate_service_name(&target.value) {
            let rule = name_rule(NameKind::Service, &target.value, v);
            issues.at(&target.referenced, format!("migrations[{i}].target"), rule);
        }
        if let Some((j, loc)) = targets.get(target.value.as_str()) {
            issues.at(
                &target.referenced,
                format!("migrations[{i}].target"),
                format!(
                    "target {} is already the target of migrations[{j}] (line {}); two \
                     migrations may not share a target",
                    quote(&target.value),
                    loc.line()
                ),
            );
        } else {
            targets.insert(&target.value, (i, &target.referenced));
        }
        let Some(source) = &m.value.source else {
            continue;
        };
        if let Err(v) = validate_service_name(&source.value) {
            let rule = name_rule(NameKind::Service, &source.value, v);
            issues.at(&source.referenced, format!("migrations[{i}].source"), rule);
        }
        if source.value == target.value {
            issues.at(
                &target.referenced,
                format!("migrations[{i}].target"),
                format!(
                    "target {} is the source itself; a migration restores into a new, empty \
                     service (a restore never purges), so name a new service",
                    quote(&target.value)
                ),
            );
        }
        if let Some((j, loc)) = sources.get(source.value.as_str()) {
            issues.at(
                &source.referenced,
                format!("migrations[{i}].source"),
                format!(
                    "source {} is already migrated by migrations[{j}] (line {}); each source \
                     once per plan",
                    quote(&source.value),
                    loc.line()
                ),
            );
        } else {
            sources.insert(&source.value, (i, &source.referenced));
        }
    }
    for (i, m) in migrations.iter().enumerate() {
        let Some(target) = &m.value.target else {
            continue;
        };
        if let Some((j, loc)) = sources.get(target.value.as_str())
            && *j != i
        {
            issues.at(
                &target.referenced,
                format!("migrations[{i}].target"),
                format!(
                    "target {} is the source of migrations[{j}] (line {}); a plan may not \
                     create a service that another migration reads from",
                    quote(&target.value),
                    loc.line()
                ),
            );
        }
    }
}
