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
use aws_sso_device_auth_provider::store::{AccountsCache, AwsCliTokenCache};
use aws_sso_device_auth_provider::{
    AccountFilter, AwsSsoDeviceAuthProvider, Endpoints, Error, Instance, SecretStore,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::sync::broadcast;

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
    /// Keep `renewer.credentials_margin` and `token_refresh_margin` as given (demo and
    /// tests with short lifetimes), instead of the preferences' minutes.
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
        let mut notices = Vec::new();
        let mut changes = vec![Change::View];
        match event {
            Event::Session(SessionState::SignedIn(info)) => {
                if let Some(s) = inner.sessions.get_mut(key) {
                    s.signed_in_this_run = true;
                    s.view = SessionView {
                        state: SessionPhase::SignedIn,
                        expires_at: Some(ms(info.expires_at)),
                        renewable: info.renewable,
                    };
                }
            }
            Event::Session(SessionState::NeedsSignIn) => {
                if let Some(s) = inner.sessions.get_mut(key) {
                    if s.signed_in_this_run && s.view.state == SessionPhase::SignedIn {
                        notices.push((
                            "AWS session ended".to_owned(),
                            format!(
                                "Sign in again to {} to keep your profiles fresh.",
                                label_of(&s.instance)
                            ),
                        ));
                    }
                    if s.view.state != SessionPhase::SigningIn {
                        s.view = SessionView {
                            state: if s.signed_in_this_run {
                                SessionPhase::NeedsSignIn
                            } else {
                                SessionPhase::SignedOut
                            },
                            expires_at: None,
                            renewable: false,
                        };
                    }
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
                inner.sign_in = Some((
                    key.to_owned(),
                    SignInView {
                        user_code,
                        url,
                        expires_at: ms(expires_at),
                    },
                ));
                changes.push(Change::SignInCode);
            }
            Event::ProfileWritten {
                profile,
                expires_at,
            } => {
                tracing::info!(%profile, valid_until = %rfc3339(expires_at), "profile renewed");
                inner.profiles.insert(
                    profile,
                    ProfileStatus {
                        expires_at: Some(expires_at),
                        error: None,
                        renewing: false,
                    },
                );
            }
            Event::RenewalFailed {
                profile, message, ..
            } => {
                let what = profile.clone();
                let status = inner
                    .profiles
                    .entry(profile.unwrap_or_default())
                    .or_default();
                if status.error.is_none() {
                    notices.push((
                        "AWS profile renewal failed".to_owned(),
                        match what {
                            Some(p) => format!("Profile {p}: {message}. Trying again shortly."),
                            None => format!("The session: {message}. Trying again shortly."),
                        },
                    ));
                }
                status.error = Some(message);
                status.renewing = false;
            }
        }
        drop(inner);
        for change in changes {
            self.announce(change);
        }
        for (title, body) in notices {
            self.announce(Change::Notice { title, body });
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

    /// A sign-in is waiting for the user.
    pub fn signing_in(&self) -> bool {
        self.lock().sign_in_task.is_some()
    }

    // ---- sign-in ----

    fn current(&self) -> CommandResult<Instance> {
        current_instance(&self.lock().settings).ok_or_else(|| Error::NoInstance.into())
    }

    /// Signs in to the current instance; returns once signed in.
    pub async fn sign_in(self: &Arc<Self>) -> CommandResult<()> {
        let instance = self.current()?;
        let key = instance.key();
        let task = {
            let mut inner = self.lock();
            if inner.sign_in_task.is_some() {
                return Err(CommandError::new(
                    ErrorCode::Conflict,
                    "A sign-in is already waiting for you: approve the code shown in the window, or cancel it.",
                ));
            }
            let Some(session) = inner.sessions.get_mut(&key) else {
                return Err(Error::NoInstance.into());
            };
            session.view.state = SessionPhase::SigningIn;
            let provider = session.renewer.provider();
            let task = tokio::spawn(async move { provider.sign_in().await });
            inner.sign_in_task = Some(task.abort_handle());
            task
        };
        self.announce(Change::View);
        let result = task.await;
        {
            let mut inner = self.lock();
            inner.sign_in_task = None;
            inner.sign_in = None;
            if let Some(s) = inner.sessions.get_mut(&key) {
                if s.view.state == SessionPhase::SigningIn {
                    s.view.state = if s.signed_in_this_run {
                        SessionPhase::NeedsSignIn
                    } else {
                        SessionPhase::SignedOut
                    };
                }
            }
        }
        let outcome = match result {
            Ok(Ok(info)) => {
                if let Some(s) = self.lock().sessions.get_mut(&key) {
                    s.renewer.wake();
                    s.signed_in_this_run = true;
                    s.view = SessionView {
                        state: SessionPhase::SignedIn,
                        expires_at: Some(ms(info.expires_at)),
                        renewable: info.renewable,
                    };
                }
                self.announce(Change::SignedIn);
                Ok(())
            }
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(CommandError::new(
                ErrorCode::Cancelled,
                "The sign-in was cancelled.",
            )),
        };
        self.announce(Change::View);
        outcome
    }

    /// Cancels a waiting sign-in.
    pub fn cancel_sign_in(&self) {
        if let Some(task) = self.lock().sign_in_task.take() {
            task.abort();
        }
    }

    /// Opens the waiting sign-in's page in the browser again.
    pub fn open_sign_in_page(&self) -> CommandResult<()> {
        let url = self
            .lock()
            .sign_in
            .as_ref()
            .map(|(_, v)| v.url.clone())
            .ok_or_else(|| CommandError::new(ErrorCode::NotFound, "No sign-in is waiting."))?;
        open_in_browser(&url)
    }

    /// Signs out of the current instance; removes its favourites' profiles if the user
    /// asked for that, and its cached account list.
    pub async fn sign_out(&self) -> CommandResult<()> {
        let instance = self.current()?;
        let provider = {
            let inner = self.lock();
            inner
                .sessions
                .get(&instance.key())
                .map(|s| s.renewer.provider())
        };
        if let Some(p) = provider {
            p.sign_out().await?;
        }
        let (remove, favourites) = {
            let mut inner = self.lock();
            if let Some(s) = inner.sessions.get_mut(&instance.key()) {
                s.view = SessionView::SIGNED_OUT;
                s.signed_in_this_run = false;
            }
            let favourites: Vec<String> = favourites_of(&inner.settings, &instance)
                .map(|f| f.profile.clone())
                .collect();
            for p in &favourites {
                inner.profiles.remove(p);
            }
            (
                inner.settings.preferences.remove_profiles_on_sign_out,
                favourites,
            )
        };
        if let Some(cache) = &self.accounts_cache {
            if let Err(e) = cache.remove(&instance) {
                tracing::warn!(error = %e, "could not remove the cached account list");
            }
        }
        if remove {
            self.remove_profiles(&favourites)?;
        }
        self.announce(Change::View);
        Ok(())
    }

    fn remove_profiles(&self, profiles: &[String]) -> CommandResult<()> {
        let mut changes = Changes::new();
        for p in profiles {
            changes = changes.remove(ProfileName::new(p)?);
        }
        self.files.apply(&changes)?;
        Ok(())
    }

    /// On quit: removes the favourites' profiles if the user asked for that.
    pub fn on_quit(&self) -> CommandResult<()> {
        let (remove, profiles) = {
            let inner = self.lock();
            (
                inner.settings.preferences.remove_profiles_on_quit,
                inner
                    .settings
                    .favourites
                    .iter()
                    .filter(|f| !f.credential_process)
                    .map(|f| f.profile.clone())
                    .collect::<Vec<_>>(),
            )
        };
        if remove {
            self.remove_profiles(&profiles)?;
        }
        Ok(())
    }

    // ---- accounts ----

    /// The cached accounts at once; a background refresh starts when they are old.
    pub fn accounts(self: &Arc<Self>) -> CommandResult<AccountsView> {
        let instance = self.current()?;
        let cached = self
            .accounts_cache
            .as_ref()
            .map(|c| c.get(&instance))
            .unwrap_or_default();
        let stale = cached.updated_at.is_none_or(|t| {
            self.clock
                .now()
                .duration_since(t)
                .map_or(true, |age| age > ACCOUNTS_STALE_AFTER)
        });
        if stale && self.signed_in(&instance) {
            self.refresh_accounts()?;
        }
        let inner = self.lock();
        Ok(AccountsView {
            accounts: cached.accounts.iter().map(AccountView::from).collect(),
            updated_at: cached.updated_at.map(ms),
            refreshing: inner.refreshing,
            error: inner.accounts_error.clone(),
        })
    }

    fn signed_in(&self, instance: &Instance) -> bool {
        self.lock()
            .sessions
            .get(&instance.key())
            .is_some_and(|s| s.view.state == SessionPhase::SignedIn)
    }

    /// Reads the accounts and roles again, in the background, with progress.
    pub fn refresh_accounts(self: &Arc<Self>) -> CommandResult<()> {
        let instance = self.current()?;
        let provider = {
            let mut inner = self.lock();
            if inner.refreshing {
                return Ok(());
            }
            let Some(s) = inner.sessions.get(&instance.key()) else {
                return Err(Error::NoInstance.into());
            };
            let provider = s.renewer.provider();
            inner.refreshing = true;
            inner.accounts_error = None;
            provider
        };
        let this = self.clone();
        tokio::spawn(async move {
            this.announce(Change::AccountsProgress(Progress {
                done: 0,
                total: None,
            }));
            let progress_to = this.clone();
            let last = Mutex::new(0usize);
            let report = move |done: usize, total: usize| {
                // At most ~100 updates however large the organisation.
                let step = (total / 100).max(1);
                let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                if done == total || done >= *last + step || done == 0 {
                    *last = done;
                    progress_to.announce(Change::AccountsProgress(Progress {
                        done,
                        total: Some(total),
                    }));
                }
            };
            let filter = AccountFilter::default();
            let found = provider
                .accounts_with_roles_reporting(&filter, None, &report)
                .await
                .inspect_err(|e| this.note_refusal(&instance, e));
            let now = this.clock.now();
            let (accounts, updated_at, error) = match found {
                Ok(found) => {
                    if let Some(cache) = &this.accounts_cache {
                        if let Err(e) = cache.put(&instance, &found, now) {
                            tracing::warn!(error = %e, "could not cache the account list");
                        }
                    }
                    (found, Some(now), None)
                }
                Err(e) => {
                    let cached = this
                        .accounts_cache
                        .as_ref()
                        .map(|c| c.get(&instance))
                        .unwrap_or_default();
                    (
                        cached.accounts,
                        cached.updated_at,
                        Some(CommandError::from(e)),
                    )
                }
            };
            {
                let mut inner = this.lock();
                inner.refreshing = false;
                inner.accounts_error = error.clone();
            }
            this.announce(Change::Accounts(AccountsView {
                accounts: accounts.iter().map(AccountView::from).collect(),
                updated_at: updated_at.map(ms),
                refreshing: false,
                error,
            }));
        });
        Ok(())
    }

    // ---- favourites and profiles ----

    /// Adds a favourite of the current instance. When signed in, its profile is written
    /// first, so a name the files refuse (a profile of the user's) adds nothing.
    pub async fn add_favourite(self: &Arc<Self>, new: NewFavourite) -> CommandResult<()> {
        let instance = self.current()?;
        ProfileName::new(&new.profile)?;
        let region = new.region.as_deref().map(validate_region).transpose()?;
        let favourite = Favourite {
            profile: new.profile.clone(),
            start_url: instance.start_url().to_owned(),
            sso_region: instance.region().to_owned(),
            account_id: new.account_id,
            account_name: new.account_name,
            role_name: new.role_name,
            region,
            credential_process: new.credential_process,
        };
        // A name taken by another favourite is refused before anything is written.
        self.lock()
            .settings
            .clone()
            .add_favourite(favourite.clone())?;
        if favourite.credential_process {
            self.write_process_profile(&favourite)?;
        } else if self.signed_in(&instance) {
            let written = self
                .write_profile(WriteProfile {
                    profile: favourite.profile.clone(),
                    account_id: favourite.account_id.clone(),
                    role_name: favourite.role_name.clone(),
                    region: favourite.region.clone(),
                })
                .await?;
            self.lock().profiles.insert(
                written.profile,
                ProfileStatus {
                    expires_at: Some(from_epoch_millis(written.expires_at)),
                    ..ProfileStatus::default()
                },
            );
        }
        self.update_settings(|s| s.add_favourite(favourite))?;
        self.push_favourites();
        Ok(())
    }

    /// A `credential_process` profile that runs `aws-sso-auth` from beside the app.
    fn write_process_profile(&self, f: &Favourite) -> CommandResult<()> {
        let cli = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join("aws-sso-auth")))
            .filter(|p| p.is_file())
            .ok_or_else(|| {
                CommandError::new(
                    ErrorCode::Files,
                    "On-demand (credential_process) profiles need the aws-sso-auth command installed beside the app. Install it, or add the favourite without that option.",
                )
            })?;
        let mut profile = ProcessProfile::aws_sso_auth(ProfileName::new(&f.profile)?, &cli)?;
        if let Some(r) = &f.region {
            profile = profile.region(r)?;
        }
        self.files.apply(&Changes::new().write_process(profile))?;
        Ok(())
    }

    /// Removes a favourite and its profile.
    pub fn remove_favourite(self: &Arc<Self>, profile: &str) -> CommandResult<()> {
        let removed =
            {
                let mut inner = self.lock();
                let removed = inner.settings.remove_favourite(profile).ok_or_else(|| {
                    Error::NoSuchFavourite {
                        profile: profile.to_owned(),
                    }
                })?;
                inner.settings.save(&self.settings_path)?;
                inner.profiles.remove(profile);
                removed
            };
        self.push_favourites();
        self.files
            .apply(&Changes::new().remove(ProfileName::new(&removed.profile)?))?;
        self.announce(Change::View);
        Ok(())
    }

    /// Writes a profile once (not kept fresh).
    pub async fn write_profile(&self, request: WriteProfile) -> CommandResult<Written> {
        let instance = self.current()?;
        let name = ProfileName::new(&request.profile)?;
        let region = request.region.as_deref().map(validate_region).transpose()?;
        let provider = self
            .lock()
            .sessions
            .get(&instance.key())
            .map(|s| s.renewer.provider())
            .ok_or(Error::NoInstance)?;
        let creds = provider
            .role_credentials(&request.account_id, &request.role_name)
            .await
            .inspect_err(|e| self.note_refusal(&instance, e))?;
        let mut write = ProfileWrite::new(name, &creds);
        if let Some(r) = &region {
            write = write.region(r)?;
        }
        self.files.apply(&Changes::new().write(write))?;
        Ok(Written {
            profile: request.profile,
            expires_at: ms(creds.expiration),
        })
    }

    /// Renews a favourite's profile now.
    pub fn renew_now(&self, profile: &str) -> CommandResult<()> {
        let mut inner = self.lock();
        let f =
            inner
                .settings
                .favourite(profile)
                .cloned()
                .ok_or_else(|| Error::NoSuchFavourite {
                    profile: profile.to_owned(),
                })?;
        let key = Instance::new(&f.start_url, &f.sso_region)?.key();
        let Some(session) = inner.sessions.get(&key) else {
            return Err(Error::NoInstance.into());
        };
        if session.view.state != SessionPhase::SignedIn {
            return Err(Error::SignInRequired {
                start_url: f.start_url,
            }
            .into());
        }
        session.renewer.renew_now(profile);
        inner.profiles.entry(f.profile).or_default().renewing = true;
        drop(inner);
        self.announce(Change::View);
        Ok(())
    }

    /// Opens the AWS console as a favourite's role.
    pub async fn open_console(&self, profile: &str) -> CommandResult<()> {
        let (f, provider) = {
            let inner = self.lock();
            let f = inner.settings.favourite(profile).cloned().ok_or_else(|| {
                Error::NoSuchFavourite {
                    profile: profile.to_owned(),
                }
            })?;
            let key = Instance::new(&f.start_url, &f.sso_region)?.key();
            let provider = inner
                .sessions
                .get(&key)
                .map(|s| s.renewer.provider())
                .ok_or(Error::NoInstance)?;
            (f, provider)
        };
        let creds = provider
            .role_credentials(&f.account_id, &f.role_name)
            .await
            .inspect_err(|e| self.note_refusal(provider.instance(), e))?;
        let region = f.region.as_deref().unwrap_or(&f.sso_region);
        let url = aws_sso_device_auth_provider::console::signin_url(
            &creds,
            region,
            self.env.get("AWS_ENDPOINT_URL_SIGNIN").as_deref(),
        )
        .await?;
        // The URL carries a sign-in token: to the browser through a one-time loopback
        // redirect, never on a command line or in a log.
        aws_sso_device_auth_provider::console::open_once(&url).await?;
        Ok(())
    }

    fn push_favourites(&self) {
        let inner = self.lock();
        for s in inner.sessions.values() {
            s.renewer.set_favourites(inner.settings.favourites.clone());
        }
    }

    // ---- settings ----

    fn update_settings<T>(
        self: &Arc<Self>,
        change: impl FnOnce(&mut Settings) -> Result<T, Error>,
    ) -> CommandResult<T> {
        let mut inner = self.lock();
        let mut next = inner.settings.clone();
        let out = change(&mut next)?;
        next.save(&self.settings_path)?;
        inner.settings = next;
        drop(inner);
        self.announce(Change::View);
        Ok(out)
    }

    /// Replaces the preferences; sessions restart to use them.
    pub fn set_preferences(self: &Arc<Self>, preferences: Preferences) -> CommandResult<()> {
        for (what, minutes) in [
            ("token refresh", preferences.token_refresh_minutes),
            (
                "credentials refresh",
                preferences.credentials_refresh_minutes,
            ),
        ] {
            if !(1..=120).contains(&minutes) {
                return Err(CommandError::new(
                    ErrorCode::InvalidInput,
                    format!("The {what} margin must be between 1 and 120 minutes."),
                ));
            }
        }
        self.update_settings(|s| {
            s.preferences = preferences;
            Ok(())
        })?;
        self.restart_sessions()?;
        Ok(())
    }

    /// Adds an instance (or relabels it) and makes it the current one.
    pub fn add_instance(self: &Arc<Self>, new: NewInstance) -> CommandResult<()> {
        let instance = Instance::new(new.start_url.trim(), new.region.trim())?;
        let label = new.label.filter(|l| !l.trim().is_empty());
        self.update_settings(|s| {
            s.add_instance(&instance, label);
            s.remember_default(&instance);
            Ok(())
        })?;
        self.restart_sessions()?;
        Ok(())
    }

    /// Forgets an instance (its favourites stay until removed).
    pub fn remove_instance(self: &Arc<Self>, start_url: &str) -> CommandResult<()> {
        self.update_settings(|s| {
            let before = s.instances.len();
            s.instances.retain(|i| i.start_url != start_url);
            if s.instances.len() == before {
                return Err(Error::NoInstance);
            }
            if s.default_instance.as_deref() == Some(start_url) {
                s.default_instance = s.instances.first().map(|i| i.start_url.clone());
            }
            Ok(())
        })?;
        self.restart_sessions()?;
        Ok(())
    }

    /// Makes a known instance the current one.
    pub fn set_default_instance(self: &Arc<Self>, start_url: &str) -> CommandResult<()> {
        self.update_settings(|s| {
            if !s.instances.iter().any(|i| i.start_url == start_url) {
                return Err(Error::NoInstance);
            }
            s.default_instance = Some(start_url.to_owned());
            Ok(())
        })?;
        self.restart_sessions()?;
        Ok(())
    }

    /// Starts (or stops) the app at login.
    pub fn set_start_at_login(&self, enabled: bool) -> CommandResult<()> {
        let exe = std::env::current_exe().map_err(|source| Error::Io {
            action: "find the path of",
            path: "aws-sso-tray".into(),
            source,
        })?;
        self.autostart.set(enabled, &exe)?;
        self.announce(Change::View);
        Ok(())
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

/// A favourite as the window sends it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewFavourite {
    /// The profile name.
    pub profile: String,
    /// The account id.
    pub account_id: String,
    /// The account's name, for menus.
    pub account_name: Option<String>,
    /// The role.
    pub role_name: String,
    /// The profile's region.
    pub region: Option<String>,
    /// A `credential_process` profile.
    #[serde(default)]
    pub credential_process: bool,
}

/// A one-off profile write as the window sends it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteProfile {
    /// The profile name.
    pub profile: String,
    /// The account id.
    pub account_id: String,
    /// The role.
    pub role_name: String,
    /// The profile's region.
    pub region: Option<String>,
}

/// A profile written.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Written {
    /// The profile name.
    pub profile: String,
    /// When its credentials expire.
    pub expires_at: i64,
}

/// An instance as the window sends it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewInstance {
    /// The start URL.
    pub start_url: String,
    /// Its region.
    pub region: String,
    /// A name for menus.
    pub label: Option<String>,
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
