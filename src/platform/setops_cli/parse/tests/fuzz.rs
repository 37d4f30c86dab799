//! Property-style checks without a new dependency: every prefix of every sample, and a fixed-seed
//! stream of random edits, through every parser. Nothing may panic; every error names its
//! command and a line inside the output (or just past it); and a cut table, file line or backup
//! block never reads as a shorter but valid answer.

use super::super::*;
use super::doc_samples as doc;
use super::malformed::parsers;
use super::render_changesets::outputs;
use crate::platform::setops_cli::stage_def::StageDefinition;

/// xorshift64*: small, deterministic, good enough to pick edits.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn corpus() -> Vec<String> {
    doc::ALL
        .iter()
        .map(|s| (*s).to_owned())
        .chain(outputs())
        .collect()
}

fn prefixes(s: &str) -> impl Iterator<Item = &str> {
    s.char_indices().map(|(i, _)| &s[..i]).chain([s])
}

fn check_all_parsers(output: &str) {
    let line_count = output.split('\n').count();
    for (command, parse) in parsers() {
        if let Err(e) = parse(output) {
            assert_eq!(e.command(), command);
            assert!(
                e.line() >= 1 && e.line() <= line_count + 1,
                "{e} ({line_count} lines)"
            );
        }
    }
}

#[test]
fn every_prefix_of_every_sample_through_every_parser() {
    for sample in corpus() {
        for prefix in prefixes(&sample) {
            check_all_parsers(prefix);
        }
    }
}

#[test]
fn a_cut_output_never_reads_as_a_shorter_answer() {
    fn same_or_error<T: PartialEq + std::fmt::Debug>(
        full: &str,
        parse: impl Fn(&str) -> Result<T, ParseError>,
    ) {
        let whole = parse(full).unwrap();
        for prefix in prefixes(full) {
            if let Ok(value) = parse(prefix) {
                assert_eq!(value, whole, "prefix {prefix:?}");
            }
        }
    }
    for list in [doc::BACKUP_LIST, doc::BACKUP_LIST_AFTER_UPLOAD] {
        same_or_error(list, parse_backup_list);
    }
    same_or_error(&outputs()[0], parse_backup_list);
    same_or_error(doc::BACKUP_CREATE, parse_backup_create);
    same_or_error(doc::BACKUP_RESTORE, parse_backup_restore);
    same_or_error(doc::BACKUP_DESTROY, parse_backup_destroy);
    same_or_error(doc::BACKUP_DOWNLOAD, parse_backup_download);
    same_or_error(doc::BACKUP_UPLOAD, parse_backup_upload);
    same_or_error(&outputs()[4], parse_changeset_info);
    for pending in [doc::CHANGESET_INFO, doc::CHANGESET_INFO_WRAPPED] {
        same_or_error(pending, parse_changeset_info);
    }
    for prefix in prefixes(doc::CHANGESET_COMMIT) {
        if parse_changeset_commit(prefix).is_ok_and(|r| r.successful) {
            assert!(prefix.contains("Commit successful!"));
        }
    }
}

/// Text the edits insert: the characters the formats are made of, and some that break them.
const ALPHABET: &[&str] = &[
    "|",
    "+",
    "-",
    ":",
    " ",
    "  ",
    "\n",
    "\r",
    "\t",
    "0",
    "9",
    "a",
    "Z",
    "(",
    ")",
    "[",
    "]",
    "map[",
    "✅",
    "…",
    "\u{0}",
    "\u{1b}[31m",
    "kB",
    "CREATED",
    "-- ",
    "Created At:",
    "+---+",
    "é",
    "\u{FEFF}",
    "completed",
    " with ID ",
    "Commit successful!",
    "{",
    "}",
    "\"",
    "'",
    "&",
    "*",
    "!!",
    "? ",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(5) {
            0 => {
                let end = (at + rng.below(8) + 1).min(chars.len());
                chars.drain(at.min(end)..end);
            }
            1 | 2 => {
                let piece = ALPHABET[rng.below(ALPHABET.len())];
                chars.splice(at..at, piece.chars());
            }
            3 => chars.truncate(at),
            _ => {
                let end = (at + rng.below(40)).min(chars.len());
                let copy: Vec<char> = chars[at.min(end)..end].to_vec();
                chars.splice(at..at, copy);
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn random_edits_of_every_sample_through_every_parser() {
    let corpus = corpus();
    let mut rng = Rng(0x5e70_9500_c11d_a7a5);
    for _ in 0..4000 {
        let sample = &corpus[rng.below(corpus.len())];
        check_all_parsers(&mutate(&mut rng, sample));
    }
}

#[test]
fn random_edits_of_a_stage_definition_round_trip_or_fail() {
    let mut rng = Rng(0xd0d0_cafe_f00d_0001);
    for _ in 0..1500 {
        let text = mutate(&mut rng, doc::STAGE_DUMP);
        if let Ok(definition) = StageDefinition::parse(&text) {
            // Whatever parses is written back to YAML that reads as the same definition.
            let yaml = definition
                .to_yaml()
                .unwrap_or_else(|e| panic!("{e}: {text:?}"));
            let again = StageDefinition::parse(&yaml).unwrap_or_else(|e| panic!("{e}: {yaml}"));
            assert_eq!(again, definition, "{text:?}\n{yaml}");
        }
    }
}
