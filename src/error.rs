//! The one error type of the crate. Every failure ends here, and `main` turns it into user text
//! and an exit code in one place. Errors know whether retrying the same call can help.

use std::path::PathBuf;
use std::time::Duration;

use uuid::Uuid;

use crate::model::{
    BackupStatus, ErrorType, Scope, ServiceError, codes, describe_validator, flatten_validation,
};
use crate::verdict::DataDiffers;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit codes, as the README documents them.
pub mod exit {
    pub const OK: i32 = 0;
    pub const STEP_FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const DECISION_NEEDED: i32 = 3;
    pub const INTERRUPTED: i32 = 4;
    pub const VERIFICATION_FAILED: i32 = 5;
    /// SetOps' own code for `changeset:commit` / `changeset:discard` with nothing pending
    /// (reference section 2.1); only those two building blocks use it.
    pub const NO_CHANGESET: i32 = 78;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command line, bad plan, bad local file: the user must change the input.
    #[error("{0}")]
    Usage(String),

    /// The platform answered with a ServiceError body.
    #[error("{context}: {}", describe_service_error(.error))]
    Platform {
        /// What we were doing, e.g. `listing backups of service "files" in shop/production`.
        context: String,
        status: u16,
        // Boxed: errors travel through every Result, and the body is large.
        error: Box<ServiceError>,
    },

    /// The request never got an answer (connection refused, reset, timeout). The message is
    /// already redacted: it never holds a pre-signed URL or a token.
    #[error("{context}: {detail}")]
    Transport { context: String, detail: String },

    /// A transfer ended without a verified file: short body, checksum mismatch, bad range.
    #[error(transparent)]
    Transfer(#[from] crate::transfer::error::TransferError),

    #[error("{action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A backup the target cannot restore, found by the compatibility checks (exit 2); the text
    /// names each refusal and what to do instead.
    #[error("{0}")]
    BackupIncompatible(String),

    /// A plan that does not load (exit 2); lists every issue.
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanRejected),

    /// The platform answered, but not in a way the tool can use: a body of the wrong shape, a
    /// field it left out, a state contradicting its previous answer. `detail` says what to do.
    #[error("{context}: {detail}")]
    Unexpected { context: String, detail: String },

    /// `changeset:commit` or `changeset:discard` found nothing pending (exit 78, as `setops`).
    #[error("{0}")]
    NoChangeset(String),

    /// A human has to decide (foreign changeset, ambiguous restore, no terminal for a question).
    #[error("{0}")]
    Decision(String),

    /// A guard refused to go on before anything was changed (exit 3), for a reason scripts can
    /// tell apart by `code` (the `error_code` of the run's `failed` event).
    #[error("{message}")]
    Refused { code: &'static str, message: String },

    /// A target may hold data of an earlier attempt that nothing accounts for; restoring could
    /// duplicate it. `run --recreate-target` (or the prompt in a terminal) destroys and redoes it.
    #[error("{message}")]
    TargetNeedsRecreate {
        message: String,
        targets: Vec<String>,
    },

    /// A frozen app's scale to restore is known neither to the journal nor the platform (it
    /// shows 0) nor the plan (exit 3): asked in a terminal, never guessed.
    #[error("{message}")]
    ScaleUnknown { message: String, apps: Vec<String> },

    /// The run's journal: locked by another run, unreadable, of a changed plan (mostly exit 3).
    #[error(transparent)]
    Journal(#[from] crate::migrate::journal::error::JournalError),

    #[error("interrupted")]
    Interrupted,

    /// An error the run's log lines already showed (without a terminal): `main` prints only
    /// what to do next, not the same text again. Everything else is the inner error's.
    #[error("{0}")]
    Logged(Box<Error>),

    /// Ctrl-C (or Esc at a question) where "run the same command again to resume" would be
    /// wrong: the text says what was kept, if anything, and what to do next (exit 4).
    #[error("{0}")]
    Cancelled(String),

    /// What the platform reports differs from what was planned or sent (mostly exit 5).
    #[error(transparent)]
    Verify(Box<crate::migrate::verify::error::VerifyError>),

    /// The target's data differs from the source's (exit 5); the text lists the differences.
    #[error("{}", crate::verdict::words::failure(.0))]
    DataDiffers(Box<DataDiffers>),

    /// A commit ended FAILED without the platform saying why.
    #[error("commit {commit_id} of {scope} failed without saying why; {next}")]
    CommitFailed {
        scope: Scope,
        commit_id: Uuid,
        /// What to do next; a run names its commands as they are pasted.
        next: String,
    },

    #[error(
        "commit {commit_id} of {scope} is still running after {}; run the same command again to keep waiting",
        humantime::format_duration(*.waited)
    )]
    CommitStillRunning {
        scope: Scope,
        commit_id: Uuid,
        waited: Duration,
    },

    /// A backup stayed CREATING or RESTORING longer than the migration's `wait_timeout`; the
    /// platform goes on, so a rerun keeps waiting.
    #[error("{}", still_busy(backup_id, service, *status, *waited))]
    StillBusy {
        backup_id: String,
        service: String,
        status: BackupStatus,
        waited: Duration,
    },

    /// The platform says a restore failed; the target may hold partial data.
    #[error(
        "the restore of backup {backup_id} into {target} failed: {reason}\nNothing was relinked. The \
         target may hold partial data; to start it again from a clean target (it is destroyed \
         and created anew; no app links it yet):\n  {rerun} --recreate-target"
    )]
    RestoreFailed {
        backup_id: Uuid,
        target: String,
        reason: String,
        /// The command line that runs this plan again.
        rerun: String,
    },

    /// A blocking task of ours ended without an answer (it panicked or was cancelled).
    #[error("{what} stopped: {source}")]
    TaskStopped {
        what: String,
        #[source]
        source: tokio::task::JoinError,
    },

    /// One of our own values could not be encoded as JSON.
    #[error("encoding {what}: {source}")]
    Encoding {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// Anything else that went wrong inside the tool; the text says what.
    #[error("{0}")]
    Internal(String),

    /// A sandbox this command started failed (its directory is not a sandbox, say). Only the
    /// commands that start one (`--sandbox`, `demo`, `sandbox serve|stop`) produce it; the
    /// sandbox converts its own error into this (src/sandbox/error.rs), so the client's error
    /// type does not depend on the sandbox.
    #[error("{source}")]
    Sandbox {
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
        /// The user must change the input (exit 2), as opposed to the sandbox failing.
        usage: bool,
    },
}

impl From<crate::migrate::verify::error::VerifyError> for Error {
    fn from(e: crate::migrate::verify::error::VerifyError) -> Self {
        // Boxed: errors travel through every Result, and this one is large.
        Error::Verify(Box::new(e))
    }
}

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Error::Refused {
            code,
            message: message.into(),
        }
    }

    pub fn unexpected(context: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Unexpected {
            context: context.into(),
            detail: detail.into(),
        }
    }

    pub fn encoding(what: &'static str, source: serde_json::Error) -> Self {
        Error::Encoding { what, source }
    }

    pub fn task_stopped(what: impl Into<String>, source: tokio::task::JoinError) -> Self {
        Error::TaskStopped {
            what: what.into(),
            source,
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Logged(inner) => inner.exit_code(),
            Error::Usage(_) | Error::Plan(_) | Error::BackupIncompatible(_) => exit::USAGE,
            Error::Platform { error, .. } if error.error_type == ErrorType::ValidationError => {
                exit::USAGE
            }
            Error::NoChangeset(_) => exit::NO_CHANGESET,
            Error::Decision(_)
            | Error::Refused { .. }
            | Error::TargetNeedsRecreate { .. }
            | Error::ScaleUnknown { .. } => exit::DECISION_NEEDED,
            Error::Journal(e) if e.needs_decision() => exit::DECISION_NEEDED,
            Error::Interrupted | Error::Cancelled(_) => exit::INTERRUPTED,
            Error::Verify(e) if e.blocks_relink() => exit::VERIFICATION_FAILED,
            Error::DataDiffers(_) => exit::VERIFICATION_FAILED,
            Error::Sandbox { usage: true, .. } => exit::USAGE,
            _ => exit::STEP_FAILED,
        }
    }

    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Logged(inner) => inner.is_retryable(),
            Error::Platform { error, status, .. } => error.temporary || *status >= 502,
            Error::Transport { .. } => true,
            Error::Transfer(e) => e.retryable(),
            _ => false,
        }
    }

    /// What to do next, where the error alone does not say it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Logged(inner) => inner.hint(),
            Error::Interrupted => Some(
                "Nothing half-done is lost: run the same command again to resume where it stopped.",
            ),
            Error::Platform { error, .. } if error.code == codes::SESSION_INVALID => Some(
                "The session has expired (a service user's token lasts 4 hours): log in again with \
                 `setops login` (in CI: `setops login --service-user`), or give --api a fresh \
                 token, then run the same command: the journal resumes where it stopped.",
            ),
            Error::Transport { .. } => Some(
                "The platform did not answer; check the URL and your network, then run the same command again.",
            ),
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => Some(
                "The disk is full: free space on it (or give --state-dir a disk with room), then \
                 run the same command again; the journal is kept and a download resumes where it \
                 stopped.",
            ),
            e if e.is_retryable() => Some("This looks temporary; run the same command again."),
            _ => None,
        }
    }

    /// The platform's error code, where there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Logged(inner) => inner.code(),
            Error::Platform { error, .. } => Some(&error.code),
            _ => None,
        }
    }

    /// The `error_code` of a `failed` event: the platform's code where the platform refused or
    /// failed, else the tool's own, one per kind of failure (README, "JSON events").
    pub fn error_code(&self) -> &str {
        use crate::migrate::journal::error::JournalError as J;
        use crate::migrate::verify::error::VerifyError as V;
        match self {
            Error::Logged(inner) => inner.error_code(),
            Error::Platform { error, .. } => &error.code,
            Error::Usage(_) => "InvalidInput",
            Error::NoChangeset(_) => "NothingPending",
            Error::Plan(_) => "PlanInvalid",
            Error::BackupIncompatible(_) => crate::compat::REFUSED_CODE,
            Error::Transport { .. } => "PlatformUnreachable",
            Error::Transfer(_) => "TransferFailed",
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => {
                "DiskFull"
            }
            Error::Io { .. } => "LocalFileFailed",
            Error::Unexpected { .. } => "UnexpectedAnswer",
            Error::Decision(_) => "DecisionNeeded",
            Error::Refused { code, .. } => code,
            Error::TargetNeedsRecreate { .. } => "TargetMayHoldData",
            Error::ScaleUnknown { .. } => "ScaleUnknown",
            Error::Journal(J::Locked { .. }) => "JournalLocked",
            Error::Journal(J::PlanChanged { .. }) => "PlanChanged",
            Error::Journal(J::Io { .. } | J::Encode(_)) => "JournalWriteFailed",
            Error::Journal(_) => "JournalUnusable",
            Error::Interrupted | Error::Cancelled(_) => "Interrupted",
            Error::Verify(e) => match e.as_ref() {
                V::UploadDiffers { .. } => "BackupDiffers",
                V::Unreachable { .. } => "DataUnreachable",
                V::ReadFailed { .. } => "DataReadFailed",
                V::CreatedDiffers { .. } => "TargetDiffers",
                V::LinksMissing { .. } => "LinksMissing",
                V::DemoMismatch { .. } | V::DemoUnreached { .. } => "DemoCheckFailed",
            },
            Error::DataDiffers(_) => "DataDiffers",
            Error::CommitFailed { .. } => "CommitFailed",
            Error::CommitStillRunning { .. } => "CommitStillRunning",
            Error::StillBusy { .. } => "WaitTimedOut",
            Error::RestoreFailed { .. } => "RestoreFailed",
            Error::Sandbox { .. } => "SandboxFailed",
            Error::TaskStopped { .. } | Error::Encoding { .. } | Error::Internal(_) => "Internal",
        }
    }
}

fn still_busy(backup_id: &str, service: &str, status: BackupStatus, waited: Duration) -> String {
    let waited = humantime::format_duration(waited);
    match status {
        BackupStatus::Restoring => format!(
            "backup {backup_id} of {service} is still RESTORING after {waited} (wait_timeout); the \
             restore goes on on the platform: run the same command again to keep waiting"
        ),
        status => format!(
            "backup {backup_id} of {service} is still {status} after {waited}; run again to keep waiting"
        ),
    }
}

/// `ServiceDoesNotExist: service "x" does not exist (request_id sGH28YBJ)`, followed by one line
/// per validation error.
pub fn describe_service_error(error: &ServiceError) -> String {
    let mut text = error.code.clone();
    if let Some(message) = &error.message {
        text.push_str(": ");
        text.push_str(message);
    }
    if error.request_id.is_empty() {
        text.push_str(" (no request_id)");
    } else {
        text.push_str(&format!(" (request_id {})", error.request_id));
    }
    if let Some(tree) = &error.validation_errors {
        for (path, validator) in flatten_validation(tree) {
            text.push_str(&format!(
                "\n  {path}: {validator} ({})",
                describe_validator(&validator)
            ));
        }
    }
    text
}
