//! Backup life cycle: create, restore on top, destroy, and every refused state transition.

use reqwest::{Method, StatusCode};
use sha2::Digest;

use super::*;
use crate::api::{DownloadTicket, UploadTicket};
use crate::model::{BackupOrigin, RestoreOutcome, codes};

async fn create_backup(s: &TestServer, service: &str) -> Backup {
    expect_json(
        s.post(&paths::backups(&scope(), service), json!({})).await,
        StatusCode::CREATED,
    )
    .await
}

async fn restore(s: &TestServer, service: &str, id: &str) -> reqwest::Response {
    s.post(&paths::backup_restore(&scope(), service, id), json!({}))
        .await
}

async fn destroy(s: &TestServer, service: &str, id: &str) -> reqwest::Response {
    s.call(
        Method::DELETE,
        &paths::backup(&scope(), service, id),
        Some(&s.token),
        None,
    )
    .await
}

#[tokio::test]
async fn a_backup_is_creating_then_created_and_listed_oldest_first() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let seeded = s.backups("files").await;
    assert_eq!(seeded.len(), 1);
    s.faults(json!({"backup_delay_ms": 200})).await;
    let b = create_backup(&s, "files").await;
    assert_eq!(
        (b.status, b.origin, b.size),
        (BackupStatus::Creating, BackupOrigin::Manual, None)
    );
    let id = b.id.to_string();
    // CREATING: no download, no restore, no destroy.
    let r = s
        .post(&paths::backup_download(&scope(), "files", &id), json!({}))
        .await;
    let e = expect_error(r, StatusCode::CONFLICT, codes::BACKUP_STATE_INVALID).await;
    assert!(
        e.message.as_deref().is_some_and(
            |m| m.contains("CREATING") && m.contains("only CREATED backups can be downloaded")
        ),
        "{e:?}"
    );
    expect_error(
        restore(&s, "files", &id).await,
        StatusCode::CONFLICT,
        codes::BACKUP_STATE_INVALID,
    )
    .await;
    expect_error(
        destroy(&s, "files", &id).await,
        StatusCode::CONFLICT,
        codes::BACKUP_STATE_INVALID,
    )
    .await;
    let done = s.wait_created("files", &id).await;
    let file = t.path().join("sb/backups").join(format!("{id}.tar.gz"));
    let bytes = std::fs::read(&file).expect("backup file");
    assert_eq!(done.size, Some(bytes.len() as u64));
    assert_eq!(
        done.sha256.as_deref(),
        Some(hex::encode(sha2::Sha256::digest(&bytes)).as_str())
    );
    let list = s.backups("files").await;
    assert_eq!(
        list.iter().map(|b| b.id).collect::<Vec<_>>(),
        [seeded[0].id, done.id]
    );
    s.stop().await;
}

#[tokio::test]
async fn restore_goes_on_top_and_records_its_outcome() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let source = s.backups("files").await.remove(0);
    let id = source.id.to_string();
    let data = s.data("files").await;
    let before = crate::tree::digest(&data).expect("digest");
    // Local changes: one extra file, one seeded file altered.
    std::fs::write(data.join("local-only.txt"), b"keep me").expect("write");
    let seeded_file = walk_first_file(&data);
    std::fs::write(&seeded_file, b"changed").expect("write");

    s.faults(json!({"restore_delay_ms": 200})).await;
    let r = restore(&s, "files", &id).await;
    let b: Backup = expect_json(r, StatusCode::ACCEPTED).await;
    assert_eq!(b.status, BackupStatus::Restoring);
    let record = b.last_restore.expect("restore record");
    assert_eq!(
        (record.outcome, record.finished_at),
        (RestoreOutcome::Running, None)
    );
    // RESTORING: no destroy, no second restore on the service, not even of another backup.
    let e = expect_error(
        destroy(&s, "files", &id).await,
        StatusCode::CONFLICT,
        codes::BACKUP_STATE_INVALID,
    )
    .await;
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("RESTORING"))
    );
    expect_error(
        restore(&s, "files", &id).await,
        StatusCode::CONFLICT,
        codes::BACKUP_STATE_INVALID,
    )
    .await;
    s.faults(json!({"backup_delay_ms": 0})).await;
    let other = create_backup(&s, "files").await;
    let other = s.wait_created("files", &other.id.to_string()).await;
    let e = expect_error(
        restore(&s, "files", &other.id.to_string()).await,
        StatusCode::CONFLICT,
        codes::BACKUP_STATE_INVALID,
    )
    .await;
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("already restoring")),
        "{e:?}"
    );

    let done = s
        .wait_backup("files", &id, |b| b.status != BackupStatus::Restoring)
        .await;
    let record = done.last_restore.expect("record");
    assert_eq!(record.outcome, RestoreOutcome::Succeeded, "{record:?}");
    assert!(record.finished_at.is_some());
    assert_eq!(
        std::fs::read(data.join("local-only.txt")).expect("kept"),
        b"keep me"
    );
    std::fs::remove_file(data.join("local-only.txt")).expect("rm");
    assert_eq!(
        crate::tree::digest(&data).expect("digest"),
        before,
        "seeded files restored"
    );
    s.stop().await;
}

fn walk_first_file(root: &Path) -> PathBuf {
    let mut dir = root.to_path_buf();
    loop {
        let mut entries: Vec<_> = std::fs::read_dir(&dir).expect("dir").flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        let first = entries.into_iter().next().expect("non-empty");
        if first.file_type().expect("type").is_dir() {
            dir = first.path();
        } else {
            return first.path();
        }
    }
}

#[tokio::test]
async fn a_restore_of_an_unsafe_archive_fails_and_writes_nothing() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let archive = t.path().join("evil.tar.gz");
    {
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&archive).expect("create"),
            flate2::Compression::fast(),
        );
        let mut builder = tar::Builder::new(gz);
        let mut ok = tar::Header::new_gnu();
        ok.set_size(2);
        ok.set_mode(0o644);
        builder
            .append_data(&mut ok, "fine.txt", &b"ok"[..])
            .expect("append");
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        builder
            .append_link(&mut link, "escape", "/etc")
            .expect("link");
        builder.into_inner().expect("tar").finish().expect("gz");
    }
    let bytes = std::fs::read(&archive).expect("read");
    let backup = upload(&s, "scratch", &bytes).await;
    let id = backup.id.to_string();
    expect_json::<Backup>(restore(&s, "scratch", &id).await, StatusCode::ACCEPTED).await;
    let done = s
        .wait_backup("scratch", &id, |b| b.status != BackupStatus::Restoring)
        .await;
    let record = done.last_restore.expect("record");
    assert_eq!(record.outcome, RestoreOutcome::Failed);
    assert!(
        record
            .error
            .as_deref()
            .is_some_and(|e| e.contains("symbolic link")),
        "{record:?}"
    );
    assert_eq!(
        std::fs::read_dir(s.data("scratch").await)
            .expect("dir")
            .count(),
        0
    );
    s.stop().await;
}

/// Uploads bytes through the ticket flow and returns the CREATED backup.
pub(super) async fn upload(s: &TestServer, service: &str, bytes: &[u8]) -> Backup {
    let sha = hex::encode(sha2::Sha256::digest(bytes));
    let r = s
        .post(
            &paths::uploads(&scope(), service),
            json!({"filename": "x.tar.gz", "size": bytes.len(), "sha256": sha}),
        )
        .await;
    let ticket: UploadTicket = expect_json(r, StatusCode::CREATED).await;
    assert_eq!(
        (ticket.method.as_str(), ticket.backup.status),
        ("PUT", BackupStatus::Uploading)
    );
    let r = s
        .client
        .put(&ticket.url)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("put");
    expect_json(r, StatusCode::CREATED).await
}

#[tokio::test]
async fn destroy_answers_the_deleted_backup_and_removes_its_file() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let b = s.backups("media").await.remove(0);
    let id = b.id.to_string();
    let file = t.path().join("sb/backups").join(format!("{id}.tar.gz"));
    assert!(file.exists());
    let ticket: DownloadTicket = expect_json(
        s.post(&paths::backup_download(&scope(), "media", &id), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let deleted: Backup = expect_json(destroy(&s, "media", &id).await, StatusCode::OK).await;
    assert_eq!(deleted, b);
    assert!(!file.exists());
    expect_error(
        s.get(&paths::backup(&scope(), "media", &id)).await,
        StatusCode::NOT_FOUND,
        codes::BACKUP_NOT_FOUND,
    )
    .await;
    let r = s.client.get(&ticket.url).send().await.expect("get");
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "URLs of a destroyed backup stop working"
    );
    s.stop().await;
}

#[tokio::test]
async fn uploading_backups_may_be_destroyed_and_only_they_get_new_urls() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let sha = "a".repeat(64);
    let r = s
        .post(
            &paths::uploads(&scope(), "scratch"),
            json!({"filename": "f.tar.gz", "size": 10, "sha256": sha}),
        )
        .await;
    let ticket: UploadTicket = expect_json(r, StatusCode::CREATED).await;
    let id = ticket.backup.id.to_string();
    // Allocated but not sent: its ID answers, the list (three states, as documented) leaves it out.
    assert_eq!(
        s.backup("scratch", &id).await.status,
        BackupStatus::Uploading
    );
    assert!(
        !s.backups("scratch")
            .await
            .iter()
            .any(|b| b.id == ticket.backup.id || b.status == BackupStatus::Uploading)
    );
    let r = s
        .post(&paths::backup_restore(&scope(), "scratch", &id), json!({}))
        .await;
    expect_error(r, StatusCode::CONFLICT, codes::BACKUP_STATE_INVALID).await;
    let renewed: UploadTicket = expect_json(
        s.post(&paths::upload_url(&scope(), "scratch", &id), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(renewed.url, ticket.url);
    let r = s
        .client
        .put(&ticket.url)
        .body(vec![0u8; 10])
        .send()
        .await
        .expect("put");
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a renewed URL replaces the old one"
    );
    let deleted: Backup = expect_json(destroy(&s, "scratch", &id).await, StatusCode::OK).await;
    assert_eq!(deleted.status, BackupStatus::Uploading);
    let created = s.backups("files").await.remove(0).id.to_string();
    let r = s
        .post(&paths::upload_url(&scope(), "files", &created), json!({}))
        .await;
    let e = expect_error(r, StatusCode::CONFLICT, codes::BACKUP_STATE_INVALID).await;
    assert!(e.message.as_deref().is_some_and(|m| m.contains("CREATED")));
    s.stop().await;
}

#[tokio::test]
async fn types_without_an_engine_say_why() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let r = s.post(&paths::backups(&scope(), "search"), json!({})).await;
    let e = expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::CURRENTLY_NOT_SUPPORTED,
    )
    .await;
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("no backup format")),
        "{e:?}"
    );
    let r = s
        .post(
            &paths::uploads(&scope(), "search"),
            json!({"filename": "d.tar.gz", "size": 5, "sha256": "b".repeat(64)}),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::CURRENTLY_NOT_SUPPORTED,
    )
    .await;
    let r = s.post(&paths::backups(&scope(), "nope"), json!({})).await;
    expect_error(r, StatusCode::NOT_FOUND, codes::SERVICE_DOES_NOT_EXIST).await;
    s.stop().await;
}
