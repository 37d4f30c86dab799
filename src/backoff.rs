//! How long to wait before trying again: the one place that says so. Two kinds of waits share
//! it: retrying a failed API call ([`Backoff`]: capped exponential, full jitter, so clients that
//! failed together do not retry together) and polling the platform until a state changes
//! ([`Poller`]: an interval that grows with the time already waited).

mod poll;

pub use poll::Poller;

use std::time::Duration;

use rand::Rng;

/// Retry intervals of `base * 2^(attempt-1)`, capped at `max`, each wait drawn at random from
/// zero to the interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// Retrying a failed API call.
    pub const API_RETRY: Backoff =
        Backoff::retrying(Duration::from_millis(250), Duration::from_secs(8));

    pub const fn retrying(base: Duration, max: Duration) -> Self {
        Backoff { base, max }
    }

    /// The interval after attempt number `attempt` (1-based): `base * 2^(attempt-1)`, capped.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A random wait for attempt `attempt`, between zero and its interval.
    pub fn delay(&self, attempt: u32) -> Duration {
        rand::thread_rng().gen_range(Duration::ZERO..=self.ceiling(attempt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_double_up_to_the_cap() {
        let b = Backoff::retrying(Duration::from_millis(1), Duration::from_millis(4));
        let got: Vec<_> = (1..=5).map(|a| b.ceiling(a)).collect();
        let ms = Duration::from_millis;
        assert_eq!(got, [ms(1), ms(2), ms(4), ms(4), ms(4)]);
        assert_eq!(b.ceiling(u32::MAX), ms(4));
    }

    #[test]
    fn jitter_stays_within_the_interval() {
        let retry = Backoff::API_RETRY;
        for attempt in 1..10 {
            assert!(retry.delay(attempt) <= retry.ceiling(attempt));
        }
    }
}
