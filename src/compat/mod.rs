//! Preflight compatibility: whether a target service can restore a backup, decided from what the
//! backup's first bytes say (src/formats/head.rs) and the target's type, before anything is
//! created. Pure functions: facts in, findings out. Each finding refuses (exit 2, nothing is
//! created or sent) or warns (shown, not blocking), with the reason and the way on in words
//! (src/compat/words.rs). The version tables are setops-reference.md section 12.

pub mod extensions;
mod postgres;
#[cfg(test)]
mod tests;
pub mod words;

use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::formats::head::{self, HeadFacts};
use crate::formats::pg_archive::ArchiveVersion;
use crate::model::ServiceType;

/// The `error_code` of a run's `failed` event when a check refuses the backup (exit 2).
pub const REFUSED_CODE: &str = "BackupIncompatible";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The target cannot restore it: stop before anything is created.
    Refuse,
    /// It restores, with a difference the user should know of.
    Warn,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    #[serde(flatten)]
    pub check: Check,
}

/// What was found, with its facts as values; [`words`] says it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum Check {
    /// The archive's format is newer than the target restores (`reads` at most).
    ArchiveFormatTooNew {
        format: ArchiveVersion,
        pg_dump: Option<String>,
        target: ServiceType,
        reads: ArchiveVersion,
    },
    /// A 1.14 archive for postgresql11: newer than pg_restore 11 reads, accepted by SetOps.
    ArchiveFormatNewerThanTargetClient {
        format: ArchiveVersion,
        target: ServiceType,
        client_reads: ArchiveVersion,
    },
    /// A pg_dump archive in another format than custom (the `toc.dat` of `-Fd`).
    NotCustomFormat {
        format: String,
    },
    /// pg_restore could not read it: the header is damaged, or the file ends inside its TOC.
    ArchiveUnreadable {
        reason: String,
    },
    /// The TOC holds a value pg_restore would refuse; read up to `entries_read`.
    TocDamaged {
        what: String,
        entries_read: usize,
    },
    /// The head read ended inside the TOC: the checks below cover the entries read.
    TocNotFullyRead {
        entries_read: usize,
        declared: i64,
        head_bytes: u64,
    },
    /// Dumped from a newer PostgreSQL major than the target runs.
    NewerMajor {
        dumped_from: String,
        target: ServiceType,
    },
    /// A source of a newer PostgreSQL major than the target (known before any backup exists).
    NewerSourceType {
        source: ServiceType,
        target: ServiceType,
    },
    /// A definition sets `transaction_timeout`, which servers before 17 do not know.
    TransactionTimeout {
        target: ServiceType,
    },
    /// An extension the target's PostgreSQL version does not ship.
    ExtensionMissing {
        name: String,
        target: ServiceType,
    },
    /// An extension that is not a contrib module this tool knows of.
    ExtensionUnknown {
        name: String,
        target: ServiceType,
    },
    LargeObjects {
        entries: usize,
    },
    /// More than one role owns objects; `--no-owner` gives them all to the service's role.
    Owners {
        owners: Vec<String>,
    },
    /// An RDB file newer than the target reads.
    RdbTooNew {
        version: u32,
        redis_version: Option<String>,
        target: ServiceType,
        reads: u32,
    },
    /// The target exists already: the restore lands on top of what it holds.
    TargetExists {
        target: String,
    },
}

impl Finding {
    fn refuse(check: Check) -> Self {
        Finding {
            severity: Severity::Refuse,
            check,
        }
    }

    fn warn(check: Check) -> Self {
        Finding {
            severity: Severity::Warn,
            check,
        }
    }

    pub fn refuses(&self) -> bool {
        self.severity == Severity::Refuse
    }
}

/// The PostgreSQL major version a service type runs.
pub fn postgres_major(service_type: ServiceType) -> Option<u32> {
    service_type.postgresql_major()
}

/// The newest RDB version a service type loads: Redis 6.x reads 9; `redis7` is Redis 7.0 here
/// (README, "The sandbox"), which reads 10. Section 12 of the reference has the table.
pub fn rdb_reads(service_type: ServiceType) -> Option<u32> {
    match service_type.redis_major()? {
        6 => Some(9),
        _ => Some(10),
    }
}

/// What `facts` (the head of a backup of the target's format) mean for a `target` service.
pub fn assess(facts: &HeadFacts, target: ServiceType) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let (Some(archive), Some(major)) = (&facts.postgres, postgres_major(target)) {
        postgres::assess(archive, target, major, &mut findings);
    }
    if let (Some(rdb), Some(reads)) = (&facts.rdb, rdb_reads(target))
        && rdb.version > reads
    {
        findings.push(Finding::refuse(Check::RdbTooNew {
            version: rdb.version,
            redis_version: rdb.redis_version.clone(),
            target,
            reads,
        }));
    }
    findings
}

/// Reads the head of a local backup file and assesses it for `target`.
pub fn assess_file(path: &Path, target: ServiceType) -> Result<Vec<Finding>> {
    Ok(assess(&head::from_file(path)?, target))
}

/// What the types alone tell, for a backup that does not exist yet (`backup: fresh`) or cannot
/// be read yet: a newer PostgreSQL major never restores into an older one.
pub fn assess_types(source: ServiceType, target: ServiceType) -> Vec<Finding> {
    match (postgres_major(source), postgres_major(target)) {
        (Some(s), Some(t)) if s > t => {
            vec![Finding::refuse(Check::NewerSourceType { source, target })]
        }
        _ => Vec::new(),
    }
}

/// The target exists: a restore goes on top of what it holds.
pub fn target_exists(target: &str) -> Finding {
    Finding::warn(Check::TargetExists {
        target: target.to_owned(),
    })
}

/// Whether any finding refuses.
pub fn refused(findings: &[Finding]) -> bool {
    findings.iter().any(Finding::refuses)
}
