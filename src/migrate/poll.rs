//! Polling with capped exponential backoff and jitter, against a deadline.

use std::time::{Duration, Instant};

use rand::Rng;

pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff { next: initial, max }
    }

    /// For platform state changes (commits, backups, restores): starts quick, settles at 5 s.
    pub fn for_platform() -> Self {
        Backoff::new(Duration::from_millis(200), Duration::from_secs(5))
    }

    /// Sleeps between half and all of the current interval (jitter spreads concurrent pollers),
    /// never past `deadline`; then doubles the interval up to the cap.
    pub async fn sleep(&mut self, deadline: Instant) {
        let half = self.next / 2;
        let jitter = rand::thread_rng().gen_range(Duration::ZERO..=half);
        let wanted = half + jitter;
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(wanted.min(left)).await;
        self.next = (self.next * 2).min(self.max);
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
        assert_eq!(b.next, Duration::from_millis(4));
    }
}
