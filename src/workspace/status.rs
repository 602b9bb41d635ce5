//! What is, for both faces to show: each instance's session, each favourite's profile.

use super::words::{self, Clock, Line, ProfileFacts, SessionFacts};
use super::{Margins, ProfileState, Workspace};
use crate::clock::epoch_millis;
use crate::instance::Instance;
use crate::settings::{Favourite, InstanceSettings};
use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionPhase {
    /// Not signed in (and not signed in while this program ran).
    SignedOut,
    /// A sign-in waits for the user.
    SigningIn,
    /// Signed in.
    SignedIn,
    /// The session ended while this program ran; the user must sign in again.
    NeedsSignIn,
}

/// A sign-in waiting for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInCode {
    /// The code to compare (device flow); `None` for the browser (PKCE) flow.
    pub user_code: Option<String>,
    /// Where to approve it.
    pub url: String,
    /// When the code expires.
    pub expires_at: SystemTime,
}

/// A renewal that failed, and when it is tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong, as a sentence (no secret).
    pub message: String,
    /// The next attempt.
    pub retry_at: SystemTime,
}

/// One instance, as known now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceStatus {
    /// The instance and its label.
    pub settings: InstanceSettings,
    /// Its session.
    pub phase: SessionPhase,
    /// When the access token expires, while signed in.
    pub expires_at: Option<SystemTime>,
    /// Whether the session renews itself (a refresh token).
    pub renewable: bool,
    /// The sign-in waiting for the user.
    pub sign_in: Option<SignInCode>,
    /// The last failure renewing the session itself, until it succeeds again.
    pub failure: Option<Failure>,
    /// The margins of its renewer, while one runs.
    pub renewing: Option<Margins>,
    /// The programs of the user waiting for a sign-in to it (untrusted text), while it
    /// is not signed in.
    pub asked_by: Vec<String>,
}

/// One favourite, as known now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FavouriteStatus {
    /// The favourite.
    pub favourite: Favourite,
    /// When the credentials in its profile expire, as last written or read.
    pub expires_at: Option<SystemTime>,
    /// When this program last wrote them (`None`: only read from the file).
    pub written_at: Option<SystemTime>,
    /// The last failure renewing it, until it succeeds again.
    pub failure: Option<Failure>,
    /// A renewal asked for by the user is under way.
    pub renewing: bool,
}

/// A profile this project wrote that is not a favourite's ("Write profile now", or the
/// CLI's `profile write`): not kept fresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOffStatus {
    /// Its name.
    pub profile: String,
    /// When its credentials expire.
    pub expires_at: SystemTime,
    /// When this program wrote them (`None`: only read from the file).
    pub written_at: Option<SystemTime>,
}

/// The whole world, as known now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The default instance.
    pub default: Option<Instance>,
    /// Every known instance (and any other in use, such as a favourite's).
    pub instances: Vec<InstanceStatus>,
    /// Every favourite.
    pub favourites: Vec<FavouriteStatus>,
    /// Every other profile this project wrote that is in the credentials file, by name.
    pub one_off: Vec<OneOffStatus>,
    /// The commands this process serves credentials to (`aws-sso-auth exec`), oldest
    /// first.
    pub exec: Vec<super::ExecStatus>,
}

impl Status {
    /// A favourite's profile in words at `now`, times of day by `clock`: the one wording
    /// of the window, the tray and `aws-sso-auth status`.
    pub fn favourite_line(&self, f: &FavouriteStatus, now: SystemTime, clock: Clock) -> Line {
        let signed_in = self
            .instance(&f.favourite.instance)
            .is_some_and(|s| s.phase == SessionPhase::SignedIn);
        words::profile_line(
            &ProfileFacts {
                credential_process: f.favourite.credential_process,
                renewing: f.renewing,
                expires_at: f.expires_at.map(epoch_millis),
                written_at: f.written_at.map(epoch_millis),
                failure: f
                    .failure
                    .as_ref()
                    .map(|e| (e.message.as_str(), epoch_millis(e.retry_at))),
                signed_in,
            },
            epoch_millis(now),
            clock,
        )
    }

    /// A session in words at `now` (`None`: no access portal is set up).
    pub fn session_line(&self, i: Option<&InstanceStatus>, now: SystemTime, clock: Clock) -> Line {
        let Some(i) = i else {
            return words::session_line(SessionFacts::NoPortal, epoch_millis(now), clock);
        };
        let facts = match i.phase {
            _ if i.sign_in.is_some() => SessionFacts::SigningIn {
                code: i.sign_in.as_ref().and_then(|c| c.user_code.as_deref()),
            },
            SessionPhase::SigningIn => SessionFacts::SigningIn { code: None },
            SessionPhase::SignedIn => SessionFacts::SignedIn {
                ends_at: i.expires_at.filter(|_| !i.renewable).map(epoch_millis),
                failure: i
                    .failure
                    .as_ref()
                    .map(|e| (e.message.as_str(), epoch_millis(e.retry_at))),
                failing_profiles: self
                    .favourites
                    .iter()
                    .filter(|f| f.failure.is_some() && f.favourite.instance == i.settings.instance)
                    .count(),
            },
            SessionPhase::NeedsSignIn => SessionFacts::Ended,
            SessionPhase::SignedOut => SessionFacts::SignedOut,
        };
        words::session_line(facts, epoch_millis(now), clock)
    }

    /// A one-off profile in words at `now`.
    pub fn one_off_line(p: &OneOffStatus, now: SystemTime, clock: Clock) -> Line {
        words::one_off_line(
            epoch_millis(p.expires_at),
            p.written_at.map(epoch_millis),
            epoch_millis(now),
            clock,
        )
    }

    /// The status of `instance`, if known.
    pub fn instance(&self, instance: &Instance) -> Option<&InstanceStatus> {
        self.instances
            .iter()
            .find(|i| &i.settings.instance == instance)
    }

    /// The status of the default instance.
    pub fn default_instance(&self) -> Option<&InstanceStatus> {
        self.instance(self.default.as_ref()?)
    }
}

impl Workspace {
    /// What is known now, from memory (no file, keychain or network): kept current while
    /// the world is kept fresh; [`Workspace::check_sessions`] reads it from the keychain
    /// and the files otherwise.
    pub fn status(&self) -> Status {
        let state = self.lock();
        let settings = &state.settings;
        // Each look-up below is one, not a scan: the whole is linear in what there is.
        let mut remembered: HashMap<&Instance, &InstanceSettings> = HashMap::new();
        for i in &settings.instances {
            remembered.entry(&i.instance).or_insert(i);
        }
        let favourite_names: HashSet<&str> = settings
            .favourites
            .iter()
            .map(|f| f.profile.as_str())
            .collect();
        let instances =
            settings
                .known_instances()
                .into_iter()
                .map(|instance| {
                    let i = remembered.get(&instance).map(|i| (*i).clone()).unwrap_or(
                        InstanceSettings {
                            instance,
                            label: None,
                            browser: None,
                        },
                    );
                    let session = state.sessions.get(&i.instance);
                    InstanceStatus {
                        phase: session.map_or(SessionPhase::SignedOut, |s| s.phase),
                        expires_at: session.and_then(|s| s.info.as_ref().map(|i| i.expires_at)),
                        renewable: session
                            .and_then(|s| s.info.as_ref())
                            .is_some_and(|i| i.renewable),
                        sign_in: session.and_then(|s| s.sign_in.clone()),
                        failure: session
                            .and_then(|s| s.failure.clone())
                            .or_else(|| state.broken.get(&i.instance).cloned()),
                        renewing: session.and_then(|s| s.renewer_margins()),
                        asked_by: super::asks::asked_by(&state, &i.instance),
                        settings: i,
                    }
                })
                .collect();
        let favourites = settings
            .favourites
            .iter()
            .map(|f| {
                let p: ProfileState = state
                    .profiles
                    .get(f.profile.as_str())
                    .cloned()
                    .unwrap_or_default();
                FavouriteStatus {
                    favourite: f.clone(),
                    expires_at: p.expires_at,
                    written_at: p.written_at,
                    failure: p.failure,
                    renewing: p.renewing,
                }
            })
            .collect();
        let mut one_off: Vec<OneOffStatus> = state
            .profiles
            .iter()
            .filter(|(name, _)| !favourite_names.contains(name.as_str()))
            .filter_map(|(name, p)| {
                Some(OneOffStatus {
                    profile: name.to_string(),
                    expires_at: p.expires_at?,
                    written_at: p.written_at,
                })
            })
            .collect();
        one_off.sort_by(|a, b| a.profile.cmp(&b.profile));
        Status {
            default: settings.default_instance().map(|i| i.instance.clone()),
            instances,
            favourites,
            one_off,
            exec: self.exec_sessions(),
        }
    }
}
