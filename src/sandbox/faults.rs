//! Fault knobs (`PUT /_sandbox/faults`): counters that make the next requests fail in a chosen
//! way, switches for download behaviour, and the delays of asynchronous work. They live in memory
//! only: a restarted sandbox starts without faults.

use std::sync::Mutex;
use std::time::Duration;

use crate::api::Faults;

pub(crate) const DEFAULT_BACKUP_DELAY_MS: u64 = 300;
pub(crate) const DEFAULT_RESTORE_DELAY_MS: u64 = 500;
pub(crate) const DEFAULT_COMMIT_PHASE_MS: u64 = 200;
pub(crate) const DEFAULT_TASK_DELAY_MS: u64 = 1000;

/// What one download response must do wrong, decided (and counters consumed) when it starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DownloadFaults {
    pub cut_after: Option<u64>,
    pub corrupt: bool,
    pub short: bool,
    pub ignore_range: bool,
    pub rotate_etag: bool,
}

pub(crate) struct Knobs {
    current: Mutex<Faults>,
}

fn take(counter: &mut Option<u32>) -> bool {
    match counter {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => false,
    }
}

impl Knobs {
    pub fn new() -> Self {
        Knobs {
            current: Mutex::new(Faults::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Faults> {
        // A panic while holding this lock cannot leave the plain data inconsistent.
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every knob with its effective value (defaults filled in).
    pub fn snapshot(&self) -> Faults {
        let f = self.lock();
        Faults {
            overload_next: Some(f.overload_next.unwrap_or(0)),
            cut_download_after: Some(f.cut_download_after.unwrap_or(0)),
            cut_download_next: Some(f.cut_download_next.unwrap_or(0)),
            ignore_range: Some(f.ignore_range.unwrap_or(false)),
            rotate_etag: Some(f.rotate_etag.unwrap_or(false)),
            corrupt_download_next: Some(f.corrupt_download_next.unwrap_or(0)),
            short_download_next: Some(f.short_download_next.unwrap_or(0)),
            backup_delay_ms: Some(f.backup_delay_ms.unwrap_or(DEFAULT_BACKUP_DELAY_MS)),
            restore_delay_ms: Some(f.restore_delay_ms.unwrap_or(DEFAULT_RESTORE_DELAY_MS)),
            commit_phase_ms: Some(f.commit_phase_ms.unwrap_or(DEFAULT_COMMIT_PHASE_MS)),
            task_delay_ms: Some(f.task_delay_ms.unwrap_or(DEFAULT_TASK_DELAY_MS)),
        }
    }

    /// Fields present in `update` replace the current values; the others stay.
    pub fn merge(&self, update: Faults) -> Faults {
        {
            let mut f = self.lock();
            macro_rules! merge {
                ($($field:ident),*) => { $( if update.$field.is_some() { f.$field = update.$field; } )* };
            }
            merge!(
                overload_next,
                cut_download_after,
                cut_download_next,
                ignore_range,
                rotate_etag,
                corrupt_download_next,
                short_download_next,
                backup_delay_ms,
                restore_delay_ms,
                commit_phase_ms,
                task_delay_ms
            );
        }
        self.snapshot()
    }

    /// Consumes one `overload_next`; true when this request must answer 503.
    pub fn take_overload(&self) -> bool {
        take(&mut self.lock().overload_next)
    }

    /// Decides the faults of one download response, consuming the counters it uses.
    pub fn take_download(&self) -> DownloadFaults {
        let mut f = self.lock();
        let cut_after = f.cut_download_after;
        DownloadFaults {
            cut_after: match cut_after {
                Some(n) if take(&mut f.cut_download_next) => Some(n),
                _ => None,
            },
            corrupt: take(&mut f.corrupt_download_next),
            short: take(&mut f.short_download_next),
            ignore_range: f.ignore_range.unwrap_or(false),
            rotate_etag: f.rotate_etag.unwrap_or(false),
        }
    }

    /// How long after a commit an app's containers take to start or stop.
    pub fn task_delay(&self) -> Duration {
        Duration::from_millis(self.lock().task_delay_ms.unwrap_or(DEFAULT_TASK_DELAY_MS))
    }

    pub fn backup_delay(&self) -> Duration {
        Duration::from_millis(
            self.lock()
                .backup_delay_ms
                .unwrap_or(DEFAULT_BACKUP_DELAY_MS),
        )
    }

    pub fn restore_delay(&self) -> Duration {
        Duration::from_millis(
            self.lock()
                .restore_delay_ms
                .unwrap_or(DEFAULT_RESTORE_DELAY_MS),
        )
    }

    pub fn commit_phase(&self) -> Duration {
        Duration::from_millis(
            self.lock()
                .commit_phase_ms
                .unwrap_or(DEFAULT_COMMIT_PHASE_MS),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_absent_fields_and_counters_run_out() {
        let knobs = Knobs::new();
        knobs.merge(Faults {
            overload_next: Some(2),
            ..Faults::default()
        });
        let now = knobs.merge(Faults {
            restore_delay_ms: Some(5),
            ..Faults::default()
        });
        assert_eq!(now.overload_next, Some(2));
        assert_eq!(now.restore_delay_ms, Some(5));
        assert_eq!(now.backup_delay_ms, Some(DEFAULT_BACKUP_DELAY_MS));
        assert!(knobs.take_overload());
        assert!(knobs.take_overload());
        assert!(!knobs.take_overload());
    }

    #[test]
    fn cut_needs_both_a_length_and_a_count() {
        let knobs = Knobs::new();
        knobs.merge(Faults {
            cut_download_next: Some(1),
            ..Faults::default()
        });
        assert_eq!(knobs.take_download().cut_after, None);
        knobs.merge(Faults {
            cut_download_after: Some(10),
            cut_download_next: Some(1),
            ..Faults::default()
        });
        assert_eq!(knobs.take_download().cut_after, Some(10));
        assert_eq!(knobs.take_download().cut_after, None);
    }
}
