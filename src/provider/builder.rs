use super::{AwsSsoDeviceAuthProvider, Margins};
use crate::clock::{Clock, SystemClock};
use crate::error::Result;
use crate::instance::Instance;
use crate::oidc::poll::PollPolicy;
use crate::oidc::{OidcClient, PromptSink, RegistrationOptions, SignInPrompt};
use crate::portal::pacer::PacerConfig;
use crate::portal::{PortalClient, RetryPolicy};
use crate::sdk::{self, Endpoints};
use crate::store::{KeychainStore, SecretStore, SignInFlow};
use aws_types::SdkConfig;
use std::sync::Arc;
use std::time::Duration;

/// Builds an [`AwsSsoDeviceAuthProvider`]. Only the start URL and region are required.
#[derive(Default)]
pub struct Builder {
    start_url: Option<String>,
    region: Option<String>,
    store: Option<Arc<dyn SecretStore>>,
    registration: RegistrationOptions,
    sdk_config: Option<SdkConfig>,
    endpoints: Endpoints,
    clock: Option<Arc<dyn Clock>>,
    flow: Option<SignInFlow>,
    poll: PollPolicy,
    prompt: Option<PromptSink>,
    margins: Margins,
    pacer: PacerConfig,
    retry: RetryPolicy,
    no_sign_in_on_demand: bool,
    ask_app: Option<(std::path::PathBuf, crate::ask::AskApp)>,
    session_lock_dir: Option<Option<std::path::PathBuf>>,
    aws_cli_cache: Option<crate::cache::AwsCliTokenCache>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("start_url", &self.start_url)
            .field("region", &self.region)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The AWS access portal start URL (`https://my-org.awsapps.com/start`).
    pub fn start_url(mut self, url: impl Into<String>) -> Self {
        self.start_url = Some(url.into());
        self
    }

    /// The region of the IAM Identity Center instance.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Where the session's secrets live (default: the OS keychain).
    pub fn store(mut self, store: Arc<dyn SecretStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How the OIDC client registers (name, scopes, grant types).
    pub fn registration(mut self, options: RegistrationOptions) -> Self {
        self.registration = options;
        self
    }

    /// A base SDK configuration (HTTP client, proxy, timeouts); the region is always the
    /// instance's.
    pub fn sdk_config(mut self, config: SdkConfig) -> Self {
        self.sdk_config = Some(config);
        self
    }

    /// Endpoint overrides, such as [`Endpoints::from_env`] or a local emulator.
    pub fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// The wall clock used for every expiry decision.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The sign-in flow (default: device code).
    pub fn flow(mut self, flow: SignInFlow) -> Self {
        self.flow = Some(flow);
        self
    }

    /// Device-flow polling rules.
    pub fn poll_policy(mut self, policy: PollPolicy) -> Self {
        self.poll = policy;
        self
    }

    /// Receives the code or URL the user must act on during a sign-in.
    pub fn on_prompt(mut self, sink: impl Fn(&SignInPrompt) + Send + Sync + 'static) -> Self {
        self.prompt = Some(Arc::new(sink));
        self
    }

    /// Refresh the access token this long before it expires (default 15 minutes).
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.margins.token = margin;
        self
    }

    /// Fetch new role credentials this long before the cached ones expire (default 5 minutes).
    pub fn credentials_refresh_margin(mut self, margin: Duration) -> Self {
        self.margins.credentials = margin;
        self
    }

    /// Concurrency and back-off limits for portal calls.
    pub fn pacing(mut self, pacer: PacerConfig, retry: RetryPolicy) -> Self {
        self.pacer = pacer;
        self.retry = retry;
        self
    }

    /// Where the lock file that serialises sign-in and refresh across processes lives, or
    /// `None` for no cross-process lock. Default: `aws-sso-tray/locks` in the XDG config
    /// directory when the session is in the OS keychain (which every process of the user
    /// shares); none with another [`Self::store`], unless set here.
    pub fn session_lock_dir(mut self, dir: Option<std::path::PathBuf>) -> Self {
        self.session_lock_dir = Some(dir);
        self
    }

    /// Also copy the access token into the AWS CLI's SSO token cache whenever it changes,
    /// and remove it on sign-out (off by default: that file is plaintext, readable by
    /// every tool of the user; see [`crate::cache::AwsCliTokenCache`]). The token is then
    /// refreshed at least [`crate::cache::SHARED_TOKEN_MARGIN`] before it expires,
    /// whatever [`Self::token_refresh_margin`] says.
    pub fn aws_cli_token_cache(mut self, cache: Option<crate::cache::AwsCliTokenCache>) -> Self {
        self.aws_cli_cache = cache;
        self
    }

    /// Whether portal calls (accounts, roles, credentials) may start an interactive sign-in
    /// when the session is over (default `true`). With `false` they fail with
    /// [`crate::Error::SignInRequired`]: right for background work and `credential_process`.
    pub fn sign_in_on_demand(mut self, allowed: bool) -> Self {
        self.no_sign_in_on_demand = !allowed;
        self
    }

    /// A sign-in started on demand first asks the app whose socket is in `dir` (the
    /// user's runtime directory), and signs in here only when no app answers
    /// ([`crate::ask`]). Default: never asks.
    pub fn ask_app(mut self, dir: std::path::PathBuf, app: crate::ask::AskApp) -> Self {
        self.ask_app = Some((dir, app));
        self
    }

    /// Validates the settings and builds the provider. Makes no network call.
    pub fn build(self) -> Result<AwsSsoDeviceAuthProvider> {
        let instance = Instance::new(
            self.start_url.as_deref().unwrap_or_default(),
            self.region.as_deref().unwrap_or_default(),
        )?;
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let region = instance.region().to_owned();
        let base = self.sdk_config.as_ref();
        // Where the clients reach AWS, as a session records it: nothing for AWS's own.
        let public = Endpoints::default();
        let endpoints = crate::store::SessionEndpoints {
            oidc: self.endpoints.oidc_url(&region),
            portal: self.endpoints.portal_url(&region),
        };
        let endpoints = (endpoints.oidc != public.oidc_url(&region)
            || endpoints.portal != public.portal_url(&region))
        .then_some(endpoints);
        let oidc = OidcClient::new(
            sdk::oidc_client(base, &region, self.endpoints.oidc.as_deref()),
            self.endpoints.oidc_url(&region),
            clock.clone(),
        );
        let portal = PortalClient::new(
            sdk::portal_client(base, &region, self.endpoints.portal.as_deref()),
            self.endpoints.portal_url(&region),
            self.pacer,
            self.retry,
        );
        let prompt = self.prompt.unwrap_or_else(|| {
            Arc::new(|p: &SignInPrompt| {
                tracing::info!(url = p.browser_url(), "sign-in waiting for approval")
            })
        });
        let lock_dir = match self.session_lock_dir {
            Some(dir) => dir,
            None if self.store.is_none() => {
                crate::paths::Paths::from_env(&crate::env::Env::process())
                    .ok()
                    .map(|p| p.locks_dir())
            }
            None => None,
        };
        let session_lock_file = lock_dir.map(|d| d.join(session_lock_name(&instance)));
        Ok(AwsSsoDeviceAuthProvider {
            store: self.store.unwrap_or_else(|| Arc::new(KeychainStore::new())),
            oidc,
            portal,
            endpoints,
            clock,
            registration: self.registration,
            flow: self.flow.unwrap_or(SignInFlow::Device),
            poll: self.poll,
            prompt,
            margins: super::Margins {
                token: match &self.aws_cli_cache {
                    Some(_) => self.margins.token.max(crate::cache::SHARED_TOKEN_MARGIN),
                    None => self.margins.token,
                },
                ..self.margins
            },
            interaction: if self.no_sign_in_on_demand {
                super::Interaction::Forbidden
            } else {
                super::Interaction::Allowed
            },
            session_lock: tokio::sync::Mutex::new(()),
            session_lock_file,
            ask_app: self.ask_app,
            aws_cli_cache: self.aws_cli_cache,
            credentials_cache: Default::default(),
            sts: sdk::sts_client(base, &region, self.endpoints.sts.as_deref()),
            sts_endpoint: self.endpoints.sts_url(&region),
            instance,
        })
    }
}

/// `session-<hash of the instance>.lock`: one lock per instance, a name safe anywhere.
fn session_lock_name(instance: &Instance) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(instance.key().as_bytes());
    format!("session-{}.lock", crate::hex(&digest[..8]))
}
