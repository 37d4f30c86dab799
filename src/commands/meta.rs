//! `completions SHELL` and `man`: generated from the clap definitions, so they never drift from
//! the real command line.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{Error, Result};

const BIN: &str = "setops-migrate";

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

pub fn completions_script(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut script);
    script
}

pub fn completions(shell: Shell) -> Result<()> {
    print(&completions_script(shell))
}

pub fn man_page() -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| Error::io("rendering", "the man page", e))?;
    Ok(page)
}

pub fn man() -> Result<()> {
    print(&man_page()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_shell_gets_a_script_that_knows_the_commands() {
        for shell in Shell::value_variants() {
            let script = String::from_utf8(completions_script(*shell)).unwrap();
            assert!(script.contains("setops-migrate"), "{shell}");
            assert!(
                script.contains("wizard"),
                "{shell} lacks the wizard command"
            );
            assert!(
                script.contains("backup:download"),
                "{shell} lacks backup:download"
            );
        }
    }

    #[test]
    fn the_man_page_is_roff_with_the_commands() {
        let page = String::from_utf8(man_page().unwrap()).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains(".TH setops-migrate"),
            "{}",
            &page[..200.min(page.len())]
        );
        assert!(page.contains(".TH setops-migrate"));
        assert!(page.contains("wizard"));
        assert!(page.contains("Exit codes"));
    }
}
