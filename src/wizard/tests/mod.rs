//! The wizard's flow through [`ScriptedPrompter`] against a real sandbox served in-process on
//! 127.0.0.1:0: every branch, and the plan each one writes, loaded back by the plan loader.
//! `choices` covers what the answers select; `answers` how answers and flags are checked.

mod answers;
mod choices;

use std::path::PathBuf;

use super::prompter::Answer::{self, *};
use super::*;
use crate::model::{Backup, Scope};
use crate::platform::http::HttpPlatform;
use crate::sandbox::{self, SpawnConfig};

pub(super) struct Live {
    pub dir: tempfile::TempDir,
    pub platform: HttpPlatform,
    server: sandbox::Running,
}

impl Live {
    pub async fn start(seed: Option<&str>) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let seed_file = seed.map(|text| {
            let path = dir.path().join("seed.yaml");
            std::fs::write(&path, text).unwrap();
            path
        });
        let server = sandbox::spawn(SpawnConfig {
            seed: seed_file,
            engine_config: crate::sandbox::tests::engine_config(),
            ..SpawnConfig::new(dir.path().join("sandbox"))
        })
        .await
        .unwrap();
        Live {
            platform: HttpPlatform::new(&server.url, server.token.clone()).unwrap(),
            dir,
            server,
        }
    }

    pub async fn stop(self) {
        self.server.stop().await.unwrap();
    }

    pub fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join("work/plans").join(name)
    }

    pub fn args(&self, out: &str) -> WizardArgs {
        WizardArgs {
            out: Some(self.out(out)),
            ..WizardArgs::default()
        }
    }

    pub async fn backups(&self, service: &str) -> Vec<Backup> {
        let scope = Scope {
            project: "shop".into(),
            stage: "production".into(),
        };
        self.platform.backups(&scope, service).await.unwrap()
    }

    pub async fn run(
        &self,
        args: &WizardArgs,
        answers: Vec<Answer>,
    ) -> (Result<WizardPlan>, ScriptedPrompter) {
        let mut prompter = ScriptedPrompter::new(answers);
        let made = build_plan(&self.platform, &mut prompter, args).await;
        (made, prompter)
    }
}

pub(super) fn text(s: &str) -> Answer {
    Text(s.to_owned())
}

pub(super) fn choose(s: &str) -> Answer {
    Choose(s.to_owned())
}

/// The demo world's services and links with little content, so each test's sandbox seeds in
/// milliseconds (the full demo world is used once, by the first test).
pub(super) const SMALL_DEMO_WORLD: &str = "\
users: [{name: demo, default: true}]
projects:
  - name: shop
    stages:
      - name: production
        apps:
          - name: web
            links:
              - {service: files, path: /data}
              - {service: media, env_key: S3_DATA_URL}
          - name: worker
        services:
          - name: files
            type: volume
            content: {seed: 1, files: 4, max_size: 512, depth: 1}
            seed_backup: true
          - name: media
            type: s3
            options: {blockPublicAccess: \"true\"}
            content: {seed: 2, files: 3, max_size: 512, depth: 1}
            seed_backup: true
          - name: scratch
            type: volume
            seed_backup: true
";

/// The demo world with a postgresql11 database linked to both apps, for upgrades.
pub(super) const DATABASE_WORLD: &str = "\
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

/// `world` with every app at scale 0: no container runs, nothing writes.
pub(super) fn quiet(world: &str) -> String {
    world
        .replace("- name: web\n", "- name: web\n            scale: 0\n")
        .replace("- name: worker\n", "- name: worker\n            scale: 0\n")
}

pub(super) const PROJECT: &str = "Project";
pub(super) const STAGE: &str = "Stage";
pub(super) const SOURCE: &str = "Service to migrate from";
pub(super) const TARGET: &str = "Name of the new service";
pub(super) const TYPE: &str = "Type of the new service (an upgrade picks a newer type)";
pub(super) const TIMEOUT: &str = "How long may a commit or restore take (e.g. 2h, 90m)";

pub(super) fn freeze_prompt(source: &str) -> String {
    super::ask_freeze::prompt(source)
}

pub(super) fn reasons(prompter: &ScriptedPrompter) -> Vec<(String, String)> {
    prompter
        .rejected
        .iter()
        .map(|r| (r.answer.clone(), r.reason.clone()))
        .collect()
}
