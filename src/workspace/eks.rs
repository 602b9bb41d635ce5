//! EKS tokens for kubectl: signed here with a role's credentials, and kept on disk while
//! kubectl would still use them, so that the many `eks token` runs of a kubectl session
//! cost one file read each.

use super::favourites::{Resolved, RoleTarget};
use super::{blocking, Workspace};
use crate::cache::EksTokenCache;
use crate::eks::token::{self, EksToken};
use crate::error::{Error, Result};
use crate::instance::validate_region;
use crate::secret::Secret;

/// The variable kubectl sets for its exec plugin, naming the `ExecCredential` version
/// it reads.
const EXEC_INFO: &str = "KUBERNETES_EXEC_INFO";

impl Workspace {
    /// A token for `cluster` as `target`, in `region` (else the favourite's, else the
    /// instance's): the one signed before while kubectl would still use it (one file
    /// read, nothing else), else one signed now with the role's credentials (a
    /// favourite's as `credential_process` gets them, signing in if the session is over)
    /// and kept for the next call. Everything given is checked before any file is read.
    pub async fn eks_token(
        &self,
        target: RoleTarget,
        cluster: &str,
        region: Option<&str>,
    ) -> Result<EksToken> {
        let cluster = token::validate_cluster_name(cluster)?.to_owned();
        let region = region.map(validate_region).transpose()?;
        let profile = match &target {
            RoleTarget::Favourite(p) => Some(p.clone()),
            RoleTarget::Role { .. } => None,
        };
        let Resolved {
            instance,
            source,
            region: own_region,
            ..
        } = self.resolve(target)?;
        let region = match region.or(own_region) {
            Some(r) => r,
            None => validate_region(instance.region())?,
        };
        let key = format!("{}|{}|{cluster}|{region}", instance.key(), source.key());
        let cache = self.eks_token_cache();
        let now = self.now();
        let (c, k) = (cache.clone(), key.clone());
        // An unreadable file only costs the cold path.
        if let Some(cached) = blocking("read of the EKS token", move || Ok(c.get(&k, now))).await? {
            return Ok(cached);
        }
        let credentials = match &profile {
            Some(p) => {
                let answer = self.favourite_credentials(p).await?;
                if let Some(e) = answer.warning {
                    tracing::warn!(error = %e, "the favourite's profile was not updated");
                }
                answer.credentials
            }
            None => {
                self.role_credentials(&instance, &source.account_id, &source.role_name)
                    .await?
            }
        };
        // Signed at the time of signing, not of the first look: the cold path can take a
        // sign-in.
        let now = self.now();
        let signed = token::token(&credentials, &cluster, &region, now)?;
        let t = signed.clone();
        let written = blocking("write of the EKS token", move || {
            cache
                .put(&key, &t, now)
                .map_err(|source| Error::WriteFailed {
                    path: cache.path_of(&key),
                    source,
                })
        })
        .await;
        if let Err(e) = written {
            // The token is good all the same; the next call signs another.
            tracing::warn!(error = %e, "the EKS token was not kept for the next call");
        }
        Ok(signed)
    }

    /// The `ExecCredential` kubectl's exec plugin prints for [`Workspace::eks_token`],
    /// in the version kubectl asks for (`KUBERNETES_EXEC_INFO`). A secret: it holds the
    /// token.
    pub async fn eks_exec_credential(
        &self,
        target: RoleTarget,
        cluster: &str,
        region: Option<&str>,
    ) -> Result<Secret> {
        let signed = self.eks_token(target, cluster, region).await?;
        let exec_info = self.shared.options.env.get(EXEC_INFO);
        Ok(signed.exec_credential(token::api_version(exec_info.as_deref())))
    }

    /// The private cache of EKS tokens, beside the credentials cache. Its keys start
    /// with the instance's key and `|` (what a sign-out forgets with
    /// [`EksTokenCache::remove_keyed`]).
    pub(super) fn eks_token_cache(&self) -> EksTokenCache {
        EksTokenCache::new(self.shared.paths.eks_tokens_cache_dir())
    }
}
