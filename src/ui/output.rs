//! Where command results go: bordered tables and padded blocks for humans, bare values for
//! scripts (`plain`), one JSON document per result for machines. Commands build the value once and
//! hand it here with its JSON form; only this module decides what reaches stdout.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use super::block::Block;
use crate::table::TableBuilder;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Tables, blocks and progress bars (bars only on a terminal).
    Human,
    /// Bare values, tab-separated; for shell scripts.
    Plain,
    /// One JSON document per result (one event per line for `run`).
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub format: OutputFormat,
    /// Progress bars and spinners only where a person watches stderr.
    pub interactive: bool,
}

impl Output {
    pub fn new(format: OutputFormat) -> Self {
        Output {
            format,
            interactive: format == OutputFormat::Human && std::io::stderr().is_terminal(),
        }
    }

    pub fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    pub fn table(&self, table: &TableBuilder, json: &impl Serialize) {
        match self.format {
            OutputFormat::Human => print_out(&table.render()),
            OutputFormat::Plain => {
                if !table.is_empty() {
                    print_out(&table.render_plain())
                }
            }
            OutputFormat::Json => self.json(json),
        }
    }

    pub fn block(&self, block: &Block, json: &impl Serialize) {
        match self.format {
            OutputFormat::Human => print_out(&block.render()),
            OutputFormat::Plain => print_out(&block.render_plain()),
            OutputFormat::Json => self.json(json),
        }
    }

    /// A line for humans and scripts; JSON output carries the same fact in its document instead.
    pub fn line(&self, text: &str) {
        if self.format != OutputFormat::Json {
            print_out(text);
        }
    }

    /// A line for humans only (headings, blank separators, hints).
    pub fn human(&self, text: &str) {
        if self.format == OutputFormat::Human {
            print_out(text);
        }
    }

    pub fn json(&self, value: &impl Serialize) {
        match serde_json::to_string(value) {
            Ok(text) => print_out(&text),
            // Our own types always serialize; say so rather than print nothing.
            Err(e) => eprintln!("error: could not encode the result as JSON: {e}"),
        }
    }

    /// A hint for a person on stderr (what to do next), so stdout holds exactly the documented
    /// output; human mode only.
    pub fn hint(&self, text: &str) {
        if self.format == OutputFormat::Human {
            eprintln!("{text}");
        }
    }

    /// Progress notes on stderr (never stdout, so pipes stay clean); not in JSON mode.
    pub fn note(&self, text: &str) {
        if self.format != OutputFormat::Json {
            eprintln!("{text}");
        }
    }
}

fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = writeln!(out, "{text}");
}
