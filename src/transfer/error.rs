//! A transfer that ended without a verified file, typed by what went wrong, so the retry loop
//! and the user both know whether another attempt can help.

/// What went wrong with one transfer (`context` says which, e.g. `download of backup …`).
#[derive(Debug, thiserror::Error)]
#[error("{context}: {fault}{}", gave_up_note(*.attempts))]
pub struct TransferError {
    pub context: String,
    pub fault: TransferFault,
    /// How many attempts were made before giving up (1 when it was not retried).
    pub attempts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferFault {
    #[error(
        "the platform's download ticket has no valid SHA-256, so the file could not be verified; \
         nothing was downloaded"
    )]
    TicketWithoutChecksum,

    #[error(
        "the server answered the resume from byte {from} with {answered:?}; the partial file was \
         discarded and the next attempt starts from zero"
    )]
    ResumeRefused { from: u64, answered: String },

    #[error(
        "the backup changed (new ETag) since the partial download; the partial file was discarded \
         and the next attempt starts from zero"
    )]
    ChangedUpstream,

    #[error("the partial file changed while resuming; it was discarded")]
    PartialChanged,

    #[error(
        "the server answered {status} to a request that did not ask for it; the partial file was \
         discarded and the next attempt starts from zero"
    )]
    UnaskedStatus { status: String },

    #[error(
        "the server sent more than the {size} bytes the backup has; the partial file was discarded"
    )]
    Oversized { size: u64 },

    #[error(
        "the body ended at byte {at} of {size}; the partial file is kept and the next attempt \
         resumes from it"
    )]
    BodyEnded { at: u64, size: u64 },

    #[error(
        "checksum mismatch (expected {expected}…, got {actual}…); the partial file was discarded"
    )]
    ChecksumMismatch { expected: String, actual: String },

    #[error(
        "the file's SHA-256 differs from the one recorded when the backup was chosen; the file \
         was removed"
    )]
    DiffersFromRecord,

    #[error(
        "the file has {size} bytes, but the platform shows the backup as {shown}; the file was \
         removed"
    )]
    SizeDiffersFromShown { size: u64, shown: String },

    #[error(
        "the file has {now} bytes but had {hashed} when it was hashed; it is still changing, run \
         the command again once it is complete"
    )]
    FileChanging { now: u64, hashed: u64 },

    /// The server took the bytes but its answer broke off or was not a backup; sending them again
    /// could not help, so the text says how to look at the backup instead.
    #[error(
        "the server accepted the upload ({status}) but its answer {problem}; check backup {backup} \
         with backup:info before uploading again"
    )]
    AnswerUnusable {
        status: String,
        problem: String,
        backup: String,
    },
}

impl TransferFault {
    /// Whether another attempt of the same transfer can help.
    pub fn retryable(&self) -> bool {
        !matches!(
            self,
            TransferFault::TicketWithoutChecksum
                | TransferFault::FileChanging { .. }
                | TransferFault::AnswerUnusable { .. }
        )
    }

    /// This fault, in the transfer named by `context`, on its first attempt.
    pub fn during(self, context: impl Into<String>) -> TransferError {
        TransferError {
            context: context.into(),
            fault: self,
            attempts: 1,
        }
    }
}

impl TransferError {
    pub fn retryable(&self) -> bool {
        self.fault.retryable()
    }
}

fn gave_up_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (gave up after {attempts} attempts)")
    } else {
        String::new()
    }
}
