//! The EKS token: a presigned STS `GetCallerIdentity`, signed here.
//!
//! The token is what `aws eks get-token` prints (awscli's
//! `awscli/customizations/eks/get_token.py`): `k8s-aws-v1.` and the base64url (no padding)
//! of a presigned `GET https://sts.REGION.DNS_SUFFIX/?Action=GetCallerIdentity&…`
//! whose signed headers are `host` and `x-k8s-aws-id: CLUSTER`, with `X-Amz-Expires=60`.
//! The cluster's authenticator sends the URL on to STS (with the same headers) and
//! accepts it for 15 minutes from its `X-Amz-Date`, as long as the credentials that
//! signed it are valid. Signing is local and pure: no network, the time is given.
//!
//! The URL is laid out byte for byte as botocore lays it out (the same parameters in
//! the same order, encoded the same way), so the token equals awscli's for the same
//! credentials and instant.

use crate::clock::{later, rfc3339};
use crate::error::{Error, Result};
use crate::portal::RoleCredentials;
use crate::secret::Secret;
use std::time::{Duration, SystemTime};

/// What every token starts with.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";

/// The header naming the cluster, signed into the URL.
pub const CLUSTER_HEADER: &str = "x-k8s-aws-id";

/// `X-Amz-Expires` of the presigned URL, as awscli signs it (the authenticator gives the
/// token its own 15 minutes regardless).
pub const URL_EXPIRES: Duration = Duration::from_secs(60);

/// How long the cluster's authenticator accepts a token after it was signed.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// How long before a token's end kubectl is told it expires (and this program signs a new
/// one): a request started with it still arrives in time, as with awscli's 14 minutes.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// The `ExecCredential` API version awscli answers when kubectl says none.
pub const DEFAULT_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";

/// The API versions of `ExecCredential` this program can answer in.
const API_VERSIONS: [&str; 2] = [
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
];

/// A signed token and how long the cluster accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksToken {
    /// `k8s-aws-v1.…`: whoever holds it is the role on the cluster until it expires.
    pub token: Secret,
    /// When the cluster stops accepting it: 15 minutes after signing, never after the
    /// credentials' own expiry.
    pub valid_until: SystemTime,
}

impl EksToken {
    /// The `expirationTimestamp` told to kubectl: a minute before the token's end, so
    /// that kubectl asks for a new one first.
    pub fn expires_at(&self) -> SystemTime {
        self.valid_until
            .checked_sub(EXPIRY_MARGIN)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }

    /// Whether it is still handed out at `now` (kubectl would still use it).
    pub fn fresh_at(&self, now: SystemTime) -> bool {
        now < self.expires_at()
    }

    /// The `ExecCredential` kubectl reads, in `api_version` (see [`api_version`]), laid out
    /// as awscli lays it out (its keys in the same order). A secret: it holds the token.
    pub fn exec_credential(&self, api_version: &str) -> Secret {
        let string = |s: &str| serde_json::Value::from(s).to_string();
        Secret::new(format!(
            r#"{{"kind":"ExecCredential","apiVersion":{},"spec":{{}},"status":{{"expirationTimestamp":{},"token":{}}}}}"#,
            string(api_version),
            string(&rfc3339(self.expires_at())),
            string(self.token.expose()),
        ))
    }
}

/// The `ExecCredential` API version to answer in, from the `KUBERNETES_EXEC_INFO`
/// kubectl sets: the one it asks for when this program knows it, else v1beta1 (as
/// awscli falls back).
pub fn api_version(exec_info: Option<&str>) -> &'static str {
    let asked = exec_info
        .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw).ok())
        .and_then(|v| v.get("apiVersion")?.as_str().map(str::to_owned));
    API_VERSIONS
        .into_iter()
        .find(|v| asked.as_deref() == Some(v))
        .unwrap_or(DEFAULT_API_VERSION)
}

/// Checks a cluster name (or an Outposts cluster id) as EKS names them: letters, digits,
/// `-` and `_`, starting with a letter or digit, at most 100 characters.
pub fn validate_cluster_name(name: &str) -> Result<&str> {
    let ok = (1..=100).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(name)
    } else {
        Err(Error::InvalidClusterName {
            name: name.chars().take(100).collect(),
        })
    }
}

/// The regional STS host of `region`, in its partition's DNS suffix (as botocore's
/// partitions name them; `aws-global` is the one global endpoint).
pub fn sts_host(region: &str) -> String {
    if region == "aws-global" {
        return "sts.amazonaws.com".to_owned();
    }
    let suffix = [
        ("cn-", "amazonaws.com.cn"),
        ("eusc-", "amazonaws.eu"),
        ("us-iso-", "c2s.ic.gov"),
        ("us-isob-", "sc2s.sgov.gov"),
        ("us-isof-", "csp.hci.ic.gov"),
        ("eu-isoe-", "cloud.adc-e.uk"),
    ]
    .into_iter()
    .find(|(prefix, _)| region.starts_with(prefix))
    .map_or("amazonaws.com", |(_, suffix)| suffix);
    format!("sts.{region}.{suffix}")
}

/// The region a token for `region` is signed for (the global endpoint signs as
/// us-east-1).
fn signing_region(region: &str) -> &str {
    if region == "aws-global" {
        "us-east-1"
    } else {
        region
    }
}

/// The presigned `GetCallerIdentity` URL for `cluster` in `region`, signed at `now`.
pub fn presigned_url(
    credentials: &RoleCredentials,
    cluster: &str,
    region: &str,
    now: SystemTime,
) -> Result<Secret> {
    use aws_sigv4::http_request::{
        sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    };
    let cluster = validate_cluster_name(cluster)?;
    let host = sts_host(region);
    let base = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let failed = |e: &dyn std::fmt::Display| Error::EksTokenNotSigned {
        reason: e.to_string(),
    };
    let session_token = credentials.session_token.expose();
    let identity = aws_credential_types::Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_owned(),
        (!session_token.is_empty()).then(|| session_token.to_owned()),
        Some(credentials.expiration),
        "aws-sso-tray",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(URL_EXPIRES);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(signing_region(region))
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let request = SignableRequest::new(
        "GET",
        &base,
        [("host", host.as_str()), (CLUSTER_HEADER, cluster)].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| failed(&e))?;
    // The signer traces its canonical request, whose query holds the session token:
    // nothing it logs leaves this call.
    let signed =
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::new(), || {
            sign(request, &params)
        });
    let (instructions, _signature) = signed.map_err(|e| failed(&e))?.into_parts();
    let (_, signed) = instructions.into_parts();
    // botocore's order: the signature last, the session token before it.
    let order = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
    ];
    let mut url = base;
    for name in order {
        if let Some((_, value)) = signed.iter().find(|(n, _)| *n == name) {
            url.push('&');
            url.push_str(name);
            url.push('=');
            url.push_str(&encode(value));
        }
    }
    Ok(Secret::new(url))
}

/// A token for `cluster` in `region` signed at `now` with `credentials`.
pub fn token(
    credentials: &RoleCredentials,
    cluster: &str,
    region: &str,
    now: SystemTime,
) -> Result<EksToken> {
    use base64::Engine;
    let url = presigned_url(credentials, cluster, region, now)?;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url.expose());
    Ok(EksToken {
        token: Secret::new(format!("{TOKEN_PREFIX}{encoded}")),
        valid_until: later(now, TOKEN_LIFETIME).min(credentials.expiration),
    })
}

/// Percent-encodes a query value as SigV4 (and botocore) do: everything but the
/// unreserved characters.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_epoch_seconds;

    /// 2026-12-07T20:00:00Z.
    const SIGNED_AT: i64 = 1_796_673_600;

    fn creds(expiration: i64) -> RoleCredentials {
        RoleCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "secret/key+x".into(),
            session_token: "token/with+slash=".into(),
            expiration: from_epoch_seconds(expiration),
        }
    }

    fn decoded(token: &EksToken) -> String {
        use base64::Engine;
        let body = token.token.expose().strip_prefix(TOKEN_PREFIX).unwrap();
        assert!(!body.contains('='), "no padding");
        String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(body)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn signs_the_same_url_as_awscli() {
        // botocore 1.43 (awscli 1.45) with these credentials, region and instant.
        let t = token(
            &creds(SIGNED_AT + 3600),
            "my-cluster",
            "us-east-1",
            from_epoch_seconds(SIGNED_AT),
        )
        .unwrap();
        assert_eq!(
            decoded(&t),
            "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15\
             &X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=ASIAEXAMPLE%2F20261207%2Fus-east-1%2Fsts%2Faws4_request\
             &X-Amz-Date=20261207T200000Z&X-Amz-Expires=60\
             &X-Amz-SignedHeaders=host%3Bx-k8s-aws-id\
             &X-Amz-Security-Token=token%2Fwith%2Bslash%3D\
             &X-Amz-Signature=0404e273e263141b6a49dddbf3772e0fa641a41ef10ef2f960b9c95a8c103fdf"
        );
        assert_eq!(t.valid_until, from_epoch_seconds(SIGNED_AT + 15 * 60));
        assert_eq!(t.expires_at(), from_epoch_seconds(SIGNED_AT + 14 * 60));
    }

    #[test]
    fn signing_logs_no_secret() {
        let (t, logs) = crate::logging::trace_of(|| {
            tracing::trace!("signing");
            token(
                &creds(SIGNED_AT + 3600),
                "my-cluster",
                "us-east-1",
                from_epoch_seconds(SIGNED_AT),
            )
            .unwrap()
        });
        assert!(logs.contains("signing"), "the capture works: {logs}");
        for secret in ["token/with+slash=", "token%2Fwith", "secret/key+x"] {
            assert!(!logs.contains(secret), "{secret} in {logs}");
        }
        assert!(!logs.contains(t.token.expose()));
    }

    #[test]
    fn partitions_have_their_own_sts_hosts() {
        assert_eq!(sts_host("eu-west-1"), "sts.eu-west-1.amazonaws.com");
        assert_eq!(sts_host("us-gov-west-1"), "sts.us-gov-west-1.amazonaws.com");
        assert_eq!(sts_host("cn-north-1"), "sts.cn-north-1.amazonaws.com.cn");
        assert_eq!(sts_host("us-iso-east-1"), "sts.us-iso-east-1.c2s.ic.gov");
        assert_eq!(
            sts_host("us-isob-east-1"),
            "sts.us-isob-east-1.sc2s.sgov.gov"
        );
        assert_eq!(
            sts_host("us-isof-south-1"),
            "sts.us-isof-south-1.csp.hci.ic.gov"
        );
        assert_eq!(
            sts_host("eu-isoe-west-1"),
            "sts.eu-isoe-west-1.cloud.adc-e.uk"
        );
        assert_eq!(
            sts_host("eusc-de-east-1"),
            "sts.eusc-de-east-1.amazonaws.eu"
        );
        assert_eq!(sts_host("aws-global"), "sts.amazonaws.com");
        let t = token(
            &creds(SIGNED_AT + 3600),
            "c",
            "cn-north-1",
            from_epoch_seconds(SIGNED_AT),
        )
        .unwrap();
        let url = decoded(&t);
        assert!(url.starts_with("https://sts.cn-north-1.amazonaws.com.cn/?"));
        assert!(url.contains("%2Fcn-north-1%2Fsts%2F"));
    }

    #[test]
    fn never_outlives_its_credentials() {
        let now = from_epoch_seconds(SIGNED_AT);
        let t = token(&creds(SIGNED_AT + 10 * 60), "c", "us-east-1", now).unwrap();
        assert_eq!(t.valid_until, from_epoch_seconds(SIGNED_AT + 10 * 60));
        assert_eq!(t.expires_at(), from_epoch_seconds(SIGNED_AT + 9 * 60));
        assert!(t.fresh_at(now));
        assert!(t.fresh_at(from_epoch_seconds(SIGNED_AT + 9 * 60 - 1)));
        assert!(!t.fresh_at(from_epoch_seconds(SIGNED_AT + 9 * 60)));
    }

    #[test]
    fn the_signature_depends_on_the_cluster_and_the_time() {
        let now = from_epoch_seconds(SIGNED_AT);
        let c = creds(SIGNED_AT + 3600);
        let a = token(&c, "a", "us-east-1", now).unwrap();
        let b = token(&c, "b", "us-east-1", now).unwrap();
        let later = token(&c, "a", "us-east-1", from_epoch_seconds(SIGNED_AT + 1)).unwrap();
        assert_ne!(a.token, b.token);
        assert_ne!(a.token, later.token);
        assert_eq!(a, token(&c, "a", "us-east-1", now).unwrap());
    }

    #[test]
    fn cluster_names_are_checked_before_signing() {
        for good in ["a", "my-cluster_2", "0abc", &"x".repeat(100)] {
            assert!(validate_cluster_name(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "_a", "a b", "a/b", "a\nb", "ä", &"x".repeat(101)] {
            assert!(
                matches!(
                    validate_cluster_name(bad),
                    Err(Error::InvalidClusterName { .. })
                ),
                "{bad:?}"
            );
        }
        let c = creds(SIGNED_AT + 3600);
        assert!(token(&c, "a\r\nb", "us-east-1", from_epoch_seconds(SIGNED_AT)).is_err());
    }

    #[test]
    fn exec_credential_as_awscli_prints_it() {
        let t = EksToken {
            token: Secret::new("k8s-aws-v1.abc"),
            valid_until: from_epoch_seconds(SIGNED_AT + 15 * 60),
        };
        assert_eq!(
            t.exec_credential(DEFAULT_API_VERSION).expose(),
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{},"status":{"expirationTimestamp":"2026-12-07T20:14:00Z","token":"k8s-aws-v1.abc"}}"#
        );
        let v: serde_json::Value = serde_json::from_str(
            t.exec_credential("client.authentication.k8s.io/v1")
                .expose(),
        )
        .unwrap();
        assert_eq!(v["apiVersion"], "client.authentication.k8s.io/v1");
        assert!(!format!("{t:?}").contains("abc"), "{t:?}");
    }

    #[test]
    fn the_api_version_is_the_one_kubectl_asks_for() {
        assert_eq!(api_version(None), DEFAULT_API_VERSION);
        assert_eq!(api_version(Some("")), DEFAULT_API_VERSION);
        assert_eq!(api_version(Some("{not json")), DEFAULT_API_VERSION);
        assert_eq!(
            api_version(Some(
                r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}"#
            )),
            "client.authentication.k8s.io/v1"
        );
        assert_eq!(
            api_version(Some(
                r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#
            )),
            DEFAULT_API_VERSION
        );
    }
}
