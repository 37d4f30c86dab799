//! Secrets never belong in a plan: plans are committed and shared, and the tool reads every
//! credential it needs from the platform. Messages name the field and never echo the secret.

use std::sync::LazyLock;

use regex::Regex;
use serde_saphyr::{Location, Spanned};

use super::node::{Node, walk_scalars};
use crate::redact::redact;

pub(super) const CREDENTIALS_RULE: &str = "credentials do not belong in a plan file; the tool \
     reads the source's settings from the platform";

/// `scheme://userinfo@`: any userinfo counts, a token alone as user name is a credential too.
static URL_WITH_USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/?#@\s]+@").expect("static regex compiles")
});

/// A string value anywhere in the plan that carries URL credentials.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Finding {
    pub line: u64,
    pub column: u64,
    pub field: String,
    pub rule: String,
}

/// Every scalar (keys too) that is or contains a URL with credentials.
pub(super) fn scan(root: &Spanned<Node>) -> Vec<Finding> {
    let mut findings = Vec::new();
    walk_scalars(root, &mut |path: &str, text: &str, loc: &Location| {
        if URL_WITH_USERINFO.is_match(text) {
            findings.push(Finding {
                line: loc.line(),
                column: loc.column(),
                field: path.to_owned(),
                rule: format!(
                    "{} (found a URL with a user or password: {})",
                    CREDENTIALS_RULE,
                    shorten(&redact(text))
                ),
            });
        }
    });
    findings
}

/// Whether an option name says it holds a credential (`db_password`, `apiKey`, ...).
pub(super) fn is_credential_option(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["password", "secret", "token", "key"]
        .iter()
        .any(|word| lower.contains(word))
}

fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(text: &str) -> Vec<Finding> {
        scan(
            &serde_saphyr::from_str_with_options(text, super::super::yaml_error::parse_options())
                .unwrap(),
        )
    }

    #[test]
    fn urls_with_credentials_are_found_and_masked() {
        let found = findings(
            "a: ok\nlist:\n  - backup: file:postgresql://app:hunter2@db:5432/shop\n  - x: s3://AKIA:abc%2F@bucket\n",
        );
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].line, found[0].column), (3, 13));
        assert_eq!(found[0].field, "list[0].backup");
        assert!(
            found[0].rule.contains("postgresql://***@db:5432/shop"),
            "{}",
            found[0].rule
        );
        assert!(!found[0].rule.contains("hunter2"));
        assert!(!found[1].rule.contains("abc%2F"));
        assert!(found[1].rule.starts_with(CREDENTIALS_RULE));
    }

    #[test]
    fn plain_urls_and_at_signs_are_fine() {
        let found =
            findings("a: https://example.com/x@y\nb: file:exports/a@b.tar.gz\nc: me@example.com\n");
        assert_eq!(found, []);
    }

    #[test]
    fn credential_option_names() {
        assert!(is_credential_option("password"));
        assert!(is_credential_option("db_PASSWORD"));
        assert!(is_credential_option("apiKey"));
        assert!(is_credential_option("auth_token"));
        assert!(is_credential_option("client_secret"));
        assert!(!is_credential_option("min_storage"));
        assert!(!is_credential_option("blockPublicAccess"));
    }
}
