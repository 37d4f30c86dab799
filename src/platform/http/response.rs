//! Turning HTTP failures into the crate's errors: ServiceError bodies (or a synthesized one for a
//! proxy's error page) and transport errors, with every URL and secret removed from the text.

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::api::REQUEST_ID_HEADER;
use crate::error::Error;
use crate::model::{ErrorType, ServiceError};
use crate::redact::redact;

/// Error bodies are short; a proxy's page is cut here so a misbehaving server cannot make us
/// buffer an arbitrary amount.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// How much of a body that is not a ServiceError ends up in the message.
const SNIPPET_CHARS: usize = 200;

/// Reads at most [`ERROR_BODY_LIMIT`] bytes of an error response. A body that breaks off is
/// used as far as it arrived: the status already says what happened.
pub(crate) async fn read_error_body(response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = ERROR_BODY_LIMIT - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= ERROR_BODY_LIMIT {
            break;
        }
    }
    body
}

/// The ServiceError in `body`, or one made up from the status when the body is something else
/// (a proxy's HTML page, an empty body). Messages are redacted either way.
pub(crate) fn service_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ServiceError {
    let header_request_id = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Ok(mut error) = serde_json::from_slice::<ServiceError>(body) {
        error.message = error.message.map(|m| redact(&m));
        if error.request_id.is_empty() {
            error.request_id = header_request_id;
        }
        return error;
    }
    let text = String::from_utf8_lossy(body);
    let snippet: String = text.trim().chars().take(SNIPPET_CHARS).collect();
    let message = if snippet.is_empty() {
        status.canonical_reason().unwrap_or("no body").to_owned()
    } else {
        redact(&snippet)
    };
    ServiceError {
        error_type: ErrorType::Fault,
        code: format!("HTTP{}", status.as_u16()),
        temporary: status.as_u16() >= 502,
        request_id: header_request_id,
        message: Some(message),
        validation_errors: None,
    }
}

/// The text of a reqwest error with its causes, without the URL (transfer URLs hold a token).
pub(crate) fn transport_detail(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    redact(&text)
}

pub(crate) fn transport_error(context: String, error: reqwest::Error) -> Error {
    Error::Transport {
        context,
        detail: transport_detail(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers_with_request_id(id: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, id.parse().expect("header value"));
        headers
    }

    #[test]
    fn service_error_bodies_are_parsed() {
        let body = br#"{"type":"StateError","code":"ServiceDoesNotExist","temporary":false,
            "request_id":"sGH28YBJ","message":"service \"x\" does not exist"}"#;
        let error = service_error(StatusCode::NOT_FOUND, &HeaderMap::new(), body);
        assert_eq!(error.error_type, ErrorType::StateError);
        assert_eq!(error.code, "ServiceDoesNotExist");
        assert_eq!(error.request_id, "sGH28YBJ");
        assert!(!error.temporary);
    }

    #[test]
    fn proxy_pages_become_a_fault_with_a_redacted_snippet() {
        let page = format!(
            "<html><body>Bad Gateway for /transfer/s3cr3tT0ken with Bearer abc.def {}</body></html>",
            "x".repeat(500)
        );
        let error = service_error(
            StatusCode::BAD_GATEWAY,
            &headers_with_request_id("req-1"),
            page.as_bytes(),
        );
        assert_eq!(error.error_type, ErrorType::Fault);
        assert_eq!(error.code, "HTTP502");
        assert!(error.temporary);
        assert_eq!(error.request_id, "req-1");
        let message = error.message.expect("message");
        assert!(!message.contains("s3cr3tT0ken"), "{message}");
        assert!(!message.contains("abc.def"), "{message}");
        assert!(message.chars().count() <= SNIPPET_CHARS);
    }

    #[test]
    fn an_empty_error_body_is_named_by_its_status() {
        let error = service_error(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new(), b"");
        assert_eq!(error.code, "HTTP500");
        assert!(!error.temporary);
        assert_eq!(error.message.as_deref(), Some("Internal Server Error"));
    }
}
