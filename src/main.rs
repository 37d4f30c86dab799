//! Parse arguments, run, turn the one error into text and an exit code. Nothing else.

use std::process::ExitCode;

use clap::Parser;
use setops_migrate::cli::Cli;
use setops_migrate::error::{Error, exit};
use setops_migrate::redact::redact;

fn main() -> ExitCode {
    // Called as `setops` (a symlink), the binary is the sandbox's `setops`-compatible front.
    #[cfg(feature = "sandbox")]
    {
        use setops_migrate::sandbox::cli_front;
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        if cli_front::is_invoked_as_setops(&args) {
            return cli_front::main(args);
        }
    }
    let cli = Cli::parse();
    setops_migrate::ui::events::respect_no_color();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(exit::STEP_FAILED as u8);
        }
    };
    // Each command decides what Ctrl-C means for it (commands::run).
    let result = runtime.block_on(setops_migrate::commands::run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&error);
            ExitCode::from(error.exit_code() as u8)
        }
    }
}

fn report(error: &Error) {
    // Its log line said it a moment ago; only the way on is new.
    if !matches!(error, Error::Logged(_)) {
        let prefix = console::style("error:").red().bold().for_stderr();
        eprintln!("{prefix} {}", redact(&error.to_string()));
    }
    if let Some(hint) = error.hint() {
        eprintln!("{hint}");
    }
}
