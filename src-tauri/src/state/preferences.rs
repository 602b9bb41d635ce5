//! Settings the window changes: preferences, instances, start at login.

use super::*;

impl AppState {
    /// Changes the settings and saves them; nothing changes if either fails.
    pub(super) fn update_settings<T>(
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
