//! A directory as a `.tar.gz` backup: the contents at the archive root, entries sorted, streamed
//! in both directions. Restores go on top of what is there and refuse anything that could write
//! outside the directory (absolute paths, `..`, links, devices). All entries are checked before
//! the first byte is written, so a refused archive changes nothing; what an archive may unpack to
//! is bounded (`expansion`), and it is unpacked beside the directory and moved in only when
//! complete.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::expansion::{Budget, Counted};
use super::remove_dir_if_present;
use crate::sandbox::{Error, Result};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use tar::{Archive, Builder, EntryType, HeaderMode};

/// What a backup wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct BackupSummary {
    pub files: u64,
    pub dirs: u64,
    /// Paths that are neither regular files nor directories (symlinks, sockets), left out.
    pub skipped: Vec<String>,
}

/// What a restore wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RestoreSummary {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
}

/// Writes `root`'s contents as a gzipped tar to `out`. `with_dirs: false` archives regular files
/// only (an S3 bucket has no directories, only keys with slashes).
pub(crate) fn backup(
    root: &Path,
    out: &mut dyn Write,
    with_dirs: bool,
) -> io::Result<BackupSummary> {
    // Fast compression: backups are often already-compressed media; level 6 would cost CPU for
    // next to no gain.
    let gz = GzEncoder::new(out, Compression::fast());
    let mut builder = Builder::new(gz);
    builder.mode(HeaderMode::Complete);
    builder.follow_symlinks(false);
    let mut summary = BackupSummary::default();
    walk(root, Path::new(""), &mut builder, with_dirs, &mut summary)?;
    let gz = builder.into_inner()?;
    gz.finish()?.flush()?;
    Ok(summary)
}

fn walk<W: Write>(
    root: &Path,
    rel: &Path,
    builder: &mut Builder<W>,
    with_dirs: bool,
    summary: &mut BackupSummary,
) -> io::Result<()> {
    let mut entries: Vec<fs::DirEntry> =
        fs::read_dir(root.join(rel))?.collect::<io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let rel_path = rel.join(entry.file_name());
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            if with_dirs {
                builder.append_dir(&rel_path, entry.path())?;
                summary.dirs += 1;
            }
            walk(root, &rel_path, builder, with_dirs, summary)?;
        } else if file_type.is_file() {
            let mut file = fs::File::open(entry.path())?;
            builder.append_file(&rel_path, &mut file)?;
            summary.files += 1;
        } else {
            summary.skipped.push(rel_path.display().to_string());
        }
    }
    Ok(())
}

enum Planned {
    Dir(PathBuf),
    File(PathBuf),
    Skip,
}

/// More entries than any volume a restore is meant for; bounds pass 1's memory together with
/// [`MAX_NAME_BYTES`].
const MAX_ENTRIES: u64 = 1_000_000;
/// The entries' path names, added up.
const MAX_NAME_BYTES: u64 = 64 * 1024 * 1024;

/// What pass 1 found: every entry is acceptable, and this is what pass 2 writes.
struct Checked {
    bytes: u64,
}

/// Restores the archive at `archive` on top of `root`: files in the archive replace files of the
/// same path, everything else stays. The archive is unpacked beside `root` first and moved into
/// place only once all of it is on disk, so a refused, damaged or oversized archive (or a disk
/// that fills) leaves `root` as it was and nothing behind.
pub(crate) fn restore(archive: &Path, root: &Path) -> Result<RestoreSummary> {
    let budget = Budget::for_file(archive)?;
    // Pass 1: check every entry against the destination, the archive's other entries (a file
    // `a` and a file `a/b` cannot both exist) and the budget; nothing is written.
    let checked = check_entries(archive, root, &budget)?;
    fs::create_dir_all(root)
        .map_err(|e| Error::Engine(format!("creating {}: {e}", root.display())))?;
    check_free_space(root, checked.bytes)?;
    // Pass 2: unpack into the staging directory, then move into place.
    let staging = staging_dir(root);
    remove_dir_if_present(&staging)
        .map_err(|e| Error::Engine(format!("removing the stale {}: {e}", staging.display())))?;
    let result = fs::create_dir(&staging)
        .map_err(|e| Error::Engine(format!("creating {}: {e}", staging.display())))
        .and_then(|()| unpack(archive, &staging, &budget))
        .and_then(|staged| move_into_place(staged, &staging, root));
    let cleaned = remove_dir_if_present(&staging);
    let summary = result?;
    cleaned.map_err(|e| Error::Engine(format!("removing {}: {e}", staging.display())))?;
    Ok(summary)
}

/// `.<service>.restore-staging.tmp` beside the service's directory: the same file system (so
/// moving is a rename), and a name no service can have.
fn staging_dir(root: &Path) -> PathBuf {
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    root.parent()
        .unwrap_or(root)
        .join(format!(".{name}.restore-staging.tmp"))
}

fn check_entries(archive: &Path, root: &Path, budget: &Budget) -> Result<Checked> {
    let mut kinds: BTreeMap<PathBuf, bool> = BTreeMap::new();
    let (mut bytes, mut entries, mut names) = (0u64, 0u64, 0u64);
    for_each_entry(archive, budget, |entry| {
        entries += 1;
        if entries > MAX_ENTRIES {
            return Err(Error::Engine(format!(
                "the archive holds more than {MAX_ENTRIES} entries; refused, nothing was written"
            )));
        }
        let (rel, is_dir) = match plan(entry)? {
            Planned::Dir(rel) => (rel, true),
            Planned::File(rel) => (rel, false),
            Planned::Skip => return Ok(()),
        };
        names += rel.as_os_str().len() as u64;
        if names > MAX_NAME_BYTES {
            return Err(Error::Engine(format!(
                "the archive's path names add up to more than {MAX_NAME_BYTES} bytes; refused, \
                 nothing was written"
            )));
        }
        if !is_dir {
            // The header says how much the entry unpacks to (a sparse file: its full size),
            // before a byte of it is decompressed.
            bytes = bytes.saturating_add(unpacked_size(entry));
            if !budget.allows(bytes) {
                return Err(budget.exceeded("the archive", Some(bytes)));
            }
        }
        check_within_archive(&mut kinds, &rel, is_dir)?;
        check_destination(root, &rel, is_dir)
    })?;
    Ok(Checked { bytes })
}

fn unpacked_size<R: Read>(entry: &tar::Entry<'_, R>) -> u64 {
    let sparse = entry
        .header()
        .as_gnu()
        .and_then(|gnu| gnu.real_size().ok())
        .unwrap_or(0);
    entry.size().max(sparse)
}

/// Refuses a restore the file system cannot hold, before writing anything.
fn check_free_space(root: &Path, needed: u64) -> Result<()> {
    let stats = nix::sys::statvfs::statvfs(root)
        .map_err(|e| Error::Engine(format!("reading the free space of {}: {e}", root.display())))?;
    let free = stats
        .blocks_available()
        .saturating_mul(stats.fragment_size());
    if needed > free {
        return Err(Error::Engine(format!(
            "the archive unpacks to {needed} bytes, but the file system holding {} has only \
             {free} bytes free; free some space and restore again (nothing was written)",
            root.display()
        )));
    }
    Ok(())
}

/// What pass 2 put into the staging directory, in archive order.
struct Staged {
    dirs: Vec<PathBuf>,
    /// (destination relative to the root, name in the staging directory)
    files: Vec<(PathBuf, String)>,
    bytes: u64,
}

fn unpack(archive: &Path, staging: &Path, budget: &Budget) -> Result<Staged> {
    let mut staged = Staged {
        dirs: Vec::new(),
        files: Vec::new(),
        bytes: 0,
    };
    for_each_entry(archive, budget, |entry| match plan(entry)? {
        Planned::Dir(rel) => {
            staged.dirs.push(rel);
            Ok(())
        }
        Planned::File(rel) => {
            let name = staged.files.len().to_string();
            staged.bytes += write_staged(&staging.join(&name), &rel, entry)?;
            if !budget.allows(staged.bytes) {
                return Err(budget.exceeded("the archive", Some(staged.bytes)));
            }
            staged.files.push((rel, name));
            Ok(())
        }
        Planned::Skip => Ok(()),
    })?;
    Ok(staged)
}

/// Renames every staged file to its place (replacing a file of the same path) and creates the
/// archive's directories. Renames within one file system need no space.
fn move_into_place(staged: Staged, staging: &Path, root: &Path) -> Result<RestoreSummary> {
    let mut summary = RestoreSummary {
        bytes: staged.bytes,
        ..RestoreSummary::default()
    };
    for rel in &staged.dirs {
        fs::create_dir_all(root.join(rel))
            .map_err(|e| Error::Engine(format!("creating directory {}: {e}", rel.display())))?;
        summary.dirs += 1;
    }
    for (rel, name) in &staged.files {
        let dest = root.join(rel);
        let fail = |e: io::Error| Error::Engine(format!("writing {}: {e}", rel.display()));
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(fail)?;
        }
        fs::rename(staging.join(name), &dest).map_err(fail)?;
        summary.files += 1;
    }
    Ok(summary)
}

fn for_each_entry(
    archive: &Path,
    budget: &Budget,
    mut f: impl FnMut(&mut tar::Entry<'_, Counted<GzDecoder<fs::File>>>) -> Result<()>,
) -> Result<()> {
    let file = fs::File::open(archive)
        .map_err(|e| Error::Engine(format!("opening the backup file: {e}")))?;
    let (counted, meter) = budget.count(GzDecoder::new(file));
    let mut tar = Archive::new(counted);
    // An error from the decompressor past its budget is the bomb, whatever tar calls it.
    let refused = |e: io::Error, context: &str| {
        if meter.exceeded() {
            budget.exceeded("the archive", None)
        } else {
            Error::Engine(format!("{context}: {e}"))
        }
    };
    let entries = tar
        .entries()
        .map_err(|e| refused(e, "reading the archive"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| refused(e, "reading the archive (not a .tar.gz?)"))?;
        f(&mut entry).map_err(|e| {
            if meter.exceeded() {
                budget.exceeded("the archive", None)
            } else {
                e
            }
        })?;
    }
    Ok(())
}

/// The entry's safe relative destination, or why it is refused.
fn plan<R: Read>(entry: &tar::Entry<'_, R>) -> Result<Planned> {
    let raw = entry
        .path()
        .map_err(|e| Error::Engine(format!("archive entry with an unreadable path: {e}")))?;
    let shown = raw.display().to_string();
    let mut rel = PathBuf::new();
    for component in raw.components() {
        match component {
            Component::Normal(part) => rel.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(Error::Engine(format!(
                    "archive entry `{shown}` contains `..`; refusing to write outside the service's data"
                )));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(Error::Engine(format!(
                    "archive entry `{shown}` is an absolute path; entries must be relative to the archive root"
                )));
            }
        }
    }
    let kind = entry.header().entry_type();
    match kind {
        EntryType::Directory if rel.as_os_str().is_empty() => Ok(Planned::Skip),
        EntryType::Directory => Ok(Planned::Dir(rel)),
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
            if rel.as_os_str().is_empty() {
                Err(Error::Engine(format!(
                    "archive entry `{shown}` is a file without a name"
                )))
            } else {
                Ok(Planned::File(rel))
            }
        }
        EntryType::XGlobalHeader => Ok(Planned::Skip),
        other => Err(Error::Engine(format!(
            "archive entry `{shown}` is a {}; backups may hold only regular files and directories",
            describe(other)
        ))),
    }
}

fn describe(kind: EntryType) -> &'static str {
    match kind {
        EntryType::Symlink => "symbolic link",
        EntryType::Link => "hard link",
        EntryType::Char => "character device",
        EntryType::Block => "block device",
        EntryType::Fifo => "named pipe",
        _ => "special entry",
    }
}

fn check_within_archive(
    kinds: &mut BTreeMap<PathBuf, bool>,
    rel: &Path,
    is_dir: bool,
) -> Result<()> {
    let conflict = || {
        Error::Engine(format!(
            "archive entry `{}` conflicts with another entry of the same name",
            rel.display()
        ))
    };
    for ancestor in rel
        .ancestors()
        .skip(1)
        .filter(|a| !a.as_os_str().is_empty())
    {
        if !*kinds.entry(ancestor.to_path_buf()).or_insert(true) {
            return Err(conflict());
        }
    }
    if *kinds.entry(rel.to_path_buf()).or_insert(is_dir) != is_dir {
        return Err(conflict());
    }
    Ok(())
}

/// Every existing ancestor of the destination must be a real directory (not a symlink, not a
/// file), and the destination itself must not be of the other kind.
fn check_destination(root: &Path, rel: &Path, is_dir: bool) -> Result<()> {
    let mut path = root.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let last = i + 1 == parts.len();
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::Engine(format!("checking {}: {e}", rel.display()))),
        };
        // The file itself may be a symlink: the rename replaces the link, not its target.
        let replaced_file = last && !is_dir;
        if meta.file_type().is_symlink() && !replaced_file {
            return Err(Error::Engine(format!(
                "`{}` goes through a symbolic link in the service's data; refusing to follow it",
                rel.display()
            )));
        }
        let conflict = if last {
            if is_dir {
                !meta.is_dir()
            } else {
                meta.is_dir()
            }
        } else {
            !meta.is_dir()
        };
        if conflict {
            return Err(Error::Engine(format!(
                "`{}` would replace a {} of the same name in the service's data",
                rel.display(),
                if meta.is_dir() { "directory" } else { "file" }
            )));
        }
    }
    Ok(())
}

/// Streams one entry into `path` in the staging directory, with the entry's mode and time.
fn write_staged<R: Read>(path: &Path, rel: &Path, entry: &mut tar::Entry<'_, R>) -> Result<u64> {
    let fail = |e: io::Error| Error::Engine(format!("writing {}: {e}", rel.display()));
    let mut out = fs::File::create(path).map_err(fail)?;
    let written = io::copy(entry, &mut out).map_err(fail)?;
    let header = entry.header();
    let mode = header.mode().unwrap_or(0o644) & 0o777 | 0o600;
    out.set_permissions(fs::Permissions::from_mode(mode))
        .and_then(|()| match header.mtime() {
            Ok(secs) => out.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
            Err(_) => Ok(()),
        })
        .map_err(fail)?;
    Ok(written)
}

#[cfg(test)]
mod tests;
