//! The text of the plan rules: what was wrong and what SetOps accepts, so an issue can be fixed
//! without opening the reference.

use crate::model::{ServiceType, validators};

#[derive(Debug, Clone, Copy)]
pub(crate) enum NameKind {
    Project,
    Stage,
    Service,
    App,
}

impl NameKind {
    fn noun(self) -> &'static str {
        match self {
            NameKind::Project => "project",
            NameKind::Stage => "stage",
            NameKind::Service => "service",
            NameKind::App => "app",
        }
    }

    /// (regex, length range, alphabet) as setops-reference.md section 1 states them.
    fn rule(self) -> (&'static str, &'static str, &'static str) {
        match self {
            NameKind::Project => (
                "^[a-z][a-z0-9]{2,19}$",
                "3 to 20",
                "lowercase letters and digits",
            ),
            NameKind::Stage => (
                "^[a-z][a-z0-9]{2,11}$",
                "3 to 12",
                "lowercase letters and digits",
            ),
            NameKind::Service => (
                "^[a-z][a-z0-9-]{2,17}$",
                "3 to 18",
                "lowercase letters, digits and `-`",
            ),
            NameKind::App => (
                "^[a-z][a-z0-9-]{2,15}$",
                "3 to 16",
                "lowercase letters, digits and `-`",
            ),
        }
    }
}

/// A value for a message: quoted, and cut short when long.
pub(crate) fn quote(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        format!("`{value}`")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("`{head}...`")
    }
}

pub(crate) fn name_rule(kind: NameKind, value: &str, validator: &str) -> String {
    let (regex, lengths, alphabet) = kind.rule();
    let noun = kind.noun();
    let count = match value.chars().count() {
        1 => "1 character".to_owned(),
        n => format!("{n} characters"),
    };
    let problem = match validator {
        validators::TOO_LONG => format!("is too long ({count})"),
        validators::TOO_SHORT if value.is_empty() => "is empty".to_owned(),
        validators::TOO_SHORT => format!("is too short ({count})"),
        _ if !value.starts_with(|c: char| c.is_ascii_lowercase()) => {
            "does not start with a lowercase letter".to_owned()
        }
        _ => {
            let dash = matches!(kind, NameKind::Service | NameKind::App);
            let allowed =
                |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || (dash && c == '-');
            match value.chars().find(|c| !allowed(*c)) {
                Some(c) => format!("has a character SetOps does not allow ({c:?})"),
                None => "has a character SetOps does not allow".to_owned(),
            }
        }
    };
    format!(
        "{noun} name {} {problem}; SetOps {noun} names match {regex} ({lengths} characters: \
         {alphabet}, starting with a letter)",
        quote(value)
    )
}

pub(crate) fn env_key_rule(key: &str, validator: &str) -> String {
    match validator {
        validators::INCLUDED => format!(
            "{key} is reserved by SetOps (APP_ENV_ID, PORT, PORTS, PROTOCOL); choose another key"
        ),
        validators::REQUIRED => "env key is empty; give the variable name the app reads, such \
                                 as DATABASE_URL"
            .to_owned(),
        validators::TOO_LONG => {
            "env key is longer than 256 characters; SetOps env keys are 1 to 256 characters"
                .to_owned()
        }
        _ => format!(
            "env key {} is invalid; SetOps env keys match ^[A-Za-z_][A-Za-z0-9_]{{0,255}}$ \
             (letters, digits and `_`, not starting with a digit)",
            quote(key)
        ),
    }
}

pub(crate) fn mount_path_rule(path: &str, validator: &str) -> String {
    match validator {
        validators::INVALID => "mount path / is the root; mount the volume at a directory such \
                                as /data"
            .to_owned(),
        validators::REQUIRED => {
            "mount path is empty; give an absolute path such as /data".to_owned()
        }
        validators::TOO_LONG => "mount path is longer than 255 characters".to_owned(),
        _ => format!(
            "mount path {} is invalid; write an absolute path such as /data, without `.`, `..` \
             or empty segments, using letters, digits, `.`, `_` and `-`",
            quote(path)
        ),
    }
}

/// Types a plan may name; elasticsearch7 exists but cannot be migrated.
pub(super) fn migratable_types() -> String {
    ServiceType::ALL
        .iter()
        .filter(|t| t.backup_extension().is_some())
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `postgresql13 takes an RDS node type such as …`: the model's words with the type named.
pub(super) fn plan_hint(service_type: ServiceType) -> String {
    format!("{service_type} takes {}", service_type.plan_hint())
}

pub(super) fn option_names(service_type: ServiceType) -> String {
    match service_type.allowed_options() {
        [] => format!("{service_type} has no options"),
        names => format!("{service_type} takes {}", names.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules_quote_the_regex_and_the_problem() {
        let text = name_rule(NameKind::Service, &"a".repeat(19), "too_long");
        assert!(text.contains("is too long (19 characters)"), "{text}");
        assert!(text.contains("^[a-z][a-z0-9-]{2,17}$"), "{text}");
        let text = name_rule(NameKind::Stage, "Prod", "invalid_format");
        assert!(
            text.contains("does not start with a lowercase letter"),
            "{text}"
        );
        let text = name_rule(NameKind::Project, "my-shop", "invalid_format");
        assert!(
            text.contains("has a character SetOps does not allow ('-')"),
            "{text}"
        );
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        assert_eq!(quote("abc"), "`abc`");
        assert_eq!(quote(&"x".repeat(100)), format!("`{}...`", "x".repeat(40)));
    }

    #[test]
    fn env_key_rules() {
        assert_eq!(
            env_key_rule("PORT", "included"),
            "PORT is reserved by SetOps (APP_ENV_ID, PORT, PORTS, PROTOCOL); choose another key"
        );
        assert!(env_key_rule("9X", "invalid_format").contains("^[A-Za-z_]"));
    }

    #[test]
    fn elasticsearch_is_not_listed_as_migratable() {
        assert_eq!(
            migratable_types(),
            "postgresql11, postgresql13, postgresql14, postgresql15, postgresql16, s3, redis6, redis7, volume, mongodb4"
        );
    }
}
