//! The one keychain item per instance: client registration and tokens, compact JSON.

use crate::clock::{epoch_seconds, from_epoch_seconds};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// Which sign-in flow a client registration was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignInFlow {
    /// OAuth device authorization (RFC 8628).
    Device,
    /// Authorization code with PKCE on a loopback redirect.
    Pkce,
}

/// An OIDC client registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRegistration {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: Secret,
    /// When the registration (and its secret) expires.
    pub expires_at: SystemTime,
    /// The flow it was made for.
    pub flow: SignInFlow,
    /// A digest of the registration options (scopes, grant types); a change re-registers.
    pub options_digest: String,
}

/// The tokens of a signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// The bearer token for the portal.
    pub access_token: Secret,
    /// When the access token expires.
    pub expires_at: SystemTime,
    /// The refresh token, when the registration has scopes.
    pub refresh_token: Option<Secret>,
}

/// The AWS endpoints a session was made with; it is sent to no other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEndpoints {
    /// The SSO OIDC endpoint (registration, sign-in, refresh).
    pub oidc: String,
    /// The portal endpoint (accounts, roles, credentials, logout).
    pub portal: String,
}

impl std::fmt::Display for SessionEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.oidc == self.portal {
            f.write_str(&self.oidc)
        } else {
            write!(f, "{} (sign-in) and {} (portal)", self.oidc, self.portal)
        }
    }
}

/// Everything kept for one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRecord {
    /// The client registration, if any.
    pub registration: Option<ClientRegistration>,
    /// The tokens, if signed in.
    pub tokens: Option<TokenSet>,
    /// Where the registration and tokens came from: `None` for AWS's own endpoints of
    /// the instance's region (and for records from before endpoints were recorded).
    pub endpoints: Option<SessionEndpoints>,
}

// The stored form: short keys so that real-sized tokens fit Windows' 2,560-byte item limit.
#[derive(Serialize, Deserialize)]
struct Stored<'a> {
    v: u8,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    reg: Option<StoredRegistration<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    tok: Option<StoredTokens<'a>>,
    /// The endpoints, when not AWS's own: one URL for both, or "OIDC PORTAL" (a URL
    /// holds no space).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ep: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredRegistration<'a> {
    id: &'a str,
    secret: &'a str,
    exp: i64,
    flow: SignInFlow,
    opt: &'a str,
}

#[derive(Serialize, Deserialize)]
struct StoredTokens<'a> {
    at: &'a str,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    rt: Option<&'a str>,
}

const VERSION: u8 = 1;

impl SessionRecord {
    /// Serialises for the secret store. The result holds secrets: it goes nowhere else.
    pub fn to_secret(&self) -> Secret {
        let stored = Stored {
            v: VERSION,
            reg: self.registration.as_ref().map(|r| StoredRegistration {
                id: &r.client_id,
                secret: r.client_secret.expose(),
                exp: epoch_seconds(r.expires_at),
                flow: r.flow,
                opt: &r.options_digest,
            }),
            tok: self.tokens.as_ref().map(|t| StoredTokens {
                at: t.access_token.expose(),
                exp: epoch_seconds(t.expires_at),
                rt: t.refresh_token.as_ref().map(Secret::expose),
            }),
            ep: self.endpoints.as_ref().map(|e| {
                if e.oidc == e.portal {
                    e.oidc.clone()
                } else {
                    format!("{} {}", e.oidc, e.portal)
                }
            }),
        };
        // Serialising plain strings and integers cannot fail.
        Secret::new(serde_json::to_string(&stored).unwrap_or_default())
    }

    /// Parses what [`Self::to_secret`] wrote. The error names what was wrong, never the content.
    pub fn from_secret(secret: &Secret) -> Result<Self, String> {
        let stored: Stored<'_> = serde_json::from_str(secret.expose()).map_err(|e| {
            format!(
                "not a session record (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        if stored.v != VERSION {
            return Err(format!("record version {} is not supported", stored.v));
        }
        Ok(Self {
            registration: stored.reg.map(|r| ClientRegistration {
                client_id: r.id.to_owned(),
                client_secret: Secret::new(r.secret),
                expires_at: from_epoch_seconds(r.exp),
                flow: r.flow,
                options_digest: r.opt.to_owned(),
            }),
            tokens: stored.tok.map(|t| TokenSet {
                access_token: Secret::new(t.at),
                expires_at: from_epoch_seconds(t.exp),
                refresh_token: t.rt.map(Secret::new),
            }),
            endpoints: stored.ep.map(|ep| {
                let (oidc, portal) = ep.split_once(' ').unwrap_or((&ep, &ep));
                SessionEndpoints {
                    oidc: oidc.to_owned(),
                    portal: portal.to_owned(),
                }
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real_sized() -> SessionRecord {
        // Sizes seen in AWS CLI token caches: client secrets are JWT-like and the longest part.
        SessionRecord {
            registration: Some(ClientRegistration {
                client_id: "x".repeat(90),
                client_secret: Secret::new("s".repeat(1_100)),
                expires_at: from_epoch_seconds(1_800_000_000),
                flow: SignInFlow::Pkce,
                options_digest: "0123456789abcdef".into(),
            }),
            tokens: Some(TokenSet {
                access_token: Secret::new("a".repeat(500)),
                expires_at: from_epoch_seconds(1_790_000_000),
                refresh_token: Some(Secret::new("r".repeat(600))),
            }),
            endpoints: Some(SessionEndpoints {
                oidc: "https://sso-oidc.proxy.example.internal:8443".into(),
                portal: "https://sso-portal.proxy.example.internal:8443".into(),
            }),
        }
    }

    #[test]
    fn round_trips() {
        let r = real_sized();
        assert_eq!(SessionRecord::from_secret(&r.to_secret()).unwrap(), r);
        let one = SessionRecord {
            endpoints: Some(SessionEndpoints {
                oidc: "http://127.0.0.1:4566".into(),
                portal: "http://127.0.0.1:4566".into(),
            }),
            ..SessionRecord::default()
        };
        assert_eq!(SessionRecord::from_secret(&one.to_secret()).unwrap(), one);
        assert!(one
            .to_secret()
            .expose()
            .contains(r#""ep":"http://127.0.0.1:4566""#));
        // A record from before endpoints were recorded reads as AWS's own.
        let old = SessionRecord::from_secret(&Secret::new(r#"{"v":1}"#)).unwrap();
        assert_eq!(old.endpoints, None);
        let empty = SessionRecord::default();
        assert_eq!(
            SessionRecord::from_secret(&empty.to_secret()).unwrap(),
            empty
        );
    }

    #[test]
    fn real_sized_record_fits_one_windows_item() {
        let size = real_sized().to_secret().len();
        assert!(size <= super::super::MAX_ITEM_BYTES, "{size} bytes");
    }

    #[test]
    fn corrupt_record_error_does_not_echo_content() {
        let err =
            SessionRecord::from_secret(&Secret::new("{\"v\":1,\"tok\":{\"at\":\"SECRETVALUE\""))
                .unwrap_err();
        assert!(!err.contains("SECRETVALUE"), "{err}");
        let err = SessionRecord::from_secret(&Secret::new("{\"v\":9}")).unwrap_err();
        assert!(err.contains("version 9"));
    }
}
