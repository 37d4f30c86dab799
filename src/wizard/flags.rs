//! Values given as flags, checked before the first question so that a typo fails at once (exit 2,
//! naming the flag) instead of after five answers. Checks that need the platform (does the
//! source exist, is the name taken) run where the value is used, with the same flag names.

use std::path::PathBuf;
use std::time::Duration;

use uuid::Uuid;

use super::WizardArgs;
use super::checks;
use crate::error::{Error, Result};
use crate::model::ServiceType;

pub const PROJECT: &str = "-p/--project";
pub const STAGE: &str = "-s/--stage";
pub const SOURCE: &str = "--source";
pub const TARGET: &str = "--target";
pub const TYPE: &str = "--type";
pub const PLAN: &str = "--plan";
pub const BACKUP: &str = "--backup";
pub const WAIT_TIMEOUT: &str = "--wait-timeout";
pub const OUT: &str = "--out";
pub const FREEZE: &str = "--freeze";
pub const NO_FREEZE: &str = "--no-freeze";

/// `--backup` as given: the plan's forms, with a file path read from the current directory.
#[derive(Debug, Clone, PartialEq)]
pub enum BackupFlag {
    Latest,
    Fresh,
    Id(Uuid),
    File(PathBuf),
}

impl BackupFlag {
    pub fn is_fresh(&self) -> bool {
        *self == BackupFlag::Fresh
    }
}

/// `--freeze APP,...` or `--no-freeze`; which apps link the source is checked once it is known.
#[derive(Debug, Clone, PartialEq)]
pub enum FreezeFlag {
    No,
    Apps(Vec<String>),
}

/// The flags after their syntax checks.
#[derive(Debug, Default)]
pub struct Flags {
    pub project: Option<String>,
    pub stage: Option<String>,
    pub source: Option<String>,
    pub target: Option<String>,
    pub service_type: Option<ServiceType>,
    pub plan: Option<String>,
    pub backup: Option<BackupFlag>,
    pub wait_timeout: Option<String>,
    pub out: Option<PathBuf>,
    pub freeze: Option<FreezeFlag>,
}

/// `--target: service name "X" is too long ...`: the flag first, then what is wrong.
pub fn refused(flag: &str, reason: impl std::fmt::Display) -> Error {
    Error::Usage(format!("{flag}: {reason}"))
}

fn checked(
    flag: &str,
    value: &Option<String>,
    check: impl Fn(&str) -> checks::Check,
) -> Result<Option<String>> {
    match value {
        Some(v) => {
            check(v).map_err(|reason| refused(flag, reason))?;
            Ok(Some(v.clone()))
        }
        None => Ok(None),
    }
}

pub fn parse_backup(text: &str) -> std::result::Result<BackupFlag, String> {
    match text {
        "latest" => return Ok(BackupFlag::Latest),
        "fresh" => return Ok(BackupFlag::Fresh),
        _ => {}
    }
    if let Some(path) = text.strip_prefix("file:") {
        if path.trim().is_empty() {
            return Err("`file:` needs a path, e.g. file:exports/db.psqlcustom".to_owned());
        }
        return Ok(BackupFlag::File(PathBuf::from(path)));
    }
    if text.len() == 36
        && let Ok(id) = Uuid::parse_str(text)
    {
        return Ok(BackupFlag::Id(id));
    }
    Err(format!(
        "{text:?} is not one of latest, fresh, a backup ID (a UUID as `backup` lists it) or \
         file:<path>"
    ))
}

/// `web,worker`: each app once, none empty.
pub fn parse_freeze(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut apps: Vec<String> = Vec::new();
    for name in text.split(',').map(str::trim) {
        if name.is_empty() {
            return Err(format!(
                "{text:?} has an empty app name; list the apps to freeze separated by commas, \
                 e.g. web,worker (or pass {NO_FREEZE})"
            ));
        }
        if apps.iter().any(|a| a == name) {
            return Err(format!("{name:?} is listed twice; name each app once"));
        }
        apps.push(name.to_owned());
    }
    Ok(apps)
}

/// `--freeze`/`--no-freeze`, and a freeze against a `--backup` taken before the apps stop.
fn freeze_flag(args: &WizardArgs, backup: Option<&BackupFlag>) -> Result<Option<FreezeFlag>> {
    let apps = match (&args.freeze, args.no_freeze) {
        (Some(_), true) => {
            return Err(refused(
                FREEZE,
                format!("{NO_FREEZE} says the opposite; pass one of them"),
            ));
        }
        (None, true) => return Ok(Some(FreezeFlag::No)),
        (None, false) => return Ok(None),
        (Some(text), false) => parse_freeze(text).map_err(|reason| refused(FREEZE, reason))?,
    };
    if backup.is_some_and(|b| !b.is_fresh()) {
        let given = args.backup.as_deref().unwrap_or_default();
        return Err(refused(
            FREEZE,
            format!(
                "a freeze takes a fresh backup once the apps stopped, and {BACKUP} {given} was \
                 taken before, so writes made since would be lost; drop {BACKUP} (or pass \
                 {NO_FREEZE} to move that backup)"
            ),
        ));
    }
    Ok(Some(FreezeFlag::Apps(apps)))
}

impl Flags {
    pub fn parse(args: &WizardArgs) -> Result<Flags> {
        let service_type = match &args.service_type {
            Some(t) => Some(checks::service_type(t).map_err(|reason| refused(TYPE, reason))?),
            None => None,
        };
        // Without --type the plan is checked against the source's type once it is known.
        let plan = match (&args.plan, service_type) {
            (Some(p), Some(t)) => {
                checks::plan(t, p).map_err(|reason| refused(PLAN, reason))?;
                Some(p.clone())
            }
            (plan, _) => plan.clone(),
        };
        let backup = match &args.backup {
            Some(b) => Some(parse_backup(b).map_err(|reason| refused(BACKUP, reason))?),
            None => None,
        };
        if let Some(BackupFlag::File(path)) = &backup {
            if let Some(t) = service_type {
                checks::backup_file(path, t).map_err(|reason| refused(BACKUP, reason))?;
            } else if !path.is_file() {
                return Err(refused(
                    BACKUP,
                    format!(
                        "{} is not a file (a relative path is read from the current directory)",
                        path.display()
                    ),
                ));
            }
        }
        if let Some(out) = &args.out
            && out.is_dir()
        {
            return Err(refused(
                OUT,
                format!(
                    "{} is a directory; give the plan's file name, such as {}",
                    out.display(),
                    out.join("migration.yaml").display()
                ),
            ));
        }
        let freeze = freeze_flag(args, backup.as_ref())?;
        Ok(Flags {
            project: checked(PROJECT, &args.project, checks::project_name)?,
            stage: checked(STAGE, &args.stage, checks::stage_name)?,
            source: checked(SOURCE, &args.source, checks::service_name)?,
            target: checked(TARGET, &args.target, checks::service_name)?,
            service_type,
            plan,
            backup,
            wait_timeout: checked(WAIT_TIMEOUT, &args.wait_timeout, |t| {
                checks::wait_timeout(t).map(|_: Duration| ())
            })?,
            out: args.out.clone(),
            freeze,
        })
    }
}

/// Flags without which the wizard cannot run unattended: the values that have no sensible default.
pub fn missing_for_unattended(args: &WizardArgs) -> Vec<(&'static str, &'static str)> {
    let mut missing = Vec::new();
    if args.project.is_none() {
        missing.push((PROJECT, "project"));
    }
    if args.stage.is_none() {
        missing.push((STAGE, "stage"));
    }
    if args.source.is_none() {
        missing.push((SOURCE, "migrations[].source"));
    }
    if args.target.is_none() {
        missing.push((TARGET, "migrations[].target"));
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> WizardArgs {
        WizardArgs::default()
    }

    fn usage(result: Result<Flags>) -> String {
        match result {
            Err(Error::Usage(text)) => text,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn every_bad_flag_is_named() {
        let cases: Vec<(WizardArgs, &str)> = vec![
            (
                WizardArgs {
                    project: Some("my-shop".into()),
                    ..args()
                },
                "-p/--project: ",
            ),
            (
                WizardArgs {
                    stage: Some("Prod".into()),
                    ..args()
                },
                "-s/--stage: ",
            ),
            (
                WizardArgs {
                    source: Some("1files".into()),
                    ..args()
                },
                "--source: ",
            ),
            (
                WizardArgs {
                    target: Some("Files2".into()),
                    ..args()
                },
                "--target: ",
            ),
            (
                WizardArgs {
                    service_type: Some("elasticsearch7".into()),
                    ..args()
                },
                "--type: ",
            ),
            (
                WizardArgs {
                    service_type: Some("postgresql13".into()),
                    plan: Some("shared".into()),
                    ..args()
                },
                "--plan: ",
            ),
            (
                WizardArgs {
                    backup: Some("newest".into()),
                    ..args()
                },
                "--backup: ",
            ),
            (
                WizardArgs {
                    backup: Some("file:/nonexistent/x.tar.gz".into()),
                    ..args()
                },
                "--backup: ",
            ),
            (
                WizardArgs {
                    wait_timeout: Some("forever".into()),
                    ..args()
                },
                "--wait-timeout: ",
            ),
            (
                WizardArgs {
                    freeze: Some("web,,worker".into()),
                    ..args()
                },
                "--freeze: \"web,,worker\" has an empty app name",
            ),
            (
                WizardArgs {
                    freeze: Some("web,web".into()),
                    ..args()
                },
                "--freeze: \"web\" is listed twice",
            ),
            (
                WizardArgs {
                    freeze: Some("web".into()),
                    no_freeze: true,
                    ..args()
                },
                "--freeze: --no-freeze says the opposite",
            ),
            (
                WizardArgs {
                    freeze: Some("web".into()),
                    backup: Some("latest".into()),
                    ..args()
                },
                "--freeze: a freeze takes a fresh backup once the apps stopped, and --backup \
                 latest was taken before",
            ),
        ];
        for (a, prefix) in cases {
            let text = usage(Flags::parse(&a));
            assert!(text.starts_with(prefix), "{prefix}: {text}");
        }
    }

    #[test]
    fn freeze_flags_parse() {
        let parsed = |freeze: Option<&str>, no_freeze: bool, backup: Option<&str>| {
            Flags::parse(&WizardArgs {
                freeze: freeze.map(str::to_owned),
                no_freeze,
                backup: backup.map(str::to_owned),
                ..args()
            })
            .unwrap()
            .freeze
        };
        assert_eq!(
            parsed(Some("web, worker"), false, Some("fresh")),
            Some(FreezeFlag::Apps(vec!["web".into(), "worker".into()]))
        );
        assert_eq!(parsed(None, true, Some("latest")), Some(FreezeFlag::No));
        assert_eq!(parsed(None, false, None), None);
    }

    #[test]
    fn an_out_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = usage(Flags::parse(&WizardArgs {
            out: Some(dir.path().into()),
            ..args()
        }));
        assert!(
            text.starts_with("--out: ") && text.contains("is a directory"),
            "{text}"
        );
    }

    #[test]
    fn good_flags_parse() {
        let flags = Flags::parse(&WizardArgs {
            project: Some("shop".into()),
            service_type: Some("postgresql13".into()),
            plan: Some("db.t3.micro".into()),
            backup: Some("6a6fcd7a-7063-4cb4-a748-8f765eea39a2".into()),
            wait_timeout: Some("90m".into()),
            ..args()
        })
        .unwrap();
        assert_eq!(flags.service_type, Some(ServiceType::Postgresql13));
        assert!(matches!(flags.backup, Some(BackupFlag::Id(_))));
        assert_eq!(flags.wait_timeout.as_deref(), Some("90m"));
    }

    #[test]
    fn unattended_needs_scope_source_and_target() {
        let missing = missing_for_unattended(&WizardArgs {
            project: Some("shop".into()),
            ..args()
        });
        let flags: Vec<&str> = missing.iter().map(|(f, _)| *f).collect();
        assert_eq!(flags, vec![STAGE, SOURCE, TARGET]);
    }
}
