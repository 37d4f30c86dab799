//! `backup*` outputs as our sandbox front prints them, built with the project's renderers
//! (`TableBuilder`, `Block`, `format_size`). Where `src/commands/backups.rs` keeps its composition
//! private, the few lines composing it are mirrored here and say which function they follow.

use chrono::{TimeZone, Utc};
use uuid::Uuid;

use super::super::*;
use crate::model::{Backup, BackupOrigin, BackupStatus};
use crate::ui::{Block, format_size};

pub(super) fn backup(n: u128, status: BackupStatus, size: Option<u64>) -> Backup {
    Backup {
        id: Uuid::from_u128(0x6a6f_cd7a_7063_4cb4_a748_8f76_5eea_3900 + n),
        service: "database".into(),
        status,
        created_at: Utc.with_ymd_and_hms(2021, 4, 23, 12, 3, 10).unwrap(),
        size,
        sha256: None,
        shown_size: None,
        origin: BackupOrigin::Manual,
        last_restore: None,
        restore_count: 0,
    }
}

/// `backup` as the front prints it.
pub(super) fn backup_table(backups: &[Backup]) -> String {
    crate::commands::backups_table(backups).render()
}

/// The `ID / Status / Created At / Size` block the backup commands print.
pub(super) fn backup_block(b: &Backup) -> Block {
    crate::commands::backup_block(b)
}

#[test]
fn backup_tables_and_blocks() {
    let backups = [
        backup(1, BackupStatus::Created, Some(150_800)),
        backup(2, BackupStatus::Creating, None),
        backup(3, BackupStatus::Uploading, None),
        backup(4, BackupStatus::Restoring, Some(0)),
        backup(5, BackupStatus::Created, Some(1_234_567_890_123)),
    ];
    let rows = parse_backup_list(&backup_table(&backups)).unwrap();
    assert_eq!(rows.len(), backups.len());
    for (row, b) in rows.iter().zip(&backups) {
        assert_eq!(
            (row.id, row.status, row.created_at),
            (b.id, b.status, b.created_at)
        );
        match b.size {
            Some(bytes) => assert!(row.size.as_ref().unwrap().contains(bytes)),
            None => assert_eq!(row.size, None),
        }
    }
    assert!(parse_backup_list(&backup_table(&[])).unwrap().is_empty());

    for b in &backups {
        let block = parse_backup_restore(&backup_block(b).render()).unwrap();
        assert_eq!(
            (block.id, block.status, block.created_at),
            (b.id, b.status, Some(b.created_at))
        );
        // `backup:info` adds Origin, SHA-256 and Last Restore lines (commands::backups::info).
        let info = backup_block(b)
            .field("Origin", "manual")
            .field("SHA-256", "ab".repeat(32))
            .field("Last Restore", "succeeded (started 2021-04-23T12:03:10Z)")
            .render();
        assert_eq!(parse_backup_info(&info).unwrap(), block);
        let create = Block::new()
            .field("ID", b.id.to_string())
            .field("Status", b.status.as_str())
            .render();
        assert_eq!(parse_backup_create(&create).unwrap().id, b.id);
    }
}

#[test]
fn transfer_lines() {
    let b = backup(7, BackupStatus::Created, Some(150_800));
    // Mirrors commands::backups::download (human: two spaces after the emoji; plain: none).
    for mark in ["✅  ", ""] {
        let out = format!(
            "{}\n\n{mark}{}.psqlcustom completed ({}) with ID {}\n",
            backup_block(&b).render(),
            b.id,
            format_size(150_800),
            b.id
        );
        let d = parse_backup_download(&out).unwrap();
        assert_eq!((d.backup.id, d.file.id), (b.id, b.id));
        assert!(d.file.size.contains(150_800));
    }
    // Mirrors commands::backups::upload (human: one space after the emoji).
    for mark in ["✅ ", ""] {
        let out = format!(
            "{mark}dump 2024.psqlcustom completed ({}) with ID {}\n",
            format_size(1_470_000),
            b.id
        );
        let u = parse_backup_upload(&out).unwrap();
        assert_eq!((u.file.as_str(), u.id), ("dump 2024.psqlcustom", b.id));
    }
    // `--print-url --output plain` prints the URL alone.
    let url = "http://127.0.0.1:4321/transfer/9f8e7d6c5b4a";
    assert_eq!(
        parse_download_url(&format!("{url}\n")).unwrap().as_str(),
        url
    );
    assert_eq!(parse_upload_url(url).unwrap().as_str(), url);
}
