//! EKS tokens kept between the calls kubectl makes: kubectl runs `eks token` anew for
//! every command, and a token is good for 15 minutes. One private file per key (the
//! instance, the role, the cluster and the region), written as the credentials cache
//! writes (`atomic_file::write_secret`: 0600, in a private directory of this user, never
//! through a symlink) and read only when no one else could have put it there.

use crate::clock::{epoch_seconds, from_epoch_seconds};
use crate::eks::token::EksToken;
use crate::secret::Secret;
use std::path::PathBuf;
use std::time::SystemTime;

/// The cache directory and the files in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksTokenCache {
    files: super::SecretFiles,
}

impl EksTokenCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            files: super::SecretFiles::new(dir),
        }
    }

    /// The file of `key`: hashed, since the key holds URLs and `|`.
    pub fn path_of(&self, key: &str) -> PathBuf {
        self.files.path_of(key)
    }

    /// The cached token of `key`, if there is a readable one kubectl would still use at
    /// `now`. A file that someone else could have put there reads as none.
    pub fn get(&self, key: &str, now: SystemTime) -> Option<EksToken> {
        let v = self.files.read(key)?;
        if v.get("Key")?.as_str()? != key {
            return None;
        }
        let token = EksToken {
            token: Secret::new(v.get("Token")?.as_str()?),
            valid_until: from_epoch_seconds(v.get("ValidUntil")?.as_i64()?),
        };
        token.fresh_at(now).then_some(token)
    }

    /// Stores `token` for `key`: see `atomic_file::write_secret` for what is refused.
    /// Tokens of other keys that kubectl would no longer use go (a favourite removed, a
    /// cluster no longer used): the directory holds only live ones.
    pub fn put(&self, key: &str, token: &EksToken, now: SystemTime) -> std::io::Result<()> {
        self.files.write(
            key,
            &serde_json::json!({
                "Key": key,
                "Token": token.token.expose(),
                "ValidUntil": epoch_seconds(token.valid_until),
            }),
        )?;
        // Best effort: what cannot be removed now goes at a later write.
        let _ = self.files.remove_where(|v| {
            v.get("ValidUntil")
                .and_then(|u| u.as_i64())
                .is_some_and(|until| {
                    !EksToken {
                        token: Secret::new(""),
                        valid_until: from_epoch_seconds(until),
                    }
                    .fresh_at(now)
                })
        });
        Ok(())
    }

    /// Forgets every token whose key starts with `prefix` (such as an instance's key and
    /// `|`, on signing out of it); what cannot be read or removed is left.
    pub fn remove_keyed(&self, prefix: &str) {
        let _ = self.files.remove_where(|v| {
            v.get("Key")
                .and_then(|k| k.as_str())
                .is_some_and(|k| k.starts_with(prefix))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn token(until: i64) -> EksToken {
        EksToken {
            token: Secret::new("k8s-aws-v1.abc"),
            valid_until: from_epoch_seconds(until),
        }
    }

    #[test]
    fn round_trip_until_a_minute_before_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EksTokenCache::new(dir.path().join("eks"));
        let now = from_epoch_seconds(1_000_000);
        assert!(cache.get("k", now).is_none());
        cache.put("k", &token(1_000_900), now).unwrap();
        assert_eq!(cache.get("k", now), Some(token(1_000_900)));
        assert_eq!(cache.get("other", now), None);
        assert_eq!(
            cache.get("k", now + Duration::from_secs(839)),
            Some(token(1_000_900))
        );
        assert_eq!(cache.get("k", now + Duration::from_secs(840)), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &std::path::Path| {
                std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
            };
            assert_eq!(mode(&cache.path_of("k")), 0o600);
            assert_eq!(mode(&dir.path().join("eks")), 0o700);
        }
    }

    #[test]
    fn a_file_for_another_key_is_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EksTokenCache::new(dir.path());
        let now = from_epoch_seconds(1_000_000);
        cache.put("a", &token(1_000_900), now).unwrap();
        std::fs::copy(cache.path_of("a"), cache.path_of("b")).unwrap();
        assert!(cache.get("b", now).is_none());
    }

    #[test]
    fn tokens_no_longer_used_are_swept_on_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EksTokenCache::new(dir.path().join("eks"));
        let start = from_epoch_seconds(1_000_000);
        cache.put("old", &token(1_000_900), start).unwrap();
        cache.put("live", &token(1_001_800), start).unwrap();
        let later = start + Duration::from_secs(900);
        cache.put("new", &token(1_001_800), later).unwrap();
        assert!(!cache.path_of("old").exists());
        assert!(cache.get("live", later).is_some());
        assert!(cache.get("new", later).is_some());
    }

    #[test]
    fn an_instance_s_tokens_are_forgotten_together() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EksTokenCache::new(dir.path().join("eks"));
        let now = from_epoch_seconds(1_000_000);
        for key in [
            "eu-west-1|https://a|1|r|c|eu-west-1",
            "eu-west-1|https://a|2|r|c|us-east-1",
            "eu-west-1|https://ab|1|r|c|eu-west-1",
        ] {
            cache.put(key, &token(1_000_900), now).unwrap();
        }
        cache.remove_keyed("eu-west-1|https://a|");
        assert!(cache
            .get("eu-west-1|https://a|1|r|c|eu-west-1", now)
            .is_none());
        assert!(cache
            .get("eu-west-1|https://a|2|r|c|us-east-1", now)
            .is_none());
        assert!(cache
            .get("eu-west-1|https://ab|1|r|c|eu-west-1", now)
            .is_some());
        let left = std::fs::read_dir(dir.path().join("eks")).unwrap().count();
        assert_eq!(left, 2, "one token and its lock file");
    }

    #[cfg(unix)]
    #[test]
    fn a_token_someone_else_could_have_planted_is_not_served() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cache = EksTokenCache::new(dir.path().join("eks"));
        let now = from_epoch_seconds(1_000_000);
        cache.put("k", &token(1_000_900), now).unwrap();
        let path = cache.path_of("k");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(cache.get("k", now).is_none());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        // A symlink at the file is replaced on the next write, never followed.
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "not yours").unwrap();
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert!(cache.get("k", now).is_none());
        cache.put("k", &token(1_000_900), now).unwrap();
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "not yours");
        assert!(cache.get("k", now).is_some());
    }
}
