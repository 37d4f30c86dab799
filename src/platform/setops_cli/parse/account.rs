//! `setops login:info` (who is logged in, to which organization and API) and `--app A env` (the
//! env vars an app receives). Neither output is documented: both are read as the padded blocks and
//! `-- KEY=value   (description)` lines the other commands print, tolerant of extra lines.

use crate::model::EnvVar;

use super::block::Block;
use super::error::ParseError;
use super::lines::split;

/// The session the CLI runs with: journals are keyed by organization and API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginInfo {
    pub organization: String,
    pub user: Option<String>,
    /// The API the session talks to (`https://api.setops.co`, or a sandbox front's instance).
    pub api: Option<String>,
}

pub fn parse_login_info(output: &str) -> Result<LoginInfo, ParseError> {
    const COMMAND: &str = "setops login:info";
    let lines = split(output);
    let block = Block::parse(&lines);
    let value = |labels: &[&str]| {
        labels.iter().find_map(|l| {
            block
                .fields
                .iter()
                .find(|f| f.label.eq_ignore_ascii_case(l) && !f.value.is_empty())
                .map(|f| f.value.clone())
        })
    };
    let organization = value(&["Organization", "Org"])
        .ok_or_else(|| ParseError::at_end(COMMAND, &lines, "a line `Organization:   NAME`"))?;
    Ok(LoginInfo {
        organization,
        user: value(&["User", "Username", "Email"]),
        api: value(&["API", "API URL", "Url", "URL"]),
    })
}

/// `-- DATABASE_URL=postgresql://…   (description)` lines; other lines are ignored.
pub fn parse_env_list(output: &str) -> Result<Vec<EnvVar>, ParseError> {
    const COMMAND: &str = "setops env";
    let mut vars = Vec::new();
    for line in split(output) {
        let Some(rest) = line.trimmed().strip_prefix("--") else {
            continue;
        };
        let rest = rest.trim();
        let Some((key, value)) = rest.split_once('=') else {
            return Err(ParseError::at(COMMAND, &line, "a line `-- KEY=value`"));
        };
        let (value, description) = match value.rsplit_once("   (") {
            Some((v, d)) if d.ends_with(')') => {
                (v.trim_end(), Some(d.trim_end_matches(')').to_owned()))
            }
            _ => (value.trim_end(), None),
        };
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ParseError::at(COMMAND, &line, "an env key before `=`"));
        }
        vars.push(EnvVar {
            key: key.to_owned(),
            value: value.to_owned(),
            description,
            secret: false,
        });
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_info_reads_padded_labels_and_ignores_the_rest() {
        let info = parse_login_info(
            "Organization:   acme\nUser:           ci@acme.test\nAPI:            https://api.setops.co\nSome other line\n",
        )
        .unwrap();
        assert_eq!(info.organization, "acme");
        assert_eq!(info.user.as_deref(), Some("ci@acme.test"));
        assert_eq!(info.api.as_deref(), Some("https://api.setops.co"));
        assert!(parse_login_info("").is_err());
        assert!(parse_login_info("User: x\n").is_err());
    }

    #[test]
    fn env_lines_with_and_without_descriptions() {
        let vars = parse_env_list(
            "-- DATABASE_URL=postgresql://u:p@h:5432/db   (link to database)\n-- RAILS_ENV=production\n",
        )
        .unwrap();
        assert_eq!(vars.len(), 2);
        assert_eq!(vars[0].key, "DATABASE_URL");
        assert_eq!(vars[0].value, "postgresql://u:p@h:5432/db");
        assert_eq!(vars[0].description.as_deref(), Some("link to database"));
        assert_eq!(vars[1].description, None);
        assert!(parse_env_list("-- no equals sign\n").is_err());
        assert!(parse_env_list("").unwrap().is_empty());
    }
}
