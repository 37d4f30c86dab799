//! The questions the wizard asks, behind one trait, so the same flow runs on a terminal
//! ([`super::terminal::DialoguerPrompter`]), from a script in tests ([`ScriptedPrompter`]) and
//! without a terminal when every needed value came as a flag ([`Unattended`]).

use std::collections::VecDeque;

use crate::error::{Error, Result};

/// A checker for typed answers: `Err` carries the reason shown before the question is asked again.
pub type Validator<'a> = &'a dyn Fn(&str) -> std::result::Result<(), String>;

/// Ctrl-C or Esc at any prompt returns `Err(Error::Interrupted)`.
pub trait Prompter {
    /// One item of `items`; `default` is preselected.
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize>;
    /// Any number of `items` (indices in ascending order); `defaults[i]` preselects item i.
    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        defaults: &[bool],
    ) -> Result<Vec<usize>>;
    /// Free text. An empty answer means `default` when there is one; the result (after that
    /// substitution) must pass `validate`, else the reason is shown and the question asked again.
    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validator<'_>,
    ) -> Result<String>;
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool>;
}

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Press Enter: the default item, the preselected items, the default text, the default yes/no.
    Default,
    /// The select item equal to this text, else the one whose first word is this, else the one
    /// starting with it; more than one match is an error.
    Choose(String),
    /// For a multi-select: exactly these items (matched like `Choose`); empty selects none.
    ChooseMany(Vec<String>),
    /// Typed text for an input (empty means the default, as on a terminal).
    Text(String),
    Yes,
    No,
    /// Ctrl-C.
    Interrupt,
}

/// An answer the validator refused, as a terminal would have shown it before asking again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub prompt: String,
    pub answer: String,
    pub reason: String,
}

/// Answers from a queue, for tests. Records every prompt it was asked and every refused answer.
#[derive(Debug, Default)]
pub struct ScriptedPrompter {
    answers: VecDeque<Answer>,
    pub asked: Vec<String>,
    pub rejected: Vec<Rejected>,
    /// The items of every select, with the one preselected: `(prompt, items, default)`.
    pub offered: Vec<(String, Vec<String>, usize)>,
    /// The items of every multi-select, with those preselected: `(prompt, items, defaults)`.
    pub offered_many: Vec<(String, Vec<String>, Vec<bool>)>,
}

impl ScriptedPrompter {
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        ScriptedPrompter {
            answers: answers.into_iter().collect(),
            asked: Vec::new(),
            rejected: Vec::new(),
            offered: Vec::new(),
            offered_many: Vec::new(),
        }
    }

    /// Answers not used yet (a test that scripted too many has a wrong idea of the flow).
    pub fn remaining(&self) -> usize {
        self.answers.len()
    }

    fn next(&mut self, prompt: &str) -> Result<Answer> {
        self.asked.push(prompt.to_owned());
        match self.answers.pop_front() {
            Some(Answer::Interrupt) => Err(Error::Interrupted),
            Some(answer) => Ok(answer),
            None => Err(Error::Internal(format!(
                "the script has no answer left for the question {prompt:?}"
            ))),
        }
    }
}

fn wrong_kind(prompt: &str, answer: &Answer, kind: &str) -> Error {
    Error::Internal(format!(
        "scripted answer {answer:?} does not fit {kind} question {prompt:?}"
    ))
}

/// Finds the one item `wanted` names (see [`Answer::Choose`]).
fn find_item(prompt: &str, items: &[String], wanted: &str) -> Result<usize> {
    type Rule = fn(&str, &str) -> bool;
    let rules: [Rule; 3] = [
        |item, wanted| item == wanted,
        |item, wanted| item.split_whitespace().next() == Some(wanted),
        |item, wanted| item.starts_with(wanted),
    ];
    for rule in rules {
        let hits: Vec<usize> = (0..items.len())
            .filter(|&i| rule(&items[i], wanted))
            .collect();
        match hits.as_slice() {
            [one] => return Ok(*one),
            [] => continue,
            _ => {
                return Err(Error::Internal(format!(
                    "scripted choice {wanted:?} matches several items of {prompt:?}: {items:?}"
                )));
            }
        }
    }
    Err(Error::Internal(format!(
        "scripted choice {wanted:?} is not an item of {prompt:?}: {items:?}"
    )))
}

impl Prompter for ScriptedPrompter {
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize> {
        self.offered
            .push((prompt.to_owned(), items.to_vec(), default));
        match self.next(prompt)? {
            Answer::Default => Ok(default),
            Answer::Choose(wanted) => find_item(prompt, items, &wanted),
            other => Err(wrong_kind(prompt, &other, "a select")),
        }
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        defaults: &[bool],
    ) -> Result<Vec<usize>> {
        self.offered_many
            .push((prompt.to_owned(), items.to_vec(), defaults.to_vec()));
        match self.next(prompt)? {
            Answer::Default => Ok((0..items.len())
                .filter(|&i| defaults.get(i).copied().unwrap_or(false))
                .collect()),
            Answer::ChooseMany(wanted) => {
                let mut chosen = wanted
                    .iter()
                    .map(|w| find_item(prompt, items, w))
                    .collect::<Result<Vec<_>>>()?;
                chosen.sort_unstable();
                chosen.dedup();
                Ok(chosen)
            }
            other => Err(wrong_kind(prompt, &other, "a multi-select")),
        }
    }

    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validator<'_>,
    ) -> Result<String> {
        loop {
            let typed = match self.next(prompt)? {
                Answer::Default => String::new(),
                Answer::Text(text) => text,
                other => return Err(wrong_kind(prompt, &other, "an input")),
            };
            let value = resolve_input(&typed, default);
            match validate(&value) {
                Ok(()) => return Ok(value),
                Err(reason) => self.rejected.push(Rejected {
                    prompt: prompt.to_owned(),
                    answer: value,
                    reason,
                }),
            }
        }
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool> {
        match self.next(prompt)? {
            Answer::Default => Ok(default),
            Answer::Yes => Ok(true),
            Answer::No => Ok(false),
            other => Err(wrong_kind(prompt, &other, "a yes/no")),
        }
    }
}

/// What an input answer means: trimmed text, or the default when nothing was typed.
pub fn resolve_input(typed: &str, default: Option<&str>) -> String {
    let typed = typed.trim();
    match default {
        Some(default) if typed.is_empty() => default.to_owned(),
        _ => typed.to_owned(),
    }
}

/// No terminal, every needed value given as a flag: each remaining question takes its default.
/// A question without a usable default, and any yes/no question, is a decision for a human.
#[derive(Debug, Default)]
pub struct Unattended;

impl Unattended {
    fn decision(prompt: &str, what: &str) -> Error {
        Error::Decision(format!(
            "no terminal to answer {prompt:?} ({what}); run the wizard in a terminal, or write a \
             plan (see plans/examples/) and use `run PLAN --yes`"
        ))
    }
}

impl Prompter for Unattended {
    fn select(&mut self, _prompt: &str, _items: &[String], default: usize) -> Result<usize> {
        Ok(default)
    }

    fn multi_select(
        &mut self,
        _prompt: &str,
        items: &[String],
        defaults: &[bool],
    ) -> Result<Vec<usize>> {
        Ok((0..items.len())
            .filter(|&i| defaults.get(i).copied().unwrap_or(false))
            .collect())
    }

    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validator<'_>,
    ) -> Result<String> {
        let value = resolve_input("", default);
        validate(&value).map_err(|reason| Self::decision(prompt, &reason))?;
        Ok(value)
    }

    fn confirm(&mut self, prompt: &str, _default: bool) -> Result<bool> {
        Err(Self::decision(prompt, "a yes/no question"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn choices_match_exactly_then_by_first_word_then_by_prefix() {
        let list = items(&["files  (volume)", "files2  (volume)", "media  (s3)"]);
        assert_eq!(find_item("q", &list, "files").unwrap(), 0);
        assert_eq!(find_item("q", &list, "media  (s3)").unwrap(), 2);
        assert_eq!(find_item("q", &list, "med").unwrap(), 2);
        let err = find_item("q", &list, "fil").unwrap_err().to_string();
        assert!(err.contains("matches several"), "{err}");
        let err = find_item("q", &list, "nope").unwrap_err().to_string();
        assert!(err.contains("not an item"), "{err}");
    }

    #[test]
    fn refused_answers_are_recorded_and_the_next_one_is_used() {
        let mut p = ScriptedPrompter::new([Answer::Text("Bad".into()), Answer::Default]);
        let only_lowercase = |s: &str| {
            if s.chars().all(|c| c.is_ascii_lowercase()) {
                Ok(())
            } else {
                Err(format!("{s} is not lowercase"))
            }
        };
        let got = p.input("name", Some("good"), &only_lowercase).unwrap();
        assert_eq!(got, "good");
        assert_eq!(
            p.rejected,
            vec![Rejected {
                prompt: "name".into(),
                answer: "Bad".into(),
                reason: "Bad is not lowercase".into()
            }]
        );
        assert_eq!(p.asked, vec!["name", "name"]);
    }

    #[test]
    fn interrupt_and_running_out_are_errors() {
        let mut p = ScriptedPrompter::new([Answer::Interrupt]);
        assert!(matches!(p.confirm("go?", true), Err(Error::Interrupted)));
        let err = p
            .select("which?", &items(&["a"]), 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no answer left for the question \"which?\""),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_kind_of_answer_names_the_question() {
        let mut p = ScriptedPrompter::new([Answer::Yes]);
        let err = p
            .select("which?", &items(&["a"]), 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("does not fit a select question \"which?\""),
            "{err}"
        );
    }

    #[test]
    fn multi_select_defaults_and_explicit_choices() {
        let list = items(&["web  (/data)", "worker  (/data)"]);
        let mut p = ScriptedPrompter::new([
            Answer::Default,
            Answer::ChooseMany(vec!["worker".into()]),
            Answer::ChooseMany(vec![]),
        ]);
        assert_eq!(p.multi_select("q", &list, &[true, false]).unwrap(), vec![0]);
        assert_eq!(p.multi_select("q", &list, &[true, true]).unwrap(), vec![1]);
        assert!(
            p.multi_select("q", &list, &[true, true])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn unattended_takes_defaults_and_refuses_decisions() {
        let mut u = Unattended;
        assert_eq!(u.select("q", &items(&["a", "b"]), 1).unwrap(), 1);
        assert_eq!(
            u.multi_select("q", &items(&["a", "b"]), &[false, true])
                .unwrap(),
            vec![1]
        );
        assert_eq!(u.input("t", Some("2h"), &|_| Ok(())).unwrap(), "2h");
        let err = u.input("path", None, &|s: &str| {
            if s.is_empty() {
                Err("a path is needed".into())
            } else {
                Ok(())
            }
        });
        assert!(matches!(err, Err(Error::Decision(m)) if m.contains("a path is needed")));
        assert!(matches!(
            u.confirm("overwrite?", false),
            Err(Error::Decision(_))
        ));
    }
}
