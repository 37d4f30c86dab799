//! `--print-url`: the one place a pre-signed transfer URL is shown, and only when asked for.

use crate::common::TestSandbox;
use crate::{backups, entries, seeded_backup};

#[test]
fn print_url_prints_a_command_or_with_plain_only_the_url() {
    let sb = TestSandbox::start();
    let b = seeded_backup(&sb, "media");
    let cwd = tempfile::tempdir().expect("tempdir");
    let download = |extra: &[&str], stderr: &str| {
        sb.cmd()
            .current_dir(cwd.path())
            .args([
                "--service",
                "media",
                "backup:download",
                &b.id,
                "--print-url",
            ])
            .args(extra)
            .expect(0)
            .any_stdout()
            .stderr_has(stderr)
            .run()
    };

    // Human: the command alone on stdout, the warning about the URL on stderr.
    let human = download(&[], "the URL is a credential, do not share it");
    assert_eq!(human.stdout.lines().count(), 1, "{}", human.stdout);
    let curl = human.stdout.trim_end();
    assert!(curl.starts_with("curl "), "{curl}");
    assert!(curl.contains(&format!("{}/transfer/", sb.url)), "{curl}");

    let plain = download(&["-o", "plain"], "");
    assert_eq!(plain.stderr, "", "plain prints no hint");
    assert_eq!(
        plain.stdout.lines().count(),
        1,
        "only the URL:\n{}",
        plain.stdout
    );
    let url = plain.stdout.trim_end();
    assert!(url.starts_with("http"), "{url}");
    assert!(!url.contains(' '), "{url}");
    // The printed URL is a working download URL for an external tool.
    let body = reqwest::blocking::get(url)
        .expect("GET the printed URL")
        .bytes()
        .expect("body");
    assert_eq!(
        Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body))),
        b.sha256
    );

    let json = download(&["-o", "json"], "").json();
    assert!(json["url"].as_str().expect("url").starts_with("http"));
    assert_eq!(json["filename"], format!("{}.tar.gz", b.id).as_str());
    assert!(
        entries(cwd.path()).is_empty(),
        "--print-url downloads nothing"
    );

    // Upload: a command for humans, the URL alone for scripts.
    sb.cmd()
        .current_dir(cwd.path())
        .args(["--service", "media", "backup:download", &b.id])
        .expect(0)
        .stdout_has(format!("{}.tar.gz completed", b.id))
        .run();
    let file = format!("{}.tar.gz", b.id);
    let upload = |extra: &[&str], stderr: &str| {
        sb.cmd()
            .current_dir(cwd.path())
            .args([
                "--service",
                "scratch",
                "backup:upload",
                &file,
                "--print-url",
            ])
            .args(extra)
            .expect(0)
            .any_stdout()
            .stderr_has(stderr)
            .run()
    };
    let human = upload(&[], "the URL is a credential, do not share it");
    assert_eq!(human.stdout.lines().count(), 1, "{}", human.stdout);
    assert!(
        human.stdout.starts_with("curl ")
            && human.stdout.contains("PUT")
            && human.stdout.contains("/transfer/"),
        "no upload command:\n{}",
        human.stdout
    );
    let plain = upload(&["-o", "plain"], "");
    assert_eq!(plain.stderr, "", "plain prints no hint");
    assert_eq!(
        plain.stdout.lines().count(),
        1,
        "only the URL:\n{}",
        plain.stdout
    );
    assert!(plain.stdout.starts_with("http"), "{}", plain.stdout);
}

#[test]
fn transfer_urls_are_printed_only_when_asked_for() {
    let sb = TestSandbox::start();
    let b = seeded_backup(&sb, "media");
    let cwd = tempfile::tempdir().expect("tempdir");
    for args in [
        vec!["--service", "media", "backup:download", b.id.as_str()],
        vec![
            "--service",
            "media",
            "-o",
            "plain",
            "backup:download",
            b.id.as_str(),
            "-f",
        ],
        vec![
            "--service",
            "media",
            "-o",
            "json",
            "backup:download",
            b.id.as_str(),
            "-f",
        ],
    ] {
        let ran = sb
            .cmd()
            .current_dir(cwd.path())
            .args(&args)
            .expect(0)
            .any_stdout()
            .run();
        for out in [&ran.stdout, &ran.stderr] {
            assert!(
                !out.contains("/transfer/"),
                "{args:?} printed a transfer URL:\n{out}"
            );
            assert!(!out.contains(&sb.token), "{args:?} printed the token");
        }
    }
}

/// An upload allocated with `--print-url` is not a backup yet: `backup` keeps to the document's
/// three states and lists it only once its bytes arrived (then CREATED, with its size); until
/// then only its ID reaches it.
#[test]
fn a_print_url_upload_is_listed_only_once_its_bytes_arrive() {
    let sb = TestSandbox::start();
    let b = seeded_backup(&sb, "files");
    let cwd = tempfile::tempdir().expect("tempdir");
    sb.cmd()
        .current_dir(cwd.path())
        .args([
            "--service",
            "files",
            "-o",
            "plain",
            "backup:download",
            &b.id,
        ])
        .expect(0)
        .any_stdout()
        .run();
    let file = cwd.path().join(format!("{}.tar.gz", b.id));
    let listed = |sb: &TestSandbox| {
        sb.cmd()
            .args(["--service", "scratch", "backup"])
            .expect(0)
            .any_stdout()
            .run()
            .stdout
    };
    let before = listed(&sb);

    let ticket = sb
        .cmd()
        .args([
            "--service",
            "scratch",
            "-o",
            "json",
            "backup:upload",
            file.to_str().expect("utf-8 path"),
            "--print-url",
        ])
        .expect(0)
        .any_stdout()
        .run()
        .json();
    let id = ticket["backup"]["id"].as_str().expect("id").to_owned();
    let url = ticket["url"].as_str().expect("url").to_owned();
    let sha = ticket["sha256"].as_str().expect("sha256").to_owned();

    assert_eq!(listed(&sb), before, "an allocation is not listed");
    assert!(!backups(&sb, "scratch").iter().any(|r| r.id == id));
    sb.cmd()
        .args(["--service", "scratch", "backup:info", &id])
        .expect(0)
        .stdout_has("UPLOADING")
        .run();

    // The external uploader sends the bytes: now it is a backup like any other.
    let response = reqwest::blocking::Client::new()
        .put(&url)
        .header(setops_migrate::api::SHA256_HEADER, sha)
        .body(std::fs::read(&file).expect("read"))
        .send()
        .expect("PUT the printed URL");
    assert!(response.status().is_success(), "{}", response.status());
    let row = backups(&sb, "scratch")
        .into_iter()
        .find(|r| r.id == id)
        .expect("listed once uploaded");
    assert_eq!(row.status, "CREATED");
    assert_eq!(row.size, b.size);
}
