//! How the front fails, as the `setops` CLI does: one `Error: ...` text on stderr and exit 1,
//! or exit 78 when a changeset command finds no changeset. Platform errors name what failed,
//! the platform's `code` and `request_id`; nothing here ever holds a token or a pre-signed URL.

use crate::error::Error;
use crate::model::{codes, describe_validator, flatten_validation};
use crate::redact::redact;

/// `changeset:commit` / `changeset:discard` with nothing pending (reference section 2.1).
pub(crate) const EXIT_NO_CHANGESET: u8 = 78;
/// Every other failure: bad flags or arguments, platform errors, network.
pub(crate) const EXIT_FAILED: u8 = 1;

#[derive(Debug)]
pub(crate) struct Failure {
    /// Shown after `Error: `; already redacted.
    pub message: String,
    pub exit: u8,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: redact(&message.into()),
            exit: EXIT_FAILED,
        }
    }

    pub(crate) fn no_changeset(message: impl Into<String>) -> Failure {
        Failure {
            exit: EXIT_NO_CHANGESET,
            ..Failure::new(message)
        }
    }

    /// The text as it reaches stderr.
    pub(crate) fn render(&self) -> String {
        format!("Error: {}", self.message)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        let exit = match error.code() {
            Some(codes::CHANGESET_DOES_NOT_EXIST) => EXIT_NO_CHANGESET,
            _ => EXIT_FAILED,
        };
        Failure {
            message: redact(&describe(&error)),
            exit,
        }
    }
}

impl From<crate::sandbox::Error> for Failure {
    fn from(error: crate::sandbox::Error) -> Failure {
        Failure::from(Error::from(error))
    }
}

/// `service "db" does not exist in shop/production (code: ServiceDoesNotExist, request_id:
/// ab12cd34)`, validation errors one per line below; an invalid session says to log in again.
fn describe(error: &Error) -> String {
    let Error::Platform { context, error, .. } = error else {
        return error.to_string();
    };
    let what = match error.message.as_deref() {
        _ if error.code == codes::SESSION_INVALID => {
            "your session is invalid or has expired; run `setops login` to log in again".to_owned()
        }
        Some(message) if !message.trim().is_empty() => message.to_owned(),
        _ => context.clone(),
    };
    let request_id = if error.request_id.is_empty() {
        "none"
    } else {
        error.request_id.as_str()
    };
    let mut text = format!("{what} (code: {}, request_id: {request_id})", error.code);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ErrorType, ServiceError};

    fn platform_error(code: &str, message: &str) -> Error {
        Error::Platform {
            context: "reading service \"db\" in shop/production".into(),
            status: 404,
            error: Box::new(ServiceError {
                error_type: ErrorType::StateError,
                code: code.into(),
                temporary: false,
                request_id: "ab12cd34".into(),
                message: Some(message.into()),
                validation_errors: None,
            }),
        }
    }

    #[test]
    fn platform_errors_name_what_failed_with_code_and_request_id() {
        let f = Failure::from(platform_error(
            "ServiceDoesNotExist",
            "service \"db\" does not exist in shop/production",
        ));
        assert_eq!(f.exit, EXIT_FAILED);
        assert_eq!(
            f.render(),
            "Error: service \"db\" does not exist in shop/production (code: \
             ServiceDoesNotExist, request_id: ab12cd34)"
        );
    }

    #[test]
    fn an_invalid_session_says_to_log_in() {
        let f = Failure::from(platform_error("SessionInvalid", "unknown bearer token"));
        assert!(f.message.contains("SessionInvalid"), "{}", f.message);
        assert!(f.message.contains("run `setops login`"), "{}", f.message);
    }

    #[test]
    fn a_missing_changeset_exits_78() {
        let f = Failure::from(platform_error("ChangesetDoesNotExist", "nothing pending"));
        assert_eq!(f.exit, EXIT_NO_CHANGESET);
    }
}
