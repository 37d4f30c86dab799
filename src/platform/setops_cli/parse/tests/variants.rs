//! Variants the real CLI may print that neither the documentation nor our front shows: Go
//! tablewriter's empty table, lines around a table, CRLF line ends, colours, missing optional
//! labels.

use super::super::*;
use super::doc_samples as doc;
use crate::model::ServiceType;

#[test]
fn backup_tables_with_company() {
    // tablewriter prints a header-only table with the header rule and the bottom border.
    let empty = "+----+--------+------------+------+\n\
                 | ID | STATUS | CREATED AT | SIZE |\n\
                 +----+--------+------------+------+\n\
                 +----+--------+------------+------+\n";
    assert!(parse_backup_list(empty).unwrap().is_empty());
    // A schedule line (format undocumented) and a note around the table are skipped.
    let around = format!(
        "Backup Schedule: 03:00 UTC, every day\n\n{}\nUploaded files are listed too.\n",
        doc::BACKUP_LIST
    );
    assert_eq!(parse_backup_list(&around).unwrap().len(), 2);
    // Indented, CRLF, coloured.
    let indented: String = doc::BACKUP_LIST
        .lines()
        .map(|l| format!("  {l}\r\n"))
        .collect();
    assert_eq!(parse_backup_list(&indented).unwrap().len(), 2);
    let coloured = doc::BACKUP_LIST.replace("CREATED |", "\u{1b}[32mCREATED\u{1b}[0m |");
    assert_eq!(parse_backup_list(&coloured).unwrap().len(), 2);
    // A size cell printed as `-`.
    let dash = doc::BACKUP_LIST.replace("150.8 kB |", "       - |");
    assert_eq!(parse_backup_list(&dash).unwrap()[0].size, None);
}

#[test]
fn blocks_in_plain_spacing_and_with_odd_sizes() {
    let plain = "ID: e3e7ccb5-26ff-4946-ad5f-9c97118d77a3\nStatus: CREATED\n\
                 Created At: 2021-04-03T09:41:38+02:00\nSize: 1.47 mB\n";
    let b = parse_backup_info(plain).unwrap();
    assert!(b.size.unwrap().contains(1_470_000));
    assert_eq!(
        b.created_at.unwrap().to_rfc3339(),
        "2021-04-03T07:41:38+00:00"
    );
}

#[test]
fn service_info_without_plan_or_lists() {
    for text in [
        "Name:   files\nType:   volume\n",
        "Name:   files\nType:   volume\nPlan:\nLinks:\nOptions:\n",
        "Name:   files\nType:   volume\nPlan:   -\nLinks:\n  (none)\nOptions:\n  (none)\n",
    ] {
        let info = parse_service_info(text).unwrap();
        assert_eq!(info.service_type, ServiceType::Volume);
        assert_eq!(info.plan, None);
        assert!(info.links.is_empty() && info.options.is_empty());
    }
    let odd = "Name:   db\nType:   postgresql13\nBackup Schedule:   at dawn\n";
    assert_eq!(
        parse_service_info(odd).unwrap().schedule,
        PrintedSchedule::Unrecognized("at dawn".into())
    );
}

#[test]
fn nothing_pending_in_other_words() {
    for text in [
        "Nothing is pending in your changeset of shop/production.\n",
        "No changeset found.\n",
        "\n  The changeset is empty  \n",
    ] {
        assert_eq!(parse_changeset_info(text).unwrap(), None, "{text}");
    }
}
