//! What the product keeps on disk to answer at once: the account list of each instance,
//! the credentials of `credential_process` favourites between calls, the EKS tokens
//! kubectl asks for, the ECR registry passwords docker asks for, and (only when the user
//! asks) a copy of the access token in the AWS CLI's token cache. Each file is private (0600 in a 0700 directory) and written
//! atomically; none is the only copy of anything. Those that hold secrets (credentials,
//! EKS tokens, ECR passwords, the access token) are written 0600 whatever
//! was there before, never through a symlink, and only into a directory of this user
//! that no one else may write to (`atomic_file::write_secret`).

mod accounts;
mod aws_cli;
mod credentials;
mod ecr_tokens;
mod eks_tokens;

pub use accounts::{AccountsCache, CachedAccounts};
pub use aws_cli::{AwsCliTokenCache, SHARED_TOKEN_MARGIN};
pub use credentials::CredentialsCache;
pub use ecr_tokens::EcrTokenCache;
pub use eks_tokens::EksTokenCache;

use std::path::PathBuf;

/// A directory of private JSON files, one per key (its name hashed), each holding
/// secrets: written by `atomic_file::write_secret` (0600, never through a symlink, only
/// into a directory of this user that no one else may write to) and read only when no one
/// else could have put the file there (`atomic_file::read_secret`). The caches of
/// credentials, EKS tokens and registry passwords are each a typed view of one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SecretFiles {
    dir: PathBuf,
}

impl SecretFiles {
    fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path_of(&self, key: &str) -> PathBuf {
        self.dir.join(hashed_file_name(key))
    }

    /// The document of `key`, if a readable one is there.
    fn read(&self, key: &str) -> Option<serde_json::Value> {
        let bytes = crate::atomic_file::read_secret(&self.path_of(key))?;
        serde_json::from_slice(&bytes).ok()
    }

    fn write(&self, key: &str, document: &serde_json::Value) -> std::io::Result<()> {
        crate::atomic_file::write_secret(&self.path_of(key), document.to_string().as_bytes())
    }

    /// Forgets `key` (and the lock file beside it); nothing there is fine.
    fn remove(&self, key: &str) -> std::io::Result<()> {
        crate::atomic_file::remove_with_lock(&self.path_of(key))
    }

    /// Removes every file (and its lock file) whose document `gone` picks; returns how
    /// many. A file that cannot be read is left; one that cannot be removed does not stop
    /// the others (the first such failure is returned after them); a missing directory
    /// holds none.
    fn remove_where(&self, gone: impl Fn(&serde_json::Value) -> bool) -> std::io::Result<usize> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let (mut removed, mut failed) = (0, None);
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let picked = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .is_some_and(|v| gone(&v));
            if picked {
                match crate::atomic_file::remove_with_lock(&path) {
                    Ok(()) => removed += 1,
                    Err(e) => failed = failed.or(Some(e)),
                }
            }
        }
        failed.map_or(Ok(removed), Err)
    }
}

/// `<hash>.json` for a cache file keyed by `key`: profile names and start URLs may hold
/// `/` and other characters a file name cannot.
fn hashed_file_name(key: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    format!("{}.json", crate::hex(&digest[..16]))
}
