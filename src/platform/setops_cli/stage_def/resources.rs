//! `apps.<app>.resources.scale`: how many containers an app runs, read and changed in place
//! (the app's other resources, `cpu` and `memory`, stay as they are).

use crate::model::MAX_SCALE;

use super::StageDefinition;
use super::error::StageDefError;
use super::yaml::Yaml;

impl StageDefinition {
    /// The app's scale; `None` when the definition does not state one (the platform's default
    /// applies, which the definition does not tell).
    pub fn scale(&self, app: &str) -> Result<Option<u8>, StageDefError> {
        let node = self
            .root
            .get("apps")
            .and_then(|a| a.get(app))
            .ok_or_else(|| StageDefError::NoSuchApp(app.to_owned()))?;
        let resources = match node.get("resources") {
            None | Some(Yaml::Null) => return Ok(None),
            Some(r @ Yaml::Map(_)) => r,
            Some(other) => return Err(shape(app, "resources", "a mapping", other.kind())),
        };
        let path = "resources.scale";
        let expected = format!("a whole number from 0 to {MAX_SCALE}");
        match resources.get("scale") {
            None | Some(Yaml::Null) => Ok(None),
            Some(Yaml::Int(n)) => u8::try_from(*n)
                .ok()
                .filter(|n| *n <= MAX_SCALE)
                .map(Some)
                .ok_or_else(|| shape(app, path, &expected, "a number out of range")),
            Some(other) => Err(shape(app, path, &expected, other.kind())),
        }
    }

    /// Sets `apps.<app>.resources.scale`, creating `resources` when the app has none.
    pub fn set_scale(&mut self, app: &str, scale: u8) -> Result<(), StageDefError> {
        if scale > MAX_SCALE {
            return Err(StageDefError::ScaleOutOfRange {
                app: app.to_owned(),
                scale: u64::from(scale),
            });
        }
        let node = self
            .root
            .get_mut("apps")
            .and_then(|a| a.get_mut(app))
            .ok_or_else(|| StageDefError::NoSuchApp(app.to_owned()))?;
        if matches!(node, Yaml::Null) {
            *node = Yaml::Map(Vec::new());
        }
        let Yaml::Map(entries) = node else {
            return Err(shape(app, "", "a mapping", node.kind()));
        };
        let resources = match entries
            .iter()
            .position(|(k, _)| k.as_str() == Some("resources"))
        {
            Some(i) => &mut entries[i].1,
            None => {
                entries.push((text("resources"), Yaml::Map(Vec::new())));
                let last = entries.len() - 1;
                &mut entries[last].1
            }
        };
        if matches!(resources, Yaml::Null) {
            *resources = Yaml::Map(Vec::new());
        }
        let Yaml::Map(resources) = resources else {
            return Err(shape(app, "resources", "a mapping", resources.kind()));
        };
        let value = Yaml::Int(i64::from(scale));
        match resources
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some("scale"))
        {
            Some((_, v)) => *v = value,
            None => resources.push((text("scale"), value)),
        }
        Ok(())
    }
}

fn text(value: &str) -> Yaml {
    Yaml::Str(value.to_owned())
}

fn shape(app: &str, path: &str, expected: &str, found: &str) -> StageDefError {
    let path = match path {
        "" => format!("apps.{app}"),
        p => format!("apps.{app}.{p}"),
    };
    StageDefError::Shape {
        path,
        expected: expected.to_owned(),
        found: found.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEF: &str = "schema_version: \"1\"\napps:\n  web:\n    resources:\n      cpu: 256\n      \
                       scale: 2\n  worker: {}\n  cron:\n    resources:\n      scale: many\n\
                       services: {}\n";

    #[test]
    fn scale_is_read_where_stated_and_unknown_elsewhere() {
        let def = StageDefinition::parse(DEF).unwrap();
        assert_eq!(def.scale("web"), Ok(Some(2)));
        assert_eq!(def.scale("worker"), Ok(None));
        let err = def.scale("cron").unwrap_err();
        assert!(
            err.to_string().contains("apps.cron.resources.scale"),
            "{err}"
        );
        assert!(matches!(def.scale("api"), Err(StageDefError::NoSuchApp(_))));
    }

    #[test]
    fn setting_the_scale_keeps_the_other_resources() {
        let mut def = StageDefinition::parse(DEF).unwrap();
        def.set_scale("web", 0).unwrap();
        def.set_scale("worker", 3).unwrap();
        assert_eq!(def.scale("web"), Ok(Some(0)));
        assert_eq!(def.scale("worker"), Ok(Some(3)));
        let yaml = def.to_yaml().unwrap();
        assert!(yaml.contains("cpu: 256"), "{yaml}");
        let back = StageDefinition::parse(&yaml).unwrap();
        assert_eq!(back.scale("worker"), Ok(Some(3)));
        assert!(def.set_scale("web", 17).is_err());
        assert!(def.set_scale("api", 1).is_err());
    }
}
