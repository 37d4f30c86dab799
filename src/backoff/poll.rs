//! Polling the platform until a state changes (a commit, a backup being made, a restore): when
//! to look again. The interval depends on how long the wait has lasted:
//!
//! - under 0.8 s it doubles from 100 ms, so a commit that takes a moment is seen at once;
//! - then it is 1.6 s until a minute has passed, so a wait that ends within the minute is
//!   noticed 0.8 s after it ended on average;
//! - after that it grows by half a second per second waited, up to 15 s: on average late by
//!   less than a tenth of the time waited, never by more than 15 s.
//!
//! The first 1.6 s interval is cut to a random length, so the looks of a wait fall at a random
//! phase: a wait of any given length is then noticed 0.8 s late on average, instead of always
//! late by the same amount (a restore that always takes 5 s could otherwise end just after a look,
//! every time). It also keeps concurrent waits from looking in step.
//!
//! A 10-minute wait costs 82 status requests. No schedule can also stay within 60: being under
//! 1 s late on average through the first minute takes more than 30 looks (their intervals sum to
//! 60 s while their squares must sum to under 120 s²), and never being more than 15 s late takes
//! 36 more for the other nine minutes.

use std::time::{Duration, Instant};

use rand::Rng;

const FIRST: Duration = Duration::from_millis(100);
/// Below this the interval doubles; at it the flat stretch begins.
const DOUBLING: Duration = Duration::from_millis(800);
const FLAT: Duration = Duration::from_millis(1600);
const MINUTE: Duration = Duration::from_secs(60);
/// The longest interval, and so the most a finished wait is noticed late.
const LONGEST: Duration = Duration::from_secs(15);

/// The intervals of one wait.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    /// The cut first interval of the flat stretch, until it is used.
    phase: Option<Duration>,
}

impl Schedule {
    fn with_phase(phase: Duration) -> Self {
        Schedule {
            phase: Some(phase.min(FLAT)),
        }
    }

    fn random() -> Self {
        let phase = rand::thread_rng().gen_range(Duration::from_millis(1)..=FLAT);
        Schedule::with_phase(phase)
    }

    /// The sleep after a look `elapsed` into the wait.
    fn next(&mut self, elapsed: Duration) -> Duration {
        if elapsed < DOUBLING {
            return elapsed.max(FIRST);
        }
        if let Some(phase) = self.phase.take() {
            return phase;
        }
        if elapsed < MINUTE {
            return FLAT;
        }
        (FLAT + (elapsed - MINUTE) / 2).min(LONGEST)
    }
}

/// The clock of one wait: started when the wait begins, asked how long to sleep after each look.
#[derive(Debug, Clone, Copy)]
pub struct Poller {
    started: Instant,
    schedule: Schedule,
}

impl Poller {
    pub fn start() -> Self {
        Poller {
            started: Instant::now(),
            schedule: Schedule::random(),
        }
    }

    /// The sleep after a look at `now`: the schedule's interval, never past `deadline`.
    fn wait_at(&mut self, now: Instant, deadline: Instant) -> Duration {
        let interval = self
            .schedule
            .next(now.saturating_duration_since(self.started));
        interval.min(deadline.saturating_duration_since(now))
    }

    /// Sleeps until the next look is due, or until `deadline` if that comes first.
    pub async fn sleep(&mut self, deadline: Instant) {
        let wait = self.wait_at(Instant::now(), deadline);
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Phases spread evenly over the flat interval, standing in for the random one.
    fn phases() -> Vec<Duration> {
        (1..=36).map(|i| FLAT * i / 36).collect()
    }

    /// When the looks of a wait with `phase` happen (seconds into the wait) until one is at or
    /// past `until`: the first at once, then one per interval.
    fn looks(phase: Duration, until: f64) -> Vec<f64> {
        let mut schedule = Schedule::with_phase(phase);
        let mut at = vec![0.0];
        while let Some(&last) = at.last()
            && last < until
        {
            at.push(last + schedule.next(Duration::from_secs_f64(last)).as_secs_f64());
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

    /// Mean and maximum lateness, over the phases, of a wait ending `end` seconds in.
    fn late(all: &[Vec<f64>], end: f64) -> (f64, f64) {
        let each: Vec<f64> = all.iter().map(|looks| lateness(looks, end)).collect();
        let mean = each.iter().sum::<f64>() / each.len() as f64;
        (mean, each.iter().copied().fold(0.0, f64::max))
    }

    fn all_looks(until: f64) -> Vec<Vec<f64>> {
        phases().into_iter().map(|p| looks(p, until)).collect()
    }

    #[test]
    fn every_wait_under_a_minute_is_noticed_within_a_second_on_average() {
        let all = all_looks(120.0);
        for end in (1..6000).map(|i| f64::from(i) * 0.01) {
            let (mean, max) = late(&all, end);
            // The evenly spread phases average 0.82 s where random ones average 0.8 s.
            assert!(
                mean < 0.83,
                "a wait of {end:.2} s: {mean:.3} s late on average"
            );
            assert!(
                max <= 1.6 + 1e-9,
                "a wait of {end:.2} s: up to {max:.3} s late"
            );
        }
        // Below the flat stretch the looks are at 0.1, 0.2, 0.4 and 0.8 s.
        let (mean, max) = late(&all, 0.3);
        assert!((mean - 0.1).abs() < 1e-9 && (max - 0.1).abs() < 1e-9);
    }

    #[test]
    fn longer_waits_are_late_by_under_a_tenth_on_average_and_never_15_s() {
        let all = all_looks(4000.0);
        for end in (0..27_000).map(|i| 60.0 + f64::from(i) * 0.13) {
            let (mean, max) = late(&all, end);
            assert!(
                mean <= end * 0.10,
                "a wait of {end:.1} s: {mean:.2} s late on average"
            );
            assert!(
                max <= 15.0 + 1e-9,
                "a wait of {end:.1} s: up to {max:.2} s late"
            );
        }
    }

    #[test]
    fn a_ten_minute_wait_costs_at_most_83_requests() {
        // Every look up to the one that sees a wait ending at 600 s, the first (at once) included.
        let counts: Vec<usize> = phases()
            .into_iter()
            .map(|p| looks(p, 600.0).len())
            .collect();
        assert!(counts.iter().all(|&n| (82..=83).contains(&n)), "{counts:?}");
        let hour: Vec<usize> = phases()
            .into_iter()
            .map(|p| looks(p, 3600.0).len())
            .collect();
        assert!(hour.iter().all(|&n| n <= 283), "{hour:?}");
    }

    #[test]
    fn the_interval_grows_with_the_wait_within_its_bounds() {
        let ms = Duration::from_millis;
        let mut s = Schedule::with_phase(ms(700));
        assert_eq!(s.next(ms(0)), ms(100));
        assert_eq!(s.next(ms(400)), ms(400));
        assert_eq!(s.next(ms(800)), ms(700), "the cut first flat interval");
        assert_eq!(s.next(ms(1500)), ms(1600));
        assert_eq!(s.next(ms(59_000)), ms(1600));
        assert_eq!(s.next(ms(70_000)), ms(6600));
        assert_eq!(s.next(ms(600_000)), ms(15_000));
        assert_eq!(s.next(Duration::MAX), ms(15_000));
        let random = Schedule::random().phase.expect("a phase");
        assert!(random > Duration::ZERO && random <= FLAT, "{random:?}");
    }

    #[test]
    fn a_look_is_never_scheduled_past_the_deadline() {
        let mut poller = Poller::start();
        let now = poller.started + Duration::from_secs(300);
        // The phase is used at the first look past 0.8 s; 300 s in the interval is the longest.
        poller.wait_at(now, now + Duration::from_secs(60));
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
