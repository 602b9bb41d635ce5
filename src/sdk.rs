//! Building the two official SDK clients, and turning their errors into something the
//! rest of the library can decide on.

use crate::error::{BoxError, Error, Result};
use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::Region;
use aws_types::SdkConfig;
use std::time::Duration;

/// Endpoint overrides for the two services (for local emulators, proxies, FIPS endpoints).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// The SSO OIDC (sign-in) endpoint.
    pub oidc: Option<String>,
    /// The SSO portal (accounts, roles, credentials) endpoint.
    pub portal: Option<String>,
    /// The console's federation endpoint (`AWS_ENDPOINT_URL_SIGNIN`).
    pub signin: Option<String>,
    /// STS, for roles assumed from an SSO role (`AWS_ENDPOINT_URL_STS`).
    pub sts: Option<String>,
    /// EKS, for the clusters a kubeconfig names (`AWS_ENDPOINT_URL_EKS`).
    pub eks: Option<String>,
    /// ECR, for docker's registry passwords (`AWS_ENDPOINT_URL_ECR`).
    pub ecr: Option<String>,
    /// User Experience Customization, for the console's account colour
    /// (`AWS_ENDPOINT_URL_UXC`).
    pub uxc: Option<String>,
}

/// The variables that point this product at other endpoints than AWS's own.
pub const ENDPOINT_VARIABLES: [&str; 8] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SSO_OIDC",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SIGNIN",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_EKS",
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_UXC",
];

/// An endpoint override in effect: the variable, and its (checked) value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The environment variable.
    pub variable: &'static str,
    /// The endpoint it names.
    pub url: String,
}

/// Every endpoint override set in the environment, each checked as
/// [`validate_endpoint`] does.
pub fn overrides(get: impl Fn(&str) -> Option<String>) -> Result<Vec<Override>> {
    let mut out = Vec::new();
    for variable in ENDPOINT_VARIABLES {
        if let Some(v) = get(variable).filter(|v| !v.trim().is_empty()) {
            out.push(Override {
                variable,
                url: validate_endpoint(v.trim(), variable)?,
            });
        }
    }
    Ok(out)
}

impl Endpoints {
    /// Both services (and STS, EKS, ECR and UXC) at one URL, as the emulator serves them.
    pub fn both(url: impl Into<String>) -> Self {
        let url = url.into();
        Self {
            oidc: Some(url.clone()),
            portal: Some(url.clone()),
            signin: None,
            sts: Some(url.clone()),
            eks: Some(url.clone()),
            ecr: Some(url.clone()),
            uxc: Some(url),
        }
    }

    /// Reads `AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL_SSO` and the global fallback
    /// `AWS_ENDPOINT_URL` through `get` (pass `|k| std::env::var(k).ok()`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let read = |name: &str| -> Result<Option<String>> {
            match get(name).filter(|v| !v.trim().is_empty()) {
                Some(v) => validate_endpoint(v.trim(), name).map(Some),
                None => Ok(None),
            }
        };
        let global = read("AWS_ENDPOINT_URL")?;
        Ok(Self {
            oidc: read("AWS_ENDPOINT_URL_SSO_OIDC")?.or_else(|| global.clone()),
            portal: read("AWS_ENDPOINT_URL_SSO")?.or(global.clone()),
            signin: read("AWS_ENDPOINT_URL_SIGNIN")?,
            sts: read("AWS_ENDPOINT_URL_STS")?.or(global.clone()),
            eks: read("AWS_ENDPOINT_URL_EKS")?.or(global.clone()),
            ecr: read("AWS_ENDPOINT_URL_ECR")?.or(global.clone()),
            uxc: read("AWS_ENDPOINT_URL_UXC")?.or(global),
        })
    }

    /// The STS endpoint for `region`: the override, or the public regional one.
    pub fn sts_url(&self, region: &str) -> String {
        self.sts
            .clone()
            .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"))
    }

    /// The OIDC endpoint for `region`: the override, or the public one.
    pub fn oidc_url(&self, region: &str) -> String {
        self.oidc
            .clone()
            .unwrap_or_else(|| format!("https://oidc.{region}.amazonaws.com"))
    }

    /// The portal endpoint for `region`: the override, or the public one.
    pub fn portal_url(&self, region: &str) -> String {
        self.portal
            .clone()
            .unwrap_or_else(|| format!("https://portal.sso.{region}.amazonaws.com"))
    }
}

/// Checks an endpoint override: an `https` URL, or plain `http` to this machine only
/// (a local emulator): the session token would cross the network in clear otherwise.
pub fn validate_endpoint(url: &str, origin: &str) -> Result<String> {
    let refused = |reason| Error::InvalidEndpoint {
        // Not echoed whole: it may carry a user name and password.
        url: url
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect(),
        origin: origin.to_owned(),
        reason,
    };
    let parsed = url::Url::parse(url).map_err(|_| refused("it is not an http(s) URL"))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| refused("it is not an http(s) URL"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refused("it must not contain a user name or password"));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if crate::instance::is_loopback(host) => {}
        "http" => {
            return Err(refused(
                "plain http is only for this machine (127.0.0.1, localhost); anywhere else the session token would cross the network in clear",
            ))
        }
        _ => return Err(refused("it is not an http(s) URL")),
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Whether `endpoint` names this machine (`127.0.0.0/8`, `[::1]`, `localhost`).
pub fn is_loopback_endpoint(endpoint: &str) -> bool {
    url::Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(crate::instance::is_loopback))
        .unwrap_or(false)
}

/// The HTTP client for an endpoint override on this machine: the SDK's own, without the
/// proxy the environment names (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`). A request to
/// this machine never goes through a proxy, which would see the session's tokens in clear
/// over plain `http`. `None` (the SDK's default client, which honours the proxy variables)
/// for every other endpoint, all of them `https`.
fn http_client_for(
    endpoint: Option<&str>,
) -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    endpoint.filter(|e| is_loopback_endpoint(e)).map(|_| {
        aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .build_https()
    })
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(30))
        .operation_attempt_timeout(Duration::from_secs(30))
        .build()
}

/// A client of the SDK crate `$sdk` for `region`: from `base` (or the latest behaviour),
/// with this product's timeouts, `retry`, the `endpoint` override, and no proxy for an
/// endpoint on this machine. One recipe for every service the product calls.
macro_rules! client {
    ($sdk:ident, $base:expr, $region:expr, $endpoint:expr, $retry:expr) => {{
        let mut b = match $base {
            Some(c) => $sdk::config::Builder::from(c),
            None => $sdk::config::Builder::new()
                .behavior_version($sdk::config::BehaviorVersion::latest()),
        };
        b = b
            .region(Region::new($region.to_owned()))
            .timeout_config(timeouts())
            .retry_config($retry);
        if let Some(url) = $endpoint {
            b = b.endpoint_url(url);
        }
        if let Some(client) = http_client_for($endpoint) {
            b = b.http_client(client);
        }
        $sdk::Client::from_conf(b.build())
    }};
}

/// The OIDC client. The SDK's standard retries cover 5xx and throttling; it never retries
/// the polling replies, which the device flow owns.
pub fn oidc_client(
    base: Option<&SdkConfig>,
    region: &str,
    endpoint: Option<&str>,
) -> aws_sdk_ssooidc::Client {
    let retry = RetryConfig::standard().with_max_attempts(3);
    client!(aws_sdk_ssooidc, base, region, endpoint, retry)
}

/// The portal client, with the SDK's retries off: the portal layer owns back-off, so that
/// throttling is paced once, across all concurrent calls.
pub fn portal_client(
    base: Option<&SdkConfig>,
    region: &str,
    endpoint: Option<&str>,
) -> aws_sdk_sso::Client {
    client!(aws_sdk_sso, base, region, endpoint, RetryConfig::disabled())
}

/// The STS client for roles assumed from an SSO role; the credentials are given per
/// call. The SDK's standard retries cover throttling and 5xx.
pub fn sts_client(
    base: Option<&SdkConfig>,
    region: &str,
    endpoint: Option<&str>,
) -> aws_sdk_sts::Client {
    let retry = RetryConfig::standard().with_max_attempts(3);
    client!(aws_sdk_sts, base, region, endpoint, retry)
}

/// The EKS client of a role, in `region`: `credentials` sign every call. The SDK's
/// standard retries cover throttling and 5xx.
pub fn eks_client(
    credentials: &crate::portal::RoleCredentials,
    region: &str,
    endpoint: Option<&str>,
) -> aws_sdk_eks::Client {
    let retry = RetryConfig::standard().with_max_attempts(3);
    let base = role_config(credentials);
    client!(aws_sdk_eks, Some(&base), region, endpoint, retry)
}

/// The ECR client of a role, in `region`: `credentials` sign every call. The SDK's
/// standard retries cover throttling and 5xx.
pub fn ecr_client(
    credentials: &crate::portal::RoleCredentials,
    region: &str,
    endpoint: Option<&str>,
) -> aws_sdk_ecr::Client {
    let retry = RetryConfig::standard().with_max_attempts(3);
    let base = role_config(credentials);
    client!(aws_sdk_ecr, Some(&base), region, endpoint, retry)
}

/// The SDK's shared configuration with a role's credentials, and nothing read from the
/// environment or the AWS files: the favourite names the role, not the person's profile.
fn role_config(credentials: &crate::portal::RoleCredentials) -> SdkConfig {
    let creds = aws_credential_types::Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_owned(),
        Some(credentials.session_token.expose().to_owned()),
        Some(credentials.expiration),
        "aws-sso-tray",
    );
    SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build()
}

/// What an SDK call's failure means for us.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The service answered with an error code.
    Service {
        code: String,
        message: Option<String>,
        status: u16,
    },
    /// A server error with no AWS error in it, as a proxy or gateway sends.
    Gateway { status: u16 },
    /// The request never got an answer (connect refused, DNS, timeout).
    Network(BoxError),
    /// The answer could not be parsed.
    Unexpected(String),
}

impl CallError {
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            CallError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Worth trying again: no answer, a server fault, or throttling.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            CallError::Network(_) | CallError::Gateway { .. } => true,
            CallError::Service { status, code, .. } => {
                *status >= 500 || code == "InternalServerException" || self.is_throttle()
            }
            CallError::Unexpected(_) => false,
        }
    }

    pub(crate) fn is_throttle(&self) -> bool {
        matches!(self, CallError::Service { status, code, .. }
            if *status == 429 || code == "TooManyRequestsException" || code == "ThrottlingException")
    }

    /// The error for callers, once no retry is left.
    pub(crate) fn into_error(self, operation: &'static str, endpoint: &str) -> Error {
        if self.is_throttle() {
            return Error::Throttled { operation };
        }
        match self {
            CallError::Network(source) => Error::Network {
                operation,
                endpoint: endpoint.to_owned(),
                source,
            },
            CallError::Service { code, .. } if code == "UnauthorizedException" => {
                Error::Unauthorized { operation }
            }
            CallError::Service { code, message, .. } => Error::Service {
                operation,
                code,
                message,
            },
            CallError::Gateway { status } => Error::Gateway {
                operation,
                status,
                endpoint: endpoint.to_owned(),
            },
            CallError::Unexpected(detail) => Error::UnexpectedReply { operation, detail },
        }
    }
}

pub(crate) fn classify<E>(err: SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(ctx) => {
            let status = raw_status(ctx.raw());
            let e = ctx.err();
            match e.code() {
                Some(code) => CallError::Service {
                    code: code.to_owned(),
                    message: e.message().map(|m| m.chars().take(300).collect()),
                    status,
                },
                None if status >= 500 => CallError::Gateway { status },
                // The SDK reports a success reply it cannot parse as an error without a code.
                None if (200..300).contains(&status) => CallError::Unexpected(format!(
                    "a reply that is not valid JSON for this operation (HTTP {status})"
                )),
                None => CallError::Unexpected(format!(
                    "an error reply (HTTP {status}) with no error code"
                )),
            }
        }
        SdkError::TimeoutError(_) => CallError::Network("the request timed out".into()),
        SdkError::DispatchFailure(f) => CallError::Network(dispatch_reason(&f)),
        SdkError::ResponseError(r) => {
            let status = raw_status(r.raw());
            if status >= 500 {
                CallError::Gateway { status }
            } else {
                CallError::Unexpected(format!(
                    "a reply that is not valid JSON for this operation (HTTP {status})"
                ))
            }
        }
        other => CallError::Unexpected(
            aws_smithy_types::error::display::DisplayErrorContext(&other).to_string(),
        ),
    }
}

fn dispatch_reason(f: &aws_smithy_runtime_api::client::result::DispatchFailure) -> BoxError {
    let kind = if f.is_timeout() {
        "timed out"
    } else if f.is_io() {
        "connection failed"
    } else {
        "request failed"
    };
    // The innermost cause says it plainly ("Connection refused (os error 111)"); the
    // layers above it repeat it wrapped in Debug output.
    let mut inner: Option<&(dyn std::error::Error + 'static)> =
        f.as_connector_error().map(|c| c as _);
    while let Some(next) = inner.and_then(std::error::Error::source) {
        inner = Some(next);
    }
    match inner {
        Some(cause) => format!("{kind}: {cause}").into(),
        None => kind.into(),
    }
}

fn raw_status(raw: &HttpResponse) -> u16 {
    raw.status().as_u16()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_from_env_prefer_the_service_variable() {
        let env = |k: &str| match k {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:9/".to_owned()),
            "AWS_ENDPOINT_URL_SSO" => Some("http://127.0.0.1:8".to_owned()),
            _ => None,
        };
        let e = Endpoints::from_env(env).unwrap();
        assert_eq!(e.portal.as_deref(), Some("http://127.0.0.1:8"));
        assert_eq!(e.oidc.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(
            Endpoints::default().oidc_url("eu-west-1"),
            "https://oidc.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            Endpoints::default().portal_url("eu-west-1"),
            "https://portal.sso.eu-west-1.amazonaws.com"
        );
    }

    #[test]
    fn bad_endpoint_override_is_named() {
        let env = |k: &str| (k == "AWS_ENDPOINT_URL_SSO").then(|| "not a url".to_owned());
        let err = Endpoints::from_env(env).unwrap_err().to_string();
        assert!(err.contains("AWS_ENDPOINT_URL_SSO"), "{err}");
        let env = |k: &str| {
            (k == "AWS_ENDPOINT_URL").then(|| "https://me:hunter2@proxy.example".to_owned())
        };
        let err = Endpoints::from_env(env).unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
