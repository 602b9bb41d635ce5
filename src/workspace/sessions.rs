//! One session per instance in use: its provider, its renewer while the world is kept
//! fresh, where it stands; signing in and out, and what goes with it.

use super::status::{Failure, SessionPhase, SignInCode};
use super::{blocking, Event, Margins, Shared, Workspace};
use crate::awsfiles::Changes;
use crate::cache::{AccountsCache, AwsCliTokenCache, CredentialsCache};
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::provider::{AwsSsoDeviceAuthProvider, SessionInfo};
use crate::renewer::{self, Renewer, RenewerConfig, SessionState};
use crate::settings::Settings;
use crate::store::SignInFlow;
use crate::Endpoints;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast;

/// What a provider is built from, besides its instance: when this changes (a preference),
/// the provider is built again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ProviderKey {
    flow: SignInFlow,
    token_margin: Duration,
    share_with_aws_cli: bool,
}

pub(super) struct Session {
    pub(super) provider: Arc<AwsSsoDeviceAuthProvider>,
    key: ProviderKey,
    events: renewer::Events,
    pump: tokio::task::JoinHandle<()>,
    renewer: Option<(Renewer, Margins)>,
    pub(super) phase: SessionPhase,
    pub(super) info: Option<SessionInfo>,
    signed_in_this_run: bool,
    pub(super) sign_in: Option<SignInCode>,
    sign_in_task: Option<tokio::task::AbortHandle>,
    pub(super) failure: Option<Failure>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

impl Session {
    /// Renews what is due now.
    pub(super) fn wake(&self) {
        if let Some((r, _)) = &self.renewer {
            r.wake();
        }
    }

    pub(super) fn renewer(&self) -> Option<&Renewer> {
        self.renewer.as_ref().map(|(r, _)| r)
    }

    pub(super) fn renewer_margins(&self) -> Option<Margins> {
        self.renewer.as_ref().map(|(_, m)| *m)
    }

    fn ended(&mut self) -> bool {
        let ended = self.signed_in_this_run && self.phase == SessionPhase::SignedIn;
        if self.phase != SessionPhase::SigningIn {
            self.phase = if self.signed_in_this_run {
                SessionPhase::NeedsSignIn
            } else {
                SessionPhase::SignedOut
            };
            self.info = None;
        }
        ended
    }
}

/// What a sign-out removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedOut {
    /// Profiles of favourites removed from the AWS files (as the preferences asked).
    pub removed_profiles: Vec<String>,
}

impl Workspace {
    fn margins(&self, settings: &Settings) -> Margins {
        self.shared
            .options
            .margins
            .unwrap_or_else(|| Margins::of(&settings.preferences))
    }

    fn provider_key(&self, settings: &Settings) -> ProviderKey {
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
        AwsSsoDeviceAuthProvider::builder()
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
    pub async fn provider(&self, instance: &Instance) -> Result<Arc<AwsSsoDeviceAuthProvider>> {
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
            sign_in_task: None,
            failure: None,
        }
    }

    /// Makes the sessions follow the settings while the world is kept fresh: one per
    /// instance in use, each with the provider and renewer the preferences ask for and
    /// its own instance's favourites; the others stop. Restarts only what changed.
    /// Callers hold `changing`.
    pub(super) async fn reconcile(&self) {
        let settings = {
            let state = self.lock();
            if !state.keeping_fresh {
                return;
            }
            state.settings.clone()
        };
        let key = self.provider_key(&settings);
        let margins = self.margins(&settings);
        let wanted = settings.instances_in_use();
        let stopped: Vec<Instance> = {
            let mut state = self.lock();
            let mut stopped = Vec::new();
            state.sessions.retain(|i, s| {
                let keep = wanted.contains(i) || s.sign_in_task.is_some();
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
        for instance in wanted {
            if let Err(e) = self.follow(&instance, &key, margins, &settings).await {
                tracing::warn!(%instance, error = %e, "cannot keep this instance fresh");
                if let Some(s) = self.lock().sessions.get_mut(&instance) {
                    s.failure = Some(Failure {
                        message: e.to_string(),
                        retry_at: self.now(),
                    });
                }
            }
        }
    }

    /// One instance of [`Self::reconcile`].
    async fn follow(
        &self,
        instance: &Instance,
        key: &ProviderKey,
        margins: Margins,
        settings: &Settings,
    ) -> Result<()> {
        // `None`: the session is as the preferences ask; else the events its new provider
        // sends to (those of the session it replaces, if any).
        let rebuild = match self.lock().sessions.get(instance) {
            None => Some(renewer::Events::new()),
            Some(s) if &s.key != key && s.sign_in_task.is_none() => Some(s.events.clone()),
            Some(_) => None,
        };
        let Some(events) = rebuild else {
            return self.ensure_renewer(instance, margins, settings);
        };
        let provider = Arc::new(self.build_provider(instance, key, &events).await?);
        {
            let mut state = self.lock();
            let mut fresh = self.new_session(instance, provider, key.clone(), events);
            if let Some(old) = state.sessions.remove(instance) {
                // The same session, seen through a provider built for new preferences.
                fresh.phase = old.phase;
                fresh.info = old.info.clone();
                fresh.signed_in_this_run = old.signed_in_this_run;
            }
            state.sessions.insert(instance.clone(), fresh);
        }
        self.ensure_renewer(instance, margins, settings)
    }

    fn ensure_renewer(
        &self,
        instance: &Instance,
        margins: Margins,
        settings: &Settings,
    ) -> Result<()> {
        let favourites: Vec<_> = settings.favourites_of(instance).cloned().collect();
        let mut state = self.lock();
        let Some(session) = state.sessions.get_mut(instance) else {
            return Ok(());
        };
        match &session.renewer {
            Some((r, m)) if *m == margins => {
                r.set_favourites(favourites);
                return Ok(());
            }
            _ => {}
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

    /// A renewer's event, into the state and out as the workspace's.
    async fn on_renewer_event(&self, instance: &Instance, event: renewer::Event) {
        let mut out = Vec::new();
        match event {
            renewer::Event::Session(SessionState::SignedIn(info)) => {
                let mut state = self.lock();
                if let Some(s) = state.sessions.get_mut(instance) {
                    s.signed_in_this_run = true;
                    s.failure = None;
                    if s.phase != SessionPhase::SigningIn {
                        s.phase = SessionPhase::SignedIn;
                    }
                    s.info = Some(info);
                }
            }
            renewer::Event::Session(SessionState::NeedsSignIn) => {
                let mut state = self.lock();
                let ended = state.sessions.get_mut(instance).is_some_and(Session::ended);
                let favourites: Vec<String> = state
                    .settings
                    .favourites_of(instance)
                    .map(|f| f.profile.to_string())
                    .collect();
                for p in favourites {
                    if let Some(p) = state.profiles.get_mut(&p) {
                        p.renewing = false;
                    }
                }
                if ended {
                    out.push(Event::SessionEnded {
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
                if let Some(s) = self.lock().sessions.get_mut(instance) {
                    s.sign_in = Some(code.clone());
                }
                let browser_error = if self.shared.options.open_browser {
                    let url = code.url.clone();
                    blocking("start of the browser", move || {
                        crate::browser::open(&url).map_err(|source| Error::NoBrowser { source })
                    })
                    .await
                    .err()
                    .map(|e| e.to_string())
                } else {
                    None
                };
                out.push(Event::SignInCode {
                    instance: instance.clone(),
                    code,
                    browser_error,
                });
            }
            renewer::Event::ProfileWritten {
                profile,
                expires_at,
            } => {
                let mut state = self.lock();
                let p = state.profiles.entry(profile.clone()).or_default();
                p.expires_at = Some(expires_at);
                p.failure = None;
                p.renewing = false;
                out.push(Event::ProfileWritten {
                    profile,
                    expires_at,
                });
            }
            renewer::Event::RenewalFailed {
                profile,
                message,
                retry_at,
            } => {
                let failure = Some(Failure {
                    message: message.clone(),
                    retry_at,
                });
                let mut state = self.lock();
                let first = match &profile {
                    Some(p) => {
                        let p = state.profiles.entry(p.clone()).or_default();
                        p.renewing = false;
                        std::mem::replace(&mut p.failure, failure).is_none()
                    }
                    None => state
                        .sessions
                        .get_mut(instance)
                        .is_some_and(|s| std::mem::replace(&mut s.failure, failure).is_none()),
                };
                out.push(Event::RenewalFailed {
                    instance: instance.clone(),
                    profile,
                    message,
                    retry_at,
                    first,
                });
            }
        }
        for e in out {
            self.emit(e);
        }
        self.emit(Event::Changed);
    }

    /// AWS refusing the session ends it, whatever the keychain holds (revoked on the
    /// server, or an emulator that is gone).
    pub(super) fn note_refusal(&self, instance: &Instance, e: &Error) {
        if !matches!(e, Error::Unauthorized { .. } | Error::SignInRequired { .. }) {
            return;
        }
        let ended = self
            .lock()
            .sessions
            .get_mut(instance)
            .is_some_and(Session::ended);
        if ended {
            self.emit(Event::SessionEnded {
                instance: instance.clone(),
            });
        }
        self.emit(Event::Changed);
    }

    /// Signs in to `instance` (with `flow` instead of the preference's, if given) and
    /// remembers it as the default; answers once signed in. The code reaches the user as
    /// [`Event::SignInCode`] (and in the browser, if the options say so).
    pub async fn sign_in(
        &self,
        instance: &Instance,
        flow: Option<SignInFlow>,
    ) -> Result<SessionInfo> {
        let mut provider = self.provider(instance).await?;
        if let Some(flow) = flow.filter(|f| *f != provider.flow()) {
            let settings = self.settings();
            let key = ProviderKey {
                flow,
                ..self.provider_key(&settings)
            };
            let events = self
                .lock()
                .sessions
                .get(instance)
                .map(|s| s.events.clone())
                .unwrap_or_default();
            provider = Arc::new(self.build_provider(instance, &key, &events).await?);
        }
        let task = {
            let mut state = self.lock();
            let Some(s) = state.sessions.get_mut(instance) else {
                return Err(Error::Interrupted { what: "sign-in" });
            };
            if s.sign_in_task.is_some() {
                return Err(Error::SignInInProgress {
                    instance: instance.clone(),
                });
            }
            s.phase = SessionPhase::SigningIn;
            s.failure = None;
            let task = tokio::spawn(async move { provider.sign_in().await });
            s.sign_in_task = Some(task.abort_handle());
            task
        };
        self.emit(Event::Changed);
        let result = task.await;
        {
            let mut state = self.lock();
            if let Some(s) = state.sessions.get_mut(instance) {
                s.sign_in_task = None;
                s.sign_in = None;
                match &result {
                    Ok(Ok(info)) => {
                        s.phase = SessionPhase::SignedIn;
                        s.info = Some(info.clone());
                        s.signed_in_this_run = true;
                        s.wake();
                    }
                    _ if s.phase == SessionPhase::SigningIn => {
                        s.phase = if s.signed_in_this_run {
                            SessionPhase::NeedsSignIn
                        } else {
                            SessionPhase::SignedOut
                        };
                    }
                    _ => {}
                }
            }
        }
        let info = match result {
            Ok(Ok(info)) => info,
            Ok(Err(e)) => {
                self.emit(Event::Changed);
                return Err(e);
            }
            Err(_) => {
                self.emit(Event::Changed);
                return Err(Error::SignInCancelled);
            }
        };
        let i = instance.clone();
        self.update_settings(move |s| {
            s.remember_default(&i);
            Ok(())
        })
        .await?;
        self.emit(Event::SignedIn {
            instance: instance.clone(),
        });
        Ok(info)
    }

    /// Cancels every sign-in waiting for the user.
    pub fn cancel_sign_in(&self) {
        for s in self.lock().sessions.values_mut() {
            if let Some(task) = s.sign_in_task.take() {
                task.abort();
            }
        }
    }

    /// Where the session of `instance` stands.
    pub fn phase(&self, instance: &Instance) -> SessionPhase {
        self.lock()
            .sessions
            .get(instance)
            .map_or(SessionPhase::SignedOut, |s| s.phase)
    }

    /// Whether a sign-in waits for the user.
    pub fn signing_in(&self) -> bool {
        self.lock()
            .sessions
            .values()
            .any(|s| s.sign_in_task.is_some())
    }

    /// Opens the page of the sign-in waiting for the user in the browser again.
    pub async fn open_sign_in_page(&self) -> Result<()> {
        let url = self
            .lock()
            .sessions
            .values()
            .find_map(|s| s.sign_in.as_ref().map(|c| c.url.clone()))
            .ok_or(Error::SignInCancelled)?;
        blocking("start of the browser", move || {
            crate::browser::open(&url).map_err(|source| Error::NoBrowser { source })
        })
        .await
    }

    /// Signs out of `instance`: on the server, in the keychain and the AWS CLI's cache;
    /// the cached credentials of its favourites and its account list go, and its
    /// favourites' profiles too when the preferences ask for that.
    pub async fn sign_out(&self, instance: &Instance) -> Result<SignedOut> {
        self.provider(instance).await?.sign_out().await?;
        let settings = self.settings();
        let favourites: Vec<_> = settings.favourites_of(instance).cloned().collect();
        let remove = settings.preferences.remove_profiles_on_sign_out;
        let (paths, files, i) = (
            self.shared.paths.clone(),
            self.shared.files.clone(),
            instance.clone(),
        );
        let names: Vec<_> = favourites.iter().map(|f| f.profile.clone()).collect();
        let removed = blocking("clean-up after the sign-out", move || {
            let credentials = CredentialsCache::new(paths.credentials_cache_dir());
            for name in &names {
                if let Err(e) = credentials.remove(name.as_str()) {
                    tracing::warn!(profile = %name, error = %e, "could not remove cached credentials");
                }
            }
            if let Err(e) = AccountsCache::new(paths.accounts_cache_dir()).remove(&i) {
                tracing::warn!(error = %e, "could not remove the cached account list");
            }
            if !remove {
                return Ok(Vec::new());
            }
            let changes = names
                .iter()
                .fold(Changes::new(), |c, name| c.remove(name.clone()));
            Ok(files.apply(&changes)?.removed)
        })
        .await?;
        {
            let mut state = self.lock();
            if let Some(s) = state.sessions.get_mut(instance) {
                s.phase = SessionPhase::SignedOut;
                s.info = None;
                s.signed_in_this_run = false;
                s.failure = None;
            }
            for f in &favourites {
                let p = state.profiles.entry(f.profile.to_string()).or_default();
                p.renewing = false;
                p.failure = None;
                if removed.contains(&f.profile) {
                    p.expires_at = None;
                }
            }
        }
        self.emit(Event::Changed);
        Ok(SignedOut {
            removed_profiles: removed.iter().map(ToString::to_string).collect(),
        })
    }

    /// When the app quits: removes the favourites' profiles if the preferences ask for
    /// that; returns those removed.
    pub async fn on_quit(&self) -> Result<Vec<String>> {
        let settings = self.settings();
        if !settings.preferences.remove_profiles_on_quit {
            return Ok(Vec::new());
        }
        let changes = settings
            .favourites
            .iter()
            .filter(|f| !f.credential_process)
            .fold(Changes::new(), |c, f| c.remove(f.profile.clone()));
        let files = self.shared.files.clone();
        let applied = blocking("removal of the profiles", move || files.apply(&changes)).await?;
        Ok(applied.removed.iter().map(ToString::to_string).collect())
    }

    /// Reads where every known instance's session stands from the keychain, and the
    /// favourites' profiles from the credentials file (for a status report when the
    /// world is not kept fresh).
    pub async fn check_sessions(&self) -> Result<()> {
        let settings = self.settings();
        let mut known: Vec<Instance> = settings
            .instances
            .iter()
            .map(|i| i.instance.clone())
            .collect();
        for i in settings.instances_in_use() {
            if !known.contains(&i) {
                known.push(i);
            }
        }
        for instance in known {
            let info = self.provider(&instance).await?.session().await?;
            let now = self.now();
            let mut state = self.lock();
            if let Some(s) = state.sessions.get_mut(&instance) {
                match info.filter(|i| i.expires_at > now || i.renewable) {
                    Some(info) => {
                        s.phase = SessionPhase::SignedIn;
                        s.info = Some(info);
                    }
                    None => {
                        s.phase = SessionPhase::SignedOut;
                        s.info = None;
                    }
                }
            }
        }
        self.read_profiles().await
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
