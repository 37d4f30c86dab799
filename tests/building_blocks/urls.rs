//! `--print-url`: the one place a pre-signed transfer URL is shown, and only when asked for.

use crate::common::TestSandbox;
use crate::{entries, seeded_backup};

#[test]
fn print_url_prints_a_command_or_with_plain_only_the_url() {
    let sb = TestSandbox::start();
    let b = seeded_backup(&sb, "media");
    let cwd = tempfile::tempdir().expect("tempdir");
    let download = |extra: &[&str]| {
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
            .run()
    };

    let human = download(&[]);
    let curl = human
        .stdout
        .lines()
        .find(|l| l.starts_with("curl "))
        .unwrap_or_else(|| panic!("no curl command:\n{}", human.stdout));
    assert!(curl.contains(&format!("{}/transfer/", sb.url)), "{curl}");

    let plain = download(&["-o", "plain"]);
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

    let json = download(&["-o", "json"]).json();
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
    let upload = |extra: &[&str]| {
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
            .run()
    };
    let human = upload(&[]);
    assert!(
        human
            .stdout
            .lines()
            .any(|l| l.starts_with("curl ") && l.contains("PUT") && l.contains("/transfer/")),
        "no upload command:\n{}",
        human.stdout
    );
    let plain = upload(&["-o", "plain"]);
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
