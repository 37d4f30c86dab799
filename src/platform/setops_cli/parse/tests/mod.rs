//! Tests of the parsers against the documented outputs verbatim, against what our own renderers
//! print, and against malformed, truncated and random input.

mod changesets;
pub(crate) mod doc_samples;
mod documented;
mod fuzz;
mod malformed;
mod render_apps;
mod render_backups;
mod render_changesets;
mod render_services;
mod variants;
