//! A `setops`-compatible front for the sandbox. Run under the name `setops` (a symlink
//! `setops -> setops-migrate`), this binary behaves like the SetOps CLI, talking to the sandbox
//! whose state lives in `SETOPS_SANDBOX_DIR` and printing what the Backup & Restore document
//! shows, so the `setops` CLI adapter can be tested without the real platform.
//!
//! `SETOPS_SANDBOX_CLI_VERSION` picks the generation: `1.4.1` (changesets) or `2.3.4` (stage
//! definitions, the default). Failures print `Error: ...` on stderr and exit 1; `changeset:commit`
//! and `changeset:discard` with nothing pending exit 78. Nothing ever prompts.

mod args;
mod call;
mod commands;
mod failure;
mod generation;
mod session;
mod stage;

/// Where the front finds its sandbox: the directory `--sandbox DIR` names.
pub use session::DIR_ENV as SANDBOX_DIR_ENV;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use args::{COMMANDS, Spec};
use commands::Call;
use failure::Failure;
use generation::Generation;

use crate::ui::{Output, OutputFormat};

/// The file name that makes this binary the front.
pub const PROGRAM_NAME: &str = "setops";

/// Whether argv[0] names `setops` (any directory; a symlink keeps the name it was called by).
pub fn is_invoked_as_setops(args: &[OsString]) -> bool {
    args.first()
        .and_then(|a| Path::new(a).file_name())
        .is_some_and(|name| name == PROGRAM_NAME)
}

/// Runs the front with the whole command line (argv[0] included) and returns its exit code.
pub fn main(args: Vec<OsString>) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}", failure.render());
            ExitCode::from(failure.exit)
        }
    }
}

fn run(args: Vec<OsString>) -> Result<(), Failure> {
    let args = args
        .into_iter()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|a| Failure::new(format!("argument {a:?} is not valid UTF-8")))
        })
        .collect::<Result<Vec<String>, Failure>>()?;
    let generation = Generation::from_env()?;
    let invocation = args::split(&args)?;
    let Some(word) = invocation.command.as_deref() else {
        print_usage(generation);
        return if invocation.globals.help || args.is_empty() {
            Ok(())
        } else {
            Err(Failure::new("no command given; see the list above"))
        };
    };
    let spec = find(word, generation)?;
    if invocation.globals.help {
        println!("{}", spec_usage(spec));
        return Ok(());
    }
    let parsed = args::parse(spec, &invocation.rest)?;
    let plain = invocation.globals.plain;
    let call = Call {
        generation,
        spec,
        globals: &invocation.globals,
        parsed,
        output: Output {
            format: if plain {
                OutputFormat::Plain
            } else {
                OutputFormat::Human
            },
            // Bars and spinners only where a person watches; `--output plain` never animates.
            interactive: !plain && std::io::stderr().is_terminal(),
        },
    };
    call.check_needs()?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::new(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(async {
        tokio::select! {
            result = commands::run(&call) => result,
            _ = tokio::signal::ctrl_c() => Err(Failure::new("interrupted")),
        }
    })
}

/// The command of this generation named `word`; the other generation's commands answer like
/// unknown ones, saying where they went.
fn find(word: &str, generation: Generation) -> Result<&'static Spec, Failure> {
    let unknown = format!("unknown command {word:?} for \"setops\"");
    match COMMANDS.iter().find(|c| c.name == word) {
        Some(spec) if spec.only.is_none_or(|g| g == generation) => Ok(spec),
        Some(_) if generation == Generation::V2 => Err(Failure::new(format!(
            "{unknown}: CLI {} manages a stage with stage definitions (stage:dump, stage:apply) \
             instead of changesets and the commands that queue into them",
            generation.version()
        ))),
        Some(_) => Err(Failure::new(format!(
            "{unknown}: stage definitions (stage:dump, stage:apply) need CLI 2.x; this is CLI {}, \
             which uses changesets",
            generation.version()
        ))),
        None => Err(Failure::new(format!(
            "{unknown}\nRun 'setops --help' for usage."
        ))),
    }
}

fn print_usage(generation: Generation) {
    println!(
        "setops {} (the setops-migrate sandbox's front)\n\nUsage:\n  setops [-p PROJECT] [-s STAGE] \
         [--service S] [--app A] [-o plain] COMMAND [ARGS] [FLAGS]\n\nCommands:",
        generation.version()
    );
    let width = COMMANDS.iter().map(|c| c.name.len()).max().unwrap_or(0) + 2;
    for spec in COMMANDS
        .iter()
        .filter(|c| c.only.is_none_or(|g| g == generation))
    {
        println!("  {:<width$}{}", spec.name, spec.about);
    }
}

fn spec_usage(spec: &Spec) -> String {
    let mut line = format!("Usage: setops {}", spec.name);
    for arg in spec.args {
        line.push_str(&format!(" {arg}"));
    }
    for arg in spec.optional {
        line.push_str(&format!(" [{arg}]"));
    }
    for flag in spec.flags {
        let short = flag.short.map(|s| format!("-{s}|")).unwrap_or_default();
        let value = if flag.takes_value { " VALUE" } else { "" };
        line.push_str(&format!(" [{short}--{}{value}]", flag.long));
    }
    format!("{line}\n\n{}", spec.about)
}
