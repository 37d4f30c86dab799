//! Capped exponential backoff: the one place that says how long to wait before the next try.
//! Two policies share it: polling the platform for a state change (equal jitter, so a poll never
//! comes much earlier than the interval) and retrying a failed API call (full jitter, so clients
//! that failed together do not retry together).

use std::time::Duration;

use rand::Rng;

/// How much of the interval is random.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// A wait between half and all of the interval.
    Equal,
    /// A wait between zero and all of the interval.
    Full,
}

/// Intervals of `base * 2^(attempt-1)`, capped at `max`, with `jitter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub jitter: Jitter,
}

impl Backoff {
    /// Waiting for the platform to change state (commits, backups, restores): starts quick,
    /// settles at 5 s.
    pub const PLATFORM_POLL: Backoff =
        Backoff::polling(Duration::from_millis(200), Duration::from_secs(5));
    /// Retrying a failed API call.
    pub const API_RETRY: Backoff =
        Backoff::retrying(Duration::from_millis(250), Duration::from_secs(8));

    /// Polling: equal jitter spreads concurrent pollers without polling early.
    pub const fn polling(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            jitter: Jitter::Equal,
        }
    }

    /// Retrying: full jitter keeps many clients that failed together from retrying together.
    pub const fn retrying(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            jitter: Jitter::Full,
        }
    }

    /// The interval after attempt number `attempt` (1-based): `base * 2^(attempt-1)`, capped.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A random wait for attempt `attempt`, within the jitter's share of its interval.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt);
        let floor = match self.jitter {
            Jitter::Equal => ceiling / 2,
            Jitter::Full => Duration::ZERO,
        };
        rand::thread_rng().gen_range(floor..=ceiling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_double_up_to_the_cap() {
        let b = Backoff::polling(Duration::from_millis(1), Duration::from_millis(4));
        let got: Vec<_> = (1..=5).map(|a| b.ceiling(a)).collect();
        let ms = Duration::from_millis;
        assert_eq!(got, [ms(1), ms(2), ms(4), ms(4), ms(4)]);
        assert_eq!(b.ceiling(u32::MAX), ms(4));
    }

    #[test]
    fn jitter_stays_in_its_share_of_the_interval() {
        let poll = Backoff::PLATFORM_POLL;
        let retry = Backoff::API_RETRY;
        for attempt in 1..10 {
            let d = poll.delay(attempt);
            assert!(d >= poll.ceiling(attempt) / 2 && d <= poll.ceiling(attempt));
            assert!(retry.delay(attempt) <= retry.ceiling(attempt));
        }
    }
}
