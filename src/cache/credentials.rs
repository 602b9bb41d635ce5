//! Role credentials of `credential_process` favourites, kept between the calls a tool
//! makes: one private file per profile (0600, in a directory of this user that no one else
//! may write to, written atomically and never through a symlink) in
//! [`crate::paths::Paths::credentials_cache_dir`]. Such favourites have no keys in
//! `~/.aws/credentials` to answer from, and a tool starts a new process for every call.

use crate::clock::{parse_rfc3339, rfc3339};
use crate::portal::RoleCredentials;
use std::path::PathBuf;

/// The cache directory and the files in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialsCache {
    files: super::SecretFiles,
}

impl CredentialsCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            files: super::SecretFiles::new(dir),
        }
    }

    /// The file of `profile`: its name hashed, since profile names may hold `/`.
    pub fn path_of(&self, profile: &str) -> PathBuf {
        self.files.path_of(profile)
    }

    /// The cached credentials of `profile`, if there are readable ones for `target` (the
    /// instance, account and role they are of: a favourite pointed elsewhere since gets
    /// none). A file that someone else could have put there reads as none
    /// (`atomic_file::read_secret`).
    pub fn get(&self, profile: &str, target: &str) -> Option<RoleCredentials> {
        let v = self.files.read(profile)?;
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

    /// Stores `credentials` of `target` for `profile`: see
    /// `atomic_file::write_secret` for what is refused.
    pub fn put(
        &self,
        profile: &str,
        target: &str,
        credentials: &RoleCredentials,
    ) -> std::io::Result<()> {
        self.files.write(
            profile,
            &serde_json::json!({
                "Target": target,
                "AccessKeyId": credentials.access_key_id,
                "SecretAccessKey": credentials.secret_access_key.expose(),
                "SessionToken": credentials.session_token.expose(),
                "Expiration": rfc3339(credentials.expiration),
            }),
        )
    }

    /// Forgets `profile` (and its lock file); nothing cached is fine.
    pub fn remove(&self, profile: &str) -> std::io::Result<()> {
        self.files.remove(profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_epoch_seconds;

    fn creds() -> RoleCredentials {
        RoleCredentials {
            access_key_id: "ASIA1".into(),
            secret_access_key: "s".into(),
            session_token: "t".into(),
            expiration: from_epoch_seconds(1_800_000_000),
        }
    }

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

    #[cfg(unix)]
    mod unix {
        use super::*;
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        use std::path::Path;

        fn chmod(path: &Path, mode: u32) {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }

        fn mode(path: &Path) -> u32 {
            std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
        }

        fn listing(dir: &Path) -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }

        fn unsafe_directory(e: &std::io::Error) -> Option<&crate::Error> {
            e.get_ref()?
                .downcast_ref::<crate::Error>()
                .filter(|e| matches!(e, crate::Error::UnsafeDirectory { .. }))
        }

        #[test]
        fn a_file_left_readable_by_others_is_written_0600() {
            let home = tempfile::tempdir().unwrap();
            let dir = home.path().join("c");
            std::fs::create_dir(&dir).unwrap();
            chmod(&dir, 0o700);
            let cache = CredentialsCache::new(&dir);
            let path = cache.path_of("dev");
            std::fs::write(&path, "{}").unwrap();
            chmod(&path, 0o644);
            cache.put("dev", "a", &creds()).unwrap();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            assert_eq!(meta.mode() & 0o7777, 0o600);
            assert_eq!(cache.get("dev", "a"), Some(creds()));
        }

        #[test]
        fn a_symlink_at_the_file_is_replaced_not_followed() {
            let home = tempfile::tempdir().unwrap();
            let dir = home.path().join("c");
            std::fs::create_dir(&dir).unwrap();
            chmod(&dir, 0o700);
            let elsewhere = home.path().join("elsewhere");
            std::fs::write(&elsewhere, "not yours").unwrap();
            let cache = CredentialsCache::new(&dir);
            let path = cache.path_of("dev");
            std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
            // The lock file beside it too.
            let lock_elsewhere = home.path().join("lock-elsewhere");
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let lock = dir.join(format!(".{name}.aws-sso-tray.lock"));
            std::os::unix::fs::symlink(&lock_elsewhere, &lock).unwrap();
            cache.put("dev", "a", &creds()).unwrap();
            assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "not yours");
            assert!(!lock_elsewhere.exists());
            let meta = std::fs::symlink_metadata(&path).unwrap();
            assert!(meta.is_file());
            assert_eq!(meta.mode() & 0o7777, 0o600);
            assert_eq!(cache.get("dev", "a"), Some(creds()));
        }

        #[test]
        fn a_directory_of_ours_others_may_write_to_is_made_private_first() {
            let home = tempfile::tempdir().unwrap();
            let dir = home.path().join("c");
            std::fs::create_dir(&dir).unwrap();
            chmod(&dir, 0o777);
            let cache = CredentialsCache::new(&dir);
            cache.put("dev", "a", &creds()).unwrap();
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&cache.path_of("dev")), 0o600);
        }

        #[test]
        fn credentials_someone_else_could_have_planted_are_not_served() {
            let home = tempfile::tempdir().unwrap();
            let dir = home.path().join("c");
            let cache = CredentialsCache::new(&dir);
            cache.put("dev", "a", &creds()).unwrap();
            assert!(cache.get("dev", "a").is_some());
            // The directory made writable by others: what is in it may be anyone's.
            chmod(&dir, 0o777);
            assert!(cache.get("dev", "a").is_none());
            chmod(&dir, 0o700);
            // The file writable by others.
            chmod(&cache.path_of("dev"), 0o666);
            assert!(cache.get("dev", "a").is_none());
            chmod(&cache.path_of("dev"), 0o600);
            // A symlink to a file that holds the same.
            let elsewhere = home.path().join("elsewhere.json");
            std::fs::copy(cache.path_of("dev"), &elsewhere).unwrap();
            std::fs::remove_file(cache.path_of("dev")).unwrap();
            std::os::unix::fs::symlink(&elsewhere, cache.path_of("dev")).unwrap();
            assert!(cache.get("dev", "a").is_none());
            std::fs::remove_file(cache.path_of("dev")).unwrap();
            std::fs::rename(&elsewhere, cache.path_of("dev")).unwrap();
            assert!(cache.get("dev", "a").is_some());
            // Another user's file (as root, the test can make one).
            if std::os::unix::fs::chown(cache.path_of("dev"), Some(65534), None).is_ok() {
                assert!(cache.get("dev", "a").is_none());
            }
        }

        #[test]
        fn a_directory_of_another_user_is_refused_and_its_link_not_followed() {
            let home = tempfile::tempdir().unwrap();
            chmod(home.path(), 0o755);
            let dir = home.path().join("c");
            std::fs::create_dir(&dir).unwrap();
            let elsewhere = home.path().join("elsewhere");
            std::fs::write(&elsewhere, "not yours").unwrap();
            let cache = CredentialsCache::new(&dir);
            std::os::unix::fs::symlink(&elsewhere, cache.path_of("dev")).unwrap();
            chmod(&dir, 0o755);
            // Only root may give a directory away; as anyone else this case is not ours
            // to stage.
            if std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).is_err() {
                return;
            }
            let e = cache.put("dev", "a", &creds()).unwrap_err();
            let inner = unsafe_directory(&e).expect("an UnsafeDirectory error");
            assert_eq!(
                inner.to_string(),
                format!(
                    "{} is not a private directory of this user: it belongs to user 65534, not to this user (0); no secret was written to it",
                    dir.display()
                )
            );
            assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "not yours");
            let name = cache.path_of("dev");
            assert_eq!(
                listing(&dir),
                [name.file_name().unwrap().to_string_lossy().into_owned()]
            );
        }

        #[test]
        fn a_directory_that_is_a_symlink_is_refused() {
            let home = tempfile::tempdir().unwrap();
            let real = home.path().join("real");
            std::fs::create_dir(&real).unwrap();
            chmod(&real, 0o700);
            let dir = home.path().join("c");
            std::os::unix::fs::symlink(&real, &dir).unwrap();
            let cache = CredentialsCache::new(&dir);
            let e = cache.put("dev", "a", &creds()).unwrap_err();
            let inner = unsafe_directory(&e).expect("an UnsafeDirectory error");
            assert!(
                inner.to_string().contains("it is a symbolic link"),
                "{inner}"
            );
            assert!(listing(&real).is_empty());
        }

        #[test]
        fn a_missing_directory_is_made_private() {
            let home = tempfile::tempdir().unwrap();
            let dir = home.path().join("cache/aws-sso-tray/credentials");
            let cache = CredentialsCache::new(&dir);
            cache.put("dev", "a", &creds()).unwrap();
            let mode = std::fs::symlink_metadata(&dir).unwrap().mode() & 0o777;
            assert_eq!(mode, 0o700);
            assert_eq!(cache.get("dev", "a"), Some(creds()));
        }
    }
}
