use super::*;
use crate::model::flatten_validation;

fn stage() -> StageConfig {
    let mut s = StageConfig::default();
    for (name, t) in [("files", ServiceType::Volume), ("media", ServiceType::S3)] {
        s.services.insert(
            name.into(),
            ServiceConfig {
                uid: Uuid::new_v4(),
                service_type: t,
                plan: None,
                options: BTreeMap::new(),
                backup_schedule: None,
                created_at: Utc::now(),
                credentials: None,
            },
        );
    }
    s.apps.insert("web".into(), Default::default());
    s.apps.insert("worker".into(), Default::default());
    s.apps.get_mut("web").expect("web").links.insert(
        "media".into(),
        LinkTarget {
            env_key: Some("S3_DATA_URL".into()),
            path: None,
            read_only: false,
        },
    );
    s
}

fn failures(cmds: &[ChangesetCommand]) -> Vec<(String, String)> {
    match check(&stage(), cmds, &BTreeSet::new(), Utc::now()) {
        Ok(_) => Vec::new(),
        Err(tree) => flatten_validation(&tree),
    }
}

fn link(app: &str, service: &str, env_key: Option<&str>, path: Option<&str>) -> ChangesetCommand {
    ChangesetCommand::LinkCreate {
        app: app.into(),
        service: service.into(),
        env_key: env_key.map(Into::into),
        path: path.map(Into::into),
        read_only: false,
    }
}

fn pair(path: &str, v: &str) -> (String, String) {
    (path.to_owned(), v.to_owned())
}

#[test]
fn unlink_then_link_with_the_same_key_is_valid_in_that_order_only() {
    let create = ChangesetCommand::ServiceCreate {
        name: "media2".into(),
        service_type: "s3".into(),
        plan: None,
    };
    let unlink = ChangesetCommand::LinkDestroy {
        app: "web".into(),
        service: "media".into(),
    };
    let relink = link("web", "media2", Some("S3_DATA_URL"), None);
    assert!(failures(&[create.clone(), unlink.clone(), relink.clone()]).is_empty());
    assert_eq!(
        failures(&[create, relink, unlink]),
        vec![pair("changeset.commands[1].env_key", "taken")]
    );
}

#[test]
fn every_failing_index_is_reported_and_nothing_is_applied() {
    let cmds = [
        ChangesetCommand::ServiceCreate {
            name: "files".into(),
            service_type: "volume".into(),
            plan: None,
        },
        ChangesetCommand::OptionSet {
            service: "ghost".into(),
            option: "x".into(),
            value: "1".into(),
        },
        link("worker", "files", Some("FILES"), None),
        link("worker", "media", None, Some("/m")),
        ChangesetCommand::LinkDestroy {
            app: "worker".into(),
            service: "media".into(),
        },
        ChangesetCommand::ServiceDestroy {
            name: "media".into(),
        },
    ];
    assert_eq!(
        failures(&cmds),
        vec![
            pair("changeset.commands[0].name", "taken"),
            pair("changeset.commands[1].service", "not_found"),
            pair("changeset.commands[2].env_key", "invalid"),
            pair("changeset.commands[3].path", "invalid"),
            pair("changeset.commands[4].service", "not_found"),
            pair("changeset.commands[5].name", "invalid"),
        ]
    );
}

#[test]
fn options_follow_the_type_and_storage_order() {
    let mut s = stage();
    let created = check(
        &s,
        &[ChangesetCommand::ServiceCreate {
            name: "database".into(),
            service_type: "postgresql13".into(),
            plan: Some("db.t3.micro".into()),
        }],
        &BTreeSet::new(),
        Utc::now(),
    )
    .expect("valid");
    s = created;
    let set = |option: &str, value: &str| ChangesetCommand::OptionSet {
        service: "database".into(),
        option: option.into(),
        value: value.into(),
    };
    let run = |cmds: &[ChangesetCommand]| match check(&s, cmds, &BTreeSet::new(), Utc::now()) {
        Ok(_) => Vec::new(),
        Err(tree) => flatten_validation(&tree),
    };
    assert!(run(&[set("min_storage", "100"), set("max_storage", "200")]).is_empty());
    assert_eq!(
        run(&[set("min_storage", "100"), set("max_storage", "50")]),
        vec![pair(
            "changeset.commands[1].value",
            "greater_than_or_equal_to_dependent_value"
        )]
    );
    assert_eq!(
        run(&[set("size", "1"), set("min_storage", "5")]),
        vec![
            pair("changeset.commands[0].option", "not_included"),
            pair(
                "changeset.commands[1].value",
                "greater_than_or_equal_to_threshold"
            ),
        ]
    );
}

#[test]
fn busy_services_cannot_be_destroyed() {
    let s = stage();
    let busy: BTreeSet<Uuid> = [s.services["files"].uid].into_iter().collect();
    let cmds = [ChangesetCommand::ServiceDestroy {
        name: "files".into(),
    }];
    let tree = check(&s, &cmds, &busy, Utc::now()).expect_err("refused");
    assert_eq!(
        flatten_validation(&tree),
        vec![pair("changeset.commands[0].name", "invalid")]
    );
    assert!(check(&s, &cmds, &BTreeSet::new(), Utc::now()).is_ok());
}
