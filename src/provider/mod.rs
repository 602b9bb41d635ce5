//! [`AwsSsoDeviceAuthProvider`]: sign-in, session, accounts, roles and role credentials
//! for one IAM Identity Center instance, composed from the modules below it.

mod builder;
pub mod decide;

pub use builder::Builder;

use crate::atomic_file::FileLock;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::oidc::poll::PollPolicy;
use crate::oidc::{registration_usable, OidcClient, PromptSink, Refreshed, RegistrationOptions};
use crate::portal::{
    Account, AccountFilter, AccountRoles, NameGlob, PortalClient, Role, RoleCredentials,
};
use crate::secret::Secret;
use crate::source::{Fetch, Source};
use crate::store::{
    ClientRegistration, SecretStore, SessionEndpoints, SessionRecord, SignInFlow, TokenSet,
};
use decide::{decide, still_usable, TokenAction};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Default margin before role credentials' expiry at which new ones are fetched.
pub const DEFAULT_CREDENTIALS_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Copy)]
struct Margins {
    token: Duration,
    credentials: Duration,
}

impl Default for Margins {
    fn default() -> Self {
        Self {
            token: decide::DEFAULT_TOKEN_REFRESH_MARGIN,
            credentials: DEFAULT_CREDENTIALS_REFRESH_MARGIN,
        }
    }
}

/// The state of the stored session, for status displays. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// When the access token expires.
    pub expires_at: SystemTime,
    /// Whether a refresh token is kept (the session can be renewed without the user).
    pub renewable: bool,
}

/// Whether a call may start an interactive sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interaction {
    Allowed,
    Forbidden,
}

/// Sign-in, session and portal access for one IAM Identity Center instance.
///
/// Cheap to share behind an `Arc`; every method takes `&self`. Calls that must renew the
/// token serialise on one lock, in this process and, through a lock file, across the
/// user's processes (see [`Builder::session_lock_dir`]), and re-read the stored session
/// once they hold it: concurrent callers never start two sign-ins or spend a rotating
/// refresh token twice.
pub struct AwsSsoDeviceAuthProvider {
    instance: Instance,
    store: Arc<dyn SecretStore>,
    oidc: OidcClient,
    portal: PortalClient,
    /// Where the two clients reach AWS, when not AWS's own endpoints.
    endpoints: Option<SessionEndpoints>,
    clock: Arc<dyn Clock>,
    registration: RegistrationOptions,
    flow: SignInFlow,
    poll: PollPolicy,
    prompt: PromptSink,
    margins: Margins,
    interaction: Interaction,
    session_lock: tokio::sync::Mutex<()>,
    session_lock_file: Option<std::path::PathBuf>,
    /// Where a sign-in started on demand asks the running app first.
    ask_app: Option<(std::path::PathBuf, crate::ask::AskApp)>,
    aws_cli_cache: Option<crate::cache::AwsCliTokenCache>,
    /// Credentials by [`crate::source::Source::key`].
    credentials_cache: Mutex<HashMap<String, RoleCredentials>>,
    sts: aws_sdk_sts::Client,
    sts_endpoint: String,
}

impl std::fmt::Debug for AwsSsoDeviceAuthProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSsoDeviceAuthProvider")
            .field("instance", &self.instance)
            .field("flow", &self.flow)
            .finish_non_exhaustive()
    }
}

impl AwsSsoDeviceAuthProvider {
    /// A builder; only the start URL and region are required.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The instance this provider signs in to.
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// The sign-in flow in use.
    pub fn flow(&self) -> SignInFlow {
        self.flow
    }

    // ---- the secret store, off the async threads ----

    async fn blocking<T: Send + 'static>(
        &self,
        action: &'static str,
        f: impl FnOnce(&dyn SecretStore) -> std::result::Result<T, crate::error::BoxError>
            + Send
            + 'static,
    ) -> Result<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| Error::Store {
                action,
                source: Box::new(e),
            })?
            .map_err(|source| Error::Store { action, source })
    }

    /// The saved session, if it was made where this provider reaches AWS: a session is
    /// never sent to other endpoints than the ones that issued it.
    async fn load(&self) -> Result<SessionRecord> {
        self.made_here(self.load_any().await?)
    }

    /// `record`, or [`Error::SessionElsewhere`] when it holds a session or registration
    /// from other endpoints.
    fn made_here(&self, record: SessionRecord) -> Result<SessionRecord> {
        let empty = record.registration.is_none() && record.tokens.is_none();
        if empty || record.endpoints == self.endpoints {
            return Ok(record);
        }
        let name = |e: Option<&SessionEndpoints>| match e {
            Some(e) => e.to_string(),
            None => format!(
                "AWS's own endpoints ({})",
                crate::sdk::Endpoints::default().portal_url(self.instance.region())
            ),
        };
        Err(Error::SessionElsewhere {
            instance: self.instance.clone(),
            signed_in_at: name(record.endpoints.as_ref()),
            now: name(self.endpoints.as_ref()),
        })
    }

    /// The saved session, wherever it was made.
    async fn load_any(&self) -> Result<SessionRecord> {
        let key = self.instance.key();
        let secret = self
            .blocking("read the saved session", move |s| s.get(&key))
            .await?;
        match secret {
            None => Ok(SessionRecord::default()),
            Some(secret) => SessionRecord::from_secret(&secret).or_else(|detail| {
                tracing::warn!(%detail, instance = %self.instance, "saved session unreadable; it will be replaced at the next sign-in");
                Ok(SessionRecord::default())
            }),
        }
    }

    /// Saves `record`, as made where this provider reaches AWS (a record from elsewhere
    /// is never loaded to be saved again).
    async fn save(&self, record: &SessionRecord) -> Result<()> {
        let key = self.instance.key();
        let secret = SessionRecord {
            endpoints: self.endpoints.clone(),
            ..record.clone()
        }
        .to_secret();
        self.blocking("save the session", move |s| s.set(&key, &secret))
            .await
    }

    // ---- the session ----

    /// A valid access token: the stored one while it is not near expiry; else refreshed;
    /// else, or when the refresh token is dead, a new interactive sign-in.
    pub async fn access_token(&self) -> Result<Secret> {
        self.token(Interaction::Allowed).await
    }

    /// Like [`Self::access_token`], but never starts a sign-in: fails with
    /// [`Error::SignInRequired`] instead. For background work and `credential_process`.
    pub async fn access_token_silent(&self) -> Result<Secret> {
        self.token(Interaction::Forbidden).await
    }

    /// How long before the access token's expiry it is refreshed.
    pub fn token_refresh_margin(&self) -> Duration {
        self.margins.token
    }

    /// Whether portal calls may start a sign-in when the session is over (builder's
    /// [`Builder::sign_in_on_demand`]).
    pub fn signs_in_on_demand(&self) -> bool {
        self.interaction == Interaction::Allowed
    }

    /// Takes the cross-process session lock, if there is one, waiting for another
    /// process's sign-in or refresh to finish.
    async fn lock_across_processes(&self) -> Result<Option<FileLock>> {
        let Some(path) = self.session_lock_file.clone() else {
            return Ok(None);
        };
        let io = |source| Error::Io {
            action: "lock the session at",
            path: path.clone(),
            source,
        };
        let file = path.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = file.parent() {
                crate::atomic_file::create_private_dir(dir)?;
            }
            FileLock::acquire(&file)
        })
        .await
        .map_err(|e| io(std::io::Error::other(e)))?
        .map(Some)
        .map_err(io)
    }

    fn token_action(&self, record: &SessionRecord) -> TokenAction {
        let now = self.clock.now();
        let can_refresh = record
            .registration
            .as_ref()
            .is_some_and(|r| now < r.expires_at);
        decide(record.tokens.as_ref(), can_refresh, now, self.margins.token)
    }

    async fn token(&self, interaction: Interaction) -> Result<Secret> {
        let _guard = self.session_lock.lock().await;
        let record = self.load().await?;
        if let (TokenAction::Use, Some(t)) = (self.token_action(&record), &record.tokens) {
            return Ok(t.access_token.clone());
        }
        // Renewing: one process at a time, and the one before us may have done it already.
        let across = self.lock_across_processes().await?;
        let record = match self.renewed(self.load().await?).await? {
            Ok(token) => return Ok(token),
            Err(record) => record,
        };
        if interaction == Interaction::Forbidden {
            return Err(Error::SignInRequired {
                instance: self.instance.clone(),
            });
        }
        let Some((dir, app)) = &self.ask_app else {
            return self
                .sign_in_locked(record, self.flow)
                .await
                .map(|t| t.access_token);
        };
        // The running app asks the person; it takes the lock to sign in.
        drop(across);
        match crate::ask::ask(dir, app, &self.instance).await {
            crate::ask::Outcome::Ready => {}
            crate::ask::Outcome::Declined => {
                return Err(Error::SignInDeclined {
                    instance: self.instance.clone(),
                })
            }
            crate::ask::Outcome::TimedOut => {
                return Err(Error::SignInNotAnswered {
                    instance: self.instance.clone(),
                    waited: app.timeout,
                })
            }
            crate::ask::Outcome::NoApp(why) => {
                tracing::debug!(%why, "no app to ask for the sign-in; signing in here")
            }
        }
        let _across = self.lock_across_processes().await?;
        match self.renewed(self.load().await?).await? {
            Ok(token) => Ok(token),
            Err(record) => self
                .sign_in_locked(record, self.flow)
                .await
                .map(|t| t.access_token),
        }
    }

    /// The stored token, or a refreshed one, under the cross-process lock; else the
    /// record, for a sign-in.
    async fn renewed(&self, mut record: SessionRecord) -> Result<Result<Secret, SessionRecord>> {
        match self.token_action(&record) {
            TokenAction::Use => {
                if let Some(t) = record.tokens {
                    return Ok(Ok(t.access_token));
                }
            }
            TokenAction::Refresh => {
                if let Some(token) = self.try_refresh(&mut record).await? {
                    return Ok(Ok(token));
                }
            }
            TokenAction::SignIn => {}
        }
        Ok(Err(record))
    }

    /// Refreshes; `Ok(None)` when the session is over and a sign-in is needed.
    async fn try_refresh(&self, record: &mut SessionRecord) -> Result<Option<Secret>> {
        let (Some(reg), Some(tokens)) = (record.registration.clone(), record.tokens.clone()) else {
            return Ok(None);
        };
        let Some(refresh_token) = tokens.refresh_token.as_ref() else {
            return Ok(None);
        };
        match self.oidc.refresh(&reg, refresh_token).await {
            Ok(Refreshed::Tokens(new)) => {
                tracing::info!(instance = %self.instance, expires_at = %crate::clock::rfc3339(new.expires_at), "access token refreshed");
                let token = new.access_token.clone();
                self.mirror(&new).await;
                record.tokens = Some(new);
                self.save(record).await?;
                Ok(Some(token))
            }
            Ok(outcome) => {
                tracing::info!(instance = %self.instance, ?outcome, "session cannot be refreshed; a sign-in is needed");
                if matches!(outcome, Refreshed::ClientDead) {
                    record.registration = None;
                }
                record.tokens = None;
                self.save(record).await?;
                Ok(None)
            }
            // The network or the service failed, not the session: keep using the token
            // while it lasts; the next call tries the refresh again.
            Err(e) if still_usable(&tokens, self.clock.now()) => {
                tracing::warn!(error = %e, "refresh failed; using the current token until it expires");
                Ok(Some(tokens.access_token))
            }
            Err(e) => Err(e),
        }
    }

    /// Starts a new interactive sign-in now, whatever is stored.
    pub async fn sign_in(&self) -> Result<SessionInfo> {
        self.sign_in_with(self.flow).await
    }

    /// [`Self::sign_in`] with `flow` instead of the builder's.
    pub async fn sign_in_with(&self, flow: SignInFlow) -> Result<SessionInfo> {
        let _guard = self.session_lock.lock().await;
        let _across = self.lock_across_processes().await?;
        // A session made at other endpoints is replaced, not reused here.
        let record = self.made_here(self.load_any().await?).unwrap_or_else(|e| {
            tracing::info!(reason = %e, "signing in afresh at the endpoints in effect");
            SessionRecord::default()
        });
        let tokens = self.sign_in_locked(record, flow).await?;
        Ok(SessionInfo {
            expires_at: tokens.expires_at,
            renewable: tokens.refresh_token.is_some(),
        })
    }

    async fn sign_in_locked(
        &self,
        mut record: SessionRecord,
        flow: SignInFlow,
    ) -> Result<TokenSet> {
        let start_url = self.instance.start_url();
        let mut reg = self.registration_for(&mut record, flow).await?;
        let mut registered_now = false;
        loop {
            let result = match flow {
                SignInFlow::Device => {
                    self.oidc
                        .device_flow(&reg, start_url, &self.poll, &self.prompt)
                        .await
                }
                SignInFlow::Pkce => {
                    self.oidc
                        .pkce_flow(
                            &reg,
                            &self.registration.scopes,
                            self.poll.max_wait,
                            &self.prompt,
                        )
                        .await
                }
            };
            match result {
                Ok(tokens) => {
                    record.tokens = Some(tokens.clone());
                    self.save(&record).await?;
                    self.mirror(&tokens).await;
                    self.credentials_cache().clear();
                    tracing::info!(instance = %self.instance, expires_at = %crate::clock::rfc3339(tokens.expires_at), "signed in");
                    return Ok(tokens);
                }
                // A registration the service no longer knows: register once more, then give up.
                Err(Error::Service { code, .. })
                    if code == "InvalidClientException" && !registered_now =>
                {
                    tracing::info!("client registration rejected; registering again");
                    record.registration = None;
                    reg = self.registration_for(&mut record, flow).await?;
                    registered_now = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn registration_for(
        &self,
        record: &mut SessionRecord,
        flow: SignInFlow,
    ) -> Result<ClientRegistration> {
        let start_url = self.instance.start_url();
        let now = self.clock.now();
        if let Some(reg) = &record.registration {
            if registration_usable(reg, &self.registration, flow, start_url, now) {
                return Ok(reg.clone());
            }
        }
        let reg = self
            .oidc
            .register(&self.registration, flow, start_url)
            .await?;
        record.registration = Some(reg.clone());
        // A new registration invalidates refresh tokens issued to the old one.
        record.tokens = None;
        self.save(record).await?;
        Ok(reg)
    }

    /// Copies a new access token to the AWS CLI's cache, if asked to. A failure there is
    /// logged, not fatal: the session itself is saved.
    async fn mirror(&self, tokens: &TokenSet) {
        let Some(cache) = self.aws_cli_cache.clone() else {
            return;
        };
        let (instance, tokens) = (self.instance.clone(), tokens.clone());
        let written = tokio::task::spawn_blocking(move || cache.write(&instance, &tokens)).await;
        if let Ok(Err(e)) = written {
            tracing::warn!(error = %e, "could not update the AWS CLI's SSO token cache");
        }
    }

    /// Copies the stored access token to the AWS CLI's cache again, when sharing is on and
    /// the token is not in its last [`crate::cache::SHARED_TOKEN_MARGIN`]: after the
    /// config file gained an `[sso-session]` for this instance, its tools sign in at once
    /// instead of at the next refresh. No network call.
    pub async fn share_session_again(&self) -> Result<()> {
        if self.aws_cli_cache.is_none() {
            return Ok(());
        }
        let _guard = self.session_lock.lock().await;
        let _across = self.lock_across_processes().await?;
        let Some(tokens) = self.load().await?.tokens else {
            return Ok(());
        };
        let left = tokens
            .expires_at
            .duration_since(self.clock.now())
            .unwrap_or_default();
        if left > crate::cache::SHARED_TOKEN_MARGIN {
            self.mirror(&tokens).await;
        }
        Ok(())
    }

    /// The stored session's state, without any network call.
    pub async fn session(&self) -> Result<Option<SessionInfo>> {
        Ok(self.load().await?.tokens.map(|t| SessionInfo {
            expires_at: t.expires_at,
            renewable: t.refresh_token.is_some(),
        }))
    }

    /// Ends the session: Logout on the server (best effort), then the keychain item and
    /// every cached credential are removed.
    pub async fn sign_out(&self) -> Result<()> {
        let _guard = self.session_lock.lock().await;
        let _across = self.lock_across_processes().await?;
        // The server-side logout goes only where the session was made.
        let record = match self.made_here(self.load_any().await?) {
            Ok(record) => record,
            Err(e) => {
                tracing::info!(reason = %e, "removing the local session without a server-side logout");
                SessionRecord::default()
            }
        };
        if let Some(t) = record.tokens {
            if let Err(e) = self.portal.logout(&t.access_token).await {
                tracing::warn!(error = %e, "server-side logout failed; removing the local session anyway");
            }
        }
        let key = self.instance.key();
        self.blocking("remove the saved session", move |s| s.delete(&key))
            .await?;
        self.credentials_cache().clear();
        if let Some(cache) = self.aws_cli_cache.clone() {
            let removed = tokio::task::spawn_blocking(move || cache.remove()).await;
            if let Ok(Err(e)) = removed {
                tracing::warn!(error = %e, "could not remove the AWS CLI's copy of the token");
            }
        }
        Ok(())
    }

    /// Runs `f` with a valid token; when the portal refuses it, the token is dropped and
    /// `f` runs once more with a refreshed one (or after a new sign-in, where allowed).
    async fn with_token<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.with_token_as(self.interaction, f).await
    }

    async fn with_token_as<T, F, Fut>(&self, interaction: Interaction, f: F) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let token = self.token(interaction).await?;
        match f(token.clone()).await {
            Err(Error::Unauthorized { operation }) => {
                tracing::info!(operation, "portal refused the access token; renewing it");
                self.expire_stored_token(&token).await?;
                f(self.token(interaction).await?).await
            }
            other => other,
        }
    }

    /// Marks `rejected` expired, unless another caller has already replaced it.
    async fn expire_stored_token(&self, rejected: &Secret) -> Result<()> {
        let _guard = self.session_lock.lock().await;
        let _across = self.lock_across_processes().await?;
        let mut record = self.load().await?;
        if let Some(t) = record
            .tokens
            .as_mut()
            .filter(|t| &t.access_token == rejected)
        {
            t.expires_at = std::time::UNIX_EPOCH;
            self.save(&record).await?;
        }
        Ok(())
    }

    // ---- accounts and roles ----

    /// Every account the user can reach that passes `filter`, all pages.
    pub async fn accounts(&self, filter: &AccountFilter) -> Result<Vec<Account>> {
        let all = self
            .with_token(|t| async move { self.portal.list_accounts(&t).await })
            .await?;
        Ok(all.into_iter().filter(|a| filter.matches(a)).collect())
    }

    /// Accounts by id list and/or name glob (`None`/empty: no filter).
    pub async fn accounts_matching(
        &self,
        ids: &[String],
        name_glob: Option<&str>,
    ) -> Result<Vec<Account>> {
        let filter = AccountFilter {
            ids: ids.to_vec(),
            name: name_glob.map(NameGlob::new).transpose()?,
        };
        self.accounts(&filter).await
    }

    /// The one account id whose name matches `name_glob`; distinct errors for none and several.
    pub async fn account_id_for_name(&self, name_glob: &str) -> Result<String> {
        let matches = self.accounts_matching(&[], Some(name_glob)).await?;
        match matches.as_slice() {
            [one] => Ok(one.account_id.clone()),
            [] => Err(Error::AccountNotFound {
                pattern: name_glob.to_owned(),
            }),
            many => Err(Error::AmbiguousAccount {
                pattern: name_glob.to_owned(),
                matches: many
                    .iter()
                    .map(|a| format!("{} ({})", a.account_name, a.account_id))
                    .collect(),
            }),
        }
    }

    /// The roles of `account_id`, optionally only those whose name matches `role_glob`.
    pub async fn roles(&self, account_id: &str, role_glob: Option<&str>) -> Result<Vec<Role>> {
        let glob = role_glob.map(NameGlob::new).transpose()?;
        let roles = self
            .with_token(|t| async move { self.portal.list_roles(&t, account_id).await })
            .await?;
        Ok(roles
            .into_iter()
            .filter(|r| glob.as_ref().is_none_or(|g| g.is_match(&r.role_name)))
            .collect())
    }

    /// The roles of every account whose name matches `account_glob`, filtered by `role_glob`.
    pub async fn roles_by_account_name(
        &self,
        account_glob: &str,
        role_glob: Option<&str>,
    ) -> Result<Vec<AccountRoles>> {
        let filter = AccountFilter {
            ids: vec![],
            name: Some(NameGlob::new(account_glob)?),
        };
        self.accounts_with_roles(&filter, role_glob).await
    }

    /// Discovery: accounts passing `filter`, each with its roles (filtered by `role_glob`),
    /// looked up concurrently under the portal's pacer.
    pub async fn accounts_with_roles(
        &self,
        filter: &AccountFilter,
        role_glob: Option<&str>,
    ) -> Result<Vec<AccountRoles>> {
        self.accounts_with_roles_reporting(filter, role_glob, &|_, _| {})
            .await
    }

    /// [`Self::accounts_with_roles`], calling `progress(done, total)` as the accounts'
    /// roles arrive (after the accounts are listed, so `total` is known).
    pub async fn accounts_with_roles_reporting(
        &self,
        filter: &AccountFilter,
        role_glob: Option<&str>,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<Vec<AccountRoles>> {
        let glob = role_glob.map(NameGlob::new).transpose()?;
        let accounts = self.accounts(filter).await?;
        let mut found = self
            .with_token(|t| {
                let accounts = accounts.clone();
                async move { self.portal.list_roles_of(&t, accounts, progress).await }
            })
            .await?;
        if let Some(g) = &glob {
            for a in &mut found {
                a.roles.retain(|r| g.is_match(&r.role_name));
            }
        }
        Ok(found)
    }

    /// Reads the roles of the accounts in `queue` (the asked-for ones first, the others
    /// at its background pace), handing each account's to `found` as they arrive; see
    /// [`crate::portal::crawl`]. On failure the accounts not read stay in the queue.
    pub async fn crawl_roles(
        &self,
        queue: Arc<crate::portal::crawl::RoleQueue>,
        found: Arc<dyn Fn(AccountRoles) + Send + Sync>,
    ) -> Result<()> {
        self.with_token(|t| {
            let (queue, found) = (queue.clone(), found.clone());
            async move { self.portal.crawl_roles(&t, queue, found).await }
        })
        .await
    }

    // ---- role credentials ----

    fn credentials_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, RoleCredentials>> {
        self.credentials_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Credentials of `source` from memory, while they have more than `margin` left.
    pub(crate) fn remembered(&self, source: &Source, margin: Duration) -> Option<RoleCredentials> {
        let now = self.clock.now();
        self.credentials_cache()
            .get(&source.key())
            .filter(|c| crate::clock::later(now, margin) < c.expiration)
            .cloned()
    }

    /// How long before expiry credentials in memory are renewed.
    pub(crate) fn credentials_margin(&self) -> Duration {
        self.margins.credentials
    }

    pub(crate) fn remember(&self, source: &Source, creds: &RoleCredentials) {
        self.credentials_cache().insert(source.key(), creds.clone());
    }

    pub(crate) fn forget(&self, source: &Source) {
        self.credentials_cache().remove(&source.key());
    }

    /// Whether calls may start a sign-in unless told otherwise.
    pub(crate) fn interaction(&self) -> Interaction {
        self.interaction
    }

    /// The STS client (credentials are given per call) and where it reaches STS.
    pub(crate) fn sts(&self) -> &aws_sdk_sts::Client {
        &self.sts
    }

    pub(crate) fn sts_endpoint(&self) -> String {
        self.sts_endpoint.clone()
    }

    /// Credentials for (`account_id`, `role_name`), served from memory until they are
    /// within the refresh margin of expiry ([`Self::credentials`] of an SSO role).
    pub async fn role_credentials(
        &self,
        account_id: &str,
        role_name: &str,
    ) -> Result<RoleCredentials> {
        self.credentials(&Source::role(account_id, role_name), Fetch::Cached)
            .await
    }

    /// Role credentials straight from the portal (for [`Self::credentials`] only).
    pub(crate) async fn fetch_role_credentials(
        &self,
        account_id: &str,
        role_name: &str,
        interaction: Interaction,
    ) -> Result<RoleCredentials> {
        self.with_token_as(interaction, |t| async move {
            self.portal
                .role_credentials(&t, account_id, role_name)
                .await
        })
        .await
    }

    /// An AWS SDK credentials provider for one role, backed by this provider.
    pub fn credentials_provider(
        self: &Arc<Self>,
        account_id: &str,
        role_name: &str,
    ) -> crate::credentials::RoleCredentialsProvider {
        crate::credentials::RoleCredentialsProvider::new(self.clone(), account_id, role_name)
    }
}
