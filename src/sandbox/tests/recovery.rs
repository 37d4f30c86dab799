//! The world survives restarts, and work in flight at a restart is finished or failed, never
//! left CREATING, RESTORING or RUNNING.

use reqwest::StatusCode;

use super::*;
use crate::model::{Changeset, RestoreOutcome, Service, codes};

#[tokio::test]
async fn state_persists_across_reopen() {
    let t = tempfile::tempdir().expect("tempdir");
    let sb = t.path().join("sb");
    let s = TestServer::start(t.path()).await;
    let done = s
        .commit_all(&[
            json!({"name": "service:create", "arguments": {"name": "files2", "type": "volume"}}),
        ])
        .await;
    assert_eq!(done.status, CommitStatus::Succeeded);
    let pending = json!({"name": "service:destroy", "arguments": {"name": "scratch"}});
    expect_json::<Changeset>(s.stage_command(&s.token, pending).await, StatusCode::OK).await;
    let backups = s.backups("files").await;
    let token = s.token.clone();
    s.stop().await;

    let s = TestServer::open(&sb, None).await;
    assert_eq!(s.token, token, "tokens survive a restart");
    let svc: Service = expect_json(
        s.get(&paths::service(&scope(), "files2")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(svc.service_type, crate::model::ServiceType::Volume);
    let cs: Changeset = expect_json(s.get(&paths::changeset(&scope())).await, StatusCode::OK).await;
    assert_eq!(cs.commands.len(), 1);
    assert_eq!(s.backups("files").await, backups);
    let c: Commit = expect_json(
        s.get(&paths::commit(&scope(), &done.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(c, done);
    s.stop().await;
}

#[tokio::test]
async fn a_restore_interrupted_by_a_restart_runs_again() {
    let t = tempfile::tempdir().expect("tempdir");
    let sb = t.path().join("sb");
    let s = TestServer::start(t.path()).await;
    s.faults(json!({"restore_delay_ms": 60_000})).await;
    let id = s.backups("files").await.remove(0).id.to_string();
    let data = s.data("files").await;
    let extra = data.join("added-after-backup.txt");
    std::fs::write(&extra, b"stays").expect("write");
    let victim = walk_any_file(&data);
    std::fs::remove_file(&victim).expect("remove");
    let r = s
        .post(&paths::backup_restore(&scope(), "files", &id), json!({}))
        .await;
    expect_json::<Backup>(r, StatusCode::ACCEPTED).await;
    s.stop().await;
    let on_disk = std::fs::read_to_string(sb.join("state.json")).expect("state");
    assert!(
        on_disk.contains("RESTORING"),
        "the restore was still waiting at shutdown"
    );

    let s = TestServer::open(&sb, None).await;
    s.faults(json!({"restore_delay_ms": 0})).await;
    let b = s
        .wait_backup("files", &id, |b| b.status != BackupStatus::Restoring)
        .await;
    let record = b.last_restore.expect("record");
    assert_eq!(record.outcome, RestoreOutcome::Succeeded, "{record:?}");
    assert!(victim.exists(), "the repeated restore put the file back");
    assert!(extra.exists(), "on top: nothing purged");
    s.stop().await;
}

fn walk_any_file(root: &Path) -> PathBuf {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("dir").flatten() {
            if e.file_type().expect("type").is_dir() {
                stack.push(e.path());
            } else if e.path().extension().is_some_and(|x| x != "txt") {
                return e.path();
            }
        }
    }
    panic!("no file under {}", root.display());
}

#[tokio::test]
async fn a_backup_interrupted_by_a_restart_is_created_after_it() {
    let t = tempfile::tempdir().expect("tempdir");
    let sb = t.path().join("sb");
    let s = TestServer::start(t.path()).await;
    s.faults(json!({"backup_delay_ms": 60_000})).await;
    let b: Backup = expect_json(
        s.post(&paths::backups(&scope(), "media"), json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    s.stop().await;
    let s = TestServer::open(&sb, None).await;
    s.faults(json!({"backup_delay_ms": 0})).await;
    let done = s.wait_created("media", &b.id.to_string()).await;
    assert!(done.size.is_some_and(|n| n > 0));
    s.stop().await;
}

#[tokio::test]
async fn a_commit_interrupted_by_a_restart_fails_and_keeps_the_changeset() {
    let t = tempfile::tempdir().expect("tempdir");
    let sb = t.path().join("sb");
    let s = TestServer::start(t.path()).await;
    s.faults(json!({"commit_phase_ms": 60_000})).await;
    let cmd = json!({"name": "service:create", "arguments": {"name": "files3", "type": "volume"}});
    expect_json::<Changeset>(s.stage_command(&s.token, cmd).await, StatusCode::OK).await;
    let commit: Commit = expect_json(
        s.post(&paths::changeset_commit(&scope()), json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    s.stop().await;

    let s = TestServer::open(&sb, None).await;
    s.faults(json!({"commit_phase_ms": 5})).await;
    let c: Commit = expect_json(
        s.get(&paths::commit(&scope(), &commit.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(c.status, CommitStatus::Failed);
    let error = c.error.expect("error");
    assert_eq!(error.code, codes::COMMIT_FAILED);
    assert!(
        error
            .message
            .as_deref()
            .is_some_and(|m| m.contains("interrupted by a sandbox restart"))
    );
    let r = s.get(&paths::service(&scope(), "files3")).await;
    expect_error(r, StatusCode::NOT_FOUND, codes::SERVICE_DOES_NOT_EXIST).await;
    let cs: Changeset = expect_json(s.get(&paths::changeset(&scope())).await, StatusCode::OK).await;
    assert_eq!(cs.commands.len(), 1, "the changeset is kept");
    let again: Commit = expect_json(
        s.post(&paths::changeset_commit(&scope()), json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(
        s.wait_commit(&s.token, &again).await.status,
        CommitStatus::Succeeded
    );
    s.stop().await;
}

/// `sandbox serve --dir .sandbox`: a directory given relative to the working directory still
/// hands out absolute data paths, which `file://` connections (verify, the write gap) need.
#[tokio::test]
async fn a_relative_directory_hands_out_absolute_data_paths() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = seed_file(dir.path());
    // The same directory, spelled from the working directory up to the root and down again.
    let cwd = std::env::current_dir().expect("working directory");
    let up: PathBuf = cwd.components().skip(1).map(|_| "..").collect();
    let relative = up.join(
        dir.path()
            .join("sb")
            .strip_prefix("/")
            .expect("absolute temp dir"),
    );
    assert!(relative.is_relative());
    let server = TestServer::open(&relative, Some(&seed)).await;
    let files = server.data("files").await;
    assert!(files.is_absolute(), "{}", files.display());
    let connection: crate::api::ServiceConnection = expect_json(
        server
            .get(&crate::api::paths::service_connection(&scope(), "files"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(connection.url.starts_with("file:///"), "{}", connection.url);
    server.stop().await;
}
