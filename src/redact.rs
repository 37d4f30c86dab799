//! Removes secrets from text before it reaches a message, a log line or the journal: pre-signed
//! transfer URLs carry their credential in the path, S3-style URLs in the query string, API
//! errors may echo a bearer token, and service URLs hold a user and password.

use std::sync::LazyLock;

use regex::Regex;

/// What every secret is replaced with.
pub const MASK: &str = "***";

/// `/transfer/<token>`: the token is the whole credential of a pre-signed transfer URL.
static TRANSFER_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(/transfer/)[^/?#\s"'<>]+"#).expect("static regex compiles"));

/// Query parameters (or `name=value` words) that carry signatures or credentials.
static SECRET_PARAM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)((?:^|[?&;\s])(?:x-amz-signature|x-amz-credential|x-amz-security-token|signature|access_token|refresh_token|token|sig|key|password|secret)=)[^&;#\s"'<>]*"#,
    )
    .expect("static regex compiles")
});

static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/=]+").expect("static regex compiles")
});

/// `scheme://user:pass@host`: userinfo never contains `/`, so the match cannot run into the path.
static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b([A-Za-z][A-Za-z0-9+.\-]*://)[^/@\s"'<>]+@"#).expect("static regex compiles")
});

/// Returns `text` with every secret we know how to recognise replaced by [`MASK`].
pub fn redact(text: &str) -> String {
    let text = TRANSFER_TOKEN.replace_all(text, format!("${{1}}{MASK}"));
    let text = SECRET_PARAM.replace_all(&text, format!("${{1}}{MASK}"));
    let text = BEARER.replace_all(&text, format!("${{1}} {MASK}"));
    let text = USERINFO.replace_all(&text, format!("${{1}}{MASK}@"));
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_tokens_are_masked() {
        assert_eq!(
            redact("GET http://127.0.0.1:4321/transfer/9f8e7d6c5b4a?x=1 failed"),
            "GET http://127.0.0.1:4321/transfer/***?x=1 failed"
        );
        assert_eq!(redact("/transfer/abc"), "/transfer/***");
    }

    #[test]
    fn query_signatures_and_credentials_are_masked() {
        let url = "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F1&X-Amz-Signature=deadbeef&other=keep";
        assert_eq!(
            redact(url),
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=***&X-Amz-Signature=***&other=keep"
        );
        assert_eq!(
            redact("https://h/p?sig=abc&key=def"),
            "https://h/p?sig=***&key=***"
        );
        assert_eq!(
            redact("https://h/p?Signature=s;token=t"),
            "https://h/p?Signature=***;token=***"
        );
        assert_eq!(
            redact("login failed: token=abc123"),
            "login failed: token=***"
        );
    }

    #[test]
    fn parameters_that_only_end_in_a_secret_name_are_kept() {
        assert_eq!(
            redact("https://h/p?monkey=1&design=2"),
            "https://h/p?monkey=1&design=2"
        );
    }

    #[test]
    fn bearer_tokens_are_masked() {
        assert_eq!(
            redact("Authorization: Bearer abc.DEF-123_x/y+z=="),
            "Authorization: Bearer ***"
        );
        assert_eq!(redact("bearer   tok"), "bearer ***");
    }

    #[test]
    fn userinfo_is_masked() {
        assert_eq!(
            redact("postgresql://app:s3cr%40t@db.internal:5432/shop"),
            "postgresql://***@db.internal:5432/shop"
        );
        assert_eq!(
            redact("rediss://:authtoken@master.x:6379"),
            "rediss://***@master.x:6379"
        );
        assert_eq!(redact("mail me at a@b.c"), "mail me at a@b.c");
        assert_eq!(redact("https://host/path@v2"), "https://host/path@v2");
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        let text = "reading service \"files\" in shop/production: connection refused";
        assert_eq!(redact(text), text);
    }
}
