//! What the first bytes of a backup say, beyond its format: read once from a local file or from
//! the first bytes of a download, and handed to the compatibility checks (src/compat).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::ServiceType;

use super::pg_archive::{self, Archive, HeaderError};
use super::rdb::{self, RdbHead};
use super::sniff::{DetectedFormat, sniff_bytes};

/// How much of a backup the compatibility checks read: a custom archive's TOC lies at its start
/// and is rarely larger; what lies past this is reported as "TOC not fully read".
pub const COMPAT_HEAD_LIMIT: u64 = 8 * 1024 * 1024;

/// The sniffing part only ever looks at this many bytes.
const SNIFF_LIMIT: usize = 16 * 1024;

/// How much of a backup headed for a service of `target` type the checks can use: a PostgreSQL
/// archive's TOC, an RDB file's header (its auxiliary fields are short), and for volumes and
/// buckets only what tells the format. Reading no more keeps a run's peak memory low.
pub fn head_limit(target: ServiceType) -> u64 {
    if target.is_postgresql() {
        COMPAT_HEAD_LIMIT
    } else if target.redis_major().is_some() {
        64 * 1024
    } else {
        SNIFF_LIMIT as u64
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeadFacts {
    pub format: DetectedFormat,
    /// Set for a PostgreSQL custom archive.
    pub postgres: Option<Result<Archive, HeaderError>>,
    /// Set for a Redis RDB file.
    pub rdb: Option<RdbHead>,
    /// Whether the bytes read are the whole file.
    pub whole_file: bool,
}

/// Reads the facts from `head`, the first bytes of a backup; `whole_file` when nothing follows.
pub fn from_bytes(head: &[u8], whole_file: bool) -> HeadFacts {
    let format = sniff_bytes(&head[..head.len().min(SNIFF_LIMIT)]);
    let postgres = matches!(format, DetectedFormat::PostgresCustom { .. })
        .then(|| pg_archive::read(head, whole_file));
    let rdb = match format {
        DetectedFormat::Rdb { .. } => rdb::read(head),
        _ => None,
    };
    HeadFacts {
        format,
        postgres,
        rdb,
        whole_file,
    }
}

/// Reads at most [`COMPAT_HEAD_LIMIT`] bytes of a local file.
pub fn from_file(path: &Path) -> Result<HeadFacts> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut head = Vec::new();
    // One byte more than the limit tells a file of exactly the limit from a longer one.
    file.take(COMPAT_HEAD_LIMIT + 1)
        .read_to_end(&mut head)
        .map_err(|e| Error::io("reading", path, e))?;
    let whole_file = head.len() as u64 <= COMPAT_HEAD_LIMIT;
    head.truncate(COMPAT_HEAD_LIMIT as usize);
    Ok(from_bytes(&head, whole_file))
}
