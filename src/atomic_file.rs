//! Replacing a user's file so that a crash leaves the old version or the new one, never a
//! mix: a temporary file in the same directory, fsync, rename over the target, fsync the
//! directory. Writers are serialised across processes with an advisory lock on a sidecar
//! file, and symlinks are followed so a dotfile manager's link stays a link.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What this project's sidecar files are called: `.NAME.aws-sso-tray.lock` and
/// `.NAME.aws-sso-tray.PID.tmp`.
const SIDECAR_TAG: &str = "aws-sso-tray";

/// How many symlinks deep we follow before calling it a loop (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Follows `path` through symlinks to the file that holds the bytes. The target need not
/// exist yet (a dangling link is written through, creating its target).
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "more than {MAX_LINKS} symbolic links deep (a loop?)"
    )))
}

fn sidecar(target: &Path, suffix: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{SIDECAR_TAG}.{suffix}"))
}

/// An exclusive advisory lock across processes, held until dropped (or until the
/// process dies: the OS releases it). The lock file is created 0600 and never deleted,
/// since deleting lock files races.
#[derive(Debug)]
pub struct FileLock {
    file: File,
}

impl FileLock {
    /// Waits for and takes the lock on `path`, creating it if needed.
    pub fn acquire(path: &Path) -> io::Result<Self> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        file.lock()?;
        Ok(Self { file })
    }

    /// Takes the lock on an existing `path` if no one holds it; `None` if someone does.
    pub fn try_acquire(path: &Path) -> io::Result<Option<Self>> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// The locked file, to read or write what it records.
    pub fn file(&self) -> &File {
        &self.file
    }
}

/// The lock for writers of one file: on a sidecar file beside it, not on the target,
/// which each write replaces.
#[derive(Debug)]
pub struct WriteLock {
    _lock: FileLock,
    target: PathBuf,
}

impl WriteLock {
    /// Waits for and takes the lock for `target` (already resolved).
    pub fn acquire(target: &Path) -> io::Result<Self> {
        Ok(Self {
            _lock: FileLock::acquire(&sidecar(target, "lock"))?,
            target: target.to_path_buf(),
        })
    }

    /// The file this lock is for (symlinks resolved).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Replaces the locked file's content with `bytes`: the new file gets the old one's
    /// mode (and owner, where we may set it), or 0600 when there was none.
    pub fn replace(&self, bytes: &[u8]) -> io::Result<()> {
        replace_unlocked(&self.target, bytes, false).map(|_| ())
    }

    /// [`Self::replace`] for a file that holds secrets: whatever the old mode let the
    /// group or others do is taken away. Returns whether it did.
    pub fn replace_private(&self, bytes: &[u8]) -> io::Result<bool> {
        replace_unlocked(&self.target, bytes, true)
    }
}

/// The atomic replacement itself; callers hold the target's [`WriteLock`], so any of
/// our temporary files left in the directory belongs to a writer that died.
fn replace_unlocked(target: &Path, bytes: &[u8], private: bool) -> io::Result<bool> {
    let tmp = sidecar(target, &format!("{}.tmp", std::process::id()));
    remove_stale_temporaries(target);
    let existing = match std::fs::metadata(target) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        let tightened = match &existing {
            Some(m) => keep_mode_and_owner(&file, m, private)?,
            None => false,
        };
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, target)?;
        sync_dir(target)?;
        Ok(tightened)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn remove_stale_temporaries(target: &Path) {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let prefix = format!(".{}.{SIDECAR_TAG}.", name.to_string_lossy());
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if file_name.starts_with(&prefix) && file_name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Gives `file` the old file's mode and owner; for a `private` file, without what the
/// group and others could do. Returns whether something was taken away.
#[cfg(unix)]
fn keep_mode_and_owner(file: &File, old: &std::fs::Metadata, private: bool) -> io::Result<bool> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // Only root can give a file away; for anyone else this is a no-op or refused, and
    // the file stays theirs.
    let _ = std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()));
    let mode = old.mode() & 0o7777;
    let kept = if private { mode & !0o077 } else { mode };
    file.set_permissions(std::fs::Permissions::from_mode(kept))?;
    Ok(kept != mode)
}

#[cfg(not(unix))]
fn keep_mode_and_owner(file: &File, old: &std::fs::Metadata, _private: bool) -> io::Result<bool> {
    file.set_permissions(old.permissions())?;
    Ok(false)
}

/// Makes the rename durable: on Unix a rename is only on disk once its directory is.
fn sync_dir(target: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = target;
    Ok(())
}

/// Creates `dir` and its missing parents, private to the user (0700) where it is new.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Takes the lock of `path` (through symlinks; its directory is created, private, if
/// missing), for a read-modify-write: read [`WriteLock::target`] under it, then
/// [`WriteLock::replace`].
pub fn lock_for_update(path: &Path) -> io::Result<WriteLock> {
    let target = resolve(path)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    WriteLock::acquire(&target)
}

/// Replaces `path` (through symlinks) with `bytes`, under its lock: for files that are
/// written whole, such as the caches.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    lock_for_update(path)?.replace(bytes)
}

/// Removes `path` and the lock file [`write`] left beside it; missing files are fine. Only
/// for files whose writers also hold another lock (a lock file removed while a writer
/// waits on it no longer excludes the next writer).
pub fn remove_with_lock(path: &Path) -> io::Result<()> {
    for file in [path.to_owned(), sidecar(path, "lock")] {
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn new_file_is_private_and_leaves_only_the_lock_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aws/credentials");
        write(&path, b"[a]\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"[a]\n");
        assert_eq!(
            listing(&dir.path().join("aws")),
            [".credentials.aws-sso-tray.lock", "credentials"]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir.path().join("aws")), 0o700);
        }
    }

    #[cfg(unix)]
    #[test]
    fn existing_mode_is_kept_never_widened_and_stale_temporaries_go() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(&path, "old").unwrap();
        for mode in [0o640, 0o400, 0o600] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let stale = dir.path().join(".credentials.aws-sso-tray.99999.tmp");
            std::fs::write(&stale, "half a file").unwrap();
            write(&path, format!("mode {mode:o}").as_bytes()).unwrap();
            let got = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(got, mode);
            assert!(!stale.exists());
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_written_through_and_stay_links() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/aws-credentials");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(&real, "old").unwrap();
        let hop = dir.path().join("hop");
        let link = dir.path().join("credentials");
        std::os::unix::fs::symlink("dotfiles/aws-credentials", &hop).unwrap();
        std::os::unix::fs::symlink(&hop, &link).unwrap();
        write(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        // A dangling link creates its target.
        let dangling = dir.path().join("config");
        std::os::unix::fs::symlink("dotfiles/aws-config", &dangling).unwrap();
        write(&dangling, b"c").unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("dotfiles/aws-config")).unwrap(),
            b"c"
        );
        // A loop is an error, not a hang.
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert!(write(&a, b"x").is_err());
    }
}
