//! `service`, `service:info` and `link` as our sandbox front prints them: the building blocks'
//! own renderers, so a change of one fails here.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};

use super::super::*;
use crate::model::{BackupSchedule, Link, Service, ServiceType};
use crate::ui::{Align, TableBuilder};

/// `service:info` as the front prints it.
pub(super) fn service_block(s: &Service) -> String {
    crate::commands::service_block(s).render()
}

pub(super) fn link(
    app: &str,
    service: &str,
    env_key: Option<&str>,
    path: Option<&str>,
    ro: bool,
) -> Link {
    Link {
        app: app.into(),
        service: service.into(),
        env_key: env_key.map(Into::into),
        path: path.map(Into::into),
        read_only: ro,
    }
}

#[test]
fn service_info_reads_back_into_the_model() {
    let created_at = Utc.with_ymd_and_hms(2021, 4, 23, 12, 3, 10).unwrap();
    let services = [
        Service {
            name: "database".into(),
            service_type: ServiceType::Postgresql13,
            plan: Some("db.t3.micro".into()),
            options: BTreeMap::from([
                ("extensions".into(), "uuid-ossp,postgis".into()),
                ("min_storage".into(), "20".into()),
                ("note".into(), "two words, and more".into()),
            ]),
            links: vec![
                link("web", "database", Some("DATABASE_URL"), None, false),
                link("worker", "database", Some("_DB"), None, false),
            ],
            backup_schedule: Some(BackupSchedule {
                hours: vec![3, 15],
                weekdays: vec!["Mon".into(), "Thu".into()],
            }),
            created_at,
        },
        Service {
            name: "files".into(),
            service_type: ServiceType::Volume,
            plan: None,
            options: BTreeMap::new(),
            links: vec![
                link("web", "files", None, Some("/data"), false),
                link("reports", "files", None, Some("/var/lib/data"), true),
            ],
            backup_schedule: Some(BackupSchedule {
                hours: vec![0],
                weekdays: vec![],
            }),
            created_at,
        },
        Service {
            name: "bucket".into(),
            service_type: ServiceType::S3,
            plan: None,
            options: BTreeMap::new(),
            links: vec![],
            backup_schedule: None,
            created_at,
        },
    ];
    for s in services {
        let text = service_block(&s);
        let info = parse_service_info(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        if s.backup_schedule.is_none() {
            assert_eq!(info.schedule, PrintedSchedule::Unscheduled);
        }
        assert_eq!(info.into_service(created_at), s, "{text}");
    }
}

#[test]
fn service_and_link_lists() {
    let mut table = TableBuilder::new(&[("NAME", Align::Left)]);
    assert!(parse_service_list(&table.render()).unwrap().is_empty());
    table.row(vec!["database".into()]).row(vec!["files".into()]);
    assert_eq!(
        parse_service_list(&table.render()).unwrap(),
        ["database", "files"]
    );

    // Mirrors commands::services::link_list.
    let links = [
        link("web", "database", Some("DATABASE_URL"), None, false),
        link("web", "files", None, Some("/data"), true),
        link("web", "scratch", None, Some("/tmp/x"), false),
    ];
    let mut table = TableBuilder::new(&[
        ("SERVICE", Align::Left),
        ("ENV KEY", Align::Left),
        ("PATH", Align::Left),
        ("READ ONLY", Align::Left),
    ]);
    assert!(parse_link_list("web", &table.render()).unwrap().is_empty());
    for l in &links {
        table.row(vec![
            l.service.clone(),
            l.env_key.clone().unwrap_or_default(),
            l.path.clone().unwrap_or_default(),
            if l.path.is_some() {
                l.read_only.to_string()
            } else {
                String::new()
            },
        ]);
    }
    assert_eq!(parse_link_list("web", &table.render()).unwrap(), links);
    // The `service:info` style, and a "no links" answer.
    let items =
        "-- database   (DATABASE_URL)\n-- files   (/data, read-only)\n-- scratch   (/tmp/x)\n";
    assert_eq!(parse_link_list("web", items).unwrap(), links);
    assert!(parse_link_list("web", "No links.\n").unwrap().is_empty());
}
