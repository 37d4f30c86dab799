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
        let (size, file_hash) = hash_entry(&path, &mut buf)?;
        bytes += size;
        total.update(rel.to_string_lossy().as_bytes());
        total.update([0]);
        total.update(size.to_le_bytes());
        total.update(file_hash);
    }
    Ok(TreeDigest {
        files: entries.len() as u64,
        bytes,
        sha256: hex::encode(total.finalize()),
    })
}

/// One entry's size and SHA-256: a file's bytes, a symlink's target text.
fn hash_entry(path: &Path, buf: &mut [u8]) -> Result<(u64, [u8; 32])> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io("reading", path, e))?;
    let mut hash = Sha256::new();
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path).map_err(|e| Error::io("reading link", path, e))?;
        hash.update(b"link:");
        hash.update(target.to_string_lossy().as_bytes());
        return Ok((0, hash.finalize().into()));
    }
    let mut f = File::open(path).map_err(|e| Error::io("reading", path, e))?;
    let mut size = 0u64;
    loop {
        let read = f.read(buf).map_err(|e| Error::io("reading", path, e))?;
        if read == 0 {
            break;
        }
        hash.update(&buf[..read]);
        size += read as u64;
    }
    Ok((size, hash.finalize().into()))
}

/// How much of one tree another holds, path by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Containment {
    /// Entries of the source, and how many of them the target holds with the same bytes.
    pub files: u64,
    pub held: u64,
    /// The first source entries the target lacks or holds differently (at most ten).
    pub missing: Vec<PathBuf>,
    /// Target entries the source does not have (written to the target since).
    pub extra: u64,
}

/// Whether `target` holds every entry of `source` with the same bytes (blocking). Memory grows
/// with the number of entries, never with their size.
pub fn contained(source: &Path, target: &Path) -> Result<Containment> {
    let mut entries = Vec::new();
    collect(source, source, &mut entries)?;
    entries.sort();
    let mut target_entries = Vec::new();
    collect(target, target, &mut target_entries)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut held = 0;
    let mut missing = Vec::new();
    for rel in &entries {
        let there = target.join(rel);
        let same = std::fs::symlink_metadata(&there).is_ok()
            && hash_entry(&source.join(rel), &mut buf)? == hash_entry(&there, &mut buf)?;
        if same {
            held += 1;
        } else if missing.len() < 10 {
            missing.push(rel.clone());
        }
    }
    let extra = target_entries
        .iter()
        .filter(|rel| entries.binary_search(rel).is_err())
        .count() as u64;
    Ok(Containment {
        files: entries.len() as u64,
        held,
        missing,
        extra,
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

    #[test]
    fn containment_counts_held_missing_and_extra_entries() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for root in [a.path(), b.path()] {
            std::fs::create_dir_all(root.join("x")).unwrap();
            std::fs::write(root.join("x/same"), b"1").unwrap();
            std::fs::write(root.join("changed"), b"2").unwrap();
        }
        std::fs::write(b.path().join("changed"), b"3").unwrap();
        std::fs::write(a.path().join("gone"), b"4").unwrap();
        std::fs::write(b.path().join("new"), b"5").unwrap();
        let c = contained(a.path(), b.path()).unwrap();
        assert_eq!((c.files, c.held, c.extra), (3, 1, 1));
        assert_eq!(c.missing, [PathBuf::from("changed"), PathBuf::from("gone")]);
    }
}
