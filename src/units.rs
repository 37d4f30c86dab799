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

/// Whether `bytes` prints as `shown` (the platform's rounded size).
pub fn size_fits(shown: &str, bytes: u64) -> bool {
    format_size(bytes) == shown.trim()
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
