//! What the window shows, as the JSON it receives (`get_state` and the `state` event).
//! Times are milliseconds since the Unix epoch.

use aws_sso_device_auth_provider::clock::epoch_millis;
use aws_sso_device_auth_provider::settings::{InstanceSettings, Preferences};
use aws_sso_device_auth_provider::AccountRoles;
use serde::Serialize;
use std::time::SystemTime;

/// Milliseconds since the epoch, for the UI.
pub fn ms(t: SystemTime) -> i64 {
    epoch_millis(t)
}

/// The whole state of the app, as the window renders it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppView {
    /// Running against the built-in emulator in a throw-away home.
    pub demo: bool,
    /// The emulator's address, in demo mode.
    pub emulator_url: Option<String>,
    /// Where profiles are written.
    pub credentials_file: String,
    /// The current instance.
    pub instance: Option<InstanceSettings>,
    /// Every known instance.
    pub instances: Vec<InstanceSettings>,
    /// The current instance's session.
    pub session: SessionView,
    /// A sign-in waiting for the user.
    pub sign_in: Option<SignInView>,
    /// The favourites, with the state of their profiles.
    pub favourites: Vec<FavouriteView>,
    /// The preferences.
    pub preferences: Preferences,
    /// Whether the app starts at login.
    pub start_at_login: bool,
}

/// The state of one instance's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SessionPhase {
    /// Not signed in (and not signed in during this run).
    SignedOut,
    /// A sign-in waits for the user.
    SigningIn,
    /// Signed in.
    SignedIn,
    /// The session ended while the app ran; the user must sign in again.
    NeedsSignIn,
}

/// A session as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// The phase.
    pub state: SessionPhase,
    /// When the access token expires.
    pub expires_at: Option<i64>,
    /// Whether it renews itself (a refresh token).
    pub renewable: bool,
}

impl SessionView {
    /// Not signed in.
    pub const SIGNED_OUT: Self = Self {
        state: SessionPhase::SignedOut,
        expires_at: None,
        renewable: false,
    };
}

/// A sign-in waiting for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInView {
    /// The code to compare (device flow); `None` for the browser (PKCE) flow.
    pub user_code: Option<String>,
    /// Where to approve it.
    pub url: String,
    /// When the code expires.
    pub expires_at: i64,
}

/// A favourite and its profile's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FavouriteView {
    /// The profile name.
    pub profile: String,
    /// Its instance's start URL.
    pub start_url: String,
    /// Its instance's region.
    pub sso_region: String,
    /// The account id.
    pub account_id: String,
    /// The account's name.
    pub account_name: Option<String>,
    /// The role.
    pub role_name: String,
    /// The profile's region.
    pub region: Option<String>,
    /// A `credential_process` profile.
    pub credential_process: bool,
    /// When the written credentials expire.
    pub expires_at: Option<i64>,
    /// The last renewal failure, as a sentence.
    pub error: Option<String>,
    /// A renewal asked for by the user is under way.
    pub renewing: bool,
}

/// The account browser's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountsView {
    /// The accounts with their roles.
    pub accounts: Vec<AccountView>,
    /// When they were read from AWS.
    pub updated_at: Option<i64>,
    /// A refresh is under way.
    pub refreshing: bool,
    /// Why the last refresh failed.
    pub error: Option<crate::error::CommandError>,
}

/// One account in the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// The account id.
    pub account_id: String,
    /// Its name.
    pub account_name: String,
    /// Its e-mail address.
    pub email_address: Option<String>,
    /// The user's roles in it.
    pub roles: Vec<String>,
}

impl From<&AccountRoles> for AccountView {
    fn from(a: &AccountRoles) -> Self {
        Self {
            account_id: a.account.account_id.clone(),
            account_name: a.account.account_name.clone(),
            email_address: a.account.email_address.clone(),
            roles: a.roles.iter().map(|r| r.role_name.clone()).collect(),
        }
    }
}

/// Discovery progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Accounts whose roles are read.
    pub done: usize,
    /// Accounts in all; `None` while still listing them.
    pub total: Option<usize>,
}
