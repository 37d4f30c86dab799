//! The primitive reads of a PostgreSQL archive, as pg_backup_archiver.c does them (ReadInt,
//! ReadStr, ReadOffset), over a byte slice: every read checks what is left first, so no length
//! field can make it allocate or index past the bytes it was given.

use super::ArchiveVersion;

/// Why a read stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The bytes ended (the file, or the head that was read of it) in the middle of `what`.
    Ended { what: &'static str, at: usize },
    /// A value pg_restore itself would refuse.
    Invalid { what: String, at: usize },
}

pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Bytes per integer (`intSize` of the header; 4 on every platform pg_dump runs on).
    int_size: usize,
    /// Archives after 1.0 write a sign byte before each integer.
    signed: bool,
}

/// pg_restore refuses a header whose integer size is above this ("sanity check on integer size").
pub const MAX_INT_SIZE: usize = 32;

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader {
            bytes,
            pos: 0,
            int_size: 4,
            signed: true,
        }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    /// Sets how integers are written, once the header said it.
    pub fn set_int_layout(&mut self, int_size: usize, version: ArchiveVersion) {
        self.int_size = int_size;
        self.signed = version > ArchiveVersion::new(1, 0, 0);
    }

    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Stop> {
        let left = self.bytes.len() - self.pos;
        if n > left {
            return Err(Stop::Ended { what, at: self.pos });
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn byte(&mut self, what: &'static str) -> Result<u8, Stop> {
        Ok(self.bytes(1, what)?[0])
    }

    /// ReadInt: a sign byte (non-zero = negative), then `int_size` bytes, least significant
    /// first. Bytes beyond the eighth must be zero: no archive pg_dump writes has such values.
    pub fn int(&mut self, what: &'static str) -> Result<i64, Stop> {
        let at = self.pos;
        let negative = if self.signed {
            self.byte(what)? != 0
        } else {
            false
        };
        let digits = self.bytes(self.int_size, what)?;
        let mut value: u64 = 0;
        for (i, b) in digits.iter().enumerate() {
            if i < 8 {
                value |= u64::from(*b) << (8 * i);
            } else if *b != 0 {
                return Err(Stop::Invalid {
                    what: format!("{what} does not fit in 64 bits"),
                    at,
                });
            }
        }
        let value = i64::try_from(value).map_err(|_| Stop::Invalid {
            what: format!("{what} does not fit in 64 bits"),
            at,
        })?;
        Ok(if negative { -value } else { value })
    }

    /// ReadStr: an integer length, then that many bytes; a negative length is NULL. The length is
    /// checked against what is left before anything is copied.
    pub fn string(&mut self, what: &'static str) -> Result<Option<String>, Stop> {
        let len = self.int(what)?;
        if len < 0 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| Stop::Ended { what, at: self.pos })?;
        let raw = self.bytes(len, what)?;
        // Tags and definitions are in the database's encoding; UTF-8 almost always. Anything
        // else is shown with replacement characters rather than refused.
        Ok(Some(String::from_utf8_lossy(raw).into_owned()))
    }

    /// ReadOffset (1.7 and later): a flag byte (1 not set, 2 set, 3 no data) and `off_size`
    /// bytes, least significant first.
    pub fn offset(&mut self, off_size: usize) -> Result<DataOffset, Stop> {
        let at = self.pos;
        let flag = self.byte("the data offset flag of a TOC entry")?;
        if !(1..=3).contains(&flag) {
            return Err(Stop::Invalid {
                what: format!("data offset flag {flag} (pg_restore knows 1, 2 and 3)"),
                at,
            });
        }
        let digits = self.bytes(off_size, "the data offset of a TOC entry")?;
        let mut offset: u64 = 0;
        for (i, b) in digits.iter().enumerate() {
            if i < 8 {
                offset |= u64::from(*b) << (8 * i);
            } else if *b != 0 {
                // pg_restore: "file offset in dump file is too large".
                return Err(Stop::Invalid {
                    what: "a data offset larger than 64 bits".to_owned(),
                    at,
                });
            }
        }
        Ok(DataOffset { flag, offset })
    }
}

/// Where a TOC entry's data lies in a custom archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataOffset {
    /// 1: position not recorded (written to a pipe), 2: `offset` is the position, 3: no data.
    pub flag: u8,
    pub offset: u64,
}
