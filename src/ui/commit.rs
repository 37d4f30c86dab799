//! How a commit's phases look: `◢ Initializing…`, `◤ Planning…`, `◣ Applying… (17/28)` as the
//! SetOps CLI shows them (`changeset:commit`), or `commit Planning…` inside a run.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::migrate::commit::CommitProgress;
use crate::model::CommitPhase;

use super::Output;

/// The phase as a run's event line shows it: `Planning…`, `Applying… (1/2)`.
pub fn phase_text(phase: CommitPhase, applied: u32, total: u32) -> String {
    match phase {
        CommitPhase::Applying | CommitPhase::Done => format!("Applying… ({applied}/{total})"),
        phase => format!("{phase}…"),
    }
}

/// The phase as the SetOps CLI prints it.
fn cli_text(phase: CommitPhase, applied: u32, total: u32) -> String {
    let mark = match phase {
        CommitPhase::Initializing => "◢",
        CommitPhase::Planning => "◤",
        CommitPhase::Applying | CommitPhase::Done => "◣",
    };
    format!("{mark} {}", phase_text(phase, applied, total))
}

/// `changeset:commit`'s view of a commit: a spinner on a terminal, one line per phase otherwise.
pub struct CommitDisplay {
    output: Output,
    spinner: Option<ProgressBar>,
    last: Option<CommitPhase>,
}

impl CommitDisplay {
    pub fn new(output: Output) -> Self {
        let spinner = output.interactive.then(|| {
            let s = super::progress::clearing(ProgressBar::new_spinner());
            s.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            s.enable_steady_tick(Duration::from_millis(120));
            s
        });
        CommitDisplay {
            output,
            spinner,
            last: None,
        }
    }

    /// Phases come in order; one that passed between two polls is still shown, so the output
    /// always reads Initializing, Planning, Applying.
    pub fn show(&mut self, p: CommitProgress) {
        for phase in [CommitPhase::Initializing, CommitPhase::Planning] {
            if self.last.is_none_or(|l| l < phase) && phase < p.phase {
                self.line(cli_text(phase, p.applied, p.total));
            }
        }
        self.last = Some(p.phase);
        self.line(cli_text(p.phase, p.applied, p.total));
    }

    fn line(&self, text: String) {
        match &self.spinner {
            Some(s) => s.set_message(text),
            None => self.output.line(&text),
        }
    }
}

impl Drop for CommitDisplay {
    fn drop(&mut self) {
        if let Some(s) = &self.spinner {
            s.finish_and_clear();
        }
    }
}
