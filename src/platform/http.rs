//! The SetOps-style HTTP API client (docs/openapi.yaml): bearer-token JSON calls with retries
//! where they are safe, and ServiceError bodies turned into [`Error::Platform`] with context.

mod operations;
mod response;
mod retry;

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use response::{read_error_body, service_error, transport_detail, transport_error};
pub use retry::RetryPolicy;

use crate::error::{Error, Result};
use crate::redact::redact;
use retry::{Failure, may_retry};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// API calls are small; one that takes longer than this is retried or reported. The client
/// itself has no total or read timeout: reqwest's read timeout also bounds the time until the
/// response headers, which for an upload includes sending the whole body. Transfers detect a
/// stalled connection themselves (src/transfer.rs).
const API_TIMEOUT: Duration = Duration::from_secs(60);
const TCP_KEEPALIVE: Duration = Duration::from_secs(30);

pub struct HttpPlatform {
    /// Scheme, host, port and path prefix, without a trailing slash, query or credentials.
    base: String,
    /// `Bearer <token>`, marked sensitive so reqwest never shows it in debug output.
    authorization: HeaderValue,
    client: reqwest::Client,
    retry: RetryPolicy,
}

impl fmt::Debug for HttpPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpPlatform")
            .field("base", &self.base)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// The HTTP client for API calls and transfer URLs: connect timeout, keepalive, our user agent.
pub fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_keepalive(TCP_KEEPALIVE)
        .user_agent(concat!("setops-migrate/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            Error::Internal(format!(
                "cannot set up the HTTP client: {}",
                response::transport_detail(e)
            ))
        })
}

impl HttpPlatform {
    /// `base`: e.g. `http://127.0.0.1:4321`; API paths from [`crate::api::paths`] are appended to it.
    pub fn new(base: &str, token: String) -> Result<Self> {
        let base = parse_base(base).map_err(Error::Usage)?;
        let token = token.trim();
        if token.is_empty() {
            return Err(Error::usage(
                "the API token is empty: set SETOPS_TOKEN or pass --token-file FILE",
            ));
        }
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                Error::usage(
                    "the API token holds characters that cannot be sent in an HTTP header; \
                 check SETOPS_TOKEN or the --token-file contents",
                )
            })?;
        authorization.set_sensitive(true);
        let client = client()?;
        Ok(HttpPlatform {
            base,
            authorization,
            client,
            retry: RetryPolicy::default(),
        })
    }

    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The reqwest client, for transfer URLs (no bearer token is sent to transfer URLs).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends one API call, retrying where [`may_retry`] allows, and returns the 2xx body.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        context: &str,
    ) -> Result<Bytes> {
        let url = format!("{}{path}", self.base);
        let attempts = self.retry.attempts();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self
                .client
                .request(method.clone(), &url)
                .header(AUTHORIZATION, self.authorization.clone())
                .header(ACCEPT, "application/json")
                .timeout(API_TIMEOUT);
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let (failure, error, wait_at_least) = match request.send().await {
                Err(e) => {
                    let failure = if e.is_connect() {
                        Failure::Connect
                    } else {
                        Failure::Transport
                    };
                    (failure, transport_error(context.to_owned(), e), None)
                }
                Ok(response) if response.status().is_success() => match response.bytes().await {
                    Ok(bytes) => return Ok(bytes),
                    Err(e) => (
                        Failure::Transport,
                        transport_error(context.to_owned(), e),
                        None,
                    ),
                },
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = read_error_body(response).await;
                    let error = service_error(status, &headers, &body);
                    let failure = Failure::Status {
                        status: status.as_u16(),
                        temporary: error.temporary,
                    };
                    let platform_error = Error::Platform {
                        context: context.to_owned(),
                        status: status.as_u16(),
                        error: Box::new(error),
                    };
                    (failure, platform_error, retry::retry_after(&headers))
                }
            };
            if attempt >= attempts || !may_retry(&method, failure) {
                return Err(with_attempts(error, attempt));
            }
            let wait = self.retry.delay(attempt);
            let wait = match wait_at_least {
                Some(hint) => wait.max(hint.min(self.retry.max_delay)),
                None => wait,
            };
            tokio::time::sleep(wait).await;
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        context: &str,
    ) -> Result<T> {
        let bytes = self.send(method, path, body, context).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::unexpected(
                context,
                format!(
                    "the API answered with a body that is not the expected JSON ({e}); check \
                     that --api / SETOPS_API_URL points at a SetOps API"
                ),
            )
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, context: &str) -> Result<T> {
        self.call(Method::GET, path, None, context).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&(impl Serialize + Sync)>,
        context: &str,
    ) -> Result<T> {
        let body = match body {
            Some(body) => Some(Bytes::from(serde_json::to_vec(body).map_err(|e| {
                Error::Internal(format!("{context}: cannot encode the request body: {e}"))
            })?)),
            None => None,
        };
        self.call(Method::POST, path, body, context).await
    }
}

/// Says how often a call was tried when retries ran out, so nobody retries by hand at once.
fn with_attempts(error: Error, attempts: u32) -> Error {
    if attempts <= 1 {
        return error;
    }
    match error {
        Error::Transport { context, detail } => Error::Transport {
            context,
            detail: format!("{detail} (gave up after {attempts} attempts)"),
        },
        other => other,
    }
}

/// Validates `--api` and strips what must not be part of every request URL; `Err` is the
/// message for the user.
fn parse_base(base: &str) -> std::result::Result<String, String> {
    let shown = redact(base);
    let hint = "pass --api URL or set SETOPS_API_URL, e.g. https://api.setops.co";
    let mut url = url::Url::parse(base.trim())
        .map_err(|e| format!("the API URL {shown:?} is not a valid URL ({e}); {hint}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the API URL {shown:?} uses {:?}; only http and https work; {hint}",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("the API URL {shown:?} has no host; {hint}"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "the API URL {shown:?} holds a user or password; remove it from --api / \
             SETOPS_API_URL and pass the token in SETOPS_TOKEN or --token-file"
        ));
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests;
