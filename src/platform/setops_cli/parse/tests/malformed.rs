//! Broken outputs: each is an error naming the command and the line, none panics.

use super::super::*;
use super::doc_samples as doc;

/// A parser with its value dropped, so all of them fit one list.
pub(super) type Parser = fn(&str) -> Result<(), ParseError>;

/// Every parser, by the command it reads.
pub(super) fn parsers() -> Vec<(&'static str, Parser)> {
    vec![
        ("setops version", |s| parse_version(s).map(drop)),
        ("setops backup", |s| parse_backup_list(s).map(drop)),
        ("setops backup:create", |s| parse_backup_create(s).map(drop)),
        ("setops backup:info", |s| parse_backup_info(s).map(drop)),
        ("setops backup:restore", |s| {
            parse_backup_restore(s).map(drop)
        }),
        ("setops backup:destroy", |s| {
            parse_backup_destroy(s).map(drop)
        }),
        ("setops backup:download", |s| {
            parse_backup_download(s).map(drop)
        }),
        ("setops backup:upload", |s| parse_backup_upload(s).map(drop)),
        ("setops backup:download --print-url --output plain", |s| {
            parse_download_url(s).map(drop)
        }),
        ("setops backup:upload --print-url --output plain", |s| {
            parse_upload_url(s).map(drop)
        }),
        ("setops service", |s| parse_service_list(s).map(drop)),
        ("setops service:info", |s| parse_service_info(s).map(drop)),
        ("setops link", |s| parse_link_list("web", s).map(drop)),
        ("setops app:info", |s| parse_app_info(s).map(drop)),
        ("setops app:ps", |s| {
            parse_tasks("setops app:ps", s).map(drop)
        }),
        ("setops changeset:info", |s| {
            parse_changeset_info(s).map(drop)
        }),
        ("setops changeset:commit", |s| {
            parse_changeset_commit(s).map(drop)
        }),
    ]
}

fn error(parse: Parser, command: &str, output: &str) -> ParseError {
    let e = parse(output).expect_err(&format!("{command} accepted {:?}", quote(output)));
    assert_eq!(e.command(), command);
    assert!(e.to_string().contains(command), "{e}");
    e
}

#[test]
fn empty_junk_and_huge_outputs_are_errors_for_every_parser() {
    let junk =
        String::from_utf8_lossy(&[0, 159, 146, 150, 255, 10, 1, 2, 3, 0xc3, 0x28, 10]).into_owned();
    let huge = "x".repeat(10 * 1024 * 1024);
    let huge_row = format!("|{}|", "y".repeat(10 * 1024 * 1024));
    for (command, parse) in parsers() {
        assert_eq!(error(parse, command, "").line(), 1);
        assert_eq!(error(parse, command, "\n \n").line(), 1);
        if command != "setops changeset:info" {
            // changeset:info reads any text without a table as "nothing pending".
            error(parse, command, &junk);
            let e = error(parse, command, &huge);
            assert!(
                e.to_string().len() < 1000,
                "{command}: the message quotes a cut line"
            );
        }
        let e = error(parse, command, &huge_row);
        assert!(e.to_string().len() < 1000);
    }
}

#[test]
fn broken_backup_tables_name_the_line() {
    let command = "setops backup";
    let parse = |s: &str| parse_backup_list(s).map(drop);
    let cases: Vec<(String, usize)> = vec![
        // Cut mid-table: after a row, inside a row, inside the closing border.
        (
            doc::BACKUP_LIST
                .lines()
                .take(4)
                .collect::<Vec<_>>()
                .join("\n"),
            5,
        ),
        (
            doc::BACKUP_LIST[..doc::BACKUP_LIST.len() - 100].to_owned(),
            5,
        ),
        (
            doc::BACKUP_LIST[..doc::BACKUP_LIST.len() - 30].to_owned(),
            6,
        ),
        // Missing top border; missing header rule.
        (
            doc::BACKUP_LIST
                .lines()
                .skip(1)
                .collect::<Vec<_>>()
                .join("\n"),
            1,
        ),
        (doc::BACKUP_LIST.replacen("+-", "|-", 1), 1),
        // Bad values in the second row (line 5).
        (
            doc::BACKUP_LIST.replace("82a08f8e-3392", "82A08F8E-3392"),
            5,
        ),
        (
            doc::BACKUP_LIST.replace("| CREATED | 2021-04-27", "| DELETED | 2021-04-27"),
            5,
        ),
        (doc::BACKUP_LIST.replace(" 75.3 MB", " 75.3 XB"), 5),
        (
            doc::BACKUP_LIST.replace("2021-04-27T19:07:25Z", "2021-04-27 19:07:25 "),
            5,
        ),
        // A row with a cell too few.
        (
            doc::BACKUP_LIST.replace(
                "| CREATED | 2021-04-27T19:07:25Z ",
                "| 2021-04-27T19:07:25Z ",
            ),
            5,
        ),
        // A table without the ID column.
        ("+----+\n| X  |\n+----+\n+----+\n".to_owned(), 2),
        ("no table here\n".to_owned(), 2),
    ];
    for (output, line) in cases {
        let e = error(parse, command, &output);
        assert_eq!(e.line(), line, "{e}\n{output}");
    }
    let e = error(
        parse,
        command,
        &doc::BACKUP_LIST.replace("| CREATED | 2021-04-27", "| DELETED | 2021-04-27"),
    );
    assert!(e.expected().contains("unknown status \"DELETED\""), "{e}");
}

#[test]
fn broken_blocks_and_lines_name_the_line() {
    let cases: Vec<(Parser, &str, String, usize)> = vec![
        (
            |s| parse_backup_create(s).map(drop),
            "setops backup:create",
            "ID:       badbbc84-911b-4eb0-89be\nStatus:   CREATING\n".into(),
            1,
        ),
        (
            |s| parse_backup_create(s).map(drop),
            "setops backup:create",
            "ID:       badbbc84-911b-4eb0-89be-bfc3cea5c6ff\n".into(),
            2,
        ),
        (
            |s| parse_backup_restore(s).map(drop),
            "setops backup:restore",
            doc::BACKUP_RESTORE.replace("RESTORING", "RESTORED"),
            2,
        ),
        (
            |s| parse_backup_restore(s).map(drop),
            "setops backup:restore",
            doc::BACKUP_RESTORE.replace("150.8 kB", "lots"),
            4,
        ),
        (
            |s| parse_backup_restore(s).map(drop),
            "setops backup:restore",
            doc::BACKUP_RESTORE.replace("Size:         150.8 kB\n", ""),
            4,
        ),
        (
            |s| parse_backup_download(s).map(drop),
            "setops backup:download",
            doc::BACKUP_DOWNLOAD.replace("with ID 0b10bc93", "with ID 1b10bc93"),
            6,
        ),
        (
            |s| parse_backup_download(s).map(drop),
            "setops backup:download",
            doc::BACKUP_DOWNLOAD
                .lines()
                .take(4)
                .collect::<Vec<_>>()
                .join("\n"),
            5,
        ),
        (
            |s| parse_backup_upload(s).map(drop),
            "setops backup:upload",
            doc::BACKUP_UPLOAD.replace("(1.47 mB)", "(much)"),
            1,
        ),
        (
            |s| parse_backup_upload(s).map(drop),
            "setops backup:upload",
            format!("{}{}", doc::BACKUP_UPLOAD, doc::BACKUP_UPLOAD),
            2,
        ),
        (
            |s| parse_backup_upload(s).map(drop),
            "setops backup:upload",
            "✅ x completed with ID b3263ac2-f6e0-4227-a3c7-f197603a386c".into(),
            1,
        ),
        (
            |s| parse_service_info(s).map(drop),
            "setops service:info",
            doc::SERVICE_INFO.replace("postgresql11", "postgresql"),
            2,
        ),
        (
            |s| parse_service_info(s).map(drop),
            "setops service:info",
            doc::SERVICE_INFO.replace("(DATABASE_URL)", "(DATABASE URL)"),
            5,
        ),
        (
            |s| parse_service_info(s).map(drop),
            "setops service:info",
            "Name:   database\n".into(),
            2,
        ),
        (
            |s| parse_version(s).map(drop),
            "setops version",
            "CLI Version:      one\n".into(),
            1,
        ),
        (
            |s| parse_changeset_info(s).map(drop),
            "setops changeset:info",
            "Created At:   2021-04-23T12:03:10Z\n".into(),
            2,
        ),
        (
            |s| parse_changeset_info(s).map(drop),
            "setops changeset:info",
            doc::CHANGESET_INFO.replace("2021-04-23T12:03:10Z", "yesterday"),
            1,
        ),
        (
            |s| parse_changeset_info(s).map(drop),
            "setops changeset:info",
            "Error: SessionInvalid\n".into(),
            1,
        ),
        (
            |s| parse_changeset_commit(s).map(drop),
            "setops changeset:commit",
            "Error: CommitFailed (request sGH28YBJ)\n".into(),
            1,
        ),
        (
            |s| parse_link_list("web", s).map(drop),
            "setops link",
            "-- database\n".into(),
            1,
        ),
        (
            |s| parse_link_list("web", s).map(drop),
            "setops link",
            "database DATABASE_URL\n".into(),
            1,
        ),
    ];
    for (parse, command, output, line) in cases {
        let e = error(parse, command, &output);
        assert_eq!(e.line(), line, "{e}\n{output}");
    }
}

#[test]
fn print_url_errors_never_show_the_query() {
    let secret = "X-Amz-Signature=deadbeefcafe&X-Amz-Date=20240101T000000Z";
    let url = format!("https://bucket.s3.amazonaws.com/b/x.psqlcustom?{secret}");
    let outputs = [
        format!("{url}\n{url}\n"),
        format!("curl -fL -o x '{url}'\n"),
        format!("ftp://host/x?{secret}\n"),
        format!("Download: {url}\n"),
        format!("{url} trailing\n"),
    ];
    for output in outputs {
        let e = parse_download_url(&output).unwrap_err();
        let text = e.to_string();
        assert!(
            !text.contains("deadbeef") && !text.contains("20240101"),
            "{text}"
        );
        assert_eq!(
            e.line(),
            if output.matches('\n').count() == 2 {
                2
            } else {
                1
            }
        );
    }
    assert_eq!(
        parse_upload_url(&format!("\n  {url}  \n\n"))
            .unwrap()
            .as_str(),
        url
    );
}
