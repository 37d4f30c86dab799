//! The size of the file behind a download URL the CLI printed, which prints only the URL: one
//! ranged request for its first byte (a pre-signed GET URL allows GET only, so no HEAD). The
//! answer's `Content-Range` total is the size; a server that ignores ranges says it in
//! `Content-Length`. No byte of the body is kept.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, RANGE};

use crate::error::{Error, Result};
use crate::redact::redact;

pub async fn size(client: &reqwest::Client, url: &str, context: &str) -> Result<u64> {
    let response = client
        .get(url)
        .header(RANGE, "bytes=0-0")
        .send()
        .await
        .map_err(|e| Error::Transport {
            context: context.to_owned(),
            detail: redact(&e.to_string()),
        })?;
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let size = match response.status() {
        StatusCode::PARTIAL_CONTENT => header(CONTENT_RANGE)
            .and_then(|v| v.rsplit_once('/').map(|(_, total)| total.trim().to_owned()))
            .and_then(|total| total.parse::<u64>().ok()),
        StatusCode::OK => header(CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok()),
        // An empty file has no first byte.
        StatusCode::RANGE_NOT_SATISFIABLE => header(CONTENT_RANGE)
            .filter(|v| v.trim() == "bytes */0")
            .map(|_| 0),
        status => {
            return Err(Error::Transport {
                context: context.to_owned(),
                detail: format!(
                    "the download URL the setops CLI printed answered {status}; run the same \
                     command again for a fresh URL"
                ),
            });
        }
    };
    size.ok_or_else(|| {
        Error::unexpected(
            context,
            "the download URL's answer does not say the file's size (no Content-Range total or \
             Content-Length)",
        )
    })
}
