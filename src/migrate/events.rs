//! What the engine tells the outside world. The engine never prints: it emits typed events, and
//! the UI (human bars, plain lines, or JSON lines) decides how they look (src/ui/happening.rs).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::api::ConnectionKind;
use crate::compat::Finding;
use crate::model::{CommitPhase, Scope, ServiceType};
use crate::plan::BackupChoice;
use crate::transfer::TransferProgress;

use crate::verdict::MatchSummary;

use super::verify::activity::WriteGap;

/// The steps of one migration, in order (design.md section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Preflight,
    Inspect,
    Create,
    Freeze,
    Backup,
    Download,
    Upload,
    Restore,
    Wait,
    Verify,
    Relink,
}

impl Step {
    pub const ALL: [Step; 11] = [
        Step::Preflight,
        Step::Inspect,
        Step::Create,
        Step::Freeze,
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
            Step::Freeze => "freeze",
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

/// What happened, with its facts as values; the UI alone turns it into words.
#[derive(Debug, Clone)]
pub enum Happening {
    /// A note the journal left when it was opened (moved aside, adopted, ...).
    JournalNote {
        text: String,
    },
    AlreadyFinished,
    RunStarted {
        plan: PathBuf,
        migrations: usize,
    },
    /// The last event of a run, carrying the summary.
    RunFinished {
        already_done: bool,
        summary: Box<Summary>,
    },
    PreflightStarted {
        scope: Scope,
    },
    PreflightDone,
    Inspected {
        source: Option<String>,
        target: String,
        service_type: ServiceType,
    },
    TargetAdopted {
        why: String,
    },
    DataMovedEarlier {
        evidence: String,
    },
    DestroyingTargets {
        targets: Vec<String>,
    },
    DestroyedTargets {
        targets: Vec<String>,
    },
    TargetsCreatedEarlier,
    TargetsExist,
    CreatingTargets {
        targets: Vec<String>,
    },
    CreatedTargets {
        targets: Vec<String>,
    },
    Staged {
        commands: usize,
        scope: Scope,
    },
    EarlierCommitApplied,
    EarlierCommitRunning,
    /// A commit reached a phase; `applied` of `total` commands during Applying.
    CommitPhase {
        phase: CommitPhase,
        applied: u32,
        total: u32,
    },
    CommitSucceeded,
    BackupChosenEarlier,
    ChoosingBackup {
        choice: BackupChoice,
    },
    BackupChosen {
        backup_id: Option<String>,
        file: PathBuf,
        /// Exact bytes where known before the download.
        size: Option<u64>,
        /// The size as the platform printed it, where it gave no exact one.
        shown_size: Option<String>,
    },
    DownloadedEarlier,
    DownloadStarted {
        backup_id: String,
    },
    /// The base of a download's progress events.
    Downloading,
    Downloaded {
        size: u64,
    },
    UploadedEarlier {
        upload_id: String,
    },
    UploadFound {
        upload_id: String,
    },
    UploadResumed {
        upload_id: String,
    },
    UploadStarted {
        /// Known before the bytes go only where the platform hands out upload tickets.
        upload_id: Option<String>,
    },
    /// The base of an upload's progress events.
    Uploading,
    Uploaded {
        upload_id: String,
    },
    RestoreStartedEarlier,
    EarlierRestoreRunning,
    RestoreStarted {
        backup_id: String,
    },
    RestoreFinishedEarlier,
    WaitStarted,
    /// Still RESTORING; the event's `elapsed_ms` counts from the start of the wait.
    Restoring,
    RestoreFinished {
        after: Duration,
    },
    VerifiedEarlier,
    Comparing {
        kind: ConnectionKind,
        source: String,
        target: String,
    },
    Verified {
        outcome: VerifyOutcome,
        /// The platform reported the uploaded backup's SHA-256 and it matched; without one (the
        /// `setops` CLI) only the size it shows was checked.
        checksum: bool,
    },
    RelinkedEarlier,
    LinksInPlace,
    Relinking {
        links: usize,
    },
    Relinked {
        app: String,
        target: String,
        at: String,
    },
    /// The cutover freeze: the apps, with the scales they go back to.
    Freezing {
        scales: BTreeMap<String, u8>,
    },
    FrozenEarlier,
    /// Containers of the frozen apps that may still run.
    WaitingForApps {
        running: usize,
    },
    Frozen {
        apps: Vec<String>,
    },
    /// The frozen apps are back at their scales; the downtime is freeze to unfreeze.
    Unfrozen {
        scales: BTreeMap<String, u8>,
        downtime_ms: Option<u64>,
    },
    /// The run stopped with the apps still frozen: the commands that resume or unfreeze.
    StillFrozen {
        apps: Vec<String>,
        resume: String,
        unfreeze: String,
    },
    /// Writes to the source after its backup that the target lacks, accepted by the user.
    WriteGapAccepted {
        source: String,
        gap: WriteGap,
    },
    /// A compatibility check's finding about the backup and the target (src/compat): phase
    /// Info for a warning, Failed for a refusal.
    Compat {
        finding: Finding,
    },
    /// A step or the run failed. `text` is the error's text, redacted.
    Failed {
        text: String,
        error_code: Option<String>,
        request_id: Option<String>,
    },
}

/// What verification concluded besides the backup's size and SHA-256, which always match here.
#[derive(Debug, Clone)]
pub enum VerifyOutcome {
    DataMatches(MatchSummary),
    NotCompared { reason: String },
}

impl Happening {
    /// A stable name for scripts (`kind` in JSON lines).
    pub fn kind(&self) -> &'static str {
        use Happening::*;
        match self {
            JournalNote { .. } => "journal_note",
            AlreadyFinished => "already_finished",
            RunStarted { .. } => "run_started",
            RunFinished { .. } => "run_finished",
            PreflightStarted { .. } => "preflight_started",
            PreflightDone => "preflight_done",
            Inspected { .. } => "inspected",
            TargetAdopted { .. } => "target_adopted",
            DataMovedEarlier { .. } => "data_moved_earlier",
            DestroyingTargets { .. } => "destroying_targets",
            DestroyedTargets { .. } => "destroyed_targets",
            TargetsCreatedEarlier => "targets_created_earlier",
            TargetsExist => "targets_exist",
            CreatingTargets { .. } => "creating_targets",
            CreatedTargets { .. } => "created_targets",
            Staged { .. } => "staged",
            EarlierCommitApplied => "earlier_commit_applied",
            EarlierCommitRunning => "earlier_commit_running",
            CommitPhase { .. } => "commit_phase",
            CommitSucceeded => "commit_succeeded",
            BackupChosenEarlier => "backup_chosen_earlier",
            ChoosingBackup { .. } => "choosing_backup",
            BackupChosen { .. } => "backup_chosen",
            DownloadedEarlier => "downloaded_earlier",
            DownloadStarted { .. } => "download_started",
            Downloading => "downloading",
            Downloaded { .. } => "downloaded",
            UploadedEarlier { .. } => "uploaded_earlier",
            UploadFound { .. } => "upload_found",
            UploadResumed { .. } => "upload_resumed",
            UploadStarted { .. } => "upload_started",
            Uploading => "uploading",
            Uploaded { .. } => "uploaded",
            RestoreStartedEarlier => "restore_started_earlier",
            EarlierRestoreRunning => "earlier_restore_running",
            RestoreStarted { .. } => "restore_started",
            RestoreFinishedEarlier => "restore_finished_earlier",
            WaitStarted => "wait_started",
            Restoring => "restoring",
            RestoreFinished { .. } => "restore_finished",
            VerifiedEarlier => "verified_earlier",
            Comparing { .. } => "comparing",
            Verified { .. } => "verified",
            RelinkedEarlier => "relinked_earlier",
            LinksInPlace => "links_in_place",
            Relinking { .. } => "relinking",
            Relinked { .. } => "relinked",
            Freezing { .. } => "freezing",
            FrozenEarlier => "frozen_earlier",
            WaitingForApps { .. } => "waiting_for_apps",
            Frozen { .. } => "frozen",
            Unfrozen { .. } => "unfrozen",
            StillFrozen { .. } => "still_frozen",
            WriteGapAccepted { .. } => "write_gap_accepted",
            Compat { .. } => "compat",
            Failed { .. } => "failed",
        }
    }
}

/// One event of a run. Which fields `--output json` shows is the UI's business.
#[derive(Debug, Clone)]
pub struct Event {
    pub run_id: String,
    pub migration: Option<String>,
    pub step: Option<Step>,
    pub phase: Phase,
    /// Transfer progress: the attempt, bytes so far and the total (set by the UI's progress).
    pub attempt: Option<u32>,
    pub bytes: Option<u64>,
    pub total: Option<u64>,
    pub elapsed_ms: u64,
    pub happening: Happening,
}

/// Receives events; implemented by the UI.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: Event);
    /// Progress for one transfer (a bar on a terminal, periodic progress events in JSON). `base`
    /// is the event to repeat with `bytes` and `total` filled in.
    fn transfer(&self, base: Event) -> Box<dyn TransferProgress>;
}

/// A sink that shows nothing (a dry run's guards under `--output json`, whose stdout is one
/// document).
pub struct Silent;

impl EventSink for Silent {
    fn emit(&self, _event: Event) {}

    fn transfer(&self, _base: Event) -> Box<dyn TransferProgress> {
        Box::new(crate::transfer::NoProgress)
    }
}

/// One finished migration, for the summary table.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    pub source: Option<String>,
    pub target: String,
    pub service_type: ServiceType,
    /// The source backup ID or the local file that was moved (empty when an earlier run whose
    /// journal is gone moved it).
    pub moved: String,
    pub size: u64,
    pub upload_id: String,
    pub links: Vec<String>,
    /// Writes to the source after its backup that the target lacks: 0 when verify found the
    /// target equal to the source; absent when the data was not compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writes_lost: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run_id: String,
    pub journal: PathBuf,
    /// True when the journal said the plan had finished before: nothing was done this time.
    pub already_done: bool,
    pub rows: Vec<SummaryRow>,
    /// The apps the cutover froze, and how long they were down (freeze to unfreeze).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub frozen: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downtime_ms: Option<u64>,
}
