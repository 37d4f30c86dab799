//! How a finding reads: what was found, why it matters for this target, and what to do. Used by
//! the UI for events and previews, and by the errors that carry a refusal.

use std::fmt;

use crate::formats::pg_archive::ArchiveVersion;
use crate::model::ServiceType;

use super::{Check, Finding, Severity, postgres_major};

/// At most this many role names are listed; the rest are counted.
const MAX_NAMES: usize = 5;

/// The pg_dump versions that write an archive format (section 12's table).
fn written_by(format: ArchiveVersion) -> &'static str {
    match (format.major, format.minor) {
        (1, ..=12) => "pg_dump 10 or older",
        (1, 13) => "pg_dump 11 (or 9.3.22+, 9.6.8+, 10.3+)",
        (1, 14) => "pg_dump 12 to 15",
        (1, 15) => "pg_dump 16",
        (1, 16) => "pg_dump 17 or 18",
        _ => "a pg_dump newer than 18",
    }
}

/// `pg_dump -Fc --no-owner --no-acl` from the client of the target's major version.
fn dump_again(target: ServiceType) -> String {
    let major = postgres_major(target);
    let client = match major {
        Some(major) => format!("PostgreSQL {major}'s pg_dump"),
        None => "the pg_dump of the target's version".to_owned(),
    };
    let also = match major {
        Some(..=15) => "; pg_dump 12 to 15 also write format 1.14",
        _ => "",
    };
    format!(
        "dump again with {client}: `pg_dump -Fc --no-owner --no-acl -d DATABASE -f FILE` (a pg_dump \
         must not be older than the server it dumps{also})"
    )
}

/// `alice, bob, carol, dave, erin and 3 more`.
fn names(list: &[String]) -> String {
    let shown = list[..list.len().min(MAX_NAMES)].join(", ");
    if list.len() > MAX_NAMES {
        format!("{shown} and {} more", list.len() - MAX_NAMES)
    } else {
        shown
    }
}

/// The SetOps PostgreSQL types that run `major` or newer, for the way on.
fn types_from(major: u32) -> String {
    let fitting: Vec<&str> = ServiceType::ALL
        .into_iter()
        .filter(|t| postgres_major(*t).is_some_and(|m| m >= major))
        .map(ServiceType::as_str)
        .collect();
    if fitting.is_empty() {
        let newest = ServiceType::ALL
            .into_iter()
            .filter_map(postgres_major)
            .max()
            .unwrap_or_default();
        format!(
            "no SetOps PostgreSQL type runs PostgreSQL {major} or newer; dump from a server of \
             {newest} or older"
        )
    } else {
        let others = match &fitting[1..] {
            [] => String::new(),
            rest => format!(" (or {})", rest.join(", ")),
        };
        format!(
            "restore it into a {} service{others} instead (set `type:` in the plan)",
            fitting[0]
        )
    }
}

/// What the Redis version of an RDB file is, where the file does not say it.
fn rdb_writer(version: u32) -> &'static str {
    match version {
        ..=9 => "Redis 5 or 6",
        10 => "Redis 7.0",
        11 => "Redis 7.2 (or Valkey 8)",
        12 => "Redis 7.4",
        _ => "a Redis newer than 7.4",
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::ArchiveFormatTooNew {
                format,
                pg_dump,
                target,
                reads,
            } => {
                let made_by = match pg_dump {
                    Some(v) => format!("made by pg_dump {v}"),
                    None => format!("made by {}", written_by(*format)),
                };
                write!(
                    f,
                    "the archive is in format {format}, {made_by}; SetOps restores a {target} \
                     service from format {reads} at most (format 1.15 needs pg_restore 16+, 1.16 \
                     needs 17+). {}",
                    capitalized(&dump_again(*target))
                )
            }
            Check::ArchiveFormatNewerThanTargetClient {
                format,
                target,
                client_reads,
            } => write!(
                f,
                "the archive is in format {format} ({}), newer than the {client_reads} that \
                 pg_restore {} reads; SetOps restores it into {target} all the same. If that \
                 restore fails, {}",
                written_by(*format),
                postgres_major(*target).unwrap_or_default(),
                dump_again(*target)
            ),
            Check::NotCustomFormat { format } => write!(
                f,
                "the file is a pg_dump archive in {format}, but SetOps restores custom archives \
                 only; dump again with `pg_dump -Fc`"
            ),
            Check::ArchiveUnreadable { reason } => write!(
                f,
                "pg_restore cannot read this archive: {reason}. Make the dump again with `pg_dump \
                 -Fc` and check it with `pg_restore -l FILE`"
            ),
            Check::TocDamaged { what, entries_read } => write!(
                f,
                "the archive's table of contents could not be read past entry {entries_read} \
                 ({what}); pg_restore may refuse the file, so check it with `pg_restore -l FILE`. \
                 Extensions, large objects and owners were checked in the entries before"
            ),
            Check::TocNotFullyRead {
                entries_read,
                declared,
                head_bytes,
            } => write!(
                f,
                "TOC not fully read: only {entries_read} of its {declared} entries lie in the \
                 first {} MiB, which is all that is read; extensions, large objects and owners \
                 were checked in those",
                head_bytes / (1024 * 1024)
            ),
            Check::NewerMajor {
                dumped_from,
                target,
            } => {
                let from = crate::formats::pg_archive::major_of(dumped_from)
                    .map(|(m, _)| m)
                    .unwrap_or_default();
                write!(
                    f,
                    "the archive was dumped from PostgreSQL {dumped_from}, newer than the \
                     PostgreSQL {} of a {target} service, and a dump does not restore into an \
                     older major version; {}",
                    postgres_major(*target).unwrap_or_default(),
                    types_from(from)
                )
            }
            Check::NewerSourceType { source, target } => write!(
                f,
                "the source is {source} (PostgreSQL {}), newer than {target} (PostgreSQL {}), and \
                 a dump does not restore into an older major version; {}",
                postgres_major(*source).unwrap_or_default(),
                postgres_major(*target).unwrap_or_default(),
                types_from(postgres_major(*source).unwrap_or_default())
            ),
            Check::TransactionTimeout { target } => write!(
                f,
                "the archive sets transaction_timeout, which PostgreSQL 17 added; {target} does \
                 not know it, so pg_restore would fail that statement and end with \"errors \
                 ignored on restore\". {}",
                capitalized(&dump_again(*target))
            ),
            Check::ExtensionMissing { name, target } => write!(
                f,
                "the archive creates extension {name}, which PostgreSQL {} does not ship, so \
                 {target} cannot have it and everything that uses it would fail to restore; drop \
                 it from the source database, or restore into a type that has it",
                postgres_major(*target).unwrap_or_default()
            ),
            Check::ExtensionUnknown { name, target } => write!(
                f,
                "the archive creates extension {name}, which is not known to be available on \
                 {target} (it is not a PostgreSQL {} contrib module); check with SetOps, and add \
                 it to the target's `extensions` option if it is offered",
                postgres_major(*target).unwrap_or_default()
            ),
            Check::LargeObjects { .. } => f.write_str(
                "the archive holds large objects; they are restored, but owned by the service's \
                 role (the restore runs with --no-owner) and without their grants (--no-acl)",
            ),
            Check::Owners { owners } => write!(
                f,
                "objects in the archive belong to {} roles ({}); the restore runs with \
                 --no-owner, so the service's role will own all of them and these roles are not \
                 created",
                owners.len(),
                names(owners)
            ),
            Check::RdbTooNew {
                version,
                redis_version,
                target,
                reads,
            } => {
                let made_by = match redis_version {
                    Some(v) => format!("Redis {v}"),
                    None => rdb_writer(*version).to_owned(),
                };
                let way_on = match target.redis_major() {
                    Some(6) => {
                        "Export from a Redis 6 server (redis-cli --rdb FILE), or restore \
                                into a Redis 7 service"
                    }
                    _ => {
                        "Export from a Redis 7.0 server (redis-cli --rdb FILE); SetOps offers \
                          no Redis type that reads a newer RDB"
                    }
                };
                write!(
                    f,
                    "the file was made by {made_by} (RDB {version}); SetOps' {target} reads RDB \
                     {reads} at most (\"Can't handle RDB format version {version}\"). {way_on}"
                )
            }
            Check::TargetExists { target } => write!(
                f,
                "target {target} exists already: SetOps restores on top of what a service holds, \
                 so what it holds stays and may clash; `run` uses it only when this plan created \
                 it, or with --adopt-target"
            ),
        }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `refused: <check>` or `warning: <check>`.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.severity {
            Severity::Refuse => write!(f, "refused: {}", self.check),
            Severity::Warn => write!(f, "warning: {}", self.check),
        }
    }
}

/// The refusals among `findings`, one sentence each, for an error message.
pub fn refusals(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.refuses())
        .map(|f| f.check.to_string())
        .collect()
}
