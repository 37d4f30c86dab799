//! How a run looks: bars, spinners and log lines on a terminal, timestamped lines without one, or
//! one JSON event per line. The engine only emits [`Event`]s; this module draws them.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget};
use serde::Serialize;

use crate::compat::Finding;
use crate::migrate::Summary;
use crate::migrate::events::{Event, EventSink, Happening, Phase, Step};
use crate::transfer::{NoProgress, TransferProgress};

use super::output::{Output, OutputFormat};
use super::progress::{BarProgress, bar_style, clearing};
use super::spinners::{Kind, Spinners, minutes};

pub struct RunDisplay {
    output: Output,
    /// Bars, spinners and log lines share one MultiProgress so lines never tear a bar.
    multi: Option<MultiProgress>,
    spinners: Option<Spinners>,
    /// Plain mode prints wait progress at most this often per migration.
    last_wait_line: Mutex<Vec<(String, Instant)>>,
    /// The failures printed as log lines without a terminal, so the run's final error is not
    /// printed a second time right below its own line.
    logged_failures: Mutex<Vec<String>>,
}

impl RunDisplay {
    pub fn new(output: Output) -> Self {
        respect_no_color();
        let multi = output
            .interactive
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        RunDisplay {
            output,
            spinners: multi.clone().map(Spinners::new),
            multi,
            last_wait_line: Mutex::new(Vec::new()),
            logged_failures: Mutex::new(Vec::new()),
        }
    }

    fn line(&self, text: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => {
                let stamp = chrono::Local::now().format("%H:%M:%S");
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{stamp} {text}");
            }
        }
    }

    /// Whether the log lines already showed `error` (its text, as `main` would print it), in a
    /// log without a terminal. On a terminal the final error stays: the log scrolls by.
    pub fn logged(&self, error: &crate::error::Error) -> bool {
        let text = crate::redact::redact(&error.to_string());
        self.logged_failures
            .lock()
            .is_ok_and(|seen| seen.contains(&text))
    }

    fn wait_line_due(&self, migration: &str) -> bool {
        let Ok(mut seen) = self.last_wait_line.lock() else {
            return true;
        };
        match seen.iter_mut().find(|(m, _)| m == migration) {
            Some((_, at)) if at.elapsed() < Duration::from_secs(10) => false,
            Some((_, at)) => {
                *at = Instant::now();
                true
            }
            None => {
                seen.push((migration.to_owned(), Instant::now()));
                true
            }
        }
    }
}

impl EventSink for RunDisplay {
    fn emit(&self, event: Event) {
        if self.output.format == OutputFormat::Json {
            self.output.json(&JsonLine::of(&event));
            return;
        }
        let who = event.migration.as_deref().unwrap_or("plan");
        let step = event.step.map(|s| s.as_str()).unwrap_or("");
        if let Some(spinners) = &self.spinners {
            if let Some(kind) = Kind::of(&event) {
                spinners.show(kind, &event, columns(who, step));
                if !kind.also_a_line() {
                    return;
                }
            }
            // The step's result line replaces its spinner.
            spinners.close(&event);
        }
        if event.phase == Phase::Progress && event.step == Some(Step::Wait) {
            if !self.wait_line_due(who) {
                return;
            }
            let waited = minutes(Duration::from_millis(event.elapsed_ms));
            self.line(&format!("{} · RESTORING for {waited}", columns(who, step)));
            return;
        }
        let mark = match event.phase {
            Phase::Started => "…",
            Phase::Progress => "·",
            Phase::Replayed => "↺",
            Phase::Done => "✓",
            Phase::Failed => "✗",
            Phase::Info => " ",
        };
        let mut text = format!("{} {mark} {}", columns(who, step), event.happening);
        if let Happening::Failed {
            text: failure,
            error_code,
            request_id,
        } = &event.happening
        {
            if let (Some(code), Some(rid)) = (error_code, request_id) {
                text.push_str(&format!(" [{code}, request_id {rid}]"));
            }
            if self.multi.is_none()
                && let Ok(mut seen) = self.logged_failures.lock()
            {
                seen.push(failure.clone());
            }
        }
        self.line(&text);
    }

    fn transfer(&self, base: Event) -> Box<dyn TransferProgress> {
        let migration = base.migration.clone().unwrap_or_default();
        let step = base.step.map(|s| s.as_str()).unwrap_or("transfer");
        match (&self.multi, self.output.format) {
            (_, OutputFormat::Json) => Box::new(JsonProgress::new(self.output, base)),
            (Some(multi), _) => {
                let bar = multi.add(clearing(ProgressBar::new(0)));
                // The log lines' columns: the bar starts where their text does.
                bar.set_style(bar_style("{prefix} {spinner} "));
                bar.set_prefix(columns(&migration, step));
                bar.set_message(format!("{migration} {step}"));
                Box::new(BarProgress::from_bar(bar))
            }
            _ => Box::new(NoProgress),
        }
    }
}

/// Who and which step, padded: the first columns of every log line, spinner and bar.
fn columns(who: &str, step: &str) -> String {
    format!("{who:>12}  {step:<9}")
}

/// NO_COLOR (set and not empty, no-color.org) turns colour off everywhere. console alone
/// already drops colour when NO_COLOR is set, but lets CLICOLOR_FORCE override it.
pub fn respect_no_color() {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
}

/// One line of `--output json`: the README's fields, in this order; those that do not apply are
/// left out. `kind` names the happening for scripts that would rather not parse `message`.
#[derive(Serialize)]
struct JsonLine<'a> {
    run_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    migration: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<Step>,
    phase: Phase,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
    elapsed_ms: u64,
    kind: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    /// Structured detail: the run summary on the last event of a run.
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Summary>,
    /// A compatibility finding: its severity, check and facts.
    #[serde(skip_serializing_if = "Option::is_none")]
    finding: Option<&'a Finding>,
    /// The cutover's downtime, freeze to unfreeze, on the `unfrozen` event.
    #[serde(skip_serializing_if = "Option::is_none")]
    downtime_ms: Option<u64>,
}

impl<'a> JsonLine<'a> {
    fn of(event: &'a Event) -> Self {
        let (error_code, request_id) = match &event.happening {
            Happening::Failed {
                error_code,
                request_id,
                ..
            } => (error_code.as_deref(), request_id.as_deref()),
            // A refusing finding is the failure itself: scripts see its code as on any other.
            Happening::Compat { .. } if event.phase == Phase::Failed => {
                (Some(crate::compat::REFUSED_CODE), None)
            }
            _ => (None, None),
        };
        let data = match &event.happening {
            Happening::RunFinished { summary, .. } => Some(summary.as_ref()),
            _ => None,
        };
        let finding = match &event.happening {
            Happening::Compat { finding } => Some(finding),
            _ => None,
        };
        let downtime_ms = match &event.happening {
            Happening::Unfrozen { downtime_ms, .. } => *downtime_ms,
            _ => None,
        };
        JsonLine {
            downtime_ms,
            finding,
            run_id: &event.run_id,
            migration: event.migration.as_deref(),
            step: event.step,
            phase: event.phase,
            attempt: event.attempt,
            bytes: event.bytes,
            total: event.total,
            elapsed_ms: event.elapsed_ms,
            kind: event.happening.kind(),
            message: event.happening.to_string(),
            error_code,
            request_id,
            data,
        }
    }
}

/// Transfer progress as JSON events, at most two a second, plus the last one.
struct JsonProgress {
    output: Output,
    base: Event,
    started: Instant,
    state: Mutex<(u64, u64, Instant)>,
}

impl JsonProgress {
    fn new(output: Output, base: Event) -> Self {
        JsonProgress {
            output,
            base,
            started: Instant::now(),
            state: Mutex::new((0, 0, Instant::now())),
        }
    }

    fn send(&self, bytes: u64, total: u64) {
        let mut event = self.base.clone();
        event.bytes = Some(bytes);
        event.total = Some(total);
        event.elapsed_ms = self.base.elapsed_ms + self.started.elapsed().as_millis() as u64;
        self.output.json(&JsonLine::of(&event));
    }
}

impl TransferProgress for JsonProgress {
    fn start(&self, _label: &str, total: u64, already: u64) {
        if let Ok(mut s) = self.state.lock() {
            *s = (already, total, Instant::now());
        }
        self.send(already, total);
    }
    fn advance(&self, bytes: u64) {
        let due = match self.state.lock() {
            Ok(mut s) => {
                s.0 += bytes;
                if s.2.elapsed() >= Duration::from_millis(500) {
                    s.2 = Instant::now();
                    Some((s.0, s.1))
                } else {
                    None
                }
            }
            Err(_) => None,
        };
        if let Some((done, total)) = due {
            self.send(done, total);
        }
    }
    fn restart(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.0 = 0;
        }
    }
    fn finish(&self) {
        let snapshot = self.state.lock().map(|s| (s.0, s.1)).ok();
        if let Some((done, total)) = snapshot {
            self.send(done, total);
        }
    }
}
