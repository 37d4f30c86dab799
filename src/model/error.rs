//! The error body every SetOps API error carries, with its validation tree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorType {
    Fault,
    AuthenticationError,
    ValidationError,
    StateError,
    /// Any type a newer platform may send.
    #[serde(other)]
    Unknown,
}

/// SetOps' error body for every 4xx/5xx response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceError {
    #[serde(rename = "type")]
    pub error_type: ErrorType,
    pub code: String,
    #[serde(default)]
    pub temporary: bool,
    #[serde(default)]
    pub request_id: String,
    /// Human-readable detail. Not in SetOps' documented schema; optional so real bodies still parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_errors: Option<ValidationErrors>,
}

/// `validation_errors`: field name -> validator names, or a nested object for sub-structures
/// (`{"changeset": {"commands[0]": {"name": ["taken"]}}}`).
pub type ValidationErrors = BTreeMap<String, ValidationNode>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ValidationNode {
    Leaf(Vec<String>),
    Nested(BTreeMap<String, ValidationNode>),
}

/// Flattens a validation tree into `path: validator` pairs (`changeset.commands[0].name: taken`).
pub fn flatten_validation(errors: &ValidationErrors) -> Vec<(String, String)> {
    fn walk(prefix: &str, node: &ValidationNode, out: &mut Vec<(String, String)>) {
        match node {
            ValidationNode::Leaf(validators) => {
                for v in validators {
                    out.push((prefix.to_owned(), v.clone()));
                }
            }
            ValidationNode::Nested(map) => {
                for (k, child) in map {
                    walk(&join_path(prefix, k), child, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (k, node) in errors {
        walk(k, node, &mut out);
    }
    out
}

fn join_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_trees_parse_nested_and_flatten() {
        let body = r#"{"type":"ValidationError","code":"ChangesetInvalid","temporary":false,
            "request_id":"sGH28YBJ","validation_errors":{"changeset":{"commands[0]":{"name":["taken"]}}}}"#;
        let err: ServiceError = serde_json::from_str(body).expect("parses");
        let flat = flatten_validation(err.validation_errors.as_ref().expect("present"));
        assert_eq!(
            flat,
            vec![("changeset.commands[0].name".to_owned(), "taken".to_owned())]
        );
    }
    #[test]
    fn unknown_error_types_still_parse() {
        let body = r#"{"type":"SomethingNew","code":"X","temporary":true,"request_id":"r"}"#;
        let err: ServiceError = serde_json::from_str(body).expect("parses");
        assert_eq!(err.error_type, ErrorType::Unknown);
        assert!(err.temporary);
    }
}
