//! Who runs the sandbox's own PostgreSQL server and where its data lives.
//!
//! Not root: the server runs as this user, its data in `<dir>/data` (`DIR/postgres/data`).
//!
//! Root: `initdb` and `postgres` refuse to run as root, so they run as `nobody`, which must own
//! the data directory and reach it. When `nobody` can enter the cluster directory (all its
//! parents let others pass), the data is in `<dir>/server/data`. Sandbox directories under
//! 0700 parents (/root, some temp dirs) cannot be entered, so the data goes to
//! `/var/tmp/setops-sandbox-postgres/<16 hex of SHA-256 of the canonical cluster dir>/data`,
//! with `<hex>.owner` next to it naming the cluster directory it belongs to.
//!
//! Such a directory under /var/tmp is removed, with a line on stderr, by the next cluster start
//! on this machine that needs /var/tmp and finds the cluster directory named in `.owner` gone
//! and no server running on the data. Deleting a sandbox directory therefore frees its
//! PostgreSQL data at such a start. Tools that age out /var/tmp (systemd-tmpfiles, after 30
//! days unused) may remove the data of a sandbox left unused that long; its next start says so.

use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::run_as::RunAs;
use crate::sandbox::{Error, Result};
use sha2::{Digest, Sha256};

/// Where the data of clusters whose directory `nobody` cannot reach lives (run as root only).
pub(crate) const SHARED_ROOT: &str = "/var/tmp/setops-sandbox-postgres";

/// Creates (or reuses) the directory that holds the cluster's `data/` and `postgres.log`,
/// writable by the server user, for the cluster directory `dir` (which exists).
pub(crate) fn base_dir(dir: &Path, run_as: Option<RunAs>) -> Result<PathBuf> {
    let Some(run_as) = run_as else {
        return Ok(dir.to_path_buf());
    };
    // Others may pass through the cluster directory, not list it; cluster.json stays 0600.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o711))
        .map_err(|e| Error::Engine(format!("opening {} to the user nobody: {e}", dir.display())))?;
    if can_enter(dir, run_as) {
        let path = dir.join("server");
        make_private_dir(&path, run_as)?;
        return Ok(path);
    }
    let canonical = dir
        .canonicalize()
        .map_err(|e| Error::Engine(format!("resolving {}: {e}", dir.display())))?;
    let shared = shared_root()?;
    sweep(&shared);
    let hex = hex::encode(Sha256::digest(canonical.as_os_str().as_encoded_bytes()));
    let path = shared.join(&hex[..16]);
    let owner_record = shared.join(format!("{}.owner", &hex[..16]));
    // The record first: a sweep treats a base without a live owner as garbage.
    crate::fsio::write_atomic(&owner_record, canonical.as_os_str().as_encoded_bytes())
        .map_err(|e| Error::Engine(format!("writing {}: {e}", owner_record.display())))?;
    make_private_dir(&path, run_as)?;
    Ok(path)
}

/// Whether `run_as` can enter `dir` (all its parents let it pass).
fn can_enter(dir: &Path, run_as: RunAs) -> bool {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"cd -- "$1""#)
        .arg("sh")
        .arg(dir)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    run_as.apply(&mut cmd);
    cmd.status().is_ok_and(|s| s.success())
}

/// The shared root: created root-owned 0711 (others pass, only root lists or writes), and
/// refused when it is anything else, since /var/tmp is writable by everyone.
fn shared_root() -> Result<PathBuf> {
    let root = PathBuf::from(SHARED_ROOT);
    match fs::DirBuilder::new().mode(0o711).create(&root) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::Engine(format!("creating {SHARED_ROOT}: {e}"))),
    }
    let meta = fs::symlink_metadata(&root)
        .map_err(|e| Error::Engine(format!("reading {SHARED_ROOT}: {e}")))?;
    if !meta.is_dir() || meta.uid() != 0 || meta.mode() & 0o022 != 0 {
        return Err(Error::Engine(format!(
            "{SHARED_ROOT} is not a directory owned by root and closed to others' writes; \
             remove it (rm -rf {SHARED_ROOT}) and try again"
        )));
    }
    Ok(root)
}

/// A 0700 directory owned by `run_as`; an existing one must already be a directory.
fn make_private_dir(path: &Path, run_as: RunAs) -> Result<()> {
    match fs::DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let meta = fs::symlink_metadata(path)
                .map_err(|e| Error::Engine(format!("reading {}: {e}", path.display())))?;
            if !meta.is_dir() {
                return Err(Error::Engine(format!(
                    "{} should be the PostgreSQL server's directory but is not a directory; \
                     remove it and try again",
                    path.display()
                )));
            }
        }
        Err(e) => return Err(Error::Engine(format!("creating {}: {e}", path.display()))),
    }
    run_as.chown(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::Engine(format!("setting the mode of {}: {e}", path.display())))
}

/// A file only `run_as` (or this user) can read, for initdb's `--pwfile`.
pub(crate) fn write_for(path: &Path, bytes: &[u8], run_as: Option<RunAs>) -> Result<()> {
    crate::fsio::replace_with(path, crate::fsio::PRIVATE_FILE, |file| {
        if let Some(owner) = run_as {
            // On the open file: the path may be in a directory `nobody` can change.
            std::os::unix::fs::fchown(&*file, Some(owner.uid), Some(owner.gid))?;
        }
        file.write_all(bytes)
    })
    .map_err(|e| Error::Engine(format!("writing {}: {e}", path.display())))
}

/// Removes bases in the shared root whose cluster directory is gone and whose server is not
/// running, saying so on stderr.
pub(crate) fn sweep(shared: &Path) {
    let Ok(entries) = fs::read_dir(shared) else {
        return;
    };
    for entry in entries.flatten() {
        let record = entry.path();
        if record.extension().is_none_or(|e| e != "owner") {
            continue;
        }
        let Ok(owner) = fs::read(&record) else {
            continue;
        };
        let owner = PathBuf::from(std::ffi::OsStr::from_bytes(&owner));
        match fs::symlink_metadata(&owner) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            _ => continue,
        }
        let base = record.with_extension("");
        if super::postmaster::running_postmaster(&base.join("data")).is_some() {
            continue;
        }
        eprintln!(
            "sandbox: removing {}: the PostgreSQL data of {}, which no longer exists",
            base.display(),
            owner.display()
        );
        match super::super::remove_dir_if_present(&base) {
            Ok(()) => {
                let _ = fs::remove_file(&record);
            }
            Err(e) => eprintln!("sandbox: could not remove {}: {e}", base.display()),
        }
    }
}
