//! Durable files: the one place that writes a file so a crash leaves either the old or the new
//! content (temp file, fsync, rename, fsync the directory), private to its owner unless a caller
//! asks for another mode. Returns plain `io::Result` so the client and the sandbox can both use it.
//! Large streamed files start their writeback as they are written (`Writeback`). Reading input
//! whole, with a ceiling, is [`bounded`]'s job.

mod bounded;
pub mod lock;
mod writeback;

pub use bounded::{
    is_too_large, read_bounded, read_bounded_async, read_bounded_from, read_text_bounded,
    shown_limit,
};
pub use writeback::Writeback;

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Files holding journals, dumps or secrets: owner read/write only.
pub const PRIVATE_FILE: u32 = 0o600;
/// Directories holding them: owner only.
pub const PRIVATE_DIR: u32 = 0o700;

/// Replaces `path` with `bytes` atomically and durably; the file is 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_with(path, PRIVATE_FILE, |file| file.write_all(bytes))
}

/// Replaces `path` atomically and durably with what `fill` writes into a fresh temp file beside
/// it, which gets `mode` (set explicitly, so the umask does not decide). On any error the temp
/// file is removed and `path` keeps its old content.
pub fn replace_with<T>(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut File) -> io::Result<T>,
) -> io::Result<T> {
    let dir = parent_of(path);
    let tmp = temp_path(path);
    let written = (|| {
        // A temp file left by a crashed writer is stale; create_new then never follows a link
        // someone else put at that name.
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(PRIVATE_FILE)
            .open(&tmp)?;
        if mode != PRIVATE_FILE {
            file.set_permissions(Permissions::from_mode(mode))?;
        }
        let value = fill(&mut file)?;
        file.flush()?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        Ok(value)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    let value = written?;
    sync_dir(dir)?;
    Ok(value)
}

/// The temp file beside `path`: `.<name>.<pid>.tmp`, a name the sandbox's clean-up of stray
/// temp files recognises (a leading dot and a `.tmp` suffix), distinct per process.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent_of(path).join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Creates `dir` (and its parents) 0700 when it does not exist yet.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(dir)
}

/// Makes a rename or removal in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The directory a file lives in (`.` for a bare file name).
pub fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_privately() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a").join("b");
        create_private_dir(&sub).unwrap();
        assert_eq!(
            std::fs::metadata(&sub).unwrap().permissions().mode() & 0o777,
            PRIVATE_DIR
        );
        let f = sub.join("x.json");
        write_atomic(&f, b"one").unwrap();
        write_atomic(&f, b"two").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            PRIVATE_FILE
        );
        let names: Vec<_> = std::fs::read_dir(&sub).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temp file is left behind");
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("plan.yaml");
        write_atomic(&f, b"old").unwrap();
        let failed = replace_with(&f, 0o644, |file| {
            file.write_all(b"half")?;
            Err::<(), _>(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&f).unwrap(), b"old");
        replace_with(&f, 0o644, |file| file.write_all(b"new")).unwrap();
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o644
        );
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temp file is left behind");
    }
}
