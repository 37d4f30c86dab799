//! `backup`, `backup:info`, `backup:create`, `backup:download`, `backup:upload`,
//! `backup:restore`, `backup:destroy` and `--print-url`, shaped like the Backup & Restore document.

use regex::Regex;
use setops_migrate::api::Faults;

use crate::common::{TestSandbox, restore_hint};
use crate::{
    backup_block, backups, entries, mode, parse_block, parse_table, seeded_backup, sha256_file,
    uuid_re, wait_while_status,
};

#[test]
fn backup_lists_the_documented_table() {
    let sb = TestSandbox::start();
    let b = seeded_backup(&sb, "files");
    let ran = sb
        .cmd()
        .args(["--service", "files", "backup"])
        .expect(0)
        .any_stdout()
        .run();
    let table = parse_table(&ran.stdout);
    assert_eq!(table.headers, ["ID", "STATUS", "CREATED AT", "SIZE"]);
    assert_eq!(table.rows.len(), 1, "{}", ran.stdout);
    let row = &table.rows[0];
    assert!(uuid_re().is_match(&row[0]), "{}", ran.stdout);
    assert_eq!(row[0], b.id);
    assert_eq!(row[1], "CREATED");
    assert_eq!(row[2], b.created_at_shown());
    assert!(
        Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            .expect("re")
            .is_match(&row[2])
    );
    // The seeded volume of ~300 files up to 64 KiB packs to a few MB.
    assert!(
        Regex::new(r"^\d+\.\d MB$").expect("re").is_match(&row[3]),
        "{}",
        ran.stdout
    );
    assert_eq!(row[3], b.size_shown());
    // SIZE is right-aligned, the other columns left-aligned.
    let raw = &table.raw_rows[0];
    assert_eq!(
        raw[3],
        format!("{:>w$} ", row[3], w = raw[3].len() - 1),
        "{}",
        ran.stdout
    );
    assert_eq!(
        raw[1],
        format!(" {:<w$}", row[1], w = raw[1].len() - 1),
        "{}",
        ran.stdout
    );

    let plain = sb
        .cmd()
        .args(["--service", "files", "-o", "plain", "backup"])
        .expect(0)
        .any_stdout()
        .run();
    assert_eq!(plain.stdout.lines().count(), 1, "{}", plain.stdout);
    assert!(plain.stdout.starts_with(&b.id), "{}", plain.stdout);
}

#[test]
fn backup_info_shows_the_backup_block() {
    let sb = TestSandbox::start();
    let b = seeded_backup(&sb, "media");
    let ran = sb
        .cmd()
        .args(["--service", "media", "backup:info", &b.id])
        .expect(0)
        .any_stdout()
        .run();
    let fields = parse_block(&ran.stdout);
    let expected = [
        ("ID", b.id.clone()),
        ("Status", "CREATED".to_owned()),
        ("Created At", b.created_at_shown()),
        ("Size", b.size_shown()),
    ];
    for (label, value) in expected {
        assert!(
            fields.iter().any(|(l, v)| l == label && *v == value),
            "no `{label}: {value}` in:\n{}",
            ran.stdout
        );
    }
    let json = sb
        .cmd()
        .args(["--service", "media", "-o", "json", "backup:info", &b.id])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    assert_eq!(json["id"], b.id.as_str());
    assert_eq!(json["status"], "CREATED");
    assert_eq!(json["size"].as_u64(), b.size);
}

#[test]
fn backup_create_prints_id_and_creating_then_the_backup_becomes_created() {
    let sb = TestSandbox::start();
    sb.faults(&Faults {
        backup_delay_ms: Some(1000),
        ..Faults::default()
    });
    let ran = sb
        .cmd()
        .args(["--service", "files", "backup:create"])
        .expect(0)
        .any_stdout()
        .run();
    let re = Regex::new(r"^ID:       ([0-9a-f-]{36})\nStatus:   CREATING\n$").expect("re");
    let id = re
        .captures(&ran.stdout)
        .unwrap_or_else(|| panic!("not the documented backup:create block:\n{}", ran.stdout))[1]
        .to_owned();
    let listed = backups(&sb, "files");
    assert!(
        listed.iter().any(|b| b.id == id && b.status == "CREATING"),
        "{listed:?}"
    );
    assert_eq!(wait_while_status(&sb, "files", &id, "CREATING"), "CREATED");
    let done = backups(&sb, "files")
        .into_iter()
        .find(|b| b.id == id)
        .expect("listed");
    assert!(done.size.is_some_and(|s| s > 0), "{done:?}");

    let json = sb
        .cmd()
        .args(["--service", "media", "-o", "json", "backup:create"])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    assert!(
        uuid_re().is_match(json["id"].as_str().expect("id")),
        "{json}"
    );
    assert_eq!(json["status"], "CREATING");
}

#[test]
fn backup_download_writes_a_private_file_and_never_overwrites_without_force() {
    let sb = TestSandbox::start();
    let b = seeded_backup(&sb, "files");
    let cwd = tempfile::tempdir().expect("tempdir");
    let name = format!("{}.tar.gz", b.id);
    let expected = format!(
        "{}\n\n✅  {name} completed ({}) with ID {}\n",
        backup_block(&b, "CREATED"),
        b.size_shown(),
        b.id
    );
    sb.cmd()
        .current_dir(cwd.path())
        .args(["--service", "files", "backup:download", &b.id])
        .expect(0)
        .stdout(&expected)
        .run();
    let file = cwd.path().join(&name);
    let checksum = format!("{name}.sha256");
    let both = [name.as_str(), checksum.as_str()];
    assert_eq!(
        entries(cwd.path()),
        both,
        "nothing but the backup file and its checksum"
    );
    assert_eq!(mode(&file), 0o600, "a downloaded dump is private");
    assert_eq!(
        std::fs::metadata(&file).expect("meta").len(),
        b.size.expect("size")
    );
    assert_eq!(Some(sha256_file(&file)), b.sha256);
    let checksum_file = cwd.path().join(&checksum);
    assert_eq!(mode(&checksum_file), 0o600);
    let text = std::fs::read_to_string(&checksum_file).expect("read checksum");
    assert!(
        text.ends_with(&format!("{}  {name}\n", b.sha256.as_deref().expect("sha"))),
        "sha256sum's format:\n{text}"
    );

    // Without -f an existing file is kept byte for byte.
    std::fs::write(&file, b"mine, not yours").expect("write");
    sb.cmd()
        .current_dir(cwd.path())
        .args(["--service", "files", "backup:download", &b.id])
        .expect(2)
        .stdout(&format!("{}\n", backup_block(&b, "CREATED")))
        .stderr_has("--force")
        .run();
    assert_eq!(std::fs::read(&file).expect("read"), b"mine, not yours");
    assert_eq!(entries(cwd.path()), both, "no partial file left behind");

    for force in ["-f", "--force"] {
        sb.cmd()
            .current_dir(cwd.path())
            .args(["--service", "files", "backup:download", &b.id, force])
            .expect(0)
            .stdout(&expected)
            .run();
        assert_eq!(
            Some(sha256_file(&file)),
            b.sha256,
            "{force} replaced the file"
        );
        assert_eq!(mode(&file), 0o600);
        assert_eq!(entries(cwd.path()), both);
    }

    let json = sb
        .cmd()
        .current_dir(cwd.path())
        .args([
            "--service",
            "files",
            "-o",
            "json",
            "backup:download",
            &b.id,
            "-f",
        ])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    assert_eq!(json["size"].as_u64(), b.size);
    assert_eq!(json["sha256"].as_str(), b.sha256.as_deref());
    assert_eq!(json["backup"]["id"], b.id.as_str());
    assert_eq!(json["resumed_from"], 0);
}

#[test]
fn backup_upload_restore_and_destroy_on_scratch() {
    let sb = TestSandbox::start();
    let source = seeded_backup(&sb, "media");
    let cwd = tempfile::tempdir().expect("tempdir");
    sb.cmd()
        .current_dir(cwd.path())
        .args(["--service", "media", "backup:download", &source.id])
        .expect(0)
        .stdout_has(format!("{}.tar.gz completed", source.id))
        .run();
    let file = format!("{}.tar.gz", source.id);
    let before: Vec<String> = backups(&sb, "scratch").into_iter().map(|b| b.id).collect();

    let ran = sb
        .cmd()
        .current_dir(cwd.path())
        .args(["--service", "scratch", "backup:upload", &file])
        .expect(0)
        .any_stdout()
        .run();
    let re = Regex::new(r"^✅ (\S+) completed \(([^)]+)\) with ID ([0-9a-f-]{36})\n$").expect("re");
    let caps = re
        .captures(&ran.stdout)
        .unwrap_or_else(|| panic!("not the documented upload line:\n{}", ran.stdout));
    assert_eq!(&caps[1], file);
    assert_eq!(&caps[2], source.size_shown());
    let new_id = caps[3].to_owned();
    assert!(uuid_re().is_match(&new_id));
    assert!(!before.contains(&new_id), "an upload makes a new backup");
    let uploaded = backups(&sb, "scratch")
        .into_iter()
        .find(|b| b.id == new_id)
        .expect("listed");
    assert_eq!(uploaded.status, "CREATED");
    assert_eq!(uploaded.size, source.size);
    assert_eq!(uploaded.sha256, source.sha256);

    // Stdout is the documented block and nothing else; the hint about waiting is on stderr.
    sb.cmd()
        .args(["--service", "scratch", "backup:restore", &new_id])
        .expect(0)
        .stdout(&format!("{}\n", backup_block(&uploaded, "RESTORING")))
        .stderr(&restore_hint(&new_id))
        .run();
    assert_eq!(
        wait_while_status(&sb, "scratch", &new_id, "RESTORING"),
        "CREATED"
    );

    sb.cmd()
        .args(["--service", "scratch", "backup:destroy", &new_id])
        .expect(0)
        .stdout(&format!("{}\n", backup_block(&uploaded, "CREATED")))
        .run();
    assert!(
        !backups(&sb, "scratch").iter().any(|b| b.id == new_id),
        "destroyed backup still listed"
    );
}

#[test]
fn json_output_of_upload_restore_and_destroy_parses() {
    let sb = TestSandbox::start();
    let source = seeded_backup(&sb, "files");
    let cwd = tempfile::tempdir().expect("tempdir");
    sb.cmd()
        .current_dir(cwd.path())
        .args(["--service", "files", "backup:download", &source.id])
        .expect(0)
        .stdout_has(format!("{}.tar.gz completed", source.id))
        .run();
    let file = format!("{}.tar.gz", source.id);
    let uploaded = sb
        .cmd()
        .current_dir(cwd.path())
        .args(["--service", "scratch", "-o", "json", "backup:upload", &file])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let id = uploaded["id"].as_str().expect("id").to_owned();
    assert_eq!(uploaded["status"], "CREATED");
    assert_eq!(uploaded["sha256"].as_str(), source.sha256.as_deref());

    let restoring = sb
        .cmd()
        .args(["--service", "scratch", "-o", "json", "backup:restore", &id])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    assert_eq!(restoring["id"], id.as_str());
    assert_eq!(restoring["status"], "RESTORING");
    wait_while_status(&sb, "scratch", &id, "RESTORING");

    let destroyed = sb
        .cmd()
        .args(["--service", "scratch", "-o", "json", "backup:destroy", &id])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    assert_eq!(destroyed["id"], id.as_str());
}

/// `backup:upload` takes the checksum `backup:download` left while the file's size and mtime
/// match it, and reads the file only to send it; a file changed since is hashed again.
#[test]
fn upload_reuses_a_matching_checksum_file_and_never_a_stale_one() {
    use std::os::unix::fs::MetadataExt;

    let sb = TestSandbox::start();
    let source = seeded_backup(&sb, "files");
    let cwd = tempfile::tempdir().expect("tempdir");
    sb.cmd()
        .current_dir(cwd.path())
        .args(["--service", "files", "backup:download", &source.id])
        .expect(0)
        .any_stdout()
        .run();
    let name = format!("{}.tar.gz", source.id);
    let file = cwd.path().join(&name);
    let checksum = cwd.path().join(format!("{name}.sha256"));
    // The record says another checksum for this very size and mtime: the upload believes it, so
    // the platform, which hashes what it receives, refuses the bytes.
    let meta = std::fs::metadata(&file).expect("meta");
    let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
    let forged = "ab".repeat(32);
    std::fs::write(
        &checksum,
        format!(
            "# size {} mtime_ns {mtime_ns}\n{forged}  {name}\n",
            meta.len()
        ),
    )
    .expect("write checksum");
    sb.cmd()
        .current_dir(cwd.path())
        .args(["--service", "scratch", "backup:upload", &name])
        .expect(2)
        .any_stdout()
        .stderr_has(forged.as_str())
        .run();

    // Touched since: the record is stale, the file is hashed again and the upload goes through.
    let f = std::fs::File::options()
        .write(true)
        .open(&file)
        .expect("open");
    f.set_modified(meta.modified().expect("mtime") + std::time::Duration::from_secs(1))
        .expect("touch");
    let uploaded = sb
        .cmd()
        .current_dir(cwd.path())
        .args(["--service", "scratch", "-o", "json", "backup:upload", &name])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    assert_eq!(uploaded["sha256"].as_str(), source.sha256.as_deref());
}

/// `-o plain` prints bare values, tab-separated, with no labels, emoji or words: `backup:create`
/// its block's two values, `backup:upload` and `backup:download` the values of the line they end
/// with (file, size, ID); stderr stays empty.
#[test]
fn plain_output_of_create_upload_and_download_is_bare_values() {
    let sb = TestSandbox::start();
    let ran = sb
        .cmd()
        .args(["--service", "files", "-o", "plain", "backup:create"])
        .expect(0)
        .any_stdout()
        .run();
    let created = Regex::new(r"^([0-9a-f-]{36})\tCREATING\n$").expect("re");
    let id = created
        .captures(&ran.stdout)
        .unwrap_or_else(|| panic!("not `ID<TAB>CREATING`: {:?}", ran.stdout))[1]
        .to_owned();
    assert!(uuid_re().is_match(&id));
    wait_while_status(&sb, "files", &id, "CREATING");
    let made = backups(&sb, "files")
        .into_iter()
        .find(|b| b.id == id)
        .expect("listed");

    let cwd = tempfile::tempdir().expect("tempdir");
    let file = format!("{id}.tar.gz");
    sb.cmd()
        .current_dir(cwd.path())
        .args(["--service", "files", "-o", "plain", "backup:download", &id])
        .expect(0)
        .stdout(&format!("{file}\t{}\t{id}\n", made.size_shown()))
        .run();
    assert_eq!(
        sha256_file(&cwd.path().join(&file)),
        made.sha256.clone().expect("sha256")
    );

    let ran = sb
        .cmd()
        .current_dir(cwd.path())
        .args([
            "--service",
            "scratch",
            "-o",
            "plain",
            "backup:upload",
            &file,
        ])
        .expect(0)
        .any_stdout()
        .run();
    let uploaded = Regex::new(&format!(
        r"^{}\t{}\t([0-9a-f-]{{36}})\n$",
        regex::escape(&file),
        regex::escape(&made.size_shown())
    ))
    .expect("re");
    let new_id = uploaded
        .captures(&ran.stdout)
        .unwrap_or_else(|| panic!("not `FILE<TAB>SIZE<TAB>ID`: {:?}", ran.stdout))[1]
        .to_owned();
    let up = backups(&sb, "scratch")
        .into_iter()
        .find(|b| b.id == new_id)
        .expect("the ID printed is the new backup's");
    assert_eq!(up.status, "CREATED");

    // The other one-backup results are bare too: the block's values on one line.
    sb.cmd()
        .args([
            "--service",
            "scratch",
            "-o",
            "plain",
            "backup:destroy",
            &new_id,
        ])
        .expect(0)
        .stdout(&format!(
            "{new_id}\tCREATED\t{}\t{}\n",
            up.created_at_shown(),
            up.size_shown()
        ))
        .run();
}
