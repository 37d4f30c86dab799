//! Exclusive file locks that tell a real second holder from this process's own shadow: a child
//! forked by another thread keeps a copy of a lock's descriptor until its `exec` closes it, so a
//! lock this process just released may still look held for a moment.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom};
use std::time::{Duration, Instant};

/// `try_lock`, retried for up to two seconds while `held_by_us` says the holder the file records
/// is this very process. Another process's lock is refused at once.
pub fn try_lock_patiently(
    file: &File,
    held_by_us: impl Fn(&str) -> bool,
) -> Result<(), TryLockError> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match file.try_lock() {
            Err(TryLockError::WouldBlock)
                if Instant::now() < deadline && held_by_us(&holder(file)) =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// The holder's record at the start of the lock file (a line; at most 4 KiB are read).
fn holder(mut file: &File) -> String {
    let mut text = String::new();
    if file.seek(SeekFrom::Start(0)).is_ok() {
        let _ = file.take(4096).read_to_string(&mut text);
    }
    text
}
