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
mod asks;
mod console;
mod ecr;
mod eks;
mod favourites;
mod fresh;
mod kubeconfig;
mod populate;
mod serving;
mod sessions;
mod settings;
mod sign_in;
mod status;
pub mod words;

pub use accounts::{AccountRef, Accounts};
pub use console::ConsoleOptions;
pub use ecr::{DockerLogin, EcrLogin, HelperInstalled};
pub use favourites::{
    FavouriteCredentials, FavouriteEdit, NewFavourite, ProfileRequest, RoleTarget, WrittenProfile,
    WrittenVerb,
};
pub use populate::{AppliedRules, GenerateMode};
pub use serving::{ExecRequest, ExecSession, ExecStatus, Serving, SERVE_MARGIN};
pub use sign_in::SignedOut;
pub use status::{
    Failure, FavouriteStatus, InstanceStatus, OneOffStatus, SessionPhase, SignInCode, Status,
};

use crate::awsfiles::{AwsFiles, ProfileName};
use crate::clock::Clock;
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
    /// A sign-in a caller is waiting on asks the running app first (the command line's
    /// choice; the app answers such requests, see [`Workspace::answer_sign_in_requests`]).
    pub ask_app: Option<crate::ask::AskApp>,
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
            ask_app: None,
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
        /// What became of the browser.
        browser: BrowserOutcome,
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
    /// Another process of the user waits for a sign-in to `instance`, asked through the
    /// app ([`Workspace::answer_sign_in_requests`]).
    SignInAsked {
        /// The instance.
        instance: Instance,
        /// The program that asks, as the person would know it (untrusted text).
        program: String,
        /// The first caller now waiting (the others join it).
        first: bool,
        /// The person has not been told since the session needed a sign-in: tell them.
        notify: bool,
    },
    /// A session that was signed in ended (revoked, or its refresh token died): the user
    /// must sign in again. Once per ending; a face that tells the person asks
    /// [`Workspace::tell_of_session_end`] first.
    SessionEnded {
        /// The instance.
        instance: Instance,
    },
    /// A favourite's profile was written.
    ProfileWritten {
        /// The profile.
        profile: ProfileName,
        /// When its credentials expire.
        expires_at: SystemTime,
    },
    /// Renewing failed; it is tried again at `retry_at`.
    RenewalFailed {
        /// The instance.
        instance: Instance,
        /// The profile, or `None` for the session itself.
        profile: Option<ProfileName>,
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
    /// The roles of these accounts were just read (a refresh under way): the list known
    /// now is the last one with these accounts replaced.
    AccountsRolesRead {
        /// The instance.
        instance: Instance,
        /// The accounts, each with the user's roles.
        accounts: Vec<crate::portal::AccountRoles>,
    },
    /// The account list was refreshed (or the refresh failed): read
    /// [`Workspace::accounts`] again.
    AccountsUpdated {
        /// The instance.
        instance: Instance,
    },
    /// After a complete read of the account list, the config file was changed to hold
    /// the generated AWS CLI profiles of `instance`, as the person asked.
    ProfilesGenerated {
        /// The instance.
        instance: Instance,
        /// Profiles added.
        created: usize,
        /// Profiles changed.
        updated: usize,
        /// Profiles removed.
        removed: usize,
    },
    /// Generating the AWS CLI profiles again after a refresh failed.
    ProfilesNotGenerated {
        /// The instance.
        instance: Instance,
        /// Why, as a sentence (no secret).
        message: String,
    },
}

/// What became of the browser when a sign-in code came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserOutcome {
    /// It was opened on the address.
    Opened,
    /// The options say not to open one.
    NotAsked,
    /// It could not be started: why (the person can open the address).
    Failed(String),
    /// The address the service sent is not one to open: why.
    Refused(String),
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
    overrides: Vec<crate::sdk::Override>,
    events: broadcast::Sender<Event>,
    state: Mutex<State>,
    /// Serialises this process's changes of the settings and what follows them.
    changing: tokio::sync::Mutex<()>,
    background: Mutex<Option<tokio::task::AbortHandle>>,
    /// The endpoint that serves commands' credentials, once one asked.
    serving: tokio::sync::OnceCell<crate::serve::Endpoint<serving::ExecSession>>,
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
    /// Every profile this program wrote or read (favourites' and one-off), by name: the
    /// one place a profile's live state is held.
    profiles: HashMap<ProfileName, ProfileState>,
    accounts: HashMap<Instance, accounts::AccountsState>,
    keeping_fresh: bool,
    skipped_seen: HashSet<String>,
    /// Callers waiting for a sign-in, by instance.
    asks: HashMap<Instance, asks::Asks>,
}

/// What the workspace knows of a favourite's profile.
#[derive(Debug, Clone, Default)]
struct ProfileState {
    expires_at: Option<SystemTime>,
    /// When this program last wrote it.
    written_at: Option<SystemTime>,
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
        // Checked before anything can be sent to them.
        let overrides = crate::sdk::overrides(options.env.lookup())?;
        for o in &overrides {
            tracing::info!(variable = o.variable, url = %o.url, "AWS endpoint overridden by the environment");
        }
        let settings_file = paths.settings_file();
        let (settings, stamp) = blocking("read of the settings", move || {
            let stamp = Stamp::of(&settings_file);
            let settings = Settings::load(&settings_file)?;
            Ok((settings, stamp))
        })
        .await?;
        Ok(Self {
            shared: Arc::new(Shared {
                options,
                paths,
                files,
                overrides,
                events: broadcast::channel(1024).0,
                state: Mutex::new(State {
                    settings: Arc::new(settings),
                    stamp,
                    ..State::default()
                }),
                changing: tokio::sync::Mutex::new(()),
                background: Mutex::new(None),
                serving: tokio::sync::OnceCell::new(),
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

    /// The margins this workspace renews with when they are fixed by its options (the demo,
    /// tests) rather than taken from the preferences.
    pub fn fixed_margins(&self) -> Option<Margins> {
        self.shared.options.margins
    }

    /// The AWS endpoints the environment overrides (each checked when opened).
    pub fn endpoint_overrides(&self) -> &[crate::sdk::Override] {
        &self.shared.overrides
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
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
