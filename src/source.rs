//! Where credentials come from, and the one function that makes them.
//!
//! A [`Source`] is an SSO role of an account (`GetRoleCredentials`), optionally followed
//! by a role assumed with that role's credentials ([`AssumeRole`]: STS `AssumeRole`,
//! "role chaining"). [`AwsSsoDeviceAuthProvider::credentials`] turns a source into
//! credentials, and it is the only code that does: the renewer (`Fetch::Renew`), the
//! `credential_process` path (`Fetch::SigningIn`), renew now, write profile now and the
//! console (`Fetch::Cached`), and the local endpoint (`Fetch::Fresh`, with its own margin)
//! all call it. The renewer decides *when*, the source *how*, the outlet (the credentials
//! file, the `credential_process` cache, the console, the endpoint) *where*.
//!
//! Credentials of every source are kept in the provider's memory until they come within
//! the refresh margin of expiry (or the margin a `Fetch::Fresh` caller gives), so a second
//! caller in the same process is served warm.
//!
//! ```no_run
//! # async fn demo(sso: aws_sso_device_auth_provider::AwsSsoDeviceAuthProvider)
//! #     -> aws_sso_device_auth_provider::Result<()> {
//! use aws_sso_device_auth_provider::source::{AssumeRole, AssumeRoleEntry, Fetch, Source};
//! let deploy = Source {
//!     assume: Some(AssumeRole::new(AssumeRoleEntry {
//!         role_arn: "arn:aws:iam::444455556666:role/Deploy".into(),
//!         ..Default::default()
//!     })?),
//!     ..Source::role("111122223333", "ReadOnlyAccess")
//! };
//! let chained = sso.credentials(&deploy, Fetch::Cached).await?;
//! # let _ = chained; Ok(()) }
//! ```

use crate::error::{Error, Result};
use crate::portal::RoleCredentials;
use crate::provider::{AwsSsoDeviceAuthProvider, Interaction};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

/// The longest session AWS gives a role assumed with another role's credentials: one
/// hour, whatever the role's own maximum says.
pub const CHAINED_SESSION_MAX: Duration = Duration::from_secs(3600);

/// The shortest session STS gives: 15 minutes.
pub const SESSION_MIN: Duration = Duration::from_secs(900);

/// The role session name used when none is given.
pub const DEFAULT_SESSION_NAME: &str = "aws-sso-tray";

/// A role to assume (STS `AssumeRole`) with the credentials of an SSO role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "AssumeRoleEntry")]
pub struct AssumeRole {
    role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<u32>,
}

/// [`AssumeRole`] as a file or a form gives it, before it is checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssumeRoleEntry {
    /// The role's ARN.
    pub role_arn: String,
    /// The external ID the role's trust policy asks for, if any.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The role session name (default [`DEFAULT_SESSION_NAME`]).
    #[serde(default)]
    pub session_name: Option<String>,
    /// The session's length in seconds, 900 to 3600 (default 3600).
    #[serde(default)]
    pub duration_seconds: Option<u32>,
}

impl TryFrom<AssumeRoleEntry> for AssumeRole {
    type Error = Error;
    fn try_from(e: AssumeRoleEntry) -> Result<Self> {
        let invalid =
            |field: &'static str, reason: String| Error::InvalidAssumeRole { field, reason };
        let role_arn = e.role_arn.trim().to_owned();
        if !is_role_arn(&role_arn) {
            return Err(invalid(
                "role ARN",
                format!(
                    "'{}' is not a role ARN, such as arn:aws:iam::123456789012:role/Deploy",
                    crate::display::text(&role_arn.chars().take(200).collect::<String>())
                ),
            ));
        }
        // As STS takes them: [\w+=,.@:/-] for an external ID, [\w+=,.@-] for a name.
        let external_id = optional_text(
            e.external_id,
            "external ID",
            2..=1224,
            "_+=,.@:/-",
            "it must be 2 to 1,224 letters, digits or _+=,.@:/-",
        )?;
        let session_name = optional_text(
            e.session_name,
            "role session name",
            2..=64,
            "_+=,.@-",
            "it must be 2 to 64 letters, digits or _+=,.@-",
        )?;
        if let Some(d) = e.duration_seconds {
            let range = SESSION_MIN.as_secs()..=CHAINED_SESSION_MAX.as_secs();
            if !range.contains(&u64::from(d)) {
                return Err(invalid(
                    "duration",
                    format!(
                        "{d} seconds is outside 900 to 3600: AWS gives a role assumed from an SSO role at most one hour"
                    ),
                ));
            }
        }
        Ok(Self {
            role_arn,
            external_id,
            session_name,
            duration_seconds: e.duration_seconds,
        })
    }
}

/// `value` trimmed (`None` when blank), refused with `reason` unless it is `len` ASCII
/// letters, digits or characters of `also`.
fn optional_text(
    value: Option<String>,
    field: &'static str,
    len: std::ops::RangeInclusive<usize>,
    also: &str,
    reason: &str,
) -> Result<Option<String>> {
    let Some(v) = value.map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()) else {
        return Ok(None);
    };
    if len.contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || also.contains(c))
    {
        Ok(Some(v))
    } else {
        Err(Error::InvalidAssumeRole {
            field,
            reason: reason.to_owned(),
        })
    }
}

/// `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let name = resource.strip_prefix("role/").unwrap_or_default();
    partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.ends_with('/')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-/".contains(c))
}

impl AssumeRole {
    /// Checks the parts a person or a file gave.
    pub fn new(entry: AssumeRoleEntry) -> Result<Self> {
        Self::try_from(entry)
    }

    /// The role's ARN.
    pub fn role_arn(&self) -> &str {
        &self.role_arn
    }

    /// The account the role is in (from its ARN).
    pub fn account_id(&self) -> &str {
        self.role_arn.split(':').nth(4).unwrap_or_default()
    }

    /// The role's name (the last part of its ARN).
    pub fn role_name(&self) -> &str {
        self.role_arn.rsplit('/').next().unwrap_or_default()
    }

    /// The external ID, if the role's trust policy asks for one.
    pub fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }

    /// The role session name.
    pub fn session_name(&self) -> &str {
        self.session_name.as_deref().unwrap_or(DEFAULT_SESSION_NAME)
    }

    /// The role session name given, if any.
    pub fn session_name_given(&self) -> Option<&str> {
        self.session_name.as_deref()
    }

    /// The session's length.
    pub fn duration(&self) -> Duration {
        self.duration_seconds
            .map_or(CHAINED_SESSION_MAX, |s| Duration::from_secs(s.into()))
    }

    /// The length given, in seconds, if any.
    pub fn duration_seconds(&self) -> Option<u32> {
        self.duration_seconds
    }
}

/// Where one set of credentials comes from, within one instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    /// The SSO account.
    pub account_id: String,
    /// The SSO role (permission set).
    pub role_name: String,
    /// A role then assumed with the SSO role's credentials.
    pub assume: Option<AssumeRole>,
}

impl Source {
    /// An SSO role.
    pub fn role(account_id: &str, role_name: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            role_name: role_name.to_owned(),
            assume: None,
        }
    }

    /// The same SSO role, with nothing assumed from it.
    fn sso(&self) -> Self {
        Self {
            assume: None,
            ..self.clone()
        }
    }

    /// One key for caches of its credentials, naming every part.
    pub fn key(&self) -> String {
        match &self.assume {
            None => format!("{}|{}", self.account_id, self.role_name),
            Some(a) => format!(
                "{}|{}|{}|{}|{}|{}",
                self.account_id,
                self.role_name,
                a.role_arn,
                a.external_id.as_deref().unwrap_or_default(),
                a.session_name(),
                a.duration().as_secs()
            ),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in account {}", self.role_name, self.account_id)?;
        if let Some(a) = &self.assume {
            write!(f, ", then {}", a.role_arn)?;
        }
        Ok(())
    }
}

/// How fresh the credentials must be, and whether a sign-in may be started for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// From memory while they are outside the refresh margin; a sign-in only if the
    /// provider signs in on demand.
    Cached,
    /// New ones, whatever memory holds (the renewer, ahead of a margin of its own). An
    /// SSO role a chained source starts from is taken from memory while fresh. Never
    /// starts a sign-in: fails with [`Error::SignInRequired`] instead.
    Renew,
    /// As [`Fetch::Cached`], but may start a sign-in (one across every caller), for a
    /// caller a person waits on such as `credential_process`.
    SigningIn,
    /// From memory while they have more than this left, else new ones; never starts a
    /// sign-in (the local credential endpoint: what it serves must outlast the SDKs' own
    /// margin).
    Fresh(Duration),
}

impl AwsSsoDeviceAuthProvider {
    /// Credentials from `source`, of this provider's instance: the one function in this
    /// library that makes credentials.
    pub async fn credentials(&self, source: &Source, fetch: Fetch) -> Result<RoleCredentials> {
        let interaction = match fetch {
            Fetch::Cached => self.interaction(),
            Fetch::Renew | Fetch::Fresh(_) => Interaction::Forbidden,
            Fetch::SigningIn => Interaction::Allowed,
        };
        let left = match fetch {
            Fetch::Fresh(margin) => Some(margin),
            Fetch::Renew => None,
            Fetch::Cached | Fetch::SigningIn => Some(self.credentials_margin()),
        };
        if let Some(c) = left.and_then(|margin| self.remembered(source, margin)) {
            return Ok(c);
        }
        let Some(assume) = &source.assume else {
            return self.fetch_role(source, interaction).await;
        };
        let sso = source.sso();
        let base = match self.remembered(&sso, self.credentials_margin()) {
            Some(c) => c,
            None => self.fetch_role(&sso, interaction).await?,
        };
        let creds = self.assume_role(&base, &sso, assume).await?;
        self.remember(source, &creds);
        Ok(creds)
    }

    async fn fetch_role(
        &self,
        source: &Source,
        interaction: Interaction,
    ) -> Result<RoleCredentials> {
        let creds = self
            .fetch_role_credentials(&source.account_id, &source.role_name, interaction)
            .await?;
        self.remember(source, &creds);
        Ok(creds)
    }

    /// STS `AssumeRole` with `base`, the credentials of the SSO role `from`.
    async fn assume_role(
        &self,
        base: &RoleCredentials,
        from: &Source,
        assume: &AssumeRole,
    ) -> Result<RoleCredentials> {
        let given = aws_credential_types::Credentials::new(
            base.access_key_id.clone(),
            base.secret_access_key.expose().to_owned(),
            Some(base.session_token.expose().to_owned()),
            Some(base.expiration),
            "aws-sso-tray",
        );
        let duration = i32::try_from(assume.duration().as_secs()).unwrap_or(3600);
        let answer = self
            .sts()
            .assume_role()
            .role_arn(&assume.role_arn)
            .role_session_name(assume.session_name())
            .set_external_id(assume.external_id.clone())
            .duration_seconds(duration)
            .customize()
            .config_override(aws_sdk_sts::config::Builder::default().credentials_provider(given))
            .send()
            .await;
        let out = match answer {
            Ok(out) => out,
            Err(e) => {
                let e = crate::sdk::classify(e);
                return Err(match e.code() {
                    Some("AccessDenied") => Error::AssumeRoleRefused {
                        role_arn: assume.role_arn.clone(),
                        by: from.to_string(),
                    },
                    Some("ExpiredToken" | "InvalidClientTokenId") => {
                        // The SSO role's credentials were refused: forget them, so the
                        // next try fetches new ones.
                        self.forget(from);
                        e.into_error("AssumeRole", &self.sts_endpoint())
                    }
                    _ => e.into_error("AssumeRole", &self.sts_endpoint()),
                });
            }
        };
        let c = out.credentials().ok_or(Error::UnexpectedReply {
            operation: "AssumeRole",
            detail: "no credentials in the answer".into(),
        })?;
        let expiration =
            SystemTime::try_from(*c.expiration()).map_err(|_| Error::UnexpectedReply {
                operation: "AssumeRole",
                detail: "an expiration out of range".into(),
            })?;
        Ok(RoleCredentials {
            access_key_id: c.access_key_id().to_owned(),
            secret_access_key: Secret::new(c.secret_access_key().to_owned()),
            session_token: Secret::new(c.session_token().to_owned()),
            expiration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(arn: &str) -> AssumeRoleEntry {
        AssumeRoleEntry {
            role_arn: arn.into(),
            ..AssumeRoleEntry::default()
        }
    }

    #[test]
    fn takes_role_arns_and_refuses_other_arns() {
        for arn in [
            "arn:aws:iam::123456789012:role/Deploy",
            "arn:aws:iam::123456789012:role/path/to/Deploy",
            "arn:aws-cn:iam::123456789012:role/x",
            " arn:aws:iam::123456789012:role/Deploy ",
        ] {
            let a = AssumeRole::new(entry(arn)).unwrap();
            assert_eq!(a.account_id(), "123456789012");
        }
        for arn in [
            "",
            "Deploy",
            "arn:aws:iam::12345678901:role/Deploy",
            "arn:aws:iam::123456789012:user/Deploy",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:sts::123456789012:role/Deploy",
            "arn:aws:iam::123456789012:role/De\u{202e}ploy",
            "arn:aws:iam::123456789012:role/a\nb",
        ] {
            let e = AssumeRole::new(entry(arn)).unwrap_err();
            assert!(e.to_string().contains("role ARN"), "{arn:?}: {e}");
            assert!(!e.to_string().contains('\u{202e}'), "{e}");
        }
    }

    #[test]
    fn a_chained_session_lasts_at_most_an_hour_and_the_error_says_so() {
        let mut e = entry("arn:aws:iam::123456789012:role/Deploy");
        e.duration_seconds = Some(7200);
        let err = AssumeRole::new(e.clone()).unwrap_err().to_string();
        assert!(err.contains("at most one hour"), "{err}");
        e.duration_seconds = Some(899);
        assert!(AssumeRole::new(e.clone()).is_err());
        e.duration_seconds = Some(900);
        assert_eq!(AssumeRole::new(e).unwrap().duration(), SESSION_MIN);
        let plain = AssumeRole::new(entry("arn:aws:iam::123456789012:role/Deploy")).unwrap();
        assert_eq!(plain.duration(), CHAINED_SESSION_MAX);
        assert_eq!(plain.session_name(), DEFAULT_SESSION_NAME);
    }

    #[test]
    fn session_names_and_external_ids_are_checked_as_sts_checks_them() {
        let mut e = entry("arn:aws:iam::123456789012:role/Deploy");
        e.session_name = Some("a b".into());
        assert!(AssumeRole::new(e.clone()).is_err());
        e.session_name = Some("alice@example.com".into());
        e.external_id = Some("x".into());
        assert!(AssumeRole::new(e.clone()).is_err());
        e.external_id = Some("  ".into());
        let a = AssumeRole::new(e).unwrap();
        assert_eq!(a.external_id(), None, "blank is none");
        assert_eq!(a.session_name(), "alice@example.com");
    }

    #[test]
    fn the_file_form_is_checked_when_read() {
        let a: AssumeRole = serde_json::from_str(
            r#"{"roleArn":"arn:aws:iam::123456789012:role/Deploy","durationSeconds":1800}"#,
        )
        .unwrap();
        assert_eq!(a.duration(), Duration::from_secs(1800));
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"roleArn":"arn:aws:iam::123456789012:role/Deploy","durationSeconds":1800}"#
        );
        assert!(serde_json::from_str::<AssumeRole>(r#"{"roleArn":"nope"}"#).is_err());
    }

    #[test]
    fn every_part_of_a_source_is_in_its_key() {
        let plain = Source::role("111111111111", "Admin");
        let mut chained = plain.clone();
        chained.assume = Some(AssumeRole::new(entry("arn:aws:iam::222222222222:role/D")).unwrap());
        let mut other = chained.clone();
        other.assume = Some(
            AssumeRole::new(AssumeRoleEntry {
                external_id: Some("xyz".into()),
                ..entry("arn:aws:iam::222222222222:role/D")
            })
            .unwrap(),
        );
        let keys = [plain.key(), chained.key(), other.key()];
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[1], keys[2]);
        assert_eq!(chained.sso(), plain);
    }
}
