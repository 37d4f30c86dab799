//! Single values as the `setops` CLI prints them: sizes (`150.8 kB`, `1.47 mB`), RFC 3339
//! timestamps (`Z` or an offset) and backup UUIDs. Each parser returns what it expected on failure,
//! for the caller to put into a [`super::ParseError`] with the line.

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use crate::units::PrintedSize;

/// What a size should look like, for error messages.
pub const SIZE_EXPECTED: &str = "a size such as `150.8 kB`, `75.3 MB` or `0 B`";

/// [`PrintedSize::parse`], with what was expected when it is not a size.
pub fn parse_size(text: &str) -> Result<PrintedSize, String> {
    PrintedSize::parse(text).ok_or_else(|| {
        format!(
            "{SIZE_EXPECTED}, not {:?}",
            super::error::quote(text.trim())
        )
    })
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
