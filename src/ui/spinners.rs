//! Spinners for the steps that wait on the platform: a commit (showing its phase), a fresh
//! backup (the time spent CREATING) and a restore (the time spent RESTORING). One per migration
//! and step, drawn in the run's MultiProgress, cleared when that step's Done or Failed event
//! arrives, or when the run is dropped (an error, Ctrl-C).

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressState, ProgressStyle};

use super::progress::clearing;
use crate::migrate::events::{Event, Happening, Phase, Step};
use crate::plan::BackupChoice;

const TICK: Duration = Duration::from_millis(120);

pub struct Spinners {
    multi: MultiProgress,
    live: Mutex<Vec<Live>>,
}

struct Live {
    /// `None` for the stage-wide steps (the commits of create and relink).
    migration: Option<String>,
    step: Step,
    bar: ProgressBar,
}

/// What an event shows as a spinner, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Commit,
    /// A fresh backup being made: the engine reports only its start and its end.
    Backup,
    Wait,
}

impl Kind {
    pub fn of(event: &Event) -> Option<Kind> {
        match (event.phase, &event.happening) {
            (Phase::Progress, Happening::CommitPhase { .. }) => Some(Kind::Commit),
            (Phase::Progress, Happening::Restoring) => Some(Kind::Wait),
            (
                Phase::Started,
                Happening::ChoosingBackup {
                    choice: BackupChoice::Fresh,
                },
            ) => Some(Kind::Backup),
            _ => None,
        }
    }

    /// Whether the event is also a log line: a start is, progress is the spinner's alone.
    pub fn also_a_line(self) -> bool {
        self == Kind::Backup
    }

    fn message(self, event: &Event) -> String {
        match self {
            Kind::Backup => "CREATING".to_owned(),
            Kind::Commit | Kind::Wait => event.happening.to_string(),
        }
    }
}

/// Whether a Done or Failed event ends the spinner of `(migration, step)`. A stage-wide event
/// (no migration) ends every migration's spinner of its step, and a stage-wide spinner ends with
/// the first event of its step; an event without a step (a failure) ends every step it covers.
fn closes(event: &Event, migration: Option<&str>, step: Step) -> bool {
    if !matches!(event.phase, Phase::Done | Phase::Failed) {
        return false;
    }
    let same_step = event.step.is_none_or(|s| s == step);
    let same_migration = match (event.migration.as_deref(), migration) {
        (None, _) | (_, None) => true,
        (Some(a), Some(b)) => a == b,
    };
    same_step && same_migration
}

impl Spinners {
    pub fn new(multi: MultiProgress) -> Self {
        Spinners {
            multi,
            live: Mutex::new(Vec::new()),
        }
    }

    /// Starts or updates the spinner for this progress event.
    pub fn show(&self, kind: Kind, event: &Event, prefix: String) {
        let Some(step) = event.step else { return };
        let Ok(mut live) = self.live.lock() else {
            return;
        };
        let migration = event.migration.as_deref();
        if let Some(found) = live
            .iter()
            .find(|l| l.step == step && l.migration.as_deref() == migration)
        {
            found.bar.set_message(kind.message(event));
            return;
        }
        let bar = match kind {
            Kind::Commit | Kind::Backup => ProgressBar::new_spinner(),
            // The wait's own clock, so the time shown counts from the restore's start.
            Kind::Wait => {
                ProgressBar::new_spinner().with_elapsed(Duration::from_millis(event.elapsed_ms))
            }
        };
        let bar = self.multi.add(clearing(bar));
        bar.set_style(style(kind));
        bar.set_prefix(prefix);
        bar.set_message(kind.message(event));
        bar.enable_steady_tick(TICK);
        live.push(Live {
            migration: migration.map(str::to_owned),
            step,
            bar,
        });
    }

    /// Clears the spinners this event ends (see [`closes`]).
    pub fn close(&self, event: &Event) {
        let Ok(mut live) = self.live.lock() else {
            return;
        };
        live.retain(|l| {
            if closes(event, l.migration.as_deref(), l.step) {
                end(&self.multi, &l.bar);
                false
            } else {
                true
            }
        });
    }
}

fn end(multi: &MultiProgress, bar: &ProgressBar) {
    bar.finish_and_clear();
    multi.remove(bar);
}

impl Drop for Spinners {
    /// A run that stops early (an error without a step event) leaves no spinner on the screen.
    fn drop(&mut self) {
        if let Ok(live) = self.live.get_mut() {
            for l in live.drain(..) {
                end(&self.multi, &l.bar);
            }
        }
    }
}

fn style(kind: Kind) -> ProgressStyle {
    let template = match kind {
        Kind::Commit => "{prefix} {spinner} {msg}",
        Kind::Backup | Kind::Wait => "{prefix} {spinner} {msg} for {waited}",
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .with_key(
            "waited",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", minutes(state.elapsed()));
            },
        )
}

/// `3m07s`: the same form as the plain lines.
pub fn minutes(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    format!("{}m{:02}s", secs / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::CommitPhase;

    fn event(
        migration: Option<&str>,
        step: Option<Step>,
        phase: Phase,
        happening: Happening,
    ) -> Event {
        Event {
            run_id: "r".into(),
            migration: migration.map(str::to_owned),
            step,
            phase,
            attempt: None,
            bytes: None,
            total: None,
            elapsed_ms: 0,
            happening,
        }
    }

    fn phase(phase: CommitPhase, applied: u32, total: u32) -> Happening {
        Happening::CommitPhase {
            phase,
            applied,
            total,
        }
    }

    fn boom() -> Happening {
        Happening::Failed {
            text: "boom".into(),
            error_code: None,
            request_id: None,
        }
    }

    #[test]
    fn commits_and_waits_are_spinners_nothing_else() {
        let commit = event(
            None,
            Some(Step::Create),
            Phase::Progress,
            phase(CommitPhase::Planning, 0, 2),
        );
        assert_eq!(Kind::of(&commit), Some(Kind::Commit));
        let relink = event(
            None,
            Some(Step::Relink),
            Phase::Progress,
            phase(CommitPhase::Applying, 1, 2),
        );
        assert_eq!(Kind::of(&relink), Some(Kind::Commit));
        let wait = event(
            Some("files2"),
            Some(Step::Wait),
            Phase::Progress,
            Happening::Restoring,
        );
        assert_eq!(Kind::of(&wait), Some(Kind::Wait));
        let download = event(
            Some("files2"),
            Some(Step::Download),
            Phase::Progress,
            Happening::Downloading,
        );
        assert_eq!(Kind::of(&download), None);
        let info = event(
            None,
            Some(Step::Create),
            Phase::Info,
            phase(CommitPhase::Planning, 0, 2),
        );
        assert_eq!(Kind::of(&info), None);
        let other = event(
            None,
            Some(Step::Create),
            Phase::Progress,
            Happening::TargetsExist,
        );
        assert_eq!(Kind::of(&other), None);
        let fresh = event(
            Some("files2"),
            Some(Step::Backup),
            Phase::Started,
            Happening::ChoosingBackup {
                choice: BackupChoice::Fresh,
            },
        );
        assert_eq!(Kind::of(&fresh), Some(Kind::Backup));
        assert!(Kind::Backup.also_a_line() && !Kind::Wait.also_a_line());
        let latest = event(
            Some("files2"),
            Some(Step::Backup),
            Phase::Started,
            Happening::ChoosingBackup {
                choice: BackupChoice::Latest,
            },
        );
        assert_eq!(Kind::of(&latest), None);
    }

    #[test]
    fn a_step_ends_its_own_spinners_only() {
        let done = event(
            Some("files2"),
            Some(Step::Wait),
            Phase::Done,
            Happening::RestoreFinishedEarlier,
        );
        assert!(closes(&done, Some("files2"), Step::Wait));
        assert!(!closes(&done, Some("media2"), Step::Wait));
        assert!(!closes(&done, Some("files2"), Step::Relink));
        let started = event(
            Some("files2"),
            Some(Step::Wait),
            Phase::Started,
            Happening::WaitStarted,
        );
        assert!(!closes(&started, Some("files2"), Step::Wait));
        // Relink is committed stage-wide but reported done per migration.
        let relinked = event(
            Some("files2"),
            Some(Step::Relink),
            Phase::Done,
            Happening::Relinked {
                app: "web".into(),
                target: "files2".into(),
                at: "FILES".into(),
            },
        );
        assert!(closes(&relinked, None, Step::Relink));
        let created = event(
            None,
            Some(Step::Create),
            Phase::Done,
            Happening::CreatedTargets {
                targets: vec!["files2".into()],
            },
        );
        assert!(closes(&created, None, Step::Create));
        assert!(!closes(&created, None, Step::Relink));
        // A failure without a step ends everything of its migration, or of the whole run.
        let failed = event(Some("media2"), None, Phase::Failed, boom());
        assert!(closes(&failed, Some("media2"), Step::Wait));
        assert!(!closes(&failed, Some("files2"), Step::Wait));
        let run_failed = event(None, None, Phase::Failed, boom());
        assert!(closes(&run_failed, Some("files2"), Step::Wait));
        assert!(closes(&run_failed, None, Step::Relink));
    }

    #[test]
    fn minutes_match_the_plain_lines() {
        assert_eq!(minutes(Duration::from_millis(999)), "0m00s");
        assert_eq!(minutes(Duration::from_secs(187)), "3m07s");
    }
}
