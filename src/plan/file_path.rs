//! Where a `backup: file:<path>` may point. A relative path is read from the plan's directory and
//! must stay inside it, also once symbolic links are followed: a plan handed over by someone else
//! cannot make this tool read (and upload to the platform) a file elsewhere on this machine, such
//! as `file:../../../../etc/shadow`. An absolute path is taken as written: whoever wrote
//! `file:/srv/exports/db.psqlcustom` named that file on purpose.

use std::path::{Component, Path, PathBuf};

use super::rules::quote;

/// The path `written` (the text after `file:`) names, or why it is refused.
pub(super) fn resolve(written: &str, plan_dir: &Path) -> Result<PathBuf, String> {
    let path = Path::new(written);
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let inside = normalize(path).ok_or_else(|| outside(written, plan_dir, None))?;
    let resolved = plan_dir.join(&inside);
    // A link inside the directory may point anywhere; what it points at decides. A path that
    // does not exist yet is reported missing by the file check.
    if let (Ok(real_dir), Ok(real_file)) =
        (dir_of(plan_dir).canonicalize(), resolved.canonicalize())
        && !real_file.starts_with(&real_dir)
    {
        return Err(outside(written, plan_dir, Some(&real_file)));
    }
    Ok(resolved)
}

/// `written` without `.` segments, or `None` when a `..` climbs above its start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// The plan's directory as the file system knows it (`.` for a plan given by bare name).
fn dir_of(plan_dir: &Path) -> &Path {
    if plan_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        plan_dir
    }
}

fn outside(written: &str, plan_dir: &Path, target: Option<&Path>) -> String {
    let via = target
        .map(|t| format!(" (it leads to {})", t.display()))
        .unwrap_or_default();
    format!(
        "backup file {} is outside the plan's directory ({}){via}; a relative `file:` path must \
         stay inside it. Move the file beside the plan, or write its absolute path \
         (file:/path/to/file) to read it from there on purpose",
        quote(written),
        dir_of(plan_dir).display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside_the_plan_directory() {
        let dir = Path::new("plans");
        assert_eq!(
            resolve("exports/a.tar.gz", dir),
            Ok(PathBuf::from("plans/exports/a.tar.gz"))
        );
        assert_eq!(
            resolve("./x/../a.tar.gz", dir),
            Ok(PathBuf::from("plans/a.tar.gz"))
        );
        for bad in ["../a.tar.gz", "../../../../etc/shadow", "x/../../a", ".."] {
            let err = resolve(bad, dir).unwrap_err();
            assert!(
                err.contains("outside the plan's directory (plans)"),
                "{bad}: {err}"
            );
            assert!(err.contains("absolute path"), "{err}");
        }
    }

    #[test]
    fn absolute_paths_are_taken_as_written() {
        assert_eq!(
            resolve("/srv/exports/db.psqlcustom", Path::new("plans")),
            Ok(PathBuf::from("/srv/exports/db.psqlcustom"))
        );
    }

    #[test]
    fn a_link_inside_that_leads_outside_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let plans = root.path().join("plans");
        std::fs::create_dir(&plans).unwrap();
        std::fs::write(root.path().join("secret"), "x").unwrap();
        std::fs::write(plans.join("inside.tar.gz"), "x").unwrap();
        std::os::unix::fs::symlink("../secret", plans.join("link.tar.gz")).unwrap();
        std::os::unix::fs::symlink("inside.tar.gz", plans.join("alias.tar.gz")).unwrap();
        let err = resolve("link.tar.gz", &plans).unwrap_err();
        assert!(err.contains("it leads to"), "{err}");
        assert!(resolve("alias.tar.gz", &plans).is_ok());
        assert!(
            resolve("missing.tar.gz", &plans).is_ok(),
            "reported missing later"
        );
    }
}
