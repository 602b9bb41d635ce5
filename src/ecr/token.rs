//! A registry password from ECR `GetAuthorizationToken`, called with a role's
//! credentials: a base64 `AWS:password` token, good for 12 hours.

use super::Registry;
use crate::error::{Error, Result};
use crate::portal::RoleCredentials;
use crate::secret::Secret;
use base64::Engine as _;
use std::time::{Duration, SystemTime};

/// A token is handed out while more than this is left of it (ECR gives 12 hours).
pub const TOKEN_MARGIN: Duration = Duration::from_secs(30 * 60);

/// An ECR authorization token: base64 of `USER:PASSWORD`, and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationToken {
    /// The token as ECR gives it (base64 of `AWS:password`). A secret.
    pub token: Secret,
    /// When ECR stops taking it.
    pub expires_at: SystemTime,
}

/// A user name and password docker logs in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The user name (`AWS`).
    pub username: String,
    /// The password. A secret.
    pub password: Secret,
}

impl AuthorizationToken {
    /// Still to be handed out at `now`: more than [`TOKEN_MARGIN`] left.
    pub fn fresh_at(&self, now: SystemTime) -> bool {
        crate::clock::later(now, TOKEN_MARGIN) < self.expires_at
    }

    /// The user name and password it holds; `None` for a token that is not base64 of
    /// `USER:PASSWORD`.
    pub fn login(&self) -> Option<Login> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.token.expose().trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (user, password) = text.split_once(':')?;
        (!user.is_empty() && !password.is_empty()).then(|| Login {
            username: user.to_owned(),
            password: Secret::new(password.to_owned()),
        })
    }
}

/// `GetAuthorizationToken` for `registry`, signed with `credentials` (of `who`, for
/// the message if it is refused), at `endpoint` if one is set, else at the registry's
/// partition's ECR endpoint (its FIPS one for a FIPS registry).
pub async fn authorization_token(
    credentials: &RoleCredentials,
    registry: &Registry,
    endpoint: Option<&str>,
    who: &str,
) -> Result<AuthorizationToken> {
    const OPERATION: &str = "GetAuthorizationToken";
    let client = crate::sdk::ecr_client(credentials, registry.region(), endpoint);
    let mut call = client.get_authorization_token().customize();
    // The service's rules refuse FIPS together with an endpoint of one's own.
    if registry.fips() && endpoint.is_none() {
        call = call.config_override(aws_sdk_ecr::config::Builder::default().use_fips(true));
    }
    let answer = call.send().await.map_err(|e| {
        let e = crate::sdk::classify(e);
        match e.code() {
            Some("AccessDeniedException" | "AccessDenied") => Error::EcrAccessDenied {
                who: who.to_owned(),
                registry: registry.host(),
            },
            _ => e.into_error(
                OPERATION,
                endpoint.unwrap_or("the ECR endpoint of the region"),
            ),
        }
    })?;
    let unexpected = |detail: &str| Error::UnexpectedReply {
        operation: OPERATION,
        detail: detail.to_owned(),
    };
    let data = answer
        .authorization_data()
        .first()
        .ok_or_else(|| unexpected("no authorization data in the answer"))?;
    let token = AuthorizationToken {
        token: Secret::new(
            data.authorization_token()
                .ok_or_else(|| unexpected("no token in the answer"))?
                .to_owned(),
        ),
        expires_at: data
            .expires_at()
            .and_then(|t| SystemTime::try_from(*t).ok())
            .ok_or_else(|| unexpected("no expiry in the answer"))?,
    };
    if token.login().is_none() {
        return Err(unexpected("a token that is not base64 of USER:PASSWORD"));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_epoch_seconds;

    fn token(text: &str, expires: i64) -> AuthorizationToken {
        AuthorizationToken {
            token: Secret::new(base64::engine::general_purpose::STANDARD.encode(text)),
            expires_at: from_epoch_seconds(expires),
        }
    }

    #[test]
    fn the_login_is_what_the_token_holds() {
        let login = token("AWS:pass:with:colons", 0).login().unwrap();
        assert_eq!(login.username, "AWS");
        assert_eq!(login.password.expose(), "pass:with:colons");
        for bad in ["AWS", ":pw", "AWS:"] {
            assert_eq!(token(bad, 0).login(), None, "{bad}");
        }
        let not_base64 = AuthorizationToken {
            token: Secret::new("not base64!"),
            expires_at: from_epoch_seconds(0),
        };
        assert_eq!(not_base64.login(), None);
    }

    #[test]
    fn handed_out_until_half_an_hour_before_it_expires() {
        let t = token("AWS:p", 1_000_000 + 12 * 3600);
        let issued = from_epoch_seconds(1_000_000);
        assert!(t.fresh_at(issued));
        assert!(t.fresh_at(from_epoch_seconds(1_000_000 + 12 * 3600 - 30 * 60 - 1)));
        assert!(!t.fresh_at(from_epoch_seconds(1_000_000 + 12 * 3600 - 30 * 60)));
    }
}
