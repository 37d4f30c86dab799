//! Writeback while a large file is being written: every few MiB the kernel is asked to start
//! writing the new bytes to disk, so the fsync that makes the file durable at the end finds
//! little left to do instead of a whole file's worth of dirty pages.

use std::fs::File;

/// Bytes written between two writeback requests: large enough that the calls cost nothing next to
/// the writes, small enough that the disk starts early.
const WINDOW: u64 = 8 * 1024 * 1024;

/// Tracks what was written since the last writeback request. Writeback is only a head start for
/// the final fsync, so a file system that refuses it is not an error: requests stop, and the
/// fsync does all the work as before.
#[derive(Debug)]
pub struct Writeback {
    /// Where the bytes not yet handed to writeback begin.
    pending_from: u64,
    /// The end of what was written.
    end: u64,
    refused: bool,
}

impl Writeback {
    /// For a file whose new bytes start at `offset` (0, or the length of a resumed partial file).
    pub fn from(offset: u64) -> Self {
        Writeback {
            pending_from: offset,
            end: offset,
            refused: false,
        }
    }

    /// `len` more bytes were appended to `file`; starts writeback once a window is full.
    pub fn wrote(&mut self, file: &File, len: u64) {
        self.end += len;
        if self.refused || self.end - self.pending_from < WINDOW {
            return;
        }
        if start(file, self.pending_from, self.end - self.pending_from).is_err() {
            self.refused = true;
        }
        self.pending_from = self.end;
    }

    /// Bytes written and not yet handed to writeback.
    #[cfg(test)]
    fn pending(&self) -> u64 {
        self.end - self.pending_from
    }
}

/// Starts writeback of `len` bytes from `offset` without waiting for it (Linux).
#[cfg(target_os = "linux")]
fn start(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    use nix::libc;
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (
        libc::off64_t::try_from(offset),
        libc::off64_t::try_from(len),
    ) else {
        return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
    };
    // SAFETY: sync_file_range takes integers only and touches no memory of ours; the descriptor
    // belongs to `file`, which is borrowed for the duration of the call.
    let rc = unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere there is no call that only starts writeback; fdatasync writes the window and waits.
#[cfg(not(target_os = "linux"))]
fn start(file: &File, _offset: u64, _len: u64) -> std::io::Result<()> {
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn writeback_is_requested_once_a_window_is_full_and_keeps_the_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let mut file = File::create(&path).expect("create");
        let mut writeback = Writeback::from(0);
        let block = vec![7u8; 3 * 1024 * 1024];
        let mut pending = Vec::new();
        for _ in 0..4 {
            file.write_all(&block).expect("write");
            writeback.wrote(&file, block.len() as u64);
            pending.push(writeback.pending() / (1024 * 1024));
        }
        // 3 and 6 MiB wait; at 9 MiB all of it is handed over; 3 MiB wait again.
        assert_eq!(pending, [3, 6, 0, 3]);
        assert!(!writeback.refused, "a regular file takes writeback");
        assert_eq!(
            std::fs::metadata(&path).expect("meta").len(),
            12 * 1024 * 1024
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_refused_request_stops_further_ones_without_failing() {
        // A character device: the kernel refuses writeback on it (ESPIPE).
        let not_a_file = File::open("/dev/null").expect("open /dev/null");
        let mut writeback = Writeback::from(5);
        writeback.wrote(&not_a_file, WINDOW);
        assert!(writeback.refused);
        // Later windows are not requested at all.
        writeback.wrote(&not_a_file, WINDOW);
        assert_eq!(writeback.pending(), WINDOW);
    }
}
