//! Fuzzing the sandbox's archive extraction (proptest, stable Rust; the harness is the one
//! tests/fuzz.rs uses): tar.gz restores of volumes and buckets, and mongodump archive restores,
//! fed archives of hostile entries (`..`, absolute paths, links, devices, sparse files, names that
//! contradict each other) and byte-mutated streams. Whatever the archive, nothing outside the
//! service's directory changes, a refused archive leaves the directory as it was, nothing is left
//! beside it, and a restore never creates a link. `FUZZ_CASES` sets the number of inputs.

#[path = "../../../tests/fuzz/harness.rs"]
mod harness;
#[path = "../../../tests/fuzz/mutate.rs"]
mod mutate;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use tar::{EntryType, Header};
use uuid::Uuid;

use super::{Engine, ServiceRef, dirtree, mongo::MongoEngine};
use crate::model::{Scope, ServiceType};
use harness::{ensure, fuzz};

/// One raw entry: any name, any type, written into the header as given.
#[derive(Debug, Clone)]
struct RawEntry {
    name: String,
    kind: u8,
    data: Vec<u8>,
    link: String,
}

fn kinds() -> impl Strategy<Value = u8> {
    // Regular, hard link, symlink, char, block, dir, fifo, contiguous, GNU sparse, pax headers.
    prop::sample::select(vec![
        b'0', b'0', b'0', b'5', b'5', b'1', b'2', b'3', b'4', b'6', b'7', b'S', b'x', b'g', 0,
    ])
}

fn names() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-c]{1,3}(/[a-c]{1,3}){0,2}",
        1 => prop::sample::select(vec![
            "..", "../x", "a/../../x", "/etc/x", "./a", "a//b", "link/x", "link", ".",
            "a/", "kept.txt/x", "d", "d/inner",
        ])
        .prop_map(str::to_owned),
        1 => "[ -~]{0,40}",
    ]
}

fn entry() -> impl Strategy<Value = RawEntry> {
    (
        names(),
        kinds(),
        prop::collection::vec(any::<u8>(), 0..200),
        "[a-z./]{0,12}",
    )
        .prop_map(|(name, kind, data, link)| RawEntry {
            name,
            kind,
            data,
            link,
        })
}

fn tar_bytes(entries: &[RawEntry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        let mut header = Header::new_gnu();
        if let Some(gnu) = header.as_gnu_mut() {
            let n = e.name.len().min(gnu.name.len());
            gnu.name[..n].copy_from_slice(&e.name.as_bytes()[..n]);
        }
        header.set_entry_type(EntryType::new(e.kind));
        header.set_size(e.data.len() as u64);
        header.set_mode(0o644);
        let _ = header.set_link_name(&e.link);
        header.set_cksum();
        let _ = builder.append(&header, e.data.as_slice());
    }
    builder.into_inner().unwrap_or_default()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    let _ = gz.write_all(bytes);
    gz.finish().unwrap_or_default()
}

/// A tar.gz of hostile entries; sometimes its tar or its gzip bytes mutated.
fn archives() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(entry(), 0..6).prop_flat_map(|entries| {
        let tar = tar_bytes(&entries);
        let whole = gzip(&tar);
        prop_oneof![
            3 => Just(whole.clone()),
            1 => mutate::mutated(vec![tar]).prop_map(|t| gzip(&t)),
            1 => mutate::mutated(vec![whole]),
        ]
    })
}

/// Every path under `root` with what it is: `d` directory, `l` link, `f` and a file's bytes.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                out.insert(rel, b"l".to_vec());
            } else if meta.is_dir() {
                out.insert(rel, b"d".to_vec());
                stack.push(path);
            } else {
                let mut bytes = b"f".to_vec();
                bytes.extend(fs::read(&path).unwrap_or_default());
                out.insert(rel, bytes);
            }
        }
    }
    out
}

/// A service directory with files, a folder and a link to a directory outside it.
fn world(t: &Path) -> PathBuf {
    let root = t.join("svc");
    let outside = t.join("outside");
    fs::create_dir_all(root.join("d")).expect("mkdir");
    fs::create_dir_all(&outside).expect("mkdir");
    fs::write(root.join("kept.txt"), b"old").expect("write");
    fs::write(root.join("d/inner"), b"inner").expect("write");
    std::os::unix::fs::symlink(&outside, root.join("link")).expect("symlink");
    root
}

#[test]
fn fuzz_tar_gz_restores() {
    fuzz("tar_gz_restore", 200, archives(), |archive| {
        let t = tempfile::tempdir().expect("tempdir");
        let root = world(t.path());
        let file = t.path().join("backup.tar.gz");
        fs::write(&file, &archive).expect("write");
        let before = snapshot(&root);
        let result = dirtree::restore(&file, &root);
        let after = snapshot(&root);
        ensure(snapshot(&t.path().join("outside")).is_empty(), || {
            "wrote outside the service".into()
        })?;
        let mut beside: Vec<String> = fs::read_dir(t.path())
            .expect("read_dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        beside.sort();
        ensure(beside == ["backup.tar.gz", "outside", "svc"], || {
            format!("left beside: {beside:?}")
        })?;
        match result {
            Err(e) => {
                ensure(after == before, || {
                    format!("a refused restore ({e}) changed the data")
                })?;
                ensure(e.to_string().len() < 4096, || "a huge error".into())
            }
            Ok(_) => {
                let links: Vec<_> = after
                    .iter()
                    .filter(|(p, kind)| kind.as_slice() == b"l" && p.as_path() != Path::new("link"))
                    .collect();
                // A file entry named like the link replaces the link itself (a rename), which
                // is allowed; following it is what the `outside` check catches.
                ensure(links.is_empty(), || {
                    format!("a restore made links: {links:?}")
                })
            }
        }
    });
}

fn mongo_inputs() -> impl Strategy<Value = Vec<u8>> {
    let magic = 0x8199_e26d_u32.to_le_bytes();
    prop::collection::vec(any::<u8>(), 0..400).prop_flat_map(move |body| {
        let inner: Vec<u8> = magic.iter().copied().chain(body).collect();
        let whole = gzip(&inner);
        prop_oneof![
            2 => Just(whole.clone()),
            2 => mutate::mutated(vec![whole]),
            1 => mutate::mutated(vec![inner]).prop_map(|b| gzip(&b)),
        ]
    })
}

#[test]
fn fuzz_mongodump_restores() {
    fuzz("mongodump_restore", 200, mongo_inputs(), |archive| {
        let t = tempfile::tempdir().expect("tempdir");
        let file = t.path().join("upload.gz");
        fs::write(&file, &archive).expect("write");
        let svc = ServiceRef {
            scope: Scope {
                project: "shop".into(),
                stage: "production".into(),
            },
            name: "docs".into(),
            uid: Uuid::nil(),
            service_type: ServiceType::Mongodb4,
            data: t.path().join("docs"),
            options: BTreeMap::new(),
            credentials: None,
        };
        let kept = svc.data.join("dump.archive.gz");
        match MongoEngine.restore(&file, &svc) {
            Ok(_) => ensure(fs::read(&kept).ok() == Some(archive.clone()), || {
                "the kept archive is not the upload".into()
            }),
            Err(e) => {
                ensure(!kept.exists(), || {
                    format!("a refused archive ({e}) was kept")
                })?;
                let stray: Vec<_> = fs::read_dir(&svc.data)
                    .map(|d| d.flatten().map(|e| e.file_name()).collect())
                    .unwrap_or_default();
                ensure(stray.is_empty(), || format!("left behind: {stray:?}"))
            }
        }
    });
}
