//! Yes/no questions answered with a whole line (`y`, `yes`, Enter), as `run` asks them: a
//! confirmation typed ahead with its Enter must not answer the next question too, which a
//! single-keypress confirm would. Every other kind of question is the terminal prompter's.

use std::io::{BufRead, Write};

use super::prompter::{Prompter, Validator};
use super::terminal::DialoguerPrompter;
use crate::error::{Error, Result};

#[derive(Default)]
pub struct LinePrompter {
    others: DialoguerPrompter,
}

impl Prompter for LinePrompter {
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize> {
        self.others.select(prompt, items, default)
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        defaults: &[bool],
    ) -> Result<Vec<usize>> {
        self.others.multi_select(prompt, items, defaults)
    }

    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validator<'_>,
    ) -> Result<String> {
        self.others.input(prompt, default, validate)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool> {
        eprint!("{prompt} {} ", if default { "[Y/n]" } else { "[y/N]" });
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| Error::io("reading the answer", "stdin", e))?;
        if read == 0 {
            // End of input (Ctrl-D): nobody said yes.
            return Ok(false);
        }
        Ok(match answer.trim() {
            "" => default,
            a => matches!(a.to_ascii_lowercase().as_str(), "y" | "yes"),
        })
    }
}
