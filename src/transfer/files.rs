//! Local file work for transfers: hashing in blocks, private (0600) files, and promoting a
//! verified partial file to its final name durably.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Large reads: hashing a file costs few system calls.
const BLOCK: usize = 1024 * 1024;
/// Dumps and secrets are readable by their owner only.
pub(super) const PRIVATE: u32 = 0o600;

/// `dest` with `suffix` appended to its file name (`x.tar.gz` -> `x.tar.gz.partial`).
pub(super) fn with_suffix(dest: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(dest.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Streams a file through SHA-256 on a blocking thread; returns its length and the hasher, so a
/// resumed download can keep feeding it.
pub(super) async fn hash_file(path: PathBuf) -> Result<(u64, Sha256)> {
    let task_path = path.clone();
    let outcome = tokio::task::spawn_blocking(move || hash_blocking(&task_path))
        .await
        .map_err(|e| Error::task_stopped("the hashing task", e))?;
    outcome.map_err(|(action, e)| Error::io(action, path, e))
}

fn hash_blocking(
    path: &Path,
) -> std::result::Result<(u64, Sha256), (&'static str, std::io::Error)> {
    let mut file = std::fs::File::open(path).map_err(|e| ("opening", e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; BLOCK];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(("reading", e)),
        };
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, hasher))
}

pub(super) fn hex_digest(hasher: Sha256) -> String {
    hex::encode(hasher.finalize())
}

/// Opens `path` for writing, created with mode 0600; `append` keeps what is there, otherwise
/// it is truncated. A std file: it is written on a thread of its own (`Spool`).
pub(super) async fn open_private(path: &Path, append: bool) -> Result<std::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).mode(PRIVATE);
    if append {
        options.append(true);
    } else {
        options.truncate(true);
    }
    let file = options
        .open(path)
        .await
        .map_err(|e| Error::io("opening", path, e))?;
    Ok(file.into_std().await)
}

/// Writes a small file atomically and durably, mode 0600 (`fsio::write_atomic` off the async
/// threads: it fsyncs).
pub(super) async fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let (task_path, bytes) = (path.to_path_buf(), bytes.to_vec());
    tokio::task::spawn_blocking(move || crate::fsio::write_atomic(&task_path, &bytes))
        .await
        .map_err(|e| Error::task_stopped("the writing task", e))?
        .map_err(|e| Error::io("writing", path, e))
}

/// Length of `path`, `None` when it does not exist.
pub(super) async fn length(path: &Path) -> Result<Option<u64>> {
    match tokio::fs::metadata(path).await {
        Ok(meta) => Ok(Some(meta.len())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("reading", path, e)),
    }
}

pub(super) async fn remove_if_exists(path: &Path) -> Result<()> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("removing", path, e)),
    }
}

/// Makes a verified partial file the final one: fsync, mode 0600, rename over `dest` (so with
/// `--force` the old file is replaced only now), then fsync the directory so the rename lasts.
pub(super) async fn promote(partial: &Path, dest: &Path) -> Result<()> {
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(partial)
        .await
        .map_err(|e| Error::io("opening", partial, e))?;
    file.sync_all()
        .await
        .map_err(|e| Error::io("syncing", partial, e))?;
    // The partial may predate us with looser permissions; the final file is private regardless.
    file.set_permissions(std::fs::Permissions::from_mode(PRIVATE))
        .await
        .map_err(|e| Error::io("setting permissions of", partial, e))?;
    drop(file);
    tokio::fs::rename(partial, dest)
        .await
        .map_err(|e| Error::io("renaming the verified download to", dest, e))?;
    // Some filesystems refuse fsync on a directory; the rename has happened either way.
    if let Ok(dir) = tokio::fs::File::open(crate::fsio::parent_of(dest)).await {
        let _ = dir.sync_all().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_extend_the_file_name() {
        assert_eq!(
            with_suffix(Path::new("/tmp/a.tar.gz"), ".partial"),
            PathBuf::from("/tmp/a.tar.gz.partial")
        );
        assert_eq!(
            with_suffix(Path::new("b"), ".partial.json"),
            PathBuf::from("b.partial.json")
        );
    }

    #[tokio::test]
    async fn promoted_files_are_private_and_replace_the_old_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let partial = dir.path().join("x.partial");
        let dest = dir.path().join("x");
        std::fs::write(&dest, b"old").expect("write");
        std::fs::write(&partial, b"new").expect("write");
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        promote(&partial, &dest).await.expect("promote");
        assert_eq!(std::fs::read(&dest).expect("read"), b"new");
        assert!(!partial.exists());
        let mode = std::fs::metadata(&dest).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[tokio::test]
    async fn new_private_files_are_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("side.json");
        write_private(&path, b"{}").await.expect("write");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!crate::fsio::temp_path(&path).exists());
    }
}
