//! Who the server programs run as (`nobody` when this process is root) and how files in
//! directories that user controls are opened. Below `location` and `postmaster`, which both need it.

use std::fs;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use crate::sandbox::{Error, Result};

/// The user server programs run as when this process is root.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

impl RunAs {
    /// `Some(nobody)` when this process is root, else `None` (programs run as ourselves).
    pub(crate) fn for_this_process() -> Result<Option<RunAs>> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(None);
        }
        let user = nix::unistd::User::from_name("nobody")
            .map_err(|e| Error::Engine(format!("looking up the user `nobody`: {e}")))?
            .ok_or_else(|| {
                Error::engine(
                    "PostgreSQL refuses to run as root and there is no user `nobody` to run it \
                     as; create one (useradd -r nobody) or run the sandbox as another user",
                )
            })?;
        Ok(Some(RunAs {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        }))
    }

    pub(crate) fn apply(&self, cmd: &mut Command) {
        cmd.uid(self.uid).gid(self.gid);
    }

    pub(super) fn chown(&self, path: &Path) -> Result<()> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid)).map_err(|e| {
            Error::Engine(format!(
                "handing {} to the user nobody: {e}",
                path.display()
            ))
        })
    }
}

/// Opens an existing file without following a symlink in its last component: the files of a
/// cluster live in a directory its server user controls.
pub(crate) fn open_no_follow(path: &Path, append: bool) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .read(!append)
        .append(append)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
}
