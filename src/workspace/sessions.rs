//! One session per instance in use: its provider, its renewer while the world is kept
//! fresh, and where it stands; following the settings; the renewers' events.

use super::status::{Failure, SessionPhase, SignInCode};
use super::{blocking, BrowserOutcome, Event, Margins, Shared, Workspace};
use crate::cache::AwsCliTokenCache;
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::provider::{AwsSsoDeviceAuthProvider, SessionInfo};
use crate::renewer::{self, Renewer, RenewerConfig, SessionState};
use crate::settings::{Favourite, Settings};
use crate::store::SignInFlow;
use crate::Endpoints;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast;

/// What a provider is built from, besides its instance: when this changes (a preference),
/// the provider is built again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ProviderKey {
    pub(super) flow: SignInFlow,
    token_margin: Duration,
    share_with_aws_cli: bool,
}

/// A sign-in waiting for the user: which one (a later one may replace it), and how to
/// cancel it.
pub(super) struct PendingSignIn {
    pub(super) id: u64,
    pub(super) task: tokio::task::AbortHandle,
}

pub(super) struct Session {
    pub(super) provider: Arc<AwsSsoDeviceAuthProvider>,
    key: ProviderKey,
    events: renewer::Events,
    pump: tokio::task::JoinHandle<()>,
    renewer: Option<(Renewer, Margins)>,
    pub(super) phase: SessionPhase,
    pub(super) info: Option<SessionInfo>,
    pub(super) signed_in_this_run: bool,
    pub(super) sign_in: Option<SignInCode>,
    pub(super) pending: Option<PendingSignIn>,
    pub(super) failure: Option<Failure>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.pump.abort();
        if let Some(p) = self.pending.take() {
            p.task.abort();
        }
    }
}

impl Session {
    /// Renews what is due now.
    pub(super) fn wake(&self) {
        if let Some(r) = self.renewer() {
            r.wake();
        }
    }

    pub(super) fn renewer(&self) -> Option<&Renewer> {
        self.renewer.as_ref().map(|(r, _)| r)
    }

    pub(super) fn renewer_margins(&self) -> Option<Margins> {
        self.renewer.as_ref().map(|(_, m)| *m)
    }

    /// Where it stands without a valid session: ended while we ran, or never begun.
    pub(super) fn at_rest(&self) -> SessionPhase {
        if self.signed_in_this_run {
            SessionPhase::NeedsSignIn
        } else {
            SessionPhase::SignedOut
        }
    }

    /// The session is over (unless a sign-in is under way); whether one that was signed
    /// in during this run just ended.
    fn ended(&mut self) -> bool {
        let ended = self.signed_in_this_run && self.phase == SessionPhase::SignedIn;
        if self.phase != SessionPhase::SigningIn {
            self.phase = self.at_rest();
            self.info = None;
        }
        ended
    }
}

impl Workspace {
    fn margins(&self, settings: &Settings) -> Margins {
        self.shared
            .options
            .margins
            .unwrap_or_else(|| Margins::of(&settings.preferences))
    }

    pub(super) fn provider_key(&self, settings: &Settings) -> ProviderKey {
        let local_browser = crate::browser::local_browser_likely(self.shared.options.env.lookup());
        ProviderKey {
            flow: settings.preferences.sign_in_flow.resolve(local_browser),
            token_margin: self.margins(settings).token,
            share_with_aws_cli: settings.preferences.share_session_with_aws_cli,
        }
    }

    async fn build_provider(
        &self,
        instance: &Instance,
        key: &ProviderKey,
        events: &renewer::Events,
    ) -> Result<AwsSsoDeviceAuthProvider> {
        let options = &self.shared.options;
        let aws_cli_cache = match (
            key.share_with_aws_cli,
            self.shared.paths.aws_cli_sso_cache_dir(),
        ) {
            (true, Some(dir)) => {
                let (files, i) = (self.shared.files.clone(), instance.clone());
                Some(
                    blocking("read of the config file", move || {
                        AwsCliTokenCache::for_instance(&i, &files, &dir)
                    })
                    .await?,
                )
            }
            _ => None,
        };
        let mut builder = AwsSsoDeviceAuthProvider::builder();
        if let (Some(app), Some(dir)) = (&options.ask_app, self.shared.paths.runtime_dir()) {
            builder = builder.ask_app(dir.to_owned(), app.clone());
        }
        builder
            .start_url(instance.start_url())
            .region(instance.region())
            .endpoints(Endpoints::from_env(options.env.lookup())?)
            .store(options.store.clone())
            .session_lock_dir(Some(self.shared.paths.locks_dir()))
            .clock(options.timing.clock.clone())
            .flow(key.flow)
            .poll_policy(options.poll.clone())
            .on_prompt(events.prompt())
            .token_refresh_margin(key.token_margin)
            .aws_cli_token_cache(aws_cli_cache)
            .sign_in_on_demand(false)
            .build()
    }

    /// The provider of `instance`, for reading accounts, roles and credentials. It never
    /// starts a sign-in by itself.
    pub(crate) async fn provider(
        &self,
        instance: &Instance,
    ) -> Result<Arc<AwsSsoDeviceAuthProvider>> {
        if let Some(s) = self.lock().sessions.get(instance) {
            return Ok(s.provider.clone());
        }
        let settings = self.settings();
        let key = self.provider_key(&settings);
        let events = renewer::Events::new();
        let provider = Arc::new(self.build_provider(instance, &key, &events).await?);
        let mut state = self.lock();
        if let Some(s) = state.sessions.get(instance) {
            return Ok(s.provider.clone());
        }
        let session = self.new_session(instance, provider.clone(), key, events);
        state.sessions.insert(instance.clone(), session);
        Ok(provider)
    }

    fn new_session(
        &self,
        instance: &Instance,
        provider: Arc<AwsSsoDeviceAuthProvider>,
        key: ProviderKey,
        events: renewer::Events,
    ) -> Session {
        let pump = tokio::spawn(pump(self.weak(), instance.clone(), events.subscribe()));
        Session {
            provider,
            key,
            events,
            pump,
            renewer: None,
            phase: SessionPhase::SignedOut,
            info: None,
            signed_in_this_run: false,
            sign_in: None,
            pending: None,
            failure: None,
        }
    }

    /// Makes the sessions follow the settings while the world is kept fresh: one per
    /// instance in use, each with the provider and renewer the preferences ask for and
    /// its own instance's favourites; the others stop. Restarts only what changed. An
    /// instance whose session cannot be built is remembered (and tried again by the
    /// background); the first such error is returned. Callers hold `changing`.
    pub(super) async fn reconcile(&self) -> Result<()> {
        let settings = {
            let state = self.lock();
            if !state.keeping_fresh {
                return Ok(());
            }
            state.settings.clone()
        };
        let key = self.provider_key(&settings);
        let margins = self.margins(&settings);
        let wanted = settings.instances_in_use();
        // Each instance's favourites, in one pass over them all.
        let mut favourites: HashMap<&Instance, Vec<Favourite>> = HashMap::new();
        for f in &settings.favourites {
            favourites.entry(&f.instance).or_default().push(f.clone());
        }
        let stopped: Vec<Instance> = {
            let in_use: HashSet<&Instance> = wanted.iter().collect();
            let mut state = self.lock();
            state.broken.retain(|i, _| in_use.contains(i));
            let mut stopped = Vec::new();
            state.sessions.retain(|i, s| {
                let keep = in_use.contains(i) || s.pending.is_some();
                if !keep && s.renewer.is_some() {
                    stopped.push(i.clone());
                }
                keep
            });
            stopped
        };
        for instance in stopped {
            tracing::info!(%instance, "no longer in use; stopped renewing");
            self.emit(Event::Stopped { instance });
        }
        let mut first = Ok(());
        for instance in &wanted {
            let its = favourites.remove(instance).unwrap_or_default();
            let followed = self.follow(instance, &key, margins, its).await;
            let mut state = self.lock();
            match followed {
                Ok(()) => {
                    state.broken.remove(instance);
                }
                Err(e) => {
                    tracing::warn!(%instance, error = %e, "cannot keep this instance fresh");
                    let failure = Failure {
                        message: e.to_string(),
                        retry_at: crate::clock::later(self.now(), super::BROKEN_RETRY),
                    };
                    state.broken.insert(instance.clone(), failure);
                    if first.is_ok() {
                        first = Err(e);
                    }
                }
            }
        }
        first
    }

    /// One instance of [`Self::reconcile`], with its `favourites`.
    async fn follow(
        &self,
        instance: &Instance,
        key: &ProviderKey,
        margins: Margins,
        favourites: Vec<Favourite>,
    ) -> Result<()> {
        // The session as it is now: kept, replaced (its provider was built for other
        // preferences, and no sign-in is under way), or made.
        // (The lock is let go before anything else locks.)
        let looked = match self.lock().sessions.get(instance) {
            None => Some(None),
            Some(s) if &s.key != key && s.pending.is_none() => {
                Some(Some((s.events.clone(), s.provider.clone())))
            }
            Some(_) => None,
        };
        let Some(replaced) = looked else {
            return self.ensure_renewer(instance, margins, favourites);
        };
        let events = replaced
            .as_ref()
            .map(|(events, _)| events.clone())
            .unwrap_or_default();
        let provider = Arc::new(self.build_provider(instance, key, &events).await?);
        {
            let mut state = self.lock();
            // Only what was looked at is replaced: a session made, or a sign-in begun,
            // while the provider was built is kept (the next reconcile sees to it).
            let unchanged = match (state.sessions.get(instance), &replaced) {
                (None, None) => true,
                (Some(s), Some((_, old))) => Arc::ptr_eq(&s.provider, old) && s.pending.is_none(),
                _ => false,
            };
            if unchanged {
                let mut fresh = self.new_session(instance, provider, key.clone(), events);
                if let Some(old) = state.sessions.remove(instance) {
                    // The same session, seen through a provider built for new preferences.
                    fresh.phase = old.phase;
                    fresh.info = old.info.clone();
                    fresh.signed_in_this_run = old.signed_in_this_run;
                    fresh.failure = old.failure.clone();
                }
                state.sessions.insert(instance.clone(), fresh);
            }
        }
        self.ensure_renewer(instance, margins, favourites)
    }

    fn ensure_renewer(
        &self,
        instance: &Instance,
        margins: Margins,
        favourites: Vec<Favourite>,
    ) -> Result<()> {
        let mut state = self.lock();
        let Some(session) = state.sessions.get_mut(instance) else {
            return Ok(());
        };
        if let Some((r, m)) = &session.renewer {
            if *m == margins {
                r.set_favourites(favourites);
                return Ok(());
            }
        }
        let options = &self.shared.options;
        let renewer = Renewer::start(
            session.provider.clone(),
            self.shared.files.clone(),
            favourites,
            RenewerConfig {
                credentials_margin: margins.credentials,
                ..options.renewer
            },
            options.timing.clone(),
            session.events.clone(),
        );
        session.renewer = Some((renewer, margins));
        drop(state);
        tracing::info!(%instance, token_margin_secs = margins.token.as_secs(), credentials_margin_secs = margins.credentials.as_secs(), "renewing");
        self.emit(Event::Renewing {
            instance: instance.clone(),
            margins,
        });
        Ok(())
    }

    /// Changes the phase of `instance`'s session with `change` (which may also change
    /// more of it), and says so when the phase changed.
    pub(super) fn change_session<T>(
        &self,
        instance: &Instance,
        change: impl FnOnce(&mut Session) -> T,
    ) -> Option<T> {
        let (out, before, after) = {
            let mut state = self.lock();
            let session = state.sessions.get_mut(instance)?;
            let before = session.phase;
            let out = change(session);
            (out, before, session.phase)
        };
        if before != after {
            self.emit(Event::Session {
                instance: instance.clone(),
                phase: after,
            });
            if after == SessionPhase::SignedIn {
                self.signed_in_for_asks(instance);
            }
        }
        Some(out)
    }

    /// A renewer's event, into the state and out as the workspace's.
    async fn on_renewer_event(&self, instance: &Instance, event: renewer::Event) {
        match event {
            renewer::Event::Session(SessionState::SignedIn(info)) => {
                self.change_session(instance, |s| {
                    s.signed_in_this_run = true;
                    s.failure = None;
                    if s.phase != SessionPhase::SigningIn {
                        s.phase = SessionPhase::SignedIn;
                    }
                    s.info = Some(info);
                });
            }
            renewer::Event::Session(SessionState::NeedsSignIn) => {
                let ended = self.change_session(instance, Session::ended);
                {
                    let mut state = self.lock();
                    let favourites: Vec<String> = state
                        .settings
                        .favourites_of(instance)
                        .map(|f| f.profile.to_string())
                        .collect();
                    for p in favourites {
                        if let Some(p) = state.profiles.get_mut(p.as_str()) {
                            p.renewing = false;
                        }
                    }
                }
                if ended == Some(true) {
                    self.emit(Event::SessionEnded {
                        instance: instance.clone(),
                    });
                }
            }
            renewer::Event::SignInCode {
                user_code,
                url,
                expires_at,
            } => {
                let code = SignInCode {
                    user_code,
                    url,
                    expires_at,
                };
                self.change_session(instance, |s| s.sign_in = Some(code.clone()));
                let browser = match crate::browser::web_address(&code.url) {
                    // An address from the service that a browser must not be sent to.
                    Err(why) => BrowserOutcome::Refused(why.to_owned()),
                    Ok(()) if self.shared.options.open_browser => {
                        match self.open_browser(code.url.clone()).await {
                            Ok(()) => BrowserOutcome::Opened,
                            Err(e) => BrowserOutcome::Failed(e.to_string()),
                        }
                    }
                    Ok(()) => BrowserOutcome::NotAsked,
                };
                self.emit(Event::SignInCode {
                    instance: instance.clone(),
                    code,
                    browser,
                });
            }
            renewer::Event::ProfileWritten {
                profile,
                expires_at,
            } => self.profile_written(&profile, Some(expires_at)),
            renewer::Event::RenewalFailed {
                profile,
                message,
                retry_at,
            } => {
                let failure = Some(Failure {
                    message: message.clone(),
                    retry_at,
                });
                let first = {
                    let mut state = self.lock();
                    match &profile {
                        Some(p) => {
                            let p = state.profiles.entry(p.clone()).or_default();
                            p.renewing = false;
                            std::mem::replace(&mut p.failure, failure).is_none()
                        }
                        None => state
                            .sessions
                            .get_mut(instance)
                            .is_some_and(|s| std::mem::replace(&mut s.failure, failure).is_none()),
                    }
                };
                self.emit(Event::RenewalFailed {
                    instance: instance.clone(),
                    profile,
                    message,
                    retry_at,
                    first,
                });
            }
        }
        self.emit(Event::Changed);
    }

    /// Opens the sign-in page at `url` in the browser, through a private page (never on
    /// the browser's command line).
    pub(super) async fn open_browser(&self, url: String) -> Result<()> {
        crate::browser::open_sign_in(&url, &self.shared.paths.handoff_dir()).await
    }

    /// AWS refusing the session ends it, whatever the keychain holds (revoked on the
    /// server, or an emulator that is gone).
    pub(super) fn note_refusal(&self, instance: &Instance, e: &Error) {
        if !e.needs_sign_in() {
            return;
        }
        if self.change_session(instance, Session::ended) == Some(true) {
            self.emit(Event::SessionEnded {
                instance: instance.clone(),
            });
        }
        self.emit(Event::Changed);
    }
}

/// Forwards one session's renewer (and sign-in prompt) events to the workspace.
async fn pump(weak: Weak<Shared>, instance: Instance, mut rx: broadcast::Receiver<renewer::Event>) {
    loop {
        match rx.recv().await {
            Ok(event) => match Workspace::from_weak(&weak) {
                Some(world) => world.on_renewer_event(&instance, event).await,
                None => return,
            },
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "renewer events were dropped");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
