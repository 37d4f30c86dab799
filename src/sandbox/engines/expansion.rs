//! How far a compressed backup may expand when the sandbox unpacks or checks it. A `.tar.gz` of
//! 2 MB can hold 2 GiB of zeros (gzip reaches about 1000:1); unpacked without a bound it fills the
//! disk. Every decompression of a backup goes through a [`Budget`]:
//!
//! - an explicit cap on the bytes it may produce, [`MAX_EXPANDED_BYTES`];
//! - a ratio: at most [`MAX_RATIO`] times the compressed file's size, but never less than
//!   [`RATIO_FLOOR`], so small archives of very repetitive files (logs, empty images) still
//!   restore.
//!
//! Real backups stay far below both: tar.gz of files compress a few times, text at most tens of
//! times. The limit is decided from the file before the first byte is unpacked, and counted on
//! what the decompressor actually produces, so a header that lies about sizes gains nothing.

use std::cell::Cell;
use std::io::{self, Read};
use std::path::Path;
use std::rc::Rc;

use crate::sandbox::{Error, Result};

/// Never more than this from one backup, whatever its compressed size.
pub(crate) const MAX_EXPANDED_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// How many times its own size a compressed backup may expand to.
pub(crate) const MAX_RATIO: u64 = 100;
/// Always allowed, whatever the ratio.
pub(crate) const RATIO_FLOOR: u64 = 64 * 1024 * 1024;

/// The bytes one decompression may produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    limit: u64,
    compressed: u64,
}

impl Budget {
    /// The budget for a compressed file of `compressed` bytes.
    pub(crate) fn for_compressed(compressed: u64) -> Budget {
        let by_ratio = compressed.saturating_mul(MAX_RATIO).max(RATIO_FLOOR);
        Budget {
            limit: by_ratio.min(MAX_EXPANDED_BYTES),
            compressed,
        }
    }

    /// The budget for the file at `path`.
    pub(crate) fn for_file(path: &Path) -> Result<Budget> {
        let len = std::fs::metadata(path)
            .map_err(|e| Error::Engine(format!("reading the backup file: {e}")))?
            .len();
        Ok(Budget::for_compressed(len))
    }

    #[cfg(test)]
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether `expanded` bytes fit.
    pub(crate) fn allows(&self, expanded: u64) -> bool {
        expanded <= self.limit
    }

    /// The refusal: what was found, the bound it broke, and that nothing was written.
    /// `expanded`: how much was found, where known (declared sizes); else "more than the limit".
    pub(crate) fn exceeded(&self, what: &str, expanded: Option<u64>) -> Error {
        let bound = if self.limit == MAX_EXPANDED_BYTES {
            format!("the sandbox's cap of {}", shown(MAX_EXPANDED_BYTES))
        } else {
            format!(
                "{MAX_RATIO} times the compressed size of {} (at least {})",
                shown(self.compressed),
                shown(RATIO_FLOOR)
            )
        };
        let found = expanded
            .map(|n| format!(" ({} and counting)", shown(n)))
            .unwrap_or_default();
        Error::Engine(format!(
            "{what} expands to more than {}{found}, beyond {bound}: refused as a decompression \
             bomb; nothing was written",
            shown(self.limit)
        ))
    }

    /// `reader` (a decompressor) counted against this budget: reading past the limit fails, and
    /// the [`Meter`] says so however a caller (tar, say) wraps that error.
    pub(crate) fn count<R: Read>(&self, reader: R) -> (Counted<R>, Meter) {
        let meter = Meter {
            produced: Rc::new(Cell::new(0)),
            limit: self.limit,
        };
        let counted = Counted {
            inner: reader,
            meter: meter.clone(),
        };
        (counted, meter)
    }
}

/// How much a [`Counted`] reader has produced, readable after it was handed away.
#[derive(Debug, Clone)]
pub(crate) struct Meter {
    produced: Rc<Cell<u64>>,
    limit: u64,
}

impl Meter {
    #[cfg(test)]
    pub(crate) fn produced(&self) -> u64 {
        self.produced.get()
    }

    /// Whether the reader went past its budget.
    pub(crate) fn exceeded(&self) -> bool {
        self.produced.get() > self.limit
    }
}

/// `1.5 GiB`, `64 MiB`, `2.0 MB`: binary units, one decimal.
fn shown(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = "bytes";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if unit == "bytes" {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {unit}")
    }
}

/// A reader that fails once it has produced more than its limit.
pub(crate) struct Counted<R> {
    inner: R,
    meter: Meter,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let produced = self.meter.produced.get().saturating_add(n as u64);
        self.meter.produced.set(produced);
        if self.meter.exceeded() {
            return Err(io::Error::other(format!(
                "decompressed data exceeds its budget of {} bytes",
                self.meter.limit
            )));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_the_ratio_between_the_floor_and_the_cap() {
        assert_eq!(Budget::for_compressed(0).limit(), RATIO_FLOOR);
        assert_eq!(Budget::for_compressed(1024).limit(), RATIO_FLOOR);
        assert_eq!(
            Budget::for_compressed(10 * 1024 * 1024).limit(),
            1000 * 1024 * 1024
        );
        assert_eq!(Budget::for_compressed(u64::MAX).limit(), MAX_EXPANDED_BYTES);
    }

    #[test]
    fn counting_stops_past_the_limit_with_a_recognisable_error() {
        let budget = Budget {
            limit: 10,
            compressed: 1,
        };
        let (mut ok, meter) = budget.count(&[7u8; 10][..]);
        io::copy(&mut ok, &mut io::sink()).unwrap();
        assert_eq!(meter.produced(), 10);
        assert!(!meter.exceeded());
        let (mut over, meter) = budget.count(io::repeat(0));
        let e = io::copy(&mut over, &mut io::sink()).unwrap_err();
        assert!(meter.exceeded(), "{e}");
        assert!(e.to_string().contains("budget of 10 bytes"), "{e}");
    }

    #[test]
    fn the_refusal_names_the_bound() {
        let text = Budget::for_compressed(2 * 1024 * 1024)
            .exceeded("the archive", Some(3 << 30))
            .to_string();
        assert!(
            text.contains("more than 200.0 MiB (3.0 GiB and counting)"),
            "{text}"
        );
        assert!(
            text.contains("100 times the compressed size of 2.0 MiB"),
            "{text}"
        );
        assert!(text.contains("nothing was written"), "{text}");
        let text = Budget::for_compressed(1 << 40)
            .exceeded("x", None)
            .to_string();
        assert!(text.contains("the sandbox's cap of 8.0 GiB"), "{text}");
    }
}
