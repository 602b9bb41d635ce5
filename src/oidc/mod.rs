//! Sign-in against SSO OIDC: client registration, the device flow, the PKCE flow and
//! refresh. This module stores nothing; the provider decides what to keep.

pub mod pkce;
pub mod poll;

use crate::clock::{from_epoch_seconds, Clock};
use crate::error::{Error, Result};
use crate::sdk::{classify, CallError};
use crate::secret::Secret;
use crate::store::{ClientRegistration, SignInFlow, TokenSet};
use poll::{PollPolicy, PollReply, PollStep};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The scope AWS documents for account access; a registration with it gets refresh tokens.
pub const ACCOUNT_ACCESS_SCOPE: &str = "sso:account:access";
const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const GRANT_REFRESH_TOKEN: &str = "refresh_token";
const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";

/// How the OIDC client registers itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationOptions {
    /// The name shown by the service.
    pub client_name: String,
    /// Requested scopes; empty gives the legacy 8-hour token without refresh.
    pub scopes: Vec<String>,
    /// Grant types for the device flow registration; `None` picks the right ones.
    pub device_grant_types: Option<Vec<String>>,
}

impl Default for RegistrationOptions {
    fn default() -> Self {
        Self {
            client_name: "aws-sso-tray".into(),
            scopes: vec![ACCOUNT_ACCESS_SCOPE.into()],
            device_grant_types: None,
        }
    }
}

impl RegistrationOptions {
    fn grant_types(&self, flow: SignInFlow) -> Vec<String> {
        match flow {
            SignInFlow::Pkce => vec![GRANT_AUTHORIZATION_CODE.into(), GRANT_REFRESH_TOKEN.into()],
            SignInFlow::Device => self
                .device_grant_types
                .clone()
                .unwrap_or_else(|| vec![GRANT_DEVICE_CODE.into(), GRANT_REFRESH_TOKEN.into()]),
        }
    }

    /// A digest of everything that shapes a registration; a stored registration is reused
    /// only while it matches.
    pub fn digest(&self, flow: SignInFlow, issuer: &str) -> String {
        let mut h = Sha256::new();
        for part in [self.client_name.as_str(), issuer, &format!("{flow:?}")]
            .into_iter()
            .chain(self.scopes.iter().map(String::as_str))
            .chain(std::iter::once("|"))
            .chain(self.grant_types(flow).iter().map(String::as_str))
        {
            h.update(part.as_bytes());
            h.update([0]);
        }
        crate::hex(&h.finalize()[..8])
    }
}

/// What the user must do to finish a sign-in; the CLI prints it, the app shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInPrompt {
    /// Device flow: enter (or confirm) `user_code` at `verification_uri`.
    DeviceCode {
        /// The code the user confirms.
        user_code: String,
        /// Where to enter it.
        verification_uri: String,
        /// The same page with the code filled in; open this in the browser.
        verification_uri_complete: Option<String>,
        /// When the code stops working.
        expires_at: SystemTime,
    },
    /// PKCE flow: approve in the browser at `url`, which comes back to a loopback port.
    Browser {
        /// The authorization URL to open.
        url: String,
        /// When this sign-in gives up waiting.
        expires_at: SystemTime,
    },
}

impl SignInPrompt {
    /// The URL to open in a browser.
    pub fn browser_url(&self) -> &str {
        match self {
            SignInPrompt::DeviceCode {
                verification_uri,
                verification_uri_complete,
                ..
            } => verification_uri_complete
                .as_deref()
                .unwrap_or(verification_uri),
            SignInPrompt::Browser { url, .. } => url,
        }
    }
}

/// Receives sign-in prompts.
pub type PromptSink = Arc<dyn Fn(&SignInPrompt) + Send + Sync>;

/// What a refresh attempt gave.
#[derive(Debug)]
pub enum Refreshed {
    /// New tokens (the refresh token rotated, or kept when none came back).
    Tokens(TokenSet),
    /// The refresh token is dead (`InvalidGrantException`): a new sign-in is needed.
    RefreshTokenDead,
    /// The registration is dead (`InvalidClientException`): register again.
    ClientDead,
}

/// The SSO OIDC client.
#[derive(Debug, Clone)]
pub struct OidcClient {
    client: aws_sdk_ssooidc::Client,
    endpoint: String,
    clock: Arc<dyn Clock>,
}

impl OidcClient {
    /// Wraps an SDK client talking to `endpoint`.
    pub fn new(client: aws_sdk_ssooidc::Client, endpoint: String, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            endpoint,
            clock,
        }
    }

    /// The endpoint, for the PKCE authorize URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn fail(&self, op: &'static str, e: CallError) -> Error {
        e.into_error(op, &self.endpoint)
    }

    /// RegisterClient for `flow`.
    pub async fn register(
        &self,
        opts: &RegistrationOptions,
        flow: SignInFlow,
        start_url: &str,
    ) -> Result<ClientRegistration> {
        let mut req = self
            .client
            .register_client()
            .client_name(&opts.client_name)
            .client_type("public")
            .set_scopes((!opts.scopes.is_empty()).then(|| opts.scopes.clone()))
            .set_grant_types(Some(opts.grant_types(flow)));
        if flow == SignInFlow::Pkce {
            req = req
                .redirect_uris(pkce::REGISTERED_REDIRECT_URI)
                .issuer_url(start_url);
        }
        let out = req
            .send()
            .await
            .map_err(|e| self.fail("RegisterClient", classify(e)))?;
        let (Some(id), Some(secret)) = (out.client_id(), out.client_secret()) else {
            return Err(Error::UnexpectedReply {
                operation: "RegisterClient",
                detail: "no clientId or clientSecret".into(),
            });
        };
        tracing::info!(
            client_expires = out.client_secret_expires_at(),
            ?flow,
            "registered OIDC client"
        );
        Ok(ClientRegistration {
            client_id: id.to_owned(),
            client_secret: Secret::new(secret),
            expires_at: from_epoch_seconds(out.client_secret_expires_at()),
            flow,
            options_digest: opts.digest(flow, start_url),
        })
    }

    fn tokens_from(
        &self,
        op: &'static str,
        out: &aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
    ) -> Result<TokenSet> {
        let Some(at) = out.access_token() else {
            return Err(Error::UnexpectedReply {
                operation: op,
                detail: "no accessToken".into(),
            });
        };
        let lifetime = Duration::from_secs(u64::try_from(out.expires_in()).unwrap_or(0));
        Ok(TokenSet {
            access_token: Secret::new(at),
            expires_at: crate::clock::later(self.clock.now(), lifetime),
            refresh_token: out
                .refresh_token()
                .filter(|t| !t.is_empty())
                .map(Secret::new),
        })
    }

    /// The whole device flow: start it, tell `prompt`, poll by `policy` until approved,
    /// refused, expired, or past the client-side deadline. Dropping the future cancels it.
    pub async fn device_flow(
        &self,
        reg: &ClientRegistration,
        start_url: &str,
        policy: &PollPolicy,
        prompt: &PromptSink,
    ) -> Result<TokenSet> {
        let out = self
            .client
            .start_device_authorization()
            .client_id(&reg.client_id)
            .client_secret(reg.client_secret.expose())
            .start_url(start_url)
            .send()
            .await
            .map_err(|e| self.fail("StartDeviceAuthorization", classify(e)))?;
        let (Some(device_code), Some(user_code), Some(uri)) =
            (out.device_code(), out.user_code(), out.verification_uri())
        else {
            return Err(Error::UnexpectedReply {
                operation: "StartDeviceAuthorization",
                detail: "no deviceCode, userCode or verificationUri".into(),
            });
        };
        let wait = policy.deadline(out.expires_in());
        prompt(&SignInPrompt::DeviceCode {
            user_code: user_code.to_owned(),
            verification_uri: uri.to_owned(),
            verification_uri_complete: out.verification_uri_complete().map(str::to_owned),
            expires_at: self.clock.now() + wait,
        });
        let deadline = tokio::time::Instant::now() + wait;
        let mut interval = policy.initial_interval(out.interval());
        let gave_up = || {
            if u64::try_from(out.expires_in())
                .is_ok_and(|s| s > 0 && Duration::from_secs(s) <= wait)
            {
                Error::SignInExpired
            } else {
                Error::SignInTimedOut { waited: wait }
            }
        };
        loop {
            // A poll sooner than the interval would only be told to slow down: when the
            // next one falls past the deadline, the sign-in ends at the deadline.
            if tokio::time::Instant::now() + interval > deadline {
                tokio::time::sleep_until(deadline).await;
                return Err(gave_up());
            }
            tokio::time::sleep(interval).await;
            let reply = self
                .client
                .create_token()
                .client_id(&reg.client_id)
                .client_secret(reg.client_secret.expose())
                .grant_type(GRANT_DEVICE_CODE)
                .device_code(device_code)
                .send()
                .await;
            let reply = match reply {
                Ok(out) => return self.tokens_from("CreateToken", &out),
                Err(e) => match classify(e) {
                    e if e.code() == Some("AuthorizationPendingException") => PollReply::Pending,
                    e if e.code() == Some("SlowDownException") => PollReply::SlowDown,
                    e if e.code() == Some("ExpiredTokenException") => PollReply::Expired,
                    e if e.code() == Some("AccessDeniedException") => PollReply::Denied,
                    // Throttled while polling: slow down, as RFC 8628 asks of SlowDown.
                    e if e.is_throttle() => PollReply::SlowDown,
                    e if e.is_transient() => {
                        tracing::warn!(error = %e.into_error("CreateToken", &self.endpoint), "poll failed; polling on");
                        PollReply::Transient
                    }
                    e => return Err(self.fail("CreateToken", e)),
                },
            };
            match policy.next(interval, reply) {
                PollStep::Wait(next) => {
                    if next != interval {
                        tracing::info!(
                            interval_secs = next.as_secs(),
                            "service asked to slow down"
                        );
                    }
                    interval = next;
                }
                PollStep::Fail(e) => return Err(e),
            }
        }
    }

    /// The whole PKCE flow: listen on loopback, tell `prompt` the URL to open, wait for the
    /// browser, exchange the code.
    pub async fn pkce_flow(
        &self,
        reg: &ClientRegistration,
        scopes: &[String],
        wait: Duration,
        prompt: &PromptSink,
    ) -> Result<TokenSet> {
        let redirect = pkce::LoopbackRedirect::bind().await?;
        let pair = pkce::PkcePair::generate();
        let url = pkce::authorize_url(
            &self.endpoint,
            &reg.client_id,
            redirect.redirect_uri(),
            &pair,
            scopes,
        );
        prompt(&SignInPrompt::Browser {
            url,
            expires_at: self.clock.now() + wait,
        });
        let code = redirect.wait_for_code(&pair.state, wait).await?;
        let out = self
            .client
            .create_token()
            .client_id(&reg.client_id)
            .client_secret(reg.client_secret.expose())
            .grant_type(GRANT_AUTHORIZATION_CODE)
            .code(code.expose())
            .redirect_uri(redirect.redirect_uri())
            .code_verifier(pair.verifier.expose())
            .send()
            .await
            .map_err(|e| match classify(e) {
                e if e.code() == Some("AccessDeniedException") => Error::SignInDenied,
                e if matches!(
                    e.code(),
                    Some("InvalidGrantException" | "ExpiredTokenException")
                ) =>
                {
                    Error::SignInExpired
                }
                e => self.fail("CreateToken", e),
            })?;
        self.tokens_from("CreateToken", &out)
    }

    /// Exchanges `refresh_token` for new tokens.
    pub async fn refresh(
        &self,
        reg: &ClientRegistration,
        refresh_token: &Secret,
    ) -> Result<Refreshed> {
        let out = self
            .client
            .create_token()
            .client_id(&reg.client_id)
            .client_secret(reg.client_secret.expose())
            .grant_type(GRANT_REFRESH_TOKEN)
            .refresh_token(refresh_token.expose())
            .send()
            .await;
        match out {
            Ok(out) => {
                let mut tokens = self.tokens_from("CreateToken", &out)?;
                if tokens.refresh_token.is_none() {
                    tokens.refresh_token = Some(refresh_token.clone());
                }
                Ok(Refreshed::Tokens(tokens))
            }
            Err(e) => match classify(e) {
                e if matches!(
                    e.code(),
                    Some("InvalidGrantException" | "ExpiredTokenException")
                ) =>
                {
                    Ok(Refreshed::RefreshTokenDead)
                }
                e if matches!(
                    e.code(),
                    Some("InvalidClientException" | "UnauthorizedClientException")
                ) =>
                {
                    Ok(Refreshed::ClientDead)
                }
                e => Err(self.fail("CreateToken", e)),
            },
        }
    }
}

/// Whether `reg` can be used for `flow` with `opts` at `now` (15 minutes' margin, as the
/// AWS CLI keeps).
pub fn registration_usable(
    reg: &ClientRegistration,
    opts: &RegistrationOptions,
    flow: SignInFlow,
    start_url: &str,
    now: SystemTime,
) -> bool {
    const REGISTRATION_MARGIN: Duration = Duration::from_secs(15 * 60);
    reg.flow == flow
        && reg.options_digest == opts.digest(flow, start_url)
        && now + REGISTRATION_MARGIN < reg.expires_at
}
