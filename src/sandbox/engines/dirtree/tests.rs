use std::fs;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{EntryType, Header};

use super::*;

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

fn backup_to(root: &Path, out: &Path, with_dirs: bool) -> BackupSummary {
    let mut file = fs::File::create(out).expect("create");
    backup(root, &mut file, with_dirs).expect("backup")
}

/// One raw entry: the name goes into the header bytes as given, so tests can build archives
/// that tar's own builder refuses to write (`..`, absolute paths).
fn raw_entry(name: &str, kind: EntryType, data: &[u8], link: Option<&str>) -> (Header, Vec<u8>) {
    let mut header = Header::new_gnu();
    {
        let gnu = header.as_gnu_mut().expect("gnu header");
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
    }
    header.set_entry_type(kind);
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    if let Some(link) = link {
        header.set_link_name(link).expect("link name");
    }
    header.set_cksum();
    (header, data.to_vec())
}

fn archive(path: &Path, entries: &[(Header, Vec<u8>)]) {
    let gz = GzEncoder::new(fs::File::create(path).expect("create"), Compression::fast());
    let mut builder = tar::Builder::new(gz);
    for (header, data) in entries {
        builder.append(header, data.as_slice()).expect("append");
    }
    builder.into_inner().expect("tar").finish().expect("gzip");
}

fn listing(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = fs::read_dir(dir).expect("read_dir").flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let rel = e
                .path()
                .strip_prefix(root)
                .expect("rel")
                .display()
                .to_string();
            if e.file_type().expect("type").is_dir() {
                out.push((format!("{rel}/"), Vec::new()));
                walk(root, &e.path(), out);
            } else {
                out.push((rel, fs::read(e.path()).expect("read")));
            }
        }
    }
    walk(root, root, &mut out);
    out
}

#[test]
fn backup_and_restore_round_trip_keeps_files_and_empty_folders() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = t.path().join("src");
    write(&src, "uploads/2024/03/a.jpg", &[1, 2, 3]);
    write(&src, "b.txt", b"");
    fs::create_dir_all(src.join("empty/inner")).expect("mkdir");
    let file = t.path().join("b.tar.gz");
    let summary = backup_to(&src, &file, true);
    assert_eq!((summary.files, summary.dirs), (2, 5));
    let dst = t.path().join("dst");
    let restored = restore(&file, &dst).expect("restore");
    assert_eq!(restored.files, 2);
    assert_eq!(listing(&src), listing(&dst));
}

#[test]
fn backups_are_sorted_and_s3_backups_hold_objects_only() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = t.path().join("src");
    write(&src, "z/1", b"z");
    write(&src, "a/2", b"a");
    write(&src, "m", b"m");
    let file = t.path().join("b.tar.gz");
    backup_to(&src, &file, false);
    let mut names = Vec::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(
        fs::File::open(&file).expect("open"),
    ));
    for entry in tar.entries().expect("entries") {
        let entry = entry.expect("entry");
        assert_eq!(entry.header().entry_type(), EntryType::Regular);
        names.push(entry.path().expect("path").display().to_string());
    }
    assert_eq!(names, ["a/2", "m", "z/1"]);
}

#[test]
fn restore_goes_on_top_of_existing_data() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = t.path().join("src");
    write(&src, "shared.txt", b"from backup");
    write(&src, "new/only-in-backup.txt", b"new");
    let file = t.path().join("b.tar.gz");
    backup_to(&src, &file, true);
    let dst = t.path().join("dst");
    write(&dst, "shared.txt", b"old content");
    write(&dst, "keep/me.txt", b"kept");
    restore(&file, &dst).expect("restore");
    assert_eq!(
        fs::read(dst.join("shared.txt")).expect("read"),
        b"from backup"
    );
    assert_eq!(fs::read(dst.join("keep/me.txt")).expect("read"), b"kept");
    assert_eq!(
        fs::read(dst.join("new/only-in-backup.txt")).expect("read"),
        b"new"
    );
    // No temp files are left behind.
    assert!(
        listing(&dst)
            .iter()
            .all(|(p, _)| !p.contains("restore-tmp"))
    );
}

#[test]
fn archives_made_with_tar_czf_dot_are_accepted() {
    let t = tempfile::tempdir().expect("tempdir");
    let file = t.path().join("dot.tar.gz");
    archive(
        &file,
        &[
            raw_entry("./", EntryType::Directory, b"", None),
            raw_entry("./dir/", EntryType::Directory, b"", None),
            raw_entry("./dir/x.txt", EntryType::Regular, b"x", None),
        ],
    );
    let dst = t.path().join("dst");
    restore(&file, &dst).expect("restore");
    assert_eq!(fs::read(dst.join("dir/x.txt")).expect("read"), b"x");
}

/// Each bad entry comes after a good one: the good one must not be written either.
fn assert_refused(bad: (Header, Vec<u8>), expected: &str) {
    let t = tempfile::tempdir().expect("tempdir");
    let file = t.path().join("bad.tar.gz");
    archive(
        &file,
        &[
            raw_entry("good.txt", EntryType::Regular, b"good", None),
            bad,
        ],
    );
    let dst = t.path().join("data").join("svc");
    fs::create_dir_all(&dst).expect("mkdir");
    let err = restore(&file, &dst).expect_err("refused").to_string();
    assert!(err.contains(expected), "{err}");
    assert!(!dst.join("good.txt").exists(), "nothing may be written");
    assert!(
        listing(t.path()).iter().all(|(p, _)| !p.ends_with("x")),
        "{:?}",
        listing(t.path())
    );
}

#[test]
fn parent_components_are_refused() {
    assert_refused(
        raw_entry("../x", EntryType::Regular, b"evil", None),
        "contains `..`",
    );
    assert_refused(
        raw_entry("a/../../x", EntryType::Regular, b"evil", None),
        "contains `..`",
    );
}

#[test]
fn absolute_paths_are_refused() {
    assert_refused(
        raw_entry("/tmp/x", EntryType::Regular, b"evil", None),
        "absolute path",
    );
}

#[test]
fn links_and_devices_are_refused() {
    assert_refused(
        raw_entry("x", EntryType::Symlink, b"", Some("/etc/passwd")),
        "symbolic link",
    );
    assert_refused(
        raw_entry("x", EntryType::Link, b"", Some("good.txt")),
        "hard link",
    );
    assert_refused(
        raw_entry("x", EntryType::Char, b"", None),
        "character device",
    );
    assert_refused(raw_entry("x", EntryType::Fifo, b"", None), "named pipe");
}

#[test]
fn symlinks_already_in_the_data_are_not_followed() {
    let t = tempfile::tempdir().expect("tempdir");
    let outside = t.path().join("outside");
    fs::create_dir_all(&outside).expect("mkdir");
    let dst = t.path().join("dst");
    fs::create_dir_all(&dst).expect("mkdir");
    std::os::unix::fs::symlink(&outside, dst.join("link")).expect("symlink");
    let file = t.path().join("b.tar.gz");
    archive(
        &file,
        &[raw_entry("link/x", EntryType::Regular, b"evil", None)],
    );
    let err = restore(&file, &dst).expect_err("refused").to_string();
    assert!(err.contains("symbolic link"), "{err}");
    assert!(!outside.join("x").exists());
}

#[test]
fn entries_that_contradict_each_other_or_the_data_are_refused() {
    let t = tempfile::tempdir().expect("tempdir");
    let file = t.path().join("b.tar.gz");
    archive(
        &file,
        &[
            raw_entry("a", EntryType::Regular, b"file", None),
            raw_entry("a/b", EntryType::Regular, b"under a file", None),
        ],
    );
    let dst = t.path().join("dst");
    let err = restore(&file, &dst).expect_err("refused").to_string();
    assert!(err.contains("conflicts"), "{err}");
    assert!(!dst.join("a").exists());

    let file = t.path().join("c.tar.gz");
    archive(&file, &[raw_entry("dir", EntryType::Regular, b"x", None)]);
    fs::create_dir_all(dst.join("dir")).expect("mkdir");
    let err = restore(&file, &dst).expect_err("refused").to_string();
    assert!(err.contains("would replace a directory"), "{err}");
}

#[test]
fn garbage_is_a_failed_restore_not_a_panic() {
    let t = tempfile::tempdir().expect("tempdir");
    let file = t.path().join("junk.tar.gz");
    fs::write(&file, b"\x1f\x8bthis is not gzip").expect("write");
    let err = restore(&file, &t.path().join("dst"))
        .expect_err("refused")
        .to_string();
    assert!(err.contains("archive"), "{err}");
}

/// Everything in `root` and beside it (the staging directory would be a sibling).
fn siblings(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(root.parent().expect("parent"))
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_entry_declaring_more_than_the_budget_is_refused_before_a_byte_is_unpacked() {
    let t = tempfile::tempdir().expect("tempdir");
    let dst = t.path().join("svc");
    write(&dst, "kept.txt", b"old");
    // A header that claims 100 GiB, with no data behind it: refused on the header alone.
    let (mut header, _) = raw_entry("huge.bin", EntryType::Regular, b"", None);
    header.set_size(100 << 30);
    header.set_cksum();
    let file = t.path().join("bomb.tar.gz");
    let mut gz = GzEncoder::new(
        fs::File::create(&file).expect("create"),
        Compression::fast(),
    );
    gz.write_all(header.as_bytes()).expect("header");
    gz.finish().expect("gzip");
    let err = restore(&file, &dst).expect_err("refused").to_string();
    assert!(err.contains("decompression bomb"), "{err}");
    assert!(err.contains("100.0 GiB and counting"), "{err}");
    assert_eq!(
        listing(&dst),
        vec![("kept.txt".to_owned(), b"old".to_vec())]
    );
    assert_eq!(siblings(&dst), ["bomb.tar.gz", "svc"]);
}

#[test]
fn a_stale_staging_directory_is_cleared_and_none_is_left_after_a_restore() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = t.path().join("src");
    write(&src, "a/b.txt", b"new");
    let file = t.path().join("b.tar.gz");
    backup_to(&src, &file, true);
    let dst = t.path().join("svc");
    // Left by a sandbox killed mid-restore.
    write(&t.path().join(".svc.restore-staging.tmp"), "0", b"half");
    let summary = restore(&file, &dst).expect("restored");
    assert_eq!(summary.files, 1);
    assert_eq!(
        listing(&dst),
        vec![
            ("a/".to_owned(), Vec::new()),
            ("a/b.txt".to_owned(), b"new".to_vec())
        ]
    );
    assert_eq!(siblings(&dst), ["b.tar.gz", "src", "svc"]);
}

#[test]
fn a_damaged_archive_changes_nothing_and_leaves_nothing_behind() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = t.path().join("src");
    write(&src, "one.txt", b"first file");
    write(&src, "two.bin", &[9u8; 200_000]);
    let whole = t.path().join("whole.tar.gz");
    backup_to(&src, &whole, true);
    let bytes = fs::read(&whole).expect("read");
    let cut = t.path().join("cut.tar.gz");
    fs::write(&cut, &bytes[..bytes.len() - 64]).expect("write");
    let dst = t.path().join("svc");
    write(&dst, "one.txt", b"old");
    restore(&cut, &dst).expect_err("a cut archive is refused");
    assert_eq!(listing(&dst), vec![("one.txt".to_owned(), b"old".to_vec())]);
    assert_eq!(siblings(&dst), ["cut.tar.gz", "src", "svc", "whole.tar.gz"]);
}
