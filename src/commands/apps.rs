//! SetOps-shaped renderings of an app: the `app:info` block, the `Scale:` block that
//! `resource:set scale` prints, and the `Tasks` table of `app:ps`. The reference names the
//! table's columns (ID, Release, Last Status, Health Status, Started At, Stopped At) but shows
//! no sample, so they are printed like the documented tables: upper-case headers, `-` for none.

use chrono::{DateTime, SecondsFormat, Utc};

use super::services::mask_credentials;
use crate::model::{App, EnvVar, Task};
use crate::ui::block::Item;
use crate::ui::{Align, Block, TableBuilder};

/// `Name:`, `Scale:` (when known), then `ENVs:` lines `-- KEY   value   (description)` with
/// credentials masked.
pub fn app_info_block(app: &App, envs: &[EnvVar]) -> Block {
    let mut block = Block::new().field("Name", app.name.clone());
    if let Some(scale) = app.scale {
        block = block.field("Scale", scale.to_string());
    }
    let envs: Vec<Item> = envs
        .iter()
        .map(|v| {
            let value = if v.secret {
                mask_credentials(&v.value)
            } else {
                v.value.clone()
            };
            let shown = match &v.description {
                Some(d) => format!("{value}   ({d})"),
                None => value.clone(),
            };
            Item {
                name: v.key.clone(),
                shown,
                bare: value,
            }
        })
        .collect();
    block.list("ENVs", envs)
}

/// What `resource:set scale N` prints: `Scale:   N`.
pub fn scale_block(scale: u8) -> Block {
    Block::new().field("Scale", scale.to_string())
}

pub fn tasks_table(tasks: &[Task]) -> TableBuilder {
    let mut table = TableBuilder::new(&[
        ("ID", Align::Left),
        ("RELEASE", Align::Left),
        ("LAST STATUS", Align::Left),
        ("HEALTH STATUS", Align::Left),
        ("STARTED AT", Align::Left),
        ("STOPPED AT", Align::Left),
    ]);
    let time = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
            .unwrap_or_else(|| "-".to_owned())
    };
    for t in tasks {
        table.row(vec![
            t.id.clone(),
            t.release.clone().unwrap_or_else(|| "-".to_owned()),
            t.last_status.clone(),
            t.health_status.clone(),
            time(t.started_at),
            time(t.stopped_at),
        ]);
    }
    table
}
