//! The mongodb4 engine: no MongoDB server runs in the sandbox; a service holds one mongodump
//! archive (`mongodump --gzip --archive`), kept as `dump.archive.gz` in its directory.
//!
//! - Backup: the kept archive, byte for byte. A service that was never restored into gives a
//!   valid empty archive (no collections) that mongorestore accepts.
//! - Restore: the file must be a gzip-compressed mongodump archive (the archive's magic number
//!   after gunzip) and decompress completely, within the expansion budget (`expansion`); anything
//!   else is refused and nothing changes. The
//!   file then REPLACES the kept archive: with no server there is nothing to merge into, so unlike
//!   SetOps (where a restore goes on top of the database) collections of an earlier restore that
//!   the new archive lacks are gone. Running the same restore again gives the same result.
//! - Env value: empty (no server to point at); verification has no connection either.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::expansion::Budget;
use super::{BackupSummary, Engine, RestoreSummary, ServiceRef};
use crate::api::ServiceConnection;
use crate::model::ServiceType;
use crate::sandbox::{Error, Result};

/// The kept archive in the service's directory.
const ARCHIVE_FILE: &str = "dump.archive.gz";
/// Where a restore writes before the rename, so a half-copied archive never carries the name.
/// mongo-tools `archive.MagicNumber`, written little-endian at the start of every archive.
const MAGIC: u32 = 0x8199_e26d;
/// Ends the archive's prelude (header and collection metadata).
const TERMINATOR: [u8; 4] = [0xff; 4];

pub(crate) struct MongoEngine;

impl Engine for MongoEngine {
    fn backup(&self, svc: &ServiceRef, out: &mut dyn Write) -> io::Result<BackupSummary> {
        match fs::File::open(svc.data.join(ARCHIVE_FILE)) {
            Ok(mut archive) => {
                io::copy(&mut archive, out)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => out.write_all(&empty_archive()?)?,
            Err(e) => return Err(e),
        }
        Ok(BackupSummary {
            files: 1,
            ..BackupSummary::default()
        })
    }

    /// `files` is 1 (the archive), `bytes` its size.
    fn restore(&self, backup: &Path, svc: &ServiceRef) -> Result<RestoreSummary> {
        check_archive(backup)?;
        fs::create_dir_all(&svc.data)
            .map_err(|e| Error::Engine(format!("creating {}: {e}", svc.data.display())))?;
        let result = crate::fsio::replace_with(
            &svc.data.join(ARCHIVE_FILE),
            crate::fsio::PRIVATE_FILE,
            |to| io::copy(&mut fs::File::open(backup)?, to),
        );
        match result {
            Ok(bytes) => Ok(RestoreSummary {
                files: 1,
                dirs: 0,
                bytes,
            }),
            Err(e) => Err(Error::Engine(format!(
                "keeping the archive in {}: {e}",
                svc.data.display()
            ))),
        }
    }

    fn restore_is_repeatable(&self) -> bool {
        true
    }

    /// An empty value: linked apps get the key, but there is no server to point it at.
    fn env_value(&self, _: &ServiceRef, _: &str) -> Result<Option<(String, bool)>> {
        Ok(Some((String::new(), false)))
    }

    fn connection(&self, _: &ServiceRef) -> Result<ServiceConnection> {
        Err(Error::Engine(
            "no MongoDB server runs in the sandbox; only the archive is kept".to_owned(),
        ))
    }
}

/// A gzip-compressed mongodump archive that decompresses to its end (a file cut short or
/// damaged in transit is refused here rather than kept).
fn check_archive(path: &Path) -> Result<()> {
    let mut head = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(16 * 1024).read_to_end(&mut head))
        .map_err(|e| Error::Engine(format!("reading the backup file: {e}")))?;
    crate::formats::check_head_for_type(&head, ServiceType::Mongodb4).map_err(Error::Engine)?;
    let file =
        fs::File::open(path).map_err(|e| Error::Engine(format!("reading the backup file: {e}")))?;
    // Decompressed to nowhere, but bounded all the same: a bomb would hold a CPU for minutes.
    let budget = Budget::for_file(path)?;
    let (mut counted, meter) = budget.count(MultiGzDecoder::new(io::BufReader::new(file)));
    io::copy(&mut counted, &mut io::sink()).map_err(|e| {
        if meter.exceeded() {
            budget.exceeded("the mongodump archive", None)
        } else {
            Error::Engine(format!(
                "the mongodump archive does not decompress to its end (damaged or cut short): {e}"
            ))
        }
    })?;
    Ok(())
}

/// `mongodump --gzip --archive` of a server without collections: the magic number, the header
/// document, no collection metadata, the terminator (mongo-tools common/archive/spec.md).
fn empty_archive() -> io::Result<Vec<u8>> {
    let mut archive = MAGIC.to_le_bytes().to_vec();
    archive.extend(bson_document(&[
        ("concurrent_collections", Bson::Int32(1)),
        ("version", Bson::Str("0.1")),
        ("server_version", Bson::Str("4.4.0")),
        ("tool_version", Bson::Str("sandbox")),
    ]));
    archive.extend(TERMINATOR);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&archive)?;
    gz.finish()
}

/// The BSON values the archive header needs.
enum Bson<'a> {
    Int32(i32),
    Str(&'a str),
}

/// A BSON document (bsonspec.org): total length, elements, NUL. Names hold no NUL.
fn bson_document(fields: &[(&str, Bson)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        let (tag, payload) = match value {
            Bson::Int32(n) => (0x10u8, n.to_le_bytes().to_vec()),
            Bson::Str(s) => {
                let mut p = bson_len(s.len() + 1).to_vec();
                p.extend(s.as_bytes());
                p.push(0);
                (0x02u8, p)
            }
        };
        body.push(tag);
        body.extend(name.as_bytes());
        body.push(0);
        body.extend(payload);
    }
    let mut doc = bson_len(4 + body.len() + 1).to_vec();
    doc.extend(body);
    doc.push(0);
    doc
}

/// A BSON length: int32 little-endian. The header's few short strings are far below the limit.
fn bson_len(n: usize) -> [u8; 4] {
    i32::try_from(n).unwrap_or(i32::MAX).to_le_bytes()
}

#[cfg(test)]
mod tests;
