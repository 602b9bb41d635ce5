//! Role credentials of `credential_process` favourites, kept between the calls a tool
//! makes: one private file per profile (0600, in a 0700 directory, written atomically) in
//! [`crate::paths::Paths::credentials_cache_dir`]. Such favourites have no keys in
//! `~/.aws/credentials` to answer from, and a tool starts a new process for every call.

use crate::clock::{parse_rfc3339, rfc3339};
use crate::portal::RoleCredentials;
use std::path::PathBuf;

/// The cache directory and the files in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialsCache {
    dir: PathBuf,
}

impl CredentialsCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file of `profile`: its name hashed, since profile names may hold `/`.
    pub fn path_of(&self, profile: &str) -> PathBuf {
        self.dir.join(super::hashed_file_name(profile))
    }

    /// The cached credentials of `profile`, if there are readable ones for `target` (the
    /// instance, account and role they are of: a favourite pointed elsewhere since gets
    /// none).
    pub fn get(&self, profile: &str, target: &str) -> Option<RoleCredentials> {
        let bytes = std::fs::read(self.path_of(profile)).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        if s("Target").as_deref() != Some(target) {
            return None;
        }
        Some(RoleCredentials {
            access_key_id: s("AccessKeyId")?,
            secret_access_key: s("SecretAccessKey")?.into(),
            session_token: s("SessionToken")?.into(),
            expiration: parse_rfc3339(&s("Expiration")?)?,
        })
    }

    /// Stores `credentials` of `target` for `profile`.
    pub fn put(
        &self,
        profile: &str,
        target: &str,
        credentials: &RoleCredentials,
    ) -> std::io::Result<()> {
        let json = serde_json::json!({
            "Target": target,
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key.expose(),
            "SessionToken": credentials.session_token.expose(),
            "Expiration": rfc3339(credentials.expiration),
        });
        crate::atomic_file::write(&self.path_of(profile), json.to_string().as_bytes())
    }

    /// Forgets `profile`; nothing cached is fine.
    pub fn remove(&self, profile: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path_of(profile)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_epoch_seconds;

    #[test]
    fn round_trip_private_and_removable() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CredentialsCache::new(dir.path().join("c"));
        let creds = RoleCredentials {
            access_key_id: "ASIA1".into(),
            secret_access_key: "s".into(),
            session_token: "t".into(),
            expiration: from_epoch_seconds(1_800_000_000),
        };
        assert!(cache.get("team/dev", "a").is_none());
        cache.put("team/dev", "a", &creds).unwrap();
        assert_eq!(cache.get("team/dev", "a"), Some(creds));
        assert_eq!(cache.get("team/dev", "b"), None, "another target's");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(cache.path_of("team/dev"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        cache.remove("team/dev").unwrap();
        cache.remove("team/dev").unwrap();
        assert!(cache.get("team/dev", "a").is_none());
    }
}
