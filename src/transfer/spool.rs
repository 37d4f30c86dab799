//! Where received bytes go: the receive loop hands each chunk over and goes straight back to the
//! network, while one thread hashes and another writes (starting writeback as it goes, so the
//! final fsync is short). Each thread is fed through its own bounded channel, so memory stays
//! flat: receiving waits only when a thread is a whole buffer behind, which only a disk or CPU
//! slower than the network causes. Downloads and the sandbox's upload handler both use it.

use std::fs::File;
use std::io::{self, Write};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::fsio::Writeback;

/// Chunks larger than this are split, so `DEPTH` chunks bound the memory in flight whatever
/// size the HTTP stack hands over.
const MAX_CHUNK: usize = 1024 * 1024;
/// Chunks each thread may be behind: enough to ride out a scheduling hiccup on a busy machine.
const DEPTH: usize = 16;

/// A hashing thread and a writing thread behind bounded channels.
pub(crate) struct Spool {
    to_hasher: mpsc::Sender<Bytes>,
    to_writer: mpsc::Sender<Bytes>,
    hasher: JoinHandle<Sha256>,
    writer: JoinHandle<io::Result<()>>,
}

/// A thread of the spool ended early (the writer failed); [`Spool::finish`] says why.
#[derive(Debug)]
pub(crate) struct Stopped;

impl Spool {
    /// Appends to `file`, which is positioned at its end and already holds `at` bytes, and
    /// continues `hasher`, which has seen those bytes.
    pub fn start(file: File, at: u64, hasher: Sha256) -> Spool {
        let (to_hasher, mut hashes) = mpsc::channel::<Bytes>(DEPTH);
        let (to_writer, mut writes) = mpsc::channel::<Bytes>(DEPTH);
        let hasher = tokio::task::spawn_blocking(move || {
            let mut hasher = hasher;
            while let Some(chunk) = hashes.blocking_recv() {
                hasher.update(&chunk);
            }
            hasher
        });
        let writer = tokio::task::spawn_blocking(move || {
            let mut file = file;
            let mut writeback = Writeback::from(at);
            while let Some(chunk) = writes.blocking_recv() {
                file.write_all(&chunk)?;
                writeback.wrote(&file, chunk.len() as u64);
            }
            // What was received is on disk when the spool finishes, also when a cut connection
            // leaves a partial file to resume from.
            file.sync_data()
        });
        Spool {
            to_hasher,
            to_writer,
            hasher,
            writer,
        }
    }

    /// Hands `chunk` to both threads; waits only while one of them is a whole buffer behind.
    pub async fn push(&mut self, mut chunk: Bytes) -> Result<(), Stopped> {
        while !chunk.is_empty() {
            let piece = chunk.split_to(chunk.len().min(MAX_CHUNK));
            // The same bytes, shared: the threads get reference-counted views, not copies.
            self.to_hasher
                .send(piece.clone())
                .await
                .map_err(|_| Stopped)?;
            self.to_writer.send(piece).await.map_err(|_| Stopped)?;
        }
        Ok(())
    }

    /// Lets both threads drain their channels and end: every byte pushed is written and synced
    /// (or the write error is returned), and the hasher has seen every byte.
    pub async fn finish(self) -> io::Result<Sha256> {
        let Spool {
            to_hasher,
            to_writer,
            hasher,
            writer,
        } = self;
        drop((to_hasher, to_writer));
        let written = writer.await.map_err(io::Error::other)?;
        let hasher = hasher.await.map_err(io::Error::other)?;
        written.map(|()| hasher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[tokio::test]
    async fn writes_and_hashes_every_byte_across_split_chunks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let head = data(1000);
        std::fs::write(&path, &head).expect("write head");
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        let mut spool = Spool::start(file, head.len() as u64, Sha256::new().chain_update(&head));
        // One chunk larger than MAX_CHUNK (split), small ones, an empty one.
        let tail = data(MAX_CHUNK * 2 + 12_345);
        spool
            .push(Bytes::copy_from_slice(&tail[..MAX_CHUNK * 2 + 10]))
            .await
            .expect("push");
        spool.push(Bytes::new()).await.expect("push empty");
        spool
            .push(Bytes::copy_from_slice(&tail[MAX_CHUNK * 2 + 10..]))
            .await
            .expect("push");
        let hasher = spool.finish().await.expect("finish");
        let mut whole = head.clone();
        whole.extend_from_slice(&tail);
        assert_eq!(std::fs::read(&path).expect("read"), whole);
        assert_eq!(
            hex::encode(hasher.finalize()),
            hex::encode(Sha256::digest(&whole))
        );
    }

    #[tokio::test]
    async fn a_failing_writer_stops_the_spool_and_finish_names_the_error() {
        // A read-only handle: every write fails.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"").expect("create");
        let file = std::fs::File::open(&path).expect("open read-only");
        let mut spool = Spool::start(file, 0, Sha256::new());
        let chunk = Bytes::from(vec![1u8; 64 * 1024]);
        let mut stopped = false;
        // The writer fails on its first chunk; pushes fail once its channel is gone.
        for _ in 0..(DEPTH * 4) {
            if spool.push(chunk.clone()).await.is_err() {
                stopped = true;
                break;
            }
        }
        assert!(stopped, "pushes must fail once the writer is gone");
        let error = spool.finish().await.expect_err("write error");
        assert_eq!(error.raw_os_error(), Some(9), "EBADF: {error}");
    }
}
