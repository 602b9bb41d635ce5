//! The view model: what the window shows, as the JSON it receives (`get_state` and the
//! `state` event), made from the workspace's status. Times are milliseconds since the
//! Unix epoch.

use crate::autostart::StartAtLogin;
use aws_sso_device_auth_provider::awsfiles::generate::Generated;
use aws_sso_device_auth_provider::clock::epoch_millis;
use aws_sso_device_auth_provider::console::{self, BrowserChoice, Colour};
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::settings::{ConsoleSettings, InstanceSettings, Preferences};
use aws_sso_device_auth_provider::workspace::words::{self, Clock, Line};
use aws_sso_device_auth_provider::workspace::{
    self, Accounts, ExecStatus, SessionPhase, Status, Workspace,
};
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
    /// The commands this app serves credentials to (`aws-sso-auth exec`), oldest first:
    /// a new one comes last, and one that ended stays where it is until it exits.
    pub exec: Vec<ExecView>,
    /// How many commands are served, in words ("Serving 2 commands · 1 ended"), while
    /// any is listed.
    pub serving: Option<String>,
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
    /// The browser its roles' console opens in (`None`: the default browser).
    pub browser: Option<BrowserChoice>,
}

impl From<&InstanceSettings> for InstanceView {
    fn from(i: &InstanceSettings) -> Self {
        Self {
            start_url: i.instance.start_url().to_owned(),
            region: i.instance.region().to_owned(),
            label: i.label.as_deref().map(|l| display::text(l).into_owned()),
            browser: i.browser.clone(),
        }
    }
}

/// How a favourite's console opens, for the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsoleView {
    /// As saved (what the window sends back to change it).
    pub settings: ConsoleSettings,
    /// The colour as `#rrggbb`, if it has one.
    pub colour_hex: Option<String>,
    /// The colour's name for people.
    pub colour_label: Option<String>,
}

impl From<&ConsoleSettings> for ConsoleView {
    fn from(c: &ConsoleSettings) -> Self {
        Self {
            settings: c.clone(),
            colour_hex: c.colour.map(Colour::hex),
            colour_label: c.colour.map(|c| c.label().to_owned()),
        }
    }
}

/// A choice offered in a list: its name (sent back) and its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// What is sent back.
    pub name: String,
    /// What a person reads.
    pub label: String,
    /// A colour's `#rrggbb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
}

/// What the window offers for a console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsoleChoices {
    /// The services offered as a short list.
    pub services: Vec<Choice>,
    /// The colours.
    pub colours: Vec<Choice>,
    /// The browsers.
    pub browsers: Vec<Choice>,
    /// The Firefox container extensions.
    pub containers: Vec<Choice>,
    /// The shortest and longest console session AWS grants an SSO role, in seconds.
    pub session_range: (u32, u32),
}

impl ConsoleChoices {
    /// Everything offered.
    pub fn new() -> Self {
        let choice = |name: &str, label: &str| Choice {
            name: name.to_owned(),
            label: label.to_owned(),
            hex: None,
        };
        Self {
            services: console::COMMON_SERVICES
                .iter()
                .map(|(n, l)| choice(n, l))
                .collect(),
            colours: Colour::ALL
                .iter()
                .map(|c| Choice {
                    hex: Some(c.hex()),
                    ..choice(c.name(), c.label())
                })
                .collect(),
            browsers: console::BrowserKind::ALL
                .iter()
                .map(|k| choice(k.name(), k.label()))
                .collect(),
            containers: console::ContainerScheme::ALL
                .iter()
                .map(|k| choice(k.name(), k.label()))
                .collect(),
            session_range: (
                *console::SESSION_RANGE.start(),
                *console::SESSION_RANGE.end(),
            ),
        }
    }
}

impl Default for ConsoleChoices {
    fn default() -> Self {
        Self::new()
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

/// A command served credentials (`aws-sso-auth exec`). Its names came from outside (the
/// program's from the command line): made safe to show ([`display::text`]), shown as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecView {
    /// Its number, to stop it by (`stop_exec_session`).
    pub id: u64,
    /// The program, as its command line named it.
    pub program: String,
    /// The favourite's profile name, when it is one.
    pub favourite: Option<String>,
    /// Its role, in words (`ReadOnly in account 111122223333`).
    pub role: String,
    /// Since when it is served.
    pub since: i64,
    /// Since when, and how often it was served, in words: "since 14:02 · served 3 times,
    /// last at 14:05".
    pub detail: String,
    /// How many times it was given credentials.
    pub served: u64,
    /// Why it is served no more, as a sentence, once it is not (it stays listed until
    /// the command exits).
    pub ended: Option<String>,
}

impl ExecView {
    /// The commands of `exec`, in its order (oldest first), their times of day by `clock`.
    pub fn list(exec: &[ExecStatus], clock: Clock) -> Vec<Self> {
        exec.iter().map(|e| Self::new(e, clock)).collect()
    }

    fn new(e: &ExecStatus, clock: Clock) -> Self {
        let since = ms(e.since);
        let served = match (e.served, e.last_served) {
            (0, _) => "not asked for credentials yet".to_owned(),
            (1, Some(at)) => format!("served once, at {}", clock(ms(at))),
            (n, Some(at)) => format!("served {n} times, last at {}", clock(ms(at))),
            (1, None) => "served once".to_owned(),
            (n, None) => format!("served {n} times"),
        };
        Self {
            id: e.id,
            program: display::text(&e.program).into_owned(),
            favourite: e
                .favourite
                .as_deref()
                .map(|f| display::text(f).into_owned()),
            role: display::text(&e.role).into_owned(),
            since,
            detail: format!("since {} · {served}", clock(since)),
            served: e.served,
            ended: e
                .ended
                .as_deref()
                .map(|why| crate::error::sentence(&display::text(why))),
        }
    }
}

/// "Serving 2 commands": the commands served now, in words (the tray's line).
pub fn serving_words(live: usize) -> String {
    match live {
        0 => "Serving no command now".to_owned(),
        1 => "Serving 1 command".to_owned(),
        n => format!("Serving {n} commands"),
    }
}

/// The heading of the commands listed, those that ended counted apart; `None` when none
/// is listed.
pub fn serving_line(exec: &[ExecView]) -> Option<String> {
    if exec.is_empty() {
        return None;
    }
    let ended = exec.iter().filter(|e| e.ended.is_some()).count();
    let live = serving_words(exec.len() - ended);
    Some(match ended {
        0 => live,
        n => format!("{live} · {n} ended"),
    })
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
    /// How its console opens, and its colour.
    pub console: ConsoleView,
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
                console: ConsoleView::from(&f.favourite.console),
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
        let exec = ExecView::list(&status.exec, clock);
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
            serving: serving_line(&exec),
            exec,
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sso_device_auth_provider::Instance;
    use std::time::{Duration, UNIX_EPOCH};

    /// Times of day in UTC, whatever the machine's zone.
    fn utc(at_ms: i64) -> String {
        format!("{:02}:{:02}", at_ms / 3_600_000 % 24, at_ms / 60_000 % 60)
    }

    fn at(h: u64, m: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(h * 3600 + m * 60)
    }

    fn exec(id: u64, program: &str, favourite: Option<&str>) -> ExecStatus {
        ExecStatus {
            id,
            instance: Instance::new("https://x.awsapps.com/start", "eu-west-1").expect("instance"),
            favourite: favourite.map(str::to_owned),
            role: "ReadOnly in account 111122223333".into(),
            program: program.into(),
            since: at(14, 2),
            served: 0,
            last_served: None,
            ended: None,
        }
    }

    /// Whether `s` holds a character that would act rather than show: a control, or one
    /// that reorders or hides text around it.
    fn acts(s: &str) -> bool {
        s.chars().any(|c| {
            c.is_control()
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}')
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        })
    }

    #[test]
    fn commands_served_are_listed_oldest_first_with_since_and_how_often() {
        let mut a = exec(3, "terraform", Some("dev"));
        a.served = 1;
        a.last_served = Some(at(14, 5));
        let mut b = exec(7, "aws", None);
        b.served = 12;
        b.last_served = Some(at(15, 30));
        let c = exec(9, "sleep", None);
        let list = ExecView::list(&[a, b, c], utc);
        assert_eq!(
            list.iter().map(|e| e.id).collect::<Vec<_>>(),
            [3, 7, 9],
            "in the workspace's order: a new one comes last"
        );
        assert_eq!(list[0].favourite.as_deref(), Some("dev"));
        assert_eq!(list[0].detail, "since 14:02 · served once, at 14:05");
        assert_eq!(list[1].favourite, None);
        assert_eq!(list[1].role, "ReadOnly in account 111122223333");
        assert_eq!(
            list[1].detail,
            "since 14:02 · served 12 times, last at 15:30"
        );
        assert_eq!(list[1].served, 12);
        assert_eq!(
            list[2].detail,
            "since 14:02 · not asked for credentials yet"
        );
        assert_eq!(list[2].since, 14 * 3_600_000 + 2 * 60_000);
        assert_eq!(serving_line(&list).as_deref(), Some("Serving 3 commands"));
        assert_eq!(serving_line(&[]), None);
    }

    /// One that ended says why, in the window's words, and stays where it was; the count
    /// is of those still served.
    #[test]
    fn a_command_that_ended_stays_in_place_and_says_why() {
        let mut a = exec(1, "terraform", Some("dev"));
        a.ended =
            Some("it was stopped in AWS SSO Tray; run it again with aws-sso-auth exec".into());
        let mut b = exec(2, "aws", None);
        b.ended = Some("the program that served these credentials is closing".into());
        let live = exec(3, "sleep", None);
        let list = ExecView::list(&[a, live.clone(), b], utc);
        assert_eq!(list.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 3, 2]);
        assert_eq!(
            list[0].ended.as_deref(),
            Some("It was stopped in AWS SSO Tray; run it again with aws-sso-auth exec.")
        );
        assert_eq!(
            list[2].ended.as_deref(),
            Some("The program that served these credentials is closing.")
        );
        assert_eq!(list[1].ended, None);
        assert_eq!(
            serving_line(&list).as_deref(),
            Some("Serving 1 command · 2 ended")
        );
        let only_ended = [list[0].clone()];
        assert_eq!(
            serving_line(&only_ended).as_deref(),
            Some("Serving no command now · 1 ended")
        );
        assert_eq!(serving_words(2), "Serving 2 commands");
        assert_eq!(serving_words(1), "Serving 1 command");
    }

    /// A program's name is whatever its command line said: shown as the characters it
    /// holds, none of which can reorder, hide or break the text around it. Markup stays
    /// text (the window sets it as text, never as HTML).
    #[test]
    fn hostile_program_and_profile_names_are_shown_as_what_they_are() {
        let hostile = [
            "\u{202e}fdp.exe",
            "evil\u{2067}x\u{2069}",
            "a\nb\rc\td",
            "\u{1b}[31mred\u{1b}[0m",
            "zero\u{200f}width\u{061c}",
            "<img src=x onerror=alert(1)>",
            "",
        ];
        for name in hostile {
            let mut e = exec(1, name, Some(name));
            e.role = format!("{name} in account 111122223333");
            e.ended = Some(format!("stopped: {name}"));
            let v = &ExecView::list(&[e], utc)[0];
            for shown in [
                v.program.as_str(),
                v.favourite.as_deref().unwrap_or_default(),
                v.role.as_str(),
                v.ended.as_deref().unwrap_or_default(),
                v.detail.as_str(),
            ] {
                assert!(!acts(shown), "{name:?} shown as {shown:?}");
            }
            assert_eq!(v.program, display::text(name), "{name:?}");
        }
        let v = &ExecView::list(&[exec(1, "\u{202e}fdp.exe", None)], utc)[0];
        assert_eq!(v.program, "\\u{202e}fdp.exe");
        let v = &ExecView::list(&[exec(1, "<b>x</b> & y", None)], utc)[0];
        assert_eq!(
            v.program, "<b>x</b> & y",
            "text, not markup: the window shows it so"
        );
        // A long name is kept whole: the window ellipsises it, with the whole in its title.
        let long = "p".repeat(300);
        assert_eq!(
            ExecView::list(&[exec(1, &long, None)], utc)[0].program,
            long
        );
    }
}
