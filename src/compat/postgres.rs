//! The rules for a PostgreSQL custom archive and a postgresql target (setops-reference.md
//! section 12): the archive format against what the target restores, the server it was dumped
//! from against the target's major version, and what its TOC needs of the target.

use crate::formats::head::COMPAT_HEAD_LIMIT;
use crate::formats::pg_archive::{
    Archive, ArchiveFormat, ArchiveVersion, HeaderError, TocStop, major_of,
};
use crate::model::ServiceType;

use super::extensions::{Availability, availability};
use super::{Check, Finding};

/// The newest archive format SetOps restores into a service of PostgreSQL `major`: what that
/// major's pg_restore reads, but at least the 1.14 of pg_dump 12 to 15, which SetOps restores
/// into postgresql11 too. Format 1.15 needs pg_restore 16, 1.16 needs 17.
fn setops_restores(major: u32) -> ArchiveVersion {
    pg_restore_reads(major).max(ArchiveVersion::new(1, 14, 0))
}

/// The newest format the pg_restore of a major version reads (the table in section 12).
pub fn pg_restore_reads(major: u32) -> ArchiveVersion {
    match major {
        ..=11 => ArchiveVersion::new(1, 13, 0),
        12..=15 => ArchiveVersion::new(1, 14, 0),
        16 => ArchiveVersion::new(1, 15, 0),
        _ => ArchiveVersion::new(1, 16, 0),
    }
}

/// The PostgreSQL that first knows `transaction_timeout`.
const TRANSACTION_TIMEOUT_SINCE: u32 = 17;

pub(super) fn assess(
    archive: &Result<Archive, HeaderError>,
    target: ServiceType,
    major: u32,
    out: &mut Vec<Finding>,
) {
    let archive = match archive {
        Ok(a) => a,
        Err(HeaderError::UnknownVersion(format)) => {
            out.push(Finding::refuse(Check::ArchiveFormatTooNew {
                format: *format,
                pg_dump: None,
                target,
                reads: setops_restores(major),
            }));
            return;
        }
        Err(e) => {
            out.push(Finding::refuse(Check::ArchiveUnreadable {
                reason: e.to_string(),
            }));
            return;
        }
    };
    let h = &archive.header;
    if h.format != ArchiveFormat::Custom {
        out.push(Finding::refuse(Check::NotCustomFormat {
            format: match h.format {
                ArchiveFormat::Directory => "directory format (the toc.dat of pg_dump -Fd)".into(),
                ArchiveFormat::Tar => "tar format (pg_dump -Ft)".into(),
                other => format!("format {other:?}"),
            },
        }));
        return;
    }
    let format = h.version;
    // Compared without the revision: pg_restore reads every revision of a minor it knows.
    let minor = |v: ArchiveVersion| (v.major, v.minor);
    if minor(format) > minor(setops_restores(major)) {
        out.push(Finding::refuse(Check::ArchiveFormatTooNew {
            format,
            pg_dump: h.pg_dump_version.clone(),
            target,
            reads: setops_restores(major),
        }));
    } else if minor(format) > minor(pg_restore_reads(major)) {
        out.push(Finding::warn(Check::ArchiveFormatNewerThanTargetClient {
            format,
            target,
            client_reads: pg_restore_reads(major),
        }));
    }
    if let Some(dumped_from) = &h.server_version
        && let Some((from, _)) = major_of(dumped_from)
        && from > major
    {
        out.push(Finding::refuse(Check::NewerMajor {
            dumped_from: dumped_from.clone(),
            target,
        }));
    }
    let Some(toc) = &archive.toc else {
        return;
    };
    match &toc.stopped {
        None => {}
        Some(TocStop::HeadEnded) => out.push(Finding::warn(Check::TocNotFullyRead {
            entries_read: toc.entries.len(),
            declared: toc.declared,
            head_bytes: COMPAT_HEAD_LIMIT,
        })),
        Some(TocStop::FileEnded) => out.push(Finding::refuse(Check::ArchiveUnreadable {
            reason: format!(
                "the file ends inside its table of contents, after entry {} of {}: it was cut \
                 short",
                toc.entries.len(),
                toc.declared
            ),
        })),
        // This reader follows pg_restore's own checks, but a damaged TOC is not refused on its
        // word alone: pg_restore -l tells for sure.
        Some(TocStop::Invalid { what, .. }) => out.push(Finding::warn(Check::TocDamaged {
            what: what.clone(),
            entries_read: toc.entries.len(),
        })),
    }
    let facts = toc.facts();
    if facts.transaction_timeout && major < TRANSACTION_TIMEOUT_SINCE {
        out.push(Finding::refuse(Check::TransactionTimeout { target }));
    }
    for name in &facts.extensions {
        match availability(name, major) {
            Some(Availability::Shipped) => {}
            Some(Availability::NotShipped) => out.push(Finding::refuse(Check::ExtensionMissing {
                name: name.clone(),
                target,
            })),
            Some(Availability::Unknown) => out.push(Finding::warn(Check::ExtensionUnknown {
                name: name.clone(),
                target,
            })),
            // No list for this major version: nothing to say either way.
            None => {}
        }
    }
    if facts.large_objects > 0 {
        out.push(Finding::warn(Check::LargeObjects {
            entries: facts.large_objects,
        }));
    }
    if facts.owners.len() > 1 {
        out.push(Finding::warn(Check::Owners {
            owners: facts.owners.into_iter().collect(),
        }));
    }
}
