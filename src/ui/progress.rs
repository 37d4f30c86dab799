//! Transfer progress on a terminal: one indicatif bar per transfer with bytes, rate and ETA, in
//! the SI units every size line uses (`150.8 kB`). Without a terminal nothing is drawn; the
//! result line says what happened.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressState, ProgressStyle};

use crate::transfer::{NoProgress, TransferProgress};
use crate::units::format_size;

use super::output::Output;

/// `[=====>      ] 1.5 MB/3.0 MB 1.2 MB/s ETA 2s` after `head` (an indicatif template piece).
pub fn bar_style(head: &str) -> ProgressStyle {
    let template = format!("{head}[{{bar:28}}] {{done}}/{{size}} {{rate}} ETA {{eta}}");
    ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("done", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&format_size(s.pos()));
        })
        .with_key("size", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = match s.len() {
                Some(len) => w.write_str(&format_size(len)),
                None => w.write_str("?"),
            };
        })
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}/s", format_size(s.per_sec() as u64));
        })
        .progress_chars("=> ")
}

/// A bar that is dropped unfinished (an error, Ctrl-C) is cleared, not left frozen on the
/// screen: the error or the result line says what happened.
pub fn clearing(bar: ProgressBar) -> ProgressBar {
    bar.with_finish(ProgressFinish::AndClear)
}

pub struct BarProgress {
    bar: ProgressBar,
}

impl BarProgress {
    fn new() -> Self {
        let bar = clearing(ProgressBar::with_draw_target(
            Some(0),
            ProgressDrawTarget::stderr(),
        ));
        bar.set_style(bar_style("{msg} "));
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
