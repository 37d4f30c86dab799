//! What the live writers confirmed, per app and service, in memory: a restarted sandbox counts
//! from zero again.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::api::{LiveWriteKind, LiveWriter, LiveWrites};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    pub project: String,
    pub stage: String,
    pub app: String,
    pub service: String,
}

struct Entry {
    kind: LiveWriteKind,
    writes: u64,
    last_error: Option<String>,
}

#[derive(Default)]
pub(crate) struct Counters {
    enabled: AtomicBool,
    entries: Mutex<BTreeMap<Key, Entry>>,
}

impl Counters {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Key, Entry>> {
        // Plain counters: a panic while holding the lock cannot leave them inconsistent.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn enable(&self) {
        self.enabled.store(true, Ordering::SeqCst);
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    pub fn wrote(&self, key: &Key, kind: LiveWriteKind) {
        let mut entries = self.lock();
        let entry = entries.entry(key.clone()).or_insert(Entry {
            kind,
            writes: 0,
            last_error: None,
        });
        entry.writes += 1;
        entry.last_error = None;
    }

    pub fn failed(&self, key: &Key, kind: LiveWriteKind, error: String) {
        let mut entries = self.lock();
        let entry = entries.entry(key.clone()).or_insert(Entry {
            kind,
            writes: 0,
            last_error: None,
        });
        entry.last_error = Some(error);
    }

    pub fn snapshot(&self) -> LiveWrites {
        LiveWrites {
            enabled: self.enabled(),
            writers: self
                .lock()
                .iter()
                .map(|(k, e)| LiveWriter {
                    project: k.project.clone(),
                    stage: k.stage.clone(),
                    app: k.app.clone(),
                    service: k.service.clone(),
                    kind: e.kind,
                    writes: e.writes,
                    last_error: e.last_error.clone(),
                })
                .collect(),
        }
    }
}
