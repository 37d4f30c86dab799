//! The wizard's questions on a terminal (stderr), with dialoguer's look. Text input is read by a
//! small line editor of our own because dialoguer's ignores Esc, and Esc must cancel like Ctrl-C.

use console::{Key, Term};
use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use dialoguer::{Confirm, MultiSelect, Select};

use super::prompter::{Prompter, Validator, resolve_input};
use crate::error::{Error, Result};

pub struct DialoguerPrompter {
    term: Term,
    theme: Box<dyn Theme>,
}

impl Default for DialoguerPrompter {
    fn default() -> Self {
        Self::new()
    }
}

impl DialoguerPrompter {
    /// Prompts on stderr, so stdout stays clean for the summary; colourless under NO_COLOR.
    pub fn new() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let theme: Box<dyn Theme> = if no_color {
            Box::new(SimpleTheme)
        } else {
            Box::new(ColorfulTheme::default())
        };
        DialoguerPrompter {
            term: Term::stderr(),
            theme,
        }
    }

    /// Ctrl-C inside dialoguer arrives as an `Interrupted` read; the prompt had hidden the cursor.
    fn fail(&self, error: dialoguer::Error) -> Error {
        let dialoguer::Error::IO(io) = error;
        self.interrupted_or(io)
    }

    fn interrupted_or(&self, io: std::io::Error) -> Error {
        if io.kind() == std::io::ErrorKind::Interrupted {
            self.cancelled()
        } else {
            Error::io("reading an answer from", "the terminal", io)
        }
    }

    fn cancelled(&self) -> Error {
        let _ = self.term.show_cursor();
        let _ = self.term.write_line("");
        Error::Interrupted
    }

    fn formatted(&self, render: impl FnOnce(&mut String) -> std::fmt::Result) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = render(&mut text);
        text
    }

    /// Reads one line after `head`; `None` when the user cancelled with Esc or Ctrl-C. Edits are
    /// written in place (never a redraw of `head`), so a prompt wider than the terminal wraps
    /// once instead of being repeated; [`Self::clear_answer`] removes all its rows.
    fn read_line(&self, head: &str) -> std::io::Result<(Option<String>, usize)> {
        let mut chars: Vec<char> = Vec::new();
        let mut pos = 0;
        self.term.write_str(head)?;
        self.term.flush()?;
        loop {
            // Raw: Ctrl-C arrives as a key instead of a signal.
            let key = self.term.read_key_raw()?;
            match key {
                Key::Enter => return Ok((Some(chars.into_iter().collect()), pos)),
                Key::Escape | Key::CtrlC => return Ok((None, pos)),
                Key::Backspace if pos > 0 => {
                    pos -= 1;
                    chars.remove(pos);
                    self.term.move_cursor_left(1)?;
                    self.rewrite_tail(&chars[pos..], 1)?;
                }
                Key::Del if pos < chars.len() => {
                    chars.remove(pos);
                    self.rewrite_tail(&chars[pos..], 1)?;
                }
                Key::ArrowLeft if pos > 0 => {
                    pos -= 1;
                    self.term.move_cursor_left(1)?;
                }
                Key::ArrowRight if pos < chars.len() => {
                    pos += 1;
                    self.term.move_cursor_right(1)?;
                }
                Key::Char(c) if !c.is_control() => {
                    chars.insert(pos, c);
                    pos += 1;
                    self.term.write_str(&c.to_string())?;
                    self.rewrite_tail(&chars[pos..], 0)?;
                }
                _ => continue,
            }
            self.term.flush()?;
        }
    }

    /// Writes `tail` from the cursor, blanks `erased` cells after it, and returns the cursor.
    fn rewrite_tail(&self, tail: &[char], erased: usize) -> std::io::Result<()> {
        if tail.is_empty() && erased == 0 {
            return Ok(());
        }
        let text: String = tail.iter().collect();
        self.term.write_str(&text)?;
        self.term.write_str(&" ".repeat(erased))?;
        self.term.move_cursor_left(tail.len() + erased)
    }

    /// Clears the rows a prompt and its answer occupy, with the cursor `cursor` cells into it.
    fn clear_answer(&self, cursor: usize) -> std::io::Result<()> {
        let columns = usize::from(self.term.size().1).max(1);
        // A cursor just past the last column waits on that row until the next character.
        let row = if cursor > 0 && cursor.is_multiple_of(columns) {
            cursor / columns - 1
        } else {
            cursor / columns
        };
        self.term.move_cursor_up(row)?;
        self.term.write_str("\r")?;
        self.term.clear_to_end_of_screen()
    }
}

impl Prompter for DialoguerPrompter {
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize> {
        Select::with_theme(self.theme.as_ref())
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact_on_opt(&self.term)
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| self.cancelled())
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        defaults: &[bool],
    ) -> Result<Vec<usize>> {
        let prompt = format!("{prompt} (space toggles, enter accepts)");
        MultiSelect::with_theme(self.theme.as_ref())
            .with_prompt(prompt)
            .items(items)
            .defaults(defaults)
            .interact_on_opt(&self.term)
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| self.cancelled())
    }

    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validator<'_>,
    ) -> Result<String> {
        let head = self.formatted(|f| self.theme.format_input_prompt(f, prompt, default));
        let head_width = console::measure_text_width(&head);
        loop {
            let (typed, pos) = self.read_line(&head).map_err(|e| self.interrupted_or(e))?;
            // Cancelled: the question stays on screen, to show where the wizard stopped.
            let Some(typed) = typed else {
                return Err(self.cancelled());
            };
            self.clear_answer(head_width + pos)
                .map_err(|e| self.interrupted_or(e))?;
            let value = resolve_input(&typed, default);
            let verdict = validate(&value);
            let shown = match &verdict {
                Ok(()) => {
                    self.formatted(|f| self.theme.format_input_prompt_selection(f, prompt, &value))
                }
                Err(reason) => self.formatted(|f| self.theme.format_error(f, reason)),
            };
            self.term
                .write_line(&shown)
                .map_err(|e| self.interrupted_or(e))?;
            if verdict.is_ok() {
                return Ok(value);
            }
        }
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool> {
        let answer = Confirm::with_theme(self.theme.as_ref())
            .with_prompt(prompt)
            .default(default)
            .interact_on_opt(&self.term)
            .map_err(|e| self.fail(e))?;
        match answer {
            Some(yes) => Ok(yes),
            None => Err(self.cancelled()),
        }
    }
}
