//! Deterministic demo content: files in nested folders with pseudo-random names, sizes and
//! bytes, all derived from one seed number, so every new sandbox holds exactly the same data.
//! A local splitmix64 keeps the output independent of `rand`'s algorithm choices across versions.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// `content:` of a seeded service.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContentSpec {
    /// Any number; the same number gives the same files.
    pub seed: u64,
    /// How many files (objects) to create.
    pub files: u32,
    /// Largest file size in bytes; sizes spread from 0 up to it, most of them small.
    pub max_size: u64,
    /// Folder levels above each file (0 to 3): `uploads/2024/03/name.jpg` is depth 3.
    #[serde(default = "default_depth")]
    pub depth: u8,
}

fn default_depth() -> u8 {
    3
}

/// Limits that keep a seed file from filling the disk by accident.
pub(crate) const MAX_FILES: u32 = 100_000;
pub(crate) const MAX_FILE_SIZE: u64 = 64 << 20;
pub(crate) const MAX_DEPTH: u8 = 3;

/// Deterministic pseudo-random numbers from one seed (also used by the Redis seed keys).
pub(crate) struct SplitMix64(pub u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const TOP: [&str; 6] = [
    "uploads",
    "invoices",
    "avatars",
    "exports",
    "reports",
    "thumbnails",
];
const WORDS: [&str; 12] = [
    "photo", "scan", "receipt", "order", "profile", "banner", "summary", "ledger", "export",
    "draft", "label", "ticket",
];
const EXTS: [&str; 6] = ["jpg", "png", "pdf", "txt", "csv", "json"];
const TEXT_WORDS: [&str; 10] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
];

/// One generated file: relative path and size, before its bytes are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedFile {
    pub path: PathBuf,
    pub size: u64,
    ext: &'static str,
    stream: u64,
}

/// The files a spec produces, in creation order.
pub(crate) fn plan(spec: &ContentSpec) -> Vec<PlannedFile> {
    let mut rng = SplitMix64(spec.seed);
    (0..spec.files)
        .map(|i| {
            let mut path = PathBuf::new();
            if spec.depth >= 1 {
                path.push(rng.pick(&TOP));
            }
            if spec.depth >= 2 {
                path.push(format!("{}", 2021 + rng.below(4)));
            }
            if spec.depth >= 3 {
                path.push(format!("{:02}", 1 + rng.below(12)));
            }
            let ext = rng.pick(&EXTS);
            path.push(format!("{}-{i:04}.{ext}", rng.pick(&WORDS)));
            // Squared uniform: many small files, a few near the maximum, some empty.
            let u = rng.unit();
            let size = ((u * u) * (spec.max_size as f64 + 1.0)) as u64;
            PlannedFile {
                path,
                size: size.min(spec.max_size),
                ext,
                stream: rng.next(),
            }
        })
        .collect()
}

/// Writes the spec's files under `root` (which must exist). Returns how many bytes were written.
pub(crate) fn generate(root: &Path, spec: &ContentSpec) -> io::Result<u64> {
    let mut total = 0;
    for file in plan(spec) {
        let path = root.join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut out = io::BufWriter::new(fs::File::create(&path)?);
        write_bytes(&mut out, &file)?;
        out.flush()?;
        total += file.size;
    }
    Ok(total)
}

/// Text formats get readable lines; binary ones a magic header and noise, so a file looks like
/// what its extension says.
fn write_bytes(out: &mut impl Write, file: &PlannedFile) -> io::Result<()> {
    let mut rng = SplitMix64(file.stream);
    let magic: &[u8] = match file.ext {
        "jpg" => &[0xff, 0xd8, 0xff, 0xe0],
        "png" => b"\x89PNG\r\n\x1a\n",
        "pdf" => b"%PDF-1.4\n",
        _ => b"",
    };
    let text = matches!(file.ext, "txt" | "csv" | "json");
    let corpus = text_corpus();
    let mut remaining = file.size;
    let head = &magic[..magic.len().min(remaining as usize)];
    out.write_all(head)?;
    remaining -= head.len() as u64;
    let mut buf = vec![0u8; 8192];
    while remaining > 0 {
        if text {
            // Lines cut from a fixed corpus at random places: readable, compressible, cheap.
            let mut filled = 0;
            while filled < buf.len() {
                let from = rng.below(corpus.len() as u64) as usize;
                let n = (corpus.len() - from).min(buf.len() - filled).min(200);
                buf[filled..filled + n].copy_from_slice(&corpus[from..from + n]);
                filled += n;
            }
        } else {
            for word in buf.chunks_exact_mut(8) {
                word.copy_from_slice(&rng.next().to_le_bytes());
            }
        }
        let n = buf.len().min(remaining as usize);
        out.write_all(&buf[..n])?;
        remaining -= n as u64;
    }
    Ok(())
}

/// 16 KiB of word lines, the same in every sandbox.
fn text_corpus() -> &'static [u8] {
    static CORPUS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut rng = SplitMix64(0x5E7_0F5);
        let mut text = Vec::with_capacity(16 * 1024 + 16);
        while text.len() < 16 * 1024 {
            text.extend_from_slice(rng.pick(&TEXT_WORDS).as_bytes());
            text.push(if rng.below(8) == 0 { b'\n' } else { b' ' });
        }
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(seed: u64) -> ContentSpec {
        ContentSpec {
            seed,
            files: 200,
            max_size: 65536,
            depth: 3,
        }
    }

    #[test]
    fn same_seed_same_files_other_seed_other_files() {
        assert_eq!(plan(&spec(1)), plan(&spec(1)));
        assert_ne!(plan(&spec(1)), plan(&spec(2)));
    }

    #[test]
    fn files_are_nested_three_levels_with_sizes_in_range() {
        let files = plan(&spec(7));
        assert!(files.iter().all(|f| f.path.components().count() == 4));
        assert!(files.iter().all(|f| f.size <= 65536));
        assert!(files.iter().any(|f| f.size < 1024));
        assert!(files.iter().any(|f| f.size > 32 * 1024));
    }

    #[test]
    fn generated_bytes_match_the_plan_and_repeat() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let small = ContentSpec {
            files: 20,
            ..spec(3)
        };
        let total = generate(a.path(), &small).expect("generate");
        generate(b.path(), &small).expect("generate");
        let planned: u64 = plan(&small).iter().map(|f| f.size).sum();
        assert_eq!(total, planned);
        for f in plan(&small) {
            let x = fs::read(a.path().join(&f.path)).expect("read");
            let y = fs::read(b.path().join(&f.path)).expect("read");
            assert_eq!(x.len() as u64, f.size);
            assert_eq!(x, y);
        }
    }
}
