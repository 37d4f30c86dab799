//! What verify found, as values: one row per difference, and what matched. A leaf: the engine
//! makes these, the UI (src/ui/verify.rs) and the exit-5 error turn them into words.

pub mod words;

use serde::Serialize;

use crate::model::Scope;

/// One side's value in a difference row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Cell {
    /// A count, shown with thousands grouped.
    Number(u64),
    /// A table's rows: `1 row`, `30 rows`.
    Rows(u64),
    /// A digest, shown shortened.
    Digest(String),
    /// A word or value shown as it is (`missing`, `installed`, a checksum).
    Text(String),
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_owned())
    }
}

impl From<&String> for Cell {
    fn from(text: &String) -> Self {
        Cell::Text(text.clone())
    }
}

/// One thing that differs between the source's data and the target's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub what: String,
    pub source: Cell,
    pub target: Cell,
}

impl Difference {
    pub fn new(what: impl Into<String>, source: impl Into<Cell>, target: impl Into<Cell>) -> Self {
        Difference {
            what: what.into(),
            source: source.into(),
            target: target.into(),
        }
    }
}

/// What matched, per kind of data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MatchSummary {
    Tables {
        tables: u64,
        rows: u64,
        sequences: u64,
        extensions: u64,
        #[serde(skip_serializing_if = "is_zero")]
        large_objects: u64,
        /// The server versions of both sides, as they report themselves.
        #[serde(skip_serializing_if = "Option::is_none")]
        servers: Option<ServerVersions>,
    },
    Keys {
        keys: u64,
        databases: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        servers: Option<ServerVersions>,
    },
    Files {
        files: u64,
        bytes: u64,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The versions of the source's and the target's servers: `11.22` -> `13.23`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerVersions {
    pub source: String,
    pub target: String,
}

impl MatchSummary {
    /// The same summary, saying which server versions it compared.
    pub fn with_servers(self, versions: ServerVersions) -> MatchSummary {
        match self {
            MatchSummary::Tables {
                tables,
                rows,
                sequences,
                extensions,
                large_objects,
                ..
            } => MatchSummary::Tables {
                tables,
                rows,
                sequences,
                extensions,
                large_objects,
                servers: Some(versions),
            },
            MatchSummary::Keys {
                keys, databases, ..
            } => MatchSummary::Keys {
                keys,
                databases,
                servers: Some(versions),
            },
            files @ MatchSummary::Files { .. } => files,
        }
    }
}

/// A verification that found differences: which migration, the backup whose bytes both sides
/// should hold, and the rows. Its text (exit 5) is rendered in src/verdict/words.rs.
#[derive(Debug, Clone)]
pub struct DataDiffers {
    pub scope: Scope,
    pub source: String,
    pub target: String,
    pub backup_id: Option<String>,
    pub differences: Vec<Difference>,
    /// The commands the ways on are pasted from, with the run's connection flags.
    pub commands: WaysOn,
}

/// What a message needs to name pasteable commands: the plan, and the command lines of this run
/// (src/migrate/engine.rs `Invocation`).
#[derive(Debug, Clone, Default)]
pub struct WaysOn {
    /// The plan file, to say where to change `backup:`.
    pub plan: std::path::PathBuf,
    /// The migration already makes a fresh backup (`backup: fresh`).
    pub fresh: bool,
    /// `setops-migrate [connection] run PLAN ...`.
    pub run: String,
    /// `setops-migrate [connection] -p PROJECT -s STAGE`.
    pub scoped: String,
}
