//! Service types: what each type takes (plans, options) and how it links.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    Postgresql11,
    Postgresql13,
    Postgresql14,
    Postgresql15,
    Postgresql16,
    Redis7,
    S3,
    Redis6,
    Volume,
    Elasticsearch7,
    Mongodb4,
}

/// How an app receives a service: an environment variable or a mounted directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    EnvKey,
    Path,
}

impl ServiceType {
    pub const ALL: [ServiceType; 11] = [
        ServiceType::Postgresql11,
        ServiceType::Postgresql13,
        ServiceType::Postgresql14,
        ServiceType::Postgresql15,
        ServiceType::Postgresql16,
        ServiceType::S3,
        ServiceType::Redis6,
        ServiceType::Redis7,
        ServiceType::Volume,
        ServiceType::Elasticsearch7,
        ServiceType::Mongodb4,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Postgresql11 => "postgresql11",
            ServiceType::Postgresql13 => "postgresql13",
            ServiceType::Postgresql14 => "postgresql14",
            ServiceType::Postgresql15 => "postgresql15",
            ServiceType::Postgresql16 => "postgresql16",
            ServiceType::Redis7 => "redis7",
            ServiceType::S3 => "s3",
            ServiceType::Redis6 => "redis6",
            ServiceType::Volume => "volume",
            ServiceType::Elasticsearch7 => "elasticsearch7",
            ServiceType::Mongodb4 => "mongodb4",
        }
    }

    /// Types only SetOps' CLI 2.x offers (a stage definition's `postgresql` with `version` 14 to
    /// 16, `redis` 7.x); CLI 1.x and its changesets know none of them.
    pub fn cli_2_only(self) -> bool {
        matches!(
            self,
            ServiceType::Postgresql14
                | ServiceType::Postgresql15
                | ServiceType::Postgresql16
                | ServiceType::Redis7
        )
    }

    /// Whether a service of this type is a PostgreSQL database.
    pub fn is_postgresql(self) -> bool {
        self.postgresql_major().is_some()
    }

    /// The PostgreSQL major version of a PostgreSQL type.
    pub fn postgresql_major(self) -> Option<u32> {
        match self {
            ServiceType::Postgresql11 => Some(11),
            ServiceType::Postgresql13 => Some(13),
            ServiceType::Postgresql14 => Some(14),
            ServiceType::Postgresql15 => Some(15),
            ServiceType::Postgresql16 => Some(16),
            _ => None,
        }
    }

    /// The Redis major version of a Redis type.
    pub fn redis_major(self) -> Option<u32> {
        match self {
            ServiceType::Redis6 => Some(6),
            ServiceType::Redis7 => Some(7),
            _ => None,
        }
    }

    /// File extension of this type's backup format; `None` where SetOps has no backup format.
    pub fn backup_extension(self) -> Option<&'static str> {
        match self {
            ServiceType::Postgresql11
            | ServiceType::Postgresql13
            | ServiceType::Postgresql14
            | ServiceType::Postgresql15
            | ServiceType::Postgresql16 => Some("psqlcustom"),
            ServiceType::S3 | ServiceType::Volume => Some("tar.gz"),
            ServiceType::Redis6 | ServiceType::Redis7 => Some("rdb"),
            ServiceType::Mongodb4 => Some("mongodump.gz"),
            ServiceType::Elasticsearch7 => None,
        }
    }

    /// The backup format as the Backup & Restore document names it.
    pub fn backup_format_name(self) -> &'static str {
        match self {
            ServiceType::Postgresql11
            | ServiceType::Postgresql13
            | ServiceType::Postgresql14
            | ServiceType::Postgresql15
            | ServiceType::Postgresql16 => "PostgreSQL custom archive",
            ServiceType::S3 | ServiceType::Volume => ".tar.gz archive",
            ServiceType::Redis6 | ServiceType::Redis7 => "Redis RDB file",
            ServiceType::Mongodb4 => "mongodump --gzip archive",
            ServiceType::Elasticsearch7 => "none (not implemented by SetOps)",
        }
    }

    pub fn link_kind(self) -> LinkKind {
        match self {
            ServiceType::Volume => LinkKind::Path,
            _ => LinkKind::EnvKey,
        }
    }

    /// Option names this type accepts.
    pub fn allowed_options(self) -> &'static [&'static str] {
        match self {
            ServiceType::Postgresql11 => &["extensions"],
            ServiceType::Postgresql13
            | ServiceType::Postgresql14
            | ServiceType::Postgresql15
            | ServiceType::Postgresql16 => &["extensions", "min_storage", "max_storage"],
            ServiceType::S3 => &["blockPublicAccess"],
            ServiceType::Redis6 | ServiceType::Redis7 | ServiceType::Volume => &[],
            ServiceType::Elasticsearch7 => &["storage"],
            ServiceType::Mongodb4 => &["scale"],
        }
    }

    /// Options a new service of this type has without any `option:set`, as SetOps documents
    /// them (reference section 4: `blockPublicAccess` defaults to `true`); `option:unset`
    /// returns such an option to its default.
    pub fn default_options(self) -> &'static [(&'static str, &'static str)] {
        match self {
            ServiceType::S3 => &[("blockPublicAccess", "true")],
            _ => &[],
        }
    }

    /// `options` with every documented default filled in where it is not set: the options a
    /// service holding `options` actually has. Comparing two services' configurations compares
    /// these, so one that shows a default and one that leaves it out are the same.
    pub fn effective_options(self, options: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut all = options.clone();
        for (name, value) in self.default_options() {
            all.entry((*name).to_owned())
                .or_insert_with(|| (*value).to_owned());
        }
        all
    }

    /// The plan used when none is given, where the type has one that needs no choice.
    pub fn default_plan(self) -> Option<&'static str> {
        match self {
            ServiceType::Postgresql11 => Some("shared"),
            _ => None,
        }
    }

    /// Checks a plan against the type's documented plans; `Err` carries the validator name.
    pub fn validate_plan(self, plan: Option<&str>) -> Result<(), &'static str> {
        use super::validators::*;
        let Some(plan) = plan else {
            return match self {
                ServiceType::S3 | ServiceType::Volume | ServiceType::Postgresql11 => Ok(()),
                _ => Err(REQUIRED),
            };
        };
        let ok = match self {
            ServiceType::Postgresql11 => plan == "shared",
            ServiceType::Postgresql13
            | ServiceType::Postgresql14
            | ServiceType::Postgresql15
            | ServiceType::Postgresql16 => node_type(plan, "db", &[".ha"]),
            ServiceType::Redis6 | ServiceType::Redis7 => node_type(plan, "cache", &[]),
            ServiceType::S3 | ServiceType::Volume => plan == "default",
            ServiceType::Elasticsearch7 => {
                let base = plan
                    .strip_suffix(".ha")
                    .or_else(|| plan.strip_suffix(".sharded"))
                    .unwrap_or(plan);
                base.strip_suffix(".elasticsearch").is_some_and(two_part)
            }
            ServiceType::Mongodb4 => [
                "db.t3.medium",
                "db.r5.large",
                "db.r5.xlarge",
                "db.r5.2xlarge",
            ]
            .contains(&plan),
        };
        if ok { Ok(()) } else { Err(NOT_INCLUDED) }
    }

    /// Checks one option value; `Err` carries the validator name.
    pub fn validate_option(self, name: &str, value: &str) -> Result<(), &'static str> {
        use super::validators::*;
        if !self.allowed_options().contains(&name) {
            return Err(NOT_INCLUDED);
        }
        let int_in = |min: i64, max: i64| -> Result<(), &'static str> {
            let n: i64 = value.trim().parse().map_err(|_| NOT_AN_INTEGER)?;
            if n < min {
                Err(GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
            } else if n > max {
                Err(LESS_THAN_OR_EQUAL_TO_THRESHOLD)
            } else {
                Ok(())
            }
        };
        match name {
            "min_storage" | "max_storage" => int_in(20, 65536),
            "storage" => int_in(1, 1024),
            "scale" => int_in(0, 14),
            "blockPublicAccess" => match value {
                "true" | "false" => Ok(()),
                _ => Err(NOT_INCLUDED),
            },
            "extensions" => {
                let valid = value.split(',').all(|e| {
                    let e = e.trim();
                    !e.is_empty()
                        && e.len() <= 63
                        && e.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c)
                        })
                });
                if valid { Ok(()) } else { Err(INVALID_FORMAT) }
            }
            _ => Err(NOT_INCLUDED),
        }
    }

    /// What a valid plan of this type looks like, for messages and prompts ("postgresql13 takes
    /// …"); it says in words what [`ServiceType::validate_plan`] checks.
    pub fn plan_hint(self) -> &'static str {
        match self {
            ServiceType::Postgresql11 => "`shared` only; dedicated plans need postgresql13",
            ServiceType::Postgresql13
            | ServiceType::Postgresql14
            | ServiceType::Postgresql15
            | ServiceType::Postgresql16 => {
                "an RDS node type such as db.t3.micro (append .ha for Multi-AZ)"
            }
            ServiceType::Redis6 | ServiceType::Redis7 => {
                "an ElastiCache node type such as cache.t3.micro"
            }
            ServiceType::S3 | ServiceType::Volume => "no plan (or `default`)",
            ServiceType::Elasticsearch7 => "a plan such as t3.small.elasticsearch",
            ServiceType::Mongodb4 => {
                "one of db.t3.medium, db.r5.large, db.r5.xlarge, db.r5.2xlarge"
            }
        }
    }

    /// What a valid value of option `name` looks like, for messages and prompts; it says in
    /// words what [`ServiceType::validate_option`] checks.
    pub fn option_hint(name: &str) -> &'static str {
        match name {
            "min_storage" | "max_storage" => "a whole number of GB from 20 to 65536",
            "storage" => "a whole number of GB from 1 to 1024",
            "scale" => "a whole number from 0 to 14",
            "blockPublicAccess" => "true or false",
            "extensions" => "a comma-separated list of extension names such as uuid-ossp,postgis",
            _ => "a value SetOps documents for this option",
        }
    }
}

/// `<prefix>.<family>.<size>` with optional suffixes, e.g. `db.t3.micro.ha`.
fn node_type(plan: &str, prefix: &str, suffixes: &[&str]) -> bool {
    let base = suffixes
        .iter()
        .find_map(|s| plan.strip_suffix(s))
        .unwrap_or(plan);
    base.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(two_part)
}

fn two_part(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ServiceType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServiceType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = ServiceType::ALL.iter().map(|t| t.as_str()).collect();
                format!(
                    "unknown service type {s:?}; expected one of {}",
                    all.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_in_only_what_is_not_set() {
        let none = BTreeMap::new();
        let shown = ServiceType::S3.effective_options(&none);
        assert_eq!(
            shown.get("blockPublicAccess").map(String::as_str),
            Some("true")
        );
        let set = BTreeMap::from([("blockPublicAccess".to_owned(), "false".to_owned())]);
        assert_eq!(ServiceType::S3.effective_options(&set), set);
        assert!(ServiceType::Volume.effective_options(&none).is_empty());
    }

    #[test]
    fn plans_follow_each_type() {
        use ServiceType::*;
        assert_eq!(Postgresql11.validate_plan(Some("shared")), Ok(()));
        assert_eq!(
            Postgresql11.validate_plan(Some("db.t3.micro")),
            Err("not_included")
        );
        assert_eq!(Postgresql13.validate_plan(Some("db.t3.micro")), Ok(()));
        assert_eq!(Postgresql13.validate_plan(Some("db.t3.micro.ha")), Ok(()));
        assert_eq!(
            Postgresql13.validate_plan(Some("shared")),
            Err("not_included")
        );
        assert_eq!(Postgresql13.validate_plan(None), Err("required"));
        assert_eq!(Redis6.validate_plan(Some("cache.t3.micro")), Ok(()));
        assert_eq!(Volume.validate_plan(None), Ok(()));
        assert_eq!(S3.validate_plan(Some("default")), Ok(()));
        assert_eq!(
            Elasticsearch7.validate_plan(Some("t3.medium.elasticsearch.ha")),
            Ok(())
        );
        assert_eq!(Mongodb4.validate_plan(Some("db.r5.large")), Ok(()));
    }
    #[test]
    fn options_are_checked_per_type() {
        use ServiceType::*;
        assert_eq!(Postgresql13.validate_option("min_storage", "50"), Ok(()));
        assert_eq!(
            Postgresql13.validate_option("min_storage", "10"),
            Err("greater_than_or_equal_to_threshold")
        );
        assert_eq!(
            Postgresql13.validate_option("min_storage", "x"),
            Err("not_an_integer")
        );
        assert_eq!(
            Postgresql11.validate_option("min_storage", "50"),
            Err("not_included")
        );
        assert_eq!(S3.validate_option("blockPublicAccess", "false"), Ok(()));
        assert_eq!(
            S3.validate_option("blockPublicAccess", "no"),
            Err("not_included")
        );
        assert_eq!(
            Postgresql11.validate_option("extensions", "uuid-ossp,postgis"),
            Ok(())
        );
        assert_eq!(Volume.validate_option("size", "1"), Err("not_included"));
    }
}
