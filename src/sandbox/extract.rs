//! Request extractors whose rejections are ServiceError bodies: a JSON body that names the bad
//! field in `validation_errors`, and path parameters. axum's own rejections are plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::errors::ApiError;
use crate::model::{ValidationErrors, ValidationNode, codes, validators};

/// Request bodies of the API are small; anything bigger is a client bug, not an upload.
const MAX_JSON_BODY: usize = 1 << 20;

pub(crate) struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            ApiError::invalid_field(
                "body",
                validators::INVALID,
                format!("could not read the request body: {e}"),
            )
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.len() > MAX_JSON_BODY {
        return Err(ApiError::invalid_field(
            "body",
            validators::TOO_LONG,
            format!(
                "the request body has {} bytes; the limit is {MAX_JSON_BODY}",
                bytes.len()
            ),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_field(
            "body",
            validators::REQUIRED,
            "the request body is empty; send a JSON object",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| json_rejection(&e))
}

fn json_rejection(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = e.inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::invalid_field(
            "body",
            validators::INVALID_FORMAT,
            format!("the request body is not valid JSON: {inner}"),
        );
    }
    let mut segments: Vec<String> =
        e.path()
            .iter()
            .filter_map(|seg| match seg {
                serde_path_to_error::Segment::Seq { index } => Some(format!("[{index}]")),
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
    let text = inner.to_string();
    let mut push_field = |field: String| {
        if segments.last() != Some(&field) {
            segments.push(field);
        }
    };
    let validator = if let Some(field) = backticked(&text, "missing field `") {
        push_field(field);
        validators::REQUIRED
    } else if let Some(field) = backticked(&text, "unknown field `") {
        push_field(field);
        validators::INVALID
    } else if text.starts_with("unknown variant") {
        validators::NOT_INCLUDED
    } else {
        validators::INVALID
    };
    if segments.is_empty() {
        segments.push("body".to_owned());
    }
    let field = segments.join(".");
    let message = format!("request body field `{field}`: {text}");
    ApiError::validation(
        codes::VALIDATION_FAILED,
        message,
        nest(&segments, validator),
    )
}

/// `["arguments", "name"]` + `required` -> `{"arguments": {"name": ["required"]}}`.
fn nest(segments: &[String], validator: &str) -> ValidationErrors {
    let mut node = ValidationNode::Leaf(vec![validator.to_owned()]);
    for seg in segments.iter().skip(1).rev() {
        node = ValidationNode::Nested([(seg.clone(), node)].into_iter().collect());
    }
    let mut tree = ValidationErrors::new();
    tree.insert(segments[0].clone(), node);
    tree
}

/// The text between `prefix` and the next backtick, e.g. the field name in serde's messages.
fn backticked(text: &str, prefix: &str) -> Option<String> {
    let start = text.find(prefix)? + prefix.len();
    let len = text[start..].find('`')?;
    Some(text[start..start + len].to_owned())
}

/// Path parameters as plain strings; the handlers check them and answer with the proper 404.
pub(crate) struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::not_found(codes::NOT_FOUND, format!("bad path parameters: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangesetCommand, flatten_validation};

    fn flat(e: &ApiError) -> Vec<(String, String)> {
        flatten_validation(e.validation_errors.as_ref().expect("tree"))
    }

    #[test]
    fn missing_command_argument_is_named() {
        let body = br#"{"name":"service:create","arguments":{"type":"volume"}}"#;
        let err = parse_json::<ChangesetCommand>(body).expect_err("refused");
        assert_eq!(err.code, codes::VALIDATION_FAILED);
        assert_eq!(
            flat(&err),
            vec![("arguments.name".into(), "required".into())]
        );
    }

    #[test]
    fn wrong_type_and_unknown_command_are_refused() {
        let body = br#"{"name":"service:create","arguments":{"name":5,"type":"volume"}}"#;
        let err = parse_json::<ChangesetCommand>(body).expect_err("refused");
        assert_eq!(
            flat(&err),
            vec![("arguments.name".into(), "invalid".into())]
        );
        let body = br#"{"name":"service:explode","arguments":{}}"#;
        let err = parse_json::<ChangesetCommand>(body).expect_err("refused");
        assert_eq!(flat(&err), vec![("name".into(), "not_included".into())]);
    }

    #[test]
    fn syntax_errors_and_empty_bodies_name_the_body() {
        let err = parse_json::<ChangesetCommand>(b"{nope").expect_err("refused");
        assert_eq!(flat(&err), vec![("body".into(), "invalid_format".into())]);
        let err = parse_json::<ChangesetCommand>(b"  ").expect_err("refused");
        assert_eq!(flat(&err), vec![("body".into(), "required".into())]);
    }

    #[test]
    fn unknown_fault_knobs_are_named() {
        let err = parse_json::<crate::api::Faults>(br#"{"overload":1}"#).expect_err("refused");
        assert_eq!(flat(&err), vec![("overload".into(), "invalid".into())]);
    }
}
