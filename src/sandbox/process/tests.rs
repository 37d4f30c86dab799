use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use chrono::Utc;
use tokio::sync::oneshot;

use super::*;
use crate::sandbox::read_token;

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Starts `serve_until` in a task; returns the ready info and a stop handle.
async fn start(
    dir: &Path,
) -> (
    ServerInfo,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<()>>,
) {
    let (ready_tx, ready_rx) = oneshot::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let dir = dir.to_path_buf();
    // The small test world: seeding the full demo world would only slow these tests down.
    let seed = crate::sandbox::tests::seed_file(dir.parent().expect("parent"));
    let handle = tokio::spawn(async move {
        serve_until(
            &dir,
            any_port(),
            Some(&seed),
            &crate::sandbox::tests::engine_config(),
            move |info, token| {
                let _ = ready_tx.send((info.clone(), token.to_path_buf()));
            },
            async move {
                let _ = stop_rx.await;
            },
            crate::sandbox::ServeOptions::default(),
        )
        .await
    });
    let (info, token_file) = ready_rx.await.expect("server ready");
    assert!(token_file.ends_with("token"));
    (info, stop_tx, handle)
}

#[tokio::test]
async fn one_server_per_directory_and_server_json_while_it_runs() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("sb");
    let (info, stop_tx, handle) = start(&dir).await;
    assert_eq!(info.pid, std::process::id());
    assert_eq!(read_info(&dir), Some(info.clone()));
    let mode = std::fs::metadata(server_info_path(&dir))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let second = serve_until(
        &dir,
        any_port(),
        None,
        &crate::sandbox::tests::engine_config(),
        |_, _| panic!("must not start"),
        async {},
        crate::sandbox::ServeOptions::default(),
    )
    .await;
    let err = second.expect_err("second server refused").to_string();
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    assert!(err.contains("sandbox stop --dir"), "{err}");

    // --sandbox DIR connects to the running server instead of spawning one.
    let conn = ensure_running(
        &dir,
        None,
        Path::new("/nonexistent/setops-migrate"),
        &crate::sandbox::tests::engine_config(),
    )
    .await
    .expect("connect");
    assert_eq!(conn.url, info.url);
    assert_eq!(conn.token, read_token(&token_path(&dir)).expect("token"));

    let _ = stop_tx.send(());
    handle.await.expect("join").expect("serve");
    assert!(
        !server_info_path(&dir).exists(),
        "server.json is removed at shutdown"
    );
    // The lock is free again: a new server may start.
    let (_, stop_tx, handle) = start(&dir).await;
    let _ = stop_tx.send(());
    handle.await.expect("join").expect("serve");
}

#[tokio::test]
async fn stop_without_a_server_is_not_running_and_cleans_leftovers() {
    let t = tempfile::tempdir().expect("tempdir");
    assert_eq!(stop(t.path()).await.expect("stop"), StopOutcome::NotRunning);
    // A server.json of a process that is gone.
    let mut child = Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait");
    let stale = ServerInfo {
        url: "http://127.0.0.1:9".into(),
        pid,
        started_at: Utc::now(),
    };
    std::fs::write(
        server_info_path(t.path()),
        serde_json::to_vec(&stale).expect("json"),
    )
    .expect("write");
    assert_eq!(stop(t.path()).await.expect("stop"), StopOutcome::NotRunning);
    assert!(!server_info_path(t.path()).exists());
}

#[tokio::test]
async fn stop_never_signals_a_live_process_that_is_not_the_server() {
    let t = tempfile::tempdir().expect("tempdir");
    let mut sleeper = Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn sleep");
    let unrelated = ServerInfo {
        url: "http://127.0.0.1:9".into(),
        pid: sleeper.id(),
        started_at: Utc::now(),
    };
    std::fs::write(
        server_info_path(t.path()),
        serde_json::to_vec(&unrelated).expect("json"),
    )
    .expect("write");
    assert_eq!(stop(t.path()).await.expect("stop"), StopOutcome::NotRunning);
    assert!(
        sleeper.try_wait().expect("try_wait").is_none(),
        "the unrelated process still runs"
    );
    sleeper.kill().expect("kill");
    sleeper.wait().expect("wait");
}

#[tokio::test]
async fn stop_ends_a_background_server_process() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path();
    // A stand-in server: a process that exits on SIGTERM, with the directory's lock held (here by
    // the test itself) as `sandbox serve` holds it.
    let lock = std::fs::File::create(lock_path(dir)).expect("lock file");
    lock.try_lock().expect("lock");
    let mut child = Command::new("sh")
        .args(["-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"])
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let info = ServerInfo {
        url: "http://127.0.0.1:9".into(),
        pid,
        started_at: Utc::now(),
    };
    std::fs::write(
        server_info_path(dir),
        serde_json::to_vec(&info).expect("json"),
    )
    .expect("write");
    assert_eq!(stop(dir).await.expect("stop"), StopOutcome::Stopped { pid });
    assert!(!alive(pid));
    assert!(!server_info_path(dir).exists());
    // stop() has reaped it already (waitpid); this wait only keeps the handle tidy.
    let _ = child.wait();
    drop(lock);
}

#[tokio::test]
async fn a_server_that_dies_at_start_is_reported_with_its_log() {
    let t = tempfile::tempdir().expect("tempdir");
    let program = t.path().join("broken-server.sh");
    std::fs::write(
        &program,
        "#!/bin/sh\necho \"boom: cannot start ($*)\" >&2\nexit 3\n",
    )
    .expect("write");
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let dir = t.path().join("sb");
    let err = ensure_running(
        &dir,
        None,
        &program,
        &crate::sandbox::tests::engine_config(),
    )
    .await
    .expect_err("fails")
    .to_string();
    assert!(err.contains("exited before it was ready"), "{err}");
    assert!(
        err.contains("boom: cannot start (sandbox serve --dir"),
        "{err}"
    );
    assert!(err.contains("--listen 127.0.0.1:0"), "{err}");
    let log_mode = std::fs::metadata(server_log_path(&dir))
        .expect("log")
        .permissions()
        .mode();
    assert_eq!(log_mode & 0o777, 0o600);
}
