//! The SSO portal: accounts, roles and role credentials, with paging, bounded adaptive
//! concurrency and back-off on throttling. Writes nothing anywhere.

pub mod crawl;
pub mod pacer;

use crate::clock::from_epoch_millis;
use crate::error::{Error, Result};
use crate::sdk::classify;
use crate::secret::Secret;
use aws_sdk_sso::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use globset::{GlobBuilder, GlobMatcher};
use pacer::{backoff, Pacer, PacerConfig};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::task::JoinSet;

/// The largest page the portal serves.
pub const MAX_PAGE_SIZE: i32 = 100;

/// Share of the limit the service showed that listing accounts and roles may use, even
/// when someone waits for the whole list: the rest stays free for the user's other tools
/// (the AWS CLI, Terraform) calling the portal meanwhile.
pub const LISTING_SHARE: f64 = 0.9;

/// An AWS account the user can reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// 12-digit account id.
    pub account_id: String,
    /// The account's name.
    pub account_name: String,
    /// The account's root e-mail address, if the service sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
}

/// A role the user may assume in an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// The account.
    pub account_id: String,
    /// The permission set's role name.
    pub role_name: String,
}

/// An account with its roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRoles {
    /// The account.
    #[serde(flatten)]
    pub account: Account,
    /// Its roles for this user.
    pub roles: Vec<Role>,
}

/// Temporary credentials for one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleCredentials {
    /// The access key id (not a secret on its own, but never logged either).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The session token.
    pub session_token: Secret,
    /// When they expire.
    pub expiration: SystemTime,
}

/// A case-insensitive glob over names (`*prod*`, `team-?-dev`).
#[derive(Debug, Clone)]
pub struct NameGlob {
    pattern: String,
    matcher: GlobMatcher,
}

impl NameGlob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self> {
        let glob = GlobBuilder::new(pattern)
            .case_insensitive(true)
            .literal_separator(false)
            .build()
            .map_err(|source| Error::InvalidGlob {
                pattern: pattern.to_owned(),
                source,
            })?;
        Ok(Self {
            pattern: pattern.to_owned(),
            matcher: glob.compile_matcher(),
        })
    }

    /// Whether `name` matches.
    pub fn is_match(&self, name: &str) -> bool {
        self.matcher.is_match(name)
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

/// Which accounts to keep.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    /// Keep only these ids (empty: any).
    pub ids: Vec<String>,
    /// Keep only names matching this glob.
    pub name: Option<NameGlob>,
}

impl AccountFilter {
    /// Whether `a` passes.
    pub fn matches(&self, a: &Account) -> bool {
        (self.ids.is_empty() || self.ids.iter().any(|id| id == &a.account_id))
            && self
                .name
                .as_ref()
                .is_none_or(|g| g.is_match(&a.account_name))
    }
}

/// How hard to retry.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts for a call that fails with no answer or a server fault.
    pub transient_attempts: u32,
    /// How long calls keep retrying while the service throttles and no call succeeds.
    pub throttle_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            transient_attempts: 4,
            throttle_budget: Duration::from_secs(120),
        }
    }
}

/// The next page's token; an error when the service hands out a token it already gave
/// (it would page forever).
fn next_page(
    seen: &mut std::collections::HashSet<String>,
    token: Option<&str>,
) -> Result<Option<String>> {
    match token.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) if seen.insert(t.to_owned()) => Ok(Some(t.to_owned())),
        Some(_) => Err(Error::UnexpectedReply {
            operation: "paging",
            detail: "the same nextToken came back twice".into(),
        }),
    }
}

/// The SSO portal client.
#[derive(Debug, Clone)]
pub struct PortalClient {
    client: aws_sdk_sso::Client,
    endpoint: String,
    pacer: Arc<Pacer>,
    retry: RetryPolicy,
}

impl PortalClient {
    /// Wraps an SDK client (built with its own retries off) talking to `endpoint`.
    pub fn new(
        client: aws_sdk_sso::Client,
        endpoint: String,
        pacer: PacerConfig,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            client,
            endpoint,
            pacer: Arc::new(Pacer::new(pacer)),
            retry,
        }
    }

    /// Runs `call` under the pacer, using no more than `share` of the limit the service
    /// showed, retrying throttles (within the time budget) and transient faults (within
    /// the attempt budget) with jittered back-off.
    async fn call<T, E, F, Fut>(&self, operation: &'static str, share: f64, call: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut transient_failures = 0u32;
        loop {
            let permit = self.pacer.acquire_within(share).await;
            match call().await.map_err(classify) {
                Ok(v) => {
                    permit.succeeded();
                    return Ok(v);
                }
                Err(e) if e.is_throttle() => {
                    permit.throttled();
                    if self
                        .pacer
                        .stalled_for()
                        .is_some_and(|d| d >= self.retry.throttle_budget)
                    {
                        return Err(Error::Throttled { operation });
                    }
                }
                Err(e) if e.is_transient() => {
                    drop(permit);
                    transient_failures += 1;
                    if transient_failures >= self.retry.transient_attempts {
                        return Err(e.into_error(operation, &self.endpoint));
                    }
                    tracing::debug!(
                        operation,
                        attempt = transient_failures,
                        "transient portal failure; retrying"
                    );
                    tokio::time::sleep(backoff(
                        Duration::from_millis(200),
                        Duration::from_secs(5),
                        transient_failures,
                    ))
                    .await;
                }
                Err(e) => return Err(e.into_error(operation, &self.endpoint)),
            }
        }
    }

    /// Every account, all pages, largest page size.
    pub async fn list_accounts(&self, token: &Secret) -> Result<Vec<Account>> {
        let mut accounts = Vec::new();
        let mut next: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let page = self
                .call("ListAccounts", LISTING_SHARE, || {
                    self.client
                        .list_accounts()
                        .access_token(token.expose())
                        .max_results(MAX_PAGE_SIZE)
                        .set_next_token(next.clone())
                        .send()
                })
                .await?;
            if page.account_list.is_none() {
                // Not "no accounts": a reply without the list is not an answer.
                return Err(Error::UnexpectedReply {
                    operation: "ListAccounts",
                    detail: "no accountList in the reply".into(),
                });
            }
            for a in page.account_list() {
                let account_id =
                    a.account_id()
                        .filter(|id| !id.is_empty())
                        .ok_or(Error::UnexpectedReply {
                            operation: "ListAccounts",
                            detail: "an account with no accountId".into(),
                        })?;
                accounts.push(Account {
                    account_id: account_id.to_owned(),
                    account_name: a.account_name().unwrap_or_default().to_owned(),
                    email_address: a.email_address().map(str::to_owned),
                });
            }
            next = next_page(&mut seen, page.next_token())?;
            if next.is_none() {
                return Ok(accounts);
            }
        }
    }

    /// Every role of `account_id`, all pages.
    pub async fn list_roles(&self, token: &Secret, account_id: &str) -> Result<Vec<Role>> {
        let mut roles = Vec::new();
        let mut next: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let page = self
                .call("ListAccountRoles", LISTING_SHARE, || {
                    self.client
                        .list_account_roles()
                        .access_token(token.expose())
                        .account_id(account_id)
                        .max_results(MAX_PAGE_SIZE)
                        .set_next_token(next.clone())
                        .send()
                })
                .await
                .map_err(|e| match e {
                    Error::Service { code, .. } if code == "ResourceNotFoundException" => {
                        Error::AccountNotFound {
                            pattern: account_id.to_owned(),
                        }
                    }
                    e => e,
                })?;
            if page.role_list.is_none() {
                return Err(Error::UnexpectedReply {
                    operation: "ListAccountRoles",
                    detail: "no roleList in the reply".into(),
                });
            }
            for r in page.role_list() {
                let role_name =
                    r.role_name()
                        .filter(|n| !n.is_empty())
                        .ok_or(Error::UnexpectedReply {
                            operation: "ListAccountRoles",
                            detail: "a role with no roleName".into(),
                        })?;
                roles.push(Role {
                    account_id: r.account_id().unwrap_or(account_id).to_owned(),
                    role_name: role_name.to_owned(),
                });
            }
            next = next_page(&mut seen, page.next_token())?;
            if next.is_none() {
                return Ok(roles);
            }
        }
    }

    /// Roles of many accounts at once, concurrently under the pacer; results in input order.
    pub async fn list_roles_of(
        &self,
        token: &Secret,
        accounts: Vec<Account>,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<Vec<AccountRoles>> {
        let mut tasks = JoinSet::new();
        for (i, account) in accounts.into_iter().enumerate() {
            let this = self.clone();
            let token = token.clone();
            tasks.spawn(async move {
                let roles = this.list_roles(&token, &account.account_id).await;
                (i, account, roles)
            });
        }
        let mut out: Vec<Option<AccountRoles>> = Vec::new();
        out.resize_with(tasks.len(), || None);
        let (mut done, total) = (0, out.len());
        progress(done, total);
        while let Some(joined) = tasks.join_next().await {
            let (i, account, roles) = joined.map_err(|e| Error::UnexpectedReply {
                operation: "ListAccountRoles",
                detail: format!("a worker stopped: {e}"),
            })?;
            out[i] = Some(AccountRoles {
                account,
                roles: roles?,
            });
            done += 1;
            progress(done, total);
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Role credentials for (`account_id`, `role_name`).
    pub async fn role_credentials(
        &self,
        token: &Secret,
        account_id: &str,
        role_name: &str,
    ) -> Result<RoleCredentials> {
        let out = self
            .call("GetRoleCredentials", 1.0, || {
                self.client
                    .get_role_credentials()
                    .access_token(token.expose())
                    .account_id(account_id)
                    .role_name(role_name)
                    .send()
            })
            .await
            .map_err(|e| match e {
                Error::Service { code, .. }
                    if code == "ResourceNotFoundException" || code == "ForbiddenException" =>
                {
                    Error::RoleNotFound {
                        account_id: account_id.to_owned(),
                        role: role_name.to_owned(),
                    }
                }
                e => e,
            })?;
        let c = out.role_credentials().ok_or(Error::UnexpectedReply {
            operation: "GetRoleCredentials",
            detail: "no roleCredentials".into(),
        })?;
        // No expiration reads as 0: credentials that expired in 1970, which every tool
        // would throw away and ask for again.
        match (c.access_key_id(), c.secret_access_key(), c.session_token()) {
            (Some(ak), Some(sk), Some(st)) if c.expiration() > 0 => Ok(RoleCredentials {
                access_key_id: ak.to_owned(),
                secret_access_key: Secret::new(sk),
                session_token: Secret::new(st),
                expiration: from_epoch_millis(c.expiration()),
            }),
            _ => Err(Error::UnexpectedReply {
                operation: "GetRoleCredentials",
                detail:
                    "incomplete roleCredentials (a key, the token or the expiration is missing)"
                        .into(),
            }),
        }
    }

    /// Ends the session on the server.
    pub async fn logout(&self, token: &Secret) -> Result<()> {
        self.call("Logout", 1.0, || {
            self.client.logout().access_token(token.expose()).send()
        })
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_next_token_ends_paging_with_an_error() {
        let mut seen = std::collections::HashSet::new();
        assert_eq!(
            next_page(&mut seen, Some("a")).unwrap().as_deref(),
            Some("a")
        );
        assert_eq!(next_page(&mut seen, Some("")).unwrap(), None);
        assert_eq!(next_page(&mut seen, None).unwrap(), None);
        assert!(matches!(
            next_page(&mut seen, Some("a")),
            Err(Error::UnexpectedReply { .. })
        ));
    }
}
