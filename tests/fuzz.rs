//! Fuzzing on stable Rust: proptest-driven loops over everything that reads untrusted input
//! without the sandbox: plan loading, journal loading, archive sniffing and the setops CLI
//! output parsers. (Archive extraction is fuzzed inside the crate, `sandbox::engines::fuzz`.)
//!
//! `cargo test` runs a short bounded pass (a few hundred inputs per target). For a long run:
//! `FUZZ_CASES=100000 cargo test --test fuzz -- --nocapture`, or scripts/fuzz, which
//! runs every target and adds up executions and crashes. `FUZZ_SEED` replays a run.

#[path = "fuzz/harness.rs"]
mod harness;
#[path = "fuzz/mutate.rs"]
mod mutate;

use std::io::Write;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use setops_migrate::formats::{check_for_type, check_head_for_type, sniff};
use setops_migrate::migrate::journal::{Fact, Journal, MigrationStep, OpenRequest, PlanStep};
use setops_migrate::migrate::{journal, status};
use setops_migrate::model::ServiceType;
use setops_migrate::plan::{Plan, load_plan};
use setops_migrate::platform::PlatformIdentity;
use setops_migrate::platform::setops_cli::StageDefinition;
use setops_migrate::platform::setops_cli::parse::{self, ParseError};

use harness::{ensure, fuzz};
use mutate::input;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// No message the tool prints for bad input may be longer than this: values are quoted cut.
const MAX_MESSAGE: usize = 4096;

// --- plans ------------------------------------------------------------------------------------

fn plan_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = vec![
        b"version: 1\nproject: shop\nstage: production\ndefaults:\n  backup: latest\n  \
          wait_timeout: 2h\nmigrations:\n  - source: database\n    target: database13\n    \
          type: postgresql13\n    plan: db.t3.micro\n    options: {min_storage: \"50\", \
          extensions: ~}\n    relink:\n      - {app: web, env_key: DATABASE_URL}\n  - target: \
          uploads2\n    type: volume\n    backup: file:uploads.tar.gz\n    relink: [{app: web, \
          path: /uploads, read_only: true}]\n"
            .to_vec(),
        b"version: 1\nproject: shop\nstage: production\nmigrations:\n  - source: files\n    \
          target: files2\n    backup: fresh\n    relink: none\n"
            .to_vec(),
    ];
    for dir in ["plans/examples", "tests/plans/broken"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
            .expect("plan directory")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        paths.sort();
        seeds.extend(paths.iter().map(|p| std::fs::read(p).expect("plan")));
    }
    seeds
}

#[test]
fn fuzz_plan_loading() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        repo().join("tests/plans/broken/fixtures/uploads.tar.gz"),
        dir.path().join("uploads.tar.gz"),
    )
    .expect("fixture");
    let path = dir.path().join("plan.yaml");
    std::fs::write(&path, &plan_seeds()[0]).expect("write");
    assert!(load_plan(&path).is_ok(), "the first seed is a valid plan");
    fuzz("plan_loading", 400, input(plan_seeds(), 2048), |bytes| {
        std::fs::write(&path, &bytes).expect("write plan");
        match load_plan(&path) {
            Ok(plan) => ensure(!plan.migrations.is_empty(), || {
                "a plan without migrations".into()
            }),
            Err(issues) => {
                ensure(!issues.is_empty(), || "rejected without an issue".into())?;
                for issue in &issues {
                    let text = issue.to_string();
                    ensure(issue.file == path, || {
                        format!("issue names another file: {text}")
                    })?;
                    ensure(!issue.rule.is_empty(), || "an issue without a rule".into())?;
                    ensure(text.len() < MAX_MESSAGE, || {
                        format!("a {} byte issue: {}", text.len(), &text[..200])
                    })?;
                }
                Ok(())
            }
        }
    });
}

// --- journals ---------------------------------------------------------------------------------

struct JournalWorld {
    _dir: tempfile::TempDir,
    plan: Plan,
    /// The journal's file name in a state directory.
    name: std::ffi::OsString,
    seeds: Vec<Vec<u8>>,
}

fn platform() -> PlatformIdentity {
    PlatformIdentity::Sandbox {
        instance: "fuzz".into(),
    }
}

fn open(state: &Path, plan: &Plan) -> Result<Journal, journal::JournalError> {
    Journal::open(OpenRequest {
        state_dir: state,
        plan,
        platform: platform(),
        endpoint: "http://127.0.0.1:4000".into(),
        restart: false,
    })
}

/// A plan and real journals of it: fresh, and with records of every kind a run writes.
fn journal_world() -> JournalWorld {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan_path = dir.path().join("plan.yaml");
    std::fs::write(&plan_path, &plan_seeds()[1]).expect("plan");
    let plan = load_plan(&plan_path).expect("valid plan");
    let state = dir.path().join("seed-state");
    let mut j = open(&state, &plan).expect("fresh journal");
    let fresh = std::fs::read(j.path()).expect("journal");
    let id = uuid::Uuid::from_u128(0x6a6f_cd7a_7063_4cb4_a748_8f76_5eea_39a2);
    let target = "files2";
    j.intent(
        &MigrationStep::BackupCreate.of(target),
        Fact::BackupCreate {
            before: vec![id],
            backup_id: None,
        },
    )
    .expect("record");
    j.done(
        &MigrationStep::Download.of(target),
        Fact::Downloaded {
            size: 1234,
            sha256: "ab".repeat(32),
        },
    )
    .expect("record");
    j.intent(
        &MigrationStep::Upload.of(target),
        Fact::Upload {
            upload_id: Some(id),
            sha256: "cd".repeat(32),
            known_before: Some(vec![id]),
        },
    )
    .expect("record");
    j.done(
        &PlanStep::CommitTargets.key(),
        Fact::Commit {
            commit_id: Some(id),
        },
    )
    .expect("record");
    j.done(
        &PlanStep::Relink.key(),
        Fact::Relinked {
            moved: 2,
            unfrozen_at_ms: None,
        },
    )
    .expect("record");
    j.set_finished(true).expect("record");
    let name = j.path().file_name().expect("file name").to_owned();
    let full = std::fs::read(j.path()).expect("journal");
    drop(j);
    JournalWorld {
        _dir: dir,
        plan,
        name,
        seeds: vec![fresh, full],
    }
}

#[test]
fn fuzz_journal_loading() {
    let world = journal_world();
    let scratch = tempfile::tempdir().expect("tempdir");
    let counter = std::cell::Cell::new(0u64);
    fuzz(
        "journal_loading",
        300,
        input(world.seeds.clone(), 4096),
        |bytes| {
            counter.set(counter.get() + 1);
            let state = scratch.path().join(counter.get().to_string());
            std::fs::create_dir(&state).expect("state dir");
            std::fs::write(state.join(&world.name), &bytes).expect("write journal");
            // `status` reads every journal of the plan; `run` opens the one of its platform.
            let found =
                journal::find_for_plan(&state, &world.plan.path).expect("state dir readable");
            ensure(found.len() == 1, || {
                format!("{} journals found", found.len())
            })?;
            let read = status::read(&state, &world.plan.path);
            let opened = open(&state, &world.plan);
            match (&found[0].data, &opened) {
                (Err(why), _) => ensure(why.len() < MAX_MESSAGE, || {
                    format!("a {} byte reason", why.len())
                })?,
                (Ok(_), _) => ensure(read.is_ok(), || "status refused a readable journal".into())?,
            }
            if let Ok(j) = opened {
                // What this version opened, it saved; it must open again.
                drop(j);
                let again = open(&state, &world.plan);
                ensure(again.is_ok(), || {
                    format!("a saved journal does not reopen: {:?}", again.err())
                })?;
            }
            let _ = std::fs::remove_dir_all(&state);
            Ok(())
        },
    );
}

// --- archive sniffing -------------------------------------------------------------------------

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn tar_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        if header.set_path(name).is_err() {
            continue;
        }
        header.set_cksum();
        let _ = builder.append(&header, data.as_slice());
    }
    builder.into_inner().unwrap_or_default()
}

/// Heads of every known format and near misses.
fn archive_input() -> impl Strategy<Value = Vec<u8>> {
    let blob = || prop::collection::vec(any::<u8>(), 0..600);
    let entries = prop::collection::vec(
        ("[a-z./]{1,20}", prop::collection::vec(any::<u8>(), 0..300)),
        0..4,
    );
    let formed = prop_oneof![
        blob(),
        blob().prop_map(|b| [b"PGDMP".as_slice(), &b].concat()),
        (blob(), "[0-9x]{4}").prop_map(|(b, v)| [b"REDIS".as_slice(), v.as_bytes(), &b].concat()),
        blob().prop_map(|b| [b"PK\x03\x04".as_slice(), &b].concat()),
        blob().prop_map(|b| gzip(&b)),
        blob().prop_map(|b| gzip(
            &[0x6d, 0xe2, 0x99, 0x81]
                .iter()
                .copied()
                .chain(b)
                .collect::<Vec<_>>()
        )),
        entries.prop_map(|e| gzip(&tar_of(&e))),
        "(--|SET |CREATE |COPY )[ -~\n]{0,200}".prop_map(String::into_bytes),
    ];
    formed.prop_flat_map(|seed| input(vec![seed], 64))
}

#[test]
fn fuzz_archive_sniffing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("backup");
    fuzz("archive_sniffing", 500, archive_input(), |bytes| {
        std::fs::write(&path, &bytes).expect("write");
        let format = sniff(&path).expect("a readable file is sniffed");
        ensure(!format.describe().is_empty(), || {
            "an empty description".into()
        })?;
        for t in ServiceType::ALL {
            // The path and the bytes entry points must judge a file the same way.
            let by_path = check_for_type(&path, t).expect("readable");
            let by_head = check_head_for_type(&bytes, t);
            ensure(by_path.is_ok() == by_head.is_ok(), || {
                format!("{t}: {by_path:?} vs {by_head:?}")
            })?;
            if let (Ok(a), Ok(b)) = (&by_path, &by_head) {
                ensure(a == b, || format!("{t}: {a:?} vs {b:?}"))?;
                ensure(*a == format, || {
                    format!("{t}: {a:?} but sniffed {format:?}")
                })?;
            }
        }
        Ok(())
    });
}

// --- setops CLI output ------------------------------------------------------------------------

/// The documented outputs the in-crate parser tests use, read from their source file so the two
/// sets never drift apart.
fn cli_seeds() -> Vec<Vec<u8>> {
    let source = include_str!("../src/platform/setops_cli/parse/tests/doc_samples.rs");
    let mut seeds = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("r#\"") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("\"#") else { break };
        seeds.push(after.as_bytes()[..end].to_vec());
        rest = &after[end + 2..];
    }
    seeds.push(
        b"https://bucket.s3.eu-central-1.amazonaws.com/b/x.psqlcustom?X-Amz-Signature=1\n".to_vec(),
    );
    assert!(seeds.len() >= 10, "{} samples found", seeds.len());
    seeds
}

type Parser = fn(&str) -> Result<(), ParseError>;

fn parsers() -> Vec<Parser> {
    vec![
        |s| parse::parse_version(s).map(drop),
        |s| parse::parse_backup_list(s).map(drop),
        |s| parse::parse_backup_create(s).map(drop),
        |s| parse::parse_backup_info(s).map(drop),
        |s| parse::parse_backup_restore(s).map(drop),
        |s| parse::parse_backup_destroy(s).map(drop),
        |s| parse::parse_backup_download(s).map(drop),
        |s| parse::parse_backup_upload(s).map(drop),
        |s| parse::parse_download_url(s).map(drop),
        |s| parse::parse_upload_url(s).map(drop),
        |s| parse::parse_service_list(s).map(drop),
        |s| parse::parse_service_info(s).map(drop),
        |s| parse::parse_link_list("web", s).map(drop),
        |s| parse::parse_changeset_info(s).map(drop),
        |s| parse::parse_changeset_commit(s).map(drop),
        |s| parse::parse_login_info(s).map(drop),
        |s| parse::parse_env_list(s).map(drop),
    ]
}

#[test]
fn fuzz_setops_cli_parsers() {
    let parsers = parsers();
    fuzz(
        "setops_cli_parsers",
        500,
        input(cli_seeds(), 1024),
        |bytes| {
            let text = String::from_utf8_lossy(&bytes);
            let lines = text.split('\n').count();
            for parse in &parsers {
                if let Err(e) = parse(&text) {
                    let shown = e.to_string();
                    ensure(!e.command().is_empty(), || format!("no command: {shown}"))?;
                    ensure(e.line() >= 1 && e.line() <= lines + 1, || {
                        format!("line {} of {lines}: {shown}", e.line())
                    })?;
                    ensure(shown.len() < MAX_MESSAGE, || {
                        format!("a {} byte error", shown.len())
                    })?;
                }
            }
            let _ = StageDefinition::parse(&text);
            for word in text.split_whitespace().take(8) {
                let _ = parse::parse_size(word);
                let _ = parse::parse_timestamp(word);
                let _ = parse::parse_uuid(word);
                let _ = parse::parse_status(word);
            }
            Ok(())
        },
    );
}
