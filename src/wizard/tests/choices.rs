//! What the answers select: each backup choice, local files, upgrades with plan and options,
//! link subsets, the types offered for a source, when a freeze and when `fresh` is preselected.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::error::Error;
use crate::model::BackupStatus;
use crate::plan::{BackupChoice, FreezeApp, LinkSpec, Relink};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_everywhere_copies_files_with_all_links_and_freezes_the_running_web() {
    let live = Live::start(None).await;
    let args = live.args("copy.yaml");
    // The demo world lists cache and database before files: pick files, Enter everywhere else.
    let mut answers = vec![Default; 8];
    answers[2] = choose("files");
    let (made, prompter) = live.run(&args, answers).await;
    let made = made.unwrap();

    // web runs a container: the freeze is preselected, and a freeze asks no backup.
    assert_eq!(
        prompter.asked,
        vec![
            PROJECT,
            STAGE,
            SOURCE,
            TARGET,
            TYPE,
            "Apps to relink from files to files2",
            &freeze_prompt("files"),
            TIMEOUT,
        ]
    );
    let (items, defaults) = offered_many(&prompter, &freeze_prompt("files"));
    assert_eq!(
        (items, defaults),
        (&["web  (scale 1, 1 running)".to_owned()][..], &[true][..])
    );
    assert!(made.yaml.contains("\n  - source: files "), "{}", made.yaml);
    assert!(made.yaml.contains("\n    target: files2 "), "{}", made.yaml);
    assert!(made.yaml.contains("\nfreeze: "), "{}", made.yaml);
    assert!(made.yaml.contains("\n  - web\n"), "{}", made.yaml);
    assert!(!made.yaml.contains("\n    backup:"), "{}", made.yaml);
    assert!(made.yaml.contains("\n    relink: all "), "{}", made.yaml);
    assert!(
        !made.yaml.contains("\n    type:") && !made.yaml.contains("\n    plan:"),
        "{}",
        made.yaml
    );
    assert!(
        made.yaml.contains("\n    wait_timeout: 2h "),
        "{}",
        made.yaml
    );

    assert_eq!(made.path, live.out("copy.yaml"));
    assert_eq!(made.plan.path, live.out("copy.yaml"));
    let m = &made.plan.migrations[0];
    assert_eq!(made.plan.scope.to_string(), "shop/production");
    assert_eq!(
        (m.source.as_deref(), m.target.as_str()),
        (Some("files"), "files2")
    );
    assert_eq!(
        made.plan.freeze,
        vec![FreezeApp {
            app: "web".into(),
            scale: None
        }]
    );
    assert_eq!(m.backup, BackupChoice::Fresh);
    assert_eq!(m.relink, Relink::All);
    assert_eq!(m.wait_timeout, Duration::from_secs(2 * 60 * 60));
    assert!(
        !live.dir.path().join("work").exists(),
        "building a plan writes nothing"
    );
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_backup_choice_is_written_as_the_plan_says_it() {
    // Nothing runs: no freeze is preselected, so the backup is asked.
    let live = Live::start(Some(&quiet(SMALL_DEMO_WORLD))).await;
    let listed = live
        .backups("media")
        .await
        .into_iter()
        .find(|b| b.status == BackupStatus::Created)
        .unwrap();
    let upto_backup = |pick: Answer| {
        vec![
            Default,
            Default,
            choose("media"),
            Default,
            Default,
            Default,
            Default,
            Default,
            pick,
            Default,
        ]
    };

    let (made, prompter) = live
        .run(&live.args("fresh.yaml"), upto_backup(choose("fresh")))
        .await;
    let made = made.unwrap();
    assert_eq!(
        prompter.asked[5],
        "Option blockPublicAccess (media has true; Enter keeps it, - removes it)"
    );
    assert_eq!(made.plan.migrations[0].backup, BackupChoice::Fresh);
    assert!(made.yaml.contains("\n    backup: fresh "), "{}", made.yaml);

    let (made, _) = live
        .run(
            &live.args("id.yaml"),
            upto_backup(choose(&listed.id.to_string())),
        )
        .await;
    let made = made.unwrap();
    assert_eq!(made.plan.migrations[0].backup, BackupChoice::Id(listed.id));
    assert!(
        made.yaml.contains(&format!("backup: {} ", listed.id)),
        "{}",
        made.yaml
    );
    live.stop().await;
}

fn write_tar_gz(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::fast(),
    ));
    let body = b"hello from elsewhere\n";
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "uploads/hello.txt", &body[..])
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_file_is_sniffed_and_a_wrong_one_asked_again() {
    let live = Live::start(Some(&quiet(SMALL_DEMO_WORLD))).await;
    let exports = live.dir.path().join("work/exports");
    let archive = exports.join("files.tar.gz");
    write_tar_gz(&archive);
    let sql = exports.join("dump.sql");
    std::fs::write(&sql, "-- dump\nCREATE TABLE t (id int);\n").unwrap();

    let answers = vec![
        Default,
        Default,
        Default,
        Default,
        Default,
        Default, // links
        Default, // freeze: none preselected, nothing runs
        choose("a local file…"),
        text(""),
        text(sql.to_str().unwrap()),
        text(archive.to_str().unwrap()),
        Default,
    ];
    let (made, prompter) = live.run(&live.args("import.yaml"), answers).await;
    let made = made.unwrap();
    let rejected = reasons(&prompter);
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert!(rejected[0].1.contains("give the path"), "{rejected:?}");
    assert!(
        rejected[1]
            .1
            .contains("is plain SQL text, but a volume backup"),
        "{rejected:?}"
    );
    // The archive lies outside the plan's directory: the plan names it by its absolute path.
    assert!(
        made.yaml.contains(&format!(
            "file:{}",
            archive.canonicalize().unwrap().display()
        )),
        "{}",
        made.yaml
    );
    let BackupChoice::File(resolved) = &made.plan.migrations[0].backup else {
        panic!("not a file backup: {:?}", made.plan.migrations[0].backup);
    };
    assert_eq!(resolved, &archive.canonicalize().unwrap());
    assert!(!live.out("import.yaml").exists());
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_asks_plan_and_options_and_keeps_a_subset_of_links() {
    let live = Live::start(Some(DATABASE_WORLD)).await;
    let args = WizardArgs {
        service_type: Some("postgresql13".into()),
        ..live.args("upgrade.yaml")
    };
    let answers = vec![
        Default,
        Default,
        choose("database"),
        Default,                  // target: database13, suggested for the upgrade
        text("db.t3.nano.extra"), // plan: not a node type
        Default,                  // plan: db.t3.micro
        Default,                  // extensions: keep uuid-ossp
        text("10"),               // min_storage: below 20
        text("50"),
        text("30"), // max_storage: below min_storage
        Default,    // max_storage: unset
        ChooseMany(vec!["worker".into()]),
        Default, // freeze: web and worker, both running; no backup question then
        Default,
    ];
    let (made, prompter) = live.run(&args, answers).await;
    let made = made.unwrap();
    assert!(
        !prompter.asked.contains(&TYPE.to_owned()),
        "--type is not asked: {:?}",
        prompter.asked
    );
    let rejected = reasons(&prompter);
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert!(rejected[0].1.contains("RDS node type"), "{rejected:?}");
    assert!(rejected[1].1.contains("below the minimum"), "{rejected:?}");
    assert!(
        rejected[2].1.contains("below min_storage (50)"),
        "{rejected:?}"
    );

    let m = &made.plan.migrations[0];
    assert_eq!(m.target, "database13");
    assert_eq!(
        m.service_type,
        Some(crate::model::ServiceType::Postgresql13)
    );
    assert_eq!(m.plan.as_deref(), Some("db.t3.micro"));
    assert_eq!(
        m.options.iter().collect::<Vec<_>>(),
        vec![(&"min_storage".to_owned(), &Some("50".to_owned()))]
    );
    assert_eq!(m.backup, BackupChoice::Fresh);
    // Both write to database, so both freeze, although only worker moves to database13.
    let frozen: Vec<&str> = made.plan.freeze.iter().map(|f| f.app.as_str()).collect();
    assert_eq!(frozen, ["web", "worker"]);
    assert_eq!(
        m.relink,
        Relink::Only(vec![LinkSpec {
            app: "worker".into(),
            env_key: Some("DB_URL".into()),
            path: None,
            read_only: false,
        }])
    );
    assert!(
        made.yaml.contains("    type: postgresql13"),
        "{}",
        made.yaml
    );
    assert!(
        made.yaml.contains("      min_storage: \"50\""),
        "{}",
        made.yaml
    );
    assert!(
        made.yaml.contains("      - {app: worker, env_key: DB_URL}"),
        "{}",
        made.yaml
    );
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deselected_links_and_read_only_mounts() {
    let live = Live::start(Some(DATABASE_WORLD)).await;
    let upto_links = |links: Answer| {
        vec![
            Default,
            Default,
            choose("files"),
            Default,
            Default,
            links,
            Default,
            Default,
        ]
    };

    let (made, _) = live
        .run(
            &live.args("one.yaml"),
            upto_links(ChooseMany(vec!["worker".into()])),
        )
        .await;
    let made = made.unwrap();
    assert_eq!(
        made.plan.migrations[0].relink,
        Relink::Only(vec![LinkSpec {
            app: "worker".into(),
            env_key: None,
            path: Some("/data".into()),
            read_only: true,
        }])
    );
    assert!(
        made.yaml
            .contains("{app: worker, path: /data, read_only: true}"),
        "{}",
        made.yaml
    );

    let (made, _) = live
        .run(&live.args("none.yaml"), upto_links(ChooseMany(vec![])))
        .await;
    let made = made.unwrap();
    assert_eq!(made.plan.migrations[0].relink, Relink::None);
    assert!(made.yaml.contains("relink: none"), "{}", made.yaml);
    live.stop().await;
}

/// The items of the select asked with `prompt`.
fn offered<'a>(prompter: &'a ScriptedPrompter, prompt: &str) -> (&'a [String], usize) {
    prompter
        .offered
        .iter()
        .find(|(p, _, _)| p == prompt)
        .map(|(_, items, default)| (items.as_slice(), *default))
        .unwrap_or_else(|| panic!("{prompt:?} was not asked: {:?}", prompter.asked))
}

/// The items of the multi-select asked with `prompt`, and which were preselected.
fn offered_many<'a>(prompter: &'a ScriptedPrompter, prompt: &str) -> (&'a [String], &'a [bool]) {
    prompter
        .offered_many
        .iter()
        .find(|(p, _, _)| p == prompt)
        .map(|(_, items, defaults)| (items.as_slice(), defaults.as_slice()))
        .unwrap_or_else(|| panic!("{prompt:?} was not asked: {:?}", prompter.asked))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_types_that_restore_the_sources_backups_are_offered() {
    let live = Live::start(Some(DATABASE_WORLD)).await;
    let first_word = |items: &[String]| -> Vec<String> {
        items
            .iter()
            .map(|i| i.split_whitespace().next().unwrap_or_default().to_owned())
            .collect()
    };
    // A PostgreSQL 11 source: the majors this platform creates, its own first, nothing else.
    let (_, prompter) = live
        .run(
            &live.args("pg.yaml"),
            vec![Default, Default, choose("database"), Default, Interrupt],
        )
        .await;
    let (items, default) = offered(&prompter, TYPE);
    assert_eq!(
        first_word(items),
        vec![
            "postgresql11",
            "postgresql13",
            "postgresql14",
            "postgresql15",
            "postgresql16"
        ]
    );
    assert_eq!(default, 0);
    // A volume: the types that restore a .tar.gz archive.
    let (_, prompter) = live
        .run(
            &live.args("files.yaml"),
            vec![Default, Default, choose("files"), Default, Interrupt],
        )
        .await;
    let (items, default) = offered(&prompter, TYPE);
    assert_eq!(first_word(items), vec!["s3", "volume"]);
    assert_eq!(items[default].split_whitespace().next(), Some("volume"));

    // --type is checked by the same rule and names the ones that fit.
    for (source, service_type, reason) in [
        (
            "database",
            "volume",
            "--type: volume: the backups of a postgresql11 service are PostgreSQL custom \
             archives, which a volume service cannot restore; for database choose \
             postgresql11, postgresql13",
        ),
        (
            "files",
            "redis6",
            "--type: redis6: the backups of a volume service are .tar.gz archives",
        ),
    ] {
        let args = WizardArgs {
            project: Some("shop".into()),
            stage: Some("production".into()),
            source: Some(source.into()),
            service_type: Some(service_type.into()),
            ..live.args("flag.yaml")
        };
        let (made, prompter) = live.run(&args, vec![Default]).await;
        match made {
            Err(Error::Usage(text)) => assert!(text.starts_with(reason), "{text}"),
            other => panic!("{service_type}: expected a usage error, got {other:?}"),
        }
        assert_eq!(prompter.asked, vec![TARGET], "nothing else is asked");
    }
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_is_preselected_when_the_source_changed_after_its_latest_backup() {
    // Nothing runs, so only the restore below makes the latest backup stale.
    let live = Live::start(Some(&quiet(SMALL_DEMO_WORLD))).await;
    let upto_backup = |pick: Answer| {
        vec![
            Default,
            Default,
            choose("files"),
            Default,
            Default,
            Default,
            Default,
            pick,
            Default,
        ]
    };
    let (made, prompter) = live
        .run(&live.args("before.yaml"), upto_backup(Default))
        .await;
    let (items, default) = offered(&prompter, "Backup of files to move");
    assert!(items[default].starts_with("latest"), "{items:?}");
    assert!(matches!(
        made.unwrap().plan.migrations[0].backup,
        BackupChoice::Latest
    ));

    // The latest backup restored into files itself: the data may differ from that backup now.
    let latest = live.backups("files").await.remove(0);
    let scope = Scope {
        project: "shop".into(),
        stage: "production".into(),
    };
    live.platform
        .restore_backup(&scope, "files", &latest.id.to_string())
        .await
        .unwrap();
    // While it is RESTORING it is no CREATED backup at all; once done, it is the latest again.
    for _ in 0..300 {
        if live.backups("files").await[0].status == BackupStatus::Created {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (made, prompter) = live
        .run(&live.args("after.yaml"), upto_backup(Default))
        .await;
    let (items, default) = offered(&prompter, "Backup of files to move");
    let want = format!(
        "preselected: backup {} was restored into files at ",
        latest.id
    );
    assert!(
        items[default].starts_with("fresh") && items[default].contains(&want),
        "{items:?}"
    );
    assert!(items[default].contains(", after the latest backup was made ("));
    let made = made.unwrap();
    assert!(matches!(
        made.plan.migrations[0].backup,
        BackupChoice::Fresh
    ));
    assert!(made.yaml.contains("backup: fresh"), "{}", made.yaml);
    assert!(made.yaml.contains("not latest: backup"), "{}", made.yaml);
    live.stop().await;
}

/// web runs two containers, worker none: both link files and database.
fn mixed_world() -> String {
    DATABASE_WORLD
        .replace("- name: web\n", "- name: web\n            scale: 2\n")
        .replace("- name: worker\n", "- name: worker\n            scale: 0\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freeze_is_preselected_when_an_app_runs_and_not_when_none_does() {
    let answers = || {
        vec![
            Default,
            Default,
            choose("files"),
            Default,
            Default,
            Default, // links
            Default, // freeze
            Default, // backup, when asked
            Default,
        ]
    };
    // One app runs: every app that links files is preselected, worker at scale 0 too.
    let live = Live::start(Some(&mixed_world())).await;
    let mut script = answers();
    script.remove(7);
    let (made, prompter) = live.run(&live.args("live.yaml"), script).await;
    let (items, defaults) = offered_many(&prompter, &freeze_prompt("files"));
    assert_eq!(
        items,
        [
            "web     (scale 2, 2 running)",
            "worker  (scale 0, 0 running)"
        ]
    );
    assert_eq!(defaults, [true, true]);
    let made = made.unwrap();
    assert!(
        made.yaml.contains("\nfreeze: ")
            && made.yaml.contains("\n  - web\n  - worker\nmigrations:"),
        "{}",
        made.yaml
    );
    assert!(!made.yaml.contains("\n    backup:"), "{}", made.yaml);
    let frozen: Vec<&str> = made.plan.freeze.iter().map(|f| f.app.as_str()).collect();
    assert_eq!(frozen, ["web", "worker"]);
    assert_eq!(made.plan.migrations[0].backup, BackupChoice::Fresh);
    live.stop().await;

    // Nothing runs: nothing writes, so no downtime is proposed; the latest backup is the default.
    let live = Live::start(Some(&quiet(DATABASE_WORLD))).await;
    let (made, prompter) = live.run(&live.args("quiet.yaml"), answers()).await;
    let (items, defaults) = offered_many(&prompter, &freeze_prompt("files"));
    assert_eq!(
        items,
        [
            "web     (scale 0, 0 running)",
            "worker  (scale 0, 0 running)"
        ]
    );
    assert_eq!(defaults, [false, false]);
    let (backups, default) = offered(&prompter, "Backup of files to move");
    assert!(backups[default].starts_with("latest"), "{backups:?}");
    let made = made.unwrap();
    assert!(made.plan.freeze.is_empty());
    assert!(!made.yaml.contains("freeze:"), "{}", made.yaml);
    assert_eq!(made.plan.migrations[0].backup, BackupChoice::Latest);
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declining_the_freeze_while_an_app_runs_preselects_fresh_saying_why() {
    let live = Live::start(Some(&mixed_world())).await;
    let answers = vec![
        Default,
        Default,
        choose("files"),
        Default,
        Default,
        Default,
        ChooseMany(vec![]),
        Default,
        Default,
    ];
    let (made, prompter) = live.run(&live.args("nofreeze.yaml"), answers).await;
    let (items, default) = offered(&prompter, "Backup of files to move");
    assert_eq!(
        items[default],
        "fresh (a new backup of files, made when the plan runs; preselected: web runs 2 \
         container(s) that may write to files after the latest backup)"
    );
    let made = made.unwrap();
    assert!(made.plan.freeze.is_empty());
    assert_eq!(made.plan.migrations[0].backup, BackupChoice::Fresh);
    assert!(
        made.yaml.contains(
            "\n    backup: fresh             # a new backup of files, made when the plan runs; \
             not latest: web runs 2 container(s) that may write to files after the latest backup\n"
        ),
        "{}",
        made.yaml
    );
    live.stop().await;
}
