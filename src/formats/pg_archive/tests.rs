//! The reader against real archives (pg_dump 15 of a PostgreSQL 13.23 and an 11.22 server, kept in
//! testdata/) and against archives built here byte by byte, as pg_dump's WriteHead and WriteToc
//! write them, for the formats no pg_dump on this machine writes (1.15, 1.16); and random and
//! mutated bytes, which must always get an answer and never a panic.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

const PG13_BY_15: &[u8] = include_bytes!("testdata/pg13-dumped-by-15.dump");
const PG11_BY_15_UNCOMPRESSED: &[u8] = include_bytes!("testdata/pg11-dumped-by-15-z0.dump");

/// One TOC entry for the builder; the fields a test does not set stay empty.
#[derive(Clone, Default)]
pub(crate) struct Entry {
    pub desc: &'static str,
    pub tag: &'static str,
    pub owner: &'static str,
    pub defn: &'static str,
}

/// Writes a custom archive's header and TOC the way pg_dump does (pg_backup_archiver.c WriteHead,
/// WriteToc; pg_backup_custom.c _WriteExtraToc), with 4-byte integers and 8-byte offsets.
pub(crate) fn build(
    version: ArchiveVersion,
    server: &str,
    pg_dump: &str,
    entries: &[Entry],
) -> Vec<u8> {
    let mut out = b"PGDMP".to_vec();
    out.extend([version.major, version.minor, version.rev, 4, 8, 1]);
    if version.at_least(1, 15) {
        out.push(0);
    } else {
        int(&mut out, -1);
    }
    for field in [0, 30, 2, 1, 10, 125, 0] {
        int(&mut out, field);
    }
    string(&mut out, Some("shop"));
    string(&mut out, Some(server));
    string(&mut out, Some(pg_dump));
    int(&mut out, entries.len() as i64);
    for (i, e) in entries.iter().enumerate() {
        int(&mut out, i as i64 + 1);
        int(&mut out, 0);
        string(&mut out, Some("0"));
        string(&mut out, Some("0"));
        string(&mut out, Some(e.tag));
        string(&mut out, Some(e.desc));
        int(&mut out, 1);
        string(&mut out, Some(e.defn));
        string(&mut out, Some(""));
        string(&mut out, Some(""));
        string(&mut out, Some("public"));
        string(&mut out, Some(""));
        if version.at_least(1, 14) {
            string(&mut out, Some(""));
        }
        if version.at_least(1, 16) {
            int(&mut out, i64::from(b'r'));
        }
        string(&mut out, Some(e.owner));
        string(&mut out, Some("false"));
        if i > 0 {
            string(&mut out, Some("1"));
        }
        string(&mut out, None);
        out.push(3);
        out.extend([0u8; 8]);
    }
    out
}

fn int(out: &mut Vec<u8>, v: i64) {
    out.push(u8::from(v < 0));
    out.extend((v.unsigned_abs() as u32).to_le_bytes());
}

fn string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => int(out, -1),
        Some(s) => {
            int(out, s.len() as i64);
            out.extend(s.as_bytes());
        }
    }
}

fn entries() -> Vec<Entry> {
    vec![
        Entry {
            desc: "EXTENSION",
            tag: "postgis",
            defn: "CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;\n",
            ..Entry::default()
        },
        Entry {
            desc: "TABLE",
            tag: "orders",
            owner: "shop_owner",
            defn: "CREATE TABLE public.orders (id integer);\n",
        },
        Entry {
            desc: "BLOB METADATA",
            tag: "16537..16537",
            owner: "postgres",
            ..Entry::default()
        },
    ]
}

#[test]
fn a_real_pg_dump_15_archive_of_a_postgresql_13_server() {
    let archive = read(PG13_BY_15, true).unwrap();
    let h = &archive.header;
    assert_eq!(h.version, ArchiveVersion::new(1, 14, 0));
    assert_eq!((h.int_size, h.off_size), (4, 8));
    assert_eq!(h.format, ArchiveFormat::Custom);
    assert_eq!(h.compression, Compression::Level(-1));
    assert_eq!(h.dbname.as_deref(), Some("postgres"));
    assert_eq!(h.server_version.as_deref(), Some("13.23"));
    assert!(
        h.pg_dump_version.as_deref().unwrap().starts_with("15."),
        "{h:?}"
    );
    let toc = archive.toc.unwrap();
    assert!(toc.complete(), "{:?}", toc.stopped);
    assert_eq!(toc.declared, 17);
    assert_eq!(toc.entries.len(), 17);
    // Every entry's data offset was recorded (the dump was written to a file).
    assert!(toc.entries.iter().all(|e| e.data.is_some()));
    let facts = toc.facts();
    assert_eq!(
        facts
            .extensions
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["citext", "pgcrypto"]
    );
    // One BLOB entry (the large object) and one BLOBS entry (its data).
    assert_eq!(facts.large_objects, 2);
    // postgres owns the public schema (not counted) and the large object (counted).
    assert_eq!(
        facts.owners.iter().map(String::as_str).collect::<Vec<_>>(),
        ["alice", "bob", "postgres"]
    );
    let public = toc
        .entries
        .iter()
        .find(|e| e.desc.as_deref() == Some("SCHEMA"))
        .unwrap();
    assert_eq!(
        (public.tag.as_deref(), public.owner.as_deref()),
        (Some("public"), Some("postgres"))
    );
    assert!(!facts.transaction_timeout);
    let table = toc
        .entries
        .iter()
        .find(|e| e.desc.as_deref() == Some("TABLE") && e.tag.as_deref() == Some("t"))
        .unwrap();
    assert_eq!(table.owner.as_deref(), Some("alice"));
    assert_eq!(table.tableam.as_deref(), Some("heap"));
    assert_eq!(table.namespace.as_deref(), Some("public"));
    assert!(
        table
            .defn
            .as_deref()
            .unwrap()
            .contains("CREATE TABLE public.t")
    );
}

#[test]
fn a_real_uncompressed_archive_of_a_postgresql_11_server() {
    let archive = read(PG11_BY_15_UNCOMPRESSED, true).unwrap();
    assert_eq!(archive.header.compression, Compression::Level(0));
    assert_eq!(archive.header.server_version.as_deref(), Some("11.22"));
    let toc = archive.toc.unwrap();
    assert!(toc.complete(), "{:?}", toc.stopped);
    let facts = toc.facts();
    assert!(facts.extensions.contains("citext"), "{facts:?}");
    assert!(facts.extensions.contains("pgcrypto"), "{facts:?}");
    assert!(facts.large_objects > 0);
}

#[test]
fn a_head_cut_inside_the_toc_says_so_and_keeps_the_entries_before() {
    let cut = &PG13_BY_15[..600];
    let archive = read(cut, false).unwrap();
    assert_eq!(archive.header.server_version.as_deref(), Some("13.23"));
    let toc = archive.toc.unwrap();
    assert_eq!(toc.stopped, Some(TocStop::HeadEnded));
    assert!(!toc.entries.is_empty() && toc.entries.len() < 17, "{toc:?}");
    // The same bytes as a whole file: the file itself is cut short.
    assert_eq!(
        read(cut, true).unwrap().toc.unwrap().stopped,
        Some(TocStop::FileEnded)
    );
}

#[test]
fn built_archives_of_formats_1_14_to_1_16_read_back() {
    for (version, server, pg_dump) in [
        (ArchiveVersion::new(1, 14, 0), "13.4", "15.14"),
        (ArchiveVersion::new(1, 15, 0), "13.4", "16.4"),
        (ArchiveVersion::new(1, 16, 0), "13.4", "17.2"),
    ] {
        let bytes = build(version, server, pg_dump, &entries());
        let archive = read(&bytes, true).unwrap();
        assert_eq!(archive.header.version, version);
        assert_eq!(archive.header.pg_dump_version.as_deref(), Some(pg_dump));
        let toc = archive.toc.unwrap();
        assert!(toc.complete(), "{version}: {:?}", toc.stopped);
        assert_eq!(toc.entries.len(), 3, "{version}");
        assert_eq!(toc.entries[1].deps, ["1"]);
        if version.at_least(1, 16) {
            assert_eq!(toc.entries[0].relkind, Some(i64::from(b'r')));
        }
        let facts = toc.facts();
        assert_eq!(facts.extensions.len(), 1);
        assert_eq!(facts.large_objects, 1);
        assert_eq!(facts.owners.len(), 2);
    }
    let v15 = build(ArchiveVersion::new(1, 15, 0), "16.1", "16.1", &[]);
    assert_eq!(
        read(&v15, true).unwrap().header.compression,
        Compression::Algorithm(0)
    );
}

#[test]
fn transaction_timeout_in_a_definition_is_found() {
    let mut list = entries();
    list.push(Entry {
        desc: "SEARCHPATH",
        tag: "SEARCHPATH",
        defn: "SET transaction_timeout = 0;\n",
        ..Entry::default()
    });
    let bytes = build(ArchiveVersion::new(1, 14, 0), "13.4", "15.1", &list);
    assert!(
        read(&bytes, true)
            .unwrap()
            .toc
            .unwrap()
            .facts()
            .transaction_timeout
    );
}

#[test]
fn headers_that_cannot_be_read_say_why() {
    assert_eq!(read(b"", true), Err(HeaderError::NotAnArchive));
    assert_eq!(
        read(b"PGDMQ\x01\x0e\x00", true),
        Err(HeaderError::NotAnArchive)
    );
    assert!(matches!(
        read(b"PGDMP\x01\x0e", true),
        Err(HeaderError::Ended { .. })
    ));
    assert_eq!(
        read(b"PGDMP\x01\x11\x00\x04\x08\x01", true),
        Err(HeaderError::UnknownVersion(ArchiveVersion::new(1, 17, 0)))
    );
    assert!(matches!(
        read(b"PGDMP\x01\x0e\x00\x40\x08\x01", true),
        Err(HeaderError::Invalid { .. })
    ));
    assert!(matches!(
        read(b"PGDMP\x02\x00\x00", true),
        Err(HeaderError::Invalid { .. })
    ));
    // The directory format's toc.dat has the same header, and no custom TOC to read here.
    let mut toc_dat = build(ArchiveVersion::new(1, 14, 0), "13.4", "15.1", &[]);
    toc_dat[10] = 5;
    let archive = read(&toc_dat, true).unwrap();
    assert_eq!(archive.header.format, ArchiveFormat::Directory);
    assert_eq!(archive.toc, None);
}

#[test]
fn a_corrupt_entry_stops_the_toc_with_the_reason() {
    let mut bytes = build(ArchiveVersion::new(1, 14, 0), "13.4", "15.1", &entries());
    // The last entry's data offset flag (9 bytes from the end) is out of range.
    let at = bytes.len() - 9;
    bytes[at] = 7;
    let toc = read(&bytes, true).unwrap().toc.unwrap();
    assert!(
        matches!(toc.stopped, Some(TocStop::Invalid { .. })),
        "{toc:?}"
    );
    assert_eq!(toc.entries.len(), 2);
    // A count or a string length far beyond what is left is not allocated: the file ends there.
    let mut huge = build(ArchiveVersion::new(1, 14, 0), "13.4", "15.1", &[]);
    huge.truncate(huge.len() - 5);
    huge.extend([0, 0xff, 0xff, 0xff, 0x7f]);
    huge.extend(b"x");
    let toc = read(&huge, true).unwrap().toc.unwrap();
    assert_eq!(
        (toc.declared, toc.stopped),
        (0x7fff_ffff, Some(TocStop::FileEnded))
    );
    let one = build(
        ArchiveVersion::new(1, 14, 0),
        "13.4",
        "15.1",
        &entries()[..1],
    );
    // The length of the entry's tag, `postgis`, set to 2 GiB.
    let tag_len = one
        .windows(8)
        .position(|w| w == [0, 7, 0, 0, 0, b'p', b'o', b's'])
        .unwrap();
    let mut cut = one.clone();
    cut[tag_len + 1..tag_len + 5].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
    let toc = read(&cut, true).unwrap().toc.unwrap();
    assert_eq!(
        (toc.entries.len(), toc.stopped),
        (0, Some(TocStop::FileEnded))
    );
}

#[test]
fn major_versions_of_version_strings() {
    assert_eq!(major_of("13.23"), Some((13, 0)));
    assert_eq!(major_of("15.14 (Debian 15.14-0+deb12u1)"), Some((15, 0)));
    assert_eq!(major_of("9.6.24"), Some((9, 6)));
    assert_eq!(major_of("17beta1"), Some((17, 0)));
    assert_eq!(major_of("devel"), None);
    assert_eq!(major_of(""), None);
}

/// Random bytes, and real and built archives with bytes flipped, cut and inserted: every input
/// gets an answer. A panic or an endless loop fails the test.
#[test]
fn any_bytes_get_an_answer() {
    let mut rng = StdRng::seed_from_u64(0x5e7_0f5);
    let seeds: Vec<Vec<u8>> = vec![
        PG13_BY_15.to_vec(),
        PG11_BY_15_UNCOMPRESSED.to_vec(),
        build(ArchiveVersion::new(1, 16, 0), "17.2", "17.2", &entries()),
        build(ArchiveVersion::new(1, 15, 0), "16.1", "16.1", &entries()),
    ];
    let mut answered = 0;
    for round in 0..4000 {
        let mut bytes = if round % 10 == 0 {
            let len = rng.gen_range(0..512);
            let mut b: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
            if rng.gen_bool(0.5) {
                b.splice(0..0, b"PGDMP\x01\x0e\x00".iter().copied());
            }
            b
        } else {
            seeds[round % seeds.len()].clone()
        };
        for _ in 0..rng.gen_range(1..8) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.gen_range(0..bytes.len());
            match rng.gen_range(0..4) {
                0 => bytes[at] = rng.r#gen(),
                1 => bytes.truncate(at),
                2 => bytes.insert(at, rng.r#gen()),
                // A length or count field set to a huge value.
                _ => {
                    let end = (at + 4).min(bytes.len());
                    bytes[at..end].fill(0xff);
                }
            }
        }
        let whole = rng.gen_bool(0.5);
        if let Ok(archive) = read(&bytes, whole) {
            let _ = archive.toc.map(|t| t.facts());
            answered += 1;
        }
    }
    // Most mutations leave the header readable: the TOC reader was exercised, not only the magic.
    assert!(answered > 2000, "{answered}");
}
