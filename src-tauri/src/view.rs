//! The view model: what the window shows, as the JSON it receives (`get_state` and the
//! `state` event), made from the workspace's status. Times are milliseconds since the
//! Unix epoch.

use crate::autostart::StartAtLogin;
use aws_sso_device_auth_provider::awsfiles::generate::Generated;
use aws_sso_device_auth_provider::clock::epoch_millis;
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::settings::{InstanceSettings, Preferences};
use aws_sso_device_auth_provider::workspace::words::{self, Clock, Line};
use aws_sso_device_auth_provider::workspace::{self, Accounts, SessionPhase, Status, Workspace};
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
    pub instance: Option<InstanceView>,
    /// Every known instance.
    pub instances: Vec<InstanceView>,
    /// The current instance's session.
    pub session: SessionView,
    /// A sign-in waiting for the user.
    pub sign_in: Option<SignInView>,
    /// Who waits for a sign-in to the current instance, in a sentence.
    pub asked: Option<String>,
    /// The favourites, with the state of their profiles.
    pub favourites: Vec<FavouriteView>,
    /// Other profiles this app or its CLI wrote, not kept fresh.
    pub one_off: Vec<OneOffView>,
    /// The preferences.
    pub preferences: Preferences,
    /// Whether the app starts at login.
    pub start_at_login: bool,
    /// Whether this run can change that (not the demo).
    pub start_at_login_available: bool,
    /// Entries of the settings file that are not valid and are skipped, as sentences.
    pub skipped_settings: Vec<String>,
    /// AWS endpoints the environment overrides (`AWS_ENDPOINT_URL…`).
    pub endpoint_overrides: Vec<EndpointOverride>,
    /// How long before expiry things are renewed when that is fixed for this run (the
    /// demo) instead of following the preferences.
    pub fixed_margins: Option<MarginsView>,
}

/// Renewal margins, in whole minutes (rounded up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarginsView {
    /// Before the session's access token expires.
    pub token_minutes: u64,
    /// Before a profile's credentials expire.
    pub credentials_minutes: u64,
}

/// An instance as shown: its label, like every name that came from a file or a service,
/// made safe to show ([`display::text`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    /// The start URL.
    pub start_url: String,
    /// Its region.
    pub region: String,
    /// A name for menus.
    pub label: Option<String>,
}

impl From<&InstanceSettings> for InstanceView {
    fn from(i: &InstanceSettings) -> Self {
        Self {
            start_url: i.instance.start_url().to_owned(),
            region: i.instance.region().to_owned(),
            label: i.label.as_deref().map(|l| display::text(l).into_owned()),
        }
    }
}

impl InstanceView {
    /// The name to show: the label, else the start URL's host.
    pub fn name(&self) -> String {
        self.label
            .clone()
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| {
                aws_sso_device_auth_provider::Instance::new(&self.start_url, &self.region)
                    .map(|i| i.host())
                    .unwrap_or_else(|_| self.start_url.clone())
            })
    }
}

/// An AWS endpoint the environment overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointOverride {
    /// The variable.
    pub variable: String,
    /// Where it points.
    pub url: String,
}

/// A session as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// The phase.
    pub state: Phase,
    /// Where it stands, in words (its expiry, when it cannot renew itself, included).
    pub line: Line,
}

/// Where a session stands, as the window names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// Not signed in.
    SignedOut,
    /// A sign-in waits for the user.
    SigningIn,
    /// Signed in.
    SignedIn,
    /// The session ended while the app ran.
    NeedsSignIn,
}

impl From<SessionPhase> for Phase {
    fn from(p: SessionPhase) -> Self {
        match p {
            SessionPhase::SignedOut => Self::SignedOut,
            SessionPhase::SigningIn => Self::SigningIn,
            SessionPhase::SignedIn => Self::SignedIn,
            SessionPhase::NeedsSignIn => Self::NeedsSignIn,
        }
    }
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

/// A profile written once ("Write profile now"), not kept fresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OneOffView {
    /// The profile name.
    pub profile: String,
    /// Its state (its expiry included), in words.
    pub status: Line,
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
    /// The role assumed with the SSO role's credentials, if any.
    pub assume_role: Option<aws_sso_device_auth_provider::source::AssumeRole>,
    /// When the written credentials expire.
    pub expires_at: Option<i64>,
    /// The last renewal failure, as a sentence (when it is tried again is in `status`).
    pub error: Option<String>,
    /// A renewal asked for by the user is under way.
    pub renewing: bool,
    /// When this app last wrote the profile's credentials.
    pub written_at: Option<i64>,
    /// The profile's state, in words.
    pub status: Line,
}

impl AppView {
    /// The view of `world` now, its times of day in this machine's time zone.
    pub fn of(world: &Workspace, demo: Option<&str>, login: &StartAtLogin) -> Self {
        let (now, clock): (SystemTime, Clock) = (world.now(), words::local_clock);
        let status: Status = world.status();
        let settings = world.settings();
        let current = status.default_instance();
        let sign_in = current
            .and_then(|s| s.sign_in.as_ref())
            .map(|c| SignInView {
                user_code: c.user_code.clone(),
                url: c.url.clone(),
                expires_at: ms(c.expires_at),
            });
        let favourites: Vec<FavouriteView> = status
            .favourites
            .iter()
            .map(|f| FavouriteView {
                status: status.favourite_line(f, now, clock),
                written_at: f.written_at.map(ms),
                profile: f.favourite.profile.to_string(),
                start_url: f.favourite.instance.start_url().to_owned(),
                sso_region: f.favourite.instance.region().to_owned(),
                account_id: f.favourite.account_id.clone(),
                account_name: f
                    .favourite
                    .account_name
                    .as_deref()
                    .map(|n| display::text(n).into_owned()),
                role_name: display::text(&f.favourite.role_name).into_owned(),
                region: f.favourite.region.clone(),
                credential_process: f.favourite.credential_process,
                assume_role: f.favourite.assume_role.clone(),
                expires_at: f.expires_at.map(ms),
                error: f.failure.as_ref().map(|e| e.message.clone()),
                renewing: f.renewing,
            })
            .collect();
        let session = SessionView {
            state: current.map_or(Phase::SignedOut, |s| s.phase.into()),
            line: status.session_line(current, now, clock),
        };
        let one_off = status
            .one_off
            .iter()
            .map(|p| OneOffView {
                profile: p.profile.clone(),
                status: Status::one_off_line(p, now, clock),
            })
            .collect();
        Self {
            demo: demo.is_some(),
            emulator_url: demo.map(str::to_owned),
            credentials_file: world.credentials_file().display().to_string(),
            instance: current.map(|s| InstanceView::from(&s.settings)),
            instances: settings.instances.iter().map(InstanceView::from).collect(),
            session,
            sign_in,
            asked: current.and_then(|s| words::asked_line(&s.asked_by)),
            favourites,
            one_off,
            preferences: settings.preferences.clone(),
            start_at_login: login.is_enabled(),
            start_at_login_available: login.is_available(),
            fixed_margins: world.fixed_margins().map(|m| MarginsView {
                token_minutes: m.token.as_secs().div_ceil(60),
                credentials_minutes: m.credentials.as_secs().div_ceil(60),
            }),
            endpoint_overrides: world
                .endpoint_overrides()
                .iter()
                .map(|o| EndpointOverride {
                    variable: o.variable.to_owned(),
                    url: o.url.clone(),
                })
                .collect(),
            skipped_settings: world
                .skipped_settings()
                .iter()
                .map(|e| crate::error::CommandError::from(e).message)
                .collect(),
        }
    }
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

impl From<Accounts> for AccountsView {
    fn from(a: Accounts) -> Self {
        Self {
            accounts: a
                .accounts
                .iter()
                .map(|r| AccountView {
                    roles_pending: a.roles_pending.contains(&r.account.account_id),
                    ..AccountView::from(r)
                })
                .collect(),
            updated_at: a.updated_at.map(ms),
            refreshing: a.refreshing,
            error: a.error.as_deref().map(crate::error::CommandError::from),
        }
    }
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
    /// Its roles are not read yet (they are on their way).
    pub roles_pending: bool,
}

impl From<&AccountRoles> for AccountView {
    fn from(a: &AccountRoles) -> Self {
        let shown = |s: &str| display::text(s).into_owned();
        Self {
            account_id: shown(&a.account.account_id),
            account_name: shown(&a.account.account_name),
            email_address: a.account.email_address.as_deref().map(shown),
            roles: a.roles.iter().map(|r| shown(&r.role_name)).collect(),
            roles_pending: false,
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

/// A profile written, for the window's notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Written {
    /// The profile name.
    pub profile: String,
    /// When its credentials expire.
    pub expires_at: Option<i64>,
}

impl From<workspace::WrittenProfile> for Written {
    fn from(w: workspace::WrittenProfile) -> Self {
        Self {
            profile: w.profile,
            expires_at: w.expires_at.map(ms),
        }
    }
}

/// The lines of a preview's diff the window shows; the rest are counted.
const DIFF_LINES: usize = 400;

/// A generation of AWS CLI profiles, or its preview, for Settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedView {
    /// The config file.
    pub path: String,
    /// The `[sso-session]` the profiles use, and whether it is new.
    pub session: String,
    /// The session section is added by this change.
    pub session_created: bool,
    /// Profiles added, changed, already as asked.
    pub created: usize,
    /// Profiles changed in place.
    pub updated: usize,
    /// Profiles already as asked.
    pub unchanged: usize,
    /// The names of the generated profiles removed.
    pub removed: Vec<String>,
    /// Names given in place of one another role has: `[wanted, given]`.
    pub renamed: Vec<[String; 2]>,
    /// Roles left without a profile since another section holds the name.
    pub taken: Vec<TakenView>,
    /// Roles whose names the file cannot hold.
    pub unusable: usize,
    /// The first lines of the unified diff (a preview's only).
    pub diff: Vec<String>,
    /// The diff's lines in all.
    pub diff_lines: usize,
    /// The file was replaced.
    pub written: bool,
}

/// A name held by another section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TakenView {
    /// The name.
    pub name: String,
    /// Whose it is, as the end of "…since X has that name".
    pub whose: &'static str,
    /// The file and line of that section.
    pub path: String,
    /// Its header's line.
    pub line: usize,
}

impl GeneratedView {
    /// `g`, with its diff for a preview (the window shows it only then; thousands of
    /// profiles make a long one).
    pub fn new(g: &Generated, preview: bool) -> Self {
        let diff = if preview { g.diff() } else { String::new() };
        Self {
            path: g.path.display().to_string(),
            session: g.session.clone(),
            session_created: g.session_created,
            created: g.created.len(),
            updated: g.updated.len(),
            unchanged: g.unchanged,
            removed: g.removed.iter().map(ToString::to_string).collect(),
            renamed: g
                .renamed
                .iter()
                .map(|(a, b)| [a.to_string(), b.to_string()])
                .collect(),
            taken: g
                .taken
                .iter()
                .map(|t| TakenView {
                    name: t.name.to_string(),
                    whose: t.holder.phrase(),
                    path: t.path.display().to_string(),
                    line: t.line,
                })
                .collect(),
            unusable: g.unusable.len(),
            diff_lines: diff.lines().count(),
            diff: diff.lines().take(DIFF_LINES).map(str::to_owned).collect(),
            written: g.written,
        }
    }
}
