//! Transfer progress on a terminal: one indicatif bar per transfer with bytes, rate and ETA.
//! Without a terminal nothing is drawn; the result line says what happened.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::transfer::{NoProgress, TransferProgress};

use super::output::Output;

pub struct BarProgress {
    bar: ProgressBar,
}

impl BarProgress {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        BarProgress { bar }
    }
}

impl BarProgress {
    /// Wraps a bar that is already styled and placed (for example in a MultiProgress).
    pub fn from_bar(bar: ProgressBar) -> Self {
        BarProgress { bar }
    }
}

impl TransferProgress for BarProgress {
    fn start(&self, label: &str, total: u64, already: u64) {
        // A bar made for one migration keeps its own label.
        if self.bar.message().is_empty() {
            self.bar.set_message(label.to_owned());
        }
        self.bar.set_length(total);
        self.bar.set_position(already);
        self.bar.reset_eta();
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn restart(&self) {
        self.bar.set_position(0);
        self.bar.reset_eta();
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A bar where a person watches, nothing elsewhere.
pub fn transfer_progress(output: &Output) -> Box<dyn TransferProgress> {
    if output.interactive {
        Box::new(BarProgress::new())
    } else {
        Box::new(NoProgress)
    }
}
