//! ECR registry passwords kept between the calls docker makes: docker runs its credential
//! helper anew for every pull and push, and a password is good for 12 hours. One private
//! file per registry, naming the favourite's source it was got with (a registry given
//! to another favourite, or a favourite pointed elsewhere, gets none), written as the
//! credentials cache writes (`atomic_file::write_secret`: 0600, in a private directory
//! of this user, never through a symlink) and read only when no one else could have put
//! it there.

use crate::clock::{parse_rfc3339, rfc3339};
use crate::ecr::AuthorizationToken;
use crate::secret::Secret;
use std::path::PathBuf;

/// The cache directory and the files in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrTokenCache {
    files: super::SecretFiles,
}

impl EcrTokenCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            files: super::SecretFiles::new(dir),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.files.dir
    }

    /// The file of the registry `registry` (its host): hashed, as every cache file.
    pub fn path_of(&self, registry: &str) -> PathBuf {
        self.files.path_of(registry)
    }

    /// The cached token of `registry`, if there is a readable one got with `source` (a
    /// favourite's instance and source). A file that someone else could have put there
    /// reads as none.
    pub fn get(&self, registry: &str, source: &str) -> Option<AuthorizationToken> {
        let v = self.files.read(registry)?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str());
        if s("Registry")? != registry || s("Source")? != source {
            return None;
        }
        Some(AuthorizationToken {
            token: Secret::new(s("AuthorizationToken")?),
            expires_at: parse_rfc3339(s("ExpiresAt")?)?,
        })
    }

    /// Stores `token` of `registry`, got with `source`: see `atomic_file::write_secret`
    /// for what is refused.
    pub fn put(
        &self,
        registry: &str,
        source: &str,
        token: &AuthorizationToken,
    ) -> std::io::Result<()> {
        self.files.write(
            registry,
            &serde_json::json!({
                "Registry": registry,
                "Source": source,
                "AuthorizationToken": token.token.expose(),
                "ExpiresAt": rfc3339(token.expires_at),
            }),
        )
    }

    /// Forgets the token of `registry` (and the lock file beside it); nothing cached is
    /// fine.
    pub fn remove(&self, registry: &str) -> std::io::Result<()> {
        self.files.remove(registry)
    }

    /// Forgets every token got with a source that starts with `prefix` (an instance's
    /// key and `|`: the tokens of its favourites, at its sign-out). Returns how many.
    pub fn remove_sources(&self, prefix: &str) -> std::io::Result<usize> {
        self.files.remove_where(|v| {
            v.get("Source")
                .and_then(|s| s.as_str())
                .is_some_and(|s| s.starts_with(prefix))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_epoch_seconds;

    fn token() -> AuthorizationToken {
        AuthorizationToken {
            token: Secret::new("QVdTOnBhc3N3b3Jk"),
            expires_at: from_epoch_seconds(1_800_000_000),
        }
    }

    const HOST: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

    #[test]
    fn round_trip_per_registry_and_source_private_and_removable() {
        let home = tempfile::tempdir().unwrap();
        let cache = EcrTokenCache::new(home.path().join("ecr-tokens"));
        assert_eq!(cache.get(HOST, "a"), None);
        cache.put(HOST, "a", &token()).unwrap();
        assert_eq!(cache.get(HOST, "a"), Some(token()));
        assert_eq!(cache.get(HOST, "b"), None, "another source's");
        assert_eq!(
            cache.get("123456789012.dkr.ecr.eu-west-2.amazonaws.com", "a"),
            None,
            "another registry's"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &std::path::Path| {
                std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
            };
            assert_eq!(mode(&cache.path_of(HOST)), 0o600);
            assert_eq!(mode(&home.path().join("ecr-tokens")), 0o700);
        }
        cache.remove(HOST).unwrap();
        cache.remove(HOST).unwrap();
        assert_eq!(cache.get(HOST, "a"), None);
    }

    #[test]
    fn the_tokens_of_one_instance_go_together() {
        let home = tempfile::tempdir().unwrap();
        let cache = EcrTokenCache::new(home.path().join("ecr-tokens"));
        assert_eq!(cache.remove_sources("x|").unwrap(), 0, "no directory yet");
        let other = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        let third = "210987654321.dkr.ecr.us-east-1.amazonaws.com";
        cache
            .put(HOST, "https://a|eu-west-1|dev", &token())
            .unwrap();
        cache
            .put(other, "https://a|eu-west-1|ops", &token())
            .unwrap();
        cache
            .put(third, "https://b|eu-west-1|dev", &token())
            .unwrap();
        assert_eq!(cache.remove_sources("https://a|eu-west-1|").unwrap(), 2);
        assert_eq!(cache.get(HOST, "https://a|eu-west-1|dev"), None);
        assert_eq!(cache.get(other, "https://a|eu-west-1|ops"), None);
        assert_eq!(cache.get(third, "https://b|eu-west-1|dev"), Some(token()));
    }

    #[cfg(unix)]
    #[test]
    fn a_token_someone_else_could_have_planted_is_not_served_nor_a_link_followed() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("ecr-tokens");
        let cache = EcrTokenCache::new(&dir);
        cache.put(HOST, "a", &token()).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(cache.get(HOST, "a"), None);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        // A symlink at the file leads nowhere: replaced, not written through.
        let elsewhere = home.path().join("elsewhere");
        std::fs::write(&elsewhere, "not yours").unwrap();
        std::fs::remove_file(cache.path_of(HOST)).unwrap();
        std::os::unix::fs::symlink(&elsewhere, cache.path_of(HOST)).unwrap();
        assert_eq!(cache.get(HOST, "a"), None);
        cache.put(HOST, "a", &token()).unwrap();
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "not yours");
        assert_eq!(cache.get(HOST, "a"), Some(token()));
    }
}
