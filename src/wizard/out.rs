//! Where the plan goes: `plans/<target>.yaml` unless `--out` says otherwise, never over an existing
//! file without a yes; the proof that the text loads as a valid plan; and the final write.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use super::prompter::Prompter;
use crate::error::{Error, Result};
use crate::plan::{Plan, load_plan};

pub fn default_path(target: &str) -> PathBuf {
    Path::new("plans").join(format!("{target}.yaml"))
}

/// The plan's directory, `.` for a bare file name.
pub fn plan_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The first free `plans/<target>-N.yaml`, as the default when the user keeps an existing file.
fn free_variant(path: &Path) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "yaml".to_owned());
    (2..100)
        .map(|n| plan_dir(path).join(format!("{stem}-{n}.{ext}")))
        .find(|p| !p.exists())
}

fn new_file(text: &str) -> std::result::Result<(), String> {
    if text.is_empty() {
        return Err("give a file name for the plan, such as plans/migration.yaml".to_owned());
    }
    let path = Path::new(text);
    if path.is_dir() {
        Err(format!("{text} is a directory; give a file name inside it"))
    } else if path.exists() {
        Err(format!("{text} exists; choose another file name"))
    } else {
        Ok(())
    }
}

/// The file the plan is written to; an existing one is replaced only after a yes.
pub fn choose(prompter: &mut dyn Prompter, out: Option<&Path>, target: &str) -> Result<PathBuf> {
    let path = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_path(target));
    if path.is_dir() {
        return Err(Error::Usage(format!(
            "{} is a directory; pass --out with the plan's file name",
            path.display()
        )));
    }
    if !path.exists()
        || prompter.confirm(&format!("{} exists; overwrite it?", path.display()), false)?
    {
        return Ok(path);
    }
    let suggestion = free_variant(&path).map(|p| p.display().to_string());
    let answer = prompter.input("Write the plan to", suggestion.as_deref(), &new_file)?;
    Ok(PathBuf::from(answer))
}

/// Directories `create_dir_all(dir)` would create, deepest first.
fn missing_dirs(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect()
}

/// Loads `yaml` as the plan at `path` would be loaded (relative `file:` paths resolve against its
/// directory) without leaving anything behind: a hidden temporary file in that directory, and
/// the directory itself only while checking.
pub fn load_checked(path: &Path, yaml: &str) -> Result<Plan> {
    let dir = plan_dir(path);
    let created = missing_dirs(dir);
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating the plan directory", dir, e))?;
    let loaded = (|| {
        let mut file = tempfile::Builder::new()
            .prefix(".wizard-check-")
            .suffix(".yaml")
            .tempfile_in(dir)
            .map_err(|e| Error::io("creating a temporary plan in", dir, e))?;
        file.write_all(yaml.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| Error::io("writing a temporary plan in", dir, e))?;
        Ok::<_, Error>(load_plan(file.path()))
    })();
    for d in &created {
        // Only empty directories go; anything someone put there meanwhile stays.
        let _ = std::fs::remove_dir(d);
    }
    match loaded? {
        Ok(mut plan) => {
            plan.path = path.to_path_buf();
            Ok(plan)
        }
        Err(issues) => Err(Error::Internal(format!(
            "the wizard made a plan that does not load, please report this:\n{}",
            issues
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        ))),
    }
}

/// Plans are shared files (checked in, read by CI), unlike journals and dumps.
const PLAN_MODE: u32 = 0o644;

/// Writes the plan: complete or not at all (temporary file + rename), readable by all (0644).
pub fn write_plan(path: &Path, yaml: &str) -> Result<()> {
    let dir = plan_dir(path);
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating the plan directory", dir, e))?;
    crate::fsio::replace_with(path, PLAN_MODE, |file| file.write_all(yaml.as_bytes()))
        .map_err(|e| Error::io("writing the plan", path, e))
}

/// `path` made absolute against the current directory, with `.` and `..` folded and symlinks of
/// its existing part resolved, so two such paths can be compared component by component.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    let cwd =
        std::env::current_dir().map_err(|e| Error::io("reading", "the current directory", e))?;
    let mut folded = PathBuf::new();
    for c in cwd.join(path).components() {
        match c {
            Component::ParentDir => {
                folded.pop();
            }
            Component::CurDir => {}
            other => folded.push(other),
        }
    }
    let existing = folded
        .ancestors()
        .find(|a| a.exists())
        .unwrap_or(Path::new("/"));
    let real = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    // Joining an empty rest would add a trailing slash, which a file does not take.
    match folded.strip_prefix(existing) {
        Ok(rest) if !rest.as_os_str().is_empty() => Ok(real.join(rest)),
        _ => Ok(real),
    }
}

/// How a plan at `plan` names `file`: relative to the plan's directory when the file lies inside
/// it, else absolute (the plan loader refuses a relative path that leaves the plan's directory;
/// a file picked in the wizard is named on purpose).
pub fn path_from_plan(plan: &Path, file: &Path) -> Result<String> {
    let base = absolute(plan_dir(plan))?;
    let file = absolute(file)?;
    match file.strip_prefix(&base) {
        Ok(relative) if !relative.as_os_str().is_empty() => Ok(relative.display().to_string()),
        _ => Ok(file.display().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::wizard::prompter::{Answer, ScriptedPrompter};

    #[test]
    fn files_are_named_from_the_plans_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let file = root.join("exports/a.tar.gz");
        let plan = root.join("plans/x.yaml");
        assert_eq!(
            path_from_plan(&plan, &file).unwrap(),
            file.display().to_string(),
            "outside the plan's directory: absolute"
        );
        assert_eq!(
            path_from_plan(&root.join("x.yaml"), &file).unwrap(),
            "exports/a.tar.gz"
        );
        let nested = root.join("plans/sub/../x.yaml");
        assert_eq!(
            path_from_plan(&nested, &file).unwrap(),
            file.display().to_string()
        );
        std::fs::create_dir_all(root.join("exports")).unwrap();
        std::fs::write(&file, "x").unwrap();
        assert_eq!(
            absolute(&file).unwrap(),
            file,
            "an existing file keeps its name"
        );
    }

    #[test]
    fn an_existing_plan_is_kept_unless_confirmed() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("files2.yaml");
        std::fs::write(&existing, "old").unwrap();
        let mut yes = ScriptedPrompter::new([Answer::Yes]);
        assert_eq!(
            choose(&mut yes, Some(&existing), "files2").unwrap(),
            existing
        );

        let mut no = ScriptedPrompter::new([
            Answer::No,
            Answer::Text(existing.display().to_string()),
            Answer::Default,
        ]);
        let chosen = choose(&mut no, Some(&existing), "files2").unwrap();
        assert_eq!(chosen, dir.path().join("files2-2.yaml"));
        assert!(
            no.rejected[0]
                .reason
                .contains("exists; choose another file name")
        );
    }

    #[test]
    fn the_default_is_under_plans() {
        assert_eq!(default_path("files2"), PathBuf::from("plans/files2.yaml"));
    }

    #[test]
    fn written_plans_are_0644_and_replace_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/dir/p.yaml");
        write_plan(&path, "a: 1\n").unwrap();
        write_plan(&path, "a: 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a: 2\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn checking_a_plan_leaves_no_trace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plans/x.yaml");
        let err = load_checked(&path, "version: 2\n").unwrap_err().to_string();
        assert!(err.contains("does not load"), "{err}");
        assert!(
            !dir.path().join("plans").exists(),
            "the checking directory is removed"
        );
    }
}
