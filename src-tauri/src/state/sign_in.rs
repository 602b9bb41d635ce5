//! Signing in and out, and what goes with it.

use super::*;

impl AppState {
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
                self.forget_cached(p);
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
}
