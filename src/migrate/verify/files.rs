//! Volumes and buckets: both sides as directories on this machine, compared by tree digest
//! (file count, bytes, and one SHA-256 over every path and content; src/tree.rs).

use std::path::PathBuf;

use crate::error::Error;

use super::{Measured, Reach};
use crate::tree::{self, TreeDigest};

use super::Fingerprint;
use crate::verdict::{Cell, Difference, MatchSummary};

impl Fingerprint for TreeDigest {
    fn differences(source: &Self, target: &Self) -> Vec<Difference> {
        let mut out = Vec::new();
        if source.files != target.files {
            out.push(Difference::new(
                "files",
                Cell::Number(source.files),
                Cell::Number(target.files),
            ));
        }
        if source.bytes != target.bytes {
            out.push(Difference::new(
                "bytes",
                Cell::Number(source.bytes),
                Cell::Number(target.bytes),
            ));
        }
        if source.sha256 != target.sha256 {
            out.push(Difference::new(
                "tree SHA-256 (paths and contents)",
                Cell::Digest(source.sha256.clone()),
                Cell::Digest(target.sha256.clone()),
            ));
        }
        out
    }

    fn summary(&self) -> MatchSummary {
        MatchSummary::Files {
            files: self.files,
            bytes: self.bytes,
        }
    }
}

/// The digest of the directory behind a `file:///…` connection. `Reach::Unreachable` when the
/// directory is not on this machine; other read failures are errors.
pub async fn measure(url: &str, label: &str) -> Measured<TreeDigest> {
    let dir = match local_directory(url, label) {
        Reach::Reached(dir) => dir,
        Reach::Unreachable(reason) => return Ok(Reach::Unreachable(reason)),
    };
    let shown = dir.clone();
    tokio::task::spawn_blocking(move || tree::digest(&dir))
        .await
        .map_err(|e| {
            Error::task_stopped(
                format!("hashing the {label}'s files in {}", shown.display()),
                e,
            )
        })?
        .map(Reach::Reached)
}

/// The directory behind a `file:///…` connection, or why it is not one on this machine.
pub(super) fn local_directory(url: &str, label: &str) -> Reach<PathBuf> {
    match directory(url) {
        Ok(dir) if dir.is_dir() => Reach::Reached(dir),
        Ok(dir) => Reach::Unreachable(format!(
            "the {label}'s directory {} is not on this machine",
            dir.display()
        )),
        Err(reason) => Reach::Unreachable(reason),
    }
}

fn directory(url: &str) -> std::result::Result<PathBuf, String> {
    let parsed = url::Url::parse(url)
        .map_err(|e| format!("the platform's directory connection is not a URL ({e})"))?;
    if parsed.scheme() != "file" {
        return Err(format!(
            "the platform's directory connection uses {:?}, not file://",
            parsed.scheme()
        ));
    }
    parsed
        .to_file_path()
        .map_err(|()| "the platform's directory connection is not a local path".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_of(dir: &std::path::Path) -> String {
        url::Url::from_directory_path(dir)
            .expect("absolute")
            .to_string()
    }

    fn fill(root: &std::path::Path) {
        std::fs::create_dir_all(root.join("img/2024")).unwrap();
        std::fs::write(root.join("img/2024/a.png"), vec![7u8; 3000]).unwrap();
        std::fs::write(root.join("readme.txt"), b"hello").unwrap();
    }

    #[tokio::test]
    async fn equal_directories_match_and_are_summarised() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        fill(a.path());
        fill(b.path());
        let source = measure(&url_of(a.path()), "source")
            .await
            .unwrap()
            .reached();
        let target = measure(&url_of(b.path()), "target")
            .await
            .unwrap()
            .reached();
        assert!(TreeDigest::differences(&source, &target).is_empty());
        assert_eq!(
            crate::verdict::words::summary_text(&source.summary()),
            "2 files, 3.0 kB"
        );
    }

    #[tokio::test]
    async fn a_missing_file_and_a_changed_byte_are_both_reported() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        fill(a.path());
        fill(b.path());
        std::fs::remove_file(b.path().join("readme.txt")).unwrap();
        let source = measure(&url_of(a.path()), "source")
            .await
            .unwrap()
            .reached();
        let target = measure(&url_of(b.path()), "target")
            .await
            .unwrap()
            .reached();
        let diffs = TreeDigest::differences(&source, &target);
        let shown = crate::verdict::words::rows(&diffs);
        assert_eq!(shown[0], ["files", "2", "1"]);
        assert_eq!(shown[1], ["bytes", "3,005", "3,000"]);
        assert_eq!(diffs[2].what, "tree SHA-256 (paths and contents)");

        // Same count and size, one byte changed: only the digest tells.
        fill(b.path());
        std::fs::write(b.path().join("readme.txt"), b"hellO").unwrap();
        let target = measure(&url_of(b.path()), "target")
            .await
            .unwrap()
            .reached();
        let diffs = TreeDigest::differences(&source, &target);
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert_eq!(diffs[0].what, "tree SHA-256 (paths and contents)");
    }

    #[tokio::test]
    async fn a_directory_elsewhere_or_a_foreign_url_is_unreachable_not_an_error() {
        let gone = tempfile::tempdir().unwrap().path().join("nope");
        let reason = measure(&format!("file://{}/", gone.display()), "target")
            .await
            .unwrap()
            .unreachable();
        assert!(reason.contains("not on this machine"), "{reason}");
        let reason = measure("s3://bucket/prefix", "source")
            .await
            .unwrap()
            .unreachable();
        assert!(reason.contains("not file://"), "{reason}");
    }
}
