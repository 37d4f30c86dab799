//! The wizard's flow through [`ScriptedPrompter`] against a real sandbox served in-process on
//! 127.0.0.1:0: every branch, and the plan each one writes, loaded back by the plan loader.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::oneshot;
use uuid::Uuid;

use super::prompter::Answer::{self, *};
use super::*;
use crate::error::Error;
use crate::model::{Backup, BackupStatus, Scope};
use crate::plan::{BackupChoice, LinkSpec, Relink};
use crate::platform::http::HttpPlatform;
use crate::sandbox::{self, Sandbox};

struct Live {
    dir: tempfile::TempDir,
    platform: HttpPlatform,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<crate::error::Result<()>>>,
}

impl Live {
    async fn start(seed: Option<&str>) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let seed_file = seed.map(|text| {
            let path = dir.path().join("seed.yaml");
            std::fs::write(&path, text).unwrap();
            path
        });
        let state = dir.path().join("sandbox");
        let sandbox = Sandbox::open(&state, seed_file.as_deref()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(sandbox::serve(listener, sandbox, async move {
            let _ = stopped.await;
        }));
        let token = sandbox::read_token(&sandbox::token_path(&state)).unwrap();
        Live {
            platform: HttpPlatform::new(&url, token).unwrap(),
            dir,
            stop: Some(stop),
            server: Some(server),
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }

    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join("work/plans").join(name)
    }

    fn args(&self, out: &str) -> WizardArgs {
        WizardArgs {
            out: Some(self.out(out)),
            ..WizardArgs::default()
        }
    }

    async fn backups(&self, service: &str) -> Vec<Backup> {
        let scope = Scope {
            project: "shop".into(),
            stage: "production".into(),
        };
        self.platform.backups(&scope, service).await.unwrap()
    }

    async fn run(&self, args: &WizardArgs, answers: Vec<Answer>) -> (Result<WizardPlan>, ScriptedPrompter) {
        let mut prompter = ScriptedPrompter::new(answers);
        let made = build_plan(&self.platform, &mut prompter, args).await;
        (made, prompter)
    }
}

fn text(s: &str) -> Answer {
    Text(s.to_owned())
}

fn choose(s: &str) -> Answer {
    Choose(s.to_owned())
}

/// The demo world with a postgresql11 database linked to both apps, for upgrades.
const DATABASE_WORLD: &str = "\
users: [{name: demo, default: true}]
projects:
  - name: shop
    stages:
      - name: production
        apps:
          - name: web
            links:
              - {service: database, env_key: DATABASE_URL}
              - {service: files, path: /data}
          - name: worker
            links:
              - {service: database, env_key: DB_URL}
              - {service: files, path: /data, read_only: true}
        services:
          - name: database
            type: postgresql11
            plan: shared
            options: {extensions: \"uuid-ossp\"}
          - name: files
            type: volume
            content: {seed: 7, files: 5, max_size: 1024, depth: 1}
            seed_backup: true
";

const PROJECT: &str = "Project";
const STAGE: &str = "Stage";
const SOURCE: &str = "Service to migrate from";
const TARGET: &str = "Name of the new service";
const TYPE: &str = "Type of the new service (an upgrade picks a newer type)";
const TIMEOUT: &str = "How long may a commit or restore take (e.g. 2h, 90m)";

fn reasons(prompter: &ScriptedPrompter) -> Vec<(String, String)> {
    prompter
        .rejected
        .iter()
        .map(|r| (r.answer.clone(), r.reason.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_everywhere_copies_files_with_its_latest_backup_and_all_links() {
    let live = Live::start(None).await;
    let latest = live.backups("files").await.into_iter().max_by_key(|b| b.created_at).unwrap();
    let args = live.args("copy.yaml");
    let (made, prompter) = live.run(&args, vec![Default; 8]).await;
    let made = made.unwrap();

    assert_eq!(
        prompter.asked,
        vec![
            PROJECT,
            STAGE,
            SOURCE,
            TARGET,
            TYPE,
            "Backup of files to move",
            "Apps to relink from files to files2",
            TIMEOUT,
        ]
    );
    assert!(made.yaml.contains(&format!("now {})", latest.id)), "{}", made.yaml);
    assert!(made.yaml.contains("\n  - source: files "), "{}", made.yaml);
    assert!(made.yaml.contains("\n    target: files2 "), "{}", made.yaml);
    assert!(made.yaml.contains("\n    backup: latest "), "{}", made.yaml);
    assert!(made.yaml.contains("\n    relink: all "), "{}", made.yaml);
    assert!(!made.yaml.contains("type:") && !made.yaml.contains("plan:"), "{}", made.yaml);

    assert_eq!(made.path, live.out("copy.yaml"));
    assert_eq!(made.plan.path, live.out("copy.yaml"));
    let m = &made.plan.migrations[0];
    assert_eq!(made.plan.scope.to_string(), "shop/production");
    assert_eq!((m.source.as_deref(), m.target.as_str()), (Some("files"), "files2"));
    assert_eq!(m.backup, BackupChoice::Latest);
    assert_eq!(m.relink, Relink::All);
    assert_eq!(m.wait_timeout, Duration::from_secs(2 * 60 * 60));
    assert!(!live.dir.path().join("work").exists(), "building a plan writes nothing");
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_backup_choice_is_written_as_the_plan_says_it() {
    let live = Live::start(None).await;
    let listed = live
        .backups("media")
        .await
        .into_iter()
        .find(|b| b.status == BackupStatus::Created)
        .unwrap();
    let upto_backup = |pick: Answer| {
        vec![Default, Default, choose("media"), Default, Default, Default, pick, Default, Default]
    };

    let (made, prompter) = live.run(&live.args("fresh.yaml"), upto_backup(choose("fresh"))).await;
    let made = made.unwrap();
    assert_eq!(prompter.asked[5], "Option blockPublicAccess (media has true; Enter keeps it, - removes it)");
    assert_eq!(made.plan.migrations[0].backup, BackupChoice::Fresh);
    assert!(made.yaml.contains("\n    backup: fresh "), "{}", made.yaml);

    let (made, _) = live
        .run(&live.args("id.yaml"), upto_backup(choose(&listed.id.to_string())))
        .await;
    let made = made.unwrap();
    assert_eq!(made.plan.migrations[0].backup, BackupChoice::Id(listed.id));
    assert!(made.yaml.contains(&format!("backup: \"{}\"", listed.id)), "{}", made.yaml);
    live.stop().await;
}

fn write_tar_gz(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::fast()));
    let body = b"hello from elsewhere\n";
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "uploads/hello.txt", &body[..]).unwrap();
    tar.into_inner().unwrap().finish().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_file_is_sniffed_and_a_wrong_one_asked_again() {
    let live = Live::start(None).await;
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
        choose("a local file…"),
        text(""),
        text(sql.to_str().unwrap()),
        text(archive.to_str().unwrap()),
        Default,
        Default,
    ];
    let (made, prompter) = live.run(&live.args("import.yaml"), answers).await;
    let made = made.unwrap();
    let rejected = reasons(&prompter);
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert!(rejected[0].1.contains("give the path"), "{rejected:?}");
    assert!(rejected[1].1.contains("is plain SQL text, but a volume backup"), "{rejected:?}");
    assert!(made.yaml.contains("backup: \"file:../exports/files.tar.gz\""), "{}", made.yaml);
    let BackupChoice::File(resolved) = &made.plan.migrations[0].backup else {
        panic!("not a file backup: {:?}", made.plan.migrations[0].backup);
    };
    assert_eq!(resolved.canonicalize().unwrap(), archive.canonicalize().unwrap());
    assert!(!live.out("import.yaml").exists());
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_answers_are_asked_again_with_the_reason() {
    let live = Live::start(None).await;
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
        Default,                   // target: database13, suggested for the upgrade
        text("db.t3.nano.extra"),  // plan: not a node type
        Default,                   // plan: db.t3.micro
        Default,                   // extensions: keep uuid-ossp
        text("10"),                // min_storage: below 20
        text("50"),
        text("30"),                // max_storage: below min_storage
        Default,                   // max_storage: unset
        Default,                   // backup: fresh (database has no backup)
        ChooseMany(vec!["worker".into()]),
        Default,
    ];
    let (made, prompter) = live.run(&args, answers).await;
    let made = made.unwrap();
    assert!(!prompter.asked.contains(&TYPE.to_owned()), "--type is not asked: {:?}", prompter.asked);
    let rejected = reasons(&prompter);
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert!(rejected[0].1.contains("RDS node type"), "{rejected:?}");
    assert!(rejected[1].1.contains("below the minimum"), "{rejected:?}");
    assert!(rejected[2].1.contains("below min_storage (50)"), "{rejected:?}");

    let m = &made.plan.migrations[0];
    assert_eq!(m.target, "database13");
    assert_eq!(m.service_type, Some(crate::model::ServiceType::Postgresql13));
    assert_eq!(m.plan.as_deref(), Some("db.t3.micro"));
    assert_eq!(
        m.options.iter().collect::<Vec<_>>(),
        vec![(&"min_storage".to_owned(), &Some("50".to_owned()))]
    );
    assert_eq!(m.backup, BackupChoice::Fresh);
    assert_eq!(
        m.relink,
        Relink::Only(vec![LinkSpec {
            app: "worker".into(),
            env_key: Some("DB_URL".into()),
            path: None,
            read_only: false,
        }])
    );
    assert!(made.yaml.contains("    type: postgresql13"), "{}", made.yaml);
    assert!(made.yaml.contains("      min_storage: \"50\""), "{}", made.yaml);
    assert!(made.yaml.contains("      - {app: worker, env_key: DB_URL}"), "{}", made.yaml);
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deselected_links_and_read_only_mounts() {
    let live = Live::start(Some(DATABASE_WORLD)).await;
    let upto_links = |links: Answer| vec![Default, Default, choose("files"), Default, Default, Default, links, Default];

    let (made, _) = live.run(&live.args("one.yaml"), upto_links(ChooseMany(vec!["worker".into()]))).await;
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
    assert!(made.yaml.contains("{app: worker, path: /data, read_only: true}"), "{}", made.yaml);

    let (made, _) = live.run(&live.args("none.yaml"), upto_links(ChooseMany(vec![]))).await;
    let made = made.unwrap();
    assert_eq!(made.plan.migrations[0].relink, Relink::None);
    assert!(made.yaml.contains("relink: none"), "{}", made.yaml);
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_with_another_format_takes_a_local_file_and_no_links() {
    let live = Live::start(None).await;
    let rdb = live.dir.path().join("work/cache.rdb");
    std::fs::create_dir_all(rdb.parent().unwrap()).unwrap();
    std::fs::write(&rdb, b"REDIS0009\xfa\x09redis-ver\x057.0.0\xff").unwrap();
    let answers = vec![
        Default,
        Default,
        Default,
        text("cache"),
        choose("redis6"),
        Default, // plan: cache.t3.micro
        text(rdb.to_str().unwrap()),
        Default,
    ];
    let (made, prompter) = live.run(&live.args("cache.yaml"), answers).await;
    let made = made.unwrap();
    assert!(
        prompter.asked.iter().any(|p| p.starts_with("Backup file to restore (the backups of files are .tar.gz archives")),
        "{:?}",
        prompter.asked
    );
    assert!(!prompter.asked.iter().any(|p| p.starts_with("Apps to relink")), "{:?}", prompter.asked);
    let m = &made.plan.migrations[0];
    assert_eq!(m.plan.as_deref(), Some("cache.t3.micro"));
    assert!(matches!(m.backup, BackupChoice::File(_)));
    assert_eq!(m.relink, Relink::None);
    assert!(made.yaml.contains("relink: none"), "{}", made.yaml);
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_are_checked_and_not_asked() {
    let live = Live::start(None).await;
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
    let (made, prompter) = live.run(&args, vec![Default]).await;
    let made = made.unwrap();
    assert_eq!(prompter.asked, vec!["Apps to relink from files to files3"]);
    let m = &made.plan.migrations[0];
    assert_eq!((m.target.as_str(), &m.backup), ("files3", &BackupChoice::Fresh));
    assert_eq!(m.wait_timeout, Duration::from_secs(30 * 60));

    let refused = |changed: WizardArgs, flag: &'static str, reason: &'static str| (changed, flag, reason);
    let unknown_id = Uuid::new_v4().to_string();
    let cases = vec![
        refused(WizardArgs { project: Some("nope".into()), ..args.clone() }, "-p/--project: ", "is not a project this token sees; choose one of shop"),
        refused(WizardArgs { stage: Some("staging".into()), ..args.clone() }, "-s/--stage: ", "is not a stage of project"),
        refused(WizardArgs { source: Some("nope".into()), ..args.clone() }, "--source: ", "choose one of files, media, scratch"),
        refused(WizardArgs { target: Some("media".into()), ..args.clone() }, "--target: ", "already exists in shop/production"),
        refused(WizardArgs { service_type: None, plan: Some("db.t3.micro".into()), ..args.clone() }, "--plan: ", "for volume"),
        refused(WizardArgs { backup: Some(unknown_id), ..args.clone() }, "--backup: ", "is not a CREATED backup of files"),
        refused(WizardArgs { service_type: Some("redis6".into()), plan: Some("cache.t3.micro".into()), ..args.clone() }, "--backup: ", "pass --backup file:<path>"),
    ];
    for (changed, flag, reason) in cases {
        let (made, prompter) = live.run(&changed, vec![]).await;
        match made {
            Err(Error::Usage(text)) => {
                assert!(text.starts_with(flag) && text.contains(reason), "{flag}: {text}")
            }
            other => panic!("{flag}: expected a usage error, got {other:?}"),
        }
        assert!(prompter.asked.is_empty(), "{flag}: asked {:?}", prompter.asked);
    }
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unattended_takes_every_default_when_the_flags_name_source_and_target() {
    let live = Live::start(None).await;
    let args = WizardArgs {
        project: Some("shop".into()),
        stage: Some("production".into()),
        source: Some("media".into()),
        target: Some("media2".into()),
        ..live.args("ci.yaml")
    };
    let made = build_plan(&live.platform, &mut Unattended, &args).await.unwrap();
    let m = &made.plan.migrations[0];
    assert_eq!((m.backup.clone(), m.relink.clone()), (BackupChoice::Latest, Relink::All));
    assert!(m.options.is_empty(), "the source's options are copied: {:?}", m.options);

    // An existing plan file needs a yes that nobody is there to give.
    std::fs::create_dir_all(live.out("")).unwrap();
    std::fs::write(live.out("ci.yaml"), "keep me").unwrap();
    let err = build_plan(&live.platform, &mut Unattended, &args).await.unwrap_err();
    assert!(matches!(&err, Error::Decision(text) if text.contains("exists; overwrite it?")), "{err}");
    assert_eq!(std::fs::read_to_string(live.out("ci.yaml")).unwrap(), "keep me");
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_at_any_prompt_stops_and_writes_nothing() {
    let live = Live::start(None).await;
    for answered in 0..8 {
        let mut answers = vec![Default; answered];
        answers.push(Interrupt);
        let (made, prompter) = live.run(&live.args("stop.yaml"), answers).await;
        assert!(matches!(made, Err(Error::Interrupted)), "after {answered}: {made:?}");
        assert_eq!(prompter.asked.len(), answered + 1);
        assert!(!live.dir.path().join("work").exists(), "after {answered}: something was written");
    }
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_plan_is_replaced_only_after_a_yes() {
    let live = Live::start(None).await;
    std::fs::create_dir_all(live.out("")).unwrap();
    std::fs::write(live.out("files2.yaml"), "old").unwrap();
    let mut answers = vec![Default; 8];
    answers.extend([No, Default]);
    let (made, prompter) = live.run(&live.args("files2.yaml"), answers).await;
    let made = made.unwrap();
    assert_eq!(prompter.asked[8], format!("{} exists; overwrite it?", live.out("files2.yaml").display()));
    assert_eq!(made.path, live.out("files2-2.yaml"));
    assert_eq!(std::fs::read_to_string(live.out("files2.yaml")).unwrap(), "old");

    let mut answers = vec![Default; 8];
    answers.push(Yes);
    let (made, _) = live.run(&live.args("files2.yaml"), answers).await;
    assert_eq!(made.unwrap().path, live.out("files2.yaml"));
    live.stop().await;
}
