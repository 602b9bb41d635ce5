//! An opt-in copy of the access token in the AWS CLI's SSO token cache
//! (`~/.aws/sso/cache/<SHA-1 of the identifier>.json`), so `aws` and every SDK that reads
//! that cache use the one sign-in. The keychain stays the only home of the refresh token
//! and the client registration: the copy carries no refresh fields, so no other tool can
//! spend the rotating refresh token; they use the access token until it expires, and it
//! is rewritten ahead of that whenever it is refreshed here.

use crate::awsfiles::AwsFiles;
use crate::clock::rfc3339;
use crate::instance::Instance;
use crate::store::TokenSet;
use sha1::Digest;
use std::path::{Path, PathBuf};

/// How long before its expiry a shared token is replaced, at the latest: the AWS SDK for
/// JavaScript refuses a cached token without refresh fields in its last 5 minutes, and
/// the copy must stay at least 10 minutes from expiry for every SDK.
pub const SHARED_TOKEN_MARGIN: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The fields of a copy: never the refresh token or the client registration.
const COPIED_FIELDS: [&str; 4] = ["startUrl", "region", "accessToken", "expiresAt"];

/// Where, and under which identifiers, to copy one instance's access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsCliTokenCache {
    dir: PathBuf,
    instance: Instance,
    files: AwsFiles,
}

impl AwsCliTokenCache {
    /// In `dir` (the AWS CLI's `~/.aws/sso/cache`), under the start URL (read by legacy
    /// profiles) and the name of every `[sso-session]` of the config file that names this
    /// instance, as the file says each time the cache is written (a session added later,
    /// by hand or generated, is shared from the next write on). Reads the config file.
    pub fn for_instance(instance: &Instance, files: &AwsFiles, dir: &Path) -> crate::Result<Self> {
        let cache = Self {
            dir: dir.to_owned(),
            instance: instance.clone(),
            files: files.clone(),
        };
        cache.identifiers()?;
        Ok(cache)
    }

    fn identifiers(&self) -> crate::Result<Vec<String>> {
        let mut identifiers = vec![self.instance.start_url().to_owned()];
        identifiers.extend(
            self.files
                .sso_sessions_of(self.instance.start_url(), self.instance.region())?,
        );
        Ok(identifiers)
    }

    /// The files this cache writes now. A config file that cannot be read names no
    /// session: only the start URL's file.
    pub fn paths(&self) -> Vec<PathBuf> {
        let identifiers = self.identifiers().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the config file's sso-session sections cannot be read; sharing under the start URL only");
            vec![self.instance.start_url().to_owned()]
        });
        identifiers
            .iter()
            .map(|id| {
                let digest = sha1::Sha1::digest(id.as_bytes());
                self.dir.join(format!("{}.json", crate::hex(&digest)))
            })
            .collect()
    }

    /// Writes `tokens` to every file (0600, atomically, never through a symlink). A cache
    /// directory that is a symlink or another user's is refused before anything is
    /// written, and one of ours that others could enter is made private first (see
    /// `atomic_file::write_secret`).
    pub(crate) fn write(&self, instance: &Instance, tokens: &TokenSet) -> std::io::Result<()> {
        let mut json = serde_json::to_vec_pretty(&serde_json::json!({
            "startUrl": instance.start_url(),
            "region": instance.region(),
            "accessToken": tokens.access_token.expose(),
            "expiresAt": rfc3339(tokens.expires_at),
        }))
        .map_err(std::io::Error::other)?;
        json.push(b'\n');
        for path in self.paths() {
            crate::atomic_file::write_secret(&path, &json)?;
        }
        Ok(())
    }

    /// Removes every file and its lock (on sign-out); missing files are fine. The
    /// caller holds the session lock, under which every write here happens.
    pub(crate) fn remove(&self) -> std::io::Result<()> {
        for path in self.paths() {
            crate::atomic_file::remove_with_lock(&path)?;
        }
        Ok(())
    }

    /// Removes the files that hold a copy as [`Self::write`] makes it (when sharing is
    /// turned off); a file the AWS CLI wrote at its own sign-in (with refresh fields),
    /// or one that is not such JSON, stays. Missing files are fine.
    pub(crate) fn remove_copies(&self) -> std::io::Result<()> {
        for path in self.paths() {
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let ours = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes)
                .is_ok_and(|fields| {
                    fields.contains_key("accessToken")
                        && fields.keys().all(|k| COPIED_FIELDS.contains(&k.as_str()))
                });
            if ours {
                crate::atomic_file::remove_with_lock(&path)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use crate::clock::from_epoch_seconds;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn cache(home: &Path, dir: &Path) -> (AwsCliTokenCache, Instance, TokenSet) {
        let instance = Instance::new("https://example.awsapps.com/start", "eu-west-1").unwrap();
        let files = AwsFiles::new(home.join("credentials"), home.join("config"));
        let tokens = TokenSet {
            access_token: "the-token".into(),
            expires_at: from_epoch_seconds(1_800_000_000),
            refresh_token: None,
        };
        let cache = AwsCliTokenCache::for_instance(&instance, &files, dir).unwrap();
        (cache, instance, tokens)
    }

    #[test]
    fn a_token_file_left_readable_by_others_is_written_0600() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("sso/cache");
        std::fs::create_dir_all(&dir).unwrap();
        chmod(&dir, 0o755);
        let (cache, instance, tokens) = cache(home.path(), &dir);
        let [path] = cache.paths().try_into().unwrap();
        std::fs::write(&path, "{}").unwrap();
        chmod(&path, 0o644);
        cache.write(&instance, &tokens).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o7777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"accessToken\": \"the-token\""), "{text}");
    }

    #[test]
    fn a_symlink_at_the_token_file_is_replaced_not_followed() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("sso/cache");
        std::fs::create_dir_all(&dir).unwrap();
        chmod(&dir, 0o700);
        let elsewhere = home.path().join("elsewhere");
        std::fs::write(&elsewhere, "not yours").unwrap();
        chmod(&elsewhere, 0o644);
        let (cache, instance, tokens) = cache(home.path(), &dir);
        let [path] = cache.paths().try_into().unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        cache.write(&instance, &tokens).unwrap();
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "not yours");
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.mode() & 0o7777, 0o600);
    }

    #[test]
    fn a_token_cache_of_another_user_is_refused_and_nothing_written() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("sso/cache");
        std::fs::create_dir_all(&dir).unwrap();
        chmod(&dir, 0o777);
        // Only root may give a directory away; as anyone else this case is not ours to
        // stage.
        if std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).is_err() {
            return;
        }
        let (cache, instance, tokens) = cache(home.path(), &dir);
        let e = cache.write(&instance, &tokens).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
        let inner = e.get_ref().and_then(|e| e.downcast_ref::<crate::Error>());
        assert!(
            matches!(inner, Some(crate::Error::UnsafeDirectory { path, .. }) if *path == dir),
            "{e:?}"
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }
}
