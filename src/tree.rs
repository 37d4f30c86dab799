//! A directory tree's fingerprint: file count, total bytes and one SHA-256 over every file's
//! relative path, size and content hash, in sorted order. Two trees with the same fingerprint hold
//! the same files with the same bytes.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeDigest {
    pub files: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Walks `root` (blocking; call from spawn_blocking in async code). Symlinks are not followed and
/// count by their target text, so a link cannot make two different trees look equal.
pub fn digest(root: &Path) -> Result<TreeDigest> {
    let mut entries = Vec::new();
    collect(root, root, &mut entries)?;
    entries.sort();
    let mut total = Sha256::new();
    let mut bytes = 0;
    let mut buf = vec![0u8; 64 * 1024];
    for rel in &entries {
        let path = root.join(rel);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io("reading", &path, e))?;
        let mut file_hash = Sha256::new();
        let size = if meta.file_type().is_symlink() {
            let target =
                std::fs::read_link(&path).map_err(|e| Error::io("reading link", &path, e))?;
            file_hash.update(b"link:");
            file_hash.update(target.to_string_lossy().as_bytes());
            0
        } else {
            let mut f = File::open(&path).map_err(|e| Error::io("reading", &path, e))?;
            let mut n = 0u64;
            loop {
                let read = f
                    .read(&mut buf)
                    .map_err(|e| Error::io("reading", &path, e))?;
                if read == 0 {
                    break;
                }
                file_hash.update(&buf[..read]);
                n += read as u64;
            }
            n
        };
        bytes += size;
        total.update(rel.to_string_lossy().as_bytes());
        total.update([0]);
        total.update(size.to_le_bytes());
        total.update(file_hash.finalize());
    }
    Ok(TreeDigest {
        files: entries.len() as u64,
        bytes,
        sha256: hex::encode(total.finalize()),
    })
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let read = std::fs::read_dir(dir).map_err(|e| Error::io("listing", dir, e))?;
    for entry in read {
        let entry = entry.map_err(|e| Error::io("listing", dir, e))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| Error::io("reading", &path, e))?;
        if kind.is_dir() {
            collect(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            out.push(rel);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_trees_have_equal_digests_and_any_change_shows() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for root in [a.path(), b.path()] {
            std::fs::create_dir_all(root.join("x/y")).unwrap();
            std::fs::write(root.join("x/y/f.txt"), b"hello").unwrap();
            std::fs::write(root.join("top"), b"").unwrap();
        }
        let da = digest(a.path()).unwrap();
        assert_eq!(da, digest(b.path()).unwrap());
        assert_eq!((da.files, da.bytes), (2, 5));
        std::fs::write(b.path().join("x/y/f.txt"), b"hellO").unwrap();
        assert_ne!(da, digest(b.path()).unwrap());
        std::fs::rename(b.path().join("x/y/f.txt"), b.path().join("x/f.txt")).unwrap();
        assert_ne!(da, digest(b.path()).unwrap());
    }
}
