//! Authentication, request ids, not-found answers and the read endpoints.

use std::os::unix::fs::PermissionsExt;

use reqwest::{Method, StatusCode};

use super::*;
use crate::api::Health;
use crate::model::{App, EnvVar, Link, Project, Service, Stage, User, codes};

#[tokio::test]
async fn health_needs_no_token_and_everything_else_does() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let r = s.call(Method::GET, &paths::health(), None, None).await;
    assert!(r.headers().contains_key(crate::api::REQUEST_ID_HEADER));
    let health: Health = expect_json(r, StatusCode::OK).await;
    assert_eq!(health.status, "ok");

    let r = s.call(Method::GET, &paths::me(), None, None).await;
    let e = expect_error(r, StatusCode::UNAUTHORIZED, codes::SESSION_INVALID).await;
    assert_eq!(e.error_type, crate::model::ErrorType::AuthenticationError);
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("missing Authorization"))
    );

    let wrong = "0".repeat(64);
    let r = s
        .call(Method::GET, &paths::projects(), Some(&wrong), None)
        .await;
    let e = expect_error(r, StatusCode::UNAUTHORIZED, codes::SESSION_INVALID).await;
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("unknown bearer token"))
    );

    let r = s
        .call(Method::PUT, &paths::sandbox_faults(), None, Some(json!({})))
        .await;
    expect_error(r, StatusCode::UNAUTHORIZED, codes::SESSION_INVALID).await;

    let me: User = expect_json(s.get(&paths::me()).await, StatusCode::OK).await;
    assert_eq!(me.name, "demo");
    let r = s
        .call(Method::GET, &paths::me(), Some(&s.ci_token), None)
        .await;
    let me: User = expect_json(r, StatusCode::OK).await;
    assert_eq!(me.name, "ci");
    s.stop().await;
}

#[tokio::test]
async fn files_and_tokens_are_private() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let sb = t.path().join("sb");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&sb), 0o700);
    assert_eq!(mode(&token_path(&sb)), 0o600);
    assert_eq!(mode(&user_token_path(&sb, "ci")), 0o600);
    assert_eq!(mode(&sb.join("state.json")), 0o600);
    let backup = &s.backups("files").await[0];
    let file = sb.join("backups").join(format!("{}.tar.gz", backup.id));
    assert_eq!(mode(&file), 0o600);
    let state = std::fs::read_to_string(sb.join("state.json")).expect("state");
    assert!(
        !state.contains(&s.token),
        "the state must not hold user tokens"
    );
    assert_ne!(s.token, s.ci_token);
    s.stop().await;
}

#[tokio::test]
async fn missing_things_are_named_with_their_codes() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let sc = scope();
    let other = |project: &str, stage: &str| Scope {
        project: project.into(),
        stage: stage.into(),
    };
    let e = expect_error(
        s.get(&paths::services(&other("nope", "production"))).await,
        StatusCode::NOT_FOUND,
        codes::PROJECT_DOES_NOT_EXIST,
    )
    .await;
    assert!(e.message.as_deref().is_some_and(|m| m.contains("\"nope\"")));
    expect_error(
        s.get(&paths::apps(&other("shop", "nope"))).await,
        StatusCode::NOT_FOUND,
        codes::STAGE_DOES_NOT_EXIST,
    )
    .await;
    expect_error(
        s.get(&paths::app(&sc, "nope")).await,
        StatusCode::NOT_FOUND,
        codes::APP_DOES_NOT_EXIST,
    )
    .await;
    let e = expect_error(
        s.get(&paths::service(&sc, "nope")).await,
        StatusCode::NOT_FOUND,
        codes::SERVICE_DOES_NOT_EXIST,
    )
    .await;
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("service \"nope\" does not exist in shop/production")),
        "{e:?}"
    );
    // A backup of another service is not found through this one.
    let media_backup = s.backups("media").await[0].id.to_string();
    expect_error(
        s.get(&paths::backup(&sc, "files", &media_backup)).await,
        StatusCode::NOT_FOUND,
        codes::BACKUP_NOT_FOUND,
    )
    .await;
    expect_error(
        s.get(&paths::backup(&sc, "files", "not-a-uuid")).await,
        StatusCode::NOT_FOUND,
        codes::BACKUP_NOT_FOUND,
    )
    .await;
    expect_error(
        s.get(&paths::commit(&sc, &uuid::Uuid::new_v4())).await,
        StatusCode::NOT_FOUND,
        codes::COMMIT_NOT_FOUND,
    )
    .await;
    expect_error(
        s.get("/api/v1/nothing-here").await,
        StatusCode::NOT_FOUND,
        codes::NOT_FOUND,
    )
    .await;
    let r = s
        .call(Method::DELETE, &paths::services(&sc), Some(&s.token), None)
        .await;
    expect_error(r, StatusCode::METHOD_NOT_ALLOWED, codes::NOT_FOUND).await;
    s.stop().await;
}

#[tokio::test]
async fn read_endpoints_show_the_committed_world() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let sc = scope();
    let projects: Vec<Project> = expect_json(s.get(&paths::projects()).await, StatusCode::OK).await;
    assert_eq!(
        projects.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["shop"]
    );
    let stages: Vec<Stage> = expect_json(s.get(&paths::stages("shop")).await, StatusCode::OK).await;
    assert_eq!(
        stages.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["production", "staging"]
    );

    let services: Vec<Service> =
        expect_json(s.get(&paths::services(&sc)).await, StatusCode::OK).await;
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["database", "files", "media", "scratch", "search"]);
    let media: Service =
        expect_json(s.get(&paths::service(&sc, "media")).await, StatusCode::OK).await;
    assert_eq!(
        media.options.get("blockPublicAccess").map(String::as_str),
        Some("true")
    );
    assert_eq!(media.links.len(), 1);
    assert_eq!(media.links[0].app, "web");
    assert_eq!(media.links[0].env_key.as_deref(), Some("S3_DATA_URL"));
    let files = services.iter().find(|s| s.name == "files").expect("files");
    assert_eq!(files.links[0].path.as_deref(), Some("/data"));
    assert_eq!(
        files.backup_schedule.as_ref().map(|b| b.hours.clone()),
        Some(vec![3])
    );

    let apps: Vec<App> = expect_json(s.get(&paths::apps(&sc)).await, StatusCode::OK).await;
    assert_eq!(
        apps.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["web", "worker"]
    );
    let links: Vec<Link> =
        expect_json(s.get(&paths::app_links(&sc, "web")).await, StatusCode::OK).await;
    assert_eq!(links.len(), 2);

    let env: Vec<EnvVar> =
        expect_json(s.get(&paths::app_env(&sc, "web")).await, StatusCode::OK).await;
    assert_eq!(
        env.len(),
        1,
        "the volume link is a mount, not an env var: {env:?}"
    );
    assert_eq!(env[0].key, "S3_DATA_URL");
    assert!(env[0].secret);
    let value = url::Url::parse(&env[0].value).expect("s3 url");
    assert_eq!(value.scheme(), "s3");
    assert_eq!(value.host_str(), Some("shop-production-media"));
    assert!(!value.username().is_empty() && value.password().is_some_and(|p| !p.is_empty()));
    let endpoint = value
        .query_pairs()
        .find(|(k, _)| k == "endpoint")
        .map(|(_, v)| v.into_owned());
    assert_eq!(endpoint.as_deref(), Some(s.url.as_str()));
    // Credentials are stable across reads.
    let again: Vec<EnvVar> =
        expect_json(s.get(&paths::app_env(&sc, "web")).await, StatusCode::OK).await;
    assert_eq!(again, env);
    s.stop().await;
}

#[tokio::test]
async fn the_demo_world_is_seeded_identically_every_time() {
    let t = tempfile::tempdir().expect("tempdir");
    let a = Sandbox::open_with(&t.path().join("a"), None, &super::engine_config())
        .await
        .expect("open a");
    let b = Sandbox::open_with(&t.path().join("b"), None, &super::engine_config())
        .await
        .expect("open b");
    let sc = scope();
    for service in ["files", "media"] {
        let da = a.service_data_dir(&sc, service).await.expect("data");
        let db = b.service_data_dir(&sc, service).await.expect("data");
        let (ta, tb) = (
            crate::tree::digest(&da).expect("digest"),
            crate::tree::digest(&db).expect("digest"),
        );
        assert_eq!(ta, tb, "{service} differs between two new sandboxes");
        if service == "files" {
            assert_eq!(ta.files, 300);
            // Folders three levels deep: uploads/2024/03/x.jpg
            let nested = walk_depths(&da);
            assert!(nested.iter().all(|d| *d == 4), "{nested:?}");
        } else {
            assert_eq!(ta.files, 60);
        }
    }
    let scratch = a.service_data_dir(&sc, "scratch").await.expect("data");
    assert_eq!(std::fs::read_dir(scratch).expect("dir").count(), 0);
    let world = a.world().await;
    let seeded: Vec<&Backup> = world.backups.values().map(|e| &e.backup).collect();
    assert_eq!(seeded.len(), 5, "one seed backup per demo service");
    assert!(seeded.iter().all(|b| b.status == BackupStatus::Created
        && b.origin == crate::model::BackupOrigin::Scheduled
        && b.size.is_some()
        && b.sha256.is_some()));
    drop(world);
    a.shutdown().await;
    b.shutdown().await;
}

fn walk_depths(root: &Path) -> Vec<usize> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            if e.file_type().expect("type").is_dir() {
                stack.push(e.path());
            } else {
                out.push(
                    e.path()
                        .strip_prefix(root)
                        .expect("rel")
                        .components()
                        .count(),
                );
            }
        }
    }
    out
}

#[tokio::test]
async fn a_folder_that_is_not_a_sandbox_is_refused() {
    let t = tempfile::tempdir().expect("tempdir");
    std::fs::write(t.path().join("Cargo.toml"), "[package]").expect("write");
    let err = match Sandbox::open_with(t.path(), None, &super::engine_config()).await {
        Ok(_) => panic!("opened a non-sandbox folder"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("is not a sandbox"), "{err}");
    assert!(err.contains("Cargo.toml"), "{err}");
    assert!(t.path().join("Cargo.toml").exists());
    assert!(!t.path().join("data").exists());
}

#[tokio::test]
async fn a_bad_seed_file_names_its_line() {
    let t = tempfile::tempdir().expect("tempdir");
    let seed = t.path().join("bad.yaml");
    std::fs::write(&seed, "users:\n  - name: demo\nprojects:\n  - name: shop\n    stages:\n      - name: production\n        services:\n          - {name: files, type: floppy}\n").expect("write");
    let err = match Sandbox::open_with(&t.path().join("sb"), Some(&seed), &super::engine_config())
        .await
    {
        Ok(_) => panic!("bad seed accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.starts_with(&format!("{}:8:", seed.display())), "{err}");
    assert!(err.contains("floppy"), "{err}");
}
