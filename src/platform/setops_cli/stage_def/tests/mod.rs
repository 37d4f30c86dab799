//! Stage definitions: the reference's example, round trips that keep what is not modelled, the
//! edits and their refusals, comparisons and broken input.

mod edits;
mod read_write;

use super::*;
use crate::platform::setops_cli::parse::tests::doc_samples::STAGE_DUMP;

pub(super) fn example() -> StageDefinition {
    StageDefinition::parse(STAGE_DUMP).expect("the reference's example parses")
}

/// The example with keys the typed view does not model, at every level.
pub(super) const WITH_UNKNOWN_KEYS: &str = r#"schema_version: "2"
project: shop
stage: production
log_retention: 30
future_top_level:
  - a
  - 2
apps:
  web:
    image_tag: v1.2.3
    custom_domains: []
    future_app_key: {nested: {deep: [1, "1", true, null]}}
    links:
      database:
        env_key: DATABASE_URL
      files:
        path: /data
        read_only: true
  worker:
    container: {}
services:
  database:
    type: postgresql
    version: "13"
    plan: db.t3.micro
    backup_retention_days: 7
    deletion_protection: true
    options:
      min_storage: 20
      extensions: uuid-ossp,postgis
  files:
    type: volume
notifications:
  ops:
    type: slack
"#;
