//! Decompression bombs, written by hand so a test can make one in milliseconds: a gzip stream of
//! a few bytes followed by gigabytes of zeros, encoded as one dynamic-Huffman deflate block whose
//! code gives the match "258 bytes at distance 1" two bits (deflate's best case, about 1000:1).
//! The trailer's CRC-32 and size are right, so the stream is valid to its end: whoever refuses it
//! refuses it for its size, not for damage.

use std::io::Write;

/// Bits, least significant first, as deflate packs them.
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    fn new() -> Bits {
        Bits {
            bytes: Vec::new(),
            used: 8,
        }
    }

    fn bit(&mut self, b: u32) {
        if self.used == 8 {
            self.bytes.push(0);
            self.used = 0;
        }
        if b & 1 == 1 {
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 1 << self.used;
        }
        self.used += 1;
    }

    /// A value in `n` bits, least significant first (headers, extra bits).
    fn value(&mut self, v: u32, n: u32) {
        for i in 0..n {
            self.bit(v >> i);
        }
    }

    /// A Huffman code of `n` bits, most significant first.
    fn code(&mut self, code: u32, n: u32) {
        for i in (0..n).rev() {
            self.bit(code >> i);
        }
    }

    /// `n` zero bits, a byte at a time where aligned.
    fn zeros(&mut self, mut n: u64) {
        while n > 0 && self.used != 8 {
            self.bit(0);
            n -= 1;
        }
        self.bytes.resize(self.bytes.len() + (n / 8) as usize, 0);
        for _ in 0..n % 8 {
            self.bit(0);
        }
    }

    fn align(&mut self) {
        self.used = 8;
    }
}

/// Deflate: `prefix` as a stored block, then `zeros` zero bytes in one final dynamic block.
fn deflate(prefix: &[u8], zeros: u64) -> Vec<u8> {
    assert!(prefix.len() <= 0xffff && zeros >= 1);
    let mut out = Bits::new();
    // Stored block, not final.
    out.value(0, 1);
    out.value(0, 2);
    out.align();
    let len = prefix.len() as u16;
    out.bytes.extend(len.to_le_bytes());
    out.bytes.extend((!len).to_le_bytes());
    out.bytes.extend(prefix);
    // Dynamic block, final. Literal/length code: 285 (length 258) one bit `0`, literal 0 `10`,
    // end of block `11`; distance code: 0 (distance 1) `0`, 1 `1`.
    out.value(1, 1);
    out.value(2, 2);
    out.value(286 - 257, 5);
    out.value(2 - 1, 5);
    out.value(18 - 4, 4);
    // Code length code lengths in RFC 1951 order; 18 gets `0`, 1 gets `10`, 2 gets `11`.
    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
    for sym in order {
        let len = match sym {
            18 => 1,
            1 | 2 => 2,
            _ => 0,
        };
        out.value(len, 3);
    }
    let (one, two) = ((0b10, 2), (0b11, 2));
    let run_of_zeros = |out: &mut Bits, n: u32| {
        out.code(0, 1);
        out.value(n - 11, 7);
    };
    out.code(two.0, two.1); // literal 0: length 2
    run_of_zeros(&mut out, 138); // 1..=138
    run_of_zeros(&mut out, 117); // ..=255
    out.code(two.0, two.1); // 256: length 2
    run_of_zeros(&mut out, 28); // 257..=284
    out.code(one.0, one.1); // 285: length 1
    out.code(one.0, one.1); // distance 0: length 1
    out.code(one.0, one.1); // distance 1: length 1
    // The data: one literal zero, then copies of 258 bytes at distance 1 (two zero bits each),
    // then the rest as literals.
    out.code(0b10, 2);
    let rest = zeros - 1;
    out.zeros(2 * (rest / 258));
    for _ in 0..rest % 258 {
        out.code(0b10, 2);
    }
    out.code(0b11, 2);
    out.bytes
}

fn gf2_times(mat: &[u32; 32], mut vec: u32) -> u32 {
    let mut sum = 0;
    let mut i = 0;
    while vec != 0 {
        if vec & 1 == 1 {
            sum ^= mat[i];
        }
        vec >>= 1;
        i += 1;
    }
    sum
}

fn gf2_square(square: &mut [u32; 32], mat: &[u32; 32]) {
    for n in 0..32 {
        square[n] = gf2_times(mat, mat[n]);
    }
}

/// The CRC-32 of data whose CRC is `crc`, followed by `len` zero bytes (zlib's combine method:
/// a zero byte multiplies the CRC register by a fixed matrix).
fn crc32_then_zeros(crc: u32, mut len: u64) -> u32 {
    let mut reg = !crc;
    let mut odd = [0u32; 32];
    odd[0] = 0xedb8_8320;
    for (n, slot) in odd.iter_mut().enumerate().skip(1) {
        *slot = 1 << (n - 1);
    }
    let mut even = [0u32; 32];
    gf2_square(&mut even, &odd);
    gf2_square(&mut odd, &even);
    while len > 0 {
        gf2_square(&mut even, &odd);
        if len & 1 == 1 {
            reg = gf2_times(&even, reg);
        }
        len >>= 1;
        if len == 0 {
            break;
        }
        gf2_square(&mut odd, &even);
        if len & 1 == 1 {
            reg = gf2_times(&odd, reg);
        }
        len >>= 1;
    }
    !reg
}

/// A gzip file holding `prefix` and then `zeros` zero bytes.
pub fn gzip_bomb(prefix: &[u8], zeros: u64) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(prefix);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    out.extend(deflate(prefix, zeros));
    out.extend(crc32_then_zeros(crc.sum(), zeros).to_le_bytes());
    out.extend(((prefix.len() as u64 + zeros) as u32).to_le_bytes());
    out
}

/// A `.tar.gz` of one file `name` of `size` zero bytes, as `tar czf` would write it.
pub fn tar_gz_bomb(name: &str, size: u64) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    header.set_path(name).expect("path");
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    // The data padded to whole blocks, then the two zero blocks that end an archive.
    let padded = size.div_ceil(512) * 512;
    gzip_bomb(header.as_bytes(), padded + 1024)
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write_bomb(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).expect("create bomb");
    file.write_all(bytes).expect("write bomb");
    path
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn a_small_bomb_decodes_to_exactly_its_zeros_with_a_valid_trailer() {
        let zeros = 1_000_003;
        let bomb = gzip_bomb(b"head", zeros);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bomb[..])
            .read_to_end(&mut out)
            .expect("valid gzip, CRC and size included");
        assert_eq!(&out[..4], b"head");
        assert_eq!(out.len() as u64, 4 + zeros);
        assert!(out[4..].iter().all(|b| *b == 0));
    }

    #[test]
    fn the_crc_of_appended_zeros_matches_a_direct_computation() {
        for (prefix, zeros) in [(&b""[..], 1u64), (b"abc", 999), (b"x", 70_000)] {
            let mut direct = flate2::Crc::new();
            direct.update(prefix);
            direct.update(&vec![0u8; zeros as usize]);
            let mut head = flate2::Crc::new();
            head.update(prefix);
            assert_eq!(crc32_then_zeros(head.sum(), zeros), direct.sum());
        }
    }

    #[test]
    fn two_gib_of_zeros_fit_in_about_two_megabytes() {
        let bomb = tar_gz_bomb("zeros.bin", 2 << 30);
        assert!(bomb.len() < 2_200_000, "{} bytes", bomb.len());
    }
}
