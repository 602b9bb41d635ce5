use std::collections::BTreeMap;
use std::time::Duration;

/// The emulator's knobs. All can be changed while it runs through [`super::Emulator::configure`].
///
/// STS `AssumeRole` trusts every caller holding credentials the emulator issued, for any
/// role in any account (`arn:aws:iam::<12 digits>:role/<path/><name>`), with two
/// exceptions that stand for a trust policy saying no: a role whose name starts with
/// `NoTrust` refuses everyone, and a role whose name ends with `External` refuses a
/// request without [`EmulatorConfig::external_id`] as its `ExternalId`.
#[derive(Debug, Clone, PartialEq)]
pub struct EmulatorConfig {
    /// Accounts in the organisation.
    pub accounts: usize,
    /// Roles per account (at most 10).
    pub roles_per_account: usize,
    /// Lifetime of access tokens.
    pub access_token_lifetime: Duration,
    /// Lifetime of role credentials.
    pub role_credentials_lifetime: Duration,
    /// Longest life of credentials from STS `AssumeRole`; `None`: what the request asks
    /// (`DurationSeconds`, by default 3600 s), as the real service gives.
    pub assume_role_lifetime: Option<Duration>,
    /// The `ExternalId` STS `AssumeRole` requires for a role whose name ends with
    /// `External` (default `emulator-external-id`).
    pub external_id: String,
    /// Lifetime of client registrations.
    pub registration_lifetime: Duration,
    /// Lifetime of device codes and authorization requests.
    pub device_code_lifetime: Duration,
    /// The polling interval handed out, in seconds (0 sends none).
    pub poll_interval_secs: i32,
    /// Issue refresh tokens to registrations with scopes.
    pub refresh_tokens: bool,
    /// Approve every device code and authorization request at once.
    pub auto_approve: bool,
    /// Answer the first N polls of each device code with `SlowDownException`.
    pub slow_down_polls: u32,
    /// Requests per second allowed across all operations; `None`: unthrottled.
    pub throttle_rps: Option<f64>,
    /// Burst allowance of the throttle, in requests (default: one second's worth).
    pub throttle_burst: Option<f64>,
    /// Added to every request.
    pub latency: Duration,
    /// Probability (0–1) that a request fails with `InternalServerException`.
    pub fault_rate: f64,
    /// A malformed reply in place of every successful ListAccounts, ListAccountRoles,
    /// GetRoleCredentials and CreateToken; `None`: well-formed replies.
    pub reply_fault: Option<ReplyFault>,
    /// The page where a device code is approved, as StartDeviceAuthorization names it
    /// (a hostile or misconfigured service's); `None`: the emulator's own page.
    pub verification_uri: Option<String>,
    /// Names for the first accounts instead of generated ones (a hostile organisation's:
    /// bidi controls, escape sequences, markup).
    pub account_names: Vec<String>,
    /// The EKS clusters `ListClusters` and `DescribeCluster` know, each in one account
    /// and region (a caller sees those of its credentials' account and of the region its
    /// request is signed for).
    pub clusters: Vec<EksCluster>,
    /// Role names (as GetRoleCredentials or AssumeRole named them, e.g.
    /// `ReadOnlyAccess`) whose credentials EKS, ECR and UXC refuse with 403
    /// `AccessDeniedException`, as for a role whose policy grants neither.
    pub denied_roles: Vec<String>,
    /// The console's multi-session switch (default on): a browser may stay signed in to
    /// up to five accounts at once. Off, signing in to a second account asks the person
    /// to log out of the first.
    pub console_multi_session: bool,
    /// Each account's colour as AWS User Experience Customization (`GetAccountCustomizations`)
    /// reports it, by 12-digit account id: one of `none pink purple darkBlue lightBlue
    /// teal green yellow orange red`; an account not named has `none`. A value is sent
    /// as given, so that a test can hand a client one outside the set.
    pub account_colours: BTreeMap<String, String>,
}

/// One EKS cluster, as `DescribeCluster` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksCluster {
    /// The 12-digit account that owns it.
    pub account_id: String,
    /// Its region, e.g. `eu-west-1`.
    pub region: String,
    /// Its name.
    pub name: String,
    /// The API server's URL, `https://….eks.amazonaws.com`.
    pub endpoint: String,
    /// The base64 of the PEM of the cluster's certificate authority.
    pub certificate_authority_data: String,
    /// The Kubernetes version, e.g. `1.31`.
    pub version: String,
}

impl EksCluster {
    /// A cluster with the real service's kind of endpoint (derived from its name, account
    /// and region), a certificate authority's data of the right shape, and version 1.31.
    pub fn new(account_id: &str, region: &str, name: &str) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{account_id}/{region}/{name}").as_bytes());
        let id: String = digest.iter().take(16).map(|b| format!("{b:02X}")).collect();
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgII{id}\n-----END CERTIFICATE-----\n"
        );
        Self {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            name: name.to_owned(),
            endpoint: format!("https://{id}.gr7.{region}.eks.amazonaws.com"),
            certificate_authority_data: crate::base64(pem.as_bytes()),
            version: "1.31".to_owned(),
        }
    }
}

/// How a reply is malformed, as a broken service, proxy or network would send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyFault {
    /// The field a client needs most (an account's or role's id, the credentials'
    /// expiry, the access token) is left out.
    MissingFields,
    /// That field has a value of the wrong JSON type (a number for a string and the
    /// other way round).
    WrongTypes,
    /// 32 MiB of JSON of the wrong shape (an array of numbers where an object belongs).
    HugeBody,
    /// An HTML error page with this HTTP status, as a captive portal or proxy sends.
    Html(u16),
    /// The reply's JSON cut off half-way, with status 200 and the cut length.
    Truncated,
    /// The list a reply is for (`accountList`, `roleList`) left out altogether.
    NoList,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            accounts: 24,
            roles_per_account: 3,
            access_token_lifetime: Duration::from_secs(3600),
            role_credentials_lifetime: Duration::from_secs(3600),
            assume_role_lifetime: None,
            external_id: "emulator-external-id".to_owned(),
            registration_lifetime: Duration::from_secs(90 * 24 * 3600),
            device_code_lifetime: Duration::from_secs(600),
            poll_interval_secs: 1,
            refresh_tokens: true,
            auto_approve: false,
            slow_down_polls: 0,
            throttle_rps: None,
            throttle_burst: None,
            latency: Duration::ZERO,
            fault_rate: 0.0,
            reply_fault: None,
            verification_uri: None,
            account_names: Vec::new(),
            clusters: Vec::new(),
            denied_roles: Vec::new(),
            console_multi_session: true,
            account_colours: BTreeMap::new(),
        }
    }
}
