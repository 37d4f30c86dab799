//! The keys a v2 stage definition may hold, checked strictly (as the platform checks a file
//! against its JSON schema): an unknown key, or a value of the wrong kind, is an error naming
//! `FILE:LINE:COLUMN`. The spans kept here also place the model's own complaints on a line.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::{Location, Spanned};

use crate::sandbox::cli_front::failure::Failure;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefinitionShape {
    #[allow(dead_code)]
    schema_version: Option<Scalar>,
    #[allow(dead_code)]
    project: Option<String>,
    #[allow(dead_code)]
    stage: Option<String>,
    apps: Option<HashMap<Spanned<String>, Option<AppShape>>>,
    services: Option<HashMap<Spanned<String>, Option<ServiceShape>>>,
    #[allow(dead_code)]
    notifications: Option<IgnoredAny>,
    #[allow(dead_code)]
    log_retention: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AppShape {
    image_tag: Option<IgnoredAny>,
    container: Option<IgnoredAny>,
    custom_domains: Option<IgnoredAny>,
    env: Option<IgnoredAny>,
    network: Option<IgnoredAny>,
    resources: Option<ResourcesShape>,
    schedule: Option<IgnoredAny>,
    links: Option<HashMap<Spanned<String>, LinkShape>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ResourcesShape {
    cpu: Option<u32>,
    memory: Option<u32>,
    scale: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ServiceShape {
    #[serde(rename = "type")]
    service_type: String,
    version: Option<Scalar>,
    plan: Option<String>,
    backup_retention_days: Option<u32>,
    options: Option<BTreeMap<String, IgnoredAny>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct LinkShape {
    env_key: Option<String>,
    path: Option<String>,
    read_only: Option<bool>,
}

/// A string or a number (`version: 13` and `version: "13"` both read).
#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Scalar {
    Text(String),
    Number(f64),
}

/// Where each service, app and link of a definition starts.
pub(crate) struct Spans {
    origin: String,
    /// Dotted paths (`services.db`, `apps.web`, `apps.web.links.db`) -> position.
    at: BTreeMap<String, (u64, u64)>,
}

impl Spans {
    /// Checks `text` (read from `origin`) against the definition's keys.
    pub(crate) fn check(text: &str, origin: &str) -> Result<Spans, Failure> {
        let shape: DefinitionShape = serde_saphyr::from_str(text).map_err(|e| {
            let at = e
                .location()
                .filter(|l| l.line() > 0)
                .map(|l| format!("{}:{}", l.line(), l.column()))
                .unwrap_or_else(|| "1:1".to_owned());
            // The position leads the message already; drop the parser's own copy of it.
            let text = e.without_snippet().to_string();
            let text = match text.rfind(" at line ") {
                Some(i) => &text[..i],
                None => &text,
            };
            Failure::new(format!(
                "{origin}:{at}: {text} (this is not a stage definition `stage:apply` can read)"
            ))
        })?;
        let mut at = BTreeMap::new();
        let mut put = |path: String, l: &Location| {
            if l.line() > 0 {
                at.insert(path, (l.line(), l.column()));
            }
        };
        // Keys carry the positions: an entry is placed on the line that names it.
        for name in shape.services.iter().flat_map(HashMap::keys) {
            put(format!("services.{}", name.value), &name.referenced);
        }
        for (name, app) in shape.apps.iter().flatten() {
            put(format!("apps.{}", name.value), &name.referenced);
            let links = app.as_ref().and_then(|a| a.links.as_ref());
            for service in links.into_iter().flat_map(HashMap::keys) {
                put(
                    format!("apps.{}.links.{}", name.value, service.value),
                    &service.referenced,
                );
            }
        }
        Ok(Spans {
            origin: origin.to_owned(),
            at,
        })
    }

    /// `FILE:LINE:COLUMN: what`, placed at the deepest known entry `path` lies in.
    pub(crate) fn fail(&self, path: &str, what: impl std::fmt::Display) -> Failure {
        let mut probe = path;
        loop {
            if let Some((line, column)) = self.at.get(probe) {
                return Failure::new(format!("{}:{line}:{column}: {what}", self.origin));
            }
            match probe.rfind('.') {
                Some(i) => probe = &probe[..i],
                None => return Failure::new(format!("{}: {what}", self.origin)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "schema_version: \"1\"\nproject: shop\nstage: production\napps:\n  web:\n    \
                        links:\n      database:\n        env_key: DATABASE_URL\n  worker: {}\n\
                        services:\n  database:\n    type: postgresql\n    plan: shared\n    \
                        options:\n      extensions: citext\n  files:\n    type: volume\n\
                        notifications: {}\n";

    #[test]
    fn a_good_definition_passes_and_places_its_entries() {
        let spans = Spans::check(GOOD, "stage.yaml").expect("valid");
        let f = spans.fail("apps.web.links.database.env_key", "bad key");
        assert_eq!(f.message, "stage.yaml:7:7: bad key");
        let f = spans.fail("services.files.type", "no such type");
        assert_eq!(f.message, "stage.yaml:16:3: no such type");
        assert_eq!(spans.fail("(top level)", "x").message, "stage.yaml: x");
    }

    #[test]
    fn unknown_keys_and_wrong_kinds_name_file_and_line() {
        for (text, line, word) in [
            (
                GOOD.replace("        env_key:", "        env_kee:"),
                8,
                "env_kee",
            ),
            (
                GOOD.replace("    plan: shared", "    plan: shared\n    size: 5"),
                14,
                "size",
            ),
            (format!("{GOOD}surprise: 1\n"), 19, "surprise"),
            (
                GOOD.replace("    type: volume", "    type: [volume]"),
                17,
                "",
            ),
            (GOOD.replace("apps:\n", "apps:\n\t"), 5, ""),
        ] {
            let f = Spans::check(&text, "stage.yaml").err().expect("refused");
            assert!(
                f.message.starts_with(&format!("stage.yaml:{line}:")),
                "{}",
                f.message
            );
            assert!(f.message.contains(word), "{}", f.message);
        }
    }
}
