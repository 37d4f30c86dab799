//! Backup format sniffing: tells from a file's first bytes which backup format it holds, so a
//! wrong file is refused before anything is created on the platform (setops-reference.md
//! section 3, "Backup formats"). Only the head of the file is read, whatever its size.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::error::{Error, Result};
use crate::model::ServiceType;

/// How much of a file sniffing reads: enough for every magic number and for the compressed
/// bytes that hold a tar header, and small whatever the file's size.
const HEAD_LIMIT: u64 = 16 * 1024;
const TAR_BLOCK: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetectedFormat {
    /// `pg_dump -Fc` output; `version` is the archive format, e.g. `1.14.0`.
    PostgresCustom {
        version: String,
    },
    TarGz,
    /// gzip, but what is inside is not a tar archive nor a mongodump archive.
    Gzip,
    Rdb {
        version: u32,
    },
    MongodumpGz,
    PlainSql,
    Zip,
    Empty,
    Unknown,
}

impl DetectedFormat {
    /// A noun phrase for messages: "a PostgreSQL custom archive (format 1.14.0)".
    pub fn describe(&self) -> String {
        match self {
            DetectedFormat::PostgresCustom { version } => {
                format!("a PostgreSQL custom archive (format {version})")
            }
            DetectedFormat::TarGz => "a .tar.gz archive".to_owned(),
            DetectedFormat::Gzip => "gzip-compressed data that is not a tar archive".to_owned(),
            DetectedFormat::Rdb { version } => format!("a Redis RDB file (version {version})"),
            DetectedFormat::MongodumpGz => "a mongodump --gzip archive".to_owned(),
            DetectedFormat::PlainSql => "plain SQL text".to_owned(),
            DetectedFormat::Zip => "a zip archive".to_owned(),
            DetectedFormat::Empty => "an empty file".to_owned(),
            DetectedFormat::Unknown => "not in any known backup format".to_owned(),
        }
    }
}

/// Reads only the first few KiB (gunzipping at most two tar blocks, the header or the end of an
/// empty archive): never the whole file.
pub fn sniff(path: &Path) -> Result<DetectedFormat> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut head = Vec::new();
    file.take(HEAD_LIMIT)
        .read_to_end(&mut head)
        .map_err(|e| Error::io("reading", path, e))?;
    Ok(sniff_bytes(&head))
}

/// Classifies the head of a file (at most [`HEAD_LIMIT`] bytes).
pub(super) fn sniff_bytes(head: &[u8]) -> DetectedFormat {
    if head.is_empty() {
        return DetectedFormat::Empty;
    }
    if let Some(rest) = head.strip_prefix(b"PGDMP") {
        // Three version bytes follow the magic: major, minor, revision.
        return match rest {
            [major, minor, rev, ..] => DetectedFormat::PostgresCustom {
                version: format!("{major}.{minor}.{rev}"),
            },
            _ => DetectedFormat::Unknown,
        };
    }
    if let Some(rest) = head.strip_prefix(b"REDIS") {
        return match rest.get(..4) {
            Some(digits) if digits.iter().all(u8::is_ascii_digit) => {
                let version = digits
                    .iter()
                    .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
                DetectedFormat::Rdb { version }
            }
            _ => DetectedFormat::Unknown,
        };
    }
    if head.starts_with(b"PK\x03\x04") {
        return DetectedFormat::Zip;
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return sniff_gzip(head);
    }
    if looks_like_sql(head) {
        return DetectedFormat::PlainSql;
    }
    DetectedFormat::Unknown
}

/// Looks at the first two decompressed tar blocks of a gzip stream.
fn sniff_gzip(head: &[u8]) -> DetectedFormat {
    let mut inner = Vec::with_capacity(2 * TAR_BLOCK);
    // A truncated or corrupt stream still yields the bytes decoded before the error; a file cut
    // short after its first header is judged by what is there.
    let _ = GzDecoder::new(head)
        .take(2 * TAR_BLOCK as u64)
        .read_to_end(&mut inner);
    if inner.starts_with(&0x8199_e26d_u32.to_le_bytes()) {
        return DetectedFormat::MongodumpGz;
    }
    if inner.len() >= TAR_BLOCK && is_tar_header(&inner[..TAR_BLOCK]) {
        return DetectedFormat::TarGz;
    }
    // An empty archive is two zero blocks (`tar czf x.tar.gz -T /dev/null`).
    if inner.len() == 2 * TAR_BLOCK && inner.iter().all(|b| *b == 0) {
        return DetectedFormat::TarGz;
    }
    DetectedFormat::Gzip
}

/// POSIX (`ustar\0`) or GNU (`ustar  \0`) magic at offset 257, and a matching header checksum.
fn is_tar_header(block: &[u8]) -> bool {
    let magic = &block[257..265];
    if !(magic.starts_with(b"ustar\0") || magic == b"ustar  \0") {
        return false;
    }
    let field = &block[148..156];
    let digits: String = field
        .iter()
        .map(|b| *b as char)
        .filter(|c| c.is_digit(8))
        .collect();
    let Ok(stored) = u32::from_str_radix(&digits, 8) else {
        return false;
    };
    // The checksum is computed with its own field read as eight spaces.
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == stored
}

/// Text that starts like a SQL script and holds only printable characters.
fn looks_like_sql(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // The head may end inside a multi-byte character; everything before it must be valid.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return false;
    }
    let start = text.trim_start_matches('\u{feff}').trim_start();
    let upper: String = start
        .chars()
        .take(16)
        .collect::<String>()
        .to_ascii_uppercase();
    const STARTS: [&str; 14] = [
        "--", "/*", "\\", "SET ", "CREATE ", "BEGIN", "START ", "INSERT ", "COPY ", "SELECT ",
        "DROP ", "ALTER ", "COMMENT ", "GRANT ",
    ];
    STARTS.iter().any(|s| upper.starts_with(s))
}

/// What a backup of `service_type` must be, for messages.
fn expected_format(service_type: ServiceType) -> Option<&'static str> {
    match service_type {
        ServiceType::Postgresql11
        | ServiceType::Postgresql13
        | ServiceType::Postgresql14
        | ServiceType::Postgresql15
        | ServiceType::Postgresql16 => Some("a PostgreSQL custom archive (pg_dump -Fc)"),
        ServiceType::Volume => {
            Some("a .tar.gz archive of the volume's contents (tar czf FILE -C DIR .)")
        }
        ServiceType::S3 => {
            Some("a .tar.gz archive of the bucket's contents (tar czf FILE -C DIR .)")
        }
        ServiceType::Redis6 | ServiceType::Redis7 => {
            Some("a Redis RDB file (redis-cli --rdb FILE)")
        }
        ServiceType::Mongodb4 => Some("a mongodump archive (mongodump --gzip --archive=FILE)"),
        ServiceType::Elasticsearch7 => None,
    }
}

fn matches_type(format: &DetectedFormat, service_type: ServiceType) -> bool {
    matches!(
        (service_type, format),
        (
            ServiceType::Postgresql11
                | ServiceType::Postgresql13
                | ServiceType::Postgresql14
                | ServiceType::Postgresql15
                | ServiceType::Postgresql16,
            DetectedFormat::PostgresCustom { .. }
        ) | (ServiceType::Volume | ServiceType::S3, DetectedFormat::TarGz)
            | (
                ServiceType::Redis6 | ServiceType::Redis7,
                DetectedFormat::Rdb { .. }
            )
            | (ServiceType::Mongodb4, DetectedFormat::MongodumpGz)
    )
}

/// Ok when the file is in the backup format of `service_type`; Err(text) otherwise, e.g.
/// "exports/db.sql is plain SQL text, but a postgresql13 backup must be a PostgreSQL custom archive
/// (pg_dump -Fc)". elasticsearch7 -> Err("elasticsearch7 has no backup format (SetOps: not implemented)").
pub fn check_for_type(
    path: &Path,
    service_type: ServiceType,
) -> Result<std::result::Result<DetectedFormat, String>> {
    let Some(expected) = expected_format(service_type) else {
        return Ok(Err(format!(
            "{service_type} has no backup format (SetOps: not implemented)"
        )));
    };
    let format = sniff(path)?;
    if matches_type(&format, service_type) {
        Ok(Ok(format))
    } else {
        Ok(Err(format!(
            "{} is {}, but a {service_type} backup must be {expected}",
            path.display(),
            format.describe()
        )))
    }
}

/// [`check_for_type`] on a file's first bytes (at most a few KiB are looked at), for servers that
/// receive the bytes rather than a path. The error names what the bytes are and what was expected.
pub fn check_head_for_type(
    head: &[u8],
    service_type: ServiceType,
) -> std::result::Result<DetectedFormat, String> {
    let Some(expected) = expected_format(service_type) else {
        return Err(format!(
            "{service_type} has no backup format (SetOps: not implemented)"
        ));
    };
    let format = sniff_bytes(&head[..head.len().min(HEAD_LIMIT as usize)]);
    if matches_type(&format, service_type) {
        Ok(format)
    } else {
        Err(format!(
            "the file is {}, but a {service_type} backup must be {expected}",
            format.describe()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn tar_gz(entries: &[(&str, &[u8])], gnu: bool) -> Vec<u8> {
        let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
        for (name, data) in entries {
            let mut header = if gnu {
                tar::Header::new_gnu()
            } else {
                tar::Header::new_ustar()
            };
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn postgres_custom_archives_report_their_version() {
        let mut bytes = b"PGDMP".to_vec();
        bytes.extend([1, 14, 0, 4, 8, 8, 1]);
        assert_eq!(
            sniff_bytes(&bytes),
            DetectedFormat::PostgresCustom {
                version: "1.14.0".into()
            }
        );
        assert_eq!(sniff_bytes(b"PGDMP\x01"), DetectedFormat::Unknown);
    }

    #[test]
    fn tar_gz_is_recognised_in_posix_and_gnu_flavours() {
        let posix = tar_gz(&[("a.txt", b"hello")], false);
        let gnu = tar_gz(&[("dir/b.bin", &[0u8; 3000])], true);
        assert_eq!(sniff_bytes(&posix), DetectedFormat::TarGz);
        assert_eq!(sniff_bytes(&gnu), DetectedFormat::TarGz);
    }

    #[test]
    fn an_empty_tar_gz_is_a_valid_archive() {
        let empty = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()))
            .into_inner()
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(sniff_bytes(&empty), DetectedFormat::TarGz);
    }

    #[test]
    fn gzip_of_other_data_is_plain_gzip() {
        assert_eq!(
            sniff_bytes(&gzip(b"just some text\n")),
            DetectedFormat::Gzip
        );
        assert_eq!(sniff_bytes(&gzip(&[0u8; 100])), DetectedFormat::Gzip);
        // A block with the ustar magic but a wrong checksum is not a tar header.
        let mut block = [0u8; 512];
        block[257..263].copy_from_slice(b"ustar\0");
        block[148..156].copy_from_slice(b"0000001\0");
        assert_eq!(sniff_bytes(&gzip(&block)), DetectedFormat::Gzip);
    }

    #[test]
    fn a_truncated_tar_gz_is_judged_by_its_first_header() {
        let archive = tar_gz(&[("big.bin", &[7u8; 100_000])], false);
        let cut = &archive[..archive.len() / 2];
        assert_eq!(sniff_bytes(cut), DetectedFormat::TarGz);
        // Cut inside the gzip header: gzip magic, nothing decodable.
        assert_eq!(sniff_bytes(&archive[..4]), DetectedFormat::Gzip);
    }

    #[test]
    fn mongodump_archives_are_gzip_with_the_archive_magic() {
        let mut inner = vec![0x6d, 0xe2, 0x99, 0x81];
        inner.extend(b"\x01\x00\x00\x00rest of the prelude");
        assert_eq!(sniff_bytes(&gzip(&inner)), DetectedFormat::MongodumpGz);
    }

    #[test]
    fn redis_rdb_files_report_their_version() {
        assert_eq!(
            sniff_bytes(b"REDIS0009\xfa\x09redis-ver"),
            DetectedFormat::Rdb { version: 9 }
        );
        assert_eq!(sniff_bytes(b"REDIS00x9"), DetectedFormat::Unknown);
    }

    #[test]
    fn sql_text_zip_empty_and_unknown() {
        assert_eq!(
            sniff_bytes(b"--\n-- PostgreSQL database dump\n--\nSET statement_timeout = 0;\n"),
            DetectedFormat::PlainSql
        );
        assert_eq!(
            sniff_bytes("\u{feff}  create table t (id int);".as_bytes()),
            DetectedFormat::PlainSql
        );
        assert_eq!(
            sniff_bytes(b"BEGIN;\nINSERT INTO t VALUES (1);"),
            DetectedFormat::PlainSql
        );
        assert_eq!(
            sniff_bytes(b"-- text\x00with a NUL"),
            DetectedFormat::Unknown
        );
        assert_eq!(sniff_bytes(b"hello world"), DetectedFormat::Unknown);
        assert_eq!(sniff_bytes(b"PK\x03\x04\x14\x00"), DetectedFormat::Zip);
        assert_eq!(sniff_bytes(b""), DetectedFormat::Empty);
    }

    #[test]
    fn sniff_reads_only_the_head_of_a_large_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.sql");
        let mut file = File::create(&path).unwrap();
        file.write_all(b"-- dump\n").unwrap();
        // 8 MiB of text: sniffing must decide from the first bytes alone.
        let line = [b'x'; 1023];
        for _ in 0..8192 {
            file.write_all(&line).unwrap();
            file.write_all(b"\n").unwrap();
        }
        drop(file);
        assert_eq!(sniff(&path).unwrap(), DetectedFormat::PlainSql);
    }

    #[test]
    fn sniff_names_the_file_it_cannot_open() {
        let err = sniff(Path::new("/nonexistent/dump.psqlcustom")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/dump.psqlcustom"),
            "{err}"
        );
    }

    #[test]
    fn check_for_type_accepts_the_matching_format() {
        let dir = tempfile::tempdir().unwrap();
        let pg = write(
            dir.path(),
            "db.psqlcustom",
            b"PGDMP\x01\x0e\x00\x04\x08\x08",
        );
        let tgz = write(dir.path(), "files.tar.gz", &tar_gz(&[("a", b"x")], false));
        let rdb = write(dir.path(), "dump.rdb", b"REDIS0011");
        let mongo = write(
            dir.path(),
            "m.gz",
            &gzip(&[0x6d, 0xe2, 0x99, 0x81, 1, 0, 0, 0]),
        );
        use ServiceType::*;
        assert!(check_for_type(&pg, Postgresql11).unwrap().is_ok());
        assert!(check_for_type(&pg, Postgresql13).unwrap().is_ok());
        assert_eq!(
            check_for_type(&tgz, Volume).unwrap(),
            Ok(DetectedFormat::TarGz)
        );
        assert!(check_for_type(&tgz, S3).unwrap().is_ok());
        assert!(check_for_type(&rdb, Redis6).unwrap().is_ok());
        assert!(check_for_type(&mongo, Mongodb4).unwrap().is_ok());
        assert!(check_for_type(&tgz, Postgresql13).unwrap().is_err());
        assert!(check_for_type(&pg, Volume).unwrap().is_err());
    }

    #[test]
    fn check_for_type_says_what_the_file_is_and_what_it_must_be() {
        let dir = tempfile::tempdir().unwrap();
        let sql = write(dir.path(), "db.sql", b"-- dump\nCREATE TABLE t (id int);\n");
        let text = check_for_type(&sql, ServiceType::Postgresql13)
            .unwrap()
            .unwrap_err();
        assert_eq!(
            text,
            format!(
                "{} is plain SQL text, but a postgresql13 backup must be a PostgreSQL custom \
                 archive (pg_dump -Fc)",
                sql.display()
            )
        );
        let empty = write(dir.path(), "empty.tar.gz", b"");
        let text = check_for_type(&empty, ServiceType::Volume)
            .unwrap()
            .unwrap_err();
        assert!(
            text.contains("is an empty file, but a volume backup must be a .tar.gz"),
            "{text}"
        );
    }

    #[test]
    fn elasticsearch_has_no_backup_format() {
        let dir = tempfile::tempdir().unwrap();
        let any = write(dir.path(), "x.tar.gz", &tar_gz(&[("a", b"x")], false));
        assert_eq!(
            check_for_type(&any, ServiceType::Elasticsearch7).unwrap(),
            Err("elasticsearch7 has no backup format (SetOps: not implemented)".to_owned())
        );
    }
}
