//! `completions SHELL` and `man`: generated from the clap definitions, so they never drift from
//! the real command line.

use std::io::Write;

use clap_complete::Shell;

use super::{completions as scripts, man as page};
use crate::error::{Error, Result};

/// Rendered into memory first: the generators panic on a failed write, and a closed pipe
/// (`| head`) is not worth a panic.
fn print(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("writing to", "stdout", e))
        }
        _ => Ok(()),
    }
}

pub fn completions(shell: Shell) -> Result<()> {
    print(&scripts::script(shell))
}

pub fn man() -> Result<()> {
    print(&page::page()?)
}
