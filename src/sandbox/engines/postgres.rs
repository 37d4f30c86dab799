//! PLACEHOLDER being replaced by the PostgreSQL engine.
use std::io::{self, Write};
use std::path::Path;

use super::{BackupSummary, Engine, RestoreSummary, ServiceRef};
use crate::api::ServiceConnection;

pub(crate) struct PostgresEngine;

impl PostgresEngine {
    pub(crate) fn new(_root: &Path, _admin_url: Option<String>) -> PostgresEngine {
        PostgresEngine
    }
    pub(crate) fn available(&self) -> Result<(), String> {
        Err("the sandbox has no postgresql engine yet".into())
    }
}

impl Engine for PostgresEngine {
    fn backup(&self, _svc: &ServiceRef, _out: &mut dyn Write) -> io::Result<BackupSummary> {
        Err(io::Error::other("no"))
    }
    fn restore(&self, _b: &Path, _svc: &ServiceRef) -> Result<RestoreSummary, String> {
        Err("no".into())
    }
    fn restore_is_repeatable(&self) -> bool {
        true
    }
    fn env_value(&self, _: &ServiceRef, _: &str) -> Result<Option<(String, bool)>, String> {
        Err("no".into())
    }
    fn connection(&self, _svc: &ServiceRef) -> Result<ServiceConnection, String> {
        Err("no".into())
    }
}
