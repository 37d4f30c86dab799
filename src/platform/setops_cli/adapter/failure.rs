//! A `setops` call that did not succeed, as the crate's error. The CLI prints SetOps' error code
//! and request id in its text (`code: ServiceDoesNotExist, request_id: sGH28YBJ`); where it does,
//! they are kept, so every platform error still shows both. A parse failure names the command.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::Error;
use crate::model::{ErrorType, ServiceError, codes};
use crate::redact::redact;

use super::super::parse::ParseError;
use super::runner::Ran;

static CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bcode:?\s*([A-Za-z][A-Za-z0-9_]{1,63})").expect("valid regex"));
static REQUEST_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\brequest[_ ]id:?\s*([A-Za-z0-9_-]{1,64})").expect("valid regex")
});

/// What the CLI said went wrong: SetOps' code and request id where its text shows them.
pub fn failed(ran: &Ran, context: &str) -> Error {
    let text = if ran.stderr.trim().is_empty() {
        &ran.stdout
    } else {
        &ran.stderr
    };
    let text = redact(text.trim());
    let code = CODE
        .captures(&text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| unnamed_code(&text).to_owned());
    let request_id = REQUEST_ID
        .captures(&text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let exit = match ran.code {
        Some(code) => format!("exit {code}"),
        None => "ended by a signal".to_owned(),
    };
    let first_lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(3)
        .collect();
    let message = if first_lines.is_empty() {
        format!("`{}` failed ({exit}) and printed nothing", ran.shown)
    } else {
        format!(
            "`{}` failed ({exit}): {}",
            ran.shown,
            first_lines.join(" / ")
        )
    };
    Error::Platform {
        context: context.to_owned(),
        status: 0,
        error: Box::new(ServiceError {
            error_type: error_type(&code),
            temporary: matches!(
                code.as_str(),
                codes::OVERLOAD | codes::COMMIT_ALREADY_RUNNING | codes::CHANGESET_LOCKED
            ),
            code,
            request_id,
            message: Some(message),
            validation_errors: None,
        }),
    }
}

/// An output that does not parse: the command, the line and what was expected.
pub fn unreadable(ran: &Ran, error: ParseError) -> Error {
    Error::unexpected(
        format!("reading what `{}` printed", ran.shown),
        format!(
            "{error}; the setops CLI may be of a version this tool does not know (see `setops \
             version`): nothing was changed by reading it, so run the same command again once it \
             is resolved"
        ),
    )
}

/// A code for a failure the CLI printed none for, from its words.
fn unnamed_code(text: &str) -> &'static str {
    let lower = text.to_ascii_lowercase();
    if lower.contains("session") || lower.contains("not logged in") || lower.contains("login") {
        codes::SESSION_INVALID
    } else {
        "CliFailed"
    }
}

fn error_type(code: &str) -> ErrorType {
    match code {
        codes::SESSION_INVALID | codes::CREDENTIALS_INVALID => ErrorType::AuthenticationError,
        codes::VALIDATION_FAILED | codes::CHANGESET_INVALID => ErrorType::ValidationError,
        codes::SERVER_FAILURE | codes::OVERLOAD => ErrorType::Fault,
        _ => ErrorType::StateError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(stderr: &str, code: i32) -> Ran {
        Ran {
            shown: "setops -p shop -s production service:info gone".into(),
            stdout: String::new(),
            stderr: stderr.into(),
            code: Some(code),
        }
    }

    #[test]
    fn the_code_and_request_id_the_cli_prints_are_kept() {
        let e = failed(
            &ran(
                "Error: service gone does not exist (code: ServiceDoesNotExist, request_id: ab12cd34)\n",
                1,
            ),
            "reading service gone",
        );
        assert_eq!(e.code(), Some("ServiceDoesNotExist"));
        let text = e.to_string();
        assert!(text.contains("request_id ab12cd34"), "{text}");
        assert!(text.contains("service:info gone"), "{text}");
    }

    #[test]
    fn an_expired_session_without_a_code_is_session_invalid_and_not_retried() {
        let e = failed(
            &ran("Your session has expired, please run setops login\n", 1),
            "x",
        );
        assert_eq!(e.code(), Some(codes::SESSION_INVALID));
        assert!(!e.is_retryable());
        assert!(e.hint().is_some_and(|h| h.contains("setops login")));
    }

    #[test]
    fn silence_is_named_and_no_secret_is_echoed() {
        let e = failed(&ran("", 2), "x");
        assert!(e.to_string().contains("printed nothing"), "{e}");
        let e = failed(
            &ran(
                "upload to https://s3.example/b?X-Amz-Signature=SeCrEt failed",
                1,
            ),
            "x",
        );
        assert!(!e.to_string().contains("SeCrEt"), "{e}");
    }
}
