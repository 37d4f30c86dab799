//! What the engine tells the outside world. The engine never prints: it emits events, and the UI
//! (human bars, plain lines, or JSON lines) decides how they look.

use serde::Serialize;

use crate::transfer::TransferProgress;

/// The steps of one migration, in order (design.md section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Preflight,
    Inspect,
    Create,
    Backup,
    Download,
    Upload,
    Restore,
    Wait,
    Verify,
    Relink,
}

impl Step {
    pub const ALL: [Step; 10] = [
        Step::Preflight,
        Step::Inspect,
        Step::Create,
        Step::Backup,
        Step::Download,
        Step::Upload,
        Step::Restore,
        Step::Wait,
        Step::Verify,
        Step::Relink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Preflight => "preflight",
            Step::Inspect => "inspect",
            Step::Create => "create",
            Step::Backup => "backup",
            Step::Download => "download",
            Step::Upload => "upload",
            Step::Restore => "restore",
            Step::Wait => "wait",
            Step::Verify => "verify",
            Step::Relink => "relink",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Started,
    Progress,
    /// Done in an earlier run; replayed from the journal without calling the platform.
    Replayed,
    Done,
    Failed,
    Info,
}

/// One line of `--output json`. Fields that do not apply are left out.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub run_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    pub phase: Phase,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    pub elapsed_ms: u64,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Structured detail: the run summary on the last event of a run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// Receives events; implemented by the UI.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: Event);
    /// Progress for one transfer (a bar on a terminal, periodic progress events in JSON). `base`
    /// is the event to repeat with `bytes` and `total` filled in.
    fn transfer(&self, base: Event) -> Box<dyn TransferProgress>;
}
