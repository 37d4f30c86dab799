//! The adapter against a real HTTP server on 127.0.0.1:0 that plays scripted answers per route,
//! so retries, error synthesis and the 404 mappings are observed on the wire.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::*;
use crate::api::paths;
use crate::model::{Commit, CommitPhase, CommitStatus, Scope, Service, ServiceType};
use crate::platform::{Platform, Reachability};
use uuid::Uuid;

type Key = (Method, String);

#[derive(Clone)]
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

fn json(status: u16, body: impl Serialize) -> Answer {
    Answer {
        status,
        content_type: "application/json",
        body: serde_json::to_string(&body).expect("serializes"),
    }
}

fn service_error_json(status: u16, error_type: &str, code: &str, temporary: bool) -> Answer {
    json(
        status,
        serde_json::json!({"type": error_type, "code": code, "temporary": temporary,
            "request_id": "r-1", "message": format!("{code} happened")}),
    )
}

fn html(status: u16, body: &str) -> Answer {
    Answer {
        status,
        content_type: "text/html",
        body: body.to_owned(),
    }
}

#[derive(Default)]
struct Script {
    /// Answers in order; the last one repeats.
    answers: Mutex<HashMap<Key, VecDeque<Answer>>>,
    hits: Mutex<HashMap<Key, usize>>,
    authorizations: Mutex<Vec<String>>,
}

impl Script {
    fn on(&self, method: Method, path: String, answers: Vec<Answer>) {
        let mut map = self.answers.lock().expect("lock");
        map.insert((method, path), answers.into());
    }

    fn hits(&self, method: Method, path: String) -> usize {
        let hits = self.hits.lock().expect("lock");
        hits.get(&(method, path)).copied().unwrap_or(0)
    }
}

async fn answer(
    State(script): State<Arc<Script>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let key = (method, uri.path().to_owned());
    let auth = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    script.authorizations.lock().expect("lock").push(auth);
    *script
        .hits
        .lock()
        .expect("lock")
        .entry(key.clone())
        .or_default() += 1;
    let next = {
        let mut map = script.answers.lock().expect("lock");
        match map.get_mut(&key) {
            Some(queue) if queue.len() > 1 => queue.pop_front(),
            Some(queue) => queue.front().cloned(),
            None => None,
        }
    };
    let Some(a) = next else {
        return (axum::http::StatusCode::NOT_FOUND, "no such route").into_response();
    };
    let status = axum::http::StatusCode::from_u16(a.status).expect("status");
    (
        status,
        [
            ("content-type", a.content_type),
            ("x-request-id", "hdr-req"),
        ],
        a.body,
    )
        .into_response()
}

async fn start(script: Arc<Script>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new().fallback(answer).with_state(script);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

fn scope() -> Scope {
    Scope {
        project: "shop".into(),
        stage: "production".into(),
    }
}

fn files_service() -> Service {
    Service {
        name: "files".into(),
        service_type: ServiceType::Volume,
        plan: None,
        options: Default::default(),
        links: vec![],
        backup_schedule: None,
        created_at: Utc::now(),
    }
}

async fn platform(script: &Arc<Script>) -> HttpPlatform {
    let base = start(script.clone()).await;
    HttpPlatform::new(&base, "tok-123".into())
        .expect("valid base")
        .with_retry(fast())
}

#[tokio::test]
async fn gateway_pages_are_retried_and_the_token_is_sent_as_bearer() {
    let script = Arc::new(Script::default());
    let path = paths::service(&scope(), "files");
    script.on(
        Method::GET,
        path.clone(),
        vec![
            html(502, "<html>Bad Gateway</html>"),
            html(504, "<html>Gateway Timeout</html>"),
            json(200, files_service()),
        ],
    );
    let platform = platform(&script).await;
    let service = platform
        .service(&scope(), "files")
        .await
        .expect("third try works");
    assert_eq!(service.name, "files");
    assert_eq!(script.hits(Method::GET, path), 3);
    let auths = script.authorizations.lock().expect("lock").clone();
    assert!(auths.iter().all(|a| a == "Bearer tok-123"), "{auths:?}");
}

#[tokio::test]
async fn a_proxy_error_page_becomes_a_redacted_fault_and_is_not_retried() {
    let script = Arc::new(Script::default());
    let path = paths::service(&scope(), "files");
    script.on(
        Method::GET,
        path.clone(),
        vec![html(
            500,
            "<h1>oops</h1> upstream /transfer/SeCrEt said Bearer tok-123",
        )],
    );
    let platform = platform(&script).await;
    let error = platform.service(&scope(), "files").await.expect_err("500");
    assert_eq!(script.hits(Method::GET, path), 1);
    let Error::Platform {
        context,
        status,
        error,
    } = &error
    else {
        panic!("expected a platform error, got {error:?}");
    };
    assert_eq!(context, "reading service \"files\" in shop/production");
    assert_eq!(*status, 500);
    assert_eq!(error.code, "HTTP500");
    assert!(!error.temporary);
    assert_eq!(error.request_id, "hdr-req");
    let message = error.message.clone().expect("message");
    assert!(
        !message.contains("SeCrEt") && !message.contains("tok-123"),
        "{message}"
    );
}

#[tokio::test]
async fn post_is_retried_on_temporary_errors_only() {
    let script = Arc::new(Script::default());
    let commit_path = paths::changeset_commit(&scope());
    let commit = Commit {
        id: Uuid::new_v4(),
        project: "shop".into(),
        stage: "production".into(),
        user: "demo".into(),
        status: CommitStatus::Running,
        phase: CommitPhase::Initializing,
        applied: 0,
        total: 1,
        commands: vec![],
        started_at: Utc::now(),
        finished_at: None,
        error: None,
    };
    script.on(
        Method::POST,
        commit_path.clone(),
        vec![
            service_error_json(409, "StateError", "ChangesetLocked", true),
            json(202, &commit),
        ],
    );
    let backups_path = paths::backups(&scope(), "files");
    script.on(
        Method::POST,
        backups_path.clone(),
        vec![service_error_json(500, "Fault", "ServerFailure", false)],
    );
    let platform = platform(&script).await;

    let started = platform.commit(&scope()).await.expect("second try works");
    assert_eq!(started.id, commit.id);
    assert_eq!(script.hits(Method::POST, commit_path), 2);

    let error = platform
        .create_backup(&scope(), "files")
        .await
        .expect_err("500");
    assert_eq!(error.code(), Some("ServerFailure"));
    assert_eq!(script.hits(Method::POST, backups_path), 1);
}

#[tokio::test]
async fn retries_stop_at_the_policy_limit() {
    let script = Arc::new(Script::default());
    let path = paths::services(&scope());
    script.on(
        Method::GET,
        path.clone(),
        vec![service_error_json(503, "Fault", "Overload", true)],
    );
    let platform = platform(&script).await;
    let error = platform.services(&scope()).await.expect_err("always 503");
    assert_eq!(error.code(), Some("Overload"));
    assert!(error.is_retryable());
    assert_eq!(script.hits(Method::GET, path), 4);
}

#[tokio::test]
async fn a_missing_changeset_is_none_and_other_404s_are_errors() {
    let script = Arc::new(Script::default());
    let path = paths::changeset(&scope());
    let missing = service_error_json(404, "StateError", "ChangesetDoesNotExist", false);
    script.on(Method::GET, path.clone(), vec![missing.clone()]);
    script.on(Method::DELETE, path.clone(), vec![missing]);
    let other = Scope {
        project: "shop".into(),
        stage: "nostage".into(),
    };
    let stage_missing = service_error_json(404, "StateError", "StageDoesNotExist", false);
    script.on(Method::GET, paths::changeset(&other), vec![stage_missing]);
    let platform = platform(&script).await;

    assert_eq!(platform.changeset(&scope()).await.expect("none"), None);
    assert!(!platform.discard_changeset(&scope()).await.expect("false"));
    let error = platform.changeset(&other).await.expect_err("stage missing");
    assert_eq!(error.code(), Some("StageDoesNotExist"));
    assert_eq!(script.hits(Method::GET, path), 1);
}

#[tokio::test]
async fn a_discarded_changeset_answers_true() {
    let script = Arc::new(Script::default());
    let path = paths::changeset(&scope());
    script.on(
        Method::DELETE,
        path,
        vec![Answer {
            status: 204,
            content_type: "application/json",
            body: String::new(),
        }],
    );
    let platform = platform(&script).await;
    assert!(
        platform
            .discard_changeset(&scope())
            .await
            .expect("discarded")
    );
}

#[tokio::test]
async fn a_body_that_is_not_the_expected_json_names_the_call() {
    let script = Arc::new(Script::default());
    script.on(
        Method::GET,
        paths::projects(),
        vec![html(200, "<html>login page</html>")],
    );
    let platform = platform(&script).await;
    let error = platform.projects().await.expect_err("html");
    let text = error.to_string();
    assert!(text.starts_with("listing projects: "), "{text}");
    assert!(text.contains("--api"), "{text}");
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_after_retries() {
    // A port that was just free: nothing listens there any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let platform = HttpPlatform::new(&format!("http://{addr}"), "tok-123".into())
        .expect("valid")
        .with_retry(fast());
    let error = platform
        .create_backup(&scope(), "files")
        .await
        .expect_err("nothing listens");
    let Error::Transport { context, detail } = &error else {
        panic!("expected a transport error, got {error:?}");
    };
    assert_eq!(
        context,
        "creating a backup of service \"files\" in shop/production"
    );
    assert!(detail.contains("gave up after 4 attempts"), "{detail}");
    assert!(!detail.contains("tok-123"), "{detail}");
}

#[test]
fn the_base_url_is_validated_and_cleaned() {
    let platform = HttpPlatform::new("http://127.0.0.1:4321/", "t".into()).expect("valid");
    assert_eq!(platform.endpoint(), "http://127.0.0.1:4321");
    let platform =
        HttpPlatform::new("https://api.example.com/setops/?x=1#f", "t".into()).expect("valid");
    assert_eq!(platform.endpoint(), "https://api.example.com/setops");

    for bad in [
        "ftp://example.com",
        "not a url",
        "http://user:pw@example.com",
    ] {
        let error = HttpPlatform::new(bad, "t".into()).expect_err(bad);
        assert!(matches!(error, Error::Usage(_)), "{bad}: {error:?}");
        let text = error.to_string();
        assert!(text.contains("--api"), "{text}");
        assert!(!text.contains("pw"), "{text}");
    }
    let error = HttpPlatform::new("http://h", "  \n".into()).expect_err("empty token");
    assert!(error.to_string().contains("SETOPS_TOKEN"));
}

#[test]
fn debug_output_never_shows_the_token() {
    let platform = HttpPlatform::new("http://h", "tok-123".into()).expect("valid");
    let shown = format!("{platform:?}");
    assert!(!shown.contains("tok-123"), "{shown}");
}

#[tokio::test]
async fn service_connection_maps_missing_routes_and_unreachable_data_to_a_reason() {
    let script = Arc::new(Script::default());
    let path = |service: &str| paths::service_connection(&scope(), service);
    script.on(
        Method::GET,
        path("db"),
        vec![json(
            200,
            serde_json::json!({"kind": "postgresql", "url": "postgresql://u:pw@127.0.0.1:5/db"}),
        )],
    );
    script.on(
        Method::GET,
        path("docs"),
        vec![service_error_json(
            422,
            "StateError",
            "CodeCurrentlyNotSupported",
            false,
        )],
    );
    script.on(
        Method::GET,
        path("gone"),
        vec![service_error_json(
            404,
            "StateError",
            "ServiceDoesNotExist",
            false,
        )],
    );
    script.on(
        Method::GET,
        path("broken"),
        vec![service_error_json(500, "Fault", "ServerFailure", false)],
    );
    let platform = platform(&script).await;

    let db = platform
        .service_connection(&scope(), "db")
        .await
        .expect("ok");
    let Reachability::Reachable(db) = db else {
        panic!("reachable: {db:?}")
    };
    assert_eq!(db.kind, crate::api::ConnectionKind::Postgresql);
    // "cache" has no scripted route: the server's plain 404, as from a platform without it.
    let reason = not_offered(
        platform
            .service_connection(&scope(), "cache")
            .await
            .expect("ok"),
    );
    assert!(reason.contains("no connection endpoint"), "{reason}");
    let reason = not_offered(
        platform
            .service_connection(&scope(), "docs")
            .await
            .expect("ok"),
    );
    assert_eq!(reason, "CodeCurrentlyNotSupported happened");
    let error = platform
        .service_connection(&scope(), "gone")
        .await
        .expect_err("missing service");
    assert_eq!(error.code(), Some("ServiceDoesNotExist"));
    let error = platform
        .service_connection(&scope(), "broken")
        .await
        .expect_err("server failure");
    assert_eq!(error.code(), Some("ServerFailure"));
}

fn not_offered(reach: Reachability) -> String {
    match reach {
        Reachability::NotOffered { reason } => reason,
        Reachability::Reachable(c) => panic!("expected no connection, got {:?}", c.kind),
    }
}
