//! Backup formats: sniffing tells from a file's first bytes which format it holds (so a wrong file
//! is refused before anything is created, setops-reference.md section 3); the readers below look
//! deeper into the head of a PostgreSQL custom archive and of a Redis RDB file for what decides
//! whether a target can restore it (section 12). Every reader is bounded by the bytes it is given.

pub mod head;
pub mod pg_archive;
pub mod rdb;
mod sniff;

pub use sniff::{DetectedFormat, check_for_type, check_head_for_type, sniff};
