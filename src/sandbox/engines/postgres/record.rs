//! `<dir>/cluster.json` (0600): which server a sandbox uses and how to log in to it. Holds
//! passwords, so it has no Debug.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::sandbox::{Error, Result};

pub(crate) const FILE_NAME: &str = "cluster.json";

/// What `<dir>/cluster.json` records: an admin URL the sandbox was given (the engine writes
/// it), and the sandbox's own cluster, kept even while an admin URL is in use so that its
/// data is not orphaned.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClusterFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own: Option<OwnCluster>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OwnCluster {
    pub data_dir: PathBuf,
    /// The port of the last start; 0 before the first.
    pub port: u16,
    pub superuser: String,
    pub password: String,
}

impl ClusterFile {
    /// The file in `dir`, or an empty one when there is none yet.
    pub(crate) fn load(dir: &Path) -> Result<ClusterFile> {
        let path = dir.join(FILE_NAME);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Engine(format!(
                    "{} is damaged ({e}); remove it to start a new PostgreSQL cluster (the data of \
                     existing PostgreSQL services is then lost)",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(ClusterFile::default()),
            Err(e) => Err(Error::Engine(format!("reading {}: {e}", path.display()))),
        }
    }

    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Engine(format!("encoding {FILE_NAME}: {e}")))?;
        let path = dir.join(FILE_NAME);
        crate::fsio::write_atomic(&path, &json)
            .map_err(|e| Error::Engine(format!("writing {}: {e}", path.display())))
    }
}
