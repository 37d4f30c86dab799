//! What can go wrong with a journal, before or while a run uses it. Wrapped by the crate's
//! `Error` (`Error::Journal`); each kind knows its exit code and what to do next.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Another run of this plan on this platform holds the lock.
    #[error(
        "another run of this plan holds the journal lock {} ({holder}), on this same platform \
         however its URL is spelled; wait for it to finish or stop it, then run again",
        .lock.display()
    )]
    Locked { lock: PathBuf, holder: String },

    /// The file cannot be read, is damaged, or belongs to another platform or stage.
    #[error(
        "journal {} cannot be used: {why}. Nothing was done on the platform. Either fix or restore \
         the file and run again, or run again with --restart to move it aside: the run then \
         starts from what the platform shows and stops where that cannot tell what happened",
        .path.display()
    )]
    Unusable { path: PathBuf, why: String },

    /// A legacy journal of an earlier version could not be converted.
    #[error(
        "journal {} (written by an earlier version) cannot be converted: {why}. Nothing was done \
         on the platform. Finish the run with the version that wrote it, or move the file aside \
         to start from what the platform shows",
        .path.display()
    )]
    Unconvertible { path: PathBuf, why: String },

    /// The plan file changed since the journal recorded the run.
    #[error(
        "{} changed since the run recorded in {}:\n{}\nRun with --restart to start over with the \
         new plan (the old journal is moved aside), or put the old plan back to resume.",
        .plan.display(),
        .journal.display(),
        .changes.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n")
    )]
    PlanChanged {
        plan: PathBuf,
        journal: PathBuf,
        changes: Vec<String>,
    },

    /// A record whose fact its step never writes: the file was changed by hand or damaged.
    #[error(
        "the journal's record {key} holds {fact}, which that step never writes; the journal was \
         changed by hand or damaged. Fix it, or run with --restart to move it aside"
    )]
    UnexpectedRecord { key: String, fact: String },

    #[error("{action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("encoding the journal: {0}")]
    Encode(#[source] serde_json::Error),
}

impl JournalError {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        JournalError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Every kind but a failed read or write needs a person to decide (exit 3).
    pub fn needs_decision(&self) -> bool {
        !matches!(self, JournalError::Io { .. } | JournalError::Encode(_))
    }
}
