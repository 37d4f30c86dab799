//! The edits a migration makes to a stage definition. Each checks its preconditions first and
//! changes nothing when one fails; each touches only the entries it names.

use crate::model::validate_service_name;

use super::StageDefinition;
use super::error::StageDefError;
use super::spec::{LinkSpec, ServiceSpec};
use super::yaml::Yaml;

impl StageDefinition {
    /// Adds `services.<name>` (at the end of `services`, which is created if missing).
    pub fn add_service(&mut self, name: &str, spec: &ServiceSpec) -> Result<(), StageDefError> {
        validate_service_name(name).map_err(|reason| StageDefError::InvalidServiceName {
            name: name.to_owned(),
            reason: crate::model::describe_validator(reason).to_owned(),
        })?;
        if self
            .root
            .get("services")
            .and_then(|s| s.get(name))
            .is_some()
        {
            return Err(StageDefError::ServiceExists(name.to_owned()));
        }
        let services = self.services_mut()?;
        services.push((Yaml::Str(name.to_owned()), spec.to_yaml()));
        Ok(())
    }

    /// Removes `services.<name>` (which destroys the service on apply) and returns what it was.
    /// Refused while an app links it: the apply would leave that app without its service.
    pub fn remove_service(&mut self, name: &str) -> Result<ServiceSpec, StageDefError> {
        let spec = self
            .service(name)?
            .ok_or_else(|| StageDefError::NoSuchService(name.to_owned()))?;
        let apps: Vec<String> = self.links_to(name)?.into_iter().map(|(a, _)| a).collect();
        if !apps.is_empty() {
            return Err(StageDefError::ServiceLinked {
                service: name.to_owned(),
                apps,
            });
        }
        self.services_mut()?
            .retain(|(k, _)| k.as_str() != Some(name));
        Ok(spec)
    }

    /// Renames `apps.<app>.links.<old>` to `<new>`, keeping the link's own settings (`env_key`,
    /// or `path` and `read_only`) and its place. `new` must be a service of the definition.
    pub fn relink(&mut self, app: &str, old: &str, new: &str) -> Result<(), StageDefError> {
        let links = self.links(app)?;
        if !links.iter().any(|(s, _)| s == old) {
            return Err(StageDefError::NoLink {
                app: app.to_owned(),
                service: old.to_owned(),
            });
        }
        if links.iter().any(|(s, _)| s == new) {
            return Err(StageDefError::LinkExists {
                app: app.to_owned(),
                service: new.to_owned(),
            });
        }
        if self.service(new)?.is_none() {
            return Err(StageDefError::NoSuchService(new.to_owned()));
        }
        let key = self
            .root
            .get_mut("apps")
            .and_then(|a| a.get_mut(app))
            .and_then(|a| a.get_mut("links"))
            .and_then(Yaml::entries_mut)
            .and_then(|links| links.iter_mut().find(|(k, _)| k.as_str() == Some(old)))
            .map(|(k, _)| k);
        match key {
            Some(key) => {
                *key = Yaml::Str(new.to_owned());
                Ok(())
            }
            // Checked above; kept as an error rather than a panic.
            None => Err(StageDefError::NoLink {
                app: app.to_owned(),
                service: old.to_owned(),
            }),
        }
    }

    /// Replaces `services.<name>` in place (its options, say); the service must exist.
    pub fn replace_service(&mut self, name: &str, spec: &ServiceSpec) -> Result<(), StageDefError> {
        let slot = self
            .services_mut()?
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(name))
            .map(|(_, v)| v)
            .ok_or_else(|| StageDefError::NoSuchService(name.to_owned()))?;
        *slot = spec.to_yaml();
        Ok(())
    }

    /// Adds `apps.<app>.links.<service>` (the app must exist, the service too, and the app must
    /// not link it yet).
    pub fn add_link(
        &mut self,
        app: &str,
        service: &str,
        link: &LinkSpec,
    ) -> Result<(), StageDefError> {
        if self.links(app)?.iter().any(|(s, _)| s == service) {
            return Err(StageDefError::LinkExists {
                app: app.to_owned(),
                service: service.to_owned(),
            });
        }
        if self.service(service)?.is_none() {
            return Err(StageDefError::NoSuchService(service.to_owned()));
        }
        let links = self.links_mut(app)?;
        links.push((Yaml::Str(service.to_owned()), link.to_yaml()));
        Ok(())
    }

    /// Removes `apps.<app>.links.<service>` and returns what it was.
    pub fn remove_link(&mut self, app: &str, service: &str) -> Result<LinkSpec, StageDefError> {
        let link = self
            .links(app)?
            .into_iter()
            .find(|(s, _)| s == service)
            .map(|(_, l)| l)
            .ok_or_else(|| StageDefError::NoLink {
                app: app.to_owned(),
                service: service.to_owned(),
            })?;
        self.links_mut(app)?
            .retain(|(k, _)| k.as_str() != Some(service));
        Ok(link)
    }

    /// `apps.<app>.links` as entries, created when the app has none.
    fn links_mut(&mut self, app: &str) -> Result<&mut Vec<(Yaml, Yaml)>, StageDefError> {
        let node = self
            .root
            .get_mut("apps")
            .and_then(|a| a.get_mut(app))
            .ok_or_else(|| StageDefError::NoSuchApp(app.to_owned()))?;
        let Yaml::Map(entries) = node else {
            return Err(unreachable_shape(&format!("apps.{app}")));
        };
        if !entries.iter().any(|(k, _)| k.as_str() == Some("links")) {
            entries.push((Yaml::Str("links".into()), Yaml::Map(Vec::new())));
        }
        let links = entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some("links"))
            .map(|(_, v)| v);
        match links {
            Some(v @ Yaml::Null) => {
                *v = Yaml::Map(Vec::new());
                v.entries_mut()
                    .ok_or_else(|| unreachable_shape(&format!("apps.{app}.links")))
            }
            Some(Yaml::Map(entries)) => Ok(entries),
            _ => Err(unreachable_shape(&format!("apps.{app}.links"))),
        }
    }

    fn services_mut(&mut self) -> Result<&mut Vec<(Yaml, Yaml)>, StageDefError> {
        let Yaml::Map(root) = &mut self.root else {
            return Err(unreachable_shape("(top level)"));
        };
        if !root.iter().any(|(k, _)| k.as_str() == Some("services")) {
            root.push((Yaml::Str("services".into()), Yaml::Map(Vec::new())));
        }
        let services = root
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some("services"))
            .map(|(_, v)| v);
        match services {
            Some(v @ Yaml::Null) => {
                *v = Yaml::Map(Vec::new());
                v.entries_mut().ok_or_else(|| unreachable_shape("services"))
            }
            Some(Yaml::Map(entries)) => Ok(entries),
            _ => Err(unreachable_shape("services")),
        }
    }
}

/// A shape `StageDefinition::parse` already checked; an error rather than a panic all the same.
fn unreachable_shape(path: &str) -> StageDefError {
    StageDefError::Shape {
        path: path.to_owned(),
        expected: "a mapping".into(),
        found: "something else".into(),
    }
}
