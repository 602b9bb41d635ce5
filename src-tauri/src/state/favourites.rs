//! Favourites and the profiles written for them.

use super::*;

impl AppState {
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
        self.forget_cached(&removed.profile);
        self.files
            .apply(&Changes::new().remove(ProfileName::new(&removed.profile)?))?;
        self.announce(Change::View);
        Ok(())
    }

    /// Removes the credentials cached for a `credential_process` favourite, as the CLI
    /// does; a failure is logged, since the favourite is gone either way.
    pub(super) fn forget_cached(&self, profile: &str) {
        if let Some(cache) = CredentialsCache::from_env(self.env.lookup()) {
            if let Err(e) = cache.remove(profile) {
                tracing::warn!(%profile, error = %e, "could not remove cached credentials");
            }
        }
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
