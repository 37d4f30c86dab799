//! Every documented output, verbatim, read into the values it shows.

use chrono::{TimeZone, Utc};
use uuid::uuid;

use super::super::*;
use super::doc_samples as doc;
use crate::model::{BackupStatus, ChangesetCommand, CommitPhase, Link, ServiceType};

#[test]
fn backup_lists() {
    let rows = parse_backup_list(doc::BACKUP_LIST).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].id, uuid!("6a6fcd7a-7063-4cb4-a748-8f765eea39a2"));
    assert_eq!(rows[0].status, BackupStatus::Created);
    assert_eq!(
        rows[0].created_at,
        Utc.with_ymd_and_hms(2021, 4, 23, 12, 3, 10).unwrap()
    );
    let size = rows[0].size.as_ref().unwrap();
    assert_eq!(
        (size.text.as_str(), size.bytes_low, size.bytes_high),
        ("150.8 kB", 150_750, 150_850)
    );
    // Right-aligned in its cell (` 75.3 MB`): the padding is not part of the value.
    let size = rows[1].size.as_ref().unwrap();
    assert_eq!(size.text, "75.3 MB");
    assert!(size.contains(75_300_000));
    for (sample, id) in [
        (
            doc::BACKUP_LIST_BEFORE_RESTORE,
            uuid!("e3e7ccb5-26ff-4946-ad5f-9c97118d77a3"),
        ),
        (
            doc::BACKUP_LIST_AFTER_UPLOAD,
            uuid!("b3263ac2-f6e0-4227-a3c7-f197603a386c"),
        ),
        (
            doc::BACKUP_LIST_BEFORE_DOWNLOAD,
            uuid!("0b10bc93-5ae7-40ef-ba40-e5110ad2d467"),
        ),
        (
            doc::BACKUP_LIST_BEFORE_DESTROY,
            uuid!("0b10bc93-5ae7-40ef-ba40-e5110ad2d467"),
        ),
    ] {
        let rows = parse_backup_list(sample).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].id, id);
        assert_eq!(rows[0].size.as_ref().unwrap().text, "139.3 kB");
    }
}

#[test]
fn backup_blocks() {
    let created = parse_backup_create(doc::BACKUP_CREATE).unwrap();
    assert_eq!(created.id, uuid!("badbbc84-911b-4eb0-89be-bfc3cea5c6ff"));
    assert_eq!(created.status, BackupStatus::Creating);
    assert_eq!((created.created_at, created.size), (None, None));

    let restoring = parse_backup_restore(doc::BACKUP_RESTORE).unwrap();
    assert_eq!(restoring.status, BackupStatus::Restoring);
    assert_eq!(
        restoring.created_at,
        Some(Utc.with_ymd_and_hms(2021, 4, 3, 9, 41, 38).unwrap())
    );
    assert!(restoring.size.unwrap().contains(150_800));

    let destroyed = parse_backup_destroy(doc::BACKUP_DESTROY).unwrap();
    assert_eq!(destroyed.id, uuid!("0b10bc93-5ae7-40ef-ba40-e5110ad2d467"));
    assert_eq!(destroyed.status, BackupStatus::Created);
    // backup:info is undocumented; the reference infers the same block.
    assert_eq!(parse_backup_info(doc::BACKUP_DESTROY).unwrap(), destroyed);
}

#[test]
fn transfers() {
    let upload = parse_backup_upload(doc::BACKUP_UPLOAD).unwrap();
    assert_eq!(upload.file, "backup.psqlcustom");
    assert_eq!(
        (upload.size.text.as_str(), upload.size.bytes_low),
        ("1.47 mB", 1_465_000)
    );
    assert_eq!(upload.id, uuid!("b3263ac2-f6e0-4227-a3c7-f197603a386c"));

    let download = parse_backup_download(doc::BACKUP_DOWNLOAD).unwrap();
    let id = uuid!("0b10bc93-5ae7-40ef-ba40-e5110ad2d467");
    assert_eq!(download.backup.id, id);
    assert_eq!(download.backup.status, BackupStatus::Created);
    assert_eq!(
        download.file.file,
        "0b10bc93-5ae7-40ef-ba40-e5110ad2d467.psqlcustom"
    );
    assert_eq!(download.file.id, id);
    assert!(download.file.size.contains(150_800));
}

#[test]
fn file_lines_in_every_spacing() {
    let id = "b3263ac2-f6e0-4227-a3c7-f197603a386c";
    for prefix in ["✅ ", "✅  ", "", "✅\u{FE0F} ", "  "] {
        for file in [
            "backup.psqlcustom",
            "my backup (copy).psqlcustom",
            "a completed (b) x.rdb",
        ] {
            let line = format!("{prefix}{file} completed (1.47 mB) with ID {id}\n");
            let t = parse_backup_upload(&line).unwrap();
            assert_eq!(
                (t.file.as_str(), t.id.to_string()),
                (file, id.to_owned()),
                "{line}"
            );
        }
    }
}

#[test]
fn version_service_and_changeset_shapes() {
    let v = parse_version(doc::VERSION).unwrap();
    assert_eq!(
        (v.major, v.minor, v.patch, v.generation),
        (1, 1, 0, Generation::V1)
    );

    let info = parse_service_info(doc::SERVICE_INFO).unwrap();
    assert_eq!(info.name, "database");
    assert_eq!(info.service_type, ServiceType::Postgresql11);
    assert_eq!(info.plan.as_deref(), Some("shared"));
    assert_eq!(
        info.links,
        [Link {
            app: "web".into(),
            service: "database".into(),
            env_key: Some("DATABASE_URL".into()),
            path: None,
            read_only: false,
        }]
    );
    assert_eq!(
        info.options.get("extensions").map(String::as_str),
        Some("uuid-ossp")
    );
    assert_eq!(info.schedule, PrintedSchedule::NotShown);

    let pending = parse_changeset_info(doc::CHANGESET_INFO).unwrap().unwrap();
    assert_eq!(
        pending.created_at,
        Some(Utc.with_ymd_and_hms(2021, 4, 23, 12, 3, 10).unwrap())
    );
    assert_eq!(
        pending.commands,
        [PendingCommand::Other {
            name: "app:create".into(),
            arguments: "map[name:web]".into()
        }]
    );
}

#[test]
fn wrapped_changeset_cells_are_joined() {
    let pending = parse_changeset_info(doc::CHANGESET_INFO_WRAPPED)
        .unwrap()
        .unwrap();
    // The offset form of the reference's project examples, as UTC.
    assert_eq!(
        pending.created_at,
        Some(Utc.with_ymd_and_hms(2020, 10, 23, 14, 46, 29).unwrap())
    );
    assert_eq!(
        pending.commands,
        [
            PendingCommand::Other {
                name: "app:release:set".into(),
                arguments: "map[app:web release:3]".into()
            },
            PendingCommand::Known(ChangesetCommand::ServiceCreate {
                name: "database2".into(),
                service_type: "postgresql13".into(),
                plan: Some("db.t3.micro".into()),
            }),
            PendingCommand::Known(ChangesetCommand::LinkCreate {
                app: "web".into(),
                service: "database2".into(),
                env_key: Some("DATABASE_URL".into()),
                path: None,
                read_only: false,
            }),
        ]
    );
}

#[test]
fn commit_progress_and_success() {
    let report = parse_changeset_commit(doc::CHANGESET_COMMIT).unwrap();
    assert!(report.successful);
    assert_eq!(report.phase, Some(CommitPhase::Applying));
    assert_eq!(report.progress, Some((17, 28)));
    let cut = doc::CHANGESET_COMMIT.replace("Commit successful!\n", "");
    let report = parse_changeset_commit(&cut).unwrap();
    assert!(!report.successful);
    assert_eq!(report.progress, Some((17, 28)));
    // Spinner redraws on one line, ASCII dots, a symbol before the success line.
    let redrawn = "◢ Initializing...\r◤ Planning...\r◣ Applying... (3/4)\r◣ Applying... (4/4)\n✅ Commit successful!\n";
    let report = parse_changeset_commit(redrawn).unwrap();
    assert_eq!((report.successful, report.progress), (true, Some((4, 4))));
}
