//! load_plan end to end on plans written to a temp dir: what a valid plan becomes, and the rules
//! the broken-plan corpus (tests/plans/broken) does not pin down.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const HEAD: &str = "version: 1\nproject: shop\nstage: production\n";

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn plan(&self, body: &str) -> PathBuf {
        self.write("plan.yaml", format!("{HEAD}{body}").as_bytes())
    }

    fn tar_gz(&self, name: &str) -> PathBuf {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        let mut header = tar::Header::new_ustar();
        header.set_size(2);
        header.set_cksum();
        builder
            .append_data(&mut header, "a.txt", &b"hi"[..])
            .unwrap();
        let bytes = builder.into_inner().unwrap().finish().unwrap();
        self.write(name, &bytes)
    }
}

fn issues(path: &Path) -> Vec<String> {
    match load_plan(path) {
        Ok(plan) => panic!("expected issues, got {plan:?}"),
        Err(issues) => issues.iter().map(ToString::to_string).collect(),
    }
}

fn only_issue(path: &Path) -> String {
    let all = issues(path);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap()
}

#[test]
fn a_full_plan_becomes_checked_values() {
    let dir = Dir::new();
    dir.tar_gz("exports/uploads.tar.gz");
    let path = dir.plan(
        "defaults:\n  backup: fresh\n  wait_timeout: 1h30m\nmigrations:\n\
         \x20 - source: database\n    target: database13\n    type: postgresql13\n\
         \x20   plan: db.t3.micro.ha\n    options:\n      min_storage: 50\n      max_storage: \"100\"\n\
         \x20     extensions: ~\n    relink: all\n\
         \x20 - source: files\n    target: files2\n    backup: 6A6FCD7A-7063-4CB4-A748-8F765EEA39A2\n\
         \x20   wait_timeout: 10m\n    relink: none\n\
         \x20 - target: uploads2\n    type: volume\n    backup: file:exports/uploads.tar.gz\n\
         \x20   relink:\n      - {app: web, path: /uploads, read_only: true}\n      - {app: worker, path: /in}\n",
    );
    let plan = load_plan(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    use sha2::Digest;
    assert_eq!(plan.content_hash, hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!(plan.path, path);
    assert_eq!(plan.scope.to_string(), "shop/production");
    assert_eq!(plan.migrations.len(), 3);

    let pg = &plan.migrations[0];
    assert_eq!(pg.index, 0);
    assert_eq!(pg.source.as_deref(), Some("database"));
    assert_eq!(
        pg.service_type,
        Some(crate::model::ServiceType::Postgresql13)
    );
    assert_eq!(pg.plan.as_deref(), Some("db.t3.micro.ha"));
    assert_eq!(pg.options.get("min_storage"), Some(&Some("50".to_owned())));
    assert_eq!(pg.options.get("max_storage"), Some(&Some("100".to_owned())));
    assert_eq!(pg.options.get("extensions"), Some(&None));
    assert_eq!(pg.backup, BackupChoice::Fresh);
    assert_eq!(pg.wait_timeout, Duration::from_secs(90 * 60));
    assert_eq!(pg.relink, Relink::All);

    let files = &plan.migrations[1];
    assert_eq!(
        files.backup,
        BackupChoice::Id("6a6fcd7a-7063-4cb4-a748-8f765eea39a2".parse().unwrap())
    );
    assert_eq!(files.wait_timeout, Duration::from_secs(600));
    assert_eq!(files.relink, Relink::None);
    assert_eq!(files.service_type, None);

    let import = &plan.migrations[2];
    assert_eq!(import.source, None);
    assert_eq!(
        import.backup,
        BackupChoice::File(dir.0.path().join("exports/uploads.tar.gz"))
    );
    assert_eq!(
        import.relink,
        Relink::Only(vec![
            LinkSpec {
                app: "web".into(),
                env_key: None,
                path: Some("/uploads".into()),
                read_only: true,
            },
            LinkSpec {
                app: "worker".into(),
                env_key: None,
                path: Some("/in".into()),
                read_only: false,
            },
        ])
    );
}

#[test]
fn defaults_apply_where_a_migration_says_nothing() {
    let dir = Dir::new();
    let path = dir.plan("migrations:\n  - {source: files, target: files2}\n");
    let plan = load_plan(&path).unwrap();
    let m = &plan.migrations[0];
    assert_eq!(m.backup, BackupChoice::Latest);
    assert_eq!(m.wait_timeout, DEFAULT_WAIT_TIMEOUT);
    assert_eq!(m.relink, Relink::All);
    assert!(m.options.is_empty());
}

#[test]
fn an_import_may_take_its_file_from_defaults() {
    let dir = Dir::new();
    dir.tar_gz("a.tar.gz");
    let path = dir
        .plan("defaults:\n  backup: file:a.tar.gz\nmigrations:\n  - {target: files2, type: s3}\n");
    let plan = load_plan(&path).unwrap();
    assert_eq!(
        plan.migrations[0].backup,
        BackupChoice::File(dir.0.path().join("a.tar.gz"))
    );
    assert_eq!(plan.migrations[0].relink, Relink::None);
}

#[test]
fn an_inherited_backup_that_needs_a_source_points_at_the_import() {
    let dir = Dir::new();
    let path = dir.plan(
        "defaults:\n  backup: latest\nmigrations:\n  - {source: a-db, target: b-db}\n\
         \x20 - target: files2\n    type: volume\n",
    );
    let issue = only_issue(&path);
    assert!(
        issue.contains("plan.yaml:8:5: migrations[1].backup: `latest` needs a source"),
        "{issue}"
    );
    assert!(issue.contains("inherits defaults.backup"), "{issue}");
}

#[test]
fn a_default_file_of_the_wrong_format_is_reported_once_per_type() {
    let dir = Dir::new();
    dir.write("dump.sql", b"-- dump\nCREATE TABLE t (id int);\n");
    let path = dir.plan(
        "defaults:\n  backup: file:dump.sql\nmigrations:\n\
         \x20 - {target: files2, type: volume}\n  - {target: files3, type: volume}\n\
         \x20 - {target: db13, type: postgresql13, plan: db.t3.micro}\n",
    );
    let all = issues(&path);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all[0].contains(":5:11: defaults.backup: "), "{}", all[0]);
    assert!(all[0].contains("a volume backup"), "{}", all[0]);
    assert!(all[1].contains("a postgresql13 backup"), "{}", all[1]);
}

#[test]
fn every_issue_is_reported_in_line_order() {
    let dir = Dir::new();
    let path = dir.write(
        "p.yaml",
        b"version: 3\nproject: shop\nstage: x\nmigrations:\n  - source: files\n    target: f\n\
          \x20   wait_timeout: 8d\n    relink: some\n",
    );
    let all = issues(&path);
    let lines: Vec<&str> = all
        .iter()
        .map(|i| i.split(": ").next().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            "p.yaml:1:10",
            "p.yaml:3:8",
            "p.yaml:6:13",
            "p.yaml:7:19",
            "p.yaml:8:13"
        ]
    );
    assert!(all[3].contains("above the maximum of 7 days"), "{}", all[3]);
    assert!(all[4].contains("relink `some` is not valid"), "{}", all[4]);
}

#[test]
fn links_are_checked_one_by_one() {
    let dir = Dir::new();
    let path = dir.plan(
        "migrations:\n  - source: files\n    target: files2\n    relink:\n\
         \x20     - {app: web, env_key: FILES}\n      - {app: worker, path: /data}\n\
         \x20     - {app: cron, env_key: X, read_only: true}\n      - {app: api}\n",
    );
    let all = issues(&path);
    assert_eq!(all.len(), 3, "{all:#?}");
    assert!(
        all[0].contains("relink[1].path: this list mixes env_key and path links"),
        "{}",
        all[0]
    );
    assert!(
        all[1].contains("relink[2].read_only: read_only applies to path links"),
        "{}",
        all[1]
    );
    assert!(
        all[2].contains("relink[3].env_key: a link needs env_key"),
        "{}",
        all[2]
    );

    let path = dir.plan("migrations:\n  - source: files\n    target: files2\n    relink: []\n");
    assert!(only_issue(&path).contains("relink is an empty list"));
}

#[test]
fn options_are_checked_by_name_even_without_a_type() {
    let dir = Dir::new();
    let path = dir.plan(
        "migrations:\n  - source: files\n    target: files2\n    options:\n      size: \"10\"\n\
         \x20     scale: \"15\"\n      apiKey: \"\"\n",
    );
    let all = issues(&path);
    assert_eq!(all.len(), 3, "{all:#?}");
    assert!(
        all[0].contains("options.size: option `size` is not an option of any SetOps"),
        "{}",
        all[0]
    );
    assert!(
        all[1].contains("options.scale: option scale = `15` is above the maximum"),
        "{}",
        all[1]
    );
    // Empty, so not a credential; still no type has it.
    assert!(
        all[2].contains("options.apiKey: option `apiKey` is not an option of any"),
        "{}",
        all[2]
    );
}

#[test]
fn credentials_are_refused_anywhere_and_never_echoed() {
    let dir = Dir::new();
    let path = dir.plan(
        "migrations:\n  - source: database\n    target: database13\n\
         \x20   plan: \"postgres://admin:hunter2@db:5432/x\"\n    options:\n      secret_token: hunter2\n",
    );
    let all = issues(&path);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(
        all[0].contains("migrations[0].plan: credentials do not belong in a plan file"),
        "{}",
        all[0]
    );
    assert!(all[0].contains("postgres://***@db:5432/x"), "{}", all[0]);
    assert!(
        all[1].contains("options.secret_token: credentials do not belong"),
        "{}",
        all[1]
    );
    assert!(all.iter().all(|i| !i.contains("hunter2")), "{all:#?}");
}

#[test]
fn a_missing_top_level_key_is_named() {
    let dir = Dir::new();
    let path = dir.write(
        "p.yaml",
        b"version: 1\nproject: shop\nmigrations: [{source: files, target: files2}]\n",
    );
    let issue = only_issue(&path);
    assert!(
        issue.contains(": stage: required key `stage` is missing"),
        "{issue}"
    );
}

#[test]
fn files_that_are_not_plans() {
    let dir = Dir::new();
    let empty = dir.write("empty.yaml", b"");
    assert!(only_issue(&empty).ends_with(
        "empty.yaml: the plan is empty (no YAML content); start from one of plans/examples/*.yaml"
    ));

    let missing = dir.0.path().join("nope.yaml");
    let issue = only_issue(&missing);
    assert!(
        issue.contains("nope.yaml: cannot read the plan: "),
        "{issue}"
    );

    let issue = only_issue(dir.0.path());
    assert!(
        issue.ends_with("is a directory; give the path of a plan file (.yaml)"),
        "{issue}"
    );

    let mut big = String::from(HEAD);
    while big.len() <= MAX_PLAN_BYTES as usize {
        big.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    let path = dir.write("big.yaml", big.as_bytes());
    let issue = only_issue(&path);
    assert!(
        issue.ends_with(&format!(
            "big.yaml: plan is {} bytes; the limit is 1 MiB (1048576 bytes): a plan lists migrations, not data",
            big.len()
        )),
        "{issue}"
    );
    // A device that never ends is cut at the limit, not read until memory runs out.
    let issue = only_issue(Path::new("/dev/zero"));
    assert!(
        issue.ends_with("plan holds more than that; the limit is 1 MiB (1048576 bytes): a plan lists migrations, not data"),
        "{issue}"
    );
}

#[test]
fn issues_display_with_and_without_a_position() {
    let issue = PlanIssue {
        file: "plans/x.yaml".into(),
        line: Some(7),
        column: Some(18),
        field: "migrations[1].relink[0].env_key".into(),
        rule: "PORT is reserved".into(),
    };
    assert_eq!(
        issue.to_string(),
        "plans/x.yaml:7:18: migrations[1].relink[0].env_key: PORT is reserved"
    );
    let issue = PlanIssue {
        line: None,
        column: None,
        field: String::new(),
        ..issue
    };
    assert_eq!(issue.to_string(), "plans/x.yaml: PORT is reserved");
}

#[test]
fn credentials_are_reported_even_when_the_shape_is_wrong() {
    let dir = Dir::new();
    // `migrations` is not a list: the plan's shape cannot be read at all.
    let path = dir.plan("database_url: postgres://u:pw@h/db\nmigrations: 5\n");
    let all = issues(&path);
    assert_eq!(all.len(), 3, "{all:#?}");
    assert!(
        all[2].contains(":5:13: migrations: expected a list"),
        "{}",
        all[2]
    );
    assert!(
        all[0].contains(":4:1: database_url: unknown key `database_url`"),
        "{}",
        all[0]
    );
    assert!(
        all[1].contains(":4:15: database_url: credentials do not belong"),
        "{}",
        all[1]
    );
    assert!(all.iter().all(|i| !i.contains("pw@")), "{all:#?}");
}

#[test]
fn an_issue_is_always_one_line() {
    let dir = Dir::new();
    let path = dir.plan("\"a\\nb\": 1\nmigrations:\n  - {source: files, target: \"x\\ny\"}\n");
    let all = issues(&path);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all[0].contains("unknown key `a\\nb`"), "{all:#?}");
    assert!(all[1].contains("service name `x\\ny`"), "{all:#?}");
    assert!(all.iter().all(|i| !i.contains('\n')), "{all:#?}");

    let path = dir.plan("migrations:\n  - {source: files, target: \"x\\ny\"}\n");
    let issue = only_issue(&path);
    assert!(issue.contains("service name `x\\ny`"), "{issue}");
}

#[test]
fn a_freeze_names_apps_with_optional_scales_and_makes_backups_fresh() {
    let dir = Dir::new();
    dir.tar_gz("a.tar.gz");
    let path = dir.plan(
        "freeze:\n  - web\n  - {app: worker, scale: 3}\nmigrations:\n  - {source: database, target: database13}\n\
         \x20 - {target: files2, type: volume, backup: file:a.tar.gz, relink: none}\n",
    );
    let plan = load_plan(&path).unwrap();
    assert_eq!(
        plan.freeze,
        [
            FreezeApp {
                app: "web".into(),
                scale: None
            },
            FreezeApp {
                app: "worker".into(),
                scale: Some(3)
            }
        ]
    );
    assert_eq!(plan.migrations[0].backup, BackupChoice::Fresh);
    // An import has no source to freeze: its file stays.
    assert!(matches!(plan.migrations[1].backup, BackupChoice::File(_)));
}

#[test]
fn a_freeze_refuses_a_backup_taken_before_it_and_bad_apps() {
    let dir = Dir::new();
    let path = dir.plan(
        "defaults:\n  backup: latest\nfreeze:\n  - web\n  - web\n  - {app: Worker}\n\
         \x20 - {app: jobs, scale: 0}\n  - {app: cron, scales: 2}\nmigrations:\n\
         \x20 - {source: database, target: database13}\n  - {source: cache, target: cache6, backup: fresh}\n",
    );
    let all = issues(&path);
    assert_eq!(all.len(), 5, "{all:#?}");
    assert!(
        all[0].contains(":5:11: defaults.backup: backup `latest` was taken before the freeze"),
        "{}",
        all[0]
    );
    assert!(all[0].contains("write `backup: fresh`"), "{}", all[0]);
    assert!(
        all[1].contains(":8:5: freeze[1].app: app `web` is already frozen on line 7"),
        "{}",
        all[1]
    );
    assert!(all[2].contains(":9:11: freeze[2].app: "), "{}", all[2]);
    assert!(
        all[3].contains(":10:24: freeze[3].scale: scale 0 is not a scale to restore"),
        "{}",
        all[3]
    );
    assert!(
        all[4].contains(":11:17: freeze[4].scales: unknown key `scales`; did you mean `scale`?"),
        "{}",
        all[4]
    );
}
