//! `changeset:info` and `changeset:commit` as our sandbox front prints them: the project's
//! `ChangesetCommand::{name, arguments_display}`, `TableBuilder`, `Block` and `phase_text`
//! (`src/commands/changesets.rs` and `src/ui/commit.rs` keep the composition private; it is
//! mirrored here). Also every renderer output, for the fuzz tests.

use std::collections::BTreeMap;

use chrono::{SecondsFormat, TimeZone, Utc};

use super::super::*;
use super::render_backups::{backup, backup_block, backup_table};
use super::render_services::{link, service_block};
use crate::model::{
    BackupSchedule, BackupStatus, ChangesetCommand, CommitPhase, Scope, Service, ServiceType,
};
use crate::ui::commit::phase_text;
use crate::ui::{Align, Block, TableBuilder};

/// One of every command, with values that exercise the printing (lists, empty lists, spaces).
pub(super) fn every_command() -> Vec<ChangesetCommand> {
    use ChangesetCommand as C;
    vec![
        C::ServiceCreate {
            name: "database2".into(),
            service_type: "postgresql13".into(),
            plan: Some("db.t3.micro".into()),
        },
        C::ServiceCreate {
            name: "files2".into(),
            service_type: "volume".into(),
            plan: None,
        },
        C::ServiceDestroy {
            name: "database".into(),
        },
        C::OptionSet {
            service: "database2".into(),
            option: "extensions".into(),
            value: "uuid-ossp,postgis".into(),
        },
        C::OptionSet {
            service: "database2".into(),
            option: "note".into(),
            value: "two words, and: more".into(),
        },
        C::OptionUnset {
            service: "database2".into(),
            option: "max_storage".into(),
        },
        C::BackupSchedule {
            service: "database2".into(),
            hours: vec![3, 15],
            weekdays: vec!["Mon".into(), "Thu".into()],
        },
        C::BackupSchedule {
            service: "files2".into(),
            hours: vec![0],
            weekdays: vec![],
        },
        C::BackupUnschedule {
            service: "database".into(),
        },
        C::LinkCreate {
            app: "web".into(),
            service: "database2".into(),
            env_key: Some("DATABASE_URL".into()),
            path: None,
            read_only: false,
        },
        C::LinkCreate {
            app: "web".into(),
            service: "files2".into(),
            env_key: None,
            path: Some("/data".into()),
            read_only: true,
        },
        C::LinkDestroy {
            app: "web".into(),
            service: "database".into(),
        },
    ]
}

#[test]
fn changeset_info_and_commit_as_our_front_prints_them() {
    let commands = every_command();
    // Mirrors commands::changesets::print_changeset and commands_table.
    let created = Utc.with_ymd_and_hms(2021, 4, 23, 12, 3, 10).unwrap();
    let mut table = TableBuilder::new(&[("NAME", Align::Left), ("ARGUMENTS", Align::Left)]);
    for c in &commands {
        table.row(vec![c.name().to_owned(), c.arguments_display()]);
    }
    let header = Block::new()
        .field(
            "Created At",
            created.to_rfc3339_opts(SecondsFormat::Secs, true),
        )
        .render();
    let info = format!("{header}\n{}\n", table.render());
    let pending = parse_changeset_info(&info).unwrap().unwrap();
    assert_eq!(pending.created_at, Some(created));
    let expected: Vec<PendingCommand> = commands
        .iter()
        .cloned()
        .map(PendingCommand::Known)
        .collect();
    assert_eq!(pending.commands, expected);

    let scope = Scope {
        project: "shop".into(),
        stage: "production".into(),
    };
    let nothing = format!("Nothing is pending in your changeset of {scope}.\n");
    assert_eq!(parse_changeset_info(&nothing).unwrap(), None);

    // Mirrors ui::commit::cli_text for each phase, then commands::changesets::commit's last line.
    let mut commit = info.clone();
    for (mark, phase) in [
        ("◢", CommitPhase::Initializing),
        ("◤", CommitPhase::Planning),
        ("◣", CommitPhase::Applying),
    ] {
        commit.push_str(&format!("{mark} {}\n", phase_text(phase, 11, 12)));
    }
    let report = parse_changeset_commit(&commit).unwrap();
    assert_eq!(
        (report.successful, report.progress),
        (false, Some((11, 12)))
    );
    commit.push_str("Commit successful!\n");
    let report = parse_changeset_commit(&commit).unwrap();
    assert_eq!(
        (report.successful, report.phase),
        (true, Some(CommitPhase::Applying))
    );
}

/// Outputs of our renderers, for the tests that feed every sample to every parser.
pub(super) fn outputs() -> Vec<String> {
    let backups = [
        backup(1, BackupStatus::Created, Some(150_800)),
        backup(2, BackupStatus::Creating, None),
    ];
    let service = Service {
        name: "files".into(),
        service_type: ServiceType::Volume,
        plan: None,
        options: BTreeMap::from([("note".into(), "a b".into())]),
        links: vec![link("web", "files", None, Some("/data"), true)],
        backup_schedule: Some(BackupSchedule {
            hours: vec![3],
            weekdays: vec!["Sun".into()],
        }),
        created_at: Utc.with_ymd_and_hms(2021, 4, 23, 12, 3, 10).unwrap(),
    };
    let mut changes = TableBuilder::new(&[("NAME", Align::Left), ("ARGUMENTS", Align::Left)]);
    for c in every_command() {
        changes.row(vec![c.name().to_owned(), c.arguments_display()]);
    }
    vec![
        backup_table(&backups),
        backup_table(&[]),
        backup_block(&backups[0]).render(),
        service_block(&service),
        format!(
            "Created At:   2021-04-23T12:03:10Z\n{}\n◣ Applying… (1/2)\nCommit successful!\n",
            changes.render()
        ),
    ]
}
