//! Why a verification did not pass: what the platform reports differs from what was planned or
//! sent, a side it offers cannot be reached, or reading one side failed midway. Differences and
//! unreachable data block the relink (exit 5); a failed read is a step failure worth retrying.

use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The target's uploaded backup is not the file that left the source.
    #[error(
        "{target}: the target's backup {backup_id} ({} bytes, sha256 {}) differs from what left \
         the source ({size} bytes, sha256 {sha256}); nothing was relinked",
        shown_size(*.uploaded_size),
        .uploaded_sha256.as_deref().unwrap_or("?")
    )]
    UploadDiffers {
        target: String,
        backup_id: Uuid,
        uploaded_size: Option<u64>,
        uploaded_sha256: Option<String>,
        size: u64,
        sha256: String,
    },

    /// The platform offers a connection to both sides, but one does not answer: a target that
    /// cannot be reached (dropped, wrong password) must never be relinked to.
    #[error(
        "{reason}; the platform says this data is reachable, so nothing was relinked. Check the \
         service, then run again; pass --no-verify only to relink without comparing the data"
    )]
    Unreachable { reason: String },

    /// Connected, then a query or command failed.
    #[error(
        "reading the {side}'s {what} for the comparison failed: {detail}; run the same command \
         again, or pass --no-verify to relink without comparing the data"
    )]
    ReadFailed {
        side: String,
        /// `PostgreSQL data`, `Redis keys`.
        what: &'static str,
        /// Already redacted.
        detail: String,
    },

    /// A committed target does not carry the planned configuration.
    #[error(
        "{target} was created with type {got_type} plan {got_plan:?} options {got_options:?}, the \
         plan asked for {want_type} {want_plan:?} {want_options:?}"
    )]
    CreatedDiffers {
        target: String,
        got_type: String,
        got_plan: Option<String>,
        got_options: std::collections::BTreeMap<String, String>,
        want_type: String,
        want_plan: Option<String>,
        want_options: std::collections::BTreeMap<String, String>,
    },

    /// After the relink commit, some links do not point at their targets.
    #[error(
        "after the relink commit these links do not point at their targets: {}",
        .links.join(", ")
    )]
    LinksMissing { links: Vec<String> },

    /// The demo's own end check: targets that do not hold their sources' data.
    #[error("the targets do not hold their sources' data: {}", .mismatches.join(", "))]
    DemoMismatch { mismatches: Vec<String> },

    /// The demo's own end check: an app's env value does not reach the service it names.
    #[error("{app}'s {key} does not reach {service}: {detail}")]
    DemoUnreached {
        app: String,
        key: String,
        service: String,
        detail: String,
    },
}

impl VerifyError {
    /// A verdict on the data (exit 5), as opposed to a read that failed and may be retried.
    pub fn blocks_relink(&self) -> bool {
        !matches!(self, VerifyError::ReadFailed { .. })
    }
}

fn shown_size(size: Option<u64>) -> String {
    size.map(|s| s.to_string()).unwrap_or_else(|| "?".into())
}
