//! Polling the platform until a state changes (a commit, a backup being made, a restore): when
//! to ask again. The interval depends only on how long the wait has lasted:
//!
//! - during the first seconds it doubles from 100 ms, so a commit that takes a moment is seen
//!   at once;
//! - then it stays at 1.8 s until a minute has passed, so a wait under a minute is noticed on
//!   average 0.9 s after it ended;
//! - after that it is a sixth of the time waited, at most 15 s: on average late by a twelfth of
//!   the elapsed time, never by more than 15 s.
//!
//! A 10-minute wait costs 76 status requests. Nothing can do both of the other things in 60: being
//! under 1 s late on average through the first minute takes more than 30 polls (their
//! intervals sum to 60 s while their squares must sum to under 120 s²), and never being more
//! than 15 s late takes 36 more for the other 9 minutes. There is no jitter: each wait runs on
//! its own clock, started when it began, so concurrent waits do not poll in step.

use std::time::{Duration, Instant};

const FIRST: Duration = Duration::from_millis(100);
const FIRST_MINUTE: Duration = Duration::from_millis(1800);
const MINUTE: Duration = Duration::from_secs(60);
/// After the first minute the interval is the elapsed time divided by this.
const SHARE: u32 = 6;
/// The longest interval, and so the most a finished wait is noticed late.
const LONGEST: Duration = Duration::from_secs(15);

/// How long to wait before the next look, `elapsed` into the wait.
pub fn poll_interval(elapsed: Duration) -> Duration {
    if elapsed < MINUTE {
        elapsed.clamp(FIRST, FIRST_MINUTE)
    } else {
        (elapsed / SHARE).clamp(FIRST_MINUTE, LONGEST)
    }
}

/// The clock of one wait: started when the wait begins, asked how long to sleep after each look.
#[derive(Debug, Clone, Copy)]
pub struct Poller {
    started: Instant,
}

impl Poller {
    pub fn start() -> Self {
        Poller {
            started: Instant::now(),
        }
    }

    /// The sleep before the next look at `now`: the schedule's interval, never past `deadline`.
    fn wait_at(&self, now: Instant, deadline: Instant) -> Duration {
        let interval = poll_interval(now.saturating_duration_since(self.started));
        interval.min(deadline.saturating_duration_since(now))
    }

    /// Sleeps until the next look is due, or until `deadline` if that comes first.
    pub async fn sleep(&self, deadline: Instant) {
        tokio::time::sleep(self.wait_at(Instant::now(), deadline)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When the looks happen (seconds into the wait) up to `until`: the first at once, then one
    /// per interval.
    fn looks(until: f64) -> Vec<f64> {
        let mut at = vec![0.0];
        while let Some(&last) = at.last()
            && last < until
        {
            at.push(last + poll_interval(Duration::from_secs_f64(last)).as_secs_f64());
        }
        at
    }

    /// How late a wait that ends `end` seconds in is noticed: at the first look at or after it.
    fn lateness(looks: &[f64], end: f64) -> f64 {
        let seen = looks
            .iter()
            .find(|&&t| t >= end)
            .expect("the looks reach past the end");
        seen - end
    }

    /// Waits ending every 10 ms in `from..to` seconds.
    fn ends(from: f64, to: f64) -> Vec<f64> {
        (0..)
            .map(|i| from + f64::from(i) * 0.01)
            .take_while(|&e| e < to)
            .collect()
    }

    fn mean(values: impl Iterator<Item = f64>) -> f64 {
        let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
        sum / f64::from(n)
    }

    /// Mean and maximum lateness of waits ending every 10 ms in `from..to` seconds.
    fn late_between(looks: &[f64], from: f64, to: f64) -> (f64, f64) {
        let late: Vec<f64> = ends(from, to).iter().map(|&e| lateness(looks, e)).collect();
        (
            mean(late.iter().copied()),
            late.iter().copied().fold(0.0, f64::max),
        )
    }

    #[test]
    fn waits_under_a_minute_are_noticed_within_a_second_on_average() {
        let looks = looks(4000.0);
        let (mean, max) = late_between(&looks, 0.0, 60.0);
        assert!(mean < 1.0, "mean {mean:.3} s");
        assert!(max <= 1.8 + 1e-9, "max {max:.3} s");
        // Every 10-second stretch of the first minute, not only the minute as a whole.
        for from in (0..6).map(|i| f64::from(i) * 10.0) {
            let (mean, _) = late_between(&looks, from, from + 10.0);
            assert!(
                mean < 1.0,
                "mean {mean:.3} s for waits ending in {from}..+10 s"
            );
        }
        // A 5-second wait: 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0.
        assert!(lateness(&looks, 5.0) < 1.0);
    }

    #[test]
    fn longer_waits_are_late_by_at_most_a_tenth_on_average_and_never_15_s() {
        let looks = looks(4000.0);
        for minute in 1..60 {
            let from = f64::from(minute) * 60.0;
            let share = mean(
                ends(from, from + 60.0)
                    .iter()
                    .map(|&e| lateness(&looks, e) / e),
            );
            assert!(
                share <= 0.10,
                "late by {:.1} % of the wait on average for waits ending in {from}..+60 s",
                share * 100.0
            );
            let (_, max) = late_between(&looks, from, from + 60.0);
            assert!(max <= 15.0 + 1e-9, "max {max:.2} s after {from} s");
        }
    }

    #[test]
    fn a_ten_minute_wait_costs_76_requests() {
        // Every look up to the one that sees a wait ending at 600 s, the first (at once) included.
        assert_eq!(looks(600.0).len(), 76);
        assert_eq!(looks(3600.0).len(), 276);
    }

    #[test]
    fn the_interval_grows_with_the_wait_within_its_bounds() {
        let ms = Duration::from_millis;
        assert_eq!(poll_interval(ms(0)), ms(100));
        assert_eq!(poll_interval(ms(400)), ms(400));
        assert_eq!(poll_interval(ms(30_000)), ms(1800));
        assert_eq!(poll_interval(ms(60_000)), ms(10_000));
        assert_eq!(poll_interval(ms(600_000)), ms(15_000));
        assert_eq!(poll_interval(Duration::MAX), ms(15_000));
    }

    #[test]
    fn a_look_is_never_scheduled_past_the_deadline() {
        let poller = Poller::start();
        let now = poller.started + Duration::from_secs(300);
        assert_eq!(
            poller.wait_at(now, now + Duration::from_secs(60)),
            Duration::from_secs(15)
        );
        assert_eq!(
            poller.wait_at(now, now + Duration::from_millis(20)),
            Duration::from_millis(20)
        );
        assert_eq!(poller.wait_at(now, now), Duration::ZERO);
        assert_eq!(
            poller.wait_at(now, now - Duration::from_secs(1)),
            Duration::ZERO
        );
    }
}
