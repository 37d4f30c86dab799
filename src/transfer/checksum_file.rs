//! `FILE.sha256`: the checksum `backup:download` leaves beside a verified download, so that
//! `backup:upload FILE` sends the file without reading it twice. It is in the `sha256sum` format
//! (`sha256sum -c FILE.sha256` checks it) with a comment line recording the file's size and
//! modification time; the checksum is used only while both still match, so an edited, replaced
//! or truncated file is hashed again, never sent under a stale checksum.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::files::with_suffix;
use crate::error::{Error, Result};

/// The size and modification time (nanoseconds since the epoch) the checksum was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            size: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        }
    }
}

/// Where the checksum of `file` lives.
pub fn path_for(file: &Path) -> PathBuf {
    with_suffix(file, ".sha256")
}

fn name_of(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn render(name: &str, sha256: &str, stamp: Stamp) -> String {
    format!(
        "# setops-migrate: size {} mtime_ns {}; trusted only while the file has both\n\
         {sha256}  {name}\n",
        stamp.size, stamp.mtime_ns
    )
}

/// The checksum in `text` when it was made for a file named `name` with `stamp`.
fn parse(text: &str, name: &str, stamp: Stamp) -> Option<String> {
    let mut recorded = None;
    let mut sha = None;
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix('#') {
            recorded = recorded.or_else(|| parse_stamp(comment));
        } else if let Some((hash, file)) = line.split_once("  ") {
            // `sha256sum` marks binary mode with a `*` before the name.
            let file = file.strip_prefix('*').unwrap_or(file);
            let valid = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
            if valid && file == name && sha.is_none() {
                sha = Some(hash.to_ascii_lowercase());
            }
        }
    }
    (recorded == Some(stamp)).then_some(sha).flatten()
}

fn parse_stamp(comment: &str) -> Option<Stamp> {
    let words: Vec<&str> = comment
        .split(|c: char| c.is_whitespace() || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    let value = |key: &str| {
        words
            .windows(2)
            .find(|pair| pair[0] == key)
            .map(|pair| pair[1])
    };
    Some(Stamp {
        size: value("size")?.parse().ok()?,
        mtime_ns: value("mtime_ns")?.parse().ok()?,
    })
}

/// Records `sha256` as the checksum of `file` as it is now (0600, replaced atomically).
pub async fn record(file: &Path, sha256: &str) -> Result<()> {
    let meta = tokio::fs::metadata(file)
        .await
        .map_err(|e| Error::io("reading", file, e))?;
    let text = render(&name_of(file), sha256, Stamp::of(&meta));
    super::files::write_private(&path_for(file), text.as_bytes()).await
}

/// The size and recorded checksum of `file` when its size and modification time are still the
/// recorded ones; `None` when there is none, it is unreadable, or it is stale.
pub async fn recorded(file: &Path) -> Option<(u64, String)> {
    let meta = tokio::fs::metadata(file).await.ok()?;
    let text = tokio::fs::read_to_string(path_for(file)).await.ok()?;
    let sha = parse(&text, &name_of(file), Stamp::of(&meta))?;
    Some((meta.len(), sha))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    const SHA: &str = "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4";

    #[test]
    fn the_text_round_trips_only_for_the_same_name_size_and_time() {
        let stamp = Stamp {
            size: 3,
            mtime_ns: 1_700_000_000_123_456_789,
        };
        let text = render("f.tar.gz", SHA, stamp);
        assert_eq!(parse(&text, "f.tar.gz", stamp).as_deref(), Some(SHA));
        assert_eq!(parse(&text, "g.tar.gz", stamp), None);
        assert_eq!(parse(&text, "f.tar.gz", Stamp { size: 4, ..stamp }), None);
        let touched = Stamp {
            mtime_ns: stamp.mtime_ns + 1,
            ..stamp
        };
        assert_eq!(parse(&text, "f.tar.gz", touched), None);
        // A plain sha256sum line without the stamp is not trusted.
        assert_eq!(
            parse(&format!("{SHA}  f.tar.gz\n"), "f.tar.gz", stamp),
            None
        );
        assert_eq!(parse("# size 3 mtime_ns x\n", "f.tar.gz", stamp), None);
        // Binary-mode marker and upper case are sha256sum's too.
        let binary = format!(
            "# size 3 mtime_ns {}\n{}  *f.tar.gz\n",
            stamp.mtime_ns,
            SHA.to_uppercase()
        );
        assert_eq!(parse(&binary, "f.tar.gz", stamp).as_deref(), Some(SHA));
    }

    #[tokio::test]
    async fn a_recorded_checksum_is_private_checkable_and_dropped_when_the_file_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, b"hi\n").expect("write");
        assert_eq!(recorded(&file).await, None);
        record(&file, SHA).await.expect("record");
        let side = path_for(&file);
        assert_eq!(
            std::fs::metadata(&side).expect("meta").permissions().mode() & 0o777,
            0o600
        );
        let text = std::fs::read_to_string(&side).expect("read");
        assert!(text.ends_with(&format!("{SHA}  f\n")), "{text}");
        assert_eq!(recorded(&file).await, Some((3, SHA.to_owned())));

        // Same size, new content and time: stale.
        let earlier = std::fs::metadata(&file)
            .expect("meta")
            .modified()
            .expect("mtime");
        std::fs::write(&file, b"ho\n").expect("rewrite");
        let f = std::fs::File::options()
            .write(true)
            .open(&file)
            .expect("open");
        f.set_modified(earlier + std::time::Duration::from_millis(1))
            .expect("set mtime");
        assert_eq!(recorded(&file).await, None);
    }
}
