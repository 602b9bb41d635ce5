//! Replacing a user's file so that a crash leaves the old version or the new one, never a
//! mix: a temporary file in the same directory, fsync, rename over the target, fsync the
//! directory. Writers are serialised across processes with an advisory lock on a sidecar
//! file, and symlinks are followed so a dotfile manager's link stays a link.
//!
//! Files that hold nothing but secrets (the caches of tokens and credentials) are written
//! with [`write_secret`] instead: 0600 and never through a symlink, in a private
//! directory of this user ([`private_dir`]).

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
        replace_unlocked(&self.target, bytes, NewMode::Keep).map(|_| ())
    }

    /// [`Self::replace`] for a file that holds secrets: whatever the old mode let the
    /// group or others do is taken away. Returns whether it did.
    pub fn replace_private(&self, bytes: &[u8]) -> io::Result<bool> {
        replace_unlocked(&self.target, bytes, NewMode::KeepPrivate)
    }
}

/// The mode of a replaced file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NewMode {
    /// The old file's mode and owner.
    Keep,
    /// The old file's mode without what the group and others could do, and its owner.
    KeepPrivate,
    /// 0600 and this user's, whatever the old file was (which is not even looked at, so a
    /// symlink there is replaced, not followed).
    Secret,
}

/// The atomic replacement itself; callers hold the target's [`WriteLock`], so any of
/// our temporary files left in the directory belongs to a writer that died.
fn replace_unlocked(target: &Path, bytes: &[u8], mode: NewMode) -> io::Result<bool> {
    let tmp = sidecar(target, &format!("{}.tmp", std::process::id()));
    remove_stale_temporaries(target);
    let existing = match std::fs::metadata(target) {
        _ if mode == NewMode::Secret => None,
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let result = (|| {
        let mut options = OpenOptions::new();
        // `create_new` never follows a symlink at `tmp`.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        let tightened = match &existing {
            Some(m) => keep_mode_and_owner(&file, m, mode == NewMode::KeepPrivate)?,
            None => false,
        };
        #[cfg(unix)]
        if mode == NewMode::Secret {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        // A rename replaces whatever is at `target`, a symlink included, and never
        // follows it.
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

/// Replaces `path` with `bytes` that hold a secret, under its lock: the file is 0600 and
/// this user's whatever was there before, and a symlink at `path` is replaced by the file,
/// never followed. Its directory is made private ([`private_dir`]), or nothing is written
/// and the error wraps a [`crate::Error::UnsafeDirectory`].
pub fn write_secret(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    private_dir(dir).map_err(|e| match e {
        crate::Error::Io { source, .. } => source,
        refused => io::Error::new(io::ErrorKind::PermissionDenied, refused),
    })?;
    // No one else may write here now, but a link left from before must not lead the lock
    // file elsewhere.
    let lock = sidecar(path, "lock");
    if std::fs::symlink_metadata(&lock).is_ok_and(|m| m.file_type().is_symlink()) {
        std::fs::remove_file(&lock)?;
    }
    let _lock = FileLock::acquire(&lock)?;
    replace_unlocked(path, bytes, NewMode::Secret).map(|_| ())
}

/// Makes `dir` (0700; its missing parents too) unless it exists, then makes sure that it
/// is private: a directory (not a symbolic link, which is never followed) of this user.
/// One that its group or others may enter is tightened to 0700, which is said in the log;
/// anything else is refused with [`crate::Error::UnsafeDirectory`], and nothing may be
/// written in it.
pub fn private_dir(dir: &Path) -> crate::Result<()> {
    let io = |action, source| crate::Error::Io {
        action,
        path: dir.to_owned(),
        source,
    };
    let meta = match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_private_dir(parent).map_err(|e| io("create", e))?;
            }
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            // Not recursive: `mkdir` fails on a symbolic link rather than following it.
            match builder.create(dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(io("create", e)),
                _ => {}
            }
            std::fs::symlink_metadata(dir).map_err(|e| io("read", e))?
        }
        other => other.map_err(|e| io("read", e))?,
    };
    let problem = if meta.file_type().is_symlink() {
        "it is a symbolic link".to_owned()
    } else if !meta.is_dir() {
        "it is not a directory".to_owned()
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let uid = own_uid().map_err(|e| io("check the owner of", e))?;
            if meta.uid() != uid {
                format!(
                    "it belongs to user {}, not to this user ({uid})",
                    meta.uid()
                )
            } else {
                let mode = meta.mode() & 0o7777;
                if mode & 0o077 != 0 {
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                        .map_err(|e| io("make private", e))?;
                    tracing::info!(path = %dir.display(), mode = format!("{mode:04o}"), "a private directory of this user that others could enter is now 0700");
                }
                return Ok(());
            }
        }
        #[cfg(not(unix))]
        return Ok(());
    };
    Err(crate::Error::UnsafeDirectory {
        path: dir.to_owned(),
        problem,
    })
}

/// The content of `path`, a file that holds only secrets, if no one else could have put it
/// there: a regular file (not a symlink) of this user that only this user may write to,
/// in a directory of this user that no one else may write to. Anything else reads as
/// nothing, as a missing file does.
pub fn read_secret(path: &Path) -> Option<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = own_uid().ok()?;
        let ours = |m: &std::fs::Metadata| m.uid() == uid && m.mode() & 0o022 == 0;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
        let d = std::fs::symlink_metadata(dir).ok()?;
        let f = std::fs::symlink_metadata(path).ok()?;
        if !(d.is_dir() && ours(&d) && f.is_file() && ours(&f)) {
            return None;
        }
    }
    std::fs::read(path).ok()
}

/// The user id this process runs as (effective, as file ownership goes), from the
/// kernel's own answer about a socket pair: no unsafe call needed. Asked once.
#[cfg(unix)]
pub(crate) fn own_uid() -> io::Result<u32> {
    static UID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    if let Some(uid) = UID.get() {
        return Ok(*uid);
    }
    let ask = || -> io::Result<u32> {
        let (a, _b) = tokio::net::UnixStream::pair()?;
        Ok(a.peer_cred()?.uid())
    };
    // The socket needs a Tokio reactor: the caller's, or a small one of its own.
    let uid = if tokio::runtime::Handle::try_current().is_ok() {
        ask()?
    } else {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let _entered = runtime.enter();
        ask()?
    };
    Ok(*UID.get_or_init(|| uid))
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

    #[cfg(unix)]
    #[test]
    fn a_private_directory_is_made_tightened_or_refused() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
        let problem = |dir: &Path| match private_dir(dir) {
            Err(crate::Error::UnsafeDirectory { path, problem }) => {
                assert_eq!(path, dir);
                problem
            }
            other => panic!("{other:?}"),
        };
        // Made where missing (parents too), private; taken again as it is.
        let dir = root.path().join("cache/handoff");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        private_dir(&dir).unwrap();
        // Ours, but others may enter or write: tightened to 0700.
        for bits in [0o755, 0o711, 0o777, 0o1777] {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(bits)).unwrap();
            private_dir(&dir).unwrap();
            assert_eq!(mode(&dir), 0o700, "{bits:o}");
        }
        // A symbolic link, even to a private directory of ours, is never followed.
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert_eq!(problem(&link), "it is a symbolic link");
        let dangling = root.path().join("dangling");
        std::os::unix::fs::symlink(root.path().join("nowhere"), &dangling).unwrap();
        assert_eq!(problem(&dangling), "it is a symbolic link");
        assert!(!root.path().join("nowhere").exists());
        let file = root.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert_eq!(problem(&file), "it is not a directory");
        // Another user's (as root, the tests can make one): refused, and left as it is.
        let theirs = root.path().join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o777)).unwrap();
        if std::os::unix::fs::chown(&theirs, Some(65534), None).is_ok() {
            assert_eq!(
                problem(&theirs),
                format!(
                    "it belongs to user 65534, not to this user ({})",
                    own_uid().unwrap()
                )
            );
            assert_eq!(mode(&theirs), 0o777);
        }
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
