//! Data through the building blocks: the restore-to-new-service recipe by hand (volume `files`
//! into `scratch`), restore on top of existing data, and downloads cut mid-stream.

use std::path::Path;

use setops_migrate::api::Faults;

use crate::common::{TestSandbox, restore_hint};
use crate::{entries, mode, seeded_backup, sha256_file, tree, tree_diff, wait_while_status};

/// Downloads `files`' seeded backup into `cwd`, uploads it to `scratch`, restores it there and
/// waits until `backup` no longer shows it RESTORING. Returns the scratch backup ID.
fn copy_files_into_scratch(sb: &TestSandbox, cwd: &Path) -> String {
    let b = seeded_backup(sb, "files");
    sb.cmd()
        .current_dir(cwd)
        .args(["--service", "files", "backup:download", &b.id])
        .expect(0)
        .stdout_has(format!("{}.tar.gz completed", b.id))
        .run();
    let file = format!("{}.tar.gz", b.id);
    let uploaded = sb
        .cmd()
        .current_dir(cwd)
        .args(["--service", "scratch", "-o", "json", "backup:upload", &file])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let id = uploaded["id"].as_str().expect("id").to_owned();
    sb.cmd()
        .args(["--service", "scratch", "backup:restore", &id])
        .expect(0)
        .stdout_has("RESTORING")
        .stderr(&restore_hint(&id))
        .run();
    assert_eq!(
        wait_while_status(sb, "scratch", &id, "RESTORING"),
        "CREATED"
    );
    id
}

#[test]
fn a_volume_copied_through_download_upload_and_restore_is_identical() {
    let sb = TestSandbox::start();
    let source = tree(&sb.data_dir("files"));
    assert!(
        source.values().filter(|v| v.is_some()).count() >= 100,
        "the demo volume has files"
    );
    assert!(
        tree(&sb.data_dir("scratch")).is_empty(),
        "scratch starts empty"
    );

    let cwd = tempfile::tempdir().expect("tempdir");
    let id = copy_files_into_scratch(&sb, cwd.path());

    let copy = tree(&sb.data_dir("scratch"));
    let diff = tree_diff(&source, &copy);
    assert!(
        diff.is_empty(),
        "files and scratch differ after the restore:\n{}",
        diff.join("\n")
    );
    sb.cmd()
        .args(["--service", "scratch", "backup:info", &id])
        .expect(0)
        .stdout_has("succeeded")
        .run();
}

#[test]
fn a_restore_keeps_the_data_already_there() {
    let sb = TestSandbox::start();
    let scratch = sb.data_dir("scratch");
    std::fs::create_dir_all(scratch.join("mine")).expect("mkdir");
    std::fs::write(
        scratch.join("mine/keep.txt"),
        b"was here before the restore",
    )
    .expect("write");

    let cwd = tempfile::tempdir().expect("tempdir");
    copy_files_into_scratch(&sb, cwd.path());

    assert_eq!(
        std::fs::read(scratch.join("mine/keep.txt")).expect("the extra file survives"),
        b"was here before the restore"
    );
    // ... and everything from the backup arrived on top of it.
    let mut after = tree(&scratch);
    after.remove(Path::new("mine/keep.txt"));
    after.remove(Path::new("mine"));
    let diff = tree_diff(&tree(&sb.data_dir("files")), &after);
    assert!(diff.is_empty(), "{}", diff.join("\n"));
}

#[test]
fn a_download_cut_once_resumes_by_itself_and_matches_a_clean_download() {
    let sb = TestSandbox::start();
    let b = seeded_backup(&sb, "files");
    let clean = tempfile::tempdir().expect("tempdir");
    sb.cmd()
        .current_dir(clean.path())
        .args(["--service", "files", "backup:download", &b.id])
        .expect(0)
        .stdout_has(format!("{}.tar.gz completed", b.id))
        .run();
    let name = format!("{}.tar.gz", b.id);

    sb.faults(&Faults {
        cut_download_after: Some(100_000),
        cut_download_next: Some(1),
        ..Faults::default()
    });
    let cwd = tempfile::tempdir().expect("tempdir");
    let json = sb
        .cmd()
        .current_dir(cwd.path())
        .args(["--service", "files", "-o", "json", "backup:download", &b.id])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    assert!(
        json["resumed_from"].as_u64().expect("resumed_from") > 0,
        "the retry resumed: {json}"
    );
    let checksum = format!("{name}.sha256");
    assert_eq!(entries(cwd.path()), [name.as_str(), checksum.as_str()]);
    assert_eq!(
        std::fs::read(cwd.path().join(&name)).expect("read"),
        std::fs::read(clean.path().join(&name)).expect("read"),
        "the resumed file differs from a clean download"
    );
}

#[test]
fn a_download_cut_more_often_than_retried_keeps_its_partial_and_resumes_next_time() {
    let sb = TestSandbox::start();
    let b = seeded_backup(&sb, "files");
    let name = format!("{}.tar.gz", b.id);
    let partial = format!("{name}.partial");
    sb.faults(&Faults {
        cut_download_after: Some(100_000),
        cut_download_next: Some(50),
        ..Faults::default()
    });
    let cwd = tempfile::tempdir().expect("tempdir");
    let ran = sb
        .cmd()
        .current_dir(cwd.path())
        .args(["--service", "files", "backup:download", &b.id])
        .expect(1)
        .any_stdout()
        // A failed download says why.
        .stderr_has(format!("error: download of backup {}", b.id))
        .run();
    assert!(
        !ran.stderr.contains("/transfer/"),
        "the transfer URL leaked:\n{}",
        ran.stderr
    );
    // The partial file stays, with its resume record beside it; no final file appears.
    let sidecar = format!("{partial}.json");
    assert_eq!(
        entries(cwd.path()),
        [partial.as_str(), sidecar.as_str()],
        "only the partial file stays"
    );
    assert_eq!(mode(&cwd.path().join(&partial)), 0o600);
    assert_eq!(mode(&cwd.path().join(&sidecar)), 0o600);
    let kept = std::fs::metadata(cwd.path().join(&partial))
        .expect("partial")
        .len();
    assert!(
        kept > 0 && kept < b.size.expect("size"),
        "partial holds {kept} bytes"
    );

    sb.faults(&Faults {
        cut_download_next: Some(0),
        ..Faults::default()
    });
    let json = sb
        .cmd()
        .current_dir(cwd.path())
        .args(["--service", "files", "-o", "json", "backup:download", &b.id])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let resumed = json["resumed_from"].as_u64().expect("resumed_from");
    assert!(
        resumed > 0,
        "the second run resumed from the partial: {json}"
    );
    assert_eq!(
        resumed, kept,
        "resumed from {resumed}, the partial held {kept}"
    );
    let checksum = format!("{name}.sha256");
    assert_eq!(
        entries(cwd.path()),
        [name.as_str(), checksum.as_str()],
        "the partial became the file, its checksum beside it"
    );
    assert_eq!(Some(sha256_file(&cwd.path().join(&name))), b.sha256);
}
