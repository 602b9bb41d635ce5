//! The emulated service's state and rules, free of HTTP.

use super::config::EmulatorConfig;
use super::org::OrgAccount;
use aws_sso_device_auth_provider::clock::{epoch_seconds, Clock};
use rand::distributions::{Alphanumeric, DistString};
use rand::Rng;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// An error reply: HTTP status, the modelled error type, a message, and for OIDC the
/// OAuth error code of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub type_name: &'static str,
    pub message: String,
    pub oauth_code: Option<&'static str>,
}

impl ApiError {
    fn oidc(
        status: u16,
        type_name: &'static str,
        oauth: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            type_name,
            message: message.into(),
            oauth_code: Some(oauth),
        }
    }
    fn portal(status: u16, type_name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            type_name,
            message: message.into(),
            oauth_code: None,
        }
    }
    pub fn invalid_request(oidc: bool, message: impl Into<String>) -> Self {
        if oidc {
            Self::oidc(400, "InvalidRequestException", "invalid_request", message)
        } else {
            Self::portal(400, "InvalidRequestException", message)
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::portal(404, "ResourceNotFoundException", message)
    }
    /// What the portal answers for a role the user is not (or no longer) assigned: 403,
    /// "No access", an error type the SDK's model does not name.
    pub fn no_access() -> Self {
        Self::portal(403, "ForbiddenException", "No access")
    }
    fn unauthorized() -> Self {
        Self::portal(
            401,
            "UnauthorizedException",
            "Session token not found or invalid",
        )
    }
}

/// Request counters a test can read.
#[derive(Debug, Default)]
pub struct Counters {
    pub register_client: AtomicU64,
    pub start_device_authorization: AtomicU64,
    pub create_token: AtomicU64,
    pub tokens_from_device_code: AtomicU64,
    pub tokens_from_authorization_code: AtomicU64,
    pub tokens_from_refresh: AtomicU64,
    pub authorize: AtomicU64,
    pub list_accounts: AtomicU64,
    pub list_account_roles: AtomicU64,
    pub get_role_credentials: AtomicU64,
    pub assume_role: AtomicU64,
    pub get_caller_identity: AtomicU64,
    pub eks_calls: AtomicU64,
    pub ecr_calls: AtomicU64,
    pub uxc_calls: AtomicU64,
    pub presigned_identity_calls: AtomicU64,
    pub logout: AtomicU64,
    pub slow_down: AtomicU64,
    pub throttled: AtomicU64,
    pub faults: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct CountersSnapshot {
    pub register_client: u64,
    pub start_device_authorization: u64,
    pub create_token: u64,
    pub tokens_from_device_code: u64,
    pub tokens_from_authorization_code: u64,
    pub tokens_from_refresh: u64,
    pub authorize: u64,
    pub list_accounts: u64,
    pub list_account_roles: u64,
    pub get_role_credentials: u64,
    /// STS `AssumeRole` requests (answered or refused).
    pub assume_role: u64,
    /// STS `GetCallerIdentity` requests (answered or refused).
    pub get_caller_identity: u64,
    /// EKS requests (`ListClusters`, `DescribeCluster`; answered or refused).
    #[serde(default)]
    pub eks_calls: u64,
    /// ECR requests (`GetAuthorizationToken`; answered or refused).
    #[serde(default)]
    pub ecr_calls: u64,
    /// UXC requests (`GetAccountCustomizations`; answered or refused).
    #[serde(default)]
    pub uxc_calls: u64,
    /// Presigned STS `GetCallerIdentity` requests, as EKS tokens carry (answered or
    /// refused).
    #[serde(default)]
    pub presigned_identity_calls: u64,
    pub logout: u64,
    pub slow_down: u64,
    pub throttled: u64,
    pub faults: u64,
}

impl Counters {
    pub fn snapshot(&self) -> CountersSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CountersSnapshot {
            register_client: g(&self.register_client),
            start_device_authorization: g(&self.start_device_authorization),
            create_token: g(&self.create_token),
            tokens_from_device_code: g(&self.tokens_from_device_code),
            tokens_from_authorization_code: g(&self.tokens_from_authorization_code),
            tokens_from_refresh: g(&self.tokens_from_refresh),
            authorize: g(&self.authorize),
            list_accounts: g(&self.list_accounts),
            list_account_roles: g(&self.list_account_roles),
            get_role_credentials: g(&self.get_role_credentials),
            assume_role: g(&self.assume_role),
            get_caller_identity: g(&self.get_caller_identity),
            eks_calls: g(&self.eks_calls),
            ecr_calls: g(&self.ecr_calls),
            uxc_calls: g(&self.uxc_calls),
            presigned_identity_calls: g(&self.presigned_identity_calls),
            logout: g(&self.logout),
            slow_down: g(&self.slow_down),
            throttled: g(&self.throttled),
            faults: g(&self.faults),
        }
    }
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

struct Client {
    secret: String,
    expires_at: SystemTime,
    scopes: Vec<String>,
    grant_types: Vec<String>,
    redirect_uris: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Pending,
    Approved,
    Denied,
}

struct Device {
    client_id: String,
    user_code: String,
    expires_at: SystemTime,
    decision: Decision,
    interval: Duration,
    last_poll: Option<Instant>,
    polls: u32,
}

/// A PKCE authorization request waiting for the user's decision.
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    challenge: String,
    scopes: Vec<String>,
    expires_at: SystemTime,
}

struct AuthCode {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scopes: Vec<String>,
    expires_at: SystemTime,
}

struct Session {
    client_id: String,
    scopes: Vec<String>,
    revoked: bool,
}

struct AccessToken {
    session: u64,
    expires_at: SystemTime,
}

#[derive(Default)]
struct Inner {
    clients: HashMap<String, Client>,
    devices: HashMap<String, Device>,
    authorize_requests: HashMap<String, AuthorizeRequest>,
    auth_codes: HashMap<String, AuthCode>,
    sessions: HashMap<u64, Session>,
    access_tokens: HashMap<String, AccessToken>,
    refresh_tokens: HashMap<String, u64>,
    /// Role credentials handed out (by GetRoleCredentials and STS AssumeRole), by access
    /// key id.
    issued: HashMap<String, IssuedCredentials>,
    /// Console sign-in tokens, with what they open until when; each works once.
    signin_tokens: HashMap<String, (ConsoleSignin, SystemTime)>,
    /// ECR passwords handed out, with whose they are.
    ecr_passwords: HashMap<String, EcrPassword>,
    next_session: u64,
    bucket: Option<(f64, Instant)>,
}

struct IssuedCredentials {
    secret: String,
    token: String,
    expires_at: SystemTime,
    account_id: String,
    role: String,
    /// Who holds them, as STS names the caller.
    principal: Principal,
    /// The sign-in session they come from (through any chain of AssumeRole).
    session: Option<u64>,
    /// Issued by STS `AssumeRole` (role chaining), not by GetRoleCredentials: the
    /// federation endpoint refuses a `SessionDuration` with them.
    chained: bool,
}

/// What a console sign-in token opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSignin {
    /// The account signed in to.
    pub account_id: String,
    /// The role, as GetRoleCredentials or AssumeRole named it.
    pub role: String,
    /// The console session's length `getSigninToken` was asked for, in seconds; `None`:
    /// the console's default.
    pub session_seconds: Option<u32>,
}

/// Why `getSigninToken` refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigninRefusal {
    /// The session's credentials are not ones the emulator issued, or have expired.
    Credentials,
    /// A `SessionDuration` with credentials from `AssumeRole`.
    ChainedDuration,
}

/// An ECR password: the account and region it opens, until when.
struct EcrPassword {
    account_id: String,
    region: String,
    expires_at: SystemTime,
}

/// The holder of valid credentials the emulator issued, as a signed request reveals it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// As STS names it.
    pub principal: Principal,
    /// The role as GetRoleCredentials or AssumeRole named it (`ReadOnlyAccess`).
    pub role: String,
    /// The secret key, to check the request's signature with.
    pub secret: String,
    /// The sign-in session the credentials come from.
    pub session: Option<u64>,
    /// That session has been revoked (or logged out).
    pub session_revoked: bool,
}

/// The holder of credentials the emulator issued, as STS sees a caller: always an
/// assumed role, `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: String,
    /// The role as the ARN spells it: `AWSReservedSSO_<role>_<hex>` for the portal's.
    pub role: String,
    pub session_name: String,
    /// The role's unique id, `AROA` and 17 more characters.
    pub role_id: String,
}

impl Principal {
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            self.account_id, self.role, self.session_name
        )
    }

    /// `<role id>:<session>`, the caller's user id.
    pub fn user_id(&self) -> String {
        format!("{}:{}", self.role_id, self.session_name)
    }
}

/// Why the credentials a request was signed with are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialProblem {
    /// Never issued, or the session token is not theirs.
    Unknown,
    /// Issued and past their expiry.
    Expired,
}

/// Credentials just issued: access key id, secret, session token, expiry.
pub struct NewCredentials {
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
    pub expires_at: SystemTime,
}

/// The person signed in to the portal, as role sessions from it are named.
const PORTAL_USER: &str = "emulator.user@example.com";

/// `len` characters of `[A-Z2-7]` derived from `seed`: the same role keeps the same ids.
fn stable_id(seed: &str, len: usize) -> String {
    use sha2::{Digest, Sha256};
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    Sha256::digest(seed.as_bytes())
        .iter()
        .take(len)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// `bytes` bytes in lowercase hex derived from `seed`.
fn stable_hex(seed: &str, bytes: usize) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(seed.as_bytes())
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The unique id of role `role` in `account`.
fn role_id(account_id: &str, role: &str) -> String {
    format!("AROA{}", stable_id(&format!("{account_id}:{role}"), 17))
}

/// The whole emulated service.
pub struct Service {
    pub config: RwLock<EmulatorConfig>,
    pub org: RwLock<Arc<Vec<OrgAccount>>>,
    pub counters: Counters,
    pub clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

fn random(n: usize) -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), n)
}

fn user_code() -> String {
    // Like the real service: two groups of four letters without confusable characters.
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut rng = rand::thread_rng();
    let mut pick = || LETTERS[rng.gen_range(0..LETTERS.len())] as char;
    let a: String = (0..4).map(|_| pick()).collect();
    let b: String = (0..4).map(|_| pick()).collect();
    format!("{a}-{b}")
}

const GRANT_DEVICE: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn invalid_grant(message: &str) -> ApiError {
    ApiError::oidc(400, "InvalidGrantException", "invalid_grant", message)
}

/// What a successful CreateToken returns.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenReply {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The fields of CreateToken the emulator reads.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub grant_type: Option<String>,
    pub device_code: Option<String>,
    pub code: Option<String>,
    pub refresh_token: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

impl Service {
    pub fn new(config: EmulatorConfig, clock: Arc<dyn Clock>) -> Self {
        let org = Arc::new(super::org::of(&config));
        Self {
            config: RwLock::new(config),
            org: RwLock::new(org),
            counters: Counters::default(),
            clock,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn config(&self) -> EmulatorConfig {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn org(&self) -> Arc<Vec<OrgAccount>> {
        self.org.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Throttle and fault injection, before any operation. `Err` is the reply to send.
    pub fn admit(&self) -> Result<(), ApiError> {
        let config = self.config();
        if let Some(rps) = config.throttle_rps.filter(|r| *r > 0.0) {
            let burst = config.throttle_burst.unwrap_or(rps).max(1.0);
            let mut inner = self.inner();
            let now = Instant::now();
            let (tokens, last) = inner.bucket.unwrap_or((burst, now));
            let tokens = (tokens + now.duration_since(last).as_secs_f64() * rps).min(burst);
            if tokens < 1.0 {
                inner.bucket = Some((tokens, now));
                bump(&self.counters.throttled);
                return Err(ApiError::portal(
                    429,
                    "TooManyRequestsException",
                    "Rate exceeded",
                ));
            }
            inner.bucket = Some((tokens - 1.0, now));
        }
        if config.fault_rate > 0.0 && rand::thread_rng().gen::<f64>() < config.fault_rate {
            bump(&self.counters.faults);
            return Err(ApiError::oidc(
                500,
                "InternalServerException",
                "server_error",
                "Injected fault",
            ));
        }
        Ok(())
    }

    // ---- OIDC ----

    pub fn register_client(
        &self,
        name: Option<&str>,
        client_type: Option<&str>,
        scopes: Vec<String>,
        grant_types: Vec<String>,
        redirect_uris: Vec<String>,
    ) -> Result<(String, String, i64, i64), ApiError> {
        if name.is_none_or(str::is_empty) || client_type.is_none_or(str::is_empty) {
            return Err(ApiError::invalid_request(
                true,
                "clientName and clientType are required",
            ));
        }
        if client_type != Some("public") {
            return Err(ApiError::oidc(
                400,
                "InvalidClientMetadataException",
                "invalid_client_metadata",
                "clientType must be public",
            ));
        }
        if let Some(bad) = redirect_uris
            .iter()
            .find(|u| !u.starts_with("http://127.0.0.1"))
        {
            return Err(ApiError::oidc(
                400,
                "InvalidRedirectUriException",
                "invalid_redirect_uri",
                format!("Unsupported redirect URI {bad}"),
            ));
        }
        let now = self.clock.now();
        let id = random(22);
        let secret = format!("eyJraWQiOiJrZXkiLCJhbGciOiJIUzM4NCJ9.{}", random(900));
        let expires_at = now + self.config().registration_lifetime;
        self.inner().clients.insert(
            id.clone(),
            Client {
                secret: secret.clone(),
                expires_at,
                scopes,
                grant_types,
                redirect_uris,
            },
        );
        Ok((id, secret, epoch_seconds(now), epoch_seconds(expires_at)))
    }

    fn check_client(
        inner: &Inner,
        id: Option<&str>,
        secret: Option<&str>,
        now: SystemTime,
    ) -> Result<(), ApiError> {
        let (Some(id), Some(secret)) = (id, secret) else {
            return Err(ApiError::invalid_request(
                true,
                "clientId and clientSecret are required",
            ));
        };
        match inner.clients.get(id) {
            Some(c) if c.secret == secret && now < c.expires_at => Ok(()),
            _ => Err(ApiError::oidc(
                401,
                "InvalidClientException",
                "invalid_client",
                "Invalid client provided",
            )),
        }
    }

    pub fn start_device_authorization(
        &self,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        start_url: Option<&str>,
    ) -> Result<(String, String, i64, i32), ApiError> {
        if start_url.is_none_or(str::is_empty) {
            return Err(ApiError::invalid_request(true, "startUrl is required"));
        }
        let config = self.config();
        let now = self.clock.now();
        let mut inner = self.inner();
        Self::check_client(&inner, client_id, client_secret, now)?;
        let device_code = random(64);
        let code = user_code();
        let decision = if config.auto_approve {
            Decision::Approved
        } else {
            Decision::Pending
        };
        inner.devices.insert(
            device_code.clone(),
            Device {
                client_id: client_id.unwrap_or_default().to_owned(),
                user_code: code.clone(),
                expires_at: now + config.device_code_lifetime,
                decision,
                interval: Duration::from_secs(
                    u64::try_from(config.poll_interval_secs).unwrap_or(0),
                ),
                last_poll: None,
                polls: 0,
            },
        );
        Ok((
            device_code,
            code,
            config.device_code_lifetime.as_secs() as i64,
            config.poll_interval_secs,
        ))
    }

    /// Records the person's decision on a user code; false when no such pending code.
    pub fn decide_device(&self, user_code: &str, allow: bool) -> bool {
        let now = self.clock.now();
        let mut inner = self.inner();
        let wanted = user_code.trim().to_ascii_uppercase();
        match inner.devices.values_mut().find(|d| {
            d.user_code == wanted && d.decision == Decision::Pending && now < d.expires_at
        }) {
            Some(d) => {
                d.decision = if allow {
                    Decision::Approved
                } else {
                    Decision::Denied
                };
                true
            }
            None => false,
        }
    }

    /// User codes waiting for a decision.
    pub fn pending_user_codes(&self) -> Vec<String> {
        let now = self.clock.now();
        self.inner()
            .devices
            .values()
            .filter(|d| d.decision == Decision::Pending && now < d.expires_at)
            .map(|d| d.user_code.clone())
            .collect()
    }

    /// CreateToken: checks the client, runs the grant, issues tokens for its session.
    pub fn create_token(&self, req: &TokenRequest) -> Result<TokenReply, ApiError> {
        let config = self.config();
        let now = self.clock.now();
        let mut inner = self.inner();
        Self::check_client(
            &inner,
            req.client_id.as_deref(),
            req.client_secret.as_deref(),
            now,
        )?;
        let client_id = req.client_id.as_deref().unwrap_or_default();
        let session = match req.grant_type.as_deref() {
            Some(GRANT_DEVICE) => self.device_grant(&mut inner, req, client_id, &config, now)?,
            Some("authorization_code") => self.code_grant(&mut inner, req, client_id, now)?,
            Some("refresh_token") => self.refresh_grant(&mut inner, req, client_id)?,
            Some(_) => {
                return Err(ApiError::oidc(
                    400,
                    "UnsupportedGrantTypeException",
                    "unsupported_grant_type",
                    "Unsupported grant type",
                ))
            }
            None => return Err(ApiError::invalid_request(true, "grantType is required")),
        };
        let access_token = format!("aoa{}", random(300));
        inner.access_tokens.insert(
            access_token.clone(),
            AccessToken {
                session,
                expires_at: now + config.access_token_lifetime,
            },
        );
        let scoped = inner
            .sessions
            .get(&session)
            .is_some_and(|s| !s.scopes.is_empty());
        let refresh_token = (config.refresh_tokens && scoped).then(|| {
            let rt = format!("aor{}", random(400));
            inner.refresh_tokens.insert(rt.clone(), session);
            rt
        });
        Ok(TokenReply {
            access_token,
            token_type: "Bearer",
            expires_in: config.access_token_lifetime.as_secs() as i64,
            refresh_token,
        })
    }

    /// The device-code grant, by RFC 8628's rules: a poll sooner than the interval (which
    /// grows 5 s with each slow-down) is told to slow down.
    fn device_grant(
        &self,
        inner: &mut Inner,
        req: &TokenRequest,
        client_id: &str,
        config: &EmulatorConfig,
        now: SystemTime,
    ) -> Result<u64, ApiError> {
        let Some(code) = req.device_code.as_deref() else {
            return Err(ApiError::invalid_request(true, "deviceCode is required"));
        };
        let Some(d) = inner
            .devices
            .get_mut(code)
            .filter(|d| d.client_id == client_id)
        else {
            return Err(invalid_grant("Invalid device code provided"));
        };
        d.polls += 1;
        let too_fast = d
            .last_poll
            .is_some_and(|t| t.elapsed() + Duration::from_millis(50) < d.interval);
        d.last_poll = Some(Instant::now());
        if now >= d.expires_at {
            return Err(ApiError::oidc(
                400,
                "ExpiredTokenException",
                "expired_token",
                "Device code has expired",
            ));
        }
        if d.polls <= config.slow_down_polls || too_fast {
            d.interval += Duration::from_secs(5);
            bump(&self.counters.slow_down);
            return Err(ApiError::oidc(
                400,
                "SlowDownException",
                "slow_down",
                "Client is polling too quickly",
            ));
        }
        match d.decision {
            Decision::Pending => Err(ApiError::oidc(
                400,
                "AuthorizationPendingException",
                "authorization_pending",
                "Authorization is still pending",
            )),
            Decision::Denied => {
                inner.devices.remove(code);
                Err(ApiError::oidc(
                    400,
                    "AccessDeniedException",
                    "access_denied",
                    "The user denied the request",
                ))
            }
            Decision::Approved => {
                inner.devices.remove(code);
                bump(&self.counters.tokens_from_device_code);
                Ok(Self::new_session(inner, client_id))
            }
        }
    }

    /// The authorization-code grant: the code is single-use and bound to the client, the
    /// redirect URI and the PKCE challenge.
    fn code_grant(
        &self,
        inner: &mut Inner,
        req: &TokenRequest,
        client_id: &str,
        now: SystemTime,
    ) -> Result<u64, ApiError> {
        let (Some(code), Some(verifier), Some(redirect)) = (
            req.code.as_deref(),
            req.code_verifier.as_deref(),
            req.redirect_uri.as_deref(),
        ) else {
            return Err(ApiError::invalid_request(
                true,
                "code, codeVerifier and redirectUri are required",
            ));
        };
        let Some(ac) = inner.auth_codes.remove(code) else {
            return Err(invalid_grant("Invalid authorization code"));
        };
        if ac.client_id != client_id || ac.redirect_uri != redirect || now >= ac.expires_at {
            return Err(invalid_grant(
                "Authorization code does not match this request",
            ));
        }
        if aws_sso_device_auth_provider::oidc::pkce::challenge_for(verifier) != ac.challenge {
            return Err(invalid_grant("Code verifier does not match the challenge"));
        }
        bump(&self.counters.tokens_from_authorization_code);
        let id = Self::new_session(inner, client_id);
        if let Some(s) = inner.sessions.get_mut(&id) {
            s.scopes = ac.scopes;
        }
        Ok(id)
    }

    /// The refresh grant: refresh tokens rotate (each works once) and die with the session.
    fn refresh_grant(
        &self,
        inner: &mut Inner,
        req: &TokenRequest,
        client_id: &str,
    ) -> Result<u64, ApiError> {
        let Some(rt) = req.refresh_token.as_deref() else {
            return Err(ApiError::invalid_request(true, "refreshToken is required"));
        };
        let Some(session) = inner.refresh_tokens.remove(rt) else {
            return Err(invalid_grant("Invalid refresh token provided"));
        };
        match inner.sessions.get(&session) {
            Some(s) if !s.revoked && s.client_id == client_id => {
                bump(&self.counters.tokens_from_refresh);
                Ok(session)
            }
            _ => Err(invalid_grant("Invalid refresh token provided")),
        }
    }

    fn new_session(inner: &mut Inner, client_id: &str) -> u64 {
        inner.next_session += 1;
        let id = inner.next_session;
        let scopes = inner
            .clients
            .get(client_id)
            .map(|c| c.scopes.clone())
            .unwrap_or_default();
        inner.sessions.insert(
            id,
            Session {
                client_id: client_id.to_owned(),
                scopes,
                revoked: false,
            },
        );
        id
    }

    /// Validates an /authorize request; returns the request id waiting for a decision.
    pub fn authorize(&self, q: &HashMap<String, String>) -> Result<String, ApiError> {
        let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let now = self.clock.now();
        let config = self.config();
        let (Some(client_id), Some(redirect_uri), Some(state), Some(challenge)) = (
            get("client_id"),
            get("redirect_uri"),
            get("state"),
            get("code_challenge"),
        ) else {
            return Err(ApiError::invalid_request(
                true,
                "client_id, redirect_uri, state and code_challenge are required",
            ));
        };
        if get("response_type") != Some("code") || get("code_challenge_method") != Some("S256") {
            return Err(ApiError::invalid_request(
                true,
                "response_type=code and code_challenge_method=S256 are required",
            ));
        }
        let mut inner = self.inner();
        let Some(client) = inner.clients.get(client_id).filter(|c| now < c.expires_at) else {
            return Err(ApiError::oidc(
                401,
                "InvalidClientException",
                "invalid_client",
                "Invalid client provided",
            ));
        };
        if !client.grant_types.iter().any(|g| g == "authorization_code") {
            return Err(ApiError::oidc(
                400,
                "UnauthorizedClientException",
                "unauthorized_client",
                "Client not registered for authorization_code",
            ));
        }
        // Loopback redirects match whatever the port (RFC 8252 §7.3).
        let without_port = |u: &str| {
            url::Url::parse(u).ok().map(|mut u| {
                let _ = u.set_port(None);
                u.to_string()
            })
        };
        let wanted = without_port(redirect_uri);
        if wanted.is_none()
            || !client
                .redirect_uris
                .iter()
                .any(|r| without_port(r) == wanted)
        {
            return Err(ApiError::oidc(
                400,
                "InvalidRedirectUriException",
                "invalid_redirect_uri",
                "redirect_uri is not registered",
            ));
        }
        let scopes = get("scopes")
            .map(|s| s.split(' ').map(str::to_owned).collect())
            .unwrap_or_default();
        let id = random(24);
        inner.authorize_requests.insert(
            id.clone(),
            AuthorizeRequest {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                state: state.to_owned(),
                challenge: challenge.to_owned(),
                scopes,
                expires_at: now + config.device_code_lifetime,
            },
        );
        Ok(id)
    }

    /// The person's decision on an authorize request: the URL to send the browser to.
    pub fn decide_authorize(&self, request_id: &str, allow: bool) -> Option<String> {
        let now = self.clock.now();
        let mut inner = self.inner();
        let req = inner
            .authorize_requests
            .remove(request_id)
            .filter(|r| now < r.expires_at)?;
        let mut target = url::Url::parse(&req.redirect_uri).ok()?;
        if allow {
            let code = random(48);
            inner.auth_codes.insert(
                code.clone(),
                AuthCode {
                    client_id: req.client_id,
                    redirect_uri: req.redirect_uri.clone(),
                    challenge: req.challenge,
                    scopes: req.scopes,
                    expires_at: now + Duration::from_secs(300),
                },
            );
            target
                .query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &req.state);
        } else {
            target
                .query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair("state", &req.state);
        }
        Some(target.to_string())
    }

    /// Authorization requests waiting for a decision: (id, client id).
    pub fn pending_authorizations(&self) -> Vec<String> {
        self.inner().authorize_requests.keys().cloned().collect()
    }

    // ---- portal ----

    /// The session of a valid access token.
    pub fn authenticate(&self, bearer: Option<&str>) -> Result<u64, ApiError> {
        let now = self.clock.now();
        let inner = self.inner();
        bearer
            .and_then(|t| inner.access_tokens.get(t))
            .filter(|t| {
                now < t.expires_at && inner.sessions.get(&t.session).is_some_and(|s| !s.revoked)
            })
            .map(|t| t.session)
            .ok_or_else(ApiError::unauthorized)
    }

    pub fn role_credentials(
        &self,
        account_id: &str,
        role: &str,
        session: u64,
    ) -> Result<(String, String, String, i64), ApiError> {
        let org = self.org();
        let assigned = org
            .iter()
            .any(|a| a.account_id == account_id && a.roles.iter().any(|r| r == role));
        if !assigned {
            return Err(ApiError::no_access());
        }
        let lifetime = self.config().role_credentials_lifetime;
        let expires = self.clock.now() + lifetime;
        let millis = expires
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        // The role IAM Identity Center provisions for a permission set, with its suffix.
        let sso_role = format!(
            "AWSReservedSSO_{role}_{}",
            stable_hex(&format!("{account_id}/{role}"), 8)
        );
        let issued = self.issue(
            account_id,
            role,
            Principal {
                account_id: account_id.to_owned(),
                role_id: role_id(account_id, &sso_role),
                role: sso_role,
                session_name: PORTAL_USER.to_owned(),
            },
            expires,
            Some(session),
            false,
        );
        Ok((issued.access_key_id, issued.secret, issued.token, millis))
    }

    /// New credentials for `role` in `account_id`, held by `principal`, recorded so that
    /// STS and the console federation endpoint accept them until `expires_at`.
    fn issue(
        &self,
        account_id: &str,
        role: &str,
        principal: Principal,
        expires_at: SystemTime,
        session: Option<u64>,
        chained: bool,
    ) -> NewCredentials {
        let (access_key_id, secret, token) = (
            format!("ASIA{}", random(16).to_ascii_uppercase()),
            random(40),
            format!("IQoJb3JpZ2luX2Vj{}", random(600)),
        );
        self.inner().issued.insert(
            access_key_id.clone(),
            IssuedCredentials {
                secret: secret.clone(),
                token: token.clone(),
                expires_at,
                account_id: account_id.to_owned(),
                role: role.to_owned(),
                principal,
                session,
                chained,
            },
        );
        NewCredentials {
            access_key_id,
            secret,
            token,
            expires_at,
        }
    }

    // ---- STS ----

    /// The holder of credentials the emulator issued, with their secret key (to check the
    /// request's signature with), when `token` is their session token and they are
    /// still valid.
    pub fn caller(
        &self,
        access_key_id: &str,
        token: Option<&str>,
    ) -> Result<Caller, CredentialProblem> {
        let now = self.clock.now();
        let inner = self.inner();
        let Some(issued) = inner
            .issued
            .get(access_key_id)
            .filter(|i| Some(i.token.as_str()) == token)
        else {
            return Err(CredentialProblem::Unknown);
        };
        if issued.expires_at <= now {
            return Err(CredentialProblem::Expired);
        }
        Ok(Caller {
            principal: issued.principal.clone(),
            role: issued.role.clone(),
            secret: issued.secret.clone(),
            session: issued.session,
            session_revoked: issued
                .session
                .is_some_and(|id| inner.sessions.get(&id).is_none_or(|s| s.revoked)),
        })
    }

    /// STS AssumeRole once the request passed every check: credentials for `role_name`
    /// (the last part of the role's path) in `account_id`, for session `session_name`,
    /// lasting `lifetime` from now (whole seconds, as the real service counts), tied to
    /// the sign-in session `session` the caller's credentials came from.
    pub fn assume_role(
        &self,
        account_id: &str,
        role_name: &str,
        session_name: &str,
        lifetime: Duration,
        session: Option<u64>,
    ) -> (Principal, NewCredentials) {
        let now = aws_sso_device_auth_provider::clock::from_epoch_seconds(epoch_seconds(
            self.clock.now(),
        ));
        let principal = Principal {
            account_id: account_id.to_owned(),
            role: role_name.to_owned(),
            session_name: session_name.to_owned(),
            role_id: role_id(account_id, role_name),
        };
        let issued = self.issue(
            account_id,
            role_name,
            principal.clone(),
            now + lifetime,
            session,
            true,
        );
        (principal, issued)
    }

    /// The federation endpoint's `getSigninToken`: role credentials we issued, still
    /// valid, buy a console sign-in token that works once within 15 minutes, remembered
    /// with the console session's length asked for (`session_seconds`, already checked
    /// to be within 900..=43200). Credentials from `AssumeRole` may not ask for one, as
    /// the real endpoint refuses `SessionDuration` for role chaining.
    pub fn signin_token(
        &self,
        session_json: &str,
        session_seconds: Option<u32>,
    ) -> Result<String, SigninRefusal> {
        let session: serde_json::Value =
            serde_json::from_str(session_json).map_err(|_| SigninRefusal::Credentials)?;
        let field = |k: &str| session.get(k).and_then(|v| v.as_str());
        let now = self.clock.now();
        let mut inner = self.inner();
        let issued = field("sessionId")
            .and_then(|id| inner.issued.get(id))
            .filter(|issued| {
                Some(issued.secret.as_str()) == field("sessionKey")
                    && Some(issued.token.as_str()) == field("sessionToken")
                    && now < issued.expires_at
            })
            .ok_or(SigninRefusal::Credentials)?;
        if issued.chained && session_seconds.is_some() {
            return Err(SigninRefusal::ChainedDuration);
        }
        let signin = ConsoleSignin {
            account_id: issued.account_id.clone(),
            role: issued.role.clone(),
            session_seconds,
        };
        let token = random(96);
        inner
            .signin_tokens
            .insert(token.clone(), (signin, now + Duration::from_secs(900)));
        Ok(token)
    }

    /// The federation endpoint's `login`: what a valid sign-in token opens, and whether
    /// it was spent. `admit` decides, with the token's sign-in in hand, whether the
    /// sign-in goes ahead (spending the token) or is turned away (leaving it usable);
    /// deciding under the lock keeps two logins from spending one token. `None`: a token
    /// never issued, spent or expired.
    pub fn console_login(
        &self,
        token: &str,
        admit: impl FnOnce(&ConsoleSignin) -> bool,
    ) -> Option<(ConsoleSignin, bool)> {
        let now = self.clock.now();
        let mut inner = self.inner();
        let (signin, expires_at) = inner.signin_tokens.get(token)?;
        if *expires_at <= now {
            inner.signin_tokens.remove(token);
            return None;
        }
        let signin = signin.clone();
        let spent = admit(&signin);
        if spent {
            inner.signin_tokens.remove(token);
        }
        Some((signin, spent))
    }

    // ---- ECR ----

    /// A new ECR password for `account_id` in `region`, valid 12 hours: the password and
    /// its expiry.
    pub fn ecr_password(&self, account_id: &str, region: &str) -> (String, SystemTime) {
        // Whole seconds: the reply gives the expiry in epoch seconds.
        let now = aws_sso_device_auth_provider::clock::from_epoch_seconds(epoch_seconds(
            self.clock.now(),
        ));
        let expires_at = now + Duration::from_secs(12 * 3600);
        // The real password is a base64 JSON envelope of about 1,600 characters.
        let password = format!("eyJwYXlsb2FkIjoi{}", random(1_600));
        self.inner().ecr_passwords.insert(
            password.clone(),
            EcrPassword {
                account_id: account_id.to_owned(),
                region: region.to_owned(),
                expires_at,
            },
        );
        (password, expires_at)
    }

    /// The account and region of a valid ECR password.
    pub fn ecr_password_owner(&self, password: &str) -> Option<(String, String)> {
        let now = self.clock.now();
        self.inner()
            .ecr_passwords
            .get(password)
            .filter(|p| now < p.expires_at)
            .map(|p| (p.account_id.clone(), p.region.clone()))
    }

    pub fn logout(&self, bearer: Option<&str>) {
        let mut inner = self.inner();
        if let Some(session) = bearer
            .and_then(|t| inner.access_tokens.remove(t))
            .map(|t| t.session)
        {
            if let Some(s) = inner.sessions.get_mut(&session) {
                s.revoked = true;
            }
        }
    }

    /// Ends every session, as an administrator revoking them would.
    pub fn revoke_sessions(&self) {
        for s in self.inner().sessions.values_mut() {
            s.revoked = true;
        }
    }

    /// Lets every registration expire (the next use gets `InvalidClientException`).
    pub fn expire_registrations(&self) {
        self.inner().clients.clear();
    }
}
