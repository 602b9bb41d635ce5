//! Signing in and out, and what goes with it.

use super::sessions::PendingSignIn;
use super::status::SessionPhase;
use super::{blocking, Event, Workspace};
use crate::awsfiles::{AwsFiles, Changes, ProfileName};
use crate::cache::{AccountsCache, CredentialsCache};
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::provider::SessionInfo;
use crate::settings::Settings;
use crate::store::SignInFlow;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a sign-out did besides ending the session.
#[derive(Debug, Default)]
pub struct SignedOut {
    /// Profiles of favourites removed from the AWS files (as the preferences asked).
    pub removed_profiles: Vec<String>,
    /// Why the clean-up (caches, profiles) failed, if it did; the session is over anyway.
    pub cleanup_error: Option<Error>,
}

/// Tells sign-ins apart, so one that ends late never clears a newer one.
static SIGN_INS: AtomicU64 = AtomicU64::new(0);

impl Workspace {
    /// Signs in to `instance` (with `flow` instead of the preference's, if given);
    /// answers once signed in. The code reaches the user as [`Event::SignInCode`] (and in
    /// the browser, if the options say so). Settings are not changed: a face that wants
    /// the instance remembered says so ([`Workspace::add_instance`]).
    pub async fn sign_in(
        &self,
        instance: &Instance,
        flow: Option<SignInFlow>,
    ) -> Result<SessionInfo> {
        let provider = self.provider(instance).await?;
        let flow = flow.unwrap_or_else(|| provider.flow());
        let id = SIGN_INS.fetch_add(1, Ordering::Relaxed);
        let task = self
            .change_session(instance, |s| {
                if s.pending.is_some() {
                    return Err(Error::SignInInProgress {
                        instance: instance.clone(),
                    });
                }
                s.phase = SessionPhase::SigningIn;
                s.failure = None;
                let task = tokio::spawn(async move { provider.sign_in_with(flow).await });
                s.pending = Some(PendingSignIn {
                    id,
                    task: task.abort_handle(),
                });
                Ok(task)
            })
            .ok_or(Error::Interrupted { what: "sign-in" })??;
        self.emit(Event::Changed);
        let result = task.await;
        if matches!(result, Ok(Ok(_))) {
            // Whoever signed in, the list shown is theirs: read afresh (the accounts
            // within a second, the roles after them), never another identity's. Before
            // the session says "signed in", so no face reads the old list meanwhile.
            self.forget_accounts(instance).await;
        }
        self.change_session(instance, |s| {
            // A later sign-in may have replaced this one (after a cancel): it is its own.
            if s.pending.as_ref().is_some_and(|p| p.id != id) {
                return;
            }
            s.pending = None;
            s.sign_in = None;
            match &result {
                Ok(Ok(info)) => {
                    s.phase = SessionPhase::SignedIn;
                    s.info = Some(info.clone());
                    s.signed_in_this_run = true;
                    s.wake();
                }
                _ if s.phase == SessionPhase::SigningIn => s.phase = s.at_rest(),
                _ => {}
            }
        });
        // Preferences changed while this sign-in waited are followed now.
        self.follow_settings().await;
        self.emit(Event::Changed);
        match result {
            Ok(Ok(info)) => {
                self.emit(Event::SignedIn {
                    instance: instance.clone(),
                });
                Ok(info)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::SignInCancelled),
        }
    }

    /// Cancels every sign-in waiting for the user.
    pub fn cancel_sign_in(&self) {
        for s in self.lock().sessions.values_mut() {
            if let Some(p) = s.pending.take() {
                p.task.abort();
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
        self.lock().sessions.values().any(|s| s.pending.is_some())
    }

    /// Opens the page of the sign-in waiting for the user in the browser again.
    pub async fn open_sign_in_page(&self) -> Result<()> {
        let url = self
            .lock()
            .sessions
            .values()
            .find_map(|s| s.sign_in.as_ref().map(|c| c.url.clone()))
            .ok_or(Error::SignInCancelled)?;
        crate::browser::web_address(&url).map_err(|why| Error::UnexpectedReply {
            operation: "StartDeviceAuthorization",
            detail: format!("the sign-in address is not one to open: {why}"),
        })?;
        self.open_browser(url).await
    }

    /// Signs out of `instance`: on the server, in the keychain and the AWS CLI's cache.
    /// Then the cached credentials of its favourites and its account list go, and when
    /// the preferences ask for that, the profiles with keys this project wrote for it:
    /// its favourites' and every one-off profile (the files do not say which portal a
    /// one-off profile came from); other portals' favourites and the user's own stay. A
    /// failure there is in the answer (the session is over either way).
    pub async fn sign_out(&self, instance: &Instance) -> Result<SignedOut> {
        self.provider(instance).await?.sign_out().await?;
        self.end_exec_sessions_of(instance);
        self.change_session(instance, |s| {
            s.phase = SessionPhase::SignedOut;
            s.info = None;
            s.signed_in_this_run = false;
            s.failure = None;
            if let Some(r) = s.renewer() {
                r.signed_out();
            }
        });
        self.emit(Event::Changed);
        let settings = self.settings();
        let names: Vec<_> = settings
            .favourites_of(instance)
            .map(|f| f.profile.clone())
            .collect();
        let remove = settings.preferences.remove_profiles_on_sign_out;
        let (paths, files, i, gone, all) = (
            self.shared.paths.clone(),
            self.shared.files.clone(),
            instance.clone(),
            names.clone(),
            settings.clone(),
        );
        let cleaned = blocking("clean-up after the sign-out", move || {
            let credentials = CredentialsCache::new(paths.credentials_cache_dir());
            for name in &gone {
                if let Err(e) = credentials.remove(name.as_str()) {
                    tracing::warn!(profile = %name, error = %e, "could not remove cached credentials");
                }
            }
            if let Err(e) = AccountsCache::new(paths.accounts_cache_dir()).remove(&i) {
                tracing::warn!(error = %e, "could not remove the cached account list");
            }
            // A token of this session would still be accepted until it expires.
            crate::cache::EksTokenCache::new(paths.eks_tokens_cache_dir())
                .remove_keyed(&format!("{}|", i.key()));
            if !remove {
                return Ok(Vec::new());
            }
            let changes = one_off_profiles(&files, &all)?
                .into_iter()
                .chain(gone)
                .fold(Changes::new(), Changes::remove);
            Ok(files.apply(&changes)?.removed)
        })
        .await;
        // Registry passwords this session gave go with it, as its EKS tokens did above.
        self.forget_docker_logins_of(instance).await;
        let (removed, cleanup_error) = match cleaned {
            Ok(removed) => (removed, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        {
            let mut state = self.lock();
            state.accounts.remove(instance);
            for name in &names {
                let p = state.profiles.entry(name.clone()).or_default();
                p.renewing = false;
                p.failure = None;
                if removed.contains(name) {
                    p.expires_at = None;
                    p.written_at = None;
                }
            }
            for name in &removed {
                if !names.contains(name) {
                    state.profiles.remove(name.as_str());
                }
            }
        }
        self.emit(Event::Changed);
        Ok(SignedOut {
            removed_profiles: removed.iter().map(ToString::to_string).collect(),
            cleanup_error,
        })
    }

    /// When the app quits: removes the profiles with keys this project wrote (every
    /// favourite's and every one-off profile) if the preferences ask for that; returns
    /// those removed. The user's own profiles stay.
    pub async fn on_quit(&self) -> Result<Vec<String>> {
        let settings = self.settings();
        if !settings.preferences.remove_profiles_on_quit {
            return Ok(Vec::new());
        }
        let (files, all) = (self.shared.files.clone(), settings.clone());
        let applied = blocking("removal of the profiles", move || {
            let changes = one_off_profiles(&files, &all)?
                .into_iter()
                .chain(
                    all.favourites
                        .iter()
                        .filter(|f| !f.credential_process)
                        .map(|f| f.profile.clone()),
                )
                .fold(Changes::new(), Changes::remove);
            files.apply(&changes)
        })
        .await?;
        {
            let mut state = self.lock();
            for name in &applied.removed {
                if !settings.favourites.iter().any(|f| f.profile == *name) {
                    state.profiles.remove(name.as_str());
                }
            }
        }
        Ok(applied.removed.iter().map(ToString::to_string).collect())
    }

    /// Reads where every known instance's session stands from the keychain, and the
    /// favourites' profiles from the credentials file (for a status report when the
    /// world is not kept fresh).
    pub async fn check_sessions(&self) -> Result<()> {
        for instance in self.settings().known_instances() {
            let info = match self.provider(&instance).await?.session().await {
                Ok(info) => info,
                // Made at other endpoints: it must be signed in again here.
                Err(e) if e.needs_sign_in() => {
                    tracing::warn!(error = %e, "the saved session cannot be used");
                    self.change_session(&instance, |s| {
                        s.phase = SessionPhase::NeedsSignIn;
                        s.info = None;
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            let now = self.now();
            self.change_session(&instance, |s| {
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
            });
        }
        self.read_profiles().await
    }
}

/// The one-off profiles in the credentials file: those this project wrote (marked) that
/// are no favourite's.
fn one_off_profiles(files: &AwsFiles, settings: &Settings) -> Result<Vec<ProfileName>> {
    Ok(files
        .managed_profiles()?
        .into_iter()
        .filter(|m| {
            !settings
                .favourites
                .iter()
                .any(|f| f.profile.as_str() == m.name)
        })
        .filter_map(|m| ProfileName::new(&m.name).ok())
        .collect())
}
