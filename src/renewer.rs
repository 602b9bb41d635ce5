//! The background task that keeps one instance's session and its favourites' profiles
//! fresh, for the tray app and for `aws-sso-auth daemon`.
//!
//! - The access token is refreshed at its refresh point (the provider's margin before
//!   expiry), under the cross-process session lock.
//! - Each favourite's profile is renewed `credentials_margin` (minus a random jitter up to
//!   `jitter`) before its credentials expire. What is due is fetched as many at once as
//!   the portal's pacer allows; what came in is written together, at least every second
//!   while a round runs long.
//! - Between deadlines the task sleeps, at most `check_every` at a time: the sleep runs on
//!   the monotonic clock, which stands still while a laptop is suspended, so deadlines are
//!   compared with the wall clock after every wake and a resume is noticed within
//!   `check_every`. [`Renewer::wake`] renews at once (the workspace calls it on resume).
//! - It is steered through one command channel: wake, renew one profile now, and the
//!   favourites (of its own instance only) changed.
//! - Throttling and network faults are retried with exponential back-off and jitter, for
//!   as long as it takes; every failure is reported, so no profile is silently stale.
//! - When the session is over (a dead refresh token), [`SessionState::NeedsSignIn`] is
//!   sent once and the task waits until a session appears (a sign-in by the app or the
//!   CLI; [`Renewer::wake`] looks at once); it never opens a browser by itself.
//! - Dropping the [`Renewer`] stops the task.

use crate::awsfiles::{AwsFiles, Changes, ProfileName};
use crate::clock::{later, Clock, Jitter};
use crate::error::Error;
use crate::oidc::SignInPrompt;
use crate::provider::{AwsSsoDeviceAuthProvider, SessionInfo};
use crate::settings::Favourite;
use crate::source::Fetch;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, mpsc};

/// Timing of the renewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewerConfig {
    /// Renew a profile this long before its credentials expire.
    pub credentials_margin: Duration,
    /// Up to this much earlier still (by the injected [`Jitter`]), so many profiles do
    /// not renew at once.
    pub jitter: Duration,
    /// The longest single sleep; bounds how late a wall-clock jump is noticed.
    pub check_every: Duration,
    /// The first retry delay after a failure; doubles per failure.
    pub backoff_min: Duration,
    /// The longest retry delay.
    pub backoff_max: Duration,
}

impl Default for RenewerConfig {
    fn default() -> Self {
        Self {
            credentials_margin: Duration::from_secs(10 * 60),
            jitter: Duration::from_secs(60),
            check_every: Duration::from_secs(10),
            backoff_min: Duration::from_secs(2),
            backoff_max: Duration::from_secs(5 * 60),
        }
    }
}

/// The session as the shell shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// Signed in; the access token is valid until then (and renews itself if it can).
    SignedIn(SessionInfo),
    /// The session is over; a sign-in by the user is needed.
    NeedsSignIn,
}

/// What the renewer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The session changed state.
    Session(SessionState),
    /// A sign-in waits for the user (sent by [`Events::prompt`], given to the provider).
    SignInCode {
        /// The code to compare (device flow), if any.
        user_code: Option<String>,
        /// Where to approve it.
        url: String,
        /// When the code or the wait expires.
        expires_at: SystemTime,
    },
    /// A favourite's profile was written.
    ProfileWritten {
        /// The profile name.
        profile: ProfileName,
        /// When its credentials expire.
        expires_at: SystemTime,
    },
    /// Renewing failed; it is tried again at `retry_at`.
    RenewalFailed {
        /// The profile, or `None` for the session itself.
        profile: Option<ProfileName>,
        /// What went wrong, as a sentence (no secret).
        message: String,
        /// When the next attempt is.
        retry_at: SystemTime,
    },
}

/// Where the renewer's events go. Made before the provider, so that its sign-in prompt
/// can be an event too:
///
/// ```no_run
/// # fn demo() -> aws_sso_device_auth_provider::Result<()> {
/// use aws_sso_device_auth_provider::renewer::Events;
/// let events = Events::new();
/// let sso = aws_sso_device_auth_provider::AwsSsoDeviceAuthProvider::builder()
///     .start_url("https://my-org.awsapps.com/start")
///     .region("eu-west-1")
///     .on_prompt(events.prompt())
///     .build()?;
/// # let _ = sso; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Events(broadcast::Sender<Event>);

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    /// A channel keeping the last 256 events for slow receivers.
    pub fn new() -> Self {
        Self(broadcast::channel(256).0)
    }

    /// The events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.0.subscribe()
    }

    /// A sign-in prompt for the provider's builder that sends [`Event::SignInCode`].
    pub fn prompt(&self) -> impl Fn(&SignInPrompt) + Send + Sync + 'static {
        let tx = self.0.clone();
        move |p: &SignInPrompt| {
            let (user_code, expires_at) = match p {
                SignInPrompt::DeviceCode {
                    user_code,
                    expires_at,
                    ..
                } => (Some(user_code.clone()), *expires_at),
                SignInPrompt::Browser { expires_at, .. } => (None, *expires_at),
            };
            let _ = tx.send(Event::SignInCode {
                user_code,
                url: p.browser_url().to_owned(),
                expires_at,
            });
        }
    }

    fn send(&self, event: Event) {
        // Nobody listening is fine.
        let _ = self.0.send(event);
    }
}

/// What the renewer can be told.
#[derive(Debug)]
enum Command {
    /// Renew what is due now and look at the session again.
    Wake,
    /// Renew this profile now, whether or not it is due.
    RenewNow(ProfileName),
    /// The instance's favourites are now these.
    Favourites(Vec<Favourite>),
    /// The user signed out: what a round under way fetched is not written.
    SignedOut,
}

/// The running renewer; dropping it stops the task.
pub struct Renewer {
    task: tokio::task::JoinHandle<()>,
    commands: mpsc::UnboundedSender<Command>,
    instance: crate::Instance,
}

impl std::fmt::Debug for Renewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renewer").finish_non_exhaustive()
    }
}

impl Drop for Renewer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a renewer works with, besides its timing: the time, and the randomness that
/// spreads renewals and retries, both injected.
#[derive(Debug, Clone)]
pub struct Timing {
    /// The wall clock every deadline is read from.
    pub clock: Arc<dyn Clock>,
    /// Spreads renewals (up to [`RenewerConfig::jitter`]) and retries (±20%).
    pub jitter: Arc<dyn Jitter>,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            clock: Arc::new(crate::clock::SystemClock),
            jitter: Arc::new(crate::clock::RandomJitter),
        }
    }
}

impl Renewer {
    /// Starts renewing the session of `provider` and the profiles of `favourites` (which
    /// must be of the provider's instance) in `files`. Needs a Tokio runtime.
    pub fn start(
        provider: Arc<AwsSsoDeviceAuthProvider>,
        files: AwsFiles,
        favourites: Vec<Favourite>,
        config: RenewerConfig,
        timing: Timing,
        events: Events,
    ) -> Self {
        let instance = provider.instance().clone();
        debug_assert!(favourites.iter().all(|f| f.instance == instance));
        let (commands, rx) = mpsc::unbounded_channel();
        let task = Task {
            provider,
            files,
            config,
            clock: timing.clock,
            jitter: timing.jitter,
            events,
            commands: rx,
            favourites,
            forced: Vec::new(),
            woken: false,
            signed_out: false,
            reseed: false,
            due: HashMap::new(),
            known: HashMap::new(),
            failures: HashMap::new(),
            rescan: false,
            retry_soonest: None,
            needs_sign_in: false,
            session: None,
            next_session_check: SystemTime::UNIX_EPOCH,
        };
        Self {
            task: tokio::spawn(task.run()),
            commands,
            instance,
        }
    }

    /// The instance it renews.
    pub fn instance(&self) -> &crate::Instance {
        &self.instance
    }

    fn send(&self, command: Command) {
        // A renewer whose task has ended has nothing left to do.
        let _ = self.commands.send(command);
    }

    /// Renews what is due now, and checks the session again (after a resume, a sign-in
    /// elsewhere, or a "renew now").
    pub fn wake(&self) {
        self.send(Command::Wake);
    }

    /// Renews the profile of favourite `profile` now, whether or not it is due.
    pub fn renew_now(&self, profile: &ProfileName) {
        self.send(Command::RenewNow(profile.clone()));
    }

    /// Replaces the favourites (of this renewer's instance); new ones are written at once.
    pub fn set_favourites(&self, favourites: Vec<Favourite>) {
        debug_assert!(favourites.iter().all(|f| f.instance == self.instance));
        self.send(Command::Favourites(favourites));
    }

    /// The user signed out: nothing more is written until a session appears again (a
    /// round under way drops what it fetched).
    pub fn signed_out(&self) {
        self.send(Command::SignedOut);
    }
}

struct Task {
    provider: Arc<AwsSsoDeviceAuthProvider>,
    files: AwsFiles,
    config: RenewerConfig,
    clock: Arc<dyn Clock>,
    jitter: Arc<dyn Jitter>,
    events: Events,
    commands: mpsc::UnboundedReceiver<Command>,
    favourites: Vec<Favourite>,
    /// Profiles asked to renew now ([`Renewer::renew_now`]).
    forced: Vec<ProfileName>,
    /// A command asked for a round at once.
    woken: bool,
    /// Signed out since the round began: drop what it fetched.
    signed_out: bool,
    /// Read the profiles' expiries from the files again once signed in (after a sign-out,
    /// which may have removed them).
    reseed: bool,
    /// When each profile is next due (absent: now).
    due: HashMap<ProfileName, SystemTime>,
    /// The favourites as last seen, to notice one that changed its target.
    known: HashMap<ProfileName, Favourite>,
    /// Consecutive failures per profile (`None` for the session).
    failures: HashMap<Option<ProfileName>, u32>,
    /// What may have come due since [`Self::start_due`] last looked, besides the time
    /// passing: a profile asked for now, the favourites changed, or the earliest retry
    /// set since. A round looks at every favourite again only then, so that a round is
    /// linear in the favourites, not in their square.
    rescan: bool,
    retry_soonest: Option<SystemTime>,
    needs_sign_in: bool,
    session: Option<SessionInfo>,
    next_session_check: SystemTime,
}

/// `favourites` by profile name (a list of one, but for a name given twice by hand): a
/// look-up instead of a scan of them all.
fn by_name<'a>(
    favourites: impl IntoIterator<Item = &'a Favourite>,
) -> HashMap<&'a ProfileName, Vec<&'a Favourite>> {
    let mut out: HashMap<&ProfileName, Vec<&Favourite>> = HashMap::new();
    for f in favourites {
        out.entry(&f.profile).or_default().push(f);
    }
    out
}

/// How long a round takes in profiles that come due while it runs; later ones wait for
/// the next round (which first looks at the session again).
const ROUND_TAKES_IN_FOR: Duration = Duration::from_secs(60);

/// The longest a round keeps renewed credentials before writing them.
const WRITE_AT_LEAST_EVERY: Duration = Duration::from_secs(1);

/// How often a signed-out renewer looks for a session that appeared elsewhere.
const SIGNED_OUT_RECHECK: Duration = Duration::from_secs(30);

impl Task {
    async fn run(mut self) {
        self.seed_from_files().await;
        self.woken = true;
        loop {
            let woken = std::mem::take(&mut self.woken);
            let next = self.round(woken).await;
            if self.woken {
                continue;
            }
            let now = self.clock.now();
            let sleep = next
                .map(|t| t.duration_since(now).unwrap_or(Duration::ZERO))
                .unwrap_or(self.config.check_every)
                .min(self.config.check_every);
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                command = self.commands.recv() => match command {
                    Some(command) => self.obey(command).await,
                    // The Renewer is gone.
                    None => return,
                },
            }
        }
    }

    async fn obey(&mut self, command: Command) {
        match command {
            Command::Wake => self.woken = true,
            Command::RenewNow(profile) => {
                self.forced.push(profile);
                self.woken = true;
                self.rescan = true;
            }
            Command::Favourites(favourites) => {
                self.rescan = true;
                // credential_process favourites have no profile to seed from.
                let new = favourites
                    .iter()
                    .any(|f| !f.credential_process && !self.known.contains_key(&f.profile));
                self.favourites = favourites;
                if new {
                    self.seed_from_files().await;
                }
            }
            Command::SignedOut => {
                self.signed_out = true;
                self.reseed = true;
                self.known.clear();
                self.due.clear();
                self.session = None;
                // Already shown as signed out: no "needs sign-in" of our own.
                self.needs_sign_in = true;
                self.next_session_check = later(self.clock.now(), SIGNED_OUT_RECHECK);
            }
        }
    }

    /// Takes in the commands that came while a round ran.
    async fn catch_up(&mut self) {
        while let Ok(command) = self.commands.try_recv() {
            self.obey(command).await;
        }
    }

    fn send(&self, event: Event) {
        self.events.send(event);
    }

    /// One pass: the session, then the profiles that are due. Returns the next deadline
    /// (`None`: nothing scheduled, only the periodic check).
    ///
    /// The profiles are renewed as many at once as the portal's pacer allows, the most
    /// urgent first; one that comes due while others are fetched starts at once rather
    /// than waiting for the slowest (a fault's retries, a throttled call) to end. What is
    /// renewed is written at least every [`WRITE_AT_LEAST_EVERY`], so that a profile
    /// renewed early in a long round is on disk before its old credentials run out.
    async fn round(&mut self, woken: bool) -> Option<SystemTime> {
        self.signed_out = false;
        let token_deadline = self.session_round(woken).await?;
        if std::mem::take(&mut self.reseed) {
            self.seed_from_files().await;
        }
        let started = std::time::Instant::now();
        let mut fetching = tokio::task::JoinSet::new();
        let mut in_flight: HashSet<ProfileName> = HashSet::new();
        let mut writes = Vec::new();
        let mut last_write = std::time::Instant::now();
        let mut session_over = false;
        // When the next favourite not in flight comes due, as last looked (`None`: none).
        self.rescan = true;
        let mut next_due: Option<SystemTime> = None;
        loop {
            // Signed out meanwhile (seen when writing): what is fetched is dropped.
            if self.signed_out {
                fetching.abort_all();
            }
            if session_over || self.signed_out || started.elapsed() >= ROUND_TAKES_IN_FOR {
                next_due = None;
            } else {
                // Only what came due since: a retry set, or the next deadline reached.
                let soonest = [next_due, self.retry_soonest.take()]
                    .into_iter()
                    .flatten()
                    .min();
                if std::mem::take(&mut self.rescan)
                    || soonest.is_some_and(|t| t <= self.clock.now())
                {
                    next_due = self.start_due(&mut fetching, &mut in_flight);
                } else {
                    next_due = soonest;
                }
            }
            if fetching.is_empty() {
                break;
            }
            let mut wait = WRITE_AT_LEAST_EVERY.saturating_sub(last_write.elapsed());
            if let Some(t) = next_due {
                wait = wait.min(t.duration_since(self.clock.now()).unwrap_or_default());
            }
            match tokio::time::timeout(wait, fetching.join_next()).await {
                Ok(None) => break,
                Ok(Some(Ok((f, result)))) => {
                    in_flight.remove(&f.profile);
                    match result {
                        Ok(creds) => {
                            let renew_at = self.renew_at(creds.expiration, self.clock.now());
                            self.due.insert(f.profile.clone(), renew_at);
                            self.note_due(renew_at);
                            writes.push((f, creds));
                        }
                        Err(e) if e.needs_sign_in() => {
                            self.report_needs_sign_in();
                            session_over = true;
                            fetching.abort_all();
                        }
                        Err(e) => {
                            self.failed(Some(&f.profile), &e);
                        }
                    }
                }
                Ok(Some(Err(e))) if e.is_cancelled() => {}
                Ok(Some(Err(e))) => tracing::warn!(error = %e, "a renewal stopped"),
                // Time to write what has come in, or to start what came due.
                Err(_) => {}
            }
            if last_write.elapsed() >= WRITE_AT_LEAST_EVERY {
                self.write_caught_up(std::mem::take(&mut writes)).await;
                last_write = std::time::Instant::now();
            }
        }
        self.write_caught_up(writes).await;
        self.due.values().copied().chain([token_deadline]).min()
    }

    /// Starts renewing every favourite that is due and not already `in_flight`, the most
    /// urgent first (never written, then by when each came due). Returns when the next
    /// of the others comes due.
    fn start_due(
        &mut self,
        fetching: &mut tokio::task::JoinSet<(Favourite, crate::Result<crate::RoleCredentials>)>,
        in_flight: &mut HashSet<ProfileName>,
    ) -> Option<SystemTime> {
        for profile in std::mem::take(&mut self.forced) {
            self.due.remove(&profile);
        }
        // credential_process favourites have no keys to keep: they are fetched when a
        // tool asks. (By name: each look-up below is one, not a scan.)
        let favourites = by_name(self.favourites.iter().filter(|f| !f.credential_process));
        // A favourite that is gone, or now names another account, role or region, is
        // forgotten (and so due at once); one whose other settings changed is not.
        self.known.retain(|name, known| {
            favourites
                .get(name)
                .is_some_and(|same| same.iter().any(|f| f.same_profile(known)))
        });
        let known = &self.known;
        self.due.retain(|name, _| known.contains_key(name));
        for f in self.favourites.iter().filter(|f| !f.credential_process) {
            if !self.known.contains_key(&f.profile) {
                self.known.insert(f.profile.clone(), f.clone());
            }
        }
        let now = self.clock.now();
        let mut due: Vec<(Option<SystemTime>, &Favourite)> = self
            .favourites
            .iter()
            .filter(|f| !f.credential_process && !in_flight.contains(&f.profile))
            .map(|f| (self.due.get(&f.profile).copied(), f))
            .collect();
        due.sort_by_key(|(at, _)| *at);
        let mut next = None;
        for (at, f) in due {
            if let Some(t) = at.filter(|t| *t > now) {
                // Sorted: the first not yet due is the next.
                next.get_or_insert(t);
                break;
            }
            let f = f.clone();
            in_flight.insert(f.profile.clone());
            let provider = self.provider.clone();
            fetching.spawn(async move {
                let creds = provider.credentials(&f.source(), Fetch::Renew).await;
                (f, creds)
            });
        }
        next
    }

    /// Writes what was renewed, less what changed while the portal answered: a favourite
    /// removed or re-pointed since is not written, nor anything after a sign-out.
    async fn write_caught_up(&mut self, mut writes: Vec<(Favourite, crate::RoleCredentials)>) {
        self.catch_up().await;
        if writes.is_empty() {
            return;
        }
        let current = by_name(&self.favourites);
        writes.retain(|(f, _)| {
            !self.signed_out
                && current
                    .get(&f.profile)
                    .is_some_and(|same| same.iter().any(|c| c.same_profile(f)))
        });
        self.write(writes).await;
    }

    /// Keeps the token fresh; `None` while waiting for a sign-in. The keychain is read
    /// only when something may have changed (a locked keychain can prompt on each read):
    /// at the refresh point, after a wake, and every 30 s while signed out.
    async fn session_round(&mut self, woken: bool) -> Option<SystemTime> {
        let now = self.clock.now();
        let margin = self.provider.token_refresh_margin();
        match &self.session {
            Some(info) if !woken => {
                let refresh_at = info.expires_at.checked_sub(margin).unwrap_or(now);
                if now < refresh_at {
                    return Some(refresh_at);
                }
            }
            None if self.needs_sign_in && !woken && now < self.next_session_check => {
                return None;
            }
            _ => {}
        }
        self.next_session_check = later(now, SIGNED_OUT_RECHECK);
        let session = match self.provider.session().await {
            Ok(s) => s,
            Err(e) if e.needs_sign_in() => {
                tracing::warn!(error = %e, "the saved session cannot be used");
                self.report_needs_sign_in();
                return None;
            }
            Err(e) => {
                self.failed(None, &e);
                return Some(later(now, self.config.backoff_min));
            }
        };
        let Some(info) = session.filter(|s| s.expires_at > now || s.renewable) else {
            self.report_needs_sign_in();
            return None;
        };
        let refresh_at = info
            .expires_at
            .checked_sub(self.provider.token_refresh_margin())
            .unwrap_or(now);
        let info = if refresh_at <= now {
            match self.provider.access_token_silent().await {
                Ok(_) => match self.provider.session().await {
                    Ok(Some(fresh)) => fresh,
                    _ => info,
                },
                Err(e) if e.needs_sign_in() => {
                    self.report_needs_sign_in();
                    return None;
                }
                Err(e) => {
                    let retry = self.failed(None, &e);
                    self.note_session(info, false);
                    return Some(retry);
                }
            }
        } else {
            info
        };
        let recovered = self.failures.remove(&None).is_some();
        self.note_session(info.clone(), recovered);
        Some(
            info.expires_at
                .checked_sub(self.provider.token_refresh_margin())
                .unwrap_or(now)
                .max(later(now, Duration::from_secs(1))),
        )
    }

    /// The session as read; said again when it changed, or `recovered` from a failure.
    fn note_session(&mut self, info: SessionInfo, recovered: bool) {
        if recovered || self.needs_sign_in || self.session.as_ref() != Some(&info) {
            self.needs_sign_in = false;
            self.session = Some(info.clone());
            self.send(Event::Session(SessionState::SignedIn(info)));
        }
    }

    fn report_needs_sign_in(&mut self) {
        self.session = None;
        if !self.needs_sign_in {
            self.needs_sign_in = true;
            tracing::info!(instance = %self.provider.instance(), "session over; waiting for a sign-in");
            self.send(Event::Session(SessionState::NeedsSignIn));
        }
    }

    /// When credentials expiring at `expiration` are renewed: the margin (and jitter)
    /// before, but never earlier than halfway through their remaining life, so that
    /// credentials shorter than the margin do not renew in a loop.
    fn renew_at(&self, expiration: SystemTime, now: SystemTime) -> SystemTime {
        let life = expiration.duration_since(now).unwrap_or(Duration::ZERO);
        let by_margin = expiration
            .checked_sub(self.config.credentials_margin + self.jitter())
            .unwrap_or(now);
        by_margin.max(later(now, life / 2))
    }

    /// Profiles already written (by an earlier run, or just now by whoever added the
    /// favourite) are due at their own renewal time, not all at once when the app or
    /// daemon starts or a favourite is added. A favourite already known is left to its
    /// schedule (one that changed its target is renewed at once).
    async fn seed_from_files(&mut self) {
        let files = self.files.clone();
        let Ok(Ok(profiles)) = tokio::task::spawn_blocking(move || files.managed_profiles()).await
        else {
            return;
        };
        let now = self.clock.now();
        let expiries = crate::awsfiles::ManagedProfile::expiries_by_name(&profiles);
        let new: Vec<Favourite> = self
            .favourites
            .iter()
            .filter(|f| !self.known.contains_key(&f.profile))
            .cloned()
            .collect();
        for f in new {
            let expiry = expiries.get(f.profile.as_str()).copied().flatten();
            if let Some(expiration) = expiry.filter(|t| *t > now) {
                let at = self.renew_at(expiration, now);
                self.due.insert(f.profile.clone(), at);
                self.known.insert(f.profile.clone(), f);
            }
        }
    }

    /// A profile is next due at `at`: the round looks again by then.
    fn note_due(&mut self, at: SystemTime) {
        self.retry_soonest = Some(self.retry_soonest.map_or(at, |t| t.min(at)));
    }

    fn jitter(&self) -> Duration {
        self.jitter.up_to(self.config.jitter)
    }

    /// Records a failure and reports it; returns when to try again.
    fn failed(&mut self, profile: Option<&ProfileName>, e: &Error) -> SystemTime {
        let count = self.failures.entry(profile.cloned()).or_insert(0);
        *count = count.saturating_add(1);
        let exp = self
            .config
            .backoff_min
            .saturating_mul(1u32 << (*count - 1).min(16))
            .min(self.config.backoff_max);
        // ±20% so that many failing profiles do not retry in step.
        let spread = exp / 5;
        let delay = exp + self.jitter.up_to(spread * 2) - spread;
        let retry_at = later(self.clock.now(), delay);
        if let Some(p) = profile {
            self.due.insert(p.clone(), retry_at);
            self.note_due(retry_at);
        }
        tracing::warn!(profile = profile.map(ProfileName::as_str), error = %e, "renewal failed; trying again");
        self.send(Event::RenewalFailed {
            profile: profile.cloned(),
            message: e.to_string(),
            retry_at,
        });
        retry_at
    }

    /// Writes every renewed profile in one write; a profile that cannot be written (a
    /// same-named profile of the user's) is reported and the rest still written.
    async fn write(&mut self, mut writes: Vec<(Favourite, crate::RoleCredentials)>) {
        while !writes.is_empty() {
            let mut changes = Changes::new();
            let mut bad = None;
            for (f, creds) in &writes {
                match f.profile_write(creds) {
                    Ok(w) => changes = changes.write(w),
                    Err(e) => {
                        bad = Some((f.profile.clone(), e));
                        break;
                    }
                }
            }
            let result = match bad {
                Some((profile, e)) => Err((Some(profile), e)),
                None => {
                    let files = self.files.clone();
                    tokio::task::spawn_blocking(move || files.apply(&changes))
                        .await
                        .unwrap_or(Err(Error::Interrupted {
                            what: "write of the AWS files",
                        }))
                        .map_err(|e| {
                            let profile = match &e {
                                Error::ProfileNotOurs { name, .. }
                                | Error::ProfileShadowed { name, .. } => {
                                    ProfileName::new(name).ok()
                                }
                                _ => None,
                            };
                            (profile, e)
                        })
                }
            };
            match result {
                Ok(_) => {
                    for (f, creds) in writes.drain(..) {
                        self.failures.remove(&Some(f.profile.clone()));
                        self.send(Event::ProfileWritten {
                            profile: f.profile,
                            expires_at: creds.expiration,
                        });
                    }
                }
                // One profile is in the way: report it, write the others.
                Err((Some(profile), e)) => {
                    self.failed(Some(&profile), &e);
                    writes.retain(|(f, _)| f.profile != profile);
                }
                // The file itself failed: every profile of the batch is retried.
                Err((None, e)) => {
                    for (f, _) in writes.drain(..) {
                        self.failed(Some(&f.profile), &e);
                    }
                }
            }
        }
    }
}
