//! Polling with capped exponential backoff and jitter, against a deadline.

use std::time::{Duration, Instant};

use crate::backoff::Backoff as Policy;

/// Where a poll loop is in its backoff policy.
pub struct Backoff {
    policy: Policy,
    attempt: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff::with(Policy::polling(initial, max))
    }

    /// For platform state changes (commits, backups, restores).
    pub fn for_platform() -> Self {
        Backoff::with(Policy::PLATFORM_POLL)
    }

    fn with(policy: Policy) -> Self {
        Backoff { policy, attempt: 1 }
    }

    /// The interval the next sleep draws from.
    #[cfg(test)]
    fn next(&self) -> Duration {
        self.policy.ceiling(self.attempt)
    }

    /// Sleeps between half and all of the current interval (the policy's jitter), never past
    /// `deadline`; the next interval is twice as long, up to the cap.
    pub async fn sleep(&mut self, deadline: Instant) {
        let wanted = self.policy.delay(self.attempt);
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(wanted.min(left)).await;
        self.attempt = self.attempt.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_sleeps_past_the_deadline() {
        let mut b = Backoff::new(Duration::from_secs(60), Duration::from_secs(60));
        let start = Instant::now();
        b.sleep(start + Duration::from_millis(20)).await;
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn interval_doubles_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(1), Duration::from_millis(4));
        let far = Instant::now() + Duration::from_secs(10);
        for _ in 0..5 {
            b.sleep(far).await;
        }
        assert_eq!(b.next(), Duration::from_millis(4));
    }
}
