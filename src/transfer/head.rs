//! The first bytes of a backup on the platform, for the compatibility checks before anything is
//! created: one GET of its download URL with `Range: bytes=0-N` (a pre-signed URL allows GET
//! only). A server that ignores the range answers 200 with the whole body; the read stops after
//! `limit` bytes all the same. Nothing is written to disk and nothing is journaled: it is a read.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, RANGE};

use crate::error::{Error, Result};
use crate::model::Scope;
use crate::platform::Platform;
use crate::redact::redact;

/// The head of a file, and whether it is the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub bytes: Vec<u8>,
    pub whole_file: bool,
}

/// The first `limit` bytes of backup `id` of `service`, through its download URL; works with
/// every platform adapter, since each hands out download tickets.
pub async fn backup_head(
    platform: &dyn Platform,
    client: &reqwest::Client,
    scope: &Scope,
    service: &str,
    id: &str,
    limit: u64,
) -> Result<Head> {
    let ticket = platform.download_ticket(scope, service, id).await?;
    let context = format!("reading the first bytes of backup {id} of {service} in {scope}");
    first_bytes(client, &ticket.url, limit, &context).await
}

/// The first `limit` (at least 1) bytes behind `url`.
pub async fn first_bytes(
    client: &reqwest::Client,
    url: &str,
    limit: u64,
    context: &str,
) -> Result<Head> {
    let limit = limit.max(1);
    let transport = |e: reqwest::Error| Error::Transport {
        context: context.to_owned(),
        detail: redact(&e.to_string()),
    };
    let mut response = client
        .get(url)
        .header(RANGE, format!("bytes=0-{}", limit - 1))
        .send()
        .await
        .map_err(transport)?;
    let total = match response.status() {
        StatusCode::PARTIAL_CONTENT => response
            .headers()
            .get(CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit_once('/'))
            .and_then(|(_, total)| total.trim().parse::<u64>().ok()),
        // The range was ignored: the body is the whole file, read up to the limit below.
        StatusCode::OK => None,
        // An empty file has no first byte.
        StatusCode::RANGE_NOT_SATISFIABLE => {
            return Ok(Head {
                bytes: Vec::new(),
                whole_file: true,
            });
        }
        status => {
            return Err(Error::Transport {
                context: context.to_owned(),
                detail: format!(
                    "the download URL answered {status}; run the same command again for a \
                     fresh URL"
                ),
            });
        }
    };
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    // Sized once from the announced length: growing by doubling would hold the old and the new
    // buffer at once (12 MiB for an 8 MiB head), the largest allocation of a whole run.
    let announced = response
        .content_length()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    let mut bytes = Vec::with_capacity(announced.min(cap));
    let mut ended = true;
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        let room = cap - bytes.len();
        if chunk.len() >= room {
            bytes.extend_from_slice(&chunk[..room]);
            // More may follow; the connection is dropped rather than read to its end.
            ended = false;
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    let whole_file = match total {
        Some(total) => bytes.len() as u64 >= total,
        // Without a total, only a body that ended before the limit is known to be all of it.
        None => ended,
    };
    Ok(Head { bytes, whole_file })
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::Router;
    use axum::http::{HeaderMap, StatusCode as Code, header};
    use axum::response::IntoResponse;
    use axum::routing::get;

    const FILE: &[u8] = b"PGDMP\x01\x0e\x00 and the rest of the archive";

    /// Serves FILE at /ranged (honouring `bytes=0-N`), /whole (ignoring ranges), /empty and
    /// /gone (404).
    async fn serve() -> String {
        async fn ranged(headers: HeaderMap) -> impl IntoResponse {
            let end: usize = headers
                .get(header::RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("bytes=0-"))
                .and_then(|v| v.parse().ok())
                .unwrap();
            let end = end.min(FILE.len() - 1);
            (
                Code::PARTIAL_CONTENT,
                [(
                    header::CONTENT_RANGE,
                    format!("bytes 0-{end}/{}", FILE.len()),
                )],
                FILE[..=end].to_vec(),
            )
        }
        let app = Router::new()
            .route("/ranged", get(ranged))
            .route("/whole", get(|| async { FILE.to_vec() }))
            .route(
                "/empty",
                get(|| async {
                    (
                        Code::RANGE_NOT_SATISFIABLE,
                        [(header::CONTENT_RANGE, "bytes */0")],
                    )
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn reads_at_most_the_limit_and_knows_whether_that_was_all() {
        let base = serve().await;
        let client = reqwest::Client::new();
        let n = FILE.len() as u64;
        for path in ["ranged", "whole"] {
            let url = format!("{base}/{path}");
            let head = first_bytes(&client, &url, 8, "t").await.unwrap();
            assert_eq!(
                (head.bytes.as_slice(), head.whole_file),
                (&FILE[..8], false),
                "{path}"
            );
            let all = first_bytes(&client, &url, n + 10, "t").await.unwrap();
            assert_eq!(
                (all.bytes.as_slice(), all.whole_file),
                (FILE, true),
                "{path}"
            );
        }
        let exact = first_bytes(&client, &format!("{base}/ranged"), n, "t")
            .await
            .unwrap();
        assert!(exact.whole_file);
        let empty = first_bytes(&client, &format!("{base}/empty"), 8, "t")
            .await
            .unwrap();
        assert_eq!((empty.bytes.len(), empty.whole_file), (0, true));
        let err = first_bytes(&client, &format!("{base}/gone"), 8, "reading x")
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("reading x: the download URL answered 404"),
            "{err}"
        );
    }
}
