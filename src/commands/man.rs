//! The man page: one page that holds every command. clap_mangen's own page lists a
//! `setops-migrate-<command>(1)` page per command, which nothing installs; here each command gets
//! a subsection of this page instead, with its synopsis, its description and its own options
//! (the global ones are described once, at the top).

use clap::CommandFactory;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use crate::cli::Cli;
use crate::error::{Error, Result};

/// The macros every rendering starts with; the page needs them once.
const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

type Render = fn(&Man, &mut dyn std::io::Write) -> std::io::Result<()>;

pub fn page() -> Result<Vec<u8>> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let man = Man::new(command.clone());
    let mut page = String::from(PREAMBLE);
    for render in [
        Man::render_title as Render,
        Man::render_name_section,
        Man::render_synopsis_section,
        Man::render_description_section,
        Man::render_options_section,
    ] {
        page.push_str(&part(&man, render)?);
    }
    let mut commands = Roff::new();
    commands.control("SH", ["COMMANDS"]);
    commands.text([roman(
        "Each command also takes the options above. Run `setops-migrate COMMAND --help` for the same text.",
    )]);
    page.push_str(&commands.to_roff());
    for sub in leaves(&command) {
        page.push_str(&command_section(sub)?);
    }
    page.push_str(&part(&man, Man::render_extra_section)?);
    page.push_str(&part(&man, Man::render_version_section)?);
    Ok(page.into_bytes())
}

/// The commands that do something, in declaration order: `sandbox serve` rather than `sandbox`.
fn leaves(command: &clap::Command) -> Vec<clap::Command> {
    let mut out = Vec::new();
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.has_subcommands() {
            out.extend(leaves(sub));
        } else {
            out.push(sub.clone());
        }
    }
    out
}

/// `.SS setops-migrate backup:download`, then its synopsis, description and own arguments.
fn command_section(sub: clap::Command) -> Result<String> {
    let name = sub.get_bin_name().unwrap_or(sub.get_name()).to_owned();
    // Propagated global options and `--help` are described once, at the top of the page.
    let own = sub.mut_args(|arg| {
        if arg.is_global_set() || arg.get_id() == "help" {
            arg.hide(true)
        } else {
            arg
        }
    });
    let man = Man::new(own);
    let mut heading = Roff::new();
    heading.control("SS", [name.as_str()]);
    let mut text = heading.to_roff();
    text.push_str(&body(&part(&man, Man::render_description_section)?));
    let mut usage = Roff::new();
    usage.control("PP", []).text([bold("Usage: ")]);
    text.push_str(&usage.to_roff());
    text.push_str(&body(&part(&man, Man::render_synopsis_section)?));
    text.push_str(&body(&part(&man, Man::render_options_section)?));
    Ok(text)
}

/// One section of `man`, without the preamble.
fn part(man: &Man, render: Render) -> Result<String> {
    let mut out = Vec::new();
    render(man, &mut out).map_err(|e| Error::io("rendering", "the man page", e))?;
    let text = String::from_utf8_lossy(&out).into_owned();
    Ok(text.strip_prefix(PREAMBLE).unwrap_or(&text).to_owned())
}

/// A section's lines without its `.SH` heading (a command's parts sit under its `.SS`).
fn body(section: &str) -> String {
    section
        .lines()
        .filter(|line| !line.starts_with(".SH "))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> String {
        String::from_utf8(page().unwrap()).unwrap()
    }

    #[test]
    fn the_page_is_roff_with_every_command_in_it() {
        let page = text();
        assert!(
            page.starts_with(PREAMBLE),
            "{}",
            &page[..200.min(page.len())]
        );
        assert_eq!(page.matches(".ds Aq").count(), 2, "one preamble");
        assert!(page.contains(".TH setops-migrate"));
        assert!(page.contains("Exit codes"));
        let mut names = vec!["backup:download", "wizard", "plan:validate"];
        // The client alone (--no-default-features) has no sandbox commands.
        if cfg!(feature = "sandbox") {
            names.push("sandbox serve");
        }
        for name in names {
            assert!(
                page.contains(&format!(".SS \"setops-migrate {name}\"")),
                "no section for {name}"
            );
        }
    }

    #[test]
    fn no_page_is_named_that_is_not_generated() {
        let page = text();
        assert!(!page.contains("(1)"), "{page}");
        // A command's own options are under it; the global ones only once, at the top.
        let download = page
            .split(".SS \"setops-migrate backup:download\"")
            .nth(1)
            .and_then(|rest| rest.split(".SS ").next())
            .unwrap();
        assert!(download.contains("print\\-url"), "{download}");
        assert!(!download.contains("\\-\\-project"), "{download}");
        assert_eq!(page.matches("\\fB\\-\\-project\\fR \\fI").count(), 1);
    }
}
