//! Typed errors. Every message is a sentence that says what happened and what to do next,
//! and none carries a secret.

use std::time::Duration;

/// A boxed error source from a lower layer (the SDK, the keychain, the OS).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in this library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The start URL is not an http(s) URL with a host.
    #[error("'{url}' is not a valid AWS access portal start URL ({reason}); it looks like https://my-org.awsapps.com/start")]
    InvalidStartUrl {
        /// What the caller gave.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// The region name is not shaped like an AWS region.
    #[error("'{region}' is not an AWS region name, such as us-east-1 or eu-west-1")]
    InvalidRegion {
        /// What the caller gave.
        region: String,
    },

    /// An endpoint override is not a URL.
    #[error("endpoint '{url}' from {origin} is not an http(s) URL")]
    InvalidEndpoint {
        /// What the caller gave.
        url: String,
        /// Where it came from (an environment variable, the builder).
        origin: String,
    },

    /// A glob pattern did not compile.
    #[error("the pattern '{pattern}' is not a valid glob: {source}")]
    InvalidGlob {
        /// The pattern.
        pattern: String,
        /// Why globset refused it.
        source: globset::Error,
    },

    /// The device code or authorization request expired before the user approved it.
    #[error("the sign-in code expired before it was approved; sign in again and approve the new code within its time limit")]
    SignInExpired,

    /// The user refused the sign-in in the browser.
    #[error(
        "the sign-in was denied in the browser; sign in again and choose Allow if you meant to"
    )]
    SignInDenied,

    /// The client-side deadline passed while waiting for approval.
    #[error("gave up waiting for the sign-in to be approved after {}s; sign in again", waited.as_secs())]
    SignInTimedOut {
        /// How long we waited.
        waited: Duration,
    },

    /// The browser came back to the loopback redirect with something we cannot accept.
    #[error("the browser sign-in did not complete: {reason}; sign in again, or use the device code flow")]
    AuthorizationCallback {
        /// What was wrong (never the code itself).
        reason: String,
    },

    /// A sign-in is needed and this call may not start one.
    #[error("no valid session for {start_url}; sign in first (aws-sso-auth login)")]
    SignInRequired {
        /// The instance's start URL.
        start_url: String,
    },

    /// No instance was named and none is remembered.
    #[error("no AWS SSO instance chosen yet; sign in once with: aws-sso-auth login --start-url URL --sso-region REGION (or pass --start-url and --sso-region)")]
    NoInstance,

    /// The portal refused the access token (expired or revoked on the server).
    #[error(
        "AWS SSO rejected the session token for {operation}; sign in again (aws-sso-auth login)"
    )]
    Unauthorized {
        /// The operation that was refused.
        operation: &'static str,
    },

    /// No account matched.
    #[error("no account matches '{pattern}'; list them with: aws-sso-auth accounts")]
    AccountNotFound {
        /// The id or name pattern asked for.
        pattern: String,
    },

    /// More than one account matched where exactly one was needed.
    #[error("'{pattern}' matches {} accounts ({}); use a narrower pattern or the account id", matches.len(), list_some(matches))]
    AmbiguousAccount {
        /// The name pattern.
        pattern: String,
        /// `name (id)` of each match.
        matches: Vec<String>,
    },

    /// The role does not exist in the account, or is not assigned to the user.
    #[error("no role '{role}' in account {account_id} for this user; list them with: aws-sso-auth roles --account {account_id}")]
    RoleNotFound {
        /// The account.
        account_id: String,
        /// The role asked for.
        role: String,
    },

    /// The service kept throttling past the retry budget.
    #[error(
        "AWS SSO kept throttling {operation} (too many requests); wait a minute and try again"
    )]
    Throttled {
        /// The operation.
        operation: &'static str,
    },

    /// The service could not be reached.
    #[error("could not reach AWS SSO for {operation} at {endpoint}; check the network connection (and any proxy or endpoint override) and try again")]
    Network {
        /// The operation.
        operation: &'static str,
        /// Where we tried.
        endpoint: String,
        /// The transport error.
        #[source]
        source: BoxError,
    },

    /// The service answered with an error this library does not handle otherwise.
    #[error("AWS SSO refused {operation}: {code}{}", message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Service {
        /// The operation.
        operation: &'static str,
        /// The error code, such as `InvalidRequestException`.
        code: String,
        /// The service's message, if any.
        message: Option<String>,
    },

    /// The service's reply could not be understood.
    #[error("AWS SSO sent an unexpected reply to {operation}: {detail}; try again, and if it persists check any proxy or endpoint override")]
    UnexpectedReply {
        /// The operation.
        operation: &'static str,
        /// What was wrong with it.
        detail: String,
    },

    /// The secret store (OS keychain) failed.
    #[error("the OS keychain failed while trying to {action}: {source}. On Linux a Secret Service (such as gnome-keyring) must be running and unlocked")]
    Store {
        /// What we were doing.
        action: &'static str,
        /// The keychain error.
        #[source]
        source: BoxError,
    },

    /// The record in the secret store is not one this version can read.
    #[error(
        "the saved session for {start_url} is unreadable ({detail}); sign in again to replace it"
    )]
    CorruptRecord {
        /// The instance.
        start_url: String,
        /// What was wrong (never the content).
        detail: String,
    },

    /// Reading or writing a local file failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The path.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// A credentials or config file that the AWS SDKs cannot read either.
    #[error("{path} line {line} is {reason}, which the AWS CLI and SDKs cannot read either; fix that line and try again (nothing was changed)")]
    UnreadableProfileFile {
        /// The file.
        path: std::path::PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A profile of that name exists and this project did not write it.
    #[error("{path} line {line} already has a profile '{name}' that aws-sso-tray did not write; choose another name, or use --force to replace it (nothing was changed)")]
    ProfileNotOurs {
        /// The file.
        path: std::path::PathBuf,
        /// The line of its section header.
        line: usize,
        /// The profile name.
        name: String,
    },

    /// The config file's profile of that name would be used instead of our credentials.
    #[error("profile '{name}' in {path} (line {line}) sets {key}, which the AWS CLI and SDKs would use instead of the credentials written here; choose another name, or use --force to replace that profile (nothing was changed)")]
    ProfileShadowed {
        /// The config file.
        path: std::path::PathBuf,
        /// The line of the setting.
        line: usize,
        /// The profile name.
        name: String,
        /// The setting, such as `sso_session` or `credential_process`.
        key: String,
    },

    /// The name cannot be a profile name.
    #[error(
        "{name:?} cannot be a profile name: {reason}; use letters, digits and - _ . / % @ : +"
    )]
    InvalidProfileName {
        /// What the caller gave (shown escaped).
        name: String,
        /// Why.
        reason: &'static str,
    },

    /// A value to write would not read back as written.
    #[error("refusing to write {key} for profile '{profile}': it contains whitespace or control characters, which the AWS SDKs would misread")]
    InvalidProfileValue {
        /// The profile.
        profile: String,
        /// The key (never the value).
        key: &'static str,
    },

    /// The file is marked read-only.
    #[error("{path} is read-only; make it writable (chmod u+w '{path}') and try again (nothing was changed)")]
    ReadOnlyFile {
        /// The file.
        path: std::path::PathBuf,
    },

    /// Replacing a file failed; the old file is intact.
    #[error("could not write {path}: {source}; the file is unchanged")]
    WriteFailed {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// A removal found no profile of ours with that name.
    #[error("aws-sso-tray wrote no profile '{name}', so there is nothing to remove{detail}; list them with: aws-sso-auth profile list")]
    NothingToRemove {
        /// The profile name.
        name: String,
        /// More about what is there instead.
        detail: String,
    },

    /// Where the AWS files are cannot be known.
    #[error("cannot tell where the AWS {what} file is: HOME is not set; set HOME, or {variable}")]
    NoAwsFile {
        /// `credentials` or `config`.
        what: &'static str,
        /// The variable that names the file directly.
        variable: &'static str,
    },

    /// A favourite's profile name is already used for another account or role.
    #[error("the profile name '{profile}' is already the favourite for {target}; choose another name, or remove that favourite first")]
    FavouriteNameTaken {
        /// The profile name.
        profile: String,
        /// What it names now.
        target: String,
    },

    /// No favourite has this profile name.
    #[error("no favourite is called '{profile}'; list them with: aws-sso-auth favourite list")]
    NoSuchFavourite {
        /// The profile name asked for.
        profile: String,
    },

    /// The settings file could not be parsed.
    #[error("the settings file {path} is not valid: {detail}; fix or remove it")]
    Settings {
        /// The path.
        path: std::path::PathBuf,
        /// What was wrong.
        detail: String,
    },
}

/// The first few items, and how many more there are.
fn list_some(items: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}

/// Shorthand for results of this library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
