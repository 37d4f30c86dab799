//! Parsers for the human text the `setops` CLI prints, one module per output family. They are
//! pure (text in, values out), never panic on any input, and fail with a [`ParseError`] that
//! names the command, the line and what was expected there.
//!
//! Every parser accepts the outputs the SetOps documentation shows verbatim and what our own
//! sandbox front (`src/commands`) prints for the commands whose real output is undocumented.

mod account;
mod apps;
mod backups;
mod block;
mod changeset;
mod commit;
mod error;
mod gomap;
mod lines;
mod links;
mod services;
mod table;
mod transfer;
mod values;
mod version;

#[cfg(test)]
pub(crate) mod tests;

pub use account::{LoginInfo, parse_env_list, parse_login_info};
pub use apps::{AppInfo, parse_app_info, parse_scale, parse_tasks};
pub use backups::{
    BackupBlock, BackupRow, parse_backup_create, parse_backup_destroy, parse_backup_info,
    parse_backup_list, parse_backup_restore, parse_status,
};
pub use block::{Block, Field, Item};
pub use changeset::{PendingChangeset, PendingCommand, parse_changeset_info, to_command};
pub use commit::{CommitReport, parse_changeset_commit};
pub use error::{Found, ParseError, quote};
pub use gomap::{GoMap, GoValue};
pub use lines::{Line, split};
pub use links::parse_link_list;
pub use services::{
    PrintedSchedule, ServiceInfo, parse_names, parse_service_info, parse_service_list,
};
pub use table::{Row, Table, find_table};
pub use transfer::{
    BackupDownload, TransferLine, parse_backup_download, parse_backup_upload, parse_download_url,
    parse_upload_url,
};
pub use values::{PrintedSize, parse_size, parse_timestamp, parse_uuid};
pub use version::{CliVersion, Generation, parse_version};
