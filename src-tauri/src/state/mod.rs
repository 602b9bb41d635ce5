//! The app's state and what the window and the tray can do with it, with no Tauri in it:
//! one session (provider + renewer) per instance in use, the favourites and how their
//! profiles stand, a pending sign-in, the account browser's cache. Every change is
//! announced as a [`Change`]; the shell maps those to the window, the tray and
//! notifications in one place (`events.rs`).

use crate::autostart::Autostart;
use crate::env::Env;
use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::view::{
    ms, AccountView, AccountsView, AppView, FavouriteView, Progress, SessionPhase, SessionView,
    SignInView,
};
use aws_sso_device_auth_provider::awsfiles::{
    AwsFiles, Changes, ProcessProfile, ProfileName, ProfileWrite,
};
use aws_sso_device_auth_provider::browser;
use aws_sso_device_auth_provider::clock::{from_epoch_millis, rfc3339, Clock, SystemClock};
use aws_sso_device_auth_provider::instance::validate_region;
use aws_sso_device_auth_provider::renewer::{Event, Events, Renewer, RenewerConfig, SessionState};
use aws_sso_device_auth_provider::settings::{
    config_dir, Favourite, InstanceSettings, Preferences, Settings,
};
use aws_sso_device_auth_provider::store::{AccountsCache, AwsCliTokenCache, CredentialsCache};
use aws_sso_device_auth_provider::{
    AccountFilter, AwsSsoDeviceAuthProvider, Endpoints, Error, Instance, SecretStore,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::sync::broadcast;

mod accounts;
mod favourites;
mod preferences;
mod sign_in;

pub use favourites::{NewFavourite, WriteProfile, Written};
pub use preferences::NewInstance;

/// The account list is refreshed in the background when older than this.
const ACCOUNTS_STALE_AFTER: Duration = Duration::from_secs(10 * 60);
/// Warn this long before a session that cannot renew itself ends.
pub const SESSION_ENDING_NOTICE: Duration = Duration::from_secs(15 * 60);

/// What changed, for the shell to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The view changed: send it to the window, rebuild the tray.
    View,
    /// A sign-in waits for the user: show the code.
    SignInCode,
    /// A sign-in started by the user succeeded.
    SignedIn,
    /// Tell the user, as a desktop notification.
    Notice {
        /// Its title.
        title: String,
        /// Its text.
        body: String,
    },
    /// Discovery progress.
    AccountsProgress(Progress),
    /// A discovery finished (or failed).
    Accounts(AccountsView),
}

/// How the app is set up; demo mode and tests change these.
pub struct Options {
    /// Where paths and endpoints come from.
    pub env: Env,
    /// Where sessions are kept.
    pub store: Arc<dyn SecretStore>,
    /// The renewer's timing; its margin comes from the preferences unless `fixed_margins`.
    pub renewer: RenewerConfig,
    /// A token refresh margin to use, with `renewer.credentials_margin` kept as given,
    /// instead of the preferences' minutes (demo and tests with short lifetimes).
    pub fixed_margins: Option<Duration>,
    /// The demo's emulator address.
    pub demo: Option<String>,
    /// Where start-at-login is recorded.
    pub autostart: Autostart,
}

struct InstanceSession {
    instance: Instance,
    renewer: Renewer,
    view: SessionView,
    signed_in_this_run: bool,
    /// The expiry already warned about (one notice per expiry).
    warned_for: Option<SystemTime>,
    pump: tokio::task::JoinHandle<()>,
}

impl InstanceSession {
    /// The renewer's view of the session; a notice when one the user had ended.
    fn on_session(&mut self, state: SessionState) -> Option<Change> {
        match state {
            SessionState::SignedIn(info) => {
                self.signed_in_this_run = true;
                self.view = SessionView {
                    state: SessionPhase::SignedIn,
                    expires_at: Some(ms(info.expires_at)),
                    renewable: info.renewable,
                };
                None
            }
            SessionState::NeedsSignIn => {
                let ended = self.signed_in_this_run && self.view.state == SessionPhase::SignedIn;
                if self.view.state != SessionPhase::SigningIn {
                    self.view = SessionView {
                        state: if self.signed_in_this_run {
                            SessionPhase::NeedsSignIn
                        } else {
                            SessionPhase::SignedOut
                        },
                        expires_at: None,
                        renewable: false,
                    };
                }
                ended.then(|| Change::Notice {
                    title: "AWS session ended".to_owned(),
                    body: format!(
                        "Sign in again to {} to keep your profiles fresh.",
                        label_of(&self.instance)
                    ),
                })
            }
        }
    }
}

impl Drop for InstanceSession {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

#[derive(Default, Clone)]
struct ProfileStatus {
    expires_at: Option<SystemTime>,
    error: Option<String>,
    renewing: bool,
}

#[derive(Default)]
struct Inner {
    settings: Settings,
    sessions: HashMap<String, InstanceSession>,
    profiles: HashMap<String, ProfileStatus>,
    sign_in: Option<(String, SignInView)>,
    sign_in_task: Option<tokio::task::AbortHandle>,
    refreshing: bool,
    accounts_error: Option<CommandError>,
}

/// The app's state.
pub struct AppState {
    env: Env,
    settings_path: PathBuf,
    files: AwsFiles,
    accounts_cache: Option<AccountsCache>,
    store: Arc<dyn SecretStore>,
    renewer_config: RenewerConfig,
    fixed_margins: Option<Duration>,
    demo: Option<String>,
    autostart: Autostart,
    clock: Arc<dyn Clock>,
    changes: broadcast::Sender<Change>,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings_path", &self.settings_path)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Reads the settings and starts a session for every instance in use. Needs a Tokio
    /// runtime.
    pub fn start(options: Options) -> Result<Arc<Self>, Error> {
        let env = options.env;
        let dir = config_dir(env.lookup()).ok_or_else(|| Error::Settings {
            path: PathBuf::from("$HOME/.config/aws-sso-tray/settings.json"),
            detail: "neither XDG_CONFIG_HOME nor HOME is set".into(),
        })?;
        let settings_path = dir.join("settings.json");
        let settings = Settings::load(&settings_path)?;
        let files = AwsFiles::from_env(env.lookup())?;
        let state = Arc::new(Self {
            accounts_cache: AccountsCache::from_env(env.lookup()),
            env,
            settings_path,
            files,
            store: options.store,
            renewer_config: options.renewer,
            fixed_margins: options.fixed_margins,
            demo: options.demo,
            autostart: options.autostart,
            clock: Arc::new(SystemClock),
            changes: broadcast::channel(256).0,
            inner: Mutex::new(Inner {
                settings,
                ..Inner::default()
            }),
        });
        state.restart_sessions()?;
        Ok(state)
    }

    /// The changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    fn announce(&self, change: Change) {
        // Nobody listening (yet) is fine.
        let _ = self.changes.send(change);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The time, by the state's clock.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Where profiles are written.
    pub fn files(&self) -> &AwsFiles {
        &self.files
    }

    // ---- sessions ----

    /// Drops every session and starts one per instance in use (the current one and
    /// those with favourites), as the settings now say.
    fn restart_sessions(self: &Arc<Self>) -> Result<(), Error> {
        let mut inner = self.lock();
        inner.sessions.clear();
        let mut wanted: Vec<Instance> = Vec::new();
        if let Some(i) = inner.settings.default_instance() {
            wanted.push(Instance::new(&i.start_url, &i.region)?);
        }
        for f in &inner.settings.favourites {
            let i = Instance::new(&f.start_url, &f.sso_region)?;
            if !wanted.contains(&i) {
                wanted.push(i);
            }
        }
        for instance in wanted {
            let session = self.start_session(instance, &inner.settings)?;
            inner.sessions.insert(session.instance.key(), session);
        }
        drop(inner);
        self.announce(Change::View);
        Ok(())
    }

    fn start_session(
        self: &Arc<Self>,
        instance: Instance,
        settings: &Settings,
    ) -> Result<InstanceSession, Error> {
        let prefs = &settings.preferences;
        let minutes = |m: u32| Duration::from_secs(u64::from(m) * 60);
        let (token_margin, credentials_margin) = match self.fixed_margins {
            Some(m) => (m, self.renewer_config.credentials_margin),
            None => (
                minutes(prefs.token_refresh_minutes),
                minutes(prefs.credentials_refresh_minutes),
            ),
        };
        let aws_cli_cache = match (prefs.share_session_with_aws_cli, self.env.home()) {
            (true, Some(home)) => Some(AwsCliTokenCache::for_instance(
                &instance,
                &self.files,
                &home,
            )?),
            _ => None,
        };
        let events = Events::new();
        let local_browser = browser::local_browser_likely(self.env.lookup());
        let provider = AwsSsoDeviceAuthProvider::builder()
            .start_url(instance.start_url())
            .region(instance.region())
            .endpoints(Endpoints::from_env(self.env.lookup())?)
            .store(self.store.clone())
            .session_lock_dir(config_dir(self.env.lookup()).map(|d| d.join("locks")))
            .flow(prefs.sign_in_flow.resolve(local_browser))
            .on_prompt(events.prompt())
            .token_refresh_margin(token_margin)
            .aws_cli_token_cache(aws_cli_cache)
            .sign_in_on_demand(false)
            .build()?;
        let rx = events.subscribe();
        let renewer = Renewer::start(
            Arc::new(provider),
            self.files.clone(),
            settings.favourites.clone(),
            RenewerConfig {
                credentials_margin,
                ..self.renewer_config
            },
            self.clock.clone(),
            events,
        );
        let pump = tokio::spawn(pump(Arc::downgrade(self), instance.key(), rx));
        Ok(InstanceSession {
            instance,
            renewer,
            view: SessionView::SIGNED_OUT,
            signed_in_this_run: false,
            warned_for: None,
            pump,
        })
    }

    /// A renewer event of instance `key`.
    fn on_event(&self, key: &str, event: Event) {
        let mut inner = self.lock();
        let mut changes = vec![Change::View];
        match event {
            Event::Session(state) => {
                if let Some(s) = inner.sessions.get_mut(key) {
                    changes.extend(s.on_session(state));
                }
            }
            Event::SignInCode {
                user_code,
                url,
                expires_at,
            } => {
                if let Err(e) = browser::open(&url) {
                    tracing::warn!(error = %e, "could not open the browser for the sign-in");
                }
                let view = SignInView {
                    user_code,
                    url,
                    expires_at: ms(expires_at),
                };
                inner.sign_in = Some((key.to_owned(), view));
                changes.push(Change::SignInCode);
            }
            Event::ProfileWritten {
                profile,
                expires_at,
            } => {
                tracing::info!(%profile, valid_until = %rfc3339(expires_at), "profile renewed");
                let status = ProfileStatus {
                    expires_at: Some(expires_at),
                    ..ProfileStatus::default()
                };
                inner.profiles.insert(profile, status);
            }
            Event::RenewalFailed {
                profile, message, ..
            } => {
                let status = inner
                    .profiles
                    .entry(profile.clone().unwrap_or_default())
                    .or_default();
                // One notice per run of failures, not one per retry.
                if status.error.is_none() {
                    let what = profile.map_or("The session".to_owned(), |p| format!("Profile {p}"));
                    changes.push(Change::Notice {
                        title: "AWS profile renewal failed".to_owned(),
                        body: format!("{what}: {message}. Trying again shortly."),
                    });
                }
                status.error = Some(message);
                status.renewing = false;
            }
        }
        drop(inner);
        for change in changes {
            self.announce(change);
        }
    }

    /// Called every half minute: warns once when a session that cannot renew itself is
    /// about to end, and refreshes the relative times shown.
    pub fn tick(&self) {
        let now = self.clock.now();
        let mut notices = Vec::new();
        for s in self.lock().sessions.values_mut() {
            let Some(expires_at) = s.view.expires_at.map(from_epoch_millis) else {
                continue;
            };
            if session_ending_soon(s.view, expires_at, now) && s.warned_for != Some(expires_at) {
                s.warned_for = Some(expires_at);
                let minutes = expires_at.duration_since(now).unwrap_or_default().as_secs() / 60;
                notices.push(format!(
                    "Your session with {} ends in {minutes} min. Sign in again to keep your profiles fresh.",
                    label_of(&s.instance)
                ));
            }
        }
        for body in notices {
            self.announce(Change::Notice {
                title: "AWS session ending".to_owned(),
                body,
            });
        }
        self.announce(Change::View);
    }

    /// After a resume from sleep: renew what is due at once.
    pub fn wake(&self) {
        for s in self.lock().sessions.values() {
            s.renewer.wake();
        }
    }

    // ---- the view ----

    /// What the window shows.
    pub fn view(&self) -> AppView {
        let inner = self.lock();
        let current = current_instance(&inner.settings);
        let session = current
            .as_ref()
            .and_then(|i| inner.sessions.get(&i.key()))
            .map_or(SessionView::SIGNED_OUT, |s| s.view);
        let sign_in = inner.sign_in.as_ref().map(|(_, v)| v.clone());
        let favourites = inner
            .settings
            .favourites
            .iter()
            .map(|f| {
                let status = inner.profiles.get(&f.profile).cloned().unwrap_or_default();
                FavouriteView {
                    profile: f.profile.clone(),
                    start_url: f.start_url.clone(),
                    sso_region: f.sso_region.clone(),
                    account_id: f.account_id.clone(),
                    account_name: f.account_name.clone(),
                    role_name: f.role_name.clone(),
                    region: f.region.clone(),
                    credential_process: f.credential_process,
                    expires_at: status.expires_at.map(ms),
                    error: status.error,
                    renewing: status.renewing,
                }
            })
            .collect();
        AppView {
            demo: self.demo.is_some(),
            emulator_url: self.demo.clone(),
            credentials_file: self.files.credentials_file().display().to_string(),
            instance: inner.settings.default_instance().cloned(),
            instances: inner.settings.instances.clone(),
            session,
            sign_in,
            favourites,
            preferences: inner.settings.preferences.clone(),
            start_at_login: self.autostart.is_enabled(),
        }
    }

    /// AWS refusing the session ends it, whatever the keychain holds (revoked on the
    /// server, or from an emulator that is gone).
    fn note_refusal(&self, instance: &Instance, e: &Error) {
        if !matches!(e, Error::Unauthorized { .. } | Error::SignInRequired { .. }) {
            return;
        }
        if let Some(s) = self.lock().sessions.get_mut(&instance.key()) {
            if s.view.state == SessionPhase::SignedIn {
                s.view = SessionView {
                    state: SessionPhase::NeedsSignIn,
                    expires_at: None,
                    renewable: false,
                };
            }
        }
        self.announce(Change::View);
    }

    /// The current instance.
    fn current(&self) -> CommandResult<Instance> {
        current_instance(&self.lock().settings).ok_or_else(|| Error::NoInstance.into())
    }

    /// Whether `instance` is signed in.
    fn signed_in(&self, instance: &Instance) -> bool {
        self.lock()
            .sessions
            .get(&instance.key())
            .is_some_and(|s| s.view.state == SessionPhase::SignedIn)
    }

    /// A sign-in is waiting for the user.
    pub fn signing_in(&self) -> bool {
        self.lock().sign_in_task.is_some()
    }
}

/// Forwards one instance's renewer events to the state until either goes away.
async fn pump(state: std::sync::Weak<AppState>, key: String, mut rx: broadcast::Receiver<Event>) {
    loop {
        match rx.recv().await {
            Ok(event) => match state.upgrade() {
                Some(s) => s.on_event(&key, event),
                None => return,
            },
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "renewer events were dropped");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// A session that cannot renew itself, within the notice period of its end.
pub fn session_ending_soon(view: SessionView, expires_at: SystemTime, now: SystemTime) -> bool {
    view.state == SessionPhase::SignedIn
        && !view.renewable
        && expires_at > now
        && expires_at.duration_since(now).unwrap_or_default() <= SESSION_ENDING_NOTICE
}

fn current_instance(settings: &Settings) -> Option<Instance> {
    settings
        .default_instance()
        .and_then(|i| Instance::new(&i.start_url, &i.region).ok())
}

fn favourites_of<'a>(
    settings: &'a Settings,
    instance: &'a Instance,
) -> impl Iterator<Item = &'a Favourite> + 'a {
    settings
        .favourites
        .iter()
        .filter(|f| f.start_url == instance.start_url() && f.sso_region == instance.region())
}

/// A short name for an instance: the start URL's host.
pub fn label_of(instance: &Instance) -> String {
    url_host(instance.start_url()).unwrap_or_else(|| instance.start_url().to_owned())
}

/// The host of `url`, if it has one.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| host.to_owned())
}

fn open_in_browser(url: &str) -> CommandResult<()> {
    browser::open(url).map_err(|e| {
        CommandError::new(
            ErrorCode::Internal,
            format!("Could not open the browser ({e}). Set BROWSER to your browser's command, or xdg-open's default."),
        )
    })
}

/// Settings of an instance, for menus.
pub fn instance_label(i: &InstanceSettings) -> String {
    i.label
        .clone()
        .or_else(|| url_host(&i.start_url))
        .unwrap_or_else(|| i.start_url.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sso_device_auth_provider::clock::from_epoch_seconds;

    #[test]
    fn warns_only_for_sessions_that_cannot_renew_within_fifteen_minutes() {
        let now = from_epoch_seconds(1_800_000_000);
        let signed_in = |renewable| SessionView {
            state: SessionPhase::SignedIn,
            expires_at: None,
            renewable,
        };
        let in_mins = |m: u64| now + Duration::from_secs(m * 60);
        assert!(session_ending_soon(signed_in(false), in_mins(14), now));
        assert!(session_ending_soon(signed_in(false), in_mins(15), now));
        assert!(!session_ending_soon(signed_in(false), in_mins(16), now));
        assert!(!session_ending_soon(signed_in(true), in_mins(5), now));
        assert!(!session_ending_soon(signed_in(false), now, now));
        assert!(!session_ending_soon(
            SessionView::SIGNED_OUT,
            in_mins(5),
            now
        ));
    }

    #[test]
    fn hosts_and_shell_words() {
        assert_eq!(
            url_host("https://my-org.awsapps.com/start#/").as_deref(),
            Some("my-org.awsapps.com")
        );
        assert_eq!(url_host("nonsense"), None);
    }
}
