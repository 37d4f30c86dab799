use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;
use crate::plan::{Plan, load_plan};

fn sandbox(id: &str) -> PlatformIdentity {
    PlatformIdentity::Sandbox {
        instance: id.into(),
    }
}

fn write_plan(dir: &Path, target: &str) -> Plan {
    let path = dir.join("plan.yaml");
    std::fs::write(
        &path,
        format!(
            "version: 1\nproject: shop\nstage: production\nmigrations:\n  - source: files\n    target: {target}\n"
        ),
    )
    .unwrap();
    load_plan(&path).unwrap()
}

fn open(
    dir: &Path,
    plan: &Plan,
    platform: PlatformIdentity,
    restart: bool,
) -> Result<Journal, JournalError> {
    Journal::open(OpenRequest {
        state_dir: &dir.join("state"),
        plan,
        platform,
        endpoint: "http://127.0.0.1:4000".into(),
        restart,
    })
}

fn journal_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir.join("state"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    out.sort();
    out
}

#[test]
fn typed_records_survive_reopen_and_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "files2");
    let mut j = open(dir.path(), &plan, sandbox("a"), false).unwrap();
    let upload = uuid::Uuid::new_v4();
    j.intent(
        &MigrationStep::Upload.of("files2"),
        Fact::Upload {
            upload_id: Some(upload),
            sha256: "ab".into(),
            known_before: None,
        },
    )
    .unwrap();
    j.done(
        &PlanStep::Relink.key(),
        Fact::Relinked {
            moved: 2,
            unfrozen_at_ms: None,
        },
    )
    .unwrap();
    let path = j.path().to_path_buf();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    drop(j);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"upload:files2\""), "{text}");
    assert!(text.contains("\"fact\": \"upload\""), "{text}");
    let j = open(dir.path(), &plan, sandbox("a"), false).unwrap();
    let r = j.get(&MigrationStep::Upload.of("files2")).unwrap();
    assert_eq!(r.state, RecordState::Intent);
    assert_eq!(r.fact.upload_id(), Some(upload));
    assert_eq!(
        j.get(&PlanStep::Relink.key()).unwrap().fact,
        Fact::Relinked {
            moved: 2,
            unfrozen_at_ms: None,
        }
    );
}

#[test]
fn one_platform_one_journal_and_one_lock_whatever_its_url() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "files2");
    let held = open(dir.path(), &plan, sandbox("a"), false).unwrap();
    let err = match Journal::open(OpenRequest {
        state_dir: &dir.path().join("state"),
        plan: &plan,
        platform: sandbox("a"),
        endpoint: "http://localhost:9999".into(),
        restart: false,
    }) {
        Err(e) => e,
        Ok(_) => panic!("a second holder must be refused"),
    };
    assert!(matches!(err, JournalError::Locked { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    drop(held);
    // Another platform gets its own journal.
    let other = open(dir.path(), &plan, sandbox("b"), false).unwrap();
    drop(other);
    assert_eq!(journal_files(dir.path()).len(), 2);
}

#[test]
fn a_changed_plan_is_refused_with_the_change_unless_restart() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "files2");
    drop(open(dir.path(), &plan, sandbox("a"), false).unwrap());
    let changed = write_plan(dir.path(), "files3");
    let err = open(dir.path(), &changed, sandbox("a"), false)
        .err()
        .expect("refused");
    assert!(err.needs_decision(), "{err}");
    assert!(err.to_string().contains("files2"), "{err}");
    assert!(err.to_string().contains("--restart"), "{err}");
    let mut j = open(dir.path(), &changed, sandbox("a"), true).unwrap();
    assert_eq!(j.data().plan_hash, changed.content_hash);
    assert!(j.take_notes()[0].contains("moved to"));
    drop(j);
    let aside: Vec<_> = std::fs::read_dir(dir.path().join("state"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".replaced-"))
        .collect();
    assert_eq!(aside.len(), 1, "the old journal is kept aside");
}

#[test]
fn corrupt_truncated_or_foreign_journals_stop_with_the_way_out() {
    type Damage<'a> = &'a dyn Fn(&str) -> String;
    let cases: [(&str, Damage); 6] = [
        ("truncated", &|t| t[..t.len() / 2].to_owned()),
        // Over the 16 MiB a journal may hold: read no further than that.
        ("huge", &|t| format!("{t}{}", " ".repeat(17 << 20))),
        ("not json", &|_| "garbage\n".to_owned()),
        ("wrong shape", &|t| t.replace("\"steps\"", "\"stepz\"")),
        ("unknown step", &|t| t.replace("\"relink\"", "\"relunk\"")),
        ("newer format", &|t| {
            t.replace("\"format\": 2", "\"format\": 9")
        }),
    ];
    for (name, damage) in cases {
        let dir = tempfile::tempdir().unwrap();
        let plan = write_plan(dir.path(), "files2");
        let mut j = open(dir.path(), &plan, sandbox("a"), false).unwrap();
        j.done(
            &PlanStep::Relink.key(),
            Fact::Relinked {
                moved: 1,
                unfrozen_at_ms: None,
            },
        )
        .unwrap();
        let path = j.path().to_path_buf();
        drop(j);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, damage(&text)).unwrap();
        let err = open(dir.path(), &plan, sandbox("a"), false)
            .err()
            .unwrap_or_else(|| panic!("{name}: a damaged journal was used"));
        let msg = err.to_string();
        assert_eq!(
            crate::error::Error::from(err).exit_code(),
            3,
            "{name}: a damaged journal is a decision"
        );
        assert!(msg.contains("--restart"), "{name}: {msg}");
        assert!(
            msg.contains("Nothing was done on the platform"),
            "{name}: {msg}"
        );
        // --restart moves it aside and starts empty.
        let j = open(dir.path(), &plan, sandbox("a"), true).unwrap();
        assert!(j.data().steps.is_empty(), "{name}");
    }
}

#[test]
fn a_legacy_journal_of_the_same_origin_is_adopted_and_converted() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "files2");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let upload = uuid::Uuid::new_v4();
    let legacy = serde_json::json!({
        "format": 1,
        "key": {"endpoint": "http://localhost:4000", "project": "shop", "stage": "production"},
        "plan_path": plan.path.display().to_string(),
        "plan_hash": plan.content_hash,
        "plan": {},
        "run_id": "old",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "finished": false,
        "steps": {
            "commit-targets": {"state": "done", "started_at": "2026-01-01T00:00:00Z", "data": {"existing": true}},
            "upload:files2": {"state": "intent", "started_at": "2026-01-01T00:00:00Z", "data": {"upload_id": upload.to_string(), "sha256": "ab"}},
            "restore:files2": {"state": "intent", "started_at": "2026-01-01T00:00:00Z", "data": {"upload_id": upload.to_string()}}
        }
    });
    let old_path = state.join("plan-0123456789.json");
    std::fs::write(&old_path, serde_json::to_vec(&legacy).unwrap()).unwrap();
    // Another origin's legacy journal is not this platform's.
    let elsewhere = legacy
        .to_string()
        .replace("localhost:4000", "example.org:4000");
    std::fs::write(state.join("plan-abcdefabcd.json"), elsewhere).unwrap();

    let mut j = open(dir.path(), &plan, sandbox("a"), false).unwrap();
    assert!(j.take_notes()[0].contains("adopted"));
    assert_eq!(j.data().run_id, "old");
    assert_eq!(
        j.get(&MigrationStep::Restore.of("files2")).unwrap().fact,
        Fact::Restore { upload_id: upload }
    );
    assert_eq!(
        j.get(&PlanStep::CommitTargets.key()).unwrap().fact,
        Fact::TargetsExisted
    );
    assert!(!old_path.exists(), "the legacy file is replaced");
    assert!(state.join("plan-abcdefabcd.json").exists());
}

#[test]
fn status_finds_every_journal_of_a_plan_and_only_those() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "files2");
    drop(open(dir.path(), &plan, sandbox("a"), false).unwrap());
    drop(open(dir.path(), &plan, sandbox("b"), false).unwrap());
    std::fs::write(dir.path().join("state/plan-zz.json"), "{}").unwrap();
    std::fs::write(dir.path().join("state/other-0123456789.json"), "{}").unwrap();
    let found = find_for_plan(&dir.path().join("state"), &plan.path).unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|f| f.data.is_ok()));
}
