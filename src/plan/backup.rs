//! `backup:` values: `latest`, `fresh`, a backup ID, or `file:<path>`; a file is checked before
//! anything is created: it exists, is a readable regular file, and has the target's format.

use std::fs::File;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::BackupChoice;
use super::rules::quote;
use crate::compat::assess_file;
use crate::compat::words::refusals;
use crate::formats::check_for_type;
use crate::model::ServiceType;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum ParsedBackup {
    Latest,
    Fresh,
    Id(Uuid),
    /// `written` as in the plan (for messages), `resolved` against the plan's directory.
    File {
        written: String,
        resolved: PathBuf,
    },
}

impl ParsedBackup {
    /// The keyword for messages about a backup that needs a source.
    pub fn needs_source(&self) -> Option<&'static str> {
        match self {
            ParsedBackup::Latest => Some("`latest`"),
            ParsedBackup::Fresh => Some("`fresh`"),
            ParsedBackup::Id(_) => Some("a backup ID"),
            ParsedBackup::File { .. } => None,
        }
    }

    pub fn choice(&self) -> BackupChoice {
        match self {
            ParsedBackup::Latest => BackupChoice::Latest,
            ParsedBackup::Fresh => BackupChoice::Fresh,
            ParsedBackup::Id(id) => BackupChoice::Id(*id),
            ParsedBackup::File { resolved, .. } => BackupChoice::File(resolved.clone()),
        }
    }
}

pub(super) fn parse_backup(text: &str, plan_dir: &Path) -> Result<ParsedBackup, String> {
    match text {
        "latest" => return Ok(ParsedBackup::Latest),
        "fresh" => return Ok(ParsedBackup::Fresh),
        _ => {}
    }
    if let Some(written) = text.strip_prefix("file:") {
        if written.trim().is_empty() {
            return Err(
                "`file:` needs a path, e.g. file:exports/db.psqlcustom (relative to \
                        the plan's directory)"
                    .to_owned(),
            );
        }
        return Ok(ParsedBackup::File {
            written: written.to_owned(),
            resolved: super::file_path::resolve(written, plan_dir)?,
        });
    }
    // SetOps prints backup IDs as lowercase hyphenated UUIDs; accept them in any case.
    if text.len() == 36
        && let Ok(id) = Uuid::parse_str(text)
    {
        return Ok(ParsedBackup::Id(id));
    }
    Err(format!(
        "backup {} is not one of latest, fresh, a backup ID (a UUID as `backup` lists it) or \
         file:<path>",
        quote(text)
    ))
}

/// Checks a `file:` backup; `service_type` is the target's type when the plan says it. Each
/// error is one issue: a missing or unreadable file, the wrong format, or a compatibility check
/// that refuses the file for that type (src/compat; its warnings are `plan:validate`'s).
pub(super) fn check_file(
    written: &str,
    resolved: &Path,
    service_type: Option<ServiceType>,
) -> Result<(), Vec<String>> {
    check_file_format(written, resolved, service_type).map_err(|e| vec![e])?;
    let Some(service_type) = service_type else {
        return Ok(());
    };
    let findings = assess_file(resolved, service_type)
        .map_err(|e| vec![format!("cannot read backup file: {e}")])?;
    let refusals = refusals(&findings);
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(refusals)
    }
}

fn check_file_format(
    written: &str,
    resolved: &Path,
    service_type: Option<ServiceType>,
) -> Result<(), String> {
    let meta = std::fs::metadata(resolved).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "backup file {} does not exist (looked for {}; a relative path is read from the \
                 plan's directory)",
                quote(written),
                resolved.display()
            )
        } else {
            format!("cannot read backup file {}: {e}", resolved.display())
        }
    })?;
    if meta.is_dir() {
        return Err(format!(
            "backup file {} is a directory; give the archive file (for a volume: tar czf \
             FILE -C DIR .)",
            resolved.display()
        ));
    }
    if !meta.is_file() {
        return Err(format!(
            "backup file {} is not a regular file; give a file on disk",
            resolved.display()
        ));
    }
    let Some(service_type) = service_type else {
        // The format is checked against the source's type once the engine has read it.
        return File::open(resolved)
            .map(drop)
            .map_err(|e| format!("cannot read backup file {}: {e}", resolved.display()));
    };
    match check_for_type(resolved, service_type) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(mismatch)) => Err(mismatch),
        Err(e) => Err(format!("cannot read backup file: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_ids_and_files() {
        let dir = Path::new("plans");
        assert_eq!(parse_backup("latest", dir), Ok(ParsedBackup::Latest));
        assert_eq!(parse_backup("fresh", dir), Ok(ParsedBackup::Fresh));
        let id = "6a6fcd7a-7063-4cb4-a748-8f765eea39a2";
        assert_eq!(
            parse_backup(id, dir),
            Ok(ParsedBackup::Id(Uuid::parse_str(id).unwrap()))
        );
        assert_eq!(
            parse_backup("file:exports/a.tar.gz", dir),
            Ok(ParsedBackup::File {
                written: "exports/a.tar.gz".into(),
                resolved: PathBuf::from("plans/exports/a.tar.gz"),
            })
        );
        assert_eq!(
            parse_backup("file:/abs/a.tar.gz", dir).unwrap().choice(),
            BackupChoice::File(PathBuf::from("/abs/a.tar.gz"))
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_choices() {
        let dir = Path::new(".");
        for bad in [
            "Latest",
            "newest",
            "6a6fcd7a70634cb4a7488f765eea39a2",
            "file:",
            "file:  ",
        ] {
            let err = parse_backup(bad, dir).unwrap_err();
            assert!(
                err.contains("latest") || err.contains("needs a path"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_file_the_target_cannot_restore_is_refused_with_the_reason() {
        use crate::formats::pg_archive::ArchiveVersion;
        use crate::formats::pg_archive::tests::build;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.psqlcustom");
        let forged = build(ArchiveVersion::new(1, 16, 0), "13.4", "17.2", &[]);
        std::fs::write(&path, forged).unwrap();
        let err = check_file("db.psqlcustom", &path, Some(ServiceType::Postgresql13)).unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert!(
            err[0].contains("format 1.16, made by pg_dump 17.2"),
            "{err:?}"
        );
        // The type comes from the source: the engine checks it once it knows it.
        assert_eq!(check_file("db.psqlcustom", &path, None), Ok(()));
        let fine = build(ArchiveVersion::new(1, 14, 0), "13.4", "15.1", &[]);
        std::fs::write(&path, fine).unwrap();
        assert_eq!(
            check_file("db.psqlcustom", &path, Some(ServiceType::Postgresql13)),
            Ok(())
        );
    }

    #[test]
    fn files_must_exist_be_regular_and_match_the_type() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.tar.gz");
        let err = check_file("nope.tar.gz", &missing, None)
            .unwrap_err()
            .join("\n");
        assert!(err.contains("does not exist"), "{err}");
        let err = check_file("x", dir.path(), None).unwrap_err().join("\n");
        assert!(err.contains("is a directory"), "{err}");
        let sql = dir.path().join("db.sql");
        std::fs::write(&sql, "-- dump\nCREATE TABLE t (id int);\n").unwrap();
        assert_eq!(check_file("db.sql", &sql, None), Ok(()));
        let err = check_file("db.sql", &sql, Some(ServiceType::Postgresql13))
            .unwrap_err()
            .join("\n");
        assert!(
            err.contains("is plain SQL text, but a postgresql13 backup"),
            "{err}"
        );
    }
}
