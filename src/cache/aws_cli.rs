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

    /// Writes `tokens` to every file (0600, atomically).
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
            crate::atomic_file::write(&path, &json)?;
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
}
