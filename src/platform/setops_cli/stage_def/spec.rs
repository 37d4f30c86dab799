//! Typed views of the two parts of a stage definition a migration reads and writes:
//! `services.<name>` and `apps.<app>.links.<service>`. A service keeps the keys it does not model
//! in `extra`, so a copy of it carries them along.

use std::collections::BTreeMap;

use crate::model::ServiceType;

use super::error::StageDefError;
use super::types::{v1_type, v2_type};
use super::yaml::Yaml;

/// `services.<name>`: `{type, version, plan, backup_retention_days, options}` and anything else.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub service_type: String,
    pub version: Option<String>,
    pub plan: Option<String>,
    pub backup_retention_days: Option<u32>,
    /// Option values as written (numbers stay numbers), in document order.
    pub options: Vec<(String, Yaml)>,
    /// Keys this view does not model, untouched.
    pub extra: Vec<(Yaml, Yaml)>,
}

/// `apps.<app>.links.<service>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkSpec {
    EnvKey(String),
    Path { path: String, read_only: bool },
}

fn shape(path: &str, expected: &str, found: &Yaml) -> StageDefError {
    StageDefError::Shape {
        path: path.to_owned(),
        expected: expected.to_owned(),
        found: found.kind().to_owned(),
    }
}

/// A string, or a number where a string belongs (`version: 13` written unquoted).
fn text(path: &str, value: &Yaml) -> Result<Option<String>, StageDefError> {
    match value {
        Yaml::Null => Ok(None),
        Yaml::Str(s) => Ok(Some(s.clone())),
        Yaml::Int(_) | Yaml::UInt(_) | Yaml::Float(_) => Ok(value.scalar_text()),
        other => Err(shape(path, "a string", other)),
    }
}

impl ServiceSpec {
    pub(super) fn read(name: &str, value: &Yaml) -> Result<ServiceSpec, StageDefError> {
        let base = format!("services.{name}");
        let entries = value
            .entries()
            .ok_or_else(|| shape(&base, "a mapping with a `type`", value))?;
        let mut spec = ServiceSpec {
            service_type: String::new(),
            version: None,
            plan: None,
            backup_retention_days: None,
            options: Vec::new(),
            extra: Vec::new(),
        };
        for (key, value) in entries {
            let path = format!("{base}.{}", key.key_text());
            match key.as_str() {
                Some("type") => spec.service_type = text(&path, value)?.unwrap_or_default(),
                Some("version") => spec.version = text(&path, value)?,
                Some("plan") => spec.plan = text(&path, value)?,
                Some("backup_retention_days") => {
                    spec.backup_retention_days = match value {
                        Yaml::Null => None,
                        Yaml::Int(n) => Some(
                            u32::try_from(*n)
                                .map_err(|_| shape(&path, "a number of days", value))?,
                        ),
                        other => return Err(shape(&path, "a number of days", other)),
                    }
                }
                Some("options") => {
                    let options = match value {
                        Yaml::Null => &Vec::new(),
                        Yaml::Map(entries) => entries,
                        other => return Err(shape(&path, "a mapping of options", other)),
                    };
                    for (k, v) in options {
                        let key = k.as_str().ok_or_else(|| shape(&path, "option names", k))?;
                        spec.options.push((key.to_owned(), v.clone()));
                    }
                }
                _ => spec.extra.push((key.clone(), value.clone())),
            }
        }
        if spec.service_type.is_empty() {
            return Err(StageDefError::Shape {
                path: format!("{base}.type"),
                expected: "a service type".into(),
                found: "nothing".into(),
            });
        }
        Ok(spec)
    }

    /// The spec as a definition writes it: modelled keys first, then the others.
    pub fn to_yaml(&self) -> Yaml {
        let s = |v: &str| Yaml::Str(v.to_owned());
        let mut entries = vec![(s("type"), s(&self.service_type))];
        if let Some(v) = &self.version {
            entries.push((s("version"), s(v)));
        }
        if let Some(p) = &self.plan {
            entries.push((s("plan"), s(p)));
        }
        if let Some(d) = self.backup_retention_days {
            entries.push((s("backup_retention_days"), Yaml::Int(i64::from(d))));
        }
        if !self.options.is_empty() {
            let options = self
                .options
                .iter()
                .map(|(k, v)| (s(k), v.clone()))
                .collect();
            entries.push((s("options"), Yaml::Map(options)));
        }
        entries.extend(self.extra.iter().cloned());
        Yaml::Map(entries)
    }

    /// The v1 type; an error naming `name` when the service has none.
    pub fn v1_type(&self, name: &str) -> Result<ServiceType, StageDefError> {
        v1_type(
            &self.service_type,
            self.version.as_deref(),
            self.plan.as_deref(),
        )
        .map_err(|description| StageDefError::UnsupportedService {
            name: name.to_owned(),
            description,
        })
    }

    /// A v2 spec for a v1 service: type and version from the mapping, the given plan (or the
    /// type's implied one), options with whole numbers written as numbers.
    pub fn for_v1(t: ServiceType, plan: Option<&str>, options: &BTreeMap<String, String>) -> Self {
        let v2 = v2_type(t);
        ServiceSpec {
            service_type: v2.service_type.to_owned(),
            version: v2.version.map(str::to_owned),
            plan: plan.or(v2.plan).map(str::to_owned),
            backup_retention_days: None,
            options: options
                .iter()
                .map(|(k, v)| {
                    let value = v
                        .parse::<i64>()
                        .map_or_else(|_| Yaml::Str(v.clone()), Yaml::Int);
                    (k.clone(), value)
                })
                .collect(),
            extra: Vec::new(),
        }
    }

    /// Options as the v1 model holds them (text); a list is joined with commas.
    pub fn options_as_strings(
        &self,
        name: &str,
    ) -> Result<BTreeMap<String, String>, StageDefError> {
        self.options
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Yaml::Null => Some(String::new()),
                    Yaml::Seq(items) => items
                        .iter()
                        .map(Yaml::scalar_text)
                        .collect::<Option<Vec<_>>>()
                        .map(|items| items.join(",")),
                    other => other.scalar_text(),
                };
                let path = format!("services.{name}.options.{k}");
                text.map(|t| (k.clone(), t))
                    .ok_or_else(|| shape(&path, "a number, a string or a list of them", v))
            })
            .collect()
    }
}

impl LinkSpec {
    /// The link as a definition writes it: `{env_key: KEY}` or `{path: /p, read_only: false}`.
    pub fn to_yaml(&self) -> Yaml {
        let s = |v: &str| Yaml::Str(v.to_owned());
        match self {
            LinkSpec::EnvKey(key) => Yaml::Map(vec![(s("env_key"), s(key))]),
            LinkSpec::Path { path, read_only } => Yaml::Map(vec![
                (s("path"), s(path)),
                (s("read_only"), Yaml::Bool(*read_only)),
            ]),
        }
    }

    pub(super) fn read(app: &str, service: &str, value: &Yaml) -> Result<LinkSpec, StageDefError> {
        let base = format!("apps.{app}.links.{service}");
        let expected = "`env_key: KEY`, or `path: /dir` with an optional `read_only`";
        let env_key = value.get("env_key");
        let path = value.get("path");
        match (env_key, path) {
            (Some(Yaml::Str(key)), None) => Ok(LinkSpec::EnvKey(key.clone())),
            (None, Some(Yaml::Str(path))) => {
                let read_only = match value.get("read_only") {
                    None | Some(Yaml::Null) => false,
                    Some(Yaml::Bool(b)) => *b,
                    Some(other) => {
                        return Err(shape(&format!("{base}.read_only"), "true or false", other));
                    }
                };
                Ok(LinkSpec::Path {
                    path: path.clone(),
                    read_only,
                })
            }
            _ => Err(shape(&base, expected, value)),
        }
    }
}
