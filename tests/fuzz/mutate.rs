//! Inputs that look almost right: a seed (a valid plan, journal, archive or CLI output) with a
//! few bytes replaced, inserted or removed, a piece cut off or repeated. Byte-level, so broken
//! UTF-8, cut multi-byte characters and stray control bytes come up as often as wrong values.

use proptest::prelude::*;

/// One edit at a position given as a fraction of the input's length.
#[derive(Debug, Clone)]
pub enum Edit {
    Replace(u16, u8),
    Insert(u16, Vec<u8>),
    Remove(u16, u16),
    Truncate(u16),
    Repeat(u16, u16, u8),
}

fn at(len: usize, pos: u16) -> usize {
    if len == 0 {
        0
    } else {
        (pos as usize * len) / (u16::MAX as usize + 1)
    }
}

/// Bytes worth inserting: structure characters of YAML, JSON and tables, and junk.
fn interesting() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => prop::sample::select(b" \t\n\r:-|+[]{}\"',#&*!%@`?~=0123456789azAZ_/.\\".to_vec()),
        1 => any::<u8>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<u16>(), interesting()).prop_map(|(p, b)| Edit::Replace(p, b)),
        3 => (any::<u16>(), prop::collection::vec(interesting(), 1..8))
            .prop_map(|(p, b)| Edit::Insert(p, b)),
        3 => (any::<u16>(), 1u16..16).prop_map(|(p, n)| Edit::Remove(p, n)),
        1 => any::<u16>().prop_map(Edit::Truncate),
        1 => (any::<u16>(), 1u16..64, 2u8..6).prop_map(|(p, n, k)| Edit::Repeat(p, n, k)),
    ]
}

pub fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for e in edits {
        let len = out.len();
        match e {
            Edit::Replace(p, b) if len > 0 => {
                let i = at(len, *p);
                out[i] = *b;
            }
            Edit::Replace(..) => {}
            Edit::Insert(p, bytes) => {
                let i = at(len + 1, *p);
                out.splice(i..i, bytes.iter().copied());
            }
            Edit::Remove(p, n) => {
                let i = at(len, *p);
                let end = (i + *n as usize).min(len);
                out.drain(i..end);
            }
            Edit::Truncate(p) => out.truncate(at(len + 1, *p)),
            Edit::Repeat(p, n, k) => {
                let i = at(len, *p);
                let end = (i + *n as usize).min(len);
                let piece = out[i..end].to_vec();
                for _ in 1..*k {
                    out.splice(end..end, piece.iter().copied());
                }
            }
        }
    }
    out
}

/// A seed from `seeds` with 1 to 6 edits.
pub fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(seeds),
        prop::collection::vec(edit(), 1..6),
    )
        .prop_map(|(seed, edits)| apply(&seed, &edits))
}

/// Mutated seeds most of the time, arbitrary bytes sometimes.
#[allow(
    dead_code,
    reason = "the in-crate extraction fuzz builds its own inputs"
)]
pub fn input(seeds: Vec<Vec<u8>>, max_random: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => mutated(seeds),
        1 => prop::collection::vec(any::<u8>(), 0..max_random),
    ]
}
