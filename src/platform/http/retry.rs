//! When a failed API call may be sent again, and how long to wait first. Only calls that cannot
//! have had an effect are repeated: a POST that may have reached the server is not idempotent.

use std::time::Duration;

use reqwest::Method;

use crate::backoff::Backoff;

/// How often to try a call, and the retry backoff (capped exponential, full jitter) between tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in total, the first one included; 0 counts as 1.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Backoff::API_RETRY.base,
            max_delay: Backoff::API_RETRY.max,
        }
    }
}

impl RetryPolicy {
    pub fn attempts(&self) -> u32 {
        self.max_attempts.max(1)
    }

    fn backoff(&self) -> Backoff {
        Backoff::retrying(self.base_delay, self.max_delay)
    }

    /// The ceiling of the wait after failed attempt number `attempt` (1-based):
    /// `base * 2^(attempt-1)`, capped at `max_delay`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        self.backoff().ceiling(attempt)
    }

    /// A random wait in `0..=ceiling(attempt)`.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.backoff().delay(attempt)
    }
}

/// How an API call failed, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No connection was made, so the request was never sent.
    Connect,
    /// The request may have reached the server (reset, timeout, cut response).
    Transport,
    /// The server answered with an error status.
    Status { status: u16, temporary: bool },
}

fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE
    )
}

/// Whether sending the same request again is safe and may help.
pub(crate) fn may_retry(method: &Method, failure: Failure) -> bool {
    match failure {
        Failure::Connect => true,
        Failure::Transport => idempotent(method),
        // A temporary error or a gateway status means the server did not act on the request.
        Failure::Status { status, temporary } => temporary || matches!(status, 502..=504),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare on APIs and not worth a date parser).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_is_retried_only_when_nothing_can_have_happened() {
        assert!(may_retry(&Method::POST, Failure::Connect));
        assert!(!may_retry(&Method::POST, Failure::Transport));
        let locked = Failure::Status {
            status: 409,
            temporary: true,
        };
        assert!(may_retry(&Method::POST, locked));
        let failure = Failure::Status {
            status: 500,
            temporary: false,
        };
        assert!(!may_retry(&Method::POST, failure));
    }

    #[test]
    fn idempotent_methods_are_retried_after_transport_errors() {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            assert!(may_retry(&method, Failure::Transport), "{method}");
            assert!(may_retry(&method, Failure::Connect), "{method}");
        }
    }

    #[test]
    fn gateway_statuses_are_temporary_and_client_errors_are_not() {
        for status in [502, 503, 504] {
            let f = Failure::Status {
                status,
                temporary: false,
            };
            assert!(may_retry(&Method::POST, f), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 422, 500, 501] {
            let f = Failure::Status {
                status,
                temporary: false,
            };
            assert!(!may_retry(&Method::GET, f), "{status}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_below_it() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.ceiling(1), Duration::from_millis(250));
        assert_eq!(policy.ceiling(2), Duration::from_millis(500));
        assert_eq!(policy.ceiling(5), Duration::from_secs(4));
        assert_eq!(policy.ceiling(6), Duration::from_secs(8));
        assert_eq!(policy.ceiling(60), Duration::from_secs(8));
        for attempt in 1..10 {
            assert!(policy.delay(attempt) <= policy.ceiling(attempt));
        }
        let zero = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        };
        assert_eq!(zero.attempts(), 1);
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "3".parse().expect("header value"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT"
                .parse()
                .expect("header value"),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
