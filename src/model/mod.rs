//! Domain types shared by every platform adapter and by the sandbox, so the client and the
//! emulator cannot drift apart: services, backups, links, changeset commands, the ServiceError
//! body with its validation tree, and SetOps' naming rules.

mod backup;
mod changeset;
mod error;
mod names;
mod resources;
mod service;

pub use backup::*;
pub use changeset::*;
pub use error::*;
pub use names::*;
pub use resources::*;
pub use service::*;

/// Error codes as SetOps documents them (setops-reference.md section 5); codes are opaque strings
/// on the wire so unknown ones from a newer platform still parse.
pub mod codes {
    pub const SERVER_FAILURE: &str = "ServerFailure";
    pub const SESSION_INVALID: &str = "SessionInvalid";
    pub const CREDENTIALS_INVALID: &str = "CredentialsInvalid";
    pub const VALIDATION_FAILED: &str = "ValidationFailed";
    pub const PROJECT_DOES_NOT_EXIST: &str = "ProjectDoesNotExist";
    pub const STAGE_DOES_NOT_EXIST: &str = "StageDoesNotExist";
    pub const APP_DOES_NOT_EXIST: &str = "AppDoesNotExist";
    pub const SERVICE_DOES_NOT_EXIST: &str = "ServiceDoesNotExist";
    pub const SERVICE_ALREADY_EXISTS: &str = "ServiceAlreadyExists";
    pub const CHANGESET_DOES_NOT_EXIST: &str = "ChangesetDoesNotExist";
    pub const CHANGESET_INVALID: &str = "ChangesetInvalid";
    pub const COMMIT_FAILED: &str = "CommitFailed";
    pub const COMMIT_ALREADY_RUNNING: &str = "CommitAlreadyRunning";
    pub const CHANGESET_LOCKED: &str = "ChangesetLocked";
    pub const COMMIT_NOT_FOUND: &str = "CommitNotFound";
    pub const CURRENTLY_NOT_SUPPORTED: &str = "CodeCurrentlyNotSupported";
    pub const BACKUP_NOT_FOUND: &str = "CodeBackupNotFound";
    /// Not in SetOps' list: the state table forbids the action but no code is documented for it
    /// (reference section 5, last bullet), so the sandbox names the state explicitly.
    pub const BACKUP_STATE_INVALID: &str = "BackupStateInvalid";
    pub const UPLOAD_INVALID: &str = "UploadInvalid";
    pub const TRANSFER_URL_INVALID: &str = "TransferUrlInvalid";
    pub const OVERLOAD: &str = "Overload";
    pub const NOT_FOUND: &str = "NotFound";
}

/// Validator names as SetOps documents them.
pub mod validators {
    pub const INVALID: &str = "invalid";
    pub const INVALID_FORMAT: &str = "invalid_format";
    pub const REQUIRED: &str = "required";
    pub const TOO_SHORT: &str = "too_short";
    pub const TOO_LONG: &str = "too_long";
    pub const NOT_AN_INTEGER: &str = "not_an_integer";
    pub const INCLUDED: &str = "included";
    pub const NOT_INCLUDED: &str = "not_included";
    pub const TAKEN: &str = "taken";
    pub const NOT_FOUND: &str = "not_found";
    pub const GREATER_THAN_OR_EQUAL_TO_THRESHOLD: &str = "greater_than_or_equal_to_threshold";
    pub const LESS_THAN_OR_EQUAL_TO_THRESHOLD: &str = "less_than_or_equal_to_threshold";
    pub const GREATER_THAN_OR_EQUAL_TO_DEPENDENT_VALUE: &str =
        "greater_than_or_equal_to_dependent_value";
}
