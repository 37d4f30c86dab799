//! Name rules (setops-reference.md section 1) and the wording of validator names.

const RESERVED_ENV_KEYS: [&str; 4] = ["APP_ENV_ID", "PORT", "PORTS", "PROTOCOL"];

fn check_name(s: &str, min: usize, max: usize, allow_dash: bool) -> Result<(), &'static str> {
    use super::validators::*;
    if s.len() < min {
        return Err(TOO_SHORT);
    }
    if s.len() > max {
        return Err(TOO_LONG);
    }
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || (allow_dash && c == '-'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(INVALID_FORMAT)
    }
}

/// `^[a-z][a-z0-9-]{2,17}$`
pub fn validate_service_name(s: &str) -> Result<(), &'static str> {
    check_name(s, 3, 18, true)
}

/// `^[a-z][a-z0-9-]{2,15}$`
pub fn validate_app_name(s: &str) -> Result<(), &'static str> {
    check_name(s, 3, 16, true)
}

/// `^[a-z][a-z0-9]{2,19}$`
pub fn validate_project_name(s: &str) -> Result<(), &'static str> {
    check_name(s, 3, 20, false)
}

/// `^[a-z][a-z0-9]{2,11}$`
pub fn validate_stage_name(s: &str) -> Result<(), &'static str> {
    check_name(s, 3, 12, false)
}

/// `^[A-Za-z_][A-Za-z0-9_]{0,255}$` and not a reserved word. Reserved words are matched
/// case-insensitively: SetOps does not say, and refusing `port` is the safe reading.
pub fn validate_env_key(s: &str) -> Result<(), &'static str> {
    use super::validators::*;
    if s.is_empty() {
        return Err(REQUIRED);
    }
    if s.len() > 256 {
        return Err(TOO_LONG);
    }
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(INVALID_FORMAT);
    }
    if RESERVED_ENV_KEYS.iter().any(|r| r.eq_ignore_ascii_case(s)) {
        return Err(INCLUDED);
    }
    Ok(())
}

/// An absolute, normalized mount path (`/data`), without `.`/`..` segments or empty segments.
pub fn validate_mount_path(s: &str) -> Result<(), &'static str> {
    use super::validators::*;
    if s.is_empty() {
        return Err(REQUIRED);
    }
    if s.len() > 255 {
        return Err(TOO_LONG);
    }
    let Some(rest) = s.strip_prefix('/') else {
        return Err(INVALID_FORMAT);
    };
    if rest.is_empty() {
        return Err(INVALID);
    }
    let ok = rest.split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    });
    if ok { Ok(()) } else { Err(INVALID_FORMAT) }
}

/// The human reading of a validator name, for error text.
pub fn describe_validator(validator: &str) -> &'static str {
    match validator {
        "invalid" => "is invalid",
        "invalid_format" => "has an invalid format",
        "required" => "is required",
        "too_short" => "is too short",
        "too_long" => "is too long",
        "included" => "is a reserved value",
        "not_included" => "is not an allowed value",
        "not_an_integer" => "is not an integer",
        "taken" => "is already taken",
        "not_found" => "does not exist",
        "greater_than_or_equal_to_threshold" => "is below the minimum",
        "less_than_or_equal_to_threshold" => "is above the maximum",
        "greater_than_or_equal_to_dependent_value" => "is below the value it depends on",
        _ => "failed validation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_follow_the_documented_rule() {
        assert_eq!(validate_service_name("database13"), Ok(()));
        assert_eq!(validate_service_name("a-b"), Ok(()));
        assert_eq!(validate_service_name("ab"), Err("too_short"));
        assert_eq!(validate_service_name("a23456789012345678"), Ok(()));
        assert_eq!(
            validate_service_name("a234567890123456789"),
            Err("too_long")
        );
        assert_eq!(validate_service_name("1abc"), Err("invalid_format"));
        assert_eq!(validate_service_name("Abc"), Err("invalid_format"));
        assert_eq!(validate_service_name("ab_c"), Err("invalid_format"));
    }
    #[test]
    fn project_and_stage_names_have_no_dash() {
        assert_eq!(validate_project_name("shop"), Ok(()));
        assert_eq!(validate_project_name("sh-op"), Err("invalid_format"));
        assert_eq!(validate_stage_name("production"), Ok(()));
        assert_eq!(validate_stage_name("productionxyz"), Err("too_long"));
    }
    #[test]
    fn env_keys_refuse_reserved_words_in_any_case() {
        assert_eq!(validate_env_key("DATABASE_URL"), Ok(()));
        assert_eq!(validate_env_key("_x"), Ok(()));
        assert_eq!(validate_env_key("PORT"), Err("included"));
        assert_eq!(validate_env_key("port"), Err("included"));
        assert_eq!(validate_env_key("9X"), Err("invalid_format"));
        assert_eq!(validate_env_key("A-B"), Err("invalid_format"));
        assert_eq!(validate_env_key(""), Err("required"));
        assert_eq!(validate_env_key(&"A".repeat(257)), Err("too_long"));
    }
    #[test]
    fn mount_paths_are_absolute_and_normalized() {
        assert_eq!(validate_mount_path("/data"), Ok(()));
        assert_eq!(validate_mount_path("/var/lib/app"), Ok(()));
        assert_eq!(validate_mount_path("data"), Err("invalid_format"));
        assert_eq!(validate_mount_path("/"), Err("invalid"));
        assert_eq!(validate_mount_path("/a/../b"), Err("invalid_format"));
        assert_eq!(validate_mount_path("/a//b"), Err("invalid_format"));
    }
}
