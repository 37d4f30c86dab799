//! The cutover freeze question: which of the apps that link the source are scaled to 0 before a
//! fresh backup and brought back in the relink's commit. Preselected when one of them runs a
//! container (something may write), not when none does; a scale the platform does not show is
//! asked for, never guessed.

use super::ask::columns;
use super::flags::{self, Flags, FreezeFlag, refused};
use super::prompter::Prompter;
use crate::error::{Error, Result};
use crate::model::{MAX_SCALE, Scope, Service};
use crate::plan::FreezeApp;
use crate::platform::Platform;

/// An app that links the source, as the platform shows it now.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedApp {
    pub app: String,
    /// `None` when the platform does not show it.
    pub scale: Option<u8>,
    pub running: usize,
}

/// The apps that link `source`, each once, in the order of its links. Empty when `--backup`
/// names a backup taken before now: a freeze would contradict it, so it is not asked.
pub async fn linked_apps(
    platform: &dyn Platform,
    scope: &Scope,
    source: &Service,
    flags: &Flags,
) -> Result<Vec<LinkedApp>> {
    if flags.backup.as_ref().is_some_and(|b| !b.is_fresh()) {
        return Ok(Vec::new());
    }
    let mut names: Vec<&str> = Vec::new();
    for link in &source.links {
        if !names.contains(&link.app.as_str()) {
            names.push(&link.app);
        }
    }
    let mut apps = Vec::with_capacity(names.len());
    for app in names {
        apps.push(LinkedApp {
            app: app.to_owned(),
            scale: platform.app_scale(scope, app).await?,
            running: platform.running_containers(scope, app).await?,
        });
    }
    Ok(apps)
}

/// `(scale 2, 2 running)`
fn describe(app: &LinkedApp) -> String {
    match app.scale {
        Some(scale) => format!("(scale {scale}, {} running)", app.running),
        None => format!("(scale not shown, {} running)", app.running),
    }
}

pub fn prompt(source: &str) -> String {
    format!(
        "Apps to freeze: scaled to 0 before a fresh backup of {source}, back at their scales in \
         the relink's commit (downtime: the move)"
    )
}

/// The apps to freeze, as the plan's `freeze:` list: a scale only where the platform shows none.
pub fn freeze(
    prompter: &mut dyn Prompter,
    flags: &Flags,
    source: &Service,
    apps: &[LinkedApp],
) -> Result<Vec<FreezeApp>> {
    let chosen: Vec<&LinkedApp> = match &flags.freeze {
        Some(FreezeFlag::No) => return Ok(Vec::new()),
        Some(FreezeFlag::Apps(names)) => from_flag(names, source, apps)?,
        None if apps.is_empty() => return Ok(Vec::new()),
        None => {
            let rows: Vec<(String, String)> =
                apps.iter().map(|a| (a.app.clone(), describe(a))).collect();
            // Nothing runs, nothing writes: the move needs no downtime then.
            let any_running = apps.iter().any(|a| a.running > 0);
            let picked = prompter.multi_select(
                &prompt(&source.name),
                &columns(&rows),
                &vec![any_running; apps.len()],
            )?;
            picked.into_iter().filter_map(|i| apps.get(i)).collect()
        }
    };
    chosen
        .into_iter()
        .map(|a| {
            let scale = match a.scale {
                Some(_) => None,
                None => Some(ask_scale(prompter, &a.app)?),
            };
            Ok(FreezeApp {
                app: a.app.clone(),
                scale,
            })
        })
        .collect()
}

fn from_flag<'a>(
    names: &[String],
    source: &Service,
    apps: &'a [LinkedApp],
) -> Result<Vec<&'a LinkedApp>> {
    names
        .iter()
        .map(|name| {
            apps.iter().find(|a| &a.app == name).ok_or_else(|| {
                let reason = if apps.is_empty() {
                    format!(
                        "{name:?} does not link {}: no app does, so there is nothing to \
                         freeze; drop --freeze",
                        source.name
                    )
                } else {
                    format!(
                        "{name:?} is not an app that links {}; the apps that do are {}",
                        source.name,
                        apps.iter()
                            .map(|a| a.app.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                refused(flags::FREEZE, reason)
            })
        })
        .collect()
}

/// The scale a frozen app goes back to when the platform does not show it: asked, never guessed.
pub fn ask_scale(prompter: &mut dyn Prompter, app: &str) -> Result<u8> {
    let answer = prompter.input(
        &format!("Scale of {app} after the cutover (its usual number of containers, 1-16)"),
        None,
        &|text: &str| match text.trim().parse::<u8>() {
            Ok(n) if (1..=MAX_SCALE).contains(&n) => Ok(()),
            _ => Err(format!(
                "{text:?} is not a scale; give a whole number from 1 to {MAX_SCALE}"
            )),
        },
    )?;
    answer
        .trim()
        .parse()
        .map_err(|_| Error::usage(format!("{answer:?} is not a scale from 1 to {MAX_SCALE}")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{Link, ServiceType};
    use crate::wizard::flags::FreezeFlag;
    use crate::wizard::prompter::{Answer, ScriptedPrompter};

    fn linked(app: &str, scale: Option<u8>, running: usize) -> LinkedApp {
        LinkedApp {
            app: app.into(),
            scale,
            running,
        }
    }

    fn database() -> Service {
        let link = |app: &str| Link {
            app: app.into(),
            service: "database".into(),
            env_key: Some("DATABASE_URL".into()),
            path: None,
            read_only: false,
        };
        Service {
            name: "database".into(),
            service_type: ServiceType::Postgresql11,
            plan: Some("shared".into()),
            options: BTreeMap::new(),
            links: vec![link("web"), link("worker")],
            backup_schedule: None,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_scale_the_platform_does_not_show_is_asked_and_checked() {
        let apps = [linked("web", Some(2), 2), linked("worker", None, 1)];
        let mut prompter = ScriptedPrompter::new([
            Answer::Default,
            Answer::Text(String::new()),
            Answer::Text("0".into()),
            Answer::Text("17".into()),
            Answer::Text("3".into()),
        ]);
        let chosen = freeze(&mut prompter, &Flags::default(), &database(), &apps).unwrap();
        assert_eq!(
            chosen,
            vec![
                FreezeApp {
                    app: "web".into(),
                    scale: None
                },
                FreezeApp {
                    app: "worker".into(),
                    scale: Some(3)
                },
            ]
        );
        let (_, items, defaults) = &prompter.offered_many[0];
        assert_eq!(
            items,
            &vec![
                "web     (scale 2, 2 running)".to_owned(),
                "worker  (scale not shown, 1 running)".to_owned()
            ]
        );
        assert_eq!(defaults, &vec![true, true]);
        let scale_prompt =
            "Scale of worker after the cutover (its usual number of containers, 1-16)";
        assert_eq!(prompter.asked[1..], [scale_prompt; 4]);
        let reasons: Vec<&str> = prompter
            .rejected
            .iter()
            .map(|r| r.reason.as_str())
            .collect();
        assert_eq!(
            reasons,
            [
                "\"\" is not a scale; give a whole number from 1 to 16",
                "\"0\" is not a scale; give a whole number from 1 to 16",
                "\"17\" is not a scale; give a whole number from 1 to 16",
            ]
        );
    }

    #[test]
    fn nothing_running_preselects_nothing() {
        let apps = [linked("web", Some(0), 0), linked("worker", Some(0), 0)];
        let mut prompter = ScriptedPrompter::new([Answer::Default]);
        let chosen = freeze(&mut prompter, &Flags::default(), &database(), &apps).unwrap();
        assert!(chosen.is_empty());
        assert_eq!(prompter.offered_many[0].2, vec![false, false]);
    }

    #[test]
    fn the_flags_are_not_asked_and_name_the_linking_apps() {
        let apps = [linked("web", Some(1), 1), linked("worker", Some(0), 0)];
        let flags = |freeze: FreezeFlag| Flags {
            freeze: Some(freeze),
            ..Flags::default()
        };
        let mut prompter = ScriptedPrompter::new([]);
        let chosen = freeze(
            &mut prompter,
            &flags(FreezeFlag::Apps(vec!["worker".into()])),
            &database(),
            &apps,
        )
        .unwrap();
        assert_eq!(
            chosen.iter().map(|f| f.app.as_str()).collect::<Vec<_>>(),
            ["worker"]
        );
        assert!(
            freeze(&mut prompter, &flags(FreezeFlag::No), &database(), &apps)
                .unwrap()
                .is_empty()
        );
        assert!(prompter.asked.is_empty(), "{:?}", prompter.asked);

        let err = freeze(
            &mut prompter,
            &flags(FreezeFlag::Apps(vec!["wrker".into()])),
            &database(),
            &apps,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "--freeze: \"wrker\" is not an app that links database; the apps that do are web, \
             worker"
        );
        let err = freeze(
            &mut prompter,
            &flags(FreezeFlag::Apps(vec!["web".into()])),
            &database(),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("no app does, so there is nothing to freeze"),
            "{err}"
        );
    }
}
