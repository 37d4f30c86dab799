//! An upload's body: the file read in large blocks on a thread of its own and handed over through
//! a bounded channel, so the async threads never wait on the disk, the HTTP stack gets big chunks
//! to send, and memory stays flat whatever the file's size.

use std::io::{self, Read};

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;

/// Bytes per read: few system calls, and chunks the HTTP stack queues without copying.
const BLOCK: usize = 256 * 1024;
/// Blocks read ahead of the network: a millisecond of sending, and a flat 1 MiB of memory.
const DEPTH: usize = 4;

/// The first `len` bytes of `file` (opened, at its start) as a stream of blocks. A read error
/// ends the stream with that error; a file shorter than `len` ends it early.
pub(super) fn blocks(file: std::fs::File, len: u64) -> impl Stream<Item = io::Result<Bytes>> {
    let (tx, mut rx) = mpsc::channel(DEPTH);
    tokio::task::spawn_blocking(move || {
        let mut rest = file.take(len);
        loop {
            let mut block = Vec::with_capacity(BLOCK);
            let sent = match (&mut rest).take(BLOCK as u64).read_to_end(&mut block) {
                Ok(0) => break,
                Ok(_) => tx.blocking_send(Ok(Bytes::from(block))),
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            };
            // The request was dropped (an error or a timeout): nobody reads on.
            if sent.is_err() {
                break;
            }
        }
    });
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn streams_the_first_len_bytes_in_blocks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..(BLOCK * 2 + 777)).map(|i| (i % 253) as u8).collect();
        std::fs::write(&path, &data).expect("write");
        let file = std::fs::File::open(&path).expect("open");
        let len = (BLOCK + 5) as u64;
        let chunks: Vec<Bytes> = blocks(file, len).map(|c| c.expect("read")).collect().await;
        assert_eq!(
            chunks.iter().map(Bytes::len).collect::<Vec<_>>(),
            [BLOCK, 5]
        );
        assert_eq!(chunks.concat(), data[..len as usize]);
    }

    #[tokio::test]
    async fn a_read_error_ends_the_stream_with_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A directory opens, but reading it fails (EISDIR).
        let file = std::fs::File::open(dir.path()).expect("open dir");
        let items: Vec<io::Result<Bytes>> = blocks(file, 10).collect().await;
        assert_eq!(items.len(), 1);
        let error = items
            .into_iter()
            .next()
            .expect("one item")
            .expect_err("error");
        assert_eq!(error.raw_os_error(), Some(21), "EISDIR: {error}");
    }
}
