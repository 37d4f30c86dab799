//! v2 stage definitions (`setops stage:dump` / `stage:apply -f`): the whole document as a YAML
//! tree, so what the typed view does not model (apps' other settings, notifications, keys a newer
//! CLI adds) goes back to `stage:apply` untouched; typed views of services and links on top; and
//! the edits a migration makes (add the new service, relink apps, remove a service).

mod edit;
mod error;
mod resources;
mod spec;
mod types;
mod yaml;

#[cfg(test)]
mod tests;

use std::fmt;

pub use error::{DUMP_COMMAND, StageDefError};
pub use spec::{LinkSpec, ServiceSpec};
pub use types::{V2Type, v1_type, v2_type};
pub use yaml::Yaml;

/// Parse limits: far above any real stage, far below what hurts.
const MAX_DEPTH: usize = 32;
const MAX_NODES: usize = 50_000;

/// A parsed stage definition. Equality is semantic (key order and number spelling do not
/// matter), which is what "did someone change the stage between my dump and my apply" asks.
#[derive(Clone, PartialEq)]
pub struct StageDefinition {
    root: Yaml,
}

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        // Messages must not quote the document: env values may be secrets.
        with_snippet: false,
        // YAML 1.1 reads `on`, `no`, `y` as booleans; a definition means the text.
        strict_booleans: true,
        // `0755` or `1_000` as a number would come back spelled differently.
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_aliases: 64,
            max_anchors: 64,
            max_nodes: MAX_NODES,
            max_events: 4 * MAX_NODES,
            max_documents: 1,
            max_total_scalar_bytes: 4 * 1024 * 1024,
            max_recorded_anchor_events: MAX_NODES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_NODES,
        },
    }
}

impl StageDefinition {
    /// Reads `stage:dump` output. Services and links are checked here, so the accessors below
    /// cannot fail on a definition that parsed.
    pub fn parse(text: &str) -> Result<StageDefinition, StageDefError> {
        let root: Yaml = serde_saphyr::from_str_with_options(text, options()).map_err(|e| {
            let location = e.location().filter(|l| l.line() > 0);
            StageDefError::Yaml {
                line: location.map(|l| l.line()),
                column: location.map(|l| l.column()),
                message: crate::redact::redact(&first_line(&e.to_string())),
            }
        })?;
        if !matches!(root, Yaml::Map(_)) {
            return Err(StageDefError::Shape {
                path: "(top level)".into(),
                expected: "a mapping with `services` and `apps`".into(),
                found: root.kind().into(),
            });
        }
        let mut definition = StageDefinition { root };
        definition.normalize_versions();
        definition.services()?;
        for app in definition.app_names() {
            definition.links(&app)?;
        }
        Ok(definition)
    }

    /// YAML that `stage:apply -f` accepts: strings that look like numbers (`schema_version: "1"`,
    /// `version: "13"`) are written quoted.
    pub fn to_yaml(&self) -> Result<String, StageDefError> {
        serde_saphyr::to_string(&self.root).map_err(|e| StageDefError::Serialize(e.to_string()))
    }

    /// The whole tree, read-only.
    pub fn root(&self) -> &Yaml {
        &self.root
    }

    pub fn schema_version(&self) -> Option<&str> {
        self.root.get("schema_version").and_then(Yaml::as_str)
    }

    pub fn project(&self) -> Option<&str> {
        self.root.get("project").and_then(Yaml::as_str)
    }

    pub fn stage(&self) -> Option<&str> {
        self.root.get("stage").and_then(Yaml::as_str)
    }

    /// `schema_version` and every `services.*.version` are strings in the schema; one written as a
    /// bare number is turned into its text, so it is written back quoted.
    fn normalize_versions(&mut self) {
        fn to_text(value: &mut Yaml) {
            if let Some(text) = matches!(value, Yaml::Int(_) | Yaml::UInt(_) | Yaml::Float(_))
                .then(|| value.scalar_text())
                .flatten()
            {
                *value = Yaml::Str(text);
            }
        }
        if let Some(v) = self.root.get_mut("schema_version") {
            to_text(v);
        }
        if let Some(services) = self.root.get_mut("services").and_then(Yaml::entries_mut) {
            for (_, service) in services {
                if let Some(v) = service.get_mut("version") {
                    to_text(v);
                }
            }
        }
    }

    /// Service names in document order.
    pub fn service_names(&self) -> Vec<String> {
        keys(self.root.get("services"))
    }

    /// App names in document order.
    pub fn app_names(&self) -> Vec<String> {
        keys(self.root.get("apps"))
    }

    pub fn services(&self) -> Result<Vec<(String, ServiceSpec)>, StageDefError> {
        match self.root.get("services") {
            None | Some(Yaml::Null) => Ok(Vec::new()),
            Some(Yaml::Map(entries)) => entries
                .iter()
                .map(|(k, v)| {
                    let name = k.key_text();
                    ServiceSpec::read(&name, v).map(|spec| (name, spec))
                })
                .collect(),
            Some(other) => Err(StageDefError::Shape {
                path: "services".into(),
                expected: "a mapping of services".into(),
                found: other.kind().into(),
            }),
        }
    }

    pub fn service(&self, name: &str) -> Result<Option<ServiceSpec>, StageDefError> {
        match self.root.get("services").and_then(|s| s.get(name)) {
            Some(value) => ServiceSpec::read(name, value).map(Some),
            None => Ok(None),
        }
    }

    /// The links of `app`, in document order; an error if there is no such app.
    pub fn links(&self, app: &str) -> Result<Vec<(String, LinkSpec)>, StageDefError> {
        let node = self
            .root
            .get("apps")
            .and_then(|a| a.get(app))
            .ok_or_else(|| StageDefError::NoSuchApp(app.to_owned()))?;
        match node.get("links") {
            None | Some(Yaml::Null) => Ok(Vec::new()),
            Some(Yaml::Map(entries)) => entries
                .iter()
                .map(|(k, v)| {
                    let service = k.key_text();
                    LinkSpec::read(app, &service, v).map(|link| (service, link))
                })
                .collect(),
            Some(other) => Err(StageDefError::Shape {
                path: format!("apps.{app}.links"),
                expected: "a mapping of links".into(),
                found: other.kind().into(),
            }),
        }
    }

    /// Every app linking `service`, with its link.
    pub fn links_to(&self, service: &str) -> Result<Vec<(String, LinkSpec)>, StageDefError> {
        let mut found = Vec::new();
        for app in self.app_names() {
            for (linked, link) in self.links(&app)? {
                if linked == service {
                    found.push((app.clone(), link));
                }
            }
        }
        Ok(found)
    }

    /// Dotted paths (up to four levels deep) where `other` differs from this definition, for a
    /// message saying what changed meanwhile. Empty exactly when the two are equal.
    pub fn differences(&self, other: &StageDefinition) -> Vec<String> {
        let mut out = Vec::new();
        diff("", &self.root, &other.root, 0, &mut out);
        out
    }
}

fn keys(node: Option<&Yaml>) -> Vec<String> {
    node.and_then(Yaml::entries)
        .map(|e| e.iter().map(|(k, _)| k.key_text()).collect())
        .unwrap_or_default()
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

fn diff(path: &str, a: &Yaml, b: &Yaml, depth: usize, out: &mut Vec<String>) {
    if a == b {
        return;
    }
    let here = || {
        if path.is_empty() {
            "(top level)".to_owned()
        } else {
            path.to_owned()
        }
    };
    let (Yaml::Map(x), Yaml::Map(y)) = (a, b) else {
        out.push(here());
        return;
    };
    if depth >= 4 {
        out.push(here());
        return;
    }
    let only_in_b = y.iter().filter(|(k, _)| !x.iter().any(|(k2, _)| k2 == k));
    for (key, _) in x.iter().chain(only_in_b) {
        let child = match path {
            "" => key.key_text(),
            p => format!("{p}.{}", key.key_text()),
        };
        match (lookup(x, key), lookup(y, key)) {
            (Some(va), Some(vb)) => diff(&child, va, vb, depth + 1, out),
            _ => out.push(child),
        }
    }
}

fn lookup<'m>(map: &'m [(Yaml, Yaml)], key: &Yaml) -> Option<&'m Yaml> {
    map.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Names only: a definition holds env values, which may be secrets.
impl fmt::Debug for StageDefinition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StageDefinition")
            .field("project", &self.project())
            .field("stage", &self.stage())
            .field("services", &self.service_names())
            .field("apps", &self.app_names())
            .finish_non_exhaustive()
    }
}
