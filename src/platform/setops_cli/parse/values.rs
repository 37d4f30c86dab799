//! Single values as the `setops` CLI prints them: sizes (`150.8 kB`, `1.47 mB`), RFC 3339
//! timestamps (`Z` or an offset) and backup UUIDs. Each parser returns what it expected on failure,
//! for the caller to put into a [`super::ParseError`] with the line.

use chrono::{DateTime, Utc};
use uuid::Uuid;

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
}

/// What a size should look like, for error messages.
pub const SIZE_EXPECTED: &str = "a size such as `150.8 kB`, `75.3 MB` or `0 B`";

/// Parses `150.8 kB`, `75.3 MB`, `1.47 mB`, `0 B`, `12 B`, `1.0 GB`, also `KiB`-style binary
/// units. Unit letters are read case-insensitively (the CLI printed `mB` for megabytes; a byte
/// count has no milli). The interval is that of rounding to the printed precision, both halves
/// included because the rounding rule at exactly .5 is unknown.
pub fn parse_size(text: &str) -> Result<PrintedSize, String> {
    let t = text.trim();
    let bad = || format!("{SIZE_EXPECTED}, not {:?}", super::error::quote(t));
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
        return Err(bad());
    }
    let multiplier = unit_multiplier(unit).ok_or_else(bad)?;
    let mantissa: u128 = format!("{whole}{fraction}").parse().map_err(|_| bad())?;
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
    Ok(PrintedSize {
        text: t.to_owned(),
        bytes_low: u64::try_from(low).map_err(|_| bad())?,
        bytes_high: u64::try_from(high).unwrap_or(u64::MAX),
    })
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

/// RFC 3339 with `Z` or an offset (`2020-10-23T16:46:29+02:00`), as UTC.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "an RFC 3339 timestamp such as `2021-04-23T12:03:10Z`, not {:?}",
                super::error::quote(text.trim())
            )
        })
}

/// A backup ID exactly as the CLI prints it: lowercase hex, 8-4-4-4-12. Anything else (braces,
/// upper case, a cut ID) is refused: an ID that is read wrong would name another backup.
pub fn parse_uuid(text: &str) -> Result<Uuid, String> {
    let t = text.trim();
    let groups: Vec<&str> = t.split('-').collect();
    let shaped = groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, len)| {
            g.len() == len && g.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
        });
    let bad = || {
        format!(
            "a lowercase UUID such as `6a6fcd7a-7063-4cb4-a748-8f765eea39a2`, not {:?}",
            super::error::quote(t)
        )
    };
    if !shaped {
        return Err(bad());
    }
    Uuid::parse_str(t).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> (u64, u64) {
        let s = parse_size(text).unwrap();
        (s.bytes_low, s.bytes_high)
    }

    #[test]
    fn sizes_cover_their_rounding_interval() {
        assert_eq!(range("150.8 kB"), (150_750, 150_850));
        assert_eq!(range(" 75.3 MB"), (75_250_000, 75_350_000));
        assert_eq!(range("1.47 mB"), (1_465_000, 1_475_000));
        assert_eq!(range("0 B"), (0, 0));
        assert_eq!(range("12 B"), (12, 12));
        assert_eq!(range("1.0 GB"), (950_000_000, 1_050_000_000));
        assert_eq!(range("1.5 KiB"), (1485, 1587));
        assert_eq!(range("0.0 kB"), (0, 50));
        assert!(parse_size("150.8 kB").unwrap().contains(150_800));
        assert!(!parse_size("150.8 kB").unwrap().contains(150_851));
    }

    #[test]
    fn the_projects_own_sizes_read_back_to_their_byte_count() {
        for bytes in [
            0,
            1,
            999,
            1000,
            1049,
            150_800,
            999_960,
            75_300_000,
            1 << 40,
            u64::MAX / 2,
        ] {
            let printed = crate::units::format_size(bytes);
            assert!(
                parse_size(&printed).unwrap().contains(bytes),
                "{bytes} {printed}"
            );
        }
    }

    #[test]
    fn garbage_sizes_are_refused() {
        for bad in [
            "",
            "kB",
            "150.8",
            "150.8 k",
            "1.2.3 kB",
            "-1 kB",
            "1e3 B",
            "12 bytes",
            "1. kB",
            "99999999999999999999 EB",
            "NaN B",
            "150,8 kB",
            "1 mb extra",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn timestamps_with_z_or_offsets() {
        let t = parse_timestamp("2020-10-23T16:46:29+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2020-10-23T14:46:29+00:00");
        assert!(parse_timestamp("2021-04-23T12:03:10Z").is_ok());
        assert!(parse_timestamp("2021-04-23 12:03").is_err());
    }

    #[test]
    fn uuids_are_strict() {
        assert!(parse_uuid("b3263ac2-f6e0-4227-a3c7-f197603a386c").is_ok());
        for bad in [
            "B3263AC2-F6E0-4227-A3C7-F197603A386C",
            "b3263ac2f6e04227a3c7f197603a386c",
            "{b3263ac2-f6e0-4227-a3c7-f197603a386c}",
            "b3263ac2-f6e0-4227-a3c7-f197603a386",
            "b3263ac2-f6e0-4227-a3c7-f197603a386cc",
            "g3263ac2-f6e0-4227-a3c7-f197603a386c",
        ] {
            assert!(parse_uuid(bad).is_err(), "{bad}");
        }
    }
}
