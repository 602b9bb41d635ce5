//! Typed errors. A message states what happened and what is wrong, and never carries a
//! secret or names a command of either face: the command line adds its own hints (flags,
//! commands), the app its own (buttons). [`Error::advice`] is the next step that holds
//! wherever the error is shown (check the network, fix a line of a file).

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

    /// The region name is not shaped like an AWS region (or none was given).
    #[error("{}", if region.is_empty() {
        "no region was given: the region of the IAM Identity Center instance is needed, such as us-east-1 or eu-west-1".to_owned()
    } else {
        format!("'{region}' is not an AWS region name, such as us-east-1 or eu-west-1")
    })]
    InvalidRegion {
        /// What the caller gave.
        region: String,
    },

    /// An endpoint override is refused.
    #[error("endpoint '{url}' from {origin} is refused: {reason}")]
    InvalidEndpoint {
        /// What the caller gave.
        url: String,
        /// Where it came from (an environment variable, the builder).
        origin: String,
        /// Why.
        reason: &'static str,
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
    #[error("the sign-in code expired before it was approved")]
    SignInExpired,

    /// The user refused the sign-in in the browser.
    #[error("the sign-in was denied in the browser")]
    SignInDenied,

    /// The person declined the sign-in the running app asked them for.
    #[error("the sign-in to {instance} was declined in AWS SSO Tray")]
    SignInDeclined {
        /// The instance.
        instance: crate::Instance,
    },

    /// `aws-sso-auth exec` inside another, not asked for.
    #[error(
        "this runs inside aws-sso-auth exec already (as {})",
        crate::display::text(outer)
    )]
    ExecNested {
        /// What the outer one runs as (from the environment).
        outer: String,
    },

    /// The app took a command to serve, but its endpoint does not give its credentials.
    #[error("AWS SSO Tray does not serve the command's credentials: {reason}")]
    ExecNotServed {
        /// Why, as the endpoint said.
        reason: String,
    },

    /// The running app asked the person for a sign-in, and nobody signed in in time.
    #[error("nobody signed in to {instance} in AWS SSO Tray within {}s", waited.as_secs())]
    SignInNotAnswered {
        /// The instance.
        instance: crate::Instance,
        /// How long the caller waited.
        waited: Duration,
    },

    /// The client-side deadline passed while waiting for approval.
    #[error("gave up waiting for the sign-in to be approved after {}s", waited.as_secs())]
    SignInTimedOut {
        /// How long we waited.
        waited: Duration,
    },

    /// The browser came back to the loopback redirect with something we cannot accept.
    #[error("the browser sign-in did not complete: {reason}")]
    AuthorizationCallback {
        /// What was wrong (never the code itself).
        reason: String,
    },

    /// A sign-in was cancelled before it completed.
    #[error("the sign-in was cancelled")]
    SignInCancelled,

    /// A sign-in to this instance is already waiting for the user.
    #[error("a sign-in to {instance} is already waiting for approval")]
    SignInInProgress {
        /// The instance.
        instance: crate::Instance,
    },

    /// A sign-in is needed and this call may not start one.
    #[error("no valid session for {instance}")]
    SignInRequired {
        /// The instance.
        instance: crate::Instance,
    },

    /// The saved session was made with other AWS endpoints than the ones in effect now
    /// (an endpoint variable set or unset since); it is not sent to these.
    #[error("the session for {instance} was made at {signed_in_at}, but AWS is now reached at {now}; it is not sent there")]
    SessionElsewhere {
        /// The instance.
        instance: crate::Instance,
        /// Where the session was made.
        signed_in_at: String,
        /// Where AWS is reached now.
        now: String,
    },

    /// No instance was named and none is remembered.
    #[error("no AWS access portal is chosen yet")]
    NoInstance,

    /// The portal refused the access token (expired or revoked on the server).
    #[error("AWS SSO rejected the session token for {operation}")]
    Unauthorized {
        /// The operation that was refused.
        operation: &'static str,
    },

    /// No account matched.
    #[error("no account matches '{pattern}'")]
    AccountNotFound {
        /// The id or name pattern asked for.
        pattern: String,
    },

    /// More than one account matched where exactly one was needed.
    #[error("'{pattern}' matches {} accounts ({})", matches.len(), list_some(matches))]
    AmbiguousAccount {
        /// The name pattern.
        pattern: String,
        /// `name (id)` of each match.
        matches: Vec<String>,
    },

    /// The role does not exist in the account, or is not assigned to the user.
    #[error("no role '{role}' in account {account_id} for this user")]
    RoleNotFound {
        /// The account.
        account_id: String,
        /// The role asked for.
        role: String,
    },

    /// A role to assume is not given in a form STS takes.
    #[error("the {field} of the role to assume is not valid: {reason}")]
    InvalidAssumeRole {
        /// Which part.
        field: &'static str,
        /// Why.
        reason: String,
    },

    /// STS refused to let an SSO role assume a role (its trust policy, or the external ID).
    #[error(
        "role {role_arn} refused {by}: it is not allowed to assume it (sts:AssumeRole was denied)"
    )]
    AssumeRoleRefused {
        /// The role that refused.
        role_arn: String,
        /// Who asked: the SSO role and its account.
        by: String,
    },

    /// The service kept throttling past the retry budget.
    #[error("AWS SSO kept throttling {operation} (too many requests)")]
    Throttled {
        /// The operation.
        operation: &'static str,
    },

    /// The service could not be reached.
    #[error("could not reach AWS SSO for {operation} at {endpoint}")]
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

    /// A server error without an AWS error in it: a proxy's or gateway's, not AWS SSO's.
    #[error("{endpoint} answered {operation} with HTTP {status} and no AWS error in it, as a proxy or gateway does")]
    Gateway {
        /// The operation.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// Where we asked.
        endpoint: String,
    },

    /// The service's reply could not be understood.
    #[error("AWS SSO sent an unexpected reply to {operation}: {detail}")]
    UnexpectedReply {
        /// The operation.
        operation: &'static str,
        /// What was wrong with it.
        detail: String,
    },

    /// The secret store (OS keychain) failed.
    #[error("the OS keychain failed while trying to {action}: {source}")]
    Store {
        /// What we were doing.
        action: &'static str,
        /// The keychain error.
        #[source]
        source: BoxError,
    },

    /// The record in the secret store is not one this version can read.
    #[error("the saved session for {start_url} is unreadable ({detail})")]
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

    /// A credentials or config file that the AWS CLI and SDKs cannot read either (or
    /// could not once it holds a profile).
    #[error("{path} line {line} is {reason}, {consequence} (nothing was changed)")]
    UnreadableProfileFile {
        /// The file.
        path: std::path::PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
        /// Who cannot read the file because of it.
        consequence: &'static str,
    },

    /// A profile of that name exists and this project did not write it.
    #[error("{path} line {line} already has a profile '{name}' that aws-sso-tray did not write (nothing was changed)")]
    ProfileNotOurs {
        /// The file.
        path: std::path::PathBuf,
        /// The line of its section header.
        line: usize,
        /// The profile name.
        name: String,
    },

    /// The config file's profile of that name would be used instead of our credentials.
    #[error("profile '{name}' in {path} (line {line}) sets {key}, which the AWS CLI and SDKs would use instead of the credentials written here (nothing was changed)")]
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

    /// A credential holds a character that the shell it was to be printed for cannot
    /// quote, so nothing was printed.
    #[error("{variable} cannot be printed for {shell}: its value holds {refused}, which {shell} cannot quote, so nothing was printed")]
    Unquotable {
        /// The variable (never the value).
        variable: &'static str,
        /// The shell, such as "Windows cmd".
        shell: &'static str,
        /// The characters refused, such as "%, \", ! or a control character".
        refused: &'static str,
    },

    // ---- EKS tokens (eks token) ----
    /// A cluster name that EKS would not have given.
    #[error("{name:?} is not an EKS cluster name: EKS names hold letters, digits, - and _ (at most 100, starting with a letter or digit)")]
    InvalidClusterName {
        /// What the caller gave (shown escaped).
        name: String,
    },

    /// The EKS token could not be signed (nothing was printed).
    #[error("the EKS token could not be signed: {reason}")]
    EksTokenNotSigned {
        /// Why, as the signer says it (never a credential).
        reason: String,
    },

    // ---- kubeconfig and EKS clusters ----
    /// A kubeconfig that is not YAML, or not shaped as a kubeconfig is: left as it is.
    #[error("{path} {problem}, so it was not changed")]
    KubeconfigUnreadable {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong, with its line.
        problem: String,
    },

    /// A kubeconfig whose text cannot be changed here without touching more than this
    /// project's entries: left as it is.
    #[error("aws-sso-tray cannot change {path} safely near line {line} ({reason}), so it was not changed")]
    KubeconfigUnsafeEdit {
        /// The file.
        path: std::path::PathBuf,
        /// The line near which.
        line: usize,
        /// What is unusual there.
        reason: String,
    },

    /// A context of that name is the person's: its user is not one this project wrote.
    #[error("{path} line {line} already has a context {name:?} that aws-sso-tray did not write (nothing was changed)")]
    KubeContextTaken {
        /// The file.
        path: std::path::PathBuf,
        /// The context's name.
        name: String,
        /// Its line.
        line: usize,
    },

    /// An empty name for a kubeconfig context.
    #[error("a kubeconfig context needs a name, and the one given is empty")]
    EmptyContextName,

    /// The favourite's role sees no cluster of that name in the region.
    #[error("favourite '{profile}' sees no EKS cluster '{cluster}' in {region}")]
    EksClusterNotFound {
        /// The favourite.
        profile: String,
        /// The cluster's name.
        cluster: String,
        /// The region asked.
        region: String,
    },

    /// The cluster has no endpoint or certificate authority yet.
    #[error("EKS cluster '{cluster}' in {region} is not ready for kubectl (status {status})")]
    EksClusterNotReady {
        /// The cluster's name.
        cluster: String,
        /// Its region.
        region: String,
        /// Its status, as EKS says it.
        status: String,
    },

    /// EKS refused the favourite's role.
    #[error("favourite '{profile}' may not call EKS {operation} in {region} (access denied)")]
    EksAccessDenied {
        /// The favourite.
        profile: String,
        /// The operation, such as `ListClusters`.
        operation: &'static str,
        /// The region.
        region: String,
    },

    /// An EKS call failed otherwise.
    #[error("EKS {operation} in {region} failed: {detail}")]
    Eks {
        /// The operation.
        operation: &'static str,
        /// The region.
        region: String,
        /// What went wrong (no secret).
        detail: String,
    },

    /// The kubeconfig's user would run `aws-sso-auth`, which is not known here.
    #[error("kubectl would run the aws-sso-auth program for these entries, and it is not installed beside this one")]
    KubeconfigNoCli,

    // ---- ECR and docker ----
    /// ECR refused a favourite's role a registry password.
    #[error("{who} cannot get a password for the ECR registry {registry}: AWS denied it ecr:GetAuthorizationToken")]
    EcrAccessDenied {
        /// The favourite, and whose credentials it holds.
        who: String,
        /// The registry's host.
        registry: String,
    },

    /// No favourite holds credentials of an ECR registry's account.
    #[error("no favourite holds credentials of account {account_id}, whose ECR registry {registry} docker asked for")]
    EcrNoFavourite {
        /// The registry's host.
        registry: String,
        /// Its account.
        account_id: String,
    },

    /// Several favourites hold credentials of an ECR registry's account, and none is
    /// chosen as docker's login to it.
    #[error("{} favourites hold credentials of account {account_id} and none is chosen as docker's login to its ECR registry {registry}: {}", favourites.len(), list_some(favourites))]
    EcrNoChoice {
        /// The registry's host.
        registry: String,
        /// Its account.
        account_id: String,
        /// Those favourites' profile names.
        favourites: Vec<String>,
    },

    /// Docker's config file is not one this program can change.
    #[error(
        "{path} is not a docker config file this program can change: {detail}; it is left as it is"
    )]
    DockerConfig {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        detail: String,
    },

    /// Docker's config file names another credential helper for the registry.
    #[error("{path} has docker ask the credential helper '{helper}' for {registry}; it is left as it is")]
    DockerHelperTaken {
        /// The file.
        path: std::path::PathBuf,
        /// The registry's host.
        registry: String,
        /// The other helper's name.
        helper: String,
    },

    /// Something other than a link to this program stands where the docker credential
    /// helper would go.
    #[error(
        "{path} is already there and is not a link to this program ({detail}); it is left as it is"
    )]
    HelperPathTaken {
        /// Where the link would go.
        path: std::path::PathBuf,
        /// What is there.
        detail: String,
    },

    /// The file is marked read-only.
    #[error("{path} is read-only (nothing was changed)")]
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
    #[error("aws-sso-tray wrote no profile '{name}', so there is nothing to remove{detail}")]
    NothingToRemove {
        /// The profile name.
        name: String,
        /// More about what is there instead.
        detail: String,
    },

    /// Where the AWS files are cannot be known.
    #[error("cannot tell where the AWS {what} file is: neither HOME nor {variable} is set")]
    NoAwsFile {
        /// `credentials` or `config`.
        what: &'static str,
        /// The variable that names the file directly.
        variable: &'static str,
    },

    /// A favourite's profile was to be removed on its own.
    #[error("'{profile}' is a favourite's profile: it goes when the favourite is removed")]
    FavouritesProfile {
        /// The profile name.
        profile: String,
    },

    /// A favourite's profile name is already used for another account or role.
    #[error("the profile name '{profile}' is already the favourite for {target}")]
    FavouriteNameTaken {
        /// The profile name.
        profile: String,
        /// What it names now.
        target: String,
    },

    /// No favourite has this profile name.
    #[error("no favourite is called '{profile}'")]
    NoSuchFavourite {
        /// The profile name asked for.
        profile: String,
    },

    /// The settings file could not be parsed.
    #[error("the settings file {path} is not valid: {detail}")]
    Settings {
        /// The path.
        path: std::path::PathBuf,
        /// What was wrong.
        detail: String,
    },

    /// One entry of the settings file is not valid; it is skipped, the rest is used.
    #[error("{what} in {path} is not valid: {detail}")]
    SettingsEntry {
        /// The settings file.
        path: std::path::PathBuf,
        /// The entry, such as `favourite 'dev'` or `favourite #3`.
        what: String,
        /// What is wrong with it.
        detail: String,
    },

    /// A settings file holds more than this program takes (bytes, favourites or
    /// instances; see [`crate::settings::MAX_SETTINGS_BYTES`] and its neighbours): it is
    /// not read, or not changed, and is left as it is.
    #[error("the settings file {path} {detail}")]
    SettingsTooLarge {
        /// The file.
        path: std::path::PathBuf,
        /// What it holds or would hold, against the limit, and what became of it.
        detail: String,
    },

    /// A settings file to import holds entries that are not valid.
    #[error("{path} holds entries that are not valid, so nothing was imported: {}", entries.join("; "))]
    ImportRefused {
        /// The file.
        path: std::path::PathBuf,
        /// Each entry, and what is wrong with it.
        entries: Vec<String>,
    },

    /// A profile name template cannot be used.
    #[error("the profile name template '{template}' cannot be used: {reason}")]
    InvalidTemplate {
        /// The template (escaped, cut at 80 characters).
        template: String,
        /// Why.
        reason: String,
    },

    /// A preference was given a value it cannot take.
    #[error("the preference {name} {detail}")]
    InvalidPreference {
        /// The preference.
        name: String,
        /// What it must be.
        detail: String,
    },

    /// Where the product keeps its files cannot be known.
    #[error("cannot tell where to keep files: neither {variable} nor HOME is set")]
    NoHome {
        /// The variable that names the directory directly.
        variable: &'static str,
    },

    /// A loopback port could not be used.
    #[error("could not {action}: {source}")]
    Loopback {
        /// What we were doing, such as "listen on a loopback port for the browser sign-in".
        action: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// No browser could be started.
    #[error("could not open a browser: {source}")]
    NoBrowser {
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// The console's one-time address was asked for twice: something other than the
    /// browser may have signed in with it.
    #[error("the one-time link to the AWS console was used by something other than your browser, which may now be signed in as that role")]
    ConsoleLinkTaken,

    /// The browser never came for the console's one-time address.
    #[error("no browser opened the AWS console within {} s", waited.as_secs())]
    ConsoleNotOpened {
        /// How long we waited.
        waited: Duration,
    },

    /// A console destination that is not a console address of the role's partition.
    #[error("{shown} cannot be the console's destination: {reason} (console hosts: {hosts} and the hosts under it)")]
    ConsoleDestination {
        /// What was given, escaped and capped.
        shown: String,
        /// The console hosts allowed.
        hosts: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A console region in another partition than the role's.
    #[error("the console cannot open in {region}: it is in another AWS partition than the role's access portal ({portal_region})")]
    ConsoleRegion {
        /// The region asked for.
        region: String,
        /// The access portal's region.
        portal_region: String,
    },

    /// A console service name that is not shaped like one.
    #[error("{shown} is not a console service name: a service is named as in the console's addresses, in lower-case letters, digits and '-' (s3, ec2, cloudwatch)")]
    ConsoleService {
        /// What was given, escaped and capped.
        shown: String,
    },

    /// A console session length AWS would refuse.
    #[error("a console session of {seconds} s cannot be asked for: {why}")]
    ConsoleSessionLength {
        /// What was asked.
        seconds: u32,
        /// Why not.
        why: &'static str,
        /// The role is assumed from another, so no length may be asked.
        chained: bool,
    },

    /// A colour that is not one of the console's.
    #[error("{why}")]
    InvalidColour {
        /// What is wrong, in a sentence.
        why: String,
    },

    /// A browser choice that cannot be used as it is.
    #[error("{why}")]
    BrowserChoice {
        /// What is wrong, in a sentence.
        why: String,
    },

    /// The browser chosen for the console is not installed where we look.
    #[error("{browser} is not installed here: none of {tried} was found on PATH")]
    BrowserNotFound {
        /// The browser.
        browser: &'static str,
        /// The programs looked for.
        tried: String,
    },

    /// The role may not read its account's colour (AWS User Experience Customization).
    #[error("the role {role_name} may not read the colour of account {account_id}: AWS denied it uxc:GetAccountCustomizations")]
    AccountColourDenied {
        /// The account.
        account_id: String,
        /// The role.
        role_name: String,
    },

    /// `credential_process` profiles run `aws-sso-auth`, which is not installed here.
    #[error("credential_process profiles run the aws-sso-auth program, which is not installed beside this one")]
    NoCli,

    /// A background task of ours ended without an answer (a bug, or shutting down).
    #[error("the {what} stopped before it finished")]
    Interrupted {
        /// The task, such as "write of the AWS files".
        what: &'static str,
    },

    /// A directory that was to hold a secret is not private to this user, so nothing was
    /// written to it.
    #[error(
        "{path} is not a private directory of this user: {problem}; no secret was written to it"
    )]
    UnsafeDirectory {
        /// The directory.
        path: std::path::PathBuf,
        /// What is wrong with it, such as "its group or others may write to it (mode
        /// 0777)".
        problem: String,
    },
}

impl Error {
    /// The session is over or unusable here, and only a sign-in mends it (as opposed
    /// to a failure worth retrying).
    pub fn needs_sign_in(&self) -> bool {
        matches!(
            self,
            Self::SignInRequired { .. }
                | Self::Unauthorized { .. }
                | Self::SessionElsewhere { .. }
                | Self::SignInDeclined { .. }
                | Self::SignInNotAnswered { .. }
        )
    }

    /// The next step that holds wherever the error is shown, if there is one: neither
    /// face's commands nor buttons (each face adds its own).
    pub fn advice(&self) -> Option<String> {
        Some(match self {
            Self::Network { .. } => {
                "check the network connection (and any proxy or endpoint override) and try again"
                    .into()
            }
            Self::Throttled { .. } => "wait a minute and try again".into(),
            Self::Gateway { .. } => {
                "try again later; if it persists, check any proxy or endpoint override".into()
            }
            Self::UnexpectedReply { .. } => {
                "try again, and if it persists check any proxy or endpoint override".into()
            }
            Self::Store { .. } => {
                "on Linux a Secret Service (such as gnome-keyring) must be running and unlocked"
                    .into()
            }
            Self::CorruptRecord { .. } => "sign in again to replace it".into(),
            Self::SessionElsewhere { .. } => "sign in again to use these endpoints, or unset the AWS_ENDPOINT_URL variables to go back to the session".into(),
            Self::UnreadableProfileFile { .. } => "fix that line and try again".into(),
            Self::ReadOnlyFile { path } => format!(
                "make it writable (chmod u+w '{}') and try again",
                path.display()
            ),
            Self::NoAwsFile { variable, .. } => format!("set HOME, or {variable}"),
            Self::NoHome { .. } => "set HOME".into(),
            Self::FavouritesProfile { .. } => "remove the favourite instead".into(),
            Self::FavouriteNameTaken { .. } => {
                "choose another name, or remove that favourite first".into()
            }
            Self::Settings { .. } => "fix or remove it".into(),
            Self::SettingsTooLarge { .. } => "remove entries from it".into(),
            Self::SettingsEntry { .. } => {
                "fix or remove that entry; the others are used meanwhile".into()
            }
            Self::NoBrowser { .. } => "set BROWSER to your browser's command".into(),
            Self::AssumeRoleRefused { .. } => "ask for the role's trust policy to allow the SSO role (and check the external ID), or assume another role".into(),
            Self::Unquotable { .. } => {
                "use another format, one that quotes any value (such as powershell or json)".into()
            }
            Self::ConsoleDestination { .. } => "give an https address of the AWS console (as the console's address bar shows it), or a service with --service".into(),
            Self::ConsoleRegion { .. } => "choose a region of the role's partition".into(),
            Self::ConsoleService { .. } => "give the service as in the console's addresses, such as s3, ec2 or cloudwatch".into(),
            Self::ConsoleSessionLength { chained: true, .. } => "open it without a session length".into(),
            Self::ConsoleSessionLength { .. } => "ask for 900 to 43200 seconds, or none for the console's own default".into(),
            Self::InvalidColour { .. } => "give one of those colours".into(),
            Self::BrowserChoice { .. } => "change the browser choice and try again".into(),
            Self::BrowserNotFound { .. } => "install it, or give its program's absolute path in the browser choice".into(),
            Self::AccountColourDenied { .. } => "choose the favourite's colour yourself, or ask for uxc:GetAccountCustomizations on its role".into(),
            Self::ConsoleLinkTaken => "open the console again; only programs that run as this user could read the page that led to the link".into(),
            // ---- EKS tokens: advice ----
            Self::InvalidClusterName { .. } => {
                "give the cluster's name as EKS shows it (aws-sso-auth eks clusters --profile NAME lists them)".into()
            }
            // ---- kubeconfig and EKS clusters: advice ----
            Self::KubeconfigUnreadable { .. } => {
                "fix it (or point KUBECONFIG at another file) and try again".into()
            }
            Self::KubeconfigUnsafeEdit { .. } => {
                "add the entries by hand, or point KUBECONFIG at another file".into()
            }
            Self::KubeContextTaken { .. } => "choose another name for the context".into(),
            Self::EksAccessDenied { .. } => "ask for eks:ListClusters and eks:DescribeCluster on the favourite's role, or use another favourite".into(),
            Self::EksClusterNotReady { .. } => "wait until it is ACTIVE and try again".into(),
            Self::Eks { .. } => "try again; if it persists, check the network connection and any proxy or endpoint override".into(),
            // ---- ECR and docker: advice ----
            Self::EcrAccessDenied { .. } => "allow the role ecr:GetAuthorizationToken, or choose another favourite as docker's login to that registry".into(),
            Self::EcrNoFavourite { .. } => "add a favourite of a role in that account, or of a role assumed in it".into(),
            Self::EcrNoChoice { .. } => "choose one of them as docker's login to that registry".into(),
            Self::DockerConfig { .. } => "fix the file, or point DOCKER_CONFIG at another directory".into(),
            Self::DockerHelperTaken { .. } => "remove that registry from credHelpers to have this program answer for it".into(),
            Self::HelperPathTaken { .. } => "remove it, or choose another directory".into(),
            _ => return None,
        })
    }
}

/// The first few items, and how many more there are.
fn list_some(items: &[String]) -> String {
    crate::display::some_of(items, 5)
}

/// Shorthand for results of this library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
