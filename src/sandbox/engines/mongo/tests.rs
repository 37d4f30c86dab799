use std::collections::BTreeMap;

use flate2::read::GzDecoder;
use uuid::Uuid;

use super::*;
use crate::formats::DetectedFormat;
use crate::model::Scope;

fn service(root: &Path) -> ServiceRef {
    ServiceRef {
        scope: Scope {
            project: "shop".to_owned(),
            stage: "prod".to_owned(),
        },
        name: "docs".to_owned(),
        uid: Uuid::new_v4(),
        service_type: ServiceType::Mongodb4,
        data: root.join("data/shop/prod/docs"),
        options: BTreeMap::new(),
        credentials: None,
    }
}

fn backup_bytes(svc: &ServiceRef) -> Vec<u8> {
    let mut out = Vec::new();
    MongoEngine.backup(svc, &mut out).unwrap();
    out
}

/// A BSON document with a boolean and an int64, the types of namespace headers.
fn namespace_header(db: &str, collection: &str, eof: bool) -> Vec<u8> {
    let mut body = bson_document(&[("db", Bson::Str(db)), ("collection", Bson::Str(collection))]);
    body.pop();
    body.drain(..4);
    body.extend(b"\x08EOF\x00");
    body.push(u8::from(eof));
    body.extend(b"\x12CRC\x00");
    body.extend(0i64.to_le_bytes());
    let mut doc = ((body.len() + 5) as i32).to_le_bytes().to_vec();
    doc.extend(body);
    doc.push(0);
    doc
}

/// A one-collection archive laid out as mongodump writes it.
fn archive_with_a_collection() -> Vec<u8> {
    let mut raw = MAGIC.to_le_bytes().to_vec();
    raw.extend(bson_document(&[
        ("concurrent_collections", Bson::Int32(4)),
        ("version", Bson::Str("0.1")),
        ("server_version", Bson::Str("4.0.0")),
        ("tool_version", Bson::Str("100.9.4")),
    ]));
    raw.extend(bson_document(&[
        ("db", Bson::Str("shop")),
        ("collection", Bson::Str("orders")),
        ("metadata", Bson::Str("{\"indexes\":[]}")),
        ("size", Bson::Int32(22)),
    ]));
    raw.extend(TERMINATOR);
    raw.extend(namespace_header("shop", "orders", false));
    raw.extend(bson_document(&[("name", Bson::Str("first"))]));
    raw.extend(TERMINATOR);
    raw.extend(namespace_header("shop", "orders", true));
    raw.extend(TERMINATOR);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_service_never_restored_into_backs_up_an_empty_archive() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    MongoEngine.provision(&svc).unwrap();
    let bytes = backup_bytes(&svc);
    let path = dir.path().join("empty.gz");
    fs::write(&path, &bytes).unwrap();
    assert_eq!(
        crate::formats::sniff(&path).unwrap(),
        DetectedFormat::MongodumpGz
    );

    let mut raw = Vec::new();
    GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(raw[..4], [0x6d, 0xe2, 0x99, 0x81]);
    let header_len = i32::from_le_bytes(raw[4..8].try_into().unwrap()) as usize;
    assert_eq!(raw.len(), 4 + header_len + 4, "magic, header, terminator");
    let header = &raw[4..4 + header_len];
    assert_eq!(header.last(), Some(&0));
    for text in [
        &b"concurrent_collections\x00\x01\x00\x00\x00"[..],
        b"version\x00\x04\x00\x00\x000.1\x00",
    ] {
        assert!(header.windows(text.len()).any(|w| w == text));
    }
    assert_eq!(raw[raw.len() - 4..], TERMINATOR);
    // The same bytes every time: a backup of an untouched service is stable.
    assert_eq!(backup_bytes(&svc), bytes);
}

#[test]
fn a_restored_archive_is_backed_up_byte_for_byte_and_replaced_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    MongoEngine.provision(&svc).unwrap();
    let upload = dir.path().join("upload.gz");
    let archive = archive_with_a_collection();
    fs::write(&upload, &archive).unwrap();
    let summary = MongoEngine.restore(&upload, &svc).unwrap();
    assert_eq!(summary.bytes, archive.len() as u64);
    assert_eq!(backup_bytes(&svc), archive);
    let kept = fs::metadata(svc.data.join(ARCHIVE_FILE)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(kept.permissions().mode() & 0o777, 0o600);
    assert!(!crate::fsio::temp_path(&svc.data.join(ARCHIVE_FILE)).exists());

    let empty = dir.path().join("empty.gz");
    fs::write(&empty, empty_archive().unwrap()).unwrap();
    MongoEngine.restore(&empty, &svc).unwrap();
    assert_eq!(backup_bytes(&svc), empty_archive().unwrap());
}

#[test]
fn restore_refuses_other_formats_and_damaged_archives() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    MongoEngine.provision(&svc).unwrap();
    let kept = dir.path().join("kept.gz");
    fs::write(&kept, archive_with_a_collection()).unwrap();
    MongoEngine.restore(&kept, &svc).unwrap();

    let tar_gz = {
        let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
        let mut header = tar::Header::new_ustar();
        header.set_size(2);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "a.txt", &b"hi"[..])
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap()
    };
    let tar_path = dir.path().join("files.tar.gz");
    fs::write(&tar_path, tar_gz).unwrap();
    let err = MongoEngine
        .restore(&tar_path, &svc)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the file is a .tar.gz archive, but a mongodb4 backup must be a mongodump archive \
         (mongodump --gzip --archive=FILE)"
    );

    let whole = archive_with_a_collection();
    let cut = dir.path().join("cut.gz");
    fs::write(&cut, &whole[..whole.len() - 6]).unwrap();
    let err = MongoEngine.restore(&cut, &svc).unwrap_err().to_string();
    assert!(err.contains("does not decompress to its end"), "{err}");

    assert_eq!(
        backup_bytes(&svc),
        archive_with_a_collection(),
        "the kept archive is unchanged"
    );
}

#[test]
fn there_is_no_server_to_connect_to() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    assert_eq!(
        MongoEngine.env_value(&svc, "http://x").unwrap(),
        Some((String::new(), false))
    );
    let err = MongoEngine.connection(&svc).unwrap_err().to_string();
    assert!(
        err.contains("no MongoDB server runs in the sandbox"),
        "{err}"
    );
    assert!(MongoEngine.restore_is_repeatable());
}
