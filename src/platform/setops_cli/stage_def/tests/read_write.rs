//! Reading, writing back, comparing, and refusing broken definitions.

use std::collections::BTreeMap;

use super::super::*;
use super::{WITH_UNKNOWN_KEYS, example};
use crate::model::ServiceType;
use crate::platform::setops_cli::parse::tests::doc_samples::STAGE_DUMP;

#[test]
fn reads_the_reference_example() {
    let d = example();
    assert_eq!(d.schema_version(), Some("1"));
    assert_eq!((d.project(), d.stage()), (Some("shop"), Some("production")));
    assert_eq!(d.service_names(), ["database", "files"]);
    let db = d.service("database").unwrap().unwrap();
    assert_eq!(db.service_type, "postgresql");
    assert_eq!(db.version.as_deref(), Some("13"));
    assert_eq!(db.plan.as_deref(), Some("db.t3.micro"));
    assert_eq!(db.backup_retention_days, None);
    assert_eq!(
        db.options,
        [
            ("min_storage".to_owned(), Yaml::Int(20)),
            ("max_storage".to_owned(), Yaml::Int(100))
        ]
    );
    assert_eq!(db.v1_type("database"), Ok(ServiceType::Postgresql13));
    assert_eq!(
        db.options_as_strings("database").unwrap(),
        BTreeMap::from([
            ("max_storage".into(), "100".into()),
            ("min_storage".into(), "20".into())
        ])
    );
    let files = d.service("files").unwrap().unwrap();
    assert_eq!(files.v1_type("files"), Ok(ServiceType::Volume));
    assert_eq!(
        d.links("web").unwrap(),
        [
            (
                "database".to_owned(),
                LinkSpec::EnvKey("DATABASE_URL".into())
            ),
            (
                "files".to_owned(),
                LinkSpec::Path {
                    path: "/data".into(),
                    read_only: false
                }
            ),
        ]
    );
    assert_eq!(d.links_to("files").unwrap().len(), 1);
    assert!(d.service("nope").unwrap().is_none());
    assert_eq!(
        d.links("nope"),
        Err(StageDefError::NoSuchApp("nope".into()))
    );
}

#[test]
fn writes_back_what_it_read_with_versions_quoted() {
    for text in [STAGE_DUMP, WITH_UNKNOWN_KEYS] {
        let d = StageDefinition::parse(text).unwrap();
        let yaml = d.to_yaml().unwrap();
        let again = StageDefinition::parse(&yaml).unwrap();
        assert_eq!(again, d, "{yaml}");
        assert!(d.differences(&again).is_empty());
        assert!(yaml.contains("version: \"13\""), "{yaml}");
        assert!(yaml.contains("schema_version: \""), "{yaml}");
        // Written again, the text is stable.
        assert_eq!(again.to_yaml().unwrap(), yaml);
    }
    let yaml = example().to_yaml().unwrap();
    assert!(
        yaml.contains("\"{{ .Secrets.SECRET_KEY_BASE }}\""),
        "{yaml}"
    );
    assert!(yaml.contains("container: {}"), "{yaml}");
    assert!(yaml.contains("notifications: {}"), "{yaml}");
}

#[test]
fn services_without_a_type_of_the_model_are_named() {
    let d = StageDefinition::parse(
        "services:\n  db12:\n    type: postgresql\n    version: \"12\"\n    plan: db.t3.micro\n  \
         cache:\n    type: redis\n    version: \"5\"\n  db16:\n    type: postgresql\n    \
         version: \"16\"\n    plan: db.t3.micro\n",
    )
    .unwrap();
    let e = d
        .service("db12")
        .unwrap()
        .unwrap()
        .v1_type("db12")
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("db12 is type postgresql version \"12\""),
        "{e}"
    );
    let e = d
        .service("cache")
        .unwrap()
        .unwrap()
        .v1_type("cache")
        .unwrap_err();
    assert!(e.to_string().contains("redis version \"5\""), "{e}");
    assert_eq!(
        d.service("db16").unwrap().unwrap().v1_type("db16").unwrap(),
        crate::model::ServiceType::Postgresql16
    );
}

#[test]
fn bare_number_versions_are_written_as_strings() {
    let d = StageDefinition::parse("schema_version: 1\nservices:\n  db:\n    type: postgresql\n    version: 13\n    plan: db.t3.micro\n")
        .unwrap();
    assert_eq!(d.schema_version(), Some("1"));
    let yaml = d.to_yaml().unwrap();
    assert!(
        yaml.contains("schema_version: \"1\"") && yaml.contains("version: \"13\""),
        "{yaml}"
    );
}

#[test]
fn semantic_equality_ignores_order_but_not_values() {
    let a = example();
    let moved = format!(
        "notifications: {{}}\n{}",
        STAGE_DUMP.replace("notifications: {}\n", "")
    );
    let swapped = moved.replace(
        "      min_storage: 20\n      max_storage: 100\n",
        "      max_storage: 100\n      min_storage: 20\n",
    );
    assert_ne!(swapped, STAGE_DUMP);
    assert_eq!(StageDefinition::parse(&swapped).unwrap(), a);
    let changed =
        StageDefinition::parse(&STAGE_DUMP.replace("db.t3.micro", "db.t3.small")).unwrap();
    assert_ne!(changed, a);
    assert_eq!(a.differences(&changed), ["services.database.plan"]);
    let quoted =
        StageDefinition::parse(&STAGE_DUMP.replace("min_storage: 20", "min_storage: \"20\""))
            .unwrap();
    assert_eq!(
        a.differences(&quoted),
        ["services.database.options.min_storage"]
    );
}

#[test]
fn malformed_definitions_are_errors_naming_the_path() {
    let cases = [
        ("", "(top level)"),
        ("- a\n- b\n", "(top level)"),
        ("services: [a]\n", "services"),
        ("services:\n  db:\n    plan: x\n", "services.db.type"),
        ("services:\n  db: volume\n", "services.db"),
        (
            "services:\n  db:\n    type: s3\n    options: [1]\n",
            "services.db.options",
        ),
        (
            "services:\n  db:\n    type: s3\n    backup_retention_days: -1\n",
            "services.db.backup_retention_days",
        ),
        (
            "apps:\n  web:\n    links:\n      db: {}\n",
            "apps.web.links.db",
        ),
        (
            "apps:\n  web:\n    links:\n      db: {env_key: A, path: /x}\n",
            "apps.web.links.db",
        ),
        (
            "apps:\n  web:\n    links:\n      db: {path: /x, read_only: maybe}\n",
            "apps.web.links.db.read_only",
        ),
        ("apps:\n  web:\n    links: [db]\n", "apps.web.links"),
    ];
    for (text, path) in cases {
        match StageDefinition::parse(text) {
            Err(StageDefError::Shape { path: p, .. }) => assert_eq!(p, path, "{text}"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
    for text in [
        "a: [",
        "a: b\na: c\n",
        "\u{0}\u{1}junk: [}",
        "key: \"unterminated",
    ] {
        let e = StageDefinition::parse(text).unwrap_err();
        assert!(matches!(e, StageDefError::Yaml { .. }), "{text:?}: {e:?}");
        assert!(e.to_string().contains("setops stage:dump"), "{e}");
    }
}

#[test]
fn errors_and_debug_never_show_env_values() {
    let secret = "hunter2-very-secret";
    let text = format!(
        "apps:\n  web:\n    env:\n      PASSWORD:\n        value: {secret}\n    links: {secret}\n"
    );
    let e = StageDefinition::parse(&text).unwrap_err();
    assert!(!e.to_string().contains(secret), "{e}");
    let broken = format!("apps:\n  web:\n    env: {{PASSWORD: {secret}\n");
    let e = StageDefinition::parse(&broken).unwrap_err();
    assert!(!e.to_string().contains(secret), "{e}");
    let ok = StageDefinition::parse(&text.replace(&format!("    links: {secret}\n"), "")).unwrap();
    assert!(!format!("{ok:?}").contains(secret));
}

#[test]
fn no_prefix_of_the_example_panics() {
    for (i, _) in STAGE_DUMP.char_indices() {
        let _ = StageDefinition::parse(&STAGE_DUMP[..i]);
    }
    let huge = format!("a: {}\n", "x".repeat(10 * 1024 * 1024));
    assert!(StageDefinition::parse(&huge).is_err());
}
