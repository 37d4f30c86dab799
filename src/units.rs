//! Sizes as the SetOps CLI prints them: decimal SI units with one decimal (`150.8 kB`, `75.3 MB`).

const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];

/// A count with thousands grouped, as tables show them: `4,210`.
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn format_size(bytes: u64) -> String {
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    // Round first, so 999_960 bytes becomes `1.0 MB` rather than `1000.0 kB`.
    while (value * 10.0).round() / 10.0 >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Whether a file of exactly `bytes` bytes may be the one the platform shows as `shown`.
pub fn size_fits(shown: &str, bytes: u64) -> bool {
    PrintedSize::parse(shown).is_some_and(|p| p.contains(bytes))
}

/// A size as printed, and the exact byte counts that print that way. The CLI rounds (to one
/// decimal, or two in `1.47 mB`), so a local file's exact size can only be checked against the
/// interval, never against one number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedSize {
    pub text: String,
    pub bytes_low: u64,
    pub bytes_high: u64,
}

impl PrintedSize {
    /// Whether a file of exactly `bytes` bytes is printed as this size.
    pub fn contains(&self, bytes: u64) -> bool {
        (self.bytes_low..=self.bytes_high).contains(&bytes)
    }

    /// Parses `150.8 kB`, `75.3 MB`, `1.47 mB`, `0 B`, `12 B`, `1.0 GB`, also `KiB`-style binary
    /// units. Unit letters are read case-insensitively (the CLI printed `mB` for megabytes; a byte
    /// count has no milli). The interval is that of rounding to the printed precision, both halves
    /// included because the rounding rule at exactly .5 is unknown.
    pub fn parse(text: &str) -> Option<PrintedSize> {
        let t = text.trim();
        let digits_end = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (number, unit) = t.split_at(digits_end);
        let unit = unit.trim();
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        // 18 digits keep every product below in u128 with room to spare.
        if whole.is_empty()
            || (number.contains('.') && fraction.is_empty())
            || whole.len() + fraction.len() > 18
            || !whole
                .chars()
                .chain(fraction.chars())
                .all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let multiplier = unit_multiplier(unit)?;
        let mantissa: u128 = format!("{whole}{fraction}").parse().ok()?;
        let scale = 10u128.pow(fraction.len() as u32);
        let (low, high) = if multiplier == 1 && fraction.is_empty() {
            (mantissa, mantissa)
        } else {
            // value = mantissa / scale; the printed value covers value ± half a unit of the last
            // printed digit: bytes in [(2m - 1) * mult / (2 * scale), (2m + 1) * mult / (2 * scale)].
            let twice = 2 * scale;
            let low = (2 * mantissa).saturating_sub(1) * multiplier;
            let high = (2 * mantissa + 1) * multiplier;
            (low.div_ceil(twice), high / twice)
        };
        Some(PrintedSize {
            text: t.to_owned(),
            bytes_low: u64::try_from(low).ok()?,
            bytes_high: u64::try_from(high).unwrap_or(u64::MAX),
        })
    }
}

fn unit_multiplier(unit: &str) -> Option<u128> {
    let lower = unit.to_ascii_lowercase();
    let (prefix, binary) = match lower.strip_suffix("ib") {
        Some(p) if !p.is_empty() => (p, true),
        _ => (lower.strip_suffix('b')?, false),
    };
    let power = match prefix {
        "" if !binary => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        "e" => 6,
        _ => return None,
    };
    let base: u128 = if binary { 1024 } else { 1000 };
    Some(base.pow(power))
}

#[cfg(test)]
mod tests {
    use super::format_size;

    #[test]
    fn matches_the_documented_examples() {
        assert_eq!(format_size(150_800), "150.8 kB");
        assert_eq!(format_size(75_300_000), "75.3 MB");
        assert_eq!(format_size(139_300), "139.3 kB");
    }

    #[test]
    fn small_and_boundary_values() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(999), "999 B");
        assert_eq!(format_size(1000), "1.0 kB");
        assert_eq!(format_size(999_960), "1.0 MB");
        assert_eq!(format_size(1_073_741_824), "1.1 GB");
    }
}
