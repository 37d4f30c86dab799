//! One fuzz target = a proptest strategy and a check, run for `FUZZ_CASES` inputs (a short
//! default inside `cargo test`; scripts/fuzz asks for many). Each target prints one line,
//! `fuzz TARGET: N executions, M crashes (FUZZ_SEED=S)`, which scripts/fuzz adds up. A crash is a
//! panic or a broken property; proptest shrinks it to a small input, printed with the seed that
//! replays the run.

use std::cell::Cell;
use std::fmt::Debug;
use std::time::{SystemTime, UNIX_EPOCH};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// Inputs per target: `FUZZ_CASES`, else `default`.
fn cases(default: u32) -> u32 {
    match std::env::var("FUZZ_CASES") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("FUZZ_CASES={v:?} is not a whole number")),
        Err(_) => default,
    }
}

/// `FUZZ_SEED`, else the clock: every run explores new inputs, and a failure names its seed.
fn seed() -> u64 {
    match std::env::var("FUZZ_SEED") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("FUZZ_SEED={v:?} is not a whole number")),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x005e_7095),
    }
}

/// Runs `check` on `cases` inputs drawn from `strategy`; panics (after printing the report) when
/// any input crashes it.
pub fn fuzz<S>(
    target: &str,
    default_cases: u32,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let cases = cases(default_cases);
    let seed = seed();
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    // Each target draws its own stream from the same seed.
    for (i, b) in target.bytes().enumerate() {
        key[8 + i % 24] ^= b;
    }
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 512,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key));
    let executions = Cell::new(0u64);
    let result = runner.run(&strategy, |input| {
        executions.set(executions.get() + 1);
        check(input)
    });
    let crashes = u32::from(result.is_err());
    println!(
        "fuzz {target}: {} executions, {crashes} crashes (FUZZ_SEED={seed})",
        executions.get()
    );
    if let Err(e) = result {
        panic!("fuzz {target}: crash (replay with FUZZ_SEED={seed} FUZZ_CASES={cases}): {e}");
    }
}

/// `Err` unless `cond`, for properties inside a check.
pub fn ensure(cond: bool, what: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if cond {
        Ok(())
    } else {
        Err(TestCaseError::fail(what()))
    }
}
