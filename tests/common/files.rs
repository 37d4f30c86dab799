//! Engine tests' files: plans copied out of the source tree, their state directory, and data
//! trees compared file by file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every file under `root` by its path relative to `root`, with the SHA-256 of its bytes
/// (a symlink by its target text). A missing root is an empty tree.
pub fn tree_hashes(root: &Path) -> BTreeMap<String, String> {
    use sha2::{Digest, Sha256};
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.expect("directory entry");
            let path = entry.path();
            let kind = entry.file_type().expect("file type");
            let rel = path
                .strip_prefix(root)
                .expect("below root")
                .to_string_lossy()
                .into_owned();
            if kind.is_dir() {
                walk(root, &path, out);
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&path).expect("link");
                out.insert(rel, format!("link:{}", target.display()));
            } else {
                let bytes = std::fs::read(&path).expect("file");
                out.insert(rel, hex::encode(Sha256::digest(&bytes)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// How tree `b` differs from tree `a` (at most 5 lines), empty when they hold the same files
/// with the same bytes.
pub fn tree_diff(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, hash) in a {
        match b.get(path) {
            None => out.push(format!("missing {path}")),
            Some(h) if h != hash => out.push(format!("different bytes in {path}")),
            Some(_) => {}
        }
    }
    for path in b.keys().filter(|p| !a.contains_key(*p)) {
        out.push(format!("extra {path}"));
    }
    let total = out.len();
    if total > 5 {
        out.truncate(5);
        out.push(format!("... {} more", total - 5));
    }
    out
}

/// Copies `tests/plans/run/<name>` into a new temp dir, so journals (beside the plan by default)
/// and test files never land in the source tree. Returns the dir and the copied plan's path.
pub fn plan_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/plans/run")
        .join(name);
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = dir.path().join(name);
    std::fs::copy(&source, &plan).unwrap_or_else(|e| panic!("copying {}: {e}", source.display()));
    (dir, plan)
}

/// The default state directory of a plan: `.setops-migrate/` beside it.
pub fn state_dir_of(plan: &Path) -> PathBuf {
    plan.parent().expect("plan dir").join(".setops-migrate")
}

/// The one journal in a plan's default state directory, as JSON.
pub fn journal_of(plan: &Path) -> serde_json::Value {
    let state = state_dir_of(plan);
    let stem = plan
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("plan name")
        .to_owned();
    let path = std::fs::read_dir(&state)
        .expect("state dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "json")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{stem}-")))
        })
        .expect("a journal of the plan");
    serde_json::from_slice(&std::fs::read(&path).expect("read journal")).expect("journal JSON")
}
