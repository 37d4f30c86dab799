//! A directory as a `.tar.gz` backup: the contents at the archive root, entries sorted, streamed
//! in both directions. Restores go on top of what is there and refuse anything that could write
//! outside the directory (absolute paths, `..`, links, devices). All entries are checked before
//! the first byte is written, so a refused archive changes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

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

/// Restores the archive at `archive` on top of `root`: files in the archive replace files of the
/// same path, everything else stays.
pub(crate) fn restore(archive: &Path, root: &Path) -> Result<RestoreSummary> {
    // Pass 1: check every entry against the destination and against the archive's other
    // entries (a file `a` and a file `a/b` cannot both exist); nothing is written.
    let mut kinds: BTreeMap<PathBuf, bool> = BTreeMap::new();
    for_each_entry(archive, |entry| {
        let (rel, is_dir) = match plan(entry)? {
            Planned::Dir(rel) => (rel, true),
            Planned::File(rel) => (rel, false),
            Planned::Skip => return Ok(()),
        };
        check_within_archive(&mut kinds, &rel, is_dir)?;
        check_destination(root, &rel, is_dir)
    })?;
    // Pass 2: extract.
    let mut summary = RestoreSummary::default();
    fs::create_dir_all(root)
        .map_err(|e| Error::Engine(format!("creating {}: {e}", root.display())))?;
    for_each_entry(archive, |entry| match plan(entry)? {
        Planned::Dir(rel) => {
            let path = root.join(&rel);
            fs::create_dir_all(&path)
                .map_err(|e| Error::Engine(format!("creating directory {}: {e}", rel.display())))?;
            summary.dirs += 1;
            Ok(())
        }
        Planned::File(rel) => {
            summary.bytes += write_file(root, &rel, entry)?;
            summary.files += 1;
            Ok(())
        }
        Planned::Skip => Ok(()),
    })?;
    Ok(summary)
}

fn for_each_entry(
    archive: &Path,
    mut f: impl FnMut(&mut tar::Entry<'_, GzDecoder<fs::File>>) -> Result<()>,
) -> Result<()> {
    let file = fs::File::open(archive)
        .map_err(|e| Error::Engine(format!("opening the backup file: {e}")))?;
    let mut tar = Archive::new(GzDecoder::new(file));
    let entries = tar
        .entries()
        .map_err(|e| Error::Engine(format!("reading the archive: {e}")))?;
    for entry in entries {
        let mut entry = entry
            .map_err(|e| Error::Engine(format!("reading the archive (not a .tar.gz?): {e}")))?;
        f(&mut entry)?;
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

/// Streams one file through a temp name beside its destination, then renames it into place, so
/// a reader never sees half a file.
fn write_file<R: Read>(root: &Path, rel: &Path, entry: &mut tar::Entry<'_, R>) -> Result<u64> {
    let dest = root.join(rel);
    let parent = dest.parent().unwrap_or(root);
    fs::create_dir_all(parent)
        .map_err(|e| Error::Engine(format!("creating the folder of {}: {e}", rel.display())))?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{name}.restore-tmp"));
    let fail = |e: io::Error| Error::Engine(format!("writing {}: {e}", rel.display()));
    let mut out = fs::File::create(&tmp).map_err(fail)?;
    let written = io::copy(entry, &mut out).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        fail(e)
    })?;
    let header = entry.header();
    let mode = header.mode().unwrap_or(0o644) & 0o777 | 0o600;
    let applied = out
        .set_permissions(fs::Permissions::from_mode(mode))
        .and_then(|()| match header.mtime() {
            Ok(secs) => out.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
            Err(_) => Ok(()),
        });
    drop(out);
    if let Err(e) = applied.and_then(|()| fs::rename(&tmp, &dest)) {
        let _ = fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(written)
}

#[cfg(test)]
mod tests;
