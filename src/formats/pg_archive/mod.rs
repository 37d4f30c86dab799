//! The header and table of contents of a PostgreSQL custom archive (`pg_dump -Fc`), read the way
//! pg_restore reads them (pg_backup_archiver.c: ReadHead, ReadToc; pg_backup_custom.c:
//! _ReadExtraToc), from the first bytes of the file only. What decides whether a target can
//! restore the archive lives there: the format version, the server it was dumped from, and the
//! TOC's extensions, large objects, owners and settings. Total: any input gives an answer, never
//! a panic; a head that ends before the TOC does says so instead of guessing.

mod reader;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

pub use reader::{DataOffset, Stop};
use reader::{MAX_INT_SIZE, Reader};

/// The archive format version: three bytes after the `PGDMP` magic. Serialized as its text
/// (`"1.14"`), as pg_restore -l shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArchiveVersion {
    pub major: u8,
    pub minor: u8,
    pub rev: u8,
}

impl ArchiveVersion {
    pub const fn new(major: u8, minor: u8, rev: u8) -> Self {
        ArchiveVersion { major, minor, rev }
    }

    /// The newest layout this reader knows (pg_dump 17 and 18 write it).
    pub const NEWEST_KNOWN: ArchiveVersion = ArchiveVersion::new(1, 16, 0);

    /// At least `major.minor`, whatever the revision.
    fn at_least(self, major: u8, minor: u8) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

/// `1.14`, or `1.14.1` when the revision is not zero.
impl fmt::Display for ArchiveVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.rev != 0 {
            write!(f, ".{}", self.rev)?;
        }
        Ok(())
    }
}

impl Serialize for ArchiveVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The format byte of the header (pg_backup.h `ArchiveFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveFormat {
    Custom,
    Tar,
    Null,
    /// The `toc.dat` of a directory-format dump.
    Directory,
    Other(u8),
}

impl ArchiveFormat {
    fn of(byte: u8) -> Self {
        match byte {
            1 => ArchiveFormat::Custom,
            3 => ArchiveFormat::Tar,
            4 => ArchiveFormat::Null,
            5 => ArchiveFormat::Directory,
            other => ArchiveFormat::Other(other),
        }
    }
}

/// How the data blocks are compressed: a level before 1.15, an algorithm from 1.15 on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Level(i64),
    /// 0 none, 1 gzip, 2 lz4, 3 zstd (pg_compress_algorithm).
    Algorithm(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: ArchiveVersion,
    pub int_size: u8,
    pub off_size: u8,
    pub format: ArchiveFormat,
    pub compression: Compression,
    /// Seconds, minutes, hours, day, month (0-11), year - 1900, isdst: a `struct tm` (1.4+).
    pub created: Option<[i64; 7]>,
    pub dbname: Option<String>,
    /// "dumped from database version", e.g. `13.23` (1.10+).
    pub server_version: Option<String>,
    /// "dumped by pg_dump version", e.g. `15.14 (Debian 15.14-0+deb12u1)` (1.10+).
    pub pg_dump_version: Option<String>,
}

/// One entry of the table of contents, all fields as ReadToc reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TocEntry {
    pub dump_id: i64,
    pub had_dumper: i64,
    pub table_oid: Option<String>,
    pub oid: Option<String>,
    pub tag: Option<String>,
    pub desc: Option<String>,
    pub section: Option<i64>,
    pub defn: Option<String>,
    pub drop_stmt: Option<String>,
    pub copy_stmt: Option<String>,
    pub namespace: Option<String>,
    pub tablespace: Option<String>,
    pub tableam: Option<String>,
    pub relkind: Option<i64>,
    pub owner: Option<String>,
    pub with_oids: Option<String>,
    pub deps: Vec<String>,
    pub data: Option<DataOffset>,
}

/// The table of contents as far as it could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toc {
    /// The entry count the archive declares.
    pub declared: i64,
    pub entries: Vec<TocEntry>,
    /// Why reading stopped before `declared` entries; `None` when every entry was read.
    pub stopped: Option<TocStop>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TocStop {
    /// The bytes given ended inside the TOC: "TOC not fully read". Only the first part of a
    /// large file is read, so this says nothing about the file being damaged.
    HeadEnded,
    /// The whole file was given and it ends inside the TOC: cut short or damaged.
    FileEnded,
    /// A value pg_restore would refuse (`what`, at byte `at`).
    Invalid { what: String, at: usize },
}

/// A custom archive's header, and its TOC where the format is one this reader knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    pub header: Header,
    /// `None` when the format is not custom, or newer than [`ArchiveVersion::NEWEST_KNOWN`]
    /// (its layout is unknown: nothing after the version bytes is trusted).
    pub toc: Option<Toc>,
}

/// Why no header could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    NotAnArchive,
    /// The version bytes are there but the layout after them is unknown (a future pg_dump).
    UnknownVersion(ArchiveVersion),
    Ended {
        what: &'static str,
    },
    Invalid {
        what: String,
    },
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::NotAnArchive => f.write_str("it does not start with PGDMP"),
            HeaderError::UnknownVersion(v) => {
                write!(f, "its format {v} is newer than any this tool knows")
            }
            HeaderError::Ended { what } => write!(f, "it ends inside the header ({what})"),
            HeaderError::Invalid { what } => write!(f, "its header is damaged ({what})"),
        }
    }
}

/// Reads the archive at the start of `bytes`. `whole_file` tells whether `bytes` is the entire
/// file or only its first part, which decides what an early end means.
pub fn read(bytes: &[u8], whole_file: bool) -> Result<Archive, HeaderError> {
    let mut r = Reader::new(bytes);
    let header = read_header(&mut r)?;
    let toc =
        (header.format == ArchiveFormat::Custom).then(|| read_toc(&mut r, &header, whole_file));
    Ok(Archive { header, toc })
}

/// Only the version bytes, for archives whose layout is unknown.
pub fn version_of(bytes: &[u8]) -> Option<ArchiveVersion> {
    match bytes.strip_prefix(b"PGDMP")? {
        [major, minor, rev, ..] => Some(ArchiveVersion::new(*major, *minor, *rev)),
        _ => None,
    }
}

fn header_stop(stop: Stop) -> HeaderError {
    match stop {
        Stop::Ended { what, .. } => HeaderError::Ended { what },
        Stop::Invalid { what, .. } => HeaderError::Invalid { what },
    }
}

fn read_header(r: &mut Reader) -> Result<Header, HeaderError> {
    let magic = r
        .bytes(5, "the magic")
        .map_err(|_| HeaderError::NotAnArchive)?;
    if magic != b"PGDMP" {
        return Err(HeaderError::NotAnArchive);
    }
    let major = r.byte("the format version").map_err(header_stop)?;
    let minor = r.byte("the format version").map_err(header_stop)?;
    // Version 1.0 has no revision byte.
    let rev = if (major, minor) > (1, 0) {
        r.byte("the format version").map_err(header_stop)?
    } else {
        0
    };
    let version = ArchiveVersion::new(major, minor, rev);
    if major != 1 {
        return Err(HeaderError::Invalid {
            what: format!("format version {version}; pg_restore knows 1.x only"),
        });
    }
    if (major, minor)
        > (
            ArchiveVersion::NEWEST_KNOWN.major,
            ArchiveVersion::NEWEST_KNOWN.minor,
        )
    {
        return Err(HeaderError::UnknownVersion(version));
    }
    let int_size = r.byte("the integer size").map_err(header_stop)?;
    if usize::from(int_size) > MAX_INT_SIZE {
        return Err(HeaderError::Invalid {
            what: format!("integer size {int_size}; pg_restore allows at most {MAX_INT_SIZE}"),
        });
    }
    r.set_int_layout(usize::from(int_size), version);
    let off_size = if version.at_least(1, 7) {
        r.byte("the offset size").map_err(header_stop)?
    } else {
        int_size
    };
    let format = ArchiveFormat::of(r.byte("the format").map_err(header_stop)?);
    let compression = if version.at_least(1, 15) {
        Compression::Algorithm(r.byte("the compression").map_err(header_stop)?)
    } else if version.at_least(1, 4) {
        Compression::Level(r.int("the compression").map_err(header_stop)?)
    } else if version.at_least(1, 2) {
        Compression::Level(i64::from(r.byte("the compression").map_err(header_stop)?))
    } else {
        Compression::Level(-1)
    };
    let mut created = None;
    let mut dbname = None;
    if version.at_least(1, 4) {
        let mut tm = [0i64; 7];
        for field in &mut tm {
            *field = r.int("the creation time").map_err(header_stop)?;
        }
        created = Some(tm);
        dbname = r.string("the database name").map_err(header_stop)?;
    }
    let (mut server_version, mut pg_dump_version) = (None, None);
    if version.at_least(1, 10) {
        server_version = r
            .string("the dumped-from server version")
            .map_err(header_stop)?;
        pg_dump_version = r.string("the pg_dump version").map_err(header_stop)?;
    }
    Ok(Header {
        version,
        int_size,
        off_size,
        format,
        compression,
        created,
        dbname,
        server_version,
        pg_dump_version,
    })
}

fn read_toc(r: &mut Reader, header: &Header, whole_file: bool) -> Toc {
    let mut toc = Toc {
        declared: 0,
        entries: Vec::new(),
        stopped: None,
    };
    let stop = |s: Stop| match s {
        Stop::Ended { .. } if whole_file => TocStop::FileEnded,
        Stop::Ended { .. } => TocStop::HeadEnded,
        Stop::Invalid { what, at } => TocStop::Invalid { what, at },
    };
    match r.int("the TOC entry count") {
        Ok(n) if n >= 0 => toc.declared = n,
        Ok(n) => {
            toc.stopped = Some(TocStop::Invalid {
                what: format!("TOC entry count {n}"),
                at: r.position(),
            });
            return toc;
        }
        Err(s) => {
            toc.stopped = Some(stop(s));
            return toc;
        }
    }
    // Entries are pushed as they are read: a declared count is never trusted for an allocation,
    // and each entry takes bytes, so the loop ends with the input.
    for _ in 0..toc.declared {
        match read_entry(r, header) {
            Ok(entry) => toc.entries.push(entry),
            Err(s) => {
                toc.stopped = Some(stop(s));
                break;
            }
        }
    }
    toc
}

fn read_entry(r: &mut Reader, header: &Header) -> Result<TocEntry, Stop> {
    let v = header.version;
    let at = r.position();
    let dump_id = r.int("a TOC entry's dump ID")?;
    if dump_id <= 0 {
        // pg_restore: "entry ID %d out of range -- perhaps a corrupt TOC".
        return Err(Stop::Invalid {
            what: format!("TOC entry ID {dump_id} out of range"),
            at,
        });
    }
    let had_dumper = r.int("a TOC entry's data flag")?;
    let table_oid = if v.at_least(1, 8) {
        r.string("a TOC entry's table OID")?
    } else {
        None
    };
    let oid = r.string("a TOC entry's OID")?;
    let tag = r.string("a TOC entry's tag")?;
    let desc = r.string("a TOC entry's kind")?;
    let section = if v.at_least(1, 11) {
        Some(r.int("a TOC entry's section")?)
    } else {
        None
    };
    let defn = r.string("a TOC entry's definition")?;
    let drop_stmt = r.string("a TOC entry's DROP statement")?;
    let copy_stmt = if v.at_least(1, 3) {
        r.string("a TOC entry's COPY statement")?
    } else {
        None
    };
    let namespace = if v.at_least(1, 6) {
        r.string("a TOC entry's schema")?
    } else {
        None
    };
    let tablespace = if v.at_least(1, 10) {
        r.string("a TOC entry's tablespace")?
    } else {
        None
    };
    let tableam = if v.at_least(1, 14) {
        r.string("a TOC entry's table access method")?
    } else {
        None
    };
    let relkind = if v.at_least(1, 16) {
        Some(r.int("a TOC entry's relation kind")?)
    } else {
        None
    };
    let owner = r.string("a TOC entry's owner")?;
    let with_oids = if v.at_least(1, 9) {
        r.string("a TOC entry's WITH OIDS flag")?
    } else {
        None
    };
    let mut deps = Vec::new();
    if v.at_least(1, 5) {
        // The list ends with a NULL string.
        while let Some(dep) = r.string("a TOC entry's dependencies")? {
            deps.push(dep);
        }
    }
    // The custom format's own part of each entry (_ReadExtraToc): where the data lies.
    let data = if v.at_least(1, 7) {
        Some(r.offset(usize::from(header.off_size))?)
    } else {
        // Before 1.7 the offset was an integer and a data size followed.
        // (ReadOffset: negative = not set, 0 = no data.)
        let offset = r.int("a TOC entry's data offset")?;
        r.int("a TOC entry's data size")?;
        Some(DataOffset {
            flag: match offset {
                ..0 => 1,
                0 => 3,
                _ => 2,
            },
            offset: offset.max(0).unsigned_abs(),
        })
    };
    Ok(TocEntry {
        dump_id,
        had_dumper,
        table_oid,
        oid,
        tag,
        desc,
        section,
        defn,
        drop_stmt,
        copy_stmt,
        namespace,
        tablespace,
        tableam,
        relkind,
        owner,
        with_oids,
        deps,
        data,
    })
}

/// What the TOC says that a restore into another server depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TocFacts {
    /// `CREATE EXTENSION` entries, by name.
    pub extensions: BTreeSet<String>,
    /// Entries of large objects (their metadata or their data).
    pub large_objects: usize,
    /// Every role named as an owner, but for the public schema's (see [`Toc::facts`]).
    pub owners: BTreeSet<String>,
    /// Some definition sets `transaction_timeout` (a PostgreSQL 17 setting).
    pub transaction_timeout: bool,
}

/// The TOC kinds that stand for large objects, across pg_dump versions: `BLOB` and `BLOBS`
/// (up to 16), `BLOB METADATA` (17), `LARGE OBJECT(S)` as later versions may spell them.
const LARGE_OBJECT_KINDS: [&str; 5] = [
    "BLOB",
    "BLOBS",
    "BLOB METADATA",
    "LARGE OBJECT",
    "LARGE OBJECTS",
];

impl Toc {
    pub fn complete(&self) -> bool {
        self.stopped.is_none()
    }

    pub fn facts(&self) -> TocFacts {
        let mut facts = TocFacts::default();
        for e in &self.entries {
            let desc = e.desc.as_deref().unwrap_or_default();
            if desc == "EXTENSION"
                && let Some(tag) = &e.tag
            {
                facts.extensions.insert(tag.clone());
            }
            if LARGE_OBJECT_KINDS.contains(&desc) {
                facts.large_objects += 1;
            }
            // The public schema (and its ACL and COMMENT entries, tagged `SCHEMA public`)
            // belongs to whoever owns the database's template (a superuser, or
            // pg_database_owner from 15 on), whatever role made the objects in it: counting it
            // would report two owners for nearly every dump.
            let tag = e.tag.as_deref().unwrap_or_default();
            let public_schema = (desc == "SCHEMA" && tag == "public") || tag == "SCHEMA public";
            if let Some(owner) = e.owner.as_ref().filter(|o| !o.is_empty())
                && !public_schema
                && owner != "pg_database_owner"
            {
                facts.owners.insert(owner.clone());
            }
            if e.defn
                .as_deref()
                .is_some_and(|d| d.contains("transaction_timeout"))
            {
                facts.transaction_timeout = true;
            }
        }
        facts
    }
}

/// The major version of a PostgreSQL version string: `13` of `13.23 (Debian ...)`, `9.6` of
/// `9.6.24` (before 10 the major had two parts). `None` when it does not start with a number.
pub fn major_of(version: &str) -> Option<(u32, u32)> {
    let numeric: String = version
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut parts = numeric.split('.').filter(|p| !p.is_empty());
    let first: u32 = parts.next()?.parse().ok()?;
    if first >= 10 {
        return Some((first, 0));
    }
    let second: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((first, second))
}
