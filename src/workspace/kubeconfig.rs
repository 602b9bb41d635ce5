//! The EKS clusters a favourite sees, and their entries in the person's kubeconfig: a
//! cluster, a user whose exec plugin runs `aws-sso-auth eks token`, and a context.

use super::{blocking, Workspace};
use crate::eks::kubeconfig::{
    Added, ClusterEntries, EksClusters, Kubeconfig, KubeconfigRequest, Removal, Removed,
};
use crate::eks::token::validate_cluster_name;
use crate::error::{Error, Result};
use crate::instance::validate_region;
use crate::portal::RoleCredentials;
use crate::sdk::CallError;

/// At most this many pages of ListClusters (100 clusters each) are read.
const MAX_PAGES: usize = 100;

/// A favourite's credentials and the region its EKS calls go to.
struct EksCaller {
    client: aws_sdk_eks::Client,
    profile: String,
    region: String,
    endpoint: String,
}

impl EksCaller {
    /// What a failed call means, as one sentence.
    fn error(&self, operation: &'static str, call: CallError, cluster: Option<&str>) -> Error {
        let denied = matches!(&call, CallError::Service { code, status, .. }
            if *status == 403 || code == "AccessDeniedException" || code == "AccessDenied");
        if denied {
            return Error::EksAccessDenied {
                profile: self.profile.clone(),
                operation,
                region: self.region.clone(),
            };
        }
        if let (Some(cluster), Some("ResourceNotFoundException")) = (cluster, call.code()) {
            return Error::EksClusterNotFound {
                profile: self.profile.clone(),
                cluster: cluster.to_owned(),
                region: self.region.clone(),
            };
        }
        let detail = if call.is_throttle() {
            "EKS kept throttling it (too many requests)".to_owned()
        } else {
            match call {
                CallError::Service { code, message, .. } => match message {
                    Some(m) => format!("{code} ({m})"),
                    None => code,
                },
                CallError::Network(source) => {
                    format!("could not reach {}: {source}", self.endpoint)
                }
                CallError::Gateway { status } => format!(
                    "{} answered HTTP {status} with no AWS error in it, as a proxy or gateway does",
                    self.endpoint
                ),
                CallError::Unexpected(detail) => detail,
            }
        };
        Error::Eks {
            operation,
            region: self.region.clone(),
            detail,
        }
    }
}

impl Workspace {
    /// The kubeconfig entries are written to: `KUBECONFIG`'s first file, else
    /// `~/.kube/config`.
    pub fn kubeconfig(&self) -> Result<Kubeconfig> {
        Kubeconfig::from_env(self.shared.options.env.lookup())
    }

    /// An EKS client with `profile`'s credentials (as `credential_process` gets them,
    /// signing in if the session is over), in `region` (else the favourite's, else its
    /// instance's).
    async fn eks_caller(&self, profile: &str, region: Option<&str>) -> Result<EksCaller> {
        let region = region.map(validate_region).transpose()?;
        let answer = self.favourite_credentials(profile).await?;
        if let Some(e) = &answer.warning {
            tracing::warn!(error = %e, "the favourite's profile was not updated");
        }
        let f = &answer.favourite;
        let region = match region.or_else(|| f.region.clone()) {
            Some(r) => r,
            None => validate_region(f.instance.region())?,
        };
        let endpoints = crate::Endpoints::from_env(self.shared.options.env.lookup())?;
        let credentials: &RoleCredentials = &answer.credentials;
        Ok(EksCaller {
            client: crate::sdk::eks_client(credentials, &region, endpoints.eks.as_deref()),
            endpoint: endpoints
                .eks
                .clone()
                .unwrap_or_else(|| format!("https://eks.{region}.amazonaws.com")),
            profile: profile.to_owned(),
            region,
        })
    }

    /// The clusters `profile`'s role sees in `region` (else the favourite's, else its
    /// instance's): every page of ListClusters.
    pub async fn eks_clusters(&self, profile: &str, region: Option<&str>) -> Result<EksClusters> {
        let caller = self.eks_caller(profile, region).await?;
        let mut clusters = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = caller
                .client
                .list_clusters()
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| caller.error("ListClusters", crate::sdk::classify(e), None))?;
            clusters.extend(page.clusters.unwrap_or_default());
            match page.next_token.filter(|t| !t.is_empty()) {
                Some(t) => next = Some(t),
                None => break,
            }
        }
        Ok(EksClusters {
            profile: caller.profile,
            region: caller.region,
            clusters,
        })
    }

    /// Adds `request`'s cluster to the kubeconfig for its favourite (DescribeCluster for
    /// its ARN, endpoint and certificate authority): the cluster, a user that runs this
    /// product's `aws-sso-auth eks token`, and a context (set as the current one only when
    /// the file has none). Entries that already say the same are left as they are.
    pub async fn add_to_kubeconfig(&self, request: KubeconfigRequest) -> Result<Added> {
        let cluster = validate_cluster_name(&request.cluster)?.to_owned();
        if let Some(r) = &request.region {
            validate_region(r)?;
        }
        let context = match request.alias {
            Some(a) if a.is_empty() => return Err(Error::EmptyContextName),
            Some(a) => a,
            None => ClusterEntries::default_context(&request.profile, &cluster),
        };
        let cli = self.cli().ok_or(Error::KubeconfigNoCli)?;
        let command = std::path::absolute(cli)
            .unwrap_or_else(|_| cli.clone())
            .to_string_lossy()
            .into_owned();
        let kubeconfig = self.kubeconfig()?;
        // A file that cannot be edited is said before AWS is asked anything.
        let k = kubeconfig.clone();
        let profile = request.profile.clone();
        blocking("read of the kubeconfig", move || {
            k.entries(&Removal::favourite(&profile))
        })
        .await?;
        let caller = self
            .eks_caller(&request.profile, request.region.as_deref())
            .await?;
        let described = caller
            .client
            .describe_cluster()
            .name(&cluster)
            .send()
            .await
            .map_err(|e| {
                caller.error("DescribeCluster", crate::sdk::classify(e), Some(&cluster))
            })?;
        let found = described
            .cluster
            .unwrap_or_else(|| aws_sdk_eks::types::Cluster::builder().build());
        let status = found
            .status
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), |s| s.as_str().to_owned());
        let not_ready = || Error::EksClusterNotReady {
            cluster: cluster.clone(),
            region: caller.region.clone(),
            status: status.clone(),
        };
        let server = found
            .endpoint
            .filter(|e| !e.is_empty())
            .ok_or_else(not_ready)?;
        let certificate_authority_data = found
            .certificate_authority
            .and_then(|c| c.data)
            .filter(|d| !d.is_empty())
            .ok_or_else(not_ready)?;
        let cluster_arn = found
            .arn
            .filter(|a| !a.is_empty())
            .ok_or_else(|| Error::Eks {
                operation: "DescribeCluster",
                region: caller.region.clone(),
                detail: "the answer names no ARN for the cluster".into(),
            })?;
        let entries = ClusterEntries {
            cluster_arn,
            cluster_name: cluster,
            server,
            certificate_authority_data,
            profile: request.profile,
            region: caller.region,
            command,
            context,
        };
        blocking("write of the kubeconfig", move || kubeconfig.add(&entries)).await
    }

    /// The kubeconfig entries of `profile`'s favourite (whether or not it still exists),
    /// read from the file alone: what [`Workspace::remove_from_kubeconfig`] would remove,
    /// such as when the favourite is removed.
    pub async fn kubeconfig_entries(&self, profile: &str) -> Result<Removed> {
        let kubeconfig = self.kubeconfig()?;
        let removal = Removal::favourite(profile);
        blocking("read of the kubeconfig", move || {
            kubeconfig.entries(&removal)
        })
        .await
    }

    /// Removes the kubeconfig entries of `removal`'s favourite (all of them, or those of
    /// one cluster), from the file alone: it works for a favourite that no longer exists,
    /// and asks AWS nothing.
    pub async fn remove_from_kubeconfig(&self, removal: Removal) -> Result<Removed> {
        if let Some(c) = &removal.cluster {
            validate_cluster_name(c)?;
        }
        if let Some(r) = &removal.region {
            validate_region(r)?;
        }
        let kubeconfig = self.kubeconfig()?;
        blocking("write of the kubeconfig", move || {
            kubeconfig.remove(&removal)
        })
        .await
    }
}
