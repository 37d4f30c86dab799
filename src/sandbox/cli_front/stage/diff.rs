//! What `stage:apply` changes: the stage as the platform shows it against the definition, as
//! a list of changes, each with the changeset commands that make it.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{App, ChangesetCommand, Service, ServiceType};
use crate::platform::setops_cli::stage_def::v2_type;

/// One service as both sides describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceState {
    pub service_type: ServiceType,
    pub plan: Option<String>,
    pub options: BTreeMap<String, String>,
}

/// Where a link points inside the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    EnvKey(String),
    Path { path: String, read_only: bool },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::EnvKey(key) => write!(f, "env_key {key}"),
            Target::Path { path, read_only } => {
                write!(f, "path {path}")?;
                if *read_only {
                    f.write_str(", read-only")?;
                }
                Ok(())
            }
        }
    }
}

/// A stage: services by name, each app's links (service -> target), and the apps' scales (a
/// definition that states none leaves the app's scale as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StageState {
    pub services: BTreeMap<String, ServiceState>,
    pub apps: BTreeMap<String, BTreeMap<String, Target>>,
    pub scales: BTreeMap<String, u8>,
}

impl StageState {
    /// The committed stage as the platform lists it.
    pub(crate) fn of_platform(services: &[Service], apps: &[App]) -> StageState {
        StageState {
            services: services
                .iter()
                .map(|s| {
                    let state = ServiceState {
                        service_type: s.service_type,
                        plan: s.plan.clone(),
                        options: s.options.clone(),
                    };
                    (s.name.clone(), state)
                })
                .collect(),
            apps: apps
                .iter()
                .map(|a| {
                    let links = a
                        .links
                        .iter()
                        .map(|l| {
                            let target = match (&l.env_key, &l.path) {
                                (Some(key), _) => Target::EnvKey(key.clone()),
                                (None, path) => Target::Path {
                                    path: path.clone().unwrap_or_default(),
                                    read_only: l.read_only,
                                },
                            };
                            (l.service.clone(), target)
                        })
                        .collect();
                    (a.name.clone(), links)
                })
                .collect(),
            scales: apps
                .iter()
                .filter_map(|a| a.scale.map(|s| (a.name.clone(), s)))
                .collect(),
        }
    }
}

/// `postgresql 13, plan db.t3.micro`: a service as a v2 definition names it.
fn describe(service: &ServiceState) -> String {
    let v2 = v2_type(service.service_type);
    let mut text = v2.service_type.to_owned();
    if let Some(version) = v2.version {
        text.push_str(&format!(" {version}"));
    }
    if let Some(plan) = &service.plan {
        text.push_str(&format!(", plan {plan}"));
    }
    text
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    ServiceAdded {
        name: String,
        service: ServiceState,
    },
    ServiceRemoved {
        name: String,
    },
    OptionSet {
        service: String,
        option: String,
        value: String,
    },
    OptionUnset {
        service: String,
        option: String,
    },
    LinkAdded {
        app: String,
        service: String,
        target: Target,
    },
    LinkRemoved {
        app: String,
        service: String,
    },
    /// The same target, now of another service (a relink).
    LinkMoved {
        app: String,
        from: String,
        to: String,
        target: Target,
    },
    /// The same service, another target.
    LinkChanged {
        app: String,
        service: String,
        target: Target,
    },
    /// How many containers the app runs.
    Scale {
        app: String,
        from: Option<u8>,
        to: u8,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::ServiceAdded { name, service } => {
                write!(f, "+ service {name} ({})", describe(service))
            }
            Change::ServiceRemoved { name } => write!(f, "- service {name}"),
            Change::OptionSet {
                service,
                option,
                value,
            } => write!(f, "~ service {service}: option {option} = {value}"),
            Change::OptionUnset { service, option } => {
                write!(f, "~ service {service}: option {option} removed")
            }
            Change::LinkAdded {
                app,
                service,
                target,
            } => write!(f, "+ app {app}: link {service} ({target})"),
            Change::LinkRemoved { app, service } => write!(f, "- app {app}: link {service}"),
            Change::LinkMoved {
                app,
                from,
                to,
                target,
            } => write!(f, "~ app {app}: link {from} -> {to} ({target})"),
            Change::LinkChanged {
                app,
                service,
                target,
            } => write!(f, "~ app {app}: link {service} ({target})"),
            Change::Scale { app, from, to } => match from {
                Some(from) => write!(f, "~ app {app}: scale {from} -> {to}"),
                None => write!(f, "~ app {app}: scale {to}"),
            },
        }
    }
}

/// Why a definition cannot be applied here, with the path it is about.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub path: String,
    pub what: String,
}

/// The changes from `current` to `wanted`, or what stands in the way.
pub(crate) fn changes(current: &StageState, wanted: &StageState) -> Result<Vec<Change>, Refusal> {
    for app in current.apps.keys() {
        if !wanted.apps.contains_key(app) {
            return Err(Refusal {
                path: "apps".into(),
                what: format!(
                    "app {app} is missing; removing an app is not supported by the sandbox (keep \
                     its entry, with `{{}}` when it has no links)"
                ),
            });
        }
    }
    for app in wanted.apps.keys() {
        if !current.apps.contains_key(app) {
            return Err(Refusal {
                path: format!("apps.{app}"),
                what: format!(
                    "app {app} does not exist in the stage; creating an app is not supported by \
                     the sandbox"
                ),
            });
        }
    }
    let mut out = Vec::new();
    for (name, service) in &wanted.services {
        let Some(now) = current.services.get(name) else {
            out.push(Change::ServiceAdded {
                name: name.clone(),
                service: service.clone(),
            });
            out.extend(service.options.iter().map(|(k, v)| Change::OptionSet {
                service: name.clone(),
                option: k.clone(),
                value: v.clone(),
            }));
            continue;
        };
        if now.service_type != service.service_type || now.plan != service.plan {
            return Err(Refusal {
                path: format!("services.{name}"),
                what: format!(
                    "service {name} is {} in the stage and {} here; the type, version and plan of \
                     an existing service cannot be changed (add a new service and migrate to it)",
                    describe(now),
                    describe(service)
                ),
            });
        }
        // A definition that leaves out an option with a documented default (s3's
        // blockPublicAccess) means that default, not a change.
        let wanted_options = service.service_type.effective_options(&service.options);
        for (option, value) in &wanted_options {
            if now.options.get(option) != Some(value) {
                out.push(Change::OptionSet {
                    service: name.clone(),
                    option: option.clone(),
                    value: value.clone(),
                });
            }
        }
        for option in now.options.keys() {
            if !wanted_options.contains_key(option) {
                out.push(Change::OptionUnset {
                    service: name.clone(),
                    option: option.clone(),
                });
            }
        }
    }
    for name in current.services.keys() {
        if !wanted.services.contains_key(name) {
            out.push(Change::ServiceRemoved { name: name.clone() });
        }
    }
    for (app, links) in &wanted.apps {
        let now = &current.apps[app];
        let mut removed: Vec<(&String, &Target)> = now
            .iter()
            .filter(|(service, _)| !links.contains_key(*service))
            .collect();
        for (service, target) in links {
            match now.get(service) {
                Some(t) if t == target => {}
                Some(_) => out.push(Change::LinkChanged {
                    app: app.clone(),
                    service: service.clone(),
                    target: target.clone(),
                }),
                None => match removed.iter().position(|(_, t)| *t == target) {
                    Some(i) => {
                        let (from, _) = removed.remove(i);
                        out.push(Change::LinkMoved {
                            app: app.clone(),
                            from: from.clone(),
                            to: service.clone(),
                            target: target.clone(),
                        });
                    }
                    None => out.push(Change::LinkAdded {
                        app: app.clone(),
                        service: service.clone(),
                        target: target.clone(),
                    }),
                },
            }
        }
        out.extend(removed.into_iter().map(|(service, _)| Change::LinkRemoved {
            app: app.clone(),
            service: service.clone(),
        }));
    }
    for (app, scale) in &wanted.scales {
        let from = current.scales.get(app).copied();
        if from != Some(*scale) {
            out.push(Change::Scale {
                app: app.clone(),
                from,
                to: *scale,
            });
        }
    }
    Ok(out)
}

fn link_create(app: &str, service: &str, target: &Target) -> ChangesetCommand {
    let (env_key, path, read_only) = match target {
        Target::EnvKey(key) => (Some(key.clone()), None, false),
        Target::Path { path, read_only } => (None, Some(path.clone()), *read_only),
    };
    ChangesetCommand::LinkCreate {
        app: app.to_owned(),
        service: service.to_owned(),
        env_key,
        path,
        read_only,
    }
}

fn link_destroy(app: &str, service: &str) -> ChangesetCommand {
    ChangesetCommand::LinkDestroy {
        app: app.to_owned(),
        service: service.to_owned(),
    }
}

/// The changeset commands, in an order the platform accepts: links go first (freeing their
/// keys and the services they held), then services go, come and get their options, then the
/// new links are made, then apps get their scales (one commit: an app scaled up comes back on
/// its new links).
pub(crate) fn commands(changes: &[Change]) -> Vec<ChangesetCommand> {
    let mut unlink = Vec::new();
    let mut destroy = Vec::new();
    let mut create = Vec::new();
    let mut options = Vec::new();
    let mut link = Vec::new();
    let mut scale = Vec::new();
    for change in changes {
        match change {
            Change::ServiceAdded { name, service } => {
                create.push(ChangesetCommand::ServiceCreate {
                    name: name.clone(),
                    service_type: service.service_type.as_str().to_owned(),
                    plan: service.plan.clone(),
                })
            }
            Change::ServiceRemoved { name } => {
                destroy.push(ChangesetCommand::ServiceDestroy { name: name.clone() })
            }
            Change::OptionSet {
                service,
                option,
                value,
            } => options.push(ChangesetCommand::OptionSet {
                service: service.clone(),
                option: option.clone(),
                value: value.clone(),
            }),
            Change::OptionUnset { service, option } => {
                options.push(ChangesetCommand::OptionUnset {
                    service: service.clone(),
                    option: option.clone(),
                })
            }
            Change::LinkAdded {
                app,
                service,
                target,
            } => link.push(link_create(app, service, target)),
            Change::LinkRemoved { app, service } => unlink.push(link_destroy(app, service)),
            Change::LinkMoved {
                app,
                from,
                to,
                target,
            } => {
                unlink.push(link_destroy(app, from));
                link.push(link_create(app, to, target));
            }
            Change::LinkChanged {
                app,
                service,
                target,
            } => {
                unlink.push(link_destroy(app, service));
                link.push(link_create(app, service, target));
            }
            Change::Scale { app, to, .. } => scale.push(ChangesetCommand::ScaleSet {
                app: app.clone(),
                scale: *to,
            }),
        }
    }
    [unlink, destroy, create, options, link, scale].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(t: ServiceType, plan: Option<&str>, options: &[(&str, &str)]) -> ServiceState {
        ServiceState {
            service_type: t,
            plan: plan.map(str::to_owned),
            options: options
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn stage() -> StageState {
        let mut s = StageState::default();
        s.services.insert(
            "database".into(),
            service(
                ServiceType::Postgresql11,
                Some("shared"),
                &[("extensions", "citext")],
            ),
        );
        s.services
            .insert("files".into(), service(ServiceType::Volume, None, &[]));
        s.apps.insert(
            "web".into(),
            BTreeMap::from([
                ("database".into(), Target::EnvKey("DATABASE_URL".into())),
                (
                    "files".into(),
                    Target::Path {
                        path: "/data".into(),
                        read_only: false,
                    },
                ),
            ]),
        );
        s
    }

    #[test]
    fn the_same_stage_needs_no_change() {
        assert_eq!(changes(&stage(), &stage()), Ok(Vec::new()));
    }

    #[test]
    fn a_new_service_and_a_relink_unlink_first_and_link_last() {
        let current = stage();
        let mut wanted = stage();
        wanted.services.insert(
            "database13".into(),
            service(
                ServiceType::Postgresql13,
                Some("db.t3.micro"),
                &[("min_storage", "50")],
            ),
        );
        let web = wanted.apps.get_mut("web").unwrap();
        let target = web.remove("database").unwrap();
        web.insert("database13".into(), target);
        let found = changes(&current, &wanted).unwrap();
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "+ service database13 (postgresql 13, plan db.t3.micro)",
                "~ service database13: option min_storage = 50",
                "~ app web: link database -> database13 (env_key DATABASE_URL)",
            ]
        );
        let names: Vec<&str> = commands(&found).iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            [
                "app:link:destroy",
                "service:create",
                "service:option:set",
                "app:link:create"
            ]
        );
    }

    #[test]
    fn removals_and_option_edits() {
        let current = stage();
        let mut wanted = stage();
        wanted.apps.get_mut("web").unwrap().remove("files");
        wanted.services.remove("files");
        wanted.services.get_mut("database").unwrap().options.clear();
        let found = changes(&current, &wanted).unwrap();
        let names: Vec<&str> = commands(&found).iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            [
                "app:link:destroy",
                "service:destroy",
                "service:option:unset"
            ]
        );
    }

    #[test]
    fn a_scale_change_comes_last_and_an_unstated_scale_stays() {
        let mut current = stage();
        current.scales.insert("web".into(), 0);
        let mut wanted = current.clone();
        wanted.scales.insert("web".into(), 2);
        let web = wanted.apps.get_mut("web").unwrap();
        let target = web.remove("files").unwrap();
        web.insert("scratch".into(), target);
        let found = changes(&current, &wanted).unwrap();
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "~ app web: link files -> scratch (path /data)",
                "~ app web: scale 0 -> 2"
            ]
        );
        let names: Vec<&str> = commands(&found).iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            ["app:link:destroy", "app:link:create", "app:scale:set"]
        );
        wanted.scales.clear();
        let found = changes(&current, &wanted).unwrap();
        assert!(!found.iter().any(|c| matches!(c, Change::Scale { .. })));
    }

    #[test]
    fn what_the_sandbox_cannot_do_is_refused() {
        let mut wanted = stage();
        wanted.services.get_mut("database").unwrap().plan = Some("db.t3.micro".into());
        let refusal = changes(&stage(), &wanted).unwrap_err();
        assert_eq!(refusal.path, "services.database");
        let mut wanted = stage();
        wanted.apps.insert("api".into(), BTreeMap::new());
        assert_eq!(changes(&stage(), &wanted).unwrap_err().path, "apps.api");
        let mut wanted = stage();
        wanted.apps.remove("web");
        assert!(changes(&stage(), &wanted).is_err());
    }
}
