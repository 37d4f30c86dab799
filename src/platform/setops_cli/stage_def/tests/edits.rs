//! The edits a migration makes, what they keep, and what they refuse.

use std::collections::BTreeMap;

use super::super::*;
use super::{WITH_UNKNOWN_KEYS, example};
use crate::model::ServiceType;

#[test]
fn unknown_keys_survive_edits_and_copies() {
    let mut d = StageDefinition::parse(WITH_UNKNOWN_KEYS).unwrap();
    let source = d.service("database").unwrap().unwrap();
    assert_eq!(source.extra.len(), 1);
    d.add_service("database2", &source).unwrap();
    d.relink("web", "database", "database2").unwrap();
    let again = StageDefinition::parse(&d.to_yaml().unwrap()).unwrap();
    let copy = again.service("database2").unwrap().unwrap();
    assert_eq!(copy, source);
    assert_eq!(copy.backup_retention_days, Some(7));
    for key in ["log_retention", "future_top_level", "notifications"] {
        assert_eq!(again.root().get(key), d.root().get(key), "{key}");
    }
    let web = again.root().get("apps").and_then(|a| a.get("web")).unwrap();
    assert!(
        web.get("future_app_key")
            .and_then(|f| f.get("nested"))
            .is_some()
    );
    assert_eq!(
        again.differences(&StageDefinition::parse(WITH_UNKNOWN_KEYS).unwrap()),
        [
            "apps.web.links.database2",
            "apps.web.links.database",
            "services.database2",
        ]
    );
}

#[test]
fn relink_renames_the_link_in_place() {
    let mut d = example();
    let spec = d.service("files").unwrap().unwrap();
    d.add_service("files2", &spec).unwrap();
    d.relink("web", "files", "files2").unwrap();
    assert_eq!(
        d.links("web").unwrap(),
        [
            (
                "database".to_owned(),
                LinkSpec::EnvKey("DATABASE_URL".into())
            ),
            (
                "files2".to_owned(),
                LinkSpec::Path {
                    path: "/data".into(),
                    read_only: false
                }
            ),
        ]
    );
    assert!(d.links_to("files").unwrap().is_empty());
    d.remove_service("files").unwrap();
    assert_eq!(d.service_names(), ["database", "files2"]);
}

#[test]
fn edits_refuse_what_would_break_the_stage() {
    let mut d = example();
    let before = d.clone();
    let spec = d.service("database").unwrap().unwrap();
    assert_eq!(
        d.add_service("database", &spec),
        Err(StageDefError::ServiceExists("database".into()))
    );
    assert!(matches!(
        d.add_service("Bad_Name", &spec),
        Err(StageDefError::InvalidServiceName { .. })
    ));
    assert_eq!(
        d.remove_service("database"),
        Err(StageDefError::ServiceLinked {
            service: "database".into(),
            apps: vec!["web".into()]
        })
    );
    assert_eq!(
        d.remove_service("nope"),
        Err(StageDefError::NoSuchService("nope".into()))
    );
    assert_eq!(
        d.relink("api", "database", "files"),
        Err(StageDefError::NoSuchApp("api".into()))
    );
    assert_eq!(
        d.relink("web", "cache", "files"),
        Err(StageDefError::NoLink {
            app: "web".into(),
            service: "cache".into()
        })
    );
    assert_eq!(
        d.relink("web", "database", "files"),
        Err(StageDefError::LinkExists {
            app: "web".into(),
            service: "files".into()
        })
    );
    assert_eq!(
        d.relink("web", "database", "database2"),
        Err(StageDefError::NoSuchService("database2".into()))
    );
    assert_eq!(d, before);
}

#[test]
fn a_definition_without_services_gets_the_section() {
    let mut d =
        StageDefinition::parse("schema_version: \"1\"\nproject: shop\nstage: dev\n").unwrap();
    let spec = ServiceSpec::for_v1(
        ServiceType::Redis6,
        Some("cache.t3.micro"),
        &BTreeMap::new(),
    );
    d.add_service("cache", &spec).unwrap();
    let again = StageDefinition::parse(&d.to_yaml().unwrap()).unwrap();
    let read = again.service("cache").unwrap().unwrap();
    assert_eq!(read.v1_type("cache"), Ok(ServiceType::Redis6));
    assert_eq!(read.version.as_deref(), Some("6.x"));
}

#[test]
fn v1_specs_round_trip_through_v2() {
    let options = BTreeMap::from([
        ("min_storage".to_owned(), "50".to_owned()),
        ("extensions".to_owned(), "uuid-ossp,postgis".to_owned()),
    ]);
    for t in ServiceType::ALL {
        let spec = ServiceSpec::for_v1(t, None, &options);
        assert_eq!(spec.v1_type("svc"), Ok(t));
        assert_eq!(spec.options_as_strings("svc").unwrap(), options);
    }
    let pg11 = ServiceSpec::for_v1(ServiceType::Postgresql11, None, &BTreeMap::new());
    assert_eq!((pg11.version, pg11.plan.as_deref()), (None, Some("shared")));
}
