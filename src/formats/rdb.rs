//! The head of a Redis RDB file: `REDIS`, a four-digit format version, then auxiliary fields
//! (opcode 0xFA, a key and a value string) such as `redis-ver`, the server that wrote it. Only
//! those leading fields are read; any byte the reader does not expect ends it with what it has.

/// The version and, where the file names it, the Redis server that wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbHead {
    pub version: u32,
    /// The `redis-ver` auxiliary field, e.g. `7.0.15`.
    pub redis_version: Option<String>,
}

const AUX: u8 = 0xfa;
/// The auxiliary fields Redis writes are short; a longer length is damage, not a field.
const MAX_AUX_LEN: usize = 1024;

pub fn read(head: &[u8]) -> Option<RdbHead> {
    let rest = head.strip_prefix(b"REDIS")?;
    let digits = rest.get(..4)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let version = digits
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let mut at = 9;
    let mut redis_version = None;
    while head.get(at) == Some(&AUX) {
        let Some((key, after_key)) = string(head, at + 1) else {
            break;
        };
        let Some((value, after_value)) = string(head, after_key) else {
            break;
        };
        if key == b"redis-ver" {
            redis_version = Some(String::from_utf8_lossy(value).into_owned());
            break;
        }
        at = after_value;
    }
    Some(RdbHead {
        version,
        redis_version,
    })
}

/// A length-prefixed string at `at` and the position after it. Integer-encoded values (the
/// 0b11 prefix) are returned as their raw bytes; compressed ones end the read.
fn string(head: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let first = *head.get(at)?;
    let (len, start) = match first >> 6 {
        0 => (usize::from(first & 0x3f), at + 1),
        1 => {
            let next = *head.get(at + 1)?;
            ((usize::from(first & 0x3f) << 8) | usize::from(next), at + 2)
        }
        2 if first == 0x80 => {
            let b = head.get(at + 1..at + 5)?;
            let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            (usize::try_from(n).ok()?, at + 5)
        }
        3 => match first & 0x3f {
            0 => (1, at + 1),
            1 => (2, at + 1),
            2 => (4, at + 1),
            _ => return None,
        },
        _ => return None,
    };
    if len > MAX_AUX_LEN {
        return None;
    }
    let end = start.checked_add(len)?;
    Some((head.get(start..end)?, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_and_the_server_that_wrote_it() {
        // The first bytes of files written by Redis 6.2.14 and 7.0.15 (SAVE).
        let six = b"REDIS0009\xfa\x09redis-ver\x066.2.14\xfa\x0aredis-bits\xc0\x40";
        let seven = b"REDIS0010\xfa\x09redis-ver\x067.0.15\xfa\x0aredis-bits\xc0\x40";
        assert_eq!(
            read(six),
            Some(RdbHead {
                version: 9,
                redis_version: Some("6.2.14".into())
            })
        );
        assert_eq!(
            read(seven).unwrap().redis_version.as_deref(),
            Some("7.0.15")
        );
    }

    #[test]
    fn other_aux_fields_first_and_integer_values_are_skipped() {
        let bytes = b"REDIS0011\xfa\x0aredis-bits\xc0\x40\xfa\x09redis-ver\x057.2.4";
        assert_eq!(read(bytes).unwrap().redis_version.as_deref(), Some("7.2.4"));
    }

    #[test]
    fn a_bare_or_cut_header_still_has_its_version() {
        assert_eq!(
            read(b"REDIS0009"),
            Some(RdbHead {
                version: 9,
                redis_version: None
            })
        );
        assert_eq!(
            read(b"REDIS0010\xfa\x09redis-ver\x067.0").unwrap().version,
            10
        );
        assert_eq!(read(b"REDIS0010\xfa\xbf\xff").unwrap().redis_version, None);
        assert_eq!(read(b"REDIS00x9"), None);
        assert_eq!(read(b"REDIS"), None);
    }

    #[test]
    fn never_panics_on_any_byte_after_the_magic() {
        let mut bytes = b"REDIS0009\xfa".to_vec();
        for b in 0..=255u8 {
            bytes.truncate(10);
            bytes.extend([b, b, 0xff, 0x80, 0x40]);
            let _ = read(&bytes);
        }
    }
}
