//! The `setops` CLI adapter's pure half: parsers for every output the adapter reads, and the v2
//! stage-definition model with the edits a migration makes. No process is spawned here; the
//! adapter runs `setops` and hands its output to these functions.

mod adapter;
pub mod parse;
pub mod stage_def;

pub use adapter::{Runner, SetopsCli};
pub use parse::{
    BackupBlock, BackupDownload, BackupRow, CliVersion, CommitReport, Generation, GoMap, GoValue,
    ParseError, PendingChangeset, PendingCommand, PrintedSchedule, PrintedSize, ServiceInfo,
    TransferLine,
};
pub use stage_def::{LinkSpec, ServiceSpec, StageDefError, StageDefinition, Yaml};
