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

    /// Draws the prompt line again with the cursor at `pos` in `chars`.
    fn redraw(&self, head: &str, chars: &[char], pos: usize) -> std::io::Result<()> {
        self.term.clear_line()?;
        self.term.write_str(head)?;
        self.term.write_str(&chars.iter().collect::<String>())?;
        self.term.move_cursor_left(chars.len() - pos)?;
        self.term.flush()
    }

    /// Reads one line; `None` when the user cancelled with Esc or Ctrl-C.
    fn read_line(&self, head: &str) -> std::io::Result<Option<String>> {
        let mut chars: Vec<char> = Vec::new();
        let mut pos = 0;
        self.redraw(head, &chars, pos)?;
        loop {
            // Raw: Ctrl-C arrives as a key instead of a signal.
            match self.term.read_key_raw()? {
                Key::Enter => return Ok(Some(chars.into_iter().collect())),
                Key::Escape | Key::CtrlC => return Ok(None),
                Key::Backspace if pos > 0 => {
                    pos -= 1;
                    chars.remove(pos);
                }
                Key::Del if pos < chars.len() => {
                    chars.remove(pos);
                }
                Key::ArrowLeft if pos > 0 => pos -= 1,
                Key::ArrowRight if pos < chars.len() => pos += 1,
                Key::Home => pos = 0,
                Key::End => pos = chars.len(),
                Key::Char(c) if !c.is_control() => {
                    chars.insert(pos, c);
                    pos += 1;
                }
                _ => continue,
            }
            self.redraw(head, &chars, pos)?;
        }
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
        loop {
            let typed = match self.read_line(&head) {
                Ok(Some(typed)) => typed,
                Ok(None) => return Err(self.cancelled()),
                Err(e) => return Err(self.interrupted_or(e)),
            };
            let value = resolve_input(&typed, default);
            let verdict = validate(&value);
            let shown = match &verdict {
                Ok(()) => {
                    self.formatted(|f| self.theme.format_input_prompt_selection(f, prompt, &value))
                }
                Err(reason) => self.formatted(|f| self.theme.format_error(f, reason)),
            };
            self.term
                .clear_line()
                .and_then(|()| self.term.write_line(&shown))
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
