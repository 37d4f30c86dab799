//! setops-migrate: restore-to-new-service for SetOps, end to end, resumable.

pub mod api;
pub mod error;
pub mod model;
pub mod platform;
