use super::*;

fn err(text: &str) -> String {
    match build(text, "seed.yaml", Utc::now()) {
        Ok(_) => panic!("seed accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_demo_world_is_valid() {
    let seeded = build(DEMO_SEED, DEMO_SEED_NAME, Utc::now()).expect("demo seed");
    let w = &seeded.world;
    let default: Vec<&str> = w
        .users
        .iter()
        .filter(|u| u.default)
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(default, ["demo"]);
    assert!(w.users.iter().any(|u| u.name == "ci"));
    let scope = Scope {
        project: "shop".into(),
        stage: "production".into(),
    };
    let stage = w.stage(&scope).expect("shop/production");
    let names: Vec<&String> = stage.config.services.keys().collect();
    assert_eq!(names, ["cache", "database", "files", "media", "scratch"]);
    assert_eq!(
        stage.config.apps["web"].links["files"].path.as_deref(),
        Some("/data")
    );
    assert_eq!(
        stage.config.apps["web"].links["media"].env_key.as_deref(),
        Some("S3_DATA_URL")
    );
    assert_eq!(
        stage.config.apps["web"].links["database"]
            .env_key
            .as_deref(),
        Some("DATABASE_URL")
    );
    let worker = &stage.config.apps["worker"].links;
    assert_eq!(worker["database"].env_key.as_deref(), Some("DATABASE_URL"));
    assert_eq!(worker["cache"].env_key.as_deref(), Some("REDIS_URL"));
    for service in ["media", "database", "cache"] {
        assert!(
            stage.config.services[service].credentials.is_some(),
            "{service}"
        );
    }
    assert_eq!(
        stage.config.services["database"].options["extensions"],
        "citext"
    );
    assert_eq!(seeded.seed_backups.len(), 5);
    // files and media get files, database a SQL script, cache generated keys.
    assert_eq!(seeded.contents.len(), 4);
    // Every app runs one container, and the world is quiet: a rehearsal's source stays still.
    for app in ["web", "worker"] {
        assert_eq!(stage.config.apps[app].scale, 1);
        assert_eq!(stage.tasks[app].len(), 1, "{app}");
    }
    assert!(!w.live_apps);
}

#[test]
fn an_app_scale_and_live_apps_come_from_the_seed() {
    let text = |scale: &str| {
        format!(
            "users: [{{name: demo}}]\nlive_apps: true\nprojects:\n  - name: shop\n    stages:\n      \
             - name: prod\n        apps:\n          - {{name: web, scale: {scale}}}\n          \
             - {{name: cron}}\n"
        )
    };
    let seeded = build(&text("0"), "seed.yaml", Utc::now()).expect("seed");
    let scope = Scope {
        project: "shop".into(),
        stage: "prod".into(),
    };
    let stage = seeded.world.stage(&scope).expect("shop/prod");
    assert!(seeded.world.live_apps);
    assert_eq!(stage.config.apps["web"].scale, 0);
    assert!(stage.tasks["web"].is_empty());
    assert_eq!(stage.config.apps["cron"].scale, 1);
    let e = err(&text("17"));
    assert!(e.starts_with("seed.yaml:8:"), "{e}");
    assert!(e.contains("scale 17 of app \"web\" is above 16"), "{e}");
    assert!(
        err(&text("-1")).starts_with("seed.yaml:8:"),
        "{}",
        err(&text("-1"))
    );
}

#[test]
fn errors_name_file_line_and_column() {
    let text = "users:\n  - name: demo\nprojects:\n  - name: Shop\n";
    assert!(
        err(text).starts_with("seed.yaml:4:11: project name \"Shop\""),
        "{}",
        err(text)
    );
    let text = "users:\n  - name: demo\n    colour: red\n";
    assert!(err(text).starts_with("seed.yaml:3:"), "{}", err(text));
    assert!(err(text).contains("colour"), "{}", err(text));
    assert!(
        !err(text).contains(" at line "),
        "position given twice: {}",
        err(text)
    );
}

#[test]
fn links_follow_the_type_rules() {
    let base = "users: [{name: demo}]\nprojects:\n  - name: shop\n    stages:\n      - name: prod\n        services:\n          - {name: files, type: volume}\n          - {name: database, type: postgresql11}\n        apps:\n          - name: web\n            links:\n";
    let e = err(&format!(
        "{base}              - {{service: files, env_key: DATA}}\n"
    ));
    assert!(e.contains("link it with `path`"), "{e}");
    let e = err(&format!(
        "{base}              - {{service: database, path: /db}}\n"
    ));
    assert!(e.contains("link it with `env_key`"), "{e}");
    let e = err(&format!(
        "{base}              - {{service: nope, path: /x}}\n"
    ));
    assert!(e.starts_with("seed.yaml:12:"), "{e}");
    let e = err(&format!(
        "{base}              - {{service: database, env_key: PORT}}\n"
    ));
    assert!(e.contains("reserved"), "{e}");
}

#[test]
fn seed_data_must_fit_the_type_and_options_are_checked() {
    let svc = "users: [{name: demo}]\nprojects:\n  - name: shop\n    stages:\n      - name: prod\n        services:\n          - name: database\n            type: postgresql11\n";
    let text = format!("{svc}            content: {{seed: 1, files: 1, max_size: 1}}\n");
    assert!(
        err(&text).contains("`content` needs a volume or s3 service; \"database\" is postgresql11"),
        "{}",
        err(&text)
    );
    let text = format!("{svc}            keys: {{seed: 1, count: 3}}\n");
    assert!(
        err(&text).contains("`keys` needs a redis6 service"),
        "{}",
        err(&text)
    );
    let text = "users: [{name: demo}]\nprojects:\n  - name: shop\n    stages:\n      - name: prod\n        services:\n          - {name: files, type: volume, sql: \"SELECT 1\"}\n";
    assert!(
        err(text).contains("`sql` needs a postgresql11 or postgresql13 service"),
        "{}",
        err(text)
    );
    let text = "users: [{name: demo}]\nprojects:\n  - name: shop\n    stages:\n      - name: prod\n        services:\n          - name: database\n            type: postgresql13\n            plan: db.t3.micro\n            options: {min_storage: \"50\", max_storage: \"30\"}\n";
    assert!(err(text).contains("below min_storage"), "{}", err(text));
}
