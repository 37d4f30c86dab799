//! What makes a partial download resumable: the sidecar file that ties `<dest>.partial` to one
//! backup's size, checksum and ETag, and the `Content-Range` of a 206 answer.

use std::path::Path;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::files;
use crate::api::DownloadTicket;
use crate::error::{Error, Result};

/// `<dest>.partial.json`: which bytes the partial file holds. No URL, no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Sidecar {
    pub backup_id: Uuid,
    pub size: u64,
    #[serde(default)]
    pub sha256: Option<String>,
    /// The ETag of the response the partial came from; resumes are pinned to it with If-Range.
    #[serde(default)]
    pub etag: Option<String>,
}

impl Sidecar {
    pub fn for_ticket(ticket: &DownloadTicket, etag: Option<String>) -> Self {
        Sidecar {
            backup_id: ticket.backup.id,
            size: ticket.size,
            sha256: ticket.sha256.as_deref().map(str::to_ascii_lowercase),
            etag,
        }
    }

    /// The partial holds bytes of the very file this ticket is for.
    pub fn matches(&self, ticket: &DownloadTicket) -> bool {
        self.backup_id == ticket.backup.id
            && self.size == ticket.size
            && match (&self.sha256, &ticket.sha256) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (None, None) => true,
                _ => false,
            }
    }

    /// A missing, unreadable or foreign sidecar only means "do not resume".
    pub async fn load(path: &Path) -> Option<Sidecar> {
        let bytes = tokio::fs::read(path).await.ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub async fn save(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::encoding("a download's resume record", e))?;
        files::write_private(path, &bytes).await
    }
}

/// A satisfied `Content-Range: bytes <start>-<end>/<total>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ContentRange {
    pub start: u64,
    pub end: u64,
    pub total: u64,
}

/// Parses a satisfied byte range with a known total; anything else (`*/total`, `/*`, other
/// units, end before start, end past the total) is `None`.
pub(super) fn parse_content_range(value: &str) -> Option<ContentRange> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (span, total) = rest.split_once('/')?;
    let (start, end) = span.trim().split_once('-')?;
    let range = ContentRange {
        start: start.trim().parse().ok()?,
        end: end.trim().parse().ok()?,
        total: total.trim().parse().ok()?,
    };
    (range.start <= range.end && range.end < range.total).then_some(range)
}

/// The `Range` header that asks for everything from byte `from` on.
pub(super) fn range_from(from: u64) -> String {
    format!("bytes={from}-")
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::model::{Backup, BackupOrigin, BackupStatus};

    fn ticket(id: Uuid, size: u64, sha: &str) -> DownloadTicket {
        DownloadTicket {
            backup: Backup {
                id,
                service: "files".into(),
                status: BackupStatus::Created,
                created_at: Utc::now(),
                size: Some(size),
                sha256: Some(sha.into()),
                shown_size: None,
                origin: BackupOrigin::Manual,
                last_restore: None,
                restore_count: 0,
            },
            url: "http://h/transfer/t".into(),
            expires_at: Some(Utc::now()),
            filename: format!("{id}.tar.gz"),
            size,
            sha256: Some(sha.into()),
        }
    }

    #[test]
    fn content_ranges_parse_only_when_satisfied_and_consistent() {
        assert_eq!(
            parse_content_range("bytes 100-199/200"),
            Some(ContentRange {
                start: 100,
                end: 199,
                total: 200
            })
        );
        assert_eq!(
            parse_content_range(" bytes  0-0/1 "),
            Some(ContentRange {
                start: 0,
                end: 0,
                total: 1
            })
        );
        for bad in [
            "bytes */200",
            "bytes 0-9/*",
            "items 0-9/10",
            "bytes 9-0/10",
            "bytes 0-10/10",
            "bytes 0-9",
            "bytes a-9/10",
            "",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
        assert_eq!(range_from(1024), "bytes=1024-");
    }

    #[test]
    fn sidecars_match_only_the_same_backup_size_and_checksum() {
        let id = Uuid::new_v4();
        let sha = "ab".repeat(32);
        let t = ticket(id, 10, &sha);
        let side = Sidecar::for_ticket(&t, Some("\"e1\"".into()));
        assert!(side.matches(&t));
        assert!(side.matches(&ticket(id, 10, &sha.to_uppercase())));
        assert!(!side.matches(&ticket(Uuid::new_v4(), 10, &sha)));
        assert!(!side.matches(&ticket(id, 11, &sha)));
        assert!(!side.matches(&ticket(id, 10, &"cd".repeat(32))));
    }

    #[tokio::test]
    async fn sidecars_round_trip_and_garbage_reads_as_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.partial.json");
        assert_eq!(Sidecar::load(&path).await, None);
        let t = ticket(Uuid::new_v4(), 10, &"ab".repeat(32));
        let side = Sidecar::for_ticket(&t, Some("\"e1\"".into()));
        side.save(&path).await.expect("save");
        assert_eq!(Sidecar::load(&path).await, Some(side));
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains("transfer"), "{text}");
        std::fs::write(&path, b"not json").expect("write");
        assert_eq!(Sidecar::load(&path).await, None);
    }
}
