//! Error answers: every failure is a `model::ServiceError` JSON body carrying the request id of
//! the request it answers, with the status code SetOps would use.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use rand::distributions::Alphanumeric;

use crate::model::{ErrorType, ServiceError, ValidationErrors, ValidationNode, codes};

tokio::task_local! {
    /// The id of the request being answered; set by the request-id middleware around the handler.
    pub(crate) static REQUEST_ID: String;
}

/// 8 random alphanumerics, like SetOps' `sGH28YBJ`.
pub(crate) fn new_request_id() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(8)
        .map(char::from)
        .collect()
}

fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub error_type: ErrorType,
    pub code: &'static str,
    pub temporary: bool,
    pub message: String,
    pub validation_errors: Option<ValidationErrors>,
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(status: StatusCode, error_type: ErrorType, code: &'static str, message: String) -> Self {
        ApiError {
            status,
            error_type,
            code,
            temporary: false,
            message,
            validation_errors: None,
        }
    }

    /// 404 StateError: the named thing does not exist.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorType::StateError,
            code,
            message.into(),
        )
    }

    /// 409 StateError: the server's state forbids the action now.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            ErrorType::StateError,
            code,
            message.into(),
        )
    }

    /// 409 StateError that goes away by itself (a running commit): the client may retry.
    pub fn conflict_temporary(code: &'static str, message: impl Into<String>) -> Self {
        let mut e = Self::conflict(code, message);
        e.temporary = true;
        e
    }

    /// 422 ValidationError with a validation tree.
    pub fn validation(
        code: &'static str,
        message: impl Into<String>,
        tree: ValidationErrors,
    ) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::ValidationError,
            code,
            message.into(),
        );
        e.validation_errors = Some(tree);
        e
    }

    /// 422 ValidationFailed for one field.
    pub fn invalid_field(field: &str, validator: &str, message: impl Into<String>) -> Self {
        let mut tree = ValidationErrors::new();
        tree.insert(
            field.to_owned(),
            ValidationNode::Leaf(vec![validator.to_owned()]),
        );
        Self::validation(codes::VALIDATION_FAILED, message, tree)
    }

    /// 422 ValidationError without a tree (unsupported backup type, bad upload).
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::ValidationError,
            code,
            message.into(),
        )
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorType::AuthenticationError,
            codes::SESSION_INVALID,
            message.into(),
        )
    }

    pub fn transfer_invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorType::AuthenticationError,
            codes::TRANSFER_URL_INVALID,
            message.into(),
        )
    }

    pub fn overload() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Fault,
            codes::OVERLOAD,
            "the sandbox is overloaded (fault knob overload_next); retry later".to_owned(),
        );
        e.temporary = true;
        e
    }

    /// 500 ServerFailure. The detail is logged; the client gets it too, since the sandbox holds
    /// no secrets worth hiding from its own user and the text helps them report the problem.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let message = format!("internal sandbox error: {detail}");
        eprintln!("sandbox: {message}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::Fault,
            codes::SERVER_FAILURE,
            message,
        )
    }

    pub fn body(&self, request_id: String) -> ServiceError {
        ServiceError {
            error_type: self.error_type,
            code: self.code.to_owned(),
            temporary: self.temporary,
            request_id,
            message: Some(self.message.clone()),
            validation_errors: self.validation_errors.clone(),
        }
    }
}

impl From<super::Error> for ApiError {
    fn from(e: super::Error) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body(current_request_id());
        (self.status, Json(body)).into_response()
    }
}
