//! Reading input whole, with a ceiling. Anything read into memory in one piece (a token file, a
//! plan, a journal, what a child process prints) goes through here, so a file such as
//! `/dev/zero`, a runaway log or a hostile program cannot grow the process until the kernel
//! kills it. The reader stops one byte past the limit: memory stays at most `limit + 1` bytes
//! whatever the source holds, and a source that fits is returned unchanged.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The error a source larger than its limit gives (kind [`io::ErrorKind::FileTooLarge`]); the
/// text says how large it may be, the caller says what it is and what to do.
fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!(
            "it holds more than {}, the limit for it",
            shown_limit(limit)
        ),
    )
}

/// `64 KiB`, `16 MiB`, or bytes when the limit is not a whole number of KiB.
pub fn shown_limit(limit: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = KIB * KIB;
    if limit >= MIB && limit.is_multiple_of(MIB) {
        format!("{} MiB", limit / MIB)
    } else if limit >= KIB && limit.is_multiple_of(KIB) {
        format!("{} KiB", limit / KIB)
    } else {
        format!("{limit} bytes")
    }
}

/// Whether `e` says the source was larger than its limit.
pub fn is_too_large(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::FileTooLarge
}

/// All of `reader`, or a [`is_too_large`] error once it gives more than `limit` bytes.
pub fn read_bounded_from(reader: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

/// The file at `path`, whole, or a [`is_too_large`] error. A directory is refused at once
/// (reading one fails late and obscurely on some systems).
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory, not a file",
        ));
    }
    read_bounded_from(file, limit)
}

/// [`read_bounded`] as UTF-8 text (invalid UTF-8 is an [`io::ErrorKind::InvalidData`] error).
pub fn read_text_bounded(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_bounded(path, limit)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is not UTF-8 text: {e}"),
        )
    })
}

/// [`read_bounded_from`] for async sources (a child process's pipes).
pub async fn read_bounded_async(reader: impl AsyncRead + Unpin, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .await?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_within_the_limit_is_returned_whole() {
        assert_eq!(read_bounded_from(&b"abc"[..], 3).unwrap(), b"abc");
        assert_eq!(read_bounded_from(&b""[..], 0).unwrap(), b"");
    }

    #[test]
    fn one_byte_over_is_refused_and_says_the_limit() {
        let e = read_bounded_from(&b"abcd"[..], 3).unwrap_err();
        assert!(is_too_large(&e));
        assert_eq!(
            e.to_string(),
            "it holds more than 3 bytes, the limit for it"
        );
        let e = read_bounded_from(io::repeat(0), 64 * 1024).unwrap_err();
        assert!(e.to_string().contains("64 KiB"), "{e}");
    }

    #[test]
    fn an_endless_device_is_cut_at_the_limit() {
        // /dev/zero never ends: without the ceiling this would fill memory.
        let e = read_bounded(Path::new("/dev/zero"), 1024 * 1024).unwrap_err();
        assert!(is_too_large(&e), "{e}");
        assert!(e.to_string().contains("1 MiB"), "{e}");
    }

    #[test]
    fn directories_and_bad_text_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_bounded(dir.path(), 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::IsADirectory);
        let f = dir.path().join("x");
        std::fs::write(&f, [0xff, 0xfe]).unwrap();
        let e = read_text_bounded(&f, 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[tokio::test]
    async fn async_sources_are_cut_the_same_way() {
        let ok = read_bounded_async(&b"hello"[..], 5).await.unwrap();
        assert_eq!(ok, b"hello");
        let e = read_bounded_async(tokio::io::repeat(7), 100)
            .await
            .unwrap_err();
        assert!(is_too_large(&e));
    }
}
