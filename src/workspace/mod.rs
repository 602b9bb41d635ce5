//! One user's world, under both faces (the command line and the tray app): the settings,
//! the AWS files, the caches, and one session (provider and, while the world is kept
//! fresh, a renewer) per instance in use. Every operation a person can start from either
//! face is written once, here: sign in, cancel and sign out (with the clean-up the
//! preferences ask for); add, re-point and remove a favourite; write a profile now; renew
//! now; the console; change a preference (restarting exactly what it affects). Changes to
//! `settings.json` made by another process are noticed, and so is a resume from sleep.
//!
//! What happens comes out of one stream of [`Event`]s ([`Workspace::subscribe`]); what
//! is, out of [`Workspace::status`]. Blocking work (files, locks, the keychain) runs on
//! blocking threads, never on the async runtime's workers, and no lock of this module is
//! held across it: a face stays responsive while another process holds a file's lock.
//!
//! ```no_run
//! # async fn demo() -> aws_sso_device_auth_provider::Result<()> {
//! use aws_sso_device_auth_provider::env::Env;
//! use aws_sso_device_auth_provider::workspace::{Options, Workspace};
//! let world = Workspace::open(Options::new(Env::process())).await?;
//! let instance = world.default_instance()?;
//! world.sign_in(&instance, None).await?;
//! world.keep_fresh().await;
//! # Ok(()) }
//! ```

mod accounts;
mod favourites;
mod sessions;
mod sign_in;
mod status;

pub use accounts::Accounts;
pub use favourites::{
    ConsoleTarget, FavouriteCredentials, FavouriteEdit, NewFavourite, ProfileRequest,
    WrittenProfile, WrittenVerb,
};
pub use sign_in::SignedOut;
pub use status::{Failure, FavouriteStatus, InstanceStatus, SessionPhase, SignInCode, Status};

use crate::awsfiles::AwsFiles;
use crate::clock::{Clock, ResumeWatch};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::oidc::poll::PollPolicy;
use crate::paths::Paths;
use crate::renewer::{RenewerConfig, Timing};
use crate::settings::{Preferences, Settings};
use crate::store::{KeychainStore, SecretStore};
use sessions::Session;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};
use tokio::sync::broadcast;

/// How a workspace is set up. [`Options::new`] gives what a real user's program needs;
/// demo mode and tests change the parts they must.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where paths and endpoints come from.
    pub env: Env,
    /// Where sessions are kept (default: the OS keychain).
    pub store: Arc<dyn SecretStore>,
    /// The clock and the jitter every deadline uses.
    pub timing: Timing,
    /// The renewers' timing; their margins come from the preferences unless `margins`.
    pub renewer: RenewerConfig,
    /// Margins to use instead of the preferences' minutes (demo and tests with lifetimes
    /// of seconds).
    pub margins: Option<Margins>,
    /// Device-flow polling rules.
    pub poll: PollPolicy,
    /// Open the browser when a sign-in waits for the user.
    pub open_browser: bool,
    /// The `aws-sso-auth` program that `credential_process` profiles run, if installed.
    pub cli: Option<PathBuf>,
    /// How often `settings.json` is checked for changes by another process, and the two
    /// clocks compared for a resume.
    pub watch_every: Duration,
}

impl Options {
    /// A real user's: the OS keychain, the system clock, margins from the preferences.
    pub fn new(env: Env) -> Self {
        Self {
            env,
            store: Arc::new(KeychainStore::new()),
            timing: Timing::default(),
            renewer: RenewerConfig::default(),
            margins: None,
            poll: PollPolicy::default(),
            open_browser: true,
            cli: None,
            watch_every: Duration::from_secs(2),
        }
    }
}

/// How long before expiry the session and the profiles are renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Margins {
    /// Before the access token expires.
    pub token: Duration,
    /// Before a profile's credentials expire.
    pub credentials: Duration,
}

impl Margins {
    /// As the preferences say.
    pub fn of(preferences: &Preferences) -> Self {
        Self {
            token: preferences.token_refresh_margin(),
            credentials: preferences.credentials_refresh_margin(),
        }
    }
}

/// What happened. Faces show these; [`Event::Changed`] means "read
/// [`Workspace::status`] again".
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// Something the faces show changed.
    Changed,
    /// A sign-in waits for the user.
    SignInCode {
        /// The instance.
        instance: Instance,
        /// What to show.
        code: SignInCode,
        /// Why the browser could not be opened, when it should have been.
        browser_error: Option<String>,
    },
    /// A session's phase changed (signed in, signed out, needs a sign-in, signing in).
    Session {
        /// The instance.
        instance: Instance,
        /// Where it stands now.
        phase: SessionPhase,
    },
    /// A sign-in asked for through [`Workspace::sign_in`] completed.
    SignedIn {
        /// The instance.
        instance: Instance,
    },
    /// A session that was signed in ended (revoked, or its refresh token died): the user
    /// must sign in again. Once per ending.
    SessionEnded {
        /// The instance.
        instance: Instance,
    },
    /// A favourite's profile was written.
    ProfileWritten {
        /// The profile.
        profile: String,
        /// When its credentials expire.
        expires_at: SystemTime,
    },
    /// Renewing failed; it is tried again at `retry_at`.
    RenewalFailed {
        /// The instance.
        instance: Instance,
        /// The profile, or `None` for the session itself.
        profile: Option<String>,
        /// What went wrong, as a sentence (no secret).
        message: String,
        /// When the next attempt is.
        retry_at: SystemTime,
        /// The first failure of a run of failures (not a retry's).
        first: bool,
    },
    /// A renewer (re)started for this instance, with these margins.
    Renewing {
        /// The instance.
        instance: Instance,
        /// Its margins.
        margins: Margins,
    },
    /// The instance is no longer in use; its renewer stopped.
    Stopped {
        /// The instance.
        instance: Instance,
    },
    /// `settings.json` was changed by another process and read again.
    SettingsReloaded,
    /// An entry of `settings.json` is not valid and is skipped (once per entry).
    SettingsEntrySkipped(Arc<Error>),
    /// The machine woke from sleep (or the clock was set forward) after this long.
    Resumed {
        /// How long the wall clock ran ahead of the monotonic one.
        slept: Duration,
    },
    /// Discovery progress for the account browser.
    AccountsProgress {
        /// The instance.
        instance: Instance,
        /// Accounts whose roles are read.
        done: usize,
        /// Accounts in all; `None` while still listing them.
        total: Option<usize>,
    },
    /// The account list was refreshed (or the refresh failed): read
    /// [`Workspace::accounts`] again.
    AccountsUpdated {
        /// The instance.
        instance: Instance,
    },
}

/// One user's world. Cheap to clone; every clone is the same world.
#[derive(Clone)]
pub struct Workspace {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("settings", &self.shared.paths.settings_file())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Shared {
    options: Options,
    paths: Paths,
    files: AwsFiles,
    events: broadcast::Sender<Event>,
    state: Mutex<State>,
    /// Serialises this process's changes of the settings and what follows them.
    changing: tokio::sync::Mutex<()>,
    background: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(task) = self
            .background
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            task.abort();
        }
    }
}

#[derive(Default)]
struct State {
    settings: Arc<Settings>,
    stamp: Option<Stamp>,
    sessions: HashMap<Instance, Session>,
    /// Instances in use whose session could not be made, and why (tried again).
    broken: HashMap<Instance, Failure>,
    profiles: HashMap<String, ProfileState>,
    accounts: HashMap<Instance, accounts::AccountsState>,
    keeping_fresh: bool,
    start_at_login: bool,
    skipped_seen: HashSet<String>,
}

/// What the workspace knows of a favourite's profile.
#[derive(Debug, Clone, Default)]
struct ProfileState {
    expires_at: Option<SystemTime>,
    failure: Option<Failure>,
    renewing: bool,
}

/// Enough of a file's metadata to notice that another process replaced it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Self> {
        let m = std::fs::metadata(path).ok()?;
        Some(Self {
            modified: m.modified().ok(),
            len: m.len(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(&m),
        })
    }
}

/// How long an instance whose session could not be made waits before another try.
const BROKEN_RETRY: Duration = Duration::from_secs(30);

/// Runs blocking work (files, locks) on a blocking thread.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or(Err(Error::Interrupted { what }))
}

impl Workspace {
    /// Reads the settings (nothing else: no keychain, no network). Needs a Tokio runtime.
    pub async fn open(options: Options) -> Result<Self> {
        let paths = Paths::from_env(&options.env)?;
        let files = AwsFiles::from_env(options.env.lookup())?;
        let settings_file = paths.settings_file();
        let entry = paths.autostart_entry().to_owned();
        let (settings, stamp, start_at_login) = blocking("read of the settings", move || {
            let stamp = Stamp::of(&settings_file);
            let settings = Settings::load(&settings_file)?;
            Ok((
                settings,
                stamp,
                crate::autostart::Autostart::new(entry).is_enabled(),
            ))
        })
        .await?;
        Ok(Self {
            shared: Arc::new(Shared {
                options,
                paths,
                files,
                events: broadcast::channel(1024).0,
                state: Mutex::new(State {
                    settings: Arc::new(settings),
                    stamp,
                    start_at_login,
                    ..State::default()
                }),
                changing: tokio::sync::Mutex::new(()),
                background: Mutex::new(None),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    fn weak(&self) -> Weak<Shared> {
        Arc::downgrade(&self.shared)
    }

    fn from_weak(weak: &Weak<Shared>) -> Option<Self> {
        weak.upgrade().map(|shared| Self { shared })
    }

    /// The events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    fn emit(&self, event: Event) {
        // Nobody listening is fine.
        let _ = self.shared.events.send(event);
    }

    /// The time, by the workspace's clock.
    pub fn now(&self) -> SystemTime {
        self.clock().now()
    }

    fn clock(&self) -> &Arc<dyn Clock> {
        &self.shared.options.timing.clock
    }

    /// Where the product keeps its own files.
    pub fn paths(&self) -> &Paths {
        &self.shared.paths
    }

    /// The shared credentials file profiles are written to.
    pub fn credentials_file(&self) -> &Path {
        self.shared.files.credentials_file()
    }

    /// The shared config file.
    pub fn config_file(&self) -> &Path {
        self.shared.files.config_file()
    }

    /// The settings as last read or written.
    pub fn settings(&self) -> Arc<Settings> {
        self.lock().settings.clone()
    }

    /// The entries of `settings.json` that are not valid and are skipped.
    pub fn skipped_settings(&self) -> Vec<Error> {
        self.settings().skipped(&self.shared.paths.settings_file())
    }

    /// The instance named by `start_url` and `region` (both or neither), else the default.
    pub fn instance(&self, start_url: Option<&str>, region: Option<&str>) -> Result<Instance> {
        match (start_url, region) {
            (Some(url), Some(region)) => Instance::new(url, region),
            _ => self.default_instance(),
        }
    }

    /// The default instance; an error says why there is none.
    pub fn default_instance(&self) -> Result<Instance> {
        let settings = self.settings();
        match settings.default_instance() {
            Some(i) => Ok(i.instance.clone()),
            None => Err(settings
                .broken_default(&self.shared.paths.settings_file())
                .unwrap_or(Error::NoInstance)),
        }
    }

    // ---- settings ----

    /// Changes the settings with `change`, under the file's lock and from what it holds
    /// now; then restarts what the change affects. Nothing changes if `change` fails; a
    /// session that cannot follow is the inner error (the change is saved).
    async fn change_settings<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Settings) -> Result<T> + Send + 'static,
    ) -> Result<(T, Result<()>)> {
        let _changing = self.shared.changing.lock().await;
        let path = self.shared.paths.settings_file();
        let (settings, out, stamp) = blocking("change of the settings", move || {
            // Stamped under the lock: a change by another process after ours is seen.
            Settings::update_and(&path, change, Stamp::of)
        })
        .await?;
        let followed = self.adopt(settings, stamp).await;
        Ok((out, followed))
    }

    /// [`Self::change_settings`], when a session that cannot follow is not this change's
    /// failure (it is logged, shown, and tried again).
    async fn update_settings<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Settings) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        Ok(self.change_settings(change).await?.0)
    }

    /// Follows the settings as they are (after a sign-in, or to try a broken session
    /// again).
    async fn follow_settings(&self) {
        let _changing = self.shared.changing.lock().await;
        // A failure is remembered per instance by `reconcile`.
        let _ = self.reconcile().await;
    }

    /// Takes `settings` as the current ones and makes everything follow them.
    async fn adopt(&self, settings: Settings, stamp: Option<Stamp>) -> Result<()> {
        {
            let mut state = self.lock();
            state.settings = Arc::new(settings);
            state.stamp = stamp;
        }
        self.announce_skipped();
        let followed = self.reconcile().await;
        self.emit(Event::Changed);
        followed
    }

    /// Says (once each) which entries of the settings are skipped.
    fn announce_skipped(&self) {
        let fresh: Vec<Arc<Error>> = {
            let mut state = self.lock();
            let skipped = state.settings.skipped(&self.shared.paths.settings_file());
            skipped
                .into_iter()
                .filter(|e| state.skipped_seen.insert(e.to_string()))
                .map(Arc::new)
                .collect()
        };
        for e in fresh {
            tracing::warn!(error = %e, "settings entry skipped");
            self.emit(Event::SettingsEntrySkipped(e));
        }
    }

    /// Reads `settings.json` again if another process changed it.
    async fn reload_if_changed(&self) {
        let path = self.shared.paths.settings_file();
        let known = self.lock().stamp.clone();
        let probe = path.clone();
        let Ok(stamp) = blocking("look at the settings", move || Ok(Stamp::of(&probe))).await
        else {
            return;
        };
        if stamp == known {
            return;
        }
        let _changing = self.shared.changing.lock().await;
        // Our own change may have got there first.
        if self.lock().stamp == stamp {
            return;
        }
        let read = blocking("read of the settings", move || {
            let stamp = Stamp::of(&path);
            Ok((Settings::load(&path), stamp))
        })
        .await;
        match read {
            Ok((Ok(settings), stamp)) => {
                tracing::info!("settings changed by another process; read again");
                // Failures to follow are remembered per instance by `reconcile`.
                let _ = self.adopt(settings, stamp).await;
                self.emit(Event::SettingsReloaded);
            }
            Ok((Err(e), stamp)) => {
                // Half-written by a tool that does not write atomically, or broken by
                // hand: keep what we have, and look again at the next change.
                tracing::warn!(error = %e, "settings changed but cannot be read; keeping the last good ones");
                self.lock().stamp = stamp;
            }
            Err(e) => tracing::warn!(error = %e, "could not read the settings"),
        }
    }

    /// Replaces the preferences (checked first); what they affect restarts.
    pub async fn set_preferences(&self, preferences: Preferences) -> Result<()> {
        preferences.validate()?;
        let ((), followed) = self
            .change_settings(move |s| {
                s.preferences = preferences;
                Ok(())
            })
            .await?;
        followed
    }

    /// Sets one preference by its name in the file (`tokenRefreshMinutes`, …) from text.
    pub async fn set_preference(&self, name: &str, value: &str) -> Result<()> {
        // Checked before the file is touched.
        self.settings().preferences.clone().set(name, value)?;
        let (name, value) = (name.to_owned(), value.to_owned());
        let ((), followed) = self
            .change_settings(move |s| s.preferences.set(&name, &value))
            .await?;
        followed
    }

    /// Adds an instance (or relabels it) and makes it the default.
    pub async fn add_instance(&self, instance: Instance, label: Option<String>) -> Result<()> {
        self.update_settings(move |s| {
            s.add_instance(&instance, label);
            s.remember_default(&instance);
            Ok(())
        })
        .await
    }

    /// Forgets an instance (its favourites stay until removed).
    pub async fn remove_instance(&self, instance: &Instance) -> Result<()> {
        let instance = instance.clone();
        self.update_settings(move |s| s.remove_instance(&instance))
            .await
    }

    /// Makes a known instance the default.
    pub async fn make_default(&self, instance: &Instance) -> Result<()> {
        let instance = instance.clone();
        self.update_settings(move |s| s.make_default(&instance))
            .await
    }

    /// Adds the instances and favourites of `other`, takes its preferences; nothing
    /// changes if one of its favourites would take a profile name used for another role.
    pub async fn import(&self, other: Settings) -> Result<()> {
        self.update_settings(move |s| s.import(other)).await
    }

    /// Remembers the IAM Identity Center instances the AWS CLI is set up for in the
    /// config file; returns each with whether it was new, or why it was skipped.
    pub async fn import_aws_config(&self) -> Result<Vec<(String, Result<(Instance, bool)>)>> {
        let files = self.shared.files.clone();
        let found = blocking("read of the config file", move || {
            files.configured_instances()
        })
        .await?;
        self.update_settings(move |s| {
            Ok(found
                .into_iter()
                .map(|c| {
                    let label = c.source.split_once(' ').map(|(_, n)| n.to_owned());
                    let added = Instance::new(&c.start_url, &c.region).map(|i| {
                        let new = s.add_instance(&i, label);
                        (i, new)
                    });
                    (c.source, added)
                })
                .collect())
        })
        .await
    }

    /// Whether the app starts at login.
    pub fn start_at_login(&self) -> bool {
        self.lock().start_at_login
    }

    /// Starts `exe` at login (hidden), or stops doing so.
    pub async fn set_start_at_login(&self, enabled: bool, exe: PathBuf) -> Result<()> {
        let entry = self.shared.paths.autostart_entry().to_owned();
        blocking("change of the start-at-login entry", move || {
            crate::autostart::Autostart::new(entry).set(enabled, &exe)
        })
        .await?;
        self.lock().start_at_login = enabled;
        self.emit(Event::Changed);
        Ok(())
    }

    // ---- keeping fresh ----

    /// Starts keeping the world fresh until the last clone is dropped: a renewer per
    /// instance in use (the default one and every one with a favourite), changes to
    /// `settings.json` by other processes picked up, and a resume from sleep noticed (every
    /// renewer then renews what came due at once).
    pub async fn keep_fresh(&self) {
        {
            let mut state = self.lock();
            if state.keeping_fresh {
                return;
            }
            state.keeping_fresh = true;
        }
        if let Err(e) = self.read_profiles().await {
            tracing::warn!(error = %e, "cannot read the favourites' profiles");
        }
        self.announce_skipped();
        self.follow_settings().await;
        let every = self.shared.options.watch_every;
        // From now: a sleep right after this call is a resume too.
        let resume = ResumeWatch::new(self.now(), every + Duration::from_secs(3));
        let task = tokio::spawn(watch(self.weak(), every, resume));
        *self
            .shared
            .background
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(task.abort_handle());
        self.emit(Event::Changed);
    }

    /// Renews what is due in every session now (after a resume).
    pub fn wake(&self) {
        for s in self.lock().sessions.values() {
            s.wake();
        }
    }

    /// What the favourites' profiles hold now, from the credentials file.
    async fn read_profiles(&self) -> Result<()> {
        let files = self.shared.files.clone();
        let profiles = blocking("read of the credentials file", move || {
            files.managed_profiles()
        })
        .await?;
        let mut state = self.lock();
        let names: Vec<String> = state
            .settings
            .favourites
            .iter()
            .map(|f| f.profile.to_string())
            .collect();
        for name in names {
            let expires_at = profiles
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.expires_at);
            state.profiles.entry(name).or_default().expires_at = expires_at;
        }
        Ok(())
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The background of a workspace kept fresh: settings changed elsewhere, and resumes.
async fn watch(weak: Weak<Shared>, every: Duration, mut resume: ResumeWatch) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(world) = Workspace::from_weak(&weak) else {
            return;
        };
        if let Some(slept) = resume.check(world.now(), std::time::Instant::now()) {
            tracing::info!(
                slept_secs = slept.as_secs(),
                "resumed; renewing what is due"
            );
            world.wake();
            world.emit(Event::Resumed { slept });
        }
        world.reload_if_changed().await;
        let now = world.now();
        let retry = world.lock().broken.values().any(|f| f.retry_at <= now);
        if retry {
            world.follow_settings().await;
            world.emit(Event::Changed);
        }
    }
}
