//! A URL that signs the user into the AWS console as a role: role credentials exchanged
//! at the federation endpoint for a sign-in token; and handing it to the browser so that
//! nobody else can take it first ([`open_once`]). Where the console opens
//! ([`Destination`]), in which browser ([`BrowserChoice`]), with which colour
//! ([`Colour`]).

use crate::error::{Error, Result};
use crate::portal::RoleCredentials;
use crate::secret::Secret;
use std::time::Duration;

/// The federation endpoint's base URL for `region`'s partition.
pub fn federation_base(region: &str) -> &'static str {
    Partition::of(region).signin_base()
}

/// An HTTP client for a call to `endpoint` that carries role credentials: 30 s at most,
/// and never through a proxy to this machine, where it would cross in clear.
pub(crate) fn client_for(endpoint: &str) -> reqwest::Result<reqwest::Client> {
    let mut client = reqwest::Client::builder().timeout(Duration::from_secs(30));
    if crate::sdk::is_loopback_endpoint(endpoint) {
        client = client.no_proxy();
    }
    client.build()
}

/// What a console sign-in asks for besides the role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// The page to open after the sign-in (a console address: see [`Destination`]).
    pub destination: String,
    /// The console session's length in seconds, if not the console's own default
    /// (checked: [`check_session_length`]).
    pub session_seconds: Option<u32>,
}

/// Exchanges `credentials` for a console sign-in token at `base` (default: the
/// federation endpoint of `region`'s partition) and returns the sign-in URL that leads
/// to `visit`'s page. The URL is a secret: whoever opens it within 15 minutes is signed
/// in. Nothing signs the browser out first, so the console's multi-session keeps the
/// browser's other sessions.
pub async fn signin_url(
    credentials: &RoleCredentials,
    region: &str,
    base: Option<&str>,
    visit: &Visit,
) -> Result<Secret> {
    let base = base.unwrap_or_else(|| federation_base(region));
    let endpoint = format!("{}/federation", base.trim_end_matches('/'));
    let invalid = || Error::InvalidEndpoint {
        url: base.to_owned(),
        origin: "the console sign-in endpoint".to_owned(),
        reason: "it is not an http(s) URL",
    };
    let mut url = url::Url::parse(&endpoint).map_err(|_| invalid())?;
    let session = serde_json::json!({
        "sessionId": credentials.access_key_id,
        "sessionKey": credentials.secret_access_key.expose(),
        "sessionToken": credentials.session_token.expose(),
    })
    .to_string();
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("Action", "getSigninToken");
        if let Some(seconds) = visit.session_seconds {
            query.append_pair("SessionDuration", &seconds.to_string());
        }
        query.append_pair("Session", &session);
    }
    let network = |e: reqwest::Error| Error::Network {
        operation: "GetSigninToken",
        endpoint: endpoint.clone(),
        // The request URL carries the credentials: never in a message.
        source: Box::new(e.without_url()),
    };
    let response = client_for(&endpoint)
        .map_err(network)?
        .get(url)
        .send()
        .await
        .map_err(network)?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::Service {
            operation: "GetSigninToken",
            code: format!("HTTP {}", status.as_u16()),
            message: Some(match visit.session_seconds {
                Some(s) => format!("the console sign-in endpoint refused the role credentials or a console session of {s} s"),
                None => "the console sign-in endpoint refused the role credentials".into(),
            }),
        });
    }
    let body: serde_json::Value = response.json().await.map_err(|e| Error::UnexpectedReply {
        operation: "GetSigninToken",
        detail: e.without_url().to_string(),
    })?;
    let token = body
        .get("SigninToken")
        .and_then(|t| t.as_str())
        .ok_or_else(|| Error::UnexpectedReply {
            operation: "GetSigninToken",
            detail: "no SigninToken in the reply".into(),
        })?;
    let mut login = url::Url::parse(&endpoint).map_err(|_| invalid())?;
    login
        .query_pairs_mut()
        .append_pair("Action", "login")
        .append_pair("Issuer", "aws-sso-tray")
        .append_pair("Destination", &visit.destination)
        .append_pair("SigninToken", token);
    Ok(Secret::new(login.to_string()))
}

mod browser;
mod colour;
mod destination;
mod handoff;
mod partition;
mod uxc;

pub use browser::{BrowserChoice, BrowserKind, ContainerScheme};
pub use colour::Colour;
pub use destination::{
    check_session_length, console_domain, console_home, Destination, COMMON_SERVICES, SESSION_RANGE,
};
pub use handoff::open_once;
pub use partition::Partition;
pub use uxc::account_colour;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_have_their_own_hosts() {
        assert_eq!(
            federation_base("eu-west-1"),
            "https://signin.aws.amazon.com"
        );
        assert_eq!(
            federation_base("us-gov-west-1"),
            "https://signin.amazonaws-us-gov.com"
        );
        assert_eq!(federation_base("cn-north-1"), "https://signin.amazonaws.cn");
        assert_eq!(
            console_home("eu-west-1"),
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
        );
        assert!(console_home("cn-north-1").starts_with("https://console.amazonaws.cn/"));
    }
}
