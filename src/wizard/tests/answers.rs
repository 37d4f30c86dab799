//! How answers and flags are checked: refused answers asked again, flags checked and not asked
//! (`--freeze` against the apps that link the source), unattended defaults, Ctrl-C at every
//! prompt, and existing plan files.

use std::time::Duration;

use uuid::Uuid;

use super::*;
use crate::error::Error;
use crate::plan::{BackupChoice, Relink};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_answers_are_asked_again_with_the_reason() {
    let live = Live::start(Some(SMALL_DEMO_WORLD)).await;
    let answers = vec![
        Default,
        Default,
        Default,
        text("Files2"),
        text("media"),
        text("files"),
        text("f"),
        text("files-copy"),
        Default,
        Default,
        Default,
        text("soon"),
        text("10s"),
        text("90m"),
    ];
    let (made, prompter) = live.run(&live.args("again.yaml"), answers).await;
    let made = made.unwrap();
    let rejected = reasons(&prompter);
    let expect = [
        ("Files2", "does not start with a lowercase letter"),
        ("media", "already exists in shop/production"),
        ("files", "is the source itself"),
        ("f", "is too short (1 characters)"),
        ("soon", "is not a duration"),
        ("10s", "below the minimum of 1m"),
    ];
    assert_eq!(rejected.len(), expect.len(), "{rejected:?}");
    for ((answer, reason), (want_answer, want_reason)) in rejected.iter().zip(expect) {
        assert_eq!(answer, want_answer);
        assert!(reason.contains(want_reason), "{answer}: {reason}");
    }
    let m = &made.plan.migrations[0];
    assert_eq!(m.target, "files-copy");
    assert_eq!(m.wait_timeout, Duration::from_secs(90 * 60));
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_are_checked_and_not_asked() {
    let live = Live::start(Some(SMALL_DEMO_WORLD)).await;
    let args = WizardArgs {
        project: Some("shop".into()),
        stage: Some("production".into()),
        source: Some("files".into()),
        target: Some("files3".into()),
        service_type: Some("volume".into()),
        backup: Some("fresh".into()),
        wait_timeout: Some("30m".into()),
        ..live.args("flags.yaml")
    };
    let frozen = WizardArgs {
        freeze: Some("web".into()),
        ..args.clone()
    };
    let (made, prompter) = live.run(&frozen, vec![Default]).await;
    let made = made.unwrap();
    assert_eq!(prompter.asked, vec!["Apps to relink from files to files3"]);
    let m = &made.plan.migrations[0];
    assert_eq!(
        (m.target.as_str(), &m.backup),
        ("files3", &BackupChoice::Fresh)
    );
    assert_eq!(m.wait_timeout, Duration::from_secs(30 * 60));
    assert_eq!(made.plan.freeze.len(), 1);
    assert_eq!(made.plan.freeze[0].app, "web");

    let refused =
        |changed: WizardArgs, flag: &'static str, reason: &'static str| (changed, flag, reason);
    let unknown_id = Uuid::new_v4().to_string();
    let cases = vec![
        refused(
            WizardArgs {
                project: Some("nope".into()),
                ..args.clone()
            },
            "-p/--project: ",
            "is not a project this token sees; choose one of shop",
        ),
        refused(
            WizardArgs {
                stage: Some("staging".into()),
                ..args.clone()
            },
            "-s/--stage: ",
            "is not a stage of project",
        ),
        refused(
            WizardArgs {
                source: Some("nope".into()),
                ..args.clone()
            },
            "--source: ",
            "choose one of files, media, scratch",
        ),
        refused(
            WizardArgs {
                target: Some("media".into()),
                ..args.clone()
            },
            "--target: ",
            "already exists in shop/production",
        ),
        refused(
            WizardArgs {
                service_type: None,
                plan: Some("db.t3.micro".into()),
                ..args.clone()
            },
            "--plan: ",
            "for volume",
        ),
        refused(
            WizardArgs {
                backup: Some(unknown_id),
                ..args.clone()
            },
            "--backup: ",
            "is not a CREATED backup of files",
        ),
        refused(
            WizardArgs {
                service_type: Some("redis6".into()),
                plan: Some("cache.t3.micro".into()),
                ..args.clone()
            },
            "--type: ",
            "the backups of a volume service are .tar.gz archives, which a redis6 service cannot restore",
        ),
    ];
    for (changed, flag, reason) in cases {
        // Without --type the type is asked before --plan can be checked against it.
        let answers = if changed.service_type.is_none() {
            vec![Default]
        } else {
            vec![]
        };
        let asked_type = !answers.is_empty();
        let (made, prompter) = live.run(&changed, answers).await;
        match made {
            Err(Error::Usage(text)) => {
                assert!(
                    text.starts_with(flag) && text.contains(reason),
                    "{flag}: {text}"
                )
            }
            other => panic!("{flag}: expected a usage error, got {other:?}"),
        }
        assert_eq!(
            prompter.asked.len(),
            usize::from(asked_type),
            "{flag}: asked {:?}",
            prompter.asked
        );
    }
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_freeze_flags_are_checked_against_the_apps_that_link_the_source() {
    let live = Live::start(Some(SMALL_DEMO_WORLD)).await;
    let args = WizardArgs {
        project: Some("shop".into()),
        stage: Some("production".into()),
        source: Some("files".into()),
        target: Some("files3".into()),
        service_type: Some("volume".into()),
        wait_timeout: Some("30m".into()),
        ..live.args("freeze.yaml")
    };
    let (made, prompter) = live
        .run(
            &WizardArgs {
                freeze: Some("wrker".into()),
                ..args.clone()
            },
            vec![Default],
        )
        .await;
    match made {
        Err(Error::Usage(text)) => assert_eq!(
            text,
            "--freeze: \"wrker\" is not an app that links files; the apps that do are web"
        ),
        other => panic!("expected a usage error, got {other:?}"),
    }
    assert_eq!(prompter.asked, vec!["Apps to relink from files to files3"]);

    // --no-freeze: the freeze is not asked, and web still runs, so fresh is the default backup.
    let (made, prompter) = live
        .run(
            &WizardArgs {
                no_freeze: true,
                ..args.clone()
            },
            vec![Default, Default],
        )
        .await;
    let made = made.unwrap();
    assert_eq!(
        prompter.asked,
        vec![
            "Apps to relink from files to files3",
            "Backup of files to move"
        ]
    );
    assert!(made.plan.freeze.is_empty());
    assert_eq!(made.plan.migrations[0].backup, BackupChoice::Fresh);
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unattended_takes_every_default_when_the_flags_name_source_and_target() {
    let live = Live::start(Some(SMALL_DEMO_WORLD)).await;
    let args = WizardArgs {
        project: Some("shop".into()),
        stage: Some("production".into()),
        source: Some("media".into()),
        target: Some("media2".into()),
        ..live.args("ci.yaml")
    };
    let made = build_plan(&live.platform, &mut Unattended, &args)
        .await
        .unwrap();
    // web, which links media, runs: the default freezes it.
    let m = &made.plan.migrations[0];
    assert_eq!(
        (m.backup.clone(), m.relink.clone()),
        (BackupChoice::Fresh, Relink::All)
    );
    assert_eq!(made.plan.freeze.len(), 1);
    assert_eq!(made.plan.freeze[0].app, "web");
    assert!(
        m.options.is_empty(),
        "the source's options are copied: {:?}",
        m.options
    );
    // --backup latest says no freeze; with --no-freeze the default is a fresh backup.
    for (changed, backup) in [
        (
            WizardArgs {
                backup: Some("latest".into()),
                ..args.clone()
            },
            BackupChoice::Latest,
        ),
        (
            WizardArgs {
                no_freeze: true,
                ..args.clone()
            },
            BackupChoice::Fresh,
        ),
    ] {
        let made = build_plan(&live.platform, &mut Unattended, &changed)
            .await
            .unwrap();
        assert!(made.plan.freeze.is_empty(), "{}", made.yaml);
        assert_eq!(made.plan.migrations[0].backup, backup, "{}", made.yaml);
    }

    // An existing plan file needs a yes that nobody is there to give.
    std::fs::create_dir_all(live.out("")).unwrap();
    std::fs::write(live.out("ci.yaml"), "keep me").unwrap();
    let err = build_plan(&live.platform, &mut Unattended, &args)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decision(text) if text.contains("exists; overwrite it?")),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(live.out("ci.yaml")).unwrap(),
        "keep me"
    );
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_at_any_prompt_stops_and_writes_nothing() {
    let live = Live::start(Some(SMALL_DEMO_WORLD)).await;
    for answered in 0..8 {
        let mut answers = vec![Default; answered];
        answers.push(Interrupt);
        let (made, prompter) = live.run(&live.args("stop.yaml"), answers).await;
        assert!(
            matches!(made, Err(Error::Interrupted)),
            "after {answered}: {made:?}"
        );
        assert_eq!(prompter.asked.len(), answered + 1);
        assert!(
            !live.dir.path().join("work").exists(),
            "after {answered}: something was written"
        );
    }
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_plan_is_replaced_only_after_a_yes() {
    let live = Live::start(Some(SMALL_DEMO_WORLD)).await;
    std::fs::create_dir_all(live.out("")).unwrap();
    std::fs::write(live.out("files2.yaml"), "old").unwrap();
    let mut answers = vec![Default; 8];
    answers.extend([No, Default]);
    let (made, prompter) = live.run(&live.args("files2.yaml"), answers).await;
    let made = made.unwrap();
    assert_eq!(
        prompter.asked[8],
        format!(
            "{} exists; overwrite it?",
            live.out("files2.yaml").display()
        )
    );
    assert_eq!(made.path, live.out("files2-2.yaml"));
    assert_eq!(
        std::fs::read_to_string(live.out("files2.yaml")).unwrap(),
        "old"
    );

    let mut answers = vec![Default; 8];
    answers.push(Yes);
    let (made, _) = live.run(&live.args("files2.yaml"), answers).await;
    assert_eq!(made.unwrap().path, live.out("files2.yaml"));
    live.stop().await;
}
