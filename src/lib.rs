//! setops-migrate: restore-to-new-service for SetOps, end to end, resumable.

pub mod api;
pub mod backoff;
pub mod cli;
pub mod commands;
pub mod compat;
pub mod error;
pub mod formats;
pub mod fsio;
pub mod migrate;
pub mod model;
pub mod plan;
pub mod platform;
pub mod redact;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod table;
pub mod transfer;
pub mod tree;
pub mod ui;
pub mod units;
pub mod verdict;
pub mod wizard;
