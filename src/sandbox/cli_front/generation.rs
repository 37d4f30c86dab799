//! Which `setops` CLI generation the front plays: 1.4.1 (changesets) or 2.3.4 (stage
//! definitions), chosen by `SETOPS_SANDBOX_CLI_VERSION`.

use super::failure::Failure;

pub(crate) const VERSION_ENV: &str = "SETOPS_SANDBOX_CLI_VERSION";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Generation {
    /// CLI 1.4.1: `service:create`, `link:create`, ... staged in a changeset, `changeset:commit`.
    V1,
    /// CLI 2.3.4: no changesets; `stage:dump` and `stage:apply` with stage definitions.
    V2,
}

impl Generation {
    /// The CLI version this generation answers `version` with.
    pub(crate) fn version(self) -> &'static str {
        match self {
            Generation::V1 => "1.4.1",
            Generation::V2 => "2.3.4",
        }
    }

    /// When that release came out (homebrew formula history; the day of 1.4.1 is not known).
    pub(crate) fn build_date(self) -> &'static str {
        match self {
            Generation::V1 => "2023-03",
            Generation::V2 => "2025-03-17",
        }
    }

    /// From `SETOPS_SANDBOX_CLI_VERSION`; unset or empty means the newest.
    pub(crate) fn from_env() -> Result<Generation, Failure> {
        match std::env::var(VERSION_ENV) {
            Err(std::env::VarError::NotPresent) => Ok(Generation::V2),
            Ok(v) if v.trim().is_empty() => Ok(Generation::V2),
            Ok(v) => Generation::parse(v.trim()).ok_or_else(|| {
                Failure::new(format!(
                    "{VERSION_ENV}={v:?} is not a CLI version this setops front plays; accepted \
                     values: 1.4.1 (changesets) and 2.3.4 (stage definitions, the default)"
                ))
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(Failure::new(format!(
                "{VERSION_ENV} is not valid UTF-8; accepted values: 1.4.1 and 2.3.4"
            ))),
        }
    }

    fn parse(text: &str) -> Option<Generation> {
        [Generation::V1, Generation::V2]
            .into_iter()
            .find(|g| g.version() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_played_versions_parse() {
        assert_eq!(Generation::parse("1.4.1"), Some(Generation::V1));
        assert_eq!(Generation::parse("2.3.4"), Some(Generation::V2));
        assert_eq!(Generation::parse("2.3"), None);
        assert_eq!(Generation::parse("v2.3.4"), None);
    }
}
