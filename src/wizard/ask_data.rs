//! The questions about the data and its users: which backup to move, which links to move, and
//! how long a commit or restore may take.

use std::path::{Path, PathBuf};

use super::ask::columns;
use super::ask_freeze::LinkedApp;
use super::checks;
use super::flags::{self, BackupFlag, Flags, refused};
use super::prompter::Prompter;
use super::{BackupAnswer, RelinkAnswer};
use crate::error::{Error, Result};
use crate::migrate::inspect::latest_created;
use crate::model::{Backup, BackupStatus, Link, Service, ServiceType};
use crate::ui::format_size;

pub const DEFAULT_WAIT_TIMEOUT: &str = "2h";

/// `2024-03-01T03:12:00Z, 150.8 kB`, as `backup` lists them.
pub fn describe(backup: &Backup) -> String {
    let when = backup.created_at.format("%Y-%m-%dT%H:%M:%SZ");
    match backup.size {
        Some(size) => format!("{when}, {}", format_size(size)),
        None => when.to_string(),
    }
}

/// Why the newest backup may no longer hold what the source holds, as far as the platform
/// shows: a restore into the source that started after that backup was made (apps writing to it
/// leave no trace the platform shows).
fn changed_since(source: &Service, latest: &Backup, backups: &[Backup]) -> Option<String> {
    let when = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    // The newest restore; one running now (no record where the platform keeps none) is newest.
    let restores = backups
        .iter()
        .filter_map(|b| match (&b.last_restore, b.status) {
            (Some(r), _) if r.started_at > latest.created_at => Some((
                r.started_at,
                format!(
                    "backup {} was restored into {} at {}",
                    b.id,
                    source.name,
                    when(&r.started_at)
                ),
            )),
            (None, BackupStatus::Restoring) => Some((
                chrono::Utc::now(),
                format!("backup {} is being restored into {}", b.id, source.name),
            )),
            _ => None,
        });
    restores.max_by_key(|(at, _)| *at).map(|(_, what)| {
        format!(
            "{what}, after the latest backup was made ({})",
            when(&latest.created_at)
        )
    })
}

/// Why the source may hold writes its latest backup lacks: apps that link it run containers.
fn written_since(source: &Service, apps: &[LinkedApp]) -> Option<String> {
    let running: Vec<String> = apps
        .iter()
        .filter(|a| a.running > 0)
        .map(|a| format!("{} runs {} container(s)", a.app, a.running))
        .collect();
    (!running.is_empty()).then(|| {
        format!(
            "{} that may write to {} after the latest backup",
            running.join(" and "),
            source.name
        )
    })
}

/// CREATED backups, newest first.
fn created(backups: &[Backup]) -> Vec<&Backup> {
    let mut created: Vec<&Backup> = backups
        .iter()
        .filter(|b| b.status == BackupStatus::Created)
        .collect();
    created.sort_by_key(|b| std::cmp::Reverse(b.created_at));
    created
}

/// `--backup` checked against the source's backups, so a wrong ID fails before more questions.
pub fn backup_flag(
    flags: &Flags,
    source: &Service,
    service_type: ServiceType,
    backups: &[Backup],
) -> Result<Option<BackupAnswer>> {
    flags
        .backup
        .as_ref()
        .map(|flag| {
            backup_from_flag(
                flag,
                source,
                service_type,
                &created(backups),
                latest_created(backups),
            )
        })
        .transpose()
}

/// `apps`: the apps that link the source, for the reason to preselect `fresh`.
pub fn backup(
    prompter: &mut dyn Prompter,
    source: &Service,
    service_type: ServiceType,
    backups: &[Backup],
    apps: &[LinkedApp],
) -> Result<BackupAnswer> {
    let created = created(backups);
    let latest = latest_created(backups);

    let mut items = Vec::new();
    let mut answers = Vec::new();
    let mut default = 0;
    // Only the latest backup can be stale; without one, fresh is the first item anyway.
    let reasons: Vec<String> = match latest {
        Some(l) => [
            changed_since(source, l, backups),
            written_since(source, apps),
        ]
        .into_iter()
        .flatten()
        .collect(),
        None => Vec::new(),
    };
    let changed = (!reasons.is_empty()).then(|| reasons.join("; "));
    if let Some(latest) = latest {
        items.push(format!("latest ({} of {})", latest.id, describe(latest)));
        answers.push(Some(BackupAnswer::Latest(latest.clone())));
    }
    match &changed {
        Some(why) => {
            default = items.len();
            items.push(format!(
                "fresh (a new backup of {}, made when the plan runs; preselected: {why})",
                source.name
            ));
        }
        None => items.push(format!(
            "fresh (a new backup of {}, made when the plan runs)",
            source.name
        )),
    }
    answers.push(Some(BackupAnswer::Fresh { why: changed }));
    let rows: Vec<(String, String)> = created
        .iter()
        .map(|b| (b.id.to_string(), describe(b).replace(", ", "  ")))
        .collect();
    for (row, b) in columns(&rows).into_iter().zip(&created) {
        items.push(row);
        answers.push(Some(BackupAnswer::Id((*b).clone())));
    }
    items.push("a local file…".to_owned());
    answers.push(None);

    let index = prompter.select(
        &format!("Backup of {} to move", source.name),
        &items,
        default,
    )?;
    match answers.get(index) {
        Some(Some(answer)) => Ok(answer.clone()),
        Some(None) => {
            let prompt = format!(
                "Backup file to restore, a {}",
                service_type.backup_format_name()
            );
            ask_file(prompter, &prompt, service_type)
        }
        None => Err(Error::Internal(format!(
            "answer {index} is not a backup choice"
        ))),
    }
}

fn ask_file(
    prompter: &mut dyn Prompter,
    prompt: &str,
    service_type: ServiceType,
) -> Result<BackupAnswer> {
    let answer = prompter.input(prompt, None, &|path: &str| {
        if path.is_empty() {
            return Err("give the path of the backup file".to_owned());
        }
        checks::backup_file(Path::new(path), service_type)
    })?;
    Ok(BackupAnswer::File(PathBuf::from(answer)))
}

fn backup_from_flag(
    flag: &BackupFlag,
    source: &Service,
    service_type: ServiceType,
    created: &[&Backup],
    latest: Option<&Backup>,
) -> Result<BackupAnswer> {
    match flag {
        BackupFlag::Latest => latest.cloned().map(BackupAnswer::Latest).ok_or_else(|| {
            refused(
                flags::BACKUP,
                format!(
                    "latest: {} has no CREATED backup yet; use --backup fresh to make one",
                    source.name
                ),
            )
        }),
        BackupFlag::Fresh => Ok(BackupAnswer::Fresh { why: None }),
        BackupFlag::Id(id) => created
            .iter()
            .find(|b| b.id == *id)
            .map(|b| BackupAnswer::Id((*b).clone()))
            .ok_or_else(|| {
                refused(
                    flags::BACKUP,
                    format!(
                        "{id} is not a CREATED backup of {}; see `--service {} backup` for the list",
                        source.name, source.name
                    ),
                )
            }),
        BackupFlag::File(path) => {
            checks::backup_file(path, service_type).map_err(|reason| refused(flags::BACKUP, reason))?;
            Ok(BackupAnswer::File(path.clone()))
        }
    }
}

fn describe_link(link: &Link) -> String {
    if link.read_only {
        format!("({}, read-only)", link.target())
    } else {
        format!("({})", link.target())
    }
}

/// Which of the source's links move to the target; all are preselected.
pub fn links(
    prompter: &mut dyn Prompter,
    source: &Service,
    target: &str,
    service_type: ServiceType,
) -> Result<RelinkAnswer> {
    if source.links.is_empty() {
        return Ok(RelinkAnswer::All);
    }
    if source.service_type.link_kind() != service_type.link_kind() {
        let how = |t: ServiceType| {
            if t == ServiceType::Volume {
                "by mount path"
            } else {
                "by env key"
            }
        };
        return Ok(RelinkAnswer::None {
            reason: format!(
                "{} is linked {}, a {service_type} service {}; link the apps to {target} yourself",
                source.name,
                how(source.service_type),
                how(service_type)
            ),
        });
    }
    let rows: Vec<(String, String)> = source
        .links
        .iter()
        .map(|l| (l.app.clone(), describe_link(l)))
        .collect();
    let chosen = prompter.multi_select(
        &format!("Apps to relink from {} to {target}", source.name),
        &columns(&rows),
        &vec![true; rows.len()],
    )?;
    Ok(if chosen.len() == source.links.len() {
        RelinkAnswer::All
    } else if chosen.is_empty() {
        RelinkAnswer::None {
            reason: format!("every app keeps its link to {}", source.name),
        }
    } else {
        RelinkAnswer::Only(
            chosen
                .into_iter()
                .filter_map(|i| source.links.get(i).cloned())
                .collect(),
        )
    })
}

pub fn wait_timeout(prompter: &mut dyn Prompter, flags: &Flags) -> Result<String> {
    if let Some(given) = &flags.wait_timeout {
        return Ok(given.clone());
    }
    prompter.input(
        "How long may a commit or restore take (e.g. 2h, 90m)",
        Some(DEFAULT_WAIT_TIMEOUT),
        &|text: &str| checks::wait_timeout(text).map(drop),
    )
}
