//! `setops version`: which CLI generation we drive. Up to 1.x the CLI queues changesets; 2.x
//! replaced them with stage definitions (reference sections 0 and 8), so every later call
//! depends on this answer.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use super::error::ParseError;
use super::lines::{Line, split};

const COMMAND: &str = "setops version";

static LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*CLI\s+Version\s*:\s*(.*?)\s*$").expect("static regex compiles")
});

/// `X.Y.Z`, optionally with a `v` in front and a pre-release or build suffix.
static SEMVER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^v?(\d{1,9})\.(\d{1,9})\.(\d{1,9})([-+][0-9A-Za-z.+\-]*)?$")
        .expect("static regex compiles")
});

/// The CLI generation, as the adapter's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    /// CLI 0.x and 1.x: changesets (`service:create` … `changeset:commit`).
    V1,
    /// CLI 2.x: stage definitions (`stage:dump` / `stage:apply`).
    V2,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliVersion {
    /// As printed after the label, e.g. `1.1.0` or `v2.3.4`.
    pub text: String,
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    pub generation: Generation,
}

impl fmt::Display for CliVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Finds `CLI Version:      X.Y.Z` among the other lines (API version, commit, build date …).
/// A major version other than 0, 1 or 2 is refused: its outputs are unknown.
pub fn parse_version(output: &str) -> Result<CliVersion, ParseError> {
    let lines = split(output);
    let expected = "a line `CLI Version:   X.Y.Z`";
    let Some((line, value)) = lines.iter().find_map(|l| {
        LABEL
            .captures(&l.text)
            .and_then(|c| c.get(1))
            .map(|m| (l, m.as_str()))
    }) else {
        return Err(ParseError::at_end(COMMAND, &lines, expected));
    };
    version_of(line, value)
}

fn version_of(line: &Line<'_>, value: &str) -> Result<CliVersion, ParseError> {
    let caps = SEMVER
        .captures(value)
        .ok_or_else(|| ParseError::at(COMMAND, line, "a version X.Y.Z after `CLI Version:`"))?;
    let number = |i: usize| -> Result<u32, ParseError> {
        caps.get(i)
            .and_then(|m| m.as_str().parse().ok())
            .ok_or_else(|| ParseError::at(COMMAND, line, "a version X.Y.Z after `CLI Version:`"))
    };
    let (major, minor, patch) = (number(1)?, number(2)?, number(3)?);
    let generation = match major {
        0 | 1 => Generation::V1,
        2 => Generation::V2,
        _ => {
            return Err(ParseError::at(
                COMMAND,
                line,
                format!(
                    "a supported CLI version: {value} is not supported (setops-migrate drives \
                     0.x–1.x with changesets and 2.x with stage definitions)"
                ),
            ));
        }
    };
    Ok(CliVersion {
        text: value.to_owned(),
        major,
        minor,
        patch,
        generation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_follow_the_major_version() {
        let v = parse_version("CLI Version:      1.1.0\nAPI Version:      1.4.0\n").unwrap();
        assert_eq!(
            (v.major, v.minor, v.patch, v.generation),
            (1, 1, 0, Generation::V1)
        );
        let v =
            parse_version("Commit: abc\nCLI Version:   v2.3.4\nBuild Date: 2025-03-17T10:00:00Z")
                .unwrap();
        assert_eq!(v.generation, Generation::V2);
        assert_eq!(v.to_string(), "2.3.4");
        assert_eq!(
            parse_version("CLI Version: 0.10.3-rc1").unwrap().generation,
            Generation::V1
        );
    }

    #[test]
    fn unknown_or_broken_versions_are_errors() {
        let e = parse_version("CLI Version:      3.0.0").unwrap_err();
        assert!(e.to_string().contains("3.0.0 is not supported"), "{e}");
        assert_eq!(
            parse_version("CLI Version:      2.x").unwrap_err().line(),
            1
        );
        assert_eq!(parse_version("").unwrap_err().line(), 1);
        assert_eq!(parse_version("setops 1.1.0\n").unwrap_err().line(), 2);
    }
}
