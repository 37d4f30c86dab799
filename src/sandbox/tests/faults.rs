//! Each fault knob does what it says and runs out when it should.

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_RANGE, RANGE};
use sha2::Digest;

use super::transfer::{fetch, ticket};
use super::*;
use crate::model::codes;

#[tokio::test]
async fn knobs_merge_and_answer_their_full_state() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let f = s.faults(json!({"ignore_range": true})).await;
    assert_eq!(f.ignore_range, Some(true));
    assert_eq!(f.commit_phase_ms, Some(5), "earlier values stay");
    assert_eq!(f.overload_next, Some(0));
    let r = s
        .call(
            reqwest::Method::PUT,
            &paths::sandbox_faults(),
            Some(&s.token),
            Some(json!({"overload": 1})),
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
        vec![("overload".to_owned(), "invalid".to_owned())]
    );
    s.stop().await;
}

#[tokio::test]
async fn overload_answers_503_for_the_next_api_requests_but_not_health() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    s.faults(json!({"overload_next": 2})).await;
    let r = s
        .call(reqwest::Method::GET, &paths::health(), None, None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    for _ in 0..2 {
        let e = expect_error(
            s.get(&paths::projects()).await,
            StatusCode::SERVICE_UNAVAILABLE,
            codes::OVERLOAD,
        )
        .await;
        assert!(e.temporary);
    }
    assert_eq!(s.get(&paths::projects()).await.status(), StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn a_cut_download_breaks_the_connection_after_n_bytes() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let tk = ticket(&s, "files").await;
    s.faults(json!({"cut_download_after": 1000, "cut_download_next": 1}))
        .await;
    let r = s.client.get(&tk.url).send().await.expect("headers arrive");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.content_length(), Some(tk.size));
    let mut received = 0usize;
    let mut stream = r.bytes_stream();
    let mut broken = false;
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        match chunk {
            Ok(c) => received += c.len(),
            Err(_) => {
                broken = true;
                break;
            }
        }
    }
    assert!(broken, "the client must see a broken body");
    assert_eq!(received, 1000);
    // The counter ran out: the next download is whole.
    let (_, _, body) = fetch(&s, &tk.url, &[]).await;
    assert_eq!(body.len() as u64, tk.size);
    s.stop().await;
}

#[tokio::test]
async fn corrupt_and_short_downloads_keep_their_promised_shape() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let tk = ticket(&s, "files").await;
    s.faults(json!({"corrupt_download_next": 1})).await;
    let (status, _, body) = fetch(&s, &tk.url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len() as u64, tk.size);
    assert_ne!(Some(hex::encode(sha2::Sha256::digest(&body))), tk.sha256);
    let (_, _, clean) = fetch(&s, &tk.url, &[]).await;
    let differing = body.iter().zip(&clean).filter(|(a, b)| a != b).count();
    assert_eq!(differing, 1, "exactly one byte flipped");
    assert_eq!(Some(hex::encode(sha2::Sha256::digest(&clean))), tk.sha256);

    s.faults(json!({"short_download_next": 1})).await;
    let (status, h, body) = fetch(&s, &tk.url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        h[reqwest::header::CONTENT_LENGTH],
        (tk.size / 2).to_string().as_str()
    );
    assert_eq!(body, clean[..(tk.size / 2) as usize]);
    s.stop().await;
}

#[tokio::test]
async fn ignore_range_and_rotate_etag_force_whole_bodies() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let tk = ticket(&s, "files").await;
    s.faults(json!({"ignore_range": true})).await;
    let (status, _, body) = fetch(&s, &tk.url, &[(RANGE, "bytes=10-".into())]).await;
    assert_eq!((status, body.len() as u64), (StatusCode::OK, tk.size));
    s.faults(json!({"ignore_range": false, "rotate_etag": true}))
        .await;
    let (_, h1, _) = fetch(&s, &tk.url, &[]).await;
    let (status, h2, body) = fetch(
        &s,
        &tk.url,
        &[
            (RANGE, "bytes=10-".into()),
            (IF_RANGE, h1[ETAG].to_str().expect("etag").into()),
        ],
    )
    .await;
    assert_ne!(h1[ETAG], h2[ETAG]);
    assert_eq!(
        (status, body.len() as u64),
        (StatusCode::OK, tk.size),
        "If-Range never matches a rotated tag"
    );
    s.faults(json!({"rotate_etag": false})).await;
    let (status, _, _) = fetch(&s, &tk.url, &[(RANGE, "bytes=10-".into())]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    s.stop().await;
}

#[tokio::test]
async fn delays_keep_work_visible_for_as_long_as_set() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    s.faults(json!({"backup_delay_ms": 300})).await;
    let started = Instant::now();
    let b: Backup = expect_json(
        s.post(&paths::backups(&scope(), "files"), json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        s.backup("files", &b.id.to_string()).await.status,
        BackupStatus::Creating
    );
    s.wait_created("files", &b.id.to_string()).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    s.stop().await;
}
