//! Pre-signed transfer URLs: full and ranged downloads, If-Range, 416, uploads and their checks,
//! and the single-purpose, expiring tokens.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, IF_RANGE, RANGE};
use sha2::Digest;

use super::backups::upload;
use super::*;
use crate::api::{DownloadTicket, SHA256_HEADER, UploadTicket};
use crate::model::codes;

pub(super) async fn ticket(s: &TestServer, service: &str) -> DownloadTicket {
    let id = s.backups(service).await.remove(0).id.to_string();
    expect_json(
        s.post(&paths::backup_download(&scope(), service, &id), json!({}))
            .await,
        StatusCode::OK,
    )
    .await
}

pub(super) async fn fetch(
    s: &TestServer,
    url: &str,
    headers: &[(reqwest::header::HeaderName, String)],
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = s.client.get(url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let r = req.send().await.expect("get");
    let status = r.status();
    let h = r.headers().clone();
    let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    (status, h, body)
}

#[tokio::test]
async fn downloads_stream_the_file_with_range_support() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let tk = ticket(&s, "files").await;
    assert_eq!(tk.filename, format!("{}.tar.gz", tk.backup.id));
    assert!(tk.url.starts_with(&format!("{}/transfer/", s.url)));
    let (status, h, whole) = fetch(&s, &tk.url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(whole.len() as u64, tk.size);
    assert_eq!(Some(hex::encode(sha2::Sha256::digest(&whole))), tk.sha256);
    assert_eq!(h[reqwest::header::ACCEPT_RANGES], "bytes");
    assert_eq!(h[reqwest::header::CONTENT_TYPE], "application/octet-stream");
    let etag = h[ETAG].to_str().expect("etag").to_owned();
    assert_eq!(
        etag,
        format!("\"{}\"", &tk.sha256.as_deref().unwrap_or_default()[..32])
    );
    assert!(h.contains_key(crate::api::REQUEST_ID_HEADER));

    let size = tk.size;
    let (status, h, tail) = fetch(
        &s,
        &tk.url,
        &[(RANGE, "bytes=100-".into()), (IF_RANGE, etag.clone())],
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        h[CONTENT_RANGE],
        format!("bytes 100-{}/{size}", size - 1).as_str()
    );
    assert_eq!(tail, whole[100..]);
    let (status, h, mid) = fetch(&s, &tk.url, &[(RANGE, "bytes=10-19".into())]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(h[CONTENT_LENGTH], "10");
    assert_eq!(mid, whole[10..20]);
    // A stale validator: the whole body again.
    let (status, _, again) = fetch(
        &s,
        &tk.url,
        &[(RANGE, "bytes=100-".into()), (IF_RANGE, "\"other\"".into())],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, whole);
    let (status, h, _) = fetch(&s, &tk.url, &[(RANGE, format!("bytes={size}-"))]).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(h[CONTENT_RANGE], format!("bytes */{size}").as_str());
    s.stop().await;
}

#[tokio::test]
async fn an_uploaded_copy_is_created_with_the_same_checksum() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let tk = ticket(&s, "files").await;
    let (_, _, bytes) = fetch(&s, &tk.url, &[]).await;
    let backup = upload(&s, "scratch", &bytes).await;
    assert_eq!(backup.status, BackupStatus::Created);
    assert_eq!(backup.origin, crate::model::BackupOrigin::Upload);
    assert_eq!(backup.sha256.as_deref(), tk.sha256.as_deref());
    assert_eq!(backup.size, Some(tk.size));
    assert_eq!(s.backups("scratch").await, vec![backup]);
    s.stop().await;
}

async fn start_upload(s: &TestServer, service: &str, size: usize, sha: &str) -> UploadTicket {
    let r = s
        .post(
            &paths::uploads(&scope(), service),
            json!({"filename": "f.tar.gz", "size": size, "sha256": sha}),
        )
        .await;
    expect_json(r, StatusCode::CREATED).await
}

#[tokio::test]
async fn a_mismatching_upload_is_refused_and_may_be_retried() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let (_, _, good) = fetch(&s, &ticket(&s, "files").await.url, &[]).await;
    let sha = hex::encode(sha2::Sha256::digest(&good));
    let tk = start_upload(&s, "scratch", good.len(), &sha).await;
    let id = tk.backup.id.to_string();
    let mut corrupt = good.clone();
    corrupt[good.len() / 2] ^= 1;
    let r = s
        .client
        .put(&tk.url)
        .body(corrupt)
        .send()
        .await
        .expect("put");
    let e = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, codes::UPLOAD_INVALID).await;
    assert!(
        e.message.as_deref().is_some_and(|m| m.contains("sha256")),
        "{e:?}"
    );
    let r = s
        .client
        .put(&tk.url)
        .body(good[..10].to_vec())
        .send()
        .await
        .expect("put");
    expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, codes::UPLOAD_INVALID).await;
    // More bytes than announced: the writer is stopped at the first byte beyond the size.
    let mut longer = good.clone();
    longer.extend_from_slice(b"one byte too many");
    let r = s
        .client
        .put(&tk.url)
        .body(longer)
        .send()
        .await
        .expect("put");
    let e = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, codes::UPLOAD_INVALID).await;
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("more than the announced")),
        "{e:?}"
    );
    let r = s
        .client
        .put(&tk.url)
        .header(SHA256_HEADER, "c".repeat(64))
        .body(good.clone())
        .send()
        .await
        .expect("put");
    expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, codes::UPLOAD_INVALID).await;
    assert_eq!(
        s.backup("scratch", &id).await.status,
        BackupStatus::Uploading
    );
    let partials: Vec<_> = std::fs::read_dir(t.path().join("sb/backups"))
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(partials.is_empty(), "refused bytes are deleted");
    // A renewed URL, the right bytes: the same backup id becomes CREATED.
    let renewed: UploadTicket = expect_json(
        s.post(&paths::upload_url(&scope(), "scratch", &id), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let r = s
        .client
        .put(&renewed.url)
        .header(SHA256_HEADER, &sha)
        .body(good.clone())
        .send()
        .await
        .expect("put");
    let b: Backup = expect_json(r, StatusCode::CREATED).await;
    assert_eq!((b.id.to_string(), b.status), (id, BackupStatus::Created));
    assert_eq!(
        s.backups("scratch").await.len(),
        1,
        "a retry never makes a second backup"
    );
    // The token is void after a successful upload.
    let r = s
        .client
        .put(&renewed.url)
        .body(good)
        .send()
        .await
        .expect("put");
    expect_error(r, StatusCode::FORBIDDEN, codes::TRANSFER_URL_INVALID).await;
    s.stop().await;
}

#[tokio::test]
async fn tar_services_take_only_gzip_uploads() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let bytes = b"PGDMP custom archive".to_vec();
    let tk = start_upload(
        &s,
        "scratch",
        bytes.len(),
        &hex::encode(sha2::Sha256::digest(&bytes)),
    )
    .await;
    let r = s.client.put(&tk.url).body(bytes).send().await.expect("put");
    let e = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, codes::UPLOAD_INVALID).await;
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("a .tar.gz archive")),
        "{e:?}"
    );
    let r = s
        .post(
            &paths::uploads(&scope(), "scratch"),
            json!({"filename": "f", "size": 3, "sha256": "xyz"}),
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
        vec![("sha256".to_owned(), "invalid_format".to_owned())]
    );
    s.stop().await;
}

#[tokio::test]
async fn transfer_urls_are_single_purpose_and_expire() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start(t.path()).await;
    let tk = ticket(&s, "files").await;
    let r = s
        .client
        .put(&tk.url)
        .body(vec![1u8, 2])
        .send()
        .await
        .expect("put");
    let e = expect_error(r, StatusCode::FORBIDDEN, codes::TRANSFER_URL_INVALID).await;
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("downloading")),
        "{e:?}"
    );
    let up = start_upload(&s, "scratch", 5, &"d".repeat(64)).await;
    let r = s.client.get(&up.url).send().await.expect("get");
    expect_error(r, StatusCode::FORBIDDEN, codes::TRANSFER_URL_INVALID).await;
    let r = s
        .client
        .get(format!("{}/transfer/{}", s.url, "f".repeat(64)))
        .send()
        .await
        .expect("get");
    expect_error(r, StatusCode::FORBIDDEN, codes::TRANSFER_URL_INVALID).await;
    // Expire every URL, as an hour later.
    {
        let mut world = s.sandbox.world().await;
        for transfer in world.transfers.values_mut() {
            transfer.expires_at = chrono::Utc::now() - chrono::Duration::seconds(1);
        }
    }
    let r = s.client.get(&tk.url).send().await.expect("get");
    let e = expect_error(r, StatusCode::FORBIDDEN, codes::TRANSFER_URL_INVALID).await;
    assert!(
        e.message.as_deref().is_some_and(|m| m.contains("expired")),
        "{e:?}"
    );
    // An upload abandoned for an hour past its last URL disappears.
    {
        let mut world = s.sandbox.world().await;
        let entry = world.backups.get_mut(&up.backup.id).expect("upload");
        if let Some(u) = entry.upload.as_mut() {
            u.url_expires_at = chrono::Utc::now() - chrono::Duration::minutes(61);
        }
    }
    assert!(s.backups("scratch").await.is_empty());
    s.stop().await;
}
