//! Where received bytes go: the receive loop hands them over and goes straight back to the
//! network, while one thread hashes them and another writes them (starting writeback as it goes,
//! so the final fsync is short). Chunks, whatever size the HTTP stack hands over, are gathered
//! into batches of 256 KiB, and each batch goes to both threads at once through bounded channels;
//! the chunks are shared, never copied. Memory stays flat: at most `DEPTH` batches wait for each
//! thread, so receiving waits only when a thread is that far behind, which only a disk or CPU
//! slower than the network causes. Downloads and the sandbox's upload handler both use it.

use std::fs::File;
use std::io::{self, Write};
use std::sync::Arc;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::fsio::Writeback;

/// A batch is handed over once it holds this many bytes.
const BATCH: usize = 256 * 1024;
/// Batches each thread may be behind: slack for a scheduling hiccup, and a flat MiB or two of
/// memory (measured: more buffering costs memory and saves no CPU).
const DEPTH: usize = 4;

type Batch = Arc<Vec<Bytes>>;

/// A hashing thread and a writing thread behind bounded channels.
pub(crate) struct Spool {
    /// Chunks gathered for the next batch, and their bytes.
    gathered: Vec<Bytes>,
    gathered_len: usize,
    to_hasher: mpsc::Sender<Batch>,
    to_writer: mpsc::Sender<Batch>,
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
        let (to_hasher, mut hashes) = mpsc::channel::<Batch>(DEPTH);
        let (to_writer, mut writes) = mpsc::channel::<Batch>(DEPTH);
        let hasher = tokio::task::spawn_blocking(move || {
            let mut hasher = hasher;
            while let Some(batch) = hashes.blocking_recv() {
                for chunk in batch.iter() {
                    hasher.update(chunk);
                }
            }
            hasher
        });
        let writer = tokio::task::spawn_blocking(move || {
            let mut file = file;
            let mut writeback = Writeback::from(at);
            while let Some(batch) = writes.blocking_recv() {
                for chunk in batch.iter() {
                    file.write_all(chunk)?;
                    writeback.wrote(&file, chunk.len() as u64);
                }
            }
            // What was received is on disk when the spool finishes, also when a cut connection
            // leaves a partial file to resume from.
            file.sync_data()
        });
        Spool {
            gathered: Vec::new(),
            gathered_len: 0,
            to_hasher,
            to_writer,
            hasher,
            writer,
        }
    }

    /// Takes `chunk` into the next batch, handing the batch to both threads once it is full;
    /// waits only while a thread is `DEPTH` batches behind.
    pub async fn push(&mut self, mut chunk: Bytes) -> Result<(), Stopped> {
        while !chunk.is_empty() {
            // A huge chunk is cut (without copying), so a batch stays near `BATCH` bytes.
            let piece = chunk.split_to(chunk.len().min(BATCH - self.gathered_len));
            self.gathered_len += piece.len();
            self.gathered.push(piece);
            if self.gathered_len == BATCH {
                self.hand_over().await?;
            }
        }
        Ok(())
    }

    async fn hand_over(&mut self) -> Result<(), Stopped> {
        let batch = Arc::new(std::mem::take(&mut self.gathered));
        self.gathered_len = 0;
        // The same chunks to both threads: reference-counted, not copied.
        self.to_hasher
            .send(Arc::clone(&batch))
            .await
            .map_err(|_| Stopped)?;
        self.to_writer.send(batch).await.map_err(|_| Stopped)
    }

    /// Hands over the last batch and lets both threads drain and end: every byte pushed is
    /// written and synced (or the write error is returned), and the hasher has seen every byte.
    pub async fn finish(mut self) -> io::Result<Sha256> {
        if !self.gathered.is_empty() {
            // A failed hand-over means the writer failed; its error is returned below.
            let _ = self.hand_over().await;
        }
        let Spool {
            to_hasher,
            to_writer,
            hasher,
            writer,
            ..
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
    async fn writes_and_hashes_every_byte_across_batches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let head = data(1000);
        std::fs::write(&path, &head).expect("write head");
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        let mut spool = Spool::start(file, head.len() as u64, Sha256::new().chain_update(&head));
        // Many batches: small chunks that straddle batches, empty ones, and one chunk larger
        // than a batch (cut without copying).
        let tail = Bytes::from(data(BATCH * DEPTH * 3 + 12_345));
        let (small, rest) = tail.split_at(BATCH * DEPTH * 2);
        for piece in small.chunks(300_007) {
            spool
                .push(Bytes::copy_from_slice(piece))
                .await
                .expect("push");
            spool.push(Bytes::new()).await.expect("push nothing");
        }
        spool
            .push(Bytes::copy_from_slice(rest))
            .await
            .expect("push a large chunk");
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
        let chunk = Bytes::from(vec![1u8; BATCH]);
        let mut stopped = false;
        // The writer fails on its first batch; hand-overs fail once its channel is gone.
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
