//! The accounts and roles last discovered for an instance, so a browser of accounts can
//! show them at once and refresh in the background: one private JSON file per instance
//! (0600, in a 0700 directory, written atomically) in
//! [`crate::paths::Paths::accounts_cache_dir`]. Names and ids only; never a token or a key.

use crate::clock::{epoch_millis, from_epoch_millis};
use crate::instance::Instance;
use crate::portal::AccountRoles;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::SystemTime;

/// The cache directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountsCache {
    dir: PathBuf,
}

/// What one instance's file holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CachedAccounts {
    /// When the list of accounts was read from the portal.
    pub updated_at: Option<SystemTime>,
    /// The accounts, each with its roles (empty while not yet read: see `roles_read`).
    pub accounts: Vec<AccountRoles>,
    /// When each account's roles were read, by account id; an account missing here has
    /// roles not read yet.
    pub roles_read: HashMap<String, SystemTime>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    start_url: String,
    region: String,
    updated_at_ms: i64,
    accounts: Vec<AccountRoles>,
    /// Absent in files of earlier versions, which held every account's roles as of
    /// `updated_at_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    roles_read_ms: Option<HashMap<String, i64>>,
}

impl AccountsCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file of this entry.
    pub fn path_of(&self, instance: &Instance) -> PathBuf {
        self.dir.join(super::hashed_file_name(&instance.key()))
    }

    /// What is cached for `instance`; empty when nothing (readable) is. A file of another
    /// instance or of an unknown shape reads as empty, never as an error: the cache is
    /// only ever a head start.
    pub fn get(&self, instance: &Instance) -> CachedAccounts {
        let Ok(bytes) = std::fs::read(self.path_of(instance)) else {
            return CachedAccounts::default();
        };
        match serde_json::from_slice::<File>(&bytes) {
            Ok(f) if f.start_url == instance.start_url() && f.region == instance.region() => {
                let roles_read = match f.roles_read_ms {
                    Some(read) => read
                        .into_iter()
                        .map(|(id, ms)| (id, from_epoch_millis(ms)))
                        .collect(),
                    None => f
                        .accounts
                        .iter()
                        .map(|a| {
                            let at = from_epoch_millis(f.updated_at_ms);
                            (a.account.account_id.clone(), at)
                        })
                        .collect(),
                };
                CachedAccounts {
                    updated_at: Some(from_epoch_millis(f.updated_at_ms)),
                    accounts: f.accounts,
                    roles_read,
                }
            }
            _ => CachedAccounts::default(),
        }
    }

    /// Replaces what is cached for `instance` with a list whose roles were all read at
    /// `updated_at`.
    pub fn put(
        &self,
        instance: &Instance,
        accounts: &[AccountRoles],
        updated_at: SystemTime,
    ) -> std::io::Result<()> {
        let roles_read = accounts
            .iter()
            .map(|a| (a.account.account_id.clone(), updated_at))
            .collect();
        self.put_all(
            instance,
            &CachedAccounts {
                updated_at: Some(updated_at),
                accounts: accounts.to_vec(),
                roles_read,
            },
        )
    }

    /// Replaces what is cached for `instance` with `cached`.
    pub fn put_all(&self, instance: &Instance, cached: &CachedAccounts) -> std::io::Result<()> {
        let file = File {
            start_url: instance.start_url().to_owned(),
            region: instance.region().to_owned(),
            updated_at_ms: cached.updated_at.map_or(0, epoch_millis),
            accounts: cached.accounts.clone(),
            roles_read_ms: Some(
                cached
                    .roles_read
                    .iter()
                    .map(|(id, t)| (id.clone(), epoch_millis(*t)))
                    .collect(),
            ),
        };
        let bytes = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        crate::atomic_file::write(&self.path_of(instance), &bytes)
    }

    /// Forgets `instance` (on sign-out); nothing cached is fine.
    pub fn remove(&self, instance: &Instance) -> std::io::Result<()> {
        match std::fs::remove_file(self.path_of(instance)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_epoch_seconds;
    use crate::portal::{Account, Role};

    fn sample() -> Vec<AccountRoles> {
        vec![AccountRoles {
            account: Account {
                account_id: "111122223333".into(),
                account_name: "payments-prod".into(),
                email_address: None,
            },
            roles: vec![Role {
                account_id: "111122223333".into(),
                role_name: "ReadOnlyAccess".into(),
            }],
        }]
    }

    #[test]
    fn round_trip_per_instance_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AccountsCache::new(dir.path().join("a"));
        let one = Instance::new("https://one.awsapps.com/start", "eu-west-1").unwrap();
        let two = Instance::new("https://two.awsapps.com/start", "eu-west-1").unwrap();
        assert_eq!(cache.get(&one), CachedAccounts::default());
        let at = from_epoch_seconds(1_800_000_000);
        cache.put(&one, &sample(), at).unwrap();
        let got = cache.get(&one);
        assert_eq!((got.updated_at, got.accounts), (Some(at), sample()));
        assert_eq!(cache.get(&two), CachedAccounts::default());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(cache.path_of(&one))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        cache.remove(&one).unwrap();
        cache.remove(&one).unwrap();
        assert_eq!(cache.get(&one), CachedAccounts::default());
    }

    #[test]
    fn a_corrupt_file_is_an_empty_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AccountsCache::new(dir.path());
        let one = Instance::new("https://one.awsapps.com/start", "eu-west-1").unwrap();
        std::fs::write(cache.path_of(&one), b"{not json").unwrap();
        assert_eq!(cache.get(&one), CachedAccounts::default());
    }
}
