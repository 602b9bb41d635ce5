//! `docker-credential-aws-sso` on this machine: a symbolic link to this program (which
//! answers as the helper when run under that name), and whether docker can find it on
//! `PATH`.

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};

/// What stands where the helper's link goes, after [`place_helper`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// The link was made.
    Created,
    /// A link to the program (or the program itself) was there already.
    AlreadyThere,
    /// Something else is there, left alone: what it is.
    Taken(String),
}

/// Makes `dir/docker-credential-aws-sso` a symbolic link to `program` (its absolute
/// path), making `dir` if it is missing; never replaces anything that is there.
pub fn place_helper(program: &Path, dir: &Path) -> io::Result<Placed> {
    let link = dir.join(super::HELPER_PROGRAM);
    let program = std::fs::canonicalize(program)?;
    if let Some(placed) = what_is_there(&link, &program)? {
        return Ok(placed);
    }
    std::fs::create_dir_all(dir)?;
    match symlink(&program, &link) {
        Ok(()) => Ok(Placed::Created),
        // Made by someone else meanwhile: say what it is.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Ok(what_is_there(&link, &program)?.unwrap_or(Placed::Created))
        }
        Err(e) => Err(e),
    }
}

/// What stands at `link`: `None` when nothing does.
fn what_is_there(link: &Path, program: &Path) -> io::Result<Option<Placed>> {
    let meta = match std::fs::symlink_metadata(link) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let leads_here = std::fs::canonicalize(link).is_ok_and(|t| t == program);
    Ok(Some(if leads_here {
        Placed::AlreadyThere
    } else if meta.file_type().is_symlink() {
        let target = std::fs::read_link(link)?;
        Placed::Taken(format!("a link to {}", target.display()))
    } else if meta.is_dir() {
        Placed::Taken("a directory".into())
    } else {
        Placed::Taken("another file".into())
    }))
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "symbolic links to programs are made only on Unix; copy the program under that name instead",
    ))
}

/// The first `name` on the search path `path` (the value of `PATH`) that is a file this
/// user may run.
pub fn find_on_path(path: Option<&OsStr>, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| runnable(p))
}

/// Whether `dir` is on the search path `path` (the value of `PATH`).
pub fn dir_on_path(path: Option<&OsStr>, dir: &Path) -> bool {
    let Some(path) = path else {
        return false;
    };
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    std::env::split_paths(path)
        .filter(|d| d.is_absolute())
        .any(|d| std::fs::canonicalize(&d).unwrap_or(d) == dir)
}

fn runnable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    meta.is_file()
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;

    fn program(dir: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("aws-sso-auth");
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn placed_once_then_found_and_nothing_else_replaced() {
        let root = tempfile::tempdir().unwrap();
        let prog = program(root.path());
        let bin = root.path().join("bin");
        assert_eq!(place_helper(&prog, &bin).unwrap(), Placed::Created);
        let link = bin.join(crate::ecr::HELPER_PROGRAM);
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            prog.canonicalize().unwrap()
        );
        assert_eq!(place_helper(&prog, &bin).unwrap(), Placed::AlreadyThere);

        let path = std::env::join_paths([root.path().join("none"), bin.clone()]).unwrap();
        assert_eq!(
            find_on_path(Some(&path), crate::ecr::HELPER_PROGRAM),
            Some(link.clone())
        );
        assert!(dir_on_path(Some(&path), &bin));
        assert!(!dir_on_path(Some(&path), root.path()));
        assert_eq!(find_on_path(None, crate::ecr::HELPER_PROGRAM), None);

        let other = root.path().join("other");
        std::fs::create_dir(&other).unwrap();
        let foreign = other.join(crate::ecr::HELPER_PROGRAM);
        std::fs::write(&foreign, "someone else's").unwrap();
        assert_eq!(
            place_helper(&prog, &other).unwrap(),
            Placed::Taken("another file".into())
        );
        assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "someone else's");
        std::fs::remove_file(&foreign).unwrap();
        std::os::unix::fs::symlink("/usr/bin/true", &foreign).unwrap();
        assert_eq!(
            place_helper(&prog, &other).unwrap(),
            Placed::Taken("a link to /usr/bin/true".into())
        );
    }
}
