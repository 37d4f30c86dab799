//! Changesets and commits: syntax errors at staging, isolation between users, phases, the
//! stateful rules at commit, locking, and what a commit changes on disk.

use reqwest::{Method, StatusCode};

use super::*;
use crate::model::{Changeset, CommitPhase, Service, codes};

fn create(name: &str, service_type: &str) -> Value {
    json!({"name": "service:create", "arguments": {"name": name, "type": service_type}})
}

fn link_env(app: &str, service: &str, key: &str) -> Value {
    json!({"name": "app:link:create", "arguments": {"app": app, "service": service, "env_key": key}})
}

fn unlink(app: &str, service: &str) -> Value {
    json!({"name": "app:link:destroy", "arguments": {"app": app, "service": service}})
}

#[tokio::test]
async fn bad_commands_get_a_validation_tree_at_staging() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let r = s
        .stage_command(&s.token, create("Bad_Name", "volume"))
        .await;
    let e = expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::VALIDATION_FAILED,
    )
    .await;
    assert_eq!(
        flat(&e),
        vec![("name".to_owned(), "invalid_format".to_owned())]
    );
    let r = s.stage_command(&s.token, create("files2", "floppy")).await;
    let e = expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::VALIDATION_FAILED,
    )
    .await;
    assert_eq!(
        flat(&e),
        vec![("type".to_owned(), "not_included".to_owned())]
    );
    let r = s
        .stage_command(&s.token, link_env("web", "media", "PORT"))
        .await;
    let e = expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::VALIDATION_FAILED,
    )
    .await;
    assert_eq!(
        flat(&e),
        vec![("env_key".to_owned(), "included".to_owned())]
    );
    let r = s
        .stage_command(&s.token, link_env("web", "media", "9LIVES"))
        .await;
    let e = expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::VALIDATION_FAILED,
    )
    .await;
    assert_eq!(
        flat(&e),
        vec![("env_key".to_owned(), "invalid_format".to_owned())]
    );
    // Malformed bodies name the field instead of answering axum's plain text.
    let r = s
        .stage_command(
            &s.token,
            json!({"name": "service:create", "arguments": {"type": "volume"}}),
        )
        .await;
    let e = expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::VALIDATION_FAILED,
    )
    .await;
    assert_eq!(
        flat(&e),
        vec![("arguments.name".to_owned(), "required".to_owned())]
    );
    let r = s
        .client
        .post(format!("{}{}", s.url, paths::changeset_commands(&scope())))
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("send");
    let e = expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::VALIDATION_FAILED,
    )
    .await;
    assert_eq!(
        flat(&e),
        vec![("body".to_owned(), "invalid_format".to_owned())]
    );
    // Nothing was staged.
    let r = s.get(&paths::changeset(&scope())).await;
    expect_error(r, StatusCode::NOT_FOUND, codes::CHANGESET_DOES_NOT_EXIST).await;
    s.stop().await;
}

#[tokio::test]
async fn each_user_has_their_own_changeset() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let cs_path = paths::changeset(&scope());
    let r = s.stage_command(&s.token, create("files2", "volume")).await;
    let cs: Changeset = expect_json(r, StatusCode::OK).await;
    assert_eq!((cs.user.as_str(), cs.commands.len()), ("demo", 1));
    // ci sees nothing and cannot commit or discard demo's changeset.
    let r = s.call(Method::GET, &cs_path, Some(&s.ci_token), None).await;
    expect_error(r, StatusCode::NOT_FOUND, codes::CHANGESET_DOES_NOT_EXIST).await;
    let r = s
        .call(
            Method::POST,
            &paths::changeset_commit(&scope()),
            Some(&s.ci_token),
            None,
        )
        .await;
    expect_error(r, StatusCode::NOT_FOUND, codes::CHANGESET_DOES_NOT_EXIST).await;
    let r = s
        .call(Method::DELETE, &cs_path, Some(&s.ci_token), None)
        .await;
    expect_error(r, StatusCode::NOT_FOUND, codes::CHANGESET_DOES_NOT_EXIST).await;
    let r = s
        .stage_command(&s.ci_token, create("cifiles", "volume"))
        .await;
    let ci: Changeset = expect_json(r, StatusCode::OK).await;
    assert_eq!(ci.commands.len(), 1);
    let mine: Changeset = expect_json(s.get(&cs_path).await, StatusCode::OK).await;
    assert_eq!(mine.commands, cs.commands);
    // Discard drops only demo's.
    let r = s.call(Method::DELETE, &cs_path, Some(&s.token), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s.call(Method::DELETE, &cs_path, Some(&s.token), None).await;
    expect_error(r, StatusCode::NOT_FOUND, codes::CHANGESET_DOES_NOT_EXIST).await;
    let r = s.call(Method::GET, &cs_path, Some(&s.ci_token), None).await;
    let ci_again: Changeset = expect_json(r, StatusCode::OK).await;
    assert_eq!(ci_again.commands, ci.commands);
    s.stop().await;
}

#[tokio::test]
async fn a_commit_runs_through_its_phases_and_applies_at_the_end() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    s.faults(json!({"commit_phase_ms": 60})).await;
    for c in [
        create("media2", "s3"),
        unlink("web", "media"),
        link_env("web", "media2", "S3_DATA_URL"),
    ] {
        expect_json::<Changeset>(s.stage_command(&s.token, c).await, StatusCode::OK).await;
    }
    let r = s.post(&paths::changeset_commit(&scope()), json!({})).await;
    let commit: Commit = expect_json(r, StatusCode::ACCEPTED).await;
    assert_eq!(
        (commit.status, commit.phase, commit.total),
        (CommitStatus::Running, CommitPhase::Initializing, 3)
    );
    // While it runs: reads show the old state, the changeset is frozen.
    let r = s.get(&paths::service(&scope(), "media2")).await;
    expect_error(r, StatusCode::NOT_FOUND, codes::SERVICE_DOES_NOT_EXIST).await;
    let r = s.stage_command(&s.token, create("other", "volume")).await;
    let e = expect_error(r, StatusCode::CONFLICT, codes::COMMIT_ALREADY_RUNNING).await;
    assert!(e.temporary);
    let r = s.post(&paths::changeset_commit(&scope()), json!({})).await;
    expect_error(r, StatusCode::CONFLICT, codes::COMMIT_ALREADY_RUNNING).await;
    let r = s
        .call(
            Method::DELETE,
            &paths::changeset(&scope()),
            Some(&s.token),
            None,
        )
        .await;
    expect_error(r, StatusCode::CONFLICT, codes::COMMIT_ALREADY_RUNNING).await;
    // Another user's commit on the same stage waits for this one.
    expect_json::<Changeset>(
        s.stage_command(&s.ci_token, create("cifiles", "volume"))
            .await,
        StatusCode::OK,
    )
    .await;
    let r = s
        .call(
            Method::POST,
            &paths::changeset_commit(&scope()),
            Some(&s.ci_token),
            None,
        )
        .await;
    let e = expect_error(r, StatusCode::CONFLICT, codes::CHANGESET_LOCKED).await;
    assert!(e.temporary);
    // ci cannot follow demo's commit.
    let r = s
        .call(
            Method::GET,
            &paths::commit(&scope(), &commit.id),
            Some(&s.ci_token),
            None,
        )
        .await;
    expect_error(r, StatusCode::NOT_FOUND, codes::COMMIT_NOT_FOUND).await;

    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let done = loop {
        let c: Commit = expect_json(
            s.get(&paths::commit(&scope(), &commit.id)).await,
            StatusCode::OK,
        )
        .await;
        if seen.last() != Some(&(c.phase, c.applied)) {
            seen.push((c.phase, c.applied));
        }
        if c.status != CommitStatus::Running {
            break c;
        }
        assert!(Instant::now() < deadline, "commit too slow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(done.status, CommitStatus::Succeeded, "{done:?}");
    assert!(seen.contains(&(CommitPhase::Planning, 0)), "{seen:?}");
    for n in 1..=3 {
        assert!(seen.contains(&(CommitPhase::Applying, n)), "{seen:?}");
    }
    assert_eq!(seen.last(), Some(&(CommitPhase::Done, 3)));
    let media2: Service = expect_json(
        s.get(&paths::service(&scope(), "media2")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(media2.links[0].env_key.as_deref(), Some("S3_DATA_URL"));
    let media: Service = expect_json(
        s.get(&paths::service(&scope(), "media")).await,
        StatusCode::OK,
    )
    .await;
    assert!(media.links.is_empty());
    assert!(
        s.data("media2").await.is_dir(),
        "a created s3 service gets its bucket directory"
    );
    let r = s.get(&paths::changeset(&scope())).await;
    expect_error(r, StatusCode::NOT_FOUND, codes::CHANGESET_DOES_NOT_EXIST).await;
    // Now ci may commit.
    s.faults(json!({"commit_phase_ms": 5})).await;
    let r = s
        .call(
            Method::POST,
            &paths::changeset_commit(&scope()),
            Some(&s.ci_token),
            None,
        )
        .await;
    let ci_commit: Commit = expect_json(r, StatusCode::ACCEPTED).await;
    assert_eq!(
        s.wait_commit(&s.ci_token, &ci_commit).await.status,
        CommitStatus::Succeeded
    );
    s.stop().await;
}

#[tokio::test]
async fn an_invalid_changeset_names_every_failing_command_and_applies_nothing() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let commands = [
        create("newvol", "volume"),
        create("files", "volume"),
        json!({"name": "service:option:set", "arguments": {"service": "ghost", "option": "x", "value": "1"}}),
        link_env("web", "newvol", "NEWVOL"),
        json!({"name": "app:link:create", "arguments": {"app": "worker", "service": "newvol", "path": "/data"}}),
        link_env("web", "database", "S3_DATA_URL"),
        unlink("worker", "files"),
        json!({"name": "service:destroy", "arguments": {"name": "media"}}),
    ];
    for c in commands {
        expect_json::<Changeset>(s.stage_command(&s.token, c).await, StatusCode::OK).await;
    }
    let r = s.post(&paths::changeset_commit(&scope()), json!({})).await;
    let e = expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::CHANGESET_INVALID,
    )
    .await;
    let pair = |p: &str, v: &str| (format!("changeset.commands[{p}"), v.to_owned());
    assert_eq!(
        flat(&e),
        vec![
            pair("1].name", "taken"),
            pair("2].service", "not_found"),
            pair("3].env_key", "invalid"),
            pair("5].env_key", "taken"),
            pair("6].service", "not_found"),
            pair("7].name", "invalid"),
        ]
    );
    let r = s.get(&paths::service(&scope(), "newvol")).await;
    expect_error(r, StatusCode::NOT_FOUND, codes::SERVICE_DOES_NOT_EXIST).await;
    // The changeset stays for fixing.
    let cs: Changeset = expect_json(s.get(&paths::changeset(&scope())).await, StatusCode::OK).await;
    assert_eq!(cs.commands.len(), 8);
    s.stop().await;
}

#[tokio::test]
async fn destroying_a_service_removes_its_data_and_backups() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let data = s.data("files").await;
    let backup = s.backups("files").await.remove(0);
    let file = t
        .path()
        .join("sb/backups")
        .join(format!("{}.tar.gz", backup.id));
    assert!(data.is_dir() && file.is_file());
    let done = s
        .commit_all(&[
            unlink("web", "files"),
            json!({"name": "service:destroy", "arguments": {"name": "files"}}),
        ])
        .await;
    assert_eq!(done.status, CommitStatus::Succeeded, "{done:?}");
    assert!(!data.exists());
    assert!(!file.exists());
    // A new service of the same name starts empty, without the old backups.
    let done = s.commit_all(&[create("files", "volume")]).await;
    assert_eq!(done.status, CommitStatus::Succeeded);
    assert!(s.backups("files").await.is_empty());
    assert_eq!(
        std::fs::read_dir(s.data("files").await)
            .expect("dir")
            .count(),
        0
    );
    s.stop().await;
}

#[tokio::test]
async fn options_and_schedules_are_committed() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let done = s
        .commit_all(&[
            json!({"name": "service:create", "arguments": {"name": "database13", "type": "postgresql13", "plan": "db.t3.micro"}}),
            json!({"name": "service:option:set", "arguments": {"service": "database13", "option": "min_storage", "value": "50"}}),
            json!({"name": "service:backup:schedule", "arguments": {"service": "database13", "hours": [4, 2, 4]}}),
            json!({"name": "service:option:set", "arguments": {"service": "media", "option": "blockPublicAccess", "value": "false"}}),
        ])
        .await;
    assert_eq!(done.status, CommitStatus::Succeeded, "{done:?}");
    let db: Service = expect_json(
        s.get(&paths::service(&scope(), "database13")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(db.plan.as_deref(), Some("db.t3.micro"));
    assert_eq!(
        db.options.get("min_storage").map(String::as_str),
        Some("50")
    );
    assert_eq!(db.backup_schedule.map(|b| b.hours), Some(vec![2, 4]));
    let media: Service = expect_json(
        s.get(&paths::service(&scope(), "media")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        media.options.get("blockPublicAccess").map(String::as_str),
        Some("false")
    );
    s.stop().await;
}

fn scale(app: &str, scale: u32) -> Value {
    json!({"name": "app:scale:set", "arguments": {"app": app, "scale": scale}})
}

async fn tasks(s: &TestServer, app: &str) -> Vec<crate::model::Task> {
    expect_json(
        s.get(&paths::app_tasks(&scope(), app)).await,
        StatusCode::OK,
    )
    .await
}

async fn app_scale(s: &TestServer, app: &str) -> Option<u8> {
    let app: crate::model::App =
        expect_json(s.get(&paths::app(&scope(), app)).await, StatusCode::OK).await;
    app.scale
}

#[tokio::test]
async fn a_committed_scale_stops_and_starts_containers_after_the_delay_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(dir.path()).await;
    s.faults(json!({"task_delay_ms": 300})).await;
    assert_eq!(app_scale(&s, "web").await, Some(1));
    let before = tasks(&s, "web").await;
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].last_status, "RUNNING");
    assert_eq!(before[0].health_status, "UNKNOWN");

    // Out of range is refused at staging; an unknown app at commit, with nothing applied.
    let r = s.stage_command(&s.token, scale("web", 17)).await;
    let e = expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::VALIDATION_FAILED,
    )
    .await;
    assert_eq!(
        flat(&e),
        vec![(
            "scale".to_owned(),
            "less_than_or_equal_to_threshold".to_owned()
        )]
    );
    let r = s.stage_command(&s.token, scale("nope", 0)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.post(&paths::changeset_commit(&scope()), json!({})).await;
    let e = expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::CHANGESET_INVALID,
    )
    .await;
    assert_eq!(
        flat(&e),
        vec![(
            "changeset.commands[0].app".to_owned(),
            "not_found".to_owned()
        )]
    );
    s.call(
        Method::DELETE,
        &paths::changeset(&scope()),
        Some(&s.token),
        None,
    )
    .await;
    expect_error(
        s.get(&paths::app_tasks(&scope(), "nope")).await,
        StatusCode::NOT_FOUND,
        codes::APP_DOES_NOT_EXIST,
    )
    .await;

    // Scaled to 0: committed at once, the container stops once the delay has passed.
    let c = s.commit_all(&[scale("web", 0)]).await;
    assert_eq!(c.status, CommitStatus::Succeeded, "{c:?}");
    assert_eq!(app_scale(&s, "web").await, Some(0));
    let deadline = Instant::now() + Duration::from_secs(10);
    let stopped = loop {
        let now = tasks(&s, "web").await;
        assert_eq!(now.len(), 1, "{now:?}");
        assert_eq!(now[0].id, before[0].id);
        match now[0].last_status.as_str() {
            "STOPPED" => break now,
            "STOPPING" => assert!(now[0].may_run()),
            other => panic!("unexpected status {other}"),
        }
        assert!(Instant::now() < deadline, "the container does not stop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!stopped[0].may_run());
    assert!(stopped[0].stopped_at.is_some());
    assert_eq!(tasks(&s, "worker").await.len(), 1, "worker is untouched");

    // The stopped container and the scale are state: a restart finds them as they were.
    let sb = dir.path().join("sb");
    s.stop().await;
    let s = TestServer::open(&sb, None).await;
    assert_eq!(app_scale(&s, "web").await, Some(0));
    assert_eq!(tasks(&s, "web").await, stopped);

    // Scaled up: new containers, PENDING until they run.
    s.faults(json!({"commit_phase_ms": 5, "task_delay_ms": 300}))
        .await;
    s.commit_all(&[scale("web", 2)]).await;
    let now = tasks(&s, "web").await;
    let running: Vec<&str> = now
        .iter()
        .filter(|t| t.may_run())
        .map(|t| t.last_status.as_str())
        .collect();
    assert_eq!(running.len(), 2, "{now:?}");
    assert!(running.iter().all(|s| ["PENDING", "RUNNING"].contains(s)));
}
