//! Test harness, re-exported here so every test file uses `common::X`: the command builder
//! ([`cmd`]), the sandbox harness ([`sandbox`]), engine tests' files ([`files`]) and the
//! end-state oracles ([`oracle`], [`oracle_pairs`]).

#![allow(dead_code)]

pub mod bomb;
pub mod cmd;
pub mod crash;
pub mod data;
pub mod files;
pub mod oracle;
pub mod oracle_pairs;
pub mod sandbox;

pub use cmd::*;
pub use files::*;
pub use oracle_pairs::*;
pub use sandbox::*;
