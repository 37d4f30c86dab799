//! The part of a redis-server's log worth showing in an error text.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// What the server logged since byte `from`, for an error text: its warnings and errors (`#`
/// lines) without the start banner and advisory warnings, or, when there are none (a config
/// error goes to stderr unprefixed), its last lines; joined with " | ".
pub(super) fn log_tail(path: &Path, from: u64) -> String {
    const MAX_BYTES: u64 = 8192;
    const MAX_LINES: usize = 6;
    static PREFIX: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"^\d+:[A-Z] \d{2} [A-Za-z]{3} \d{4} [\d:.]+ ([.\-*#]) ").ok());
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let start = from.max(len.saturating_sub(MAX_BYTES));
        if file.seek(SeekFrom::Start(start)).is_ok() {
            let mut bytes = Vec::new();
            let _ = file.take(MAX_BYTES).read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    // (level, message); unprefixed lines have no level.
    let lines: Vec<(Option<char>, &str)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let captures = PREFIX.as_ref().and_then(|re| re.captures(l));
            match captures.and_then(|c| Some((c.get(0)?.end(), c.get(1)?.as_str()))) {
                Some((end, level)) => (level.chars().next(), &l[end..]),
                None => (None, l),
            }
        })
        .collect();
    let is_noise = |msg: &str| {
        msg.starts_with("WARNING ")
            || msg.contains("oO0OoO0OoO0Oo")
            || msg.starts_with("Redis version=")
            || msg == "Configuration loaded"
            || msg == "Server initialized"
    };
    let errors: Vec<&str> = lines
        .iter()
        .filter(|(level, msg)| *level == Some('#') && !is_noise(msg))
        .map(|(_, msg)| *msg)
        .collect();
    let chosen: Vec<&str> = if errors.is_empty() {
        lines.iter().map(|(_, msg)| *msg).collect()
    } else {
        errors
    };
    if chosen.is_empty() {
        return format!("nothing in its log {}", path.display());
    }
    chosen[chosen.len().saturating_sub(MAX_LINES)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tail_keeps_the_errors_of_this_start() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("r.log");
        fs::write(
            &log,
            "1:M 01 Jan 2024 09:00:00.000 # an error of an earlier start\n\
             1234:C 01 Jan 2024 10:00:00.001 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\n\
             1234:M 01 Jan 2024 10:00:00.123 * Running mode=standalone, port=1.\n\
             1234:M 01 Jan 2024 10:00:00.123 # Server initialized\n\
             1234:M 01 Jan 2024 10:00:00.123 # WARNING Memory overcommit must be enabled!\n\
             1234:M 01 Jan 2024 10:00:00.124 # Can't handle RDB format version 12\n\
             1234:M 01 Jan 2024 10:00:00.124 # Fatal error loading the DB: Invalid argument. Exiting.\n",
        )
        .unwrap();
        let from = "1:M 01 Jan 2024 09:00:00.000 # an error of an earlier start\n".len() as u64;
        assert_eq!(
            log_tail(&log, from),
            "Can't handle RDB format version 12 | Fatal error loading the DB: Invalid argument. Exiting."
        );
    }

    #[test]
    fn log_tail_without_errors_shows_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("r.log");
        fs::write(
            &log,
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n>>> 'nonsense 1'\nBad directive or wrong number of arguments\n",
        )
        .unwrap();
        assert_eq!(
            log_tail(&log, 0),
            "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) *** | >>> 'nonsense 1' | Bad directive or wrong number of arguments"
        );
        assert!(log_tail(&dir.path().join("missing.log"), 0).contains("nothing in its log"));
    }
}
